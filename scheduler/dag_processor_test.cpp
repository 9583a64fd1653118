#include "scheduler/dag_processor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "engine/model/dag_json.h"
#include "operators/operator_registry.h"

namespace mayaflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Records what the processor reports, from whichever thread; loads as the daemon does, by
// serializing the DAG (which throws on text that is not UTF-8).
class RecordingSink : public DagFileSink {
  public:
    struct Event {
        std::string kind;  // loaded, failed, deleted
        std::string file;  // the name as reported
        std::string text;  // the dag_id, or the errors
    };

    bool dag_loaded(const std::string& filename, const Dag& dag, const std::vector<LoadError>&) override {
        if (dag.dag_id == "sink_throws") throw std::runtime_error("the sink failed on purpose");
        (void)to_json(dag).dump();
        add({"loaded", filename, dag.dag_id});
        return true;
    }
    bool dag_failed(const std::string& filename, const std::vector<LoadError>& errors) override {
        add({"failed", filename, format_errors(errors)});
        return true;
    }
    void file_deleted(const std::string& filename, const std::string& dag_id) override {
        add({"deleted", filename, dag_id});
    }

    size_t count(const std::string& kind, const std::string& file_ending) {
        std::lock_guard lock(mutex_);
        return std::count_if(events_.begin(), events_.end(), [&](const Event& event) {
            return event.kind == kind && event.file.ends_with(file_ending);
        });
    }
    size_t count(const std::string& kind) { return count(kind, ""); }
    std::string text_of(const std::string& kind, const std::string& file_ending) {
        std::lock_guard lock(mutex_);
        for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
            if (it->kind == kind && it->file.ends_with(file_ending)) return it->text;
        }
        return "";
    }
    // Waits (up to 10 s) until `ready` holds.
    template <typename Ready>
    bool wait_until(Ready ready) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!ready()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(10ms);
        }
        return true;
    }

  private:
    void add(Event event) {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(event));
    }
    std::mutex mutex_;
    std::vector<Event> events_;
};

std::string dag_text(const std::string& dag_id = "", const std::string& command = "echo hi") {
    std::string text = dag_id.empty() ? "" : "dag_id: " + dag_id + "\n";
    return text + "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: " + command + "\n";
}

// Writes the way deploy tools do: a temporary file renamed into place.
void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    fs::path temporary = path.parent_path() / ".writing";
    std::ofstream(temporary, std::ios::binary) << text;
    fs::rename(temporary, path);
}

struct Folder {
    fs::path path;
    explicit Folder(const std::string& name) : path(fs::temp_directory_path() / (name + std::to_string(::getpid()))) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Folder() {
        std::error_code ec;
        fs::permissions(path / "team", fs::perms::owner_all, ec);
        fs::remove_all(path, ec);
        fs::remove_all(path.string() + ".away", ec);
    }
};

DagProcessorOptions options_for(const fs::path& folder, bool use_inotify = false) {
    return DagProcessorOptions{.dags_folder = folder,
                               .scan_interval = 100ms,
                               .operators = &builtin_operators(),
                               .use_inotify = use_inotify};
}

TEST_CASE("one file that cannot be loaded never stops the scan of the others", "[dag_processor]") {
    Folder folder("mayaflow-processor-bad-");
    write_file(folder.path / "a_good.yaml", dag_text());
    write_file(folder.path / "b_\xff.yaml", dag_text("from_bad_name"));
    write_file(folder.path / "c_latin1.yaml", "description: caf\xe9\n" + dag_text());
    write_file(folder.path / "_latin1.sh", "echo caf\xe9\n");
    write_file(folder.path / "d_latin1_include.yaml", dag_text("", "_latin1.sh"));
    write_file(folder.path / "e_sink_throws.yaml", dag_text("sink_throws"));
    write_file(folder.path / "f_\xe9t\xe9_name.yaml", dag_text("latin1_name"));
    write_file(folder.path / "z_good.yaml", dag_text());
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path), sink);

    CHECK(processor.scan_once() == 7);
    CHECK(sink.count("loaded", "/a_good.yaml") == 1);
    CHECK(sink.count("loaded", "/z_good.yaml") == 1);
    // The name is shown with its bad byte escaped, and says what to do.
    CHECK(sink.count("failed", "/b_\\xff.yaml") == 1);
    CHECK_THAT(sink.text_of("failed", "/b_\\xff.yaml"), Catch::Contains("b_\\xff.yaml: the file name is not valid UTF-8"));
    CHECK_THAT(sink.text_of("failed", "/f_\\xe9t\\xe9_name.yaml"), Catch::Contains("rename the file"));
    // Text that is not UTF-8, in the file or in an include, fails that file only.
    CHECK(sink.count("failed", "/c_latin1.yaml") == 1);
    CHECK_THAT(sink.text_of("failed", "/c_latin1.yaml"), Catch::Contains("c_latin1.yaml"));
    CHECK(sink.count("failed", "/d_latin1_include.yaml") == 1);
    CHECK_THAT(sink.text_of("failed", "/e_sink_throws.yaml"), Catch::Contains("the sink failed on purpose"));
    CHECK(processor.status().dag_files == 7);

    // Deletions after the bad files are noticed; the bad files are not parsed again.
    fs::remove(folder.path / "z_good.yaml");
    CHECK(processor.scan_once() == 0);
    CHECK(sink.count("deleted", "/z_good.yaml") == 1);
    CHECK(sink.count("failed") == 5);
}

