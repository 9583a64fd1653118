// Included files: read once per load, inside the DAG folder, UTF-8, and never in a cycle; the
// nesting depth counts across files.

#include "engine/dagfile/include_files.h"

#include <catch2/catch.hpp>

#include "engine/dagfile/loader_test_support.h"

namespace mayaflow {
using test::check_refused;
using test::ScratchFolder;

TEST_CASE("each included file is read once per load", "[dagfile][include]") {
    ScratchFolder folder("mayaflow-include-once");
    folder.write("run.sh", "echo {{ item }}\n");
    IncludeFiles includes(folder.path(), folder.path());
    auto first = includes.read("run.sh");
    REQUIRE(first.ok());
    std::filesystem::remove(folder.path() / "run.sh");
    auto second = includes.read("./run.sh");
    REQUIRE(second.ok());  // not read again: the file is gone
    CHECK(*first == *second);
    CHECK((*second)->text == "echo {{ item }}\n");
    CHECK(includes.paths().size() == 1);
    CHECK_FALSE(includes.read("/etc/passwd").ok());
    CHECK_THAT(includes.read("../outside.sh").error().message, Catch::Contains("is outside the DAG folder"));

    // A DAG file named without a folder: the current folder is the root, not "anything goes".
    IncludeFiles bare("", "");
    CHECK_THAT(bare.read("../../../../../../etc/hostname").error().message, Catch::Contains("is outside the DAG folder"));
}

TEST_CASE("a for_each over an included script copies the text it read once", "[dagfile][include]") {
    ScratchFolder folder("mayaflow-include-foreach");
    folder.write("run.sh", "echo {{ params.x }} " + std::string(10'000, '#') + "\n");
    std::string items;
    for (int i = 0; i < 1000; ++i) items += (i ? ", " : "") + std::to_string(i);
    folder.write("dag.yaml",
                 "tasks:\n  - task_id: t_{{ item }}\n    operator: bash\n    bash_command: run.sh\n"
                 "    for_each: [" +
                     items + "]\n");
    auto result = folder.load("dag.yaml");
    INFO(format_errors(result.errors));
    REQUIRE(result.dag);
    CHECK(result.dag->tasks.size() == 1000);
    CHECK(result.included_files.size() == 1);

    // 10,000 tasks over a 4 MiB script would hold 40 GiB: refused once the tasks hold 64 MiB.
    folder.write("big.sh", "echo {{ ds }}\n" + std::string(4 * 1024 * 1024 - 20, '#'));
    items.clear();
    for (int i = 0; i < 10'000; ++i) items += (i ? ", " : "") + std::to_string(i);
    folder.write("big.yaml",
                 "tasks:\n  - task_id: t_{{ item }}\n    operator: bash\n    bash_command: big.sh\n"
                 "    for_each: [" +
                     items + "]\n");
    check_refused(folder.load("big.yaml"), "the DAG's tasks hold more than 64 MiB of parameters");
}

TEST_CASE("include cycles are errors that name the chain of files", "[dagfile][include]") {
    ScratchFolder folder("mayaflow-include-cycle");
    folder.write("self_dag.yaml",
                 "params: !include self_dag.yaml\ntasks:\n  - task_id: a\n    operator: empty\n");
    check_refused(folder.load("self_dag.yaml"), "include cycle: ");

    folder.write("_self.yaml", "x: !include _self.yaml\n");
    folder.write("one.yaml", "params: !include _self.yaml\ntasks:\n  - task_id: a\n    operator: empty\n");
    auto one = folder.load("one.yaml");
    check_refused(one, "_self.yaml -> ");
    CHECK_THAT(format_errors(one.errors),
               Catch::Contains("a file may not include itself, directly or through other files"));

    folder.write("_a.yaml", "b: !include _b.yaml\n");
    folder.write("_b.yaml", "- !include _a.yaml\n");
    folder.write("two.yaml", "params: !include _a.yaml\ntasks:\n  - task_id: a\n    operator: empty\n");
    auto two = folder.load("two.yaml");
    check_refused(two, "include cycle: ");
    std::string text = format_errors(two.errors);
    CHECK_THAT(text, Catch::Contains("two.yaml -> "));
    CHECK_THAT(text, Catch::Contains("_a.yaml -> "));
    CHECK_THAT(text, Catch::Contains("_b.yaml -> "));

    folder.write("_c1.yaml", "next: !include _c2.yaml\n");
    folder.write("_c2.yaml", "next: !include _c3.yaml\n");
    folder.write("_c3.yaml", "next: !include _c4.yaml\n");
    folder.write("_c4.yaml", "next: [1, 2, !include _c1.yaml]\n");
    folder.write("four.yaml",
                 "tasks:\n  - task_id: t_{{ item }}\n    operator: empty\n    for_each: !include _c1.yaml\n");
    check_refused(folder.load("four.yaml"), "_c4.yaml -> ");

    // The same file included twice, side by side, is not a cycle.
    folder.write("_leaf.yaml", "[1, 2]\n");
    folder.write("_pair.yaml", "left: !include _leaf.yaml\nright: !include _leaf.yaml\n");
    folder.write("pair.yaml", "params: !include _pair.yaml\ntasks:\n  - task_id: a\n    operator: empty\n");
    auto pair = folder.load("pair.yaml");
    INFO(format_errors(pair.errors));
    REQUIRE(pair.dag);
    CHECK(pair.dag->params["right"] == nlohmann::json::array({1, 2}));
}

TEST_CASE("include depth and value depth count across files", "[dagfile][include]") {
    ScratchFolder folder("mayaflow-include-depth");
    // Ten files in a chain, each including the next: more than kMaxIncludeDepth files deep.
    for (int i = 0; i < 10; ++i) {
        folder.write("_f" + std::to_string(i) + ".yaml",
                     i == 9 ? "end: 1\n" : "next: !include _f" + std::to_string(i + 1) + ".yaml\n");
    }
    folder.write("chain.yaml", "params: !include _f0.yaml\ntasks:\n  - task_id: a\n    operator: empty\n");
    check_refused(folder.load("chain.yaml"), "includes are nested too deeply (more than 8 files)");

    // Five files each 20 levels deep: no file is too deep, together they are.
    auto nested = [](const std::string& inner) {
        std::string text;
        for (int level = 0; level < 20; ++level) text += "[";
        text += inner;
        for (int level = 0; level < 20; ++level) text += "]";
        return text + "\n";
    };
    for (int i = 0; i < 5; ++i) {
        folder.write("_d" + std::to_string(i) + ".yaml",
                     nested(i == 4 ? "1" : "!include _d" + std::to_string(i + 1) + ".yaml"));
    }
    folder.write("deep.yaml",
                 "params: {x: !include _d0.yaml}\ntasks:\n  - task_id: a\n    operator: empty\n");
    check_refused(folder.load("deep.yaml"), "value is nested too deeply (more than 64 levels)");
    // JSON too: a file of 100,000 brackets is refused before it is parsed.
    folder.write("deep.json", std::string(100'000, '[') + std::string(100'000, ']'));
    folder.write("deep_json.yaml",
                 "params: {x: !include deep.json}\ntasks:\n  - task_id: a\n    operator: empty\n");
    check_refused(folder.load("deep_json.yaml"), "is nested too deeply");
}

TEST_CASE("included files that are not UTF-8 are errors naming the file, line and byte",
          "[dagfile][include]") {
    ScratchFolder folder("mayaflow-include-utf8");
    folder.write("latin1.sh", "echo ok\necho caf\xe9\n");
    folder.write("script.yaml", "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: latin1.sh\n");
    auto script = folder.load("script.yaml");
    check_refused(script, "include file 'latin1.sh' is not UTF-8: ");
    CHECK_THAT(format_errors(script.errors),
               Catch::Contains("latin1.sh:2:9 has byte 0xe9 at offset 16; save it as UTF-8"));
    CHECK(script.errors[0].where.line == 4);   // and where the DAG file names it
    CHECK(script.included_files.size() == 1);  // watched, so that fixing it reloads the DAG

    folder.write("_latin1.yaml", "name: \xe9t\xe9\n");
    folder.write("data.yaml", "params: !include _latin1.yaml\ntasks:\n  - task_id: a\n    operator: empty\n");
    check_refused(folder.load("data.yaml"), "_latin1.yaml:1:7 has byte 0xe9");

    folder.write("bad.json", "[\"\xff\"]");
    folder.write("json.yaml",
                 "tasks:\n  - task_id: t_{{ item }}\n    operator: empty\n    for_each: !include bad.json\n");
    check_refused(folder.load("json.yaml"), "bad.json:1:3 has byte 0xff");
}


TEST_CASE("!include reads any value the DAG file holds as text, and reads it from inside the folder only",
          "[dagfile][include]") {
    ScratchFolder folder("mayaflow-include-fields");
    folder.write("_description.md", "Loads the **sales** tables.\n");
    folder.write("_retries.json", "3\n");
    folder.write("_tags.json", "[\"sales\", \"daily\"]\n");
    folder.write("_schedule.txt", "@daily");
    folder.write("_timeout.yaml", "1h30m\n");
    folder.write("dag.yaml",
                 "description: !include _description.md\n"
                 "schedule: !include _schedule.txt\n"
                 "tags: !include _tags.json\n"
                 "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: echo a\n"
                 "    count: 1\n"
                 "    retries: !include _retries.json\n"
                 "    execution_timeout: !include _timeout.yaml\n");
    auto result = folder.load("dag.yaml");
    INFO(format_errors(result.errors));
    REQUIRE(result.dag);
    CHECK(result.dag->description == "Loads the **sales** tables.\n");
    CHECK(result.dag->tags == std::vector<std::string>{"sales", "daily"});
    CHECK(result.dag->tasks.at(0).retry.retries == 3);
    CHECK(result.dag->tasks.at(0).execution_timeout == std::chrono::minutes(90));
    CHECK(result.included_files.size() == 5);

    // The same tags naming files outside the folder, or files that are not there, are load errors.
    for (std::string field : {"description", "schedule", "owner", "dag_id", "tags"}) {
        for (std::string target : {"/etc/hostname", "../../../../../../etc/hostname", "_missing.txt"}) {
            folder.write("bad.yaml", field + ": !include " + target +
                                         "\ntasks:\n  - task_id: a\n    operator: bash\n    bash_command: echo a\n");
            INFO(field << " " << target);
            auto bad = folder.load("bad.yaml");
            CHECK_FALSE(bad.dag);
            CHECK_THAT(format_errors(bad.errors), Catch::Contains(field + ": ") && Catch::Contains("include"));
        }
    }
}

}  // namespace mayaflow
