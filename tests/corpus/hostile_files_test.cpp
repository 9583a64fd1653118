// Hostile DAG files, made here because they are too large to keep in the repository, loaded the way
// the daemon loads a folder: each must fail with a clear error naming the file, and the one good
// DAG beside them must still load. Tagged [attack]; the bad-DAG corpus holds the smaller variants.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "engine/dagfile/dag_folder.h"
#include "engine/dagfile/dag_loader.h"
#include "engine/util/utf8.h"
#include "operators/operator_registry.h"

namespace mayaflow {
namespace {

std::string numbers(int count) {
    std::string text = "[";
    for (int i = 0; i < count; ++i) text += (i ? ", " : "") + std::to_string(i);
    return text + "]";
}

std::string task(const std::string& id, const std::string& more = "") {
    return "  - task_id: " + id + "\n    operator: empty\n" + more;
}

struct HostileFile {
    std::string name;
    std::string text;
    std::string expected;  // a fragment of its errors
};

std::vector<HostileFile> hostile_files() {
    const std::string megabyte(1'000'000, 'z');
    const std::string long_id(30'000, 'i');
    const std::string digits(40'000, '4');
    return {
        {"long_timezone.yaml", "timezone: " + megabyte + "\ntasks:\n" + task("a"), "unknown time zone \"zzz"},
        {"long_zone_in_area.yaml", "timezone: Europe/" + megabyte + "\ntasks:\n" + task("a"),
         "unknown time zone"},
        {"long_key.yaml", "? " + megabyte + "\n: 1\ntasks:\n" + task("a"), "unknown DAG field 'zzz"},
        {"long_schedule.yaml", "schedule: \"" + megabyte + "\"\ntasks:\n" + task("a"),
         "is neither a cron expression"},
        {"long_dag_id.yaml", "dag_id: " + long_id + "\ntasks:\n" + task("a"),
         "at most 250 of them (it has 30000)"},
        {"long_task_id.yaml", "tasks:\n" + task(long_id), "task_id is 30000 characters long"},
        {"long_group_id.yaml",
         "tasks:\n  - group: " + long_id + "\n    tasks:\n      - task_id: a\n        operator: empty\n",
         "makes task ids longer than 250"},
        {"long_pool.yaml", "tasks:\n" + task("a", "    pool: " + long_id + "x!\n"), "pool name"},
        {"long_number.yaml", "tasks:\n" + task("a", "    retries: " + digits + "\n"),
         "expected a whole number"},
        {"long_float.yaml", "tasks:\n" + task("a", "    priority_weight: " + digits + ".5\n"),
         "expected a whole number"},
        {"million_tasks.yaml",
         "tasks:\n  - group: g_{{ item }}\n    for_each: " + numbers(1000) +
             "\n    tasks:\n      - task_id: t_{{ n }}\n        operator: empty\n        for_each: {n: " +
             numbers(1000) + "}\n",
         "a DAG may have at most 10000 tasks"},
        {"script_copies.yaml",
         "tasks:\n  - task_id: t_{{ item }}\n    operator: bash\n    bash_command: _big.sh\n    for_each: " +
             numbers(10'000) + "\n",
         "the DAG's tasks hold more than 64 MiB"},
        {"included_list.yaml",
         "tasks:\n  - task_id: t_{{ item }}\n    operator: empty\n    for_each: !include _many.json\n",
         "a list may have at most 10000"},
        {"include_cycle.yaml", "params: !include _loop_a.yaml\ntasks:\n" + task("a"), "include cycle: "},
        {"include_self.yaml", "params: !include include_self.yaml\ntasks:\n" + task("a"), "include cycle: "},
        {"latin1.yaml", "description: caf\xe9\ntasks:\n" + task("a"), "the file is not UTF-8 (byte 0xe9"},
        {"latin1_script.yaml", "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: _latin1.sh\n",
         "include file '_latin1.sh' is not UTF-8"},
        {"caf\xe9.yaml", "tasks:\n" + task("a"), "the file name is not UTF-8"},
        {"many_errors.yaml",
         "tasks:\n  - group: g_{{ item }}\n    for_each: " + numbers(100) +
             "\n    tasks:\n      - task_id: t_{{ n }}\n        operator: empty\n        retires: 3\n        "
             "for_each: {n: " +
             numbers(100) + "}\n",
         "more times, for other tasks made from this line"},
        {"fast_schedule.yaml", "schedule: 1ms\ncatchup: true\nstart_date: 2024-01-01\ntasks:\n" + task("a"),
         "shorter than the minimum interval of 1m"},
        {"template_bomb.yaml",
         "tasks:\n  - task_id: \"t{{ ('x ' * 3000000).split() | length }}\"\n    operator: empty\n",
         "list too large"},
    };
}

}  // namespace

TEST_CASE("hostile files fail alone with clear errors and the good DAG beside them loads", "[attack]") {
    namespace fs = std::filesystem;
    fs::path folder = fs::temp_directory_path() / "mayaflow-attack-corpus";
    fs::remove_all(folder);
    fs::create_directories(folder);
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(folder / name, std::ios::binary) << text;
    };
    write("_big.sh", "echo {{ ds }}\n" + std::string(4 * 1024 * 1024 - 32, '#') + "\n");
    write("_many.json", numbers(20'000));
    write("_loop_a.yaml", "a: !include _loop_b.yaml\n");
    write("_loop_b.yaml", "b: !include _loop_a.yaml\n");
    write("_latin1.sh", "echo r\xe9sum\xe9\n");
    write("good.yaml", "schedule: \"@daily\"\ntasks:\n" + task("a"));
    std::map<std::string, std::string> expected;
    for (const auto& file : hostile_files()) {
        write(file.name, file.text);
        expected[(folder / file.name).string()] = file.expected;
    }

    auto loaded = load_dag_folder(folder, DagLoadOptions{&builtin_operators(), folder});
    REQUIRE(loaded.size() == expected.size() + 1);
    for (const auto& [file, result] : loaded) {
        std::string errors = format_errors(result.errors);
        INFO(file.filename().string() << "\n" << errors.substr(0, 3000));
        if (file.filename() == "good.yaml") {
            CHECK(result.dag);
            continue;
        }
        CHECK_FALSE(result.dag);
        CHECK(result.errors.size() <= kMaxErrorsPerFile + 1);
        CHECK(errors.size() < 100'000);
        CHECK(is_valid_utf8(errors));
        CHECK_THAT(errors, Catch::Contains(expected.at(file.string())));
    }
    fs::remove_all(folder);
}

}  // namespace mayaflow