TEST_CASE("a file that failed is parsed again only when it or an include changes", "[dag_processor]") {
    Folder folder("mayaflow-processor-failed-");
    write_file(folder.path / "broken.yaml", "tasks: []\nunknown_field: 1\n");
    write_file(folder.path / "sql" / "step.sh", "echo one\n");
    write_file(folder.path / "broken_with_include.yaml", dag_text("", "sql/step.sh") + "retries_typo: 1\n");
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path), sink);
    CHECK(processor.scan_once() == 2);
    for (int scan = 0; scan < 3; ++scan) CHECK(processor.scan_once() == 0);
    CHECK(sink.count("failed", "/broken.yaml") == 1);
    CHECK(sink.count("failed", "/broken_with_include.yaml") == 1);

    write_file(folder.path / "sql" / "step.sh", "echo two\n");
    CHECK(processor.scan_once() == 1);
    CHECK(sink.count("failed", "/broken_with_include.yaml") == 2);
    CHECK(sink.count("failed", "/broken.yaml") == 1);

    write_file(folder.path / "broken.yaml", dag_text());
    CHECK(processor.scan_once() == 1);
    CHECK(sink.count("loaded", "/broken.yaml") == 1);
}

TEST_CASE("a folder that cannot be read is a scan error, never every file gone", "[dag_processor]") {
    Folder folder("mayaflow-processor-unreadable-");
    write_file(folder.path / "a.yaml", dag_text());
    write_file(folder.path / "team" / "b.yaml", dag_text());
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path), sink);
    REQUIRE(processor.scan_once() == 2);
    CHECK(processor.status().problem.empty());

    SECTION("moved away and back") {
        fs::rename(folder.path, folder.path.string() + ".away");
        CHECK(processor.scan_once() == 0);
        CHECK_THAT(processor.status().problem, Catch::Contains("cannot read the DAG folder"));
        fs::rename(folder.path.string() + ".away", folder.path);
    }
    SECTION("replaced by a file for a moment") {
        fs::rename(folder.path, folder.path.string() + ".away");
        std::ofstream(folder.path) << "not a folder\n";
        CHECK(processor.scan_once() == 0);
        CHECK_THAT(processor.status().problem, Catch::Contains("cannot read the DAG folder"));
        fs::remove(folder.path);
        fs::rename(folder.path.string() + ".away", folder.path);
    }
    SECTION("a subfolder without permission") {
        if (::geteuid() == 0) {
            WARN("root reads every folder: the permission case cannot be made");
        } else {
            fs::permissions(folder.path / "team", fs::perms::none);
            write_file(folder.path / "c.yaml", dag_text());
            CHECK(processor.scan_once() == 1);  // the rest of the folder goes on loading
            CHECK_THAT(processor.status().problem, Catch::Contains("team"));
            fs::permissions(folder.path / "team", fs::perms::owner_all);
        }
    }
    CHECK(sink.count("deleted") == 0);
    processor.scan_once();
    CHECK(sink.count("deleted") == 0);
    CHECK(processor.status().problem.empty());
    CHECK(sink.count("loaded", "/a.yaml") == 1);  // nothing came back as new
    CHECK(sink.count("loaded", "/team/b.yaml") == 1);
}

TEST_CASE("a file that is gone is reported once, and its dag_id goes to the file that waited for it", "[dag_processor]") {
    Folder folder("mayaflow-processor-gone-");
    write_file(folder.path / "a.yaml", dag_text("shared_id"));
    write_file(folder.path / "b.yaml", dag_text("shared_id"));
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path), sink);
    processor.scan_once();
    CHECK(sink.count("loaded", "/a.yaml") == 1);
    CHECK_THAT(sink.text_of("failed", "/b.yaml"), Catch::Contains("dag_id 'shared_id' is already defined in"));

    // A file that breaks keeps its last good DAG, and its dag_id with it.
    write_file(folder.path / "a.yaml", dag_text("shared_id") + "unknown_field: 1\n");
    processor.scan_once();
    CHECK(sink.count("failed", "/a.yaml") == 1);
    CHECK(sink.count("loaded", "/b.yaml") == 0);

    fs::remove(folder.path / "a.yaml");
    processor.scan_once();
    CHECK(sink.count("deleted", "/a.yaml") == 1);
    CHECK(sink.count("loaded", "/b.yaml") == 1);
    processor.scan_once();
    CHECK(sink.count("deleted") == 1);
    CHECK(sink.count("loaded") == 2);
}

TEST_CASE("two files with one dag_id: the file that had it keeps it after a restart", "[dag_processor]") {
    Folder folder("mayaflow-processor-owner-");
    // z.yaml had the DAG before the restart; a.yaml, first in the folder's order, came later.
    write_file(folder.path / "a.yaml", dag_text("shared_id", "echo from a"));
    write_file(folder.path / "z.yaml", dag_text("shared_id", "echo from z"));
    const std::string z = (folder.path / "z.yaml").string();
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path), sink);
    processor.remember_files({z});
    processor.remember_dag_owners({{"shared_id", z}});
    processor.scan_once();
    CHECK(sink.count("loaded", "/z.yaml") == 1);
    CHECK(sink.count("loaded", "/a.yaml") == 0);
    CHECK_THAT(sink.text_of("failed", "/a.yaml"), Catch::Contains("dag_id 'shared_id' is already defined in"));

    SECTION("until it defines another dag_id") {
        write_file(folder.path / "z.yaml", dag_text("other_id"));
        processor.scan_once();
        CHECK(sink.count("loaded", "/a.yaml") == 1);
    }
    SECTION("or is gone") {
        fs::remove(folder.path / "z.yaml");
        processor.scan_once();
        CHECK(sink.count("deleted", "/z.yaml") == 1);
        CHECK(sink.count("loaded", "/a.yaml") == 1);
    }
}

TEST_CASE("a remembered owner that was changed or deleted while stopped gives its dag_id up", "[dag_processor]") {
    Folder folder("mayaflow-processor-owner-gone-");
    write_file(folder.path / "a.yaml", dag_text("shared_id"));
    write_file(folder.path / "z.yaml", dag_text("renamed_id"));  // changed while the daemon was stopped
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path), sink);
    const std::string z = (folder.path / "z.yaml").string();
    const std::string gone = (folder.path / "gone.yaml").string();
    processor.remember_files({z, gone});
    processor.remember_dag_owners({{"shared_id", z}, {"gone_id", gone}});
    processor.scan_once();
    processor.scan_once();  // a.yaml, waiting for shared_id, is read again once z.yaml gave it up
    CHECK(sink.count("loaded", "/z.yaml") == 1);
    CHECK(sink.count("loaded", "/a.yaml") == 1);
    CHECK(sink.count("deleted", "/gone.yaml") == 1);
}

TEST_CASE("files that swap their dag_ids all load, in any order of renames", "[dag_processor]") {
    Folder folder("mayaflow-processor-swap-");
    const std::vector<std::string> files = {"a.yaml", "b.yaml", "c.yaml"};
    for (size_t i = 0; i < files.size(); ++i) write_file(folder.path / files[i], dag_text("dag_" + files[i].substr(0, 1)));
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path), sink);
    REQUIRE(processor.scan_once() == 3);

    // Which file now defines which dag_id, for each shuffle.
    std::map<std::string, std::string> expected;
    SECTION("two files swapped with mv") {
        fs::rename(folder.path / "a.yaml", folder.path / "tmp");
        fs::rename(folder.path / "b.yaml", folder.path / "a.yaml");
        fs::rename(folder.path / "tmp", folder.path / "b.yaml");
        expected = {{"a.yaml", "dag_b"}, {"b.yaml", "dag_a"}, {"c.yaml", "dag_c"}};
    }
    SECTION("three files rotated") {
        fs::rename(folder.path / "a.yaml", folder.path / "tmp");
        fs::rename(folder.path / "c.yaml", folder.path / "a.yaml");
        fs::rename(folder.path / "b.yaml", folder.path / "c.yaml");
        fs::rename(folder.path / "tmp", folder.path / "b.yaml");
        expected = {{"a.yaml", "dag_c"}, {"b.yaml", "dag_a"}, {"c.yaml", "dag_b"}};
    }
    SECTION("the contents swapped by editing in place") {
        write_file(folder.path / "c.yaml", dag_text("dag_a"));
        write_file(folder.path / "a.yaml", dag_text("dag_c"));
        expected = {{"a.yaml", "dag_c"}, {"b.yaml", "dag_b"}, {"c.yaml", "dag_a"}};
    }
    processor.scan_once();
    for (const auto& [file, dag_id] : expected) {
        CHECK(sink.text_of("loaded", "/" + file) == dag_id);
        // A failure on the way (the id still held) is followed by the load that settles it.
        CHECK(processor.scan_once() == 0);
    }
    CHECK(sink.count("deleted") == 0);
    // A later edit of either file loads as usual: nothing waits any more.
    write_file(folder.path / "b.yaml", dag_text(expected["b.yaml"], "echo changed"));
    CHECK(processor.scan_once() == 1);
    CHECK(sink.text_of("loaded", "/b.yaml") == expected["b.yaml"]);
}

TEST_CASE("the processor follows the folder while it runs, watching or looking", "[dag_processor]") {
    bool use_inotify = GENERATE(true, false);
    Folder folder("mayaflow-processor-running-");
    write_file(folder.path / "a.yaml", dag_text());
    write_file(folder.path / "_shared" / "step.sh", "echo one\n");
    write_file(folder.path / "with_include.yaml", dag_text("", "_shared/step.sh"));
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path, use_inotify), sink);
    processor.start();
    REQUIRE(sink.wait_until([&] { return !processor.status().loading; }));
    CHECK(processor.status().watching == use_inotify);
    CHECK(sink.count("loaded") == 2);

    write_file(folder.path / "new.yaml", dag_text());
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/new.yaml") == 1; }));
    write_file(folder.path / "team" / "deep" / "nested.yaml", dag_text());
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/team/deep/nested.yaml") == 1; }));
    write_file(folder.path / "_shared" / "step.sh", "echo two\n");
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/with_include.yaml") == 2; }));
    fs::remove(folder.path / "new.yaml");
    CHECK(sink.wait_until([&] { return sink.count("deleted", "/new.yaml") == 1; }));
    fs::rename(folder.path / "team", folder.path / "team_renamed");
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/team_renamed/deep/nested.yaml") == 1; }));
    CHECK(sink.count("deleted", "/team/deep/nested.yaml") == 1);

    // The whole folder away for a moment: nothing is gone, and it is followed again after.
    fs::rename(folder.path, folder.path.string() + ".away");
    CHECK(sink.wait_until([&] { return !processor.status().problem.empty(); }));
    fs::rename(folder.path.string() + ".away", folder.path);
    CHECK(sink.wait_until([&] { return processor.status().problem.empty(); }));
    write_file(folder.path / "after.yaml", dag_text());
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/after.yaml") == 1; }));
    CHECK(sink.count("deleted") == 2);
    CHECK(sink.count("failed") == 0);
    CHECK(processor.status().watching == use_inotify);
    processor.stop();
}

TEST_CASE("a DAG file that is a link is reloaded as soon as the file it points to changes", "[dag_processor]") {
    Folder folder("mayaflow-processor-link-");
    Folder releases("mayaflow-processor-link-releases-");
    write_file(releases.path / "v1" / "sales.yaml", dag_text("sales", "echo one"));
    write_file(releases.path / "v1" / "inside.yaml", dag_text("inside", "echo one"));
    fs::create_symlink(releases.path / "v1" / "sales.yaml", folder.path / "sales.yaml");  // absolute
    write_file(folder.path / "_real" / "hop.yaml", dag_text("hop", "echo one"));
    fs::create_symlink("_real/hop.yaml", folder.path / "_link_to_hop.yaml");              // relative, via a link
    fs::create_symlink("_link_to_hop.yaml", folder.path / "hop.yaml");
    auto options = options_for(folder.path, true);
    options.full_scan_interval = std::chrono::hours(1);  // only the watch can see the change in time
    RecordingSink sink;
    DagProcessor processor(options, sink);
    processor.start();
    REQUIRE(sink.wait_until([&] { return !processor.status().loading; }));
    REQUIRE(processor.status().watching);
    CHECK(sink.count("loaded", "/sales.yaml") == 1);
    CHECK(sink.count("loaded", "/hop.yaml") == 1);

    // Edited in place, as an editor on the release folder would.
    std::ofstream(releases.path / "v1" / "sales.yaml") << dag_text("sales", "echo two");
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/sales.yaml") == 2; }));
    write_file(folder.path / "_real" / "hop.yaml", dag_text("hop", "echo two"));
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/hop.yaml") == 2; }));
    // The link switched to another file: an event in the DAG folder itself.
    write_file(releases.path / "v2" / "sales.yaml", dag_text("sales", "echo three"));
    fs::create_symlink(releases.path / "v2" / "sales.yaml", folder.path / ".next");
    fs::rename(folder.path / ".next", folder.path / "sales.yaml");
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/sales.yaml") == 3; }));
    // ...and its new target is the one followed from then on.
    std::ofstream(releases.path / "v2" / "sales.yaml") << dag_text("sales", "echo four");
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/sales.yaml") == 4; }));
    CHECK(sink.count("failed") == 0);
    processor.stop();
}

TEST_CASE("a file the store remembers that is not there any more is reported gone", "[dag_processor]") {
    Folder folder("mayaflow-processor-remembered-");
    write_file(folder.path / "kept.yaml", dag_text());
    RecordingSink sink;
    DagProcessor processor(options_for(folder.path), sink);
    processor.remember_files({(folder.path / "kept.yaml").string(), (folder.path / "deleted_while_stopped.yaml").string(),
                              "/somewhere/else/old_folder.yaml"});
    SECTION("when the folder can be read") {
        CHECK(processor.scan_once() == 1);
        CHECK(sink.count("loaded", "/kept.yaml") == 1);
        CHECK(sink.count("deleted", "/deleted_while_stopped.yaml") == 1);
        CHECK(sink.count("deleted", "/old_folder.yaml") == 1);
        CHECK(sink.count("deleted", "/kept.yaml") == 0);
    }
    SECTION("not while the folder cannot be read") {
        fs::rename(folder.path, folder.path.string() + ".away");
        CHECK(processor.scan_once() == 0);
        CHECK(sink.count("deleted") == 0);
        fs::rename(folder.path.string() + ".away", folder.path);
        CHECK(processor.scan_once() == 1);
        CHECK(sink.count("deleted") == 2);
    }
}

TEST_CASE("a folder tree with more folders than it may watch is looked at instead", "[dag_processor]") {
    Folder folder("mayaflow-processor-many-folders-");
    for (const char* team : {"a", "b", "c", "d"}) write_file(folder.path / team / "dag.yaml", dag_text(std::string("dag_") + team));
    RecordingSink sink;
    auto options = options_for(folder.path, true);
    options.max_watched_folders = 3;  // the parent, the folder and one team
    DagProcessor processor(options, sink);
    processor.start();
    REQUIRE(sink.wait_until([&] { return !processor.status().loading; }));
    CHECK_FALSE(processor.status().watching);
    CHECK(sink.count("loaded") == 4);
    write_file(folder.path / "d" / "more.yaml", dag_text());
    CHECK(sink.wait_until([&] { return sink.count("loaded", "/d/more.yaml") == 1; }));
    fs::remove(folder.path / "a" / "dag.yaml");
    CHECK(sink.wait_until([&] { return sink.count("deleted", "/a/dag.yaml") == 1; }));
    processor.stop();
}

}  // namespace
}  // namespace mayaflow
