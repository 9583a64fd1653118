// for_each and groups can ask a few kilobytes of YAML for millions of tasks or dependencies. The
// loader counts before it builds, over the whole DAG, and refuses what is over the limits.

#include <catch2/catch.hpp>

#include "engine/dagfile/dag_budget.h"
#include "engine/dagfile/loader_test_support.h"

namespace mayaflow {
using test::check_refused;
using test::load_text;
using test::ScratchFolder;

namespace {

std::string numbers(int count, int from = 0) {
    std::string text = "[";
    for (int i = 0; i < count; ++i) text += (i ? ", " : "") + std::to_string(from + i);
    return text + "]";
}

}  // namespace

TEST_CASE("tasks are counted over the whole DAG before any is built", "[dagfile][generated]") {
    const std::string limit = "a DAG may have at most 10000 tasks";
    // The 9 KB file of the issue: a 1,000-item group around a 1,000-item task.
    auto million = load_text("tasks:\n  - group: g_{{ item }}\n    for_each: " + numbers(1000) +
                             "\n    tasks:\n      - task_id: t_{{ n }}\n        operator: empty\n"
                             "        for_each: {n: " +
                             numbers(1000) + "}\n");
    check_refused(million, limit);
    CHECK(million.errors.size() == 1);  // refused before building: no per-task errors

    check_refused(load_text("tasks:\n  - group: a_{{ item }}\n    for_each: " + numbers(30) +
                            "\n    tasks:\n      - group: b_{{ j }}\n        for_each: {j: " + numbers(30) +
                            "}\n        tasks:\n          - task_id: t_{{ k }}\n            operator: empty\n"
                            "            for_each: {k: " +
                            numbers(30) + "}\n"),
                  limit);
    check_refused(
        load_text("tasks:\n  - task_id: t_{{ a }}_{{ b }}\n    operator: empty\n    for_each: {a: " +
                  numbers(200) + ", b: " + numbers(100) + "}\n"),
        "the for_each lists in this file would bring the DAG to more than 10000 tasks");
    // Two blocks within the limit each, over it together.
    check_refused(
        load_text("tasks:\n  - task_id: x_{{ item }}\n    operator: empty\n    for_each: " + numbers(6000) +
                  "\n  - task_id: y_{{ item }}\n    operator: empty\n    for_each: " + numbers(6000) + "\n"),
        "would bring the DAG to more than 10000 tasks");
    // Aliases repeat a block without making the file longer.
    check_refused(
        load_text("tasks:\n  - &block\n    task_id: t_{{ item }}\n    operator: empty\n    for_each: " +
                  numbers(4000) + "\n  - *block\n  - *block\n"),
        "would bring the DAG to more than 10000 tasks");
    CHECK(DagBudget::count_tasks(YAML::Load("[{group: g, for_each: " + numbers(5000) +
                                            ", tasks: [{task_id: a, for_each: [1, 2, 3]}]}]")) == 15000);
}

TEST_CASE("a list read from an included file is counted before its group is built", "[dagfile][generated]") {
    ScratchFolder folder("mayaflow-generated-include");
    folder.write("items.json", numbers(1000));
    folder.write("dag.yaml",
                 "tasks:\n  - group: g_{{ item }}\n    for_each: !include items.json\n    tasks:\n"
                 "      - task_id: t_{{ n }}\n        operator: empty\n        for_each: {n: " +
                     numbers(1000) + "}\n");
    auto result = folder.load("dag.yaml");
    check_refused(result, "this group's for_each would bring the DAG to more than 10000 tasks");
    CHECK(result.errors.size() == 1);

    folder.write("many.json", numbers(20'000));
    folder.write(
        "many.yaml",
        "tasks:\n  - task_id: t_{{ item }}\n    operator: empty\n    for_each: !include many.json\n");
    check_refused(folder.load("many.yaml"),
                  "the for_each list has 20000 items; a list may have at most 10000");
}

TEST_CASE("for_each lists and group nesting have limits of their own", "[dagfile][generated]") {
    // Written in the file, a list that long is also too many tasks, and the count says so first.
    check_refused(load_text("tasks:\n  - task_id: t_{{ item }}\n    operator: empty\n    for_each: " +
                            numbers(10'001) + "\n"),
                  "a DAG may have at most 10000 tasks");
    ScratchFolder folder("mayaflow-generated-items");
    folder.write("items.yaml", numbers(10'001));
    folder.write(
        "dag.yaml",
        "tasks:\n  - task_id: t_{{ k }}\n    operator: empty\n    for_each: {k: !include items.yaml}\n");
    check_refused(folder.load("dag.yaml"),
                  "the for_each list has 10001 items; a list may have at most 10000");
    std::string deep = "tasks:\n";
    std::string indent = "  ";
    for (int level = 0; level < 40; ++level) {
        deep += indent + "- group: g" + std::to_string(level) + "\n" + indent + "  tasks:\n";
        indent += "    ";
    }
    deep += indent + "- task_id: a\n" + indent + "  operator: empty\n";
    check_refused(load_text(deep), "groups are nested more than 32 deep");
}

TEST_CASE("dependencies are counted too, written and expanded", "[dagfile][generated]") {
    // 3,000 tasks each depending on a group of 3,000: nine million edges.
    check_refused(
        load_text(
            "tasks:\n  - group: wide\n    tasks:\n      - task_id: w_{{ item }}\n        operator: empty\n"
            "        for_each: " +
            numbers(3000) +
            "\n  - task_id: d_{{ item }}\n    operator: empty\n    depends_on: wide\n    for_each: " +
            numbers(3000) + "\n"),
        "more than 100000 task-to-task dependencies");
    // A long depends_on list copied into 2,000 tasks.
    std::string names = "[";
    for (int i = 0; i < 100; ++i) names += (i ? ", " : "") + std::string("a") + std::to_string(i);
    names += "]";
    std::string text = "tasks:\n";
    for (int i = 0; i < 100; ++i) text += "  - task_id: a" + std::to_string(i) + "\n    operator: empty\n";
    text += "  - task_id: d_{{ item }}\n    operator: empty\n    depends_on: " + names +
            "\n    for_each: " + numbers(2000) + "\n";
    check_refused(load_text(text), "name more than 100000 dependencies in all");
}

TEST_CASE("a DAG at the limits loads", "[dagfile][generated]") {
    auto result = load_text("tasks:\n  - group: g_{{ item }}\n    for_each: " + numbers(100) +
                            "\n    tasks:\n      - task_id: t_{{ n }}\n        operator: empty\n"
                            "        for_each: {n: " +
                            numbers(100) +
                            "}\n  - task_id: last\n    operator: empty\n"
                            "    depends_on: [\"g_*\"]\n");
    INFO(format_errors(result.errors).substr(0, 2000));
    // 10,001 tasks: one over.
    CHECK_FALSE(result.dag);
    auto at_limit = load_text("tasks:\n  - group: g_{{ item }}\n    for_each: " + numbers(100) +
                              "\n    tasks:\n      - task_id: t_{{ n }}\n        operator: empty\n"
                              "        for_each: {n: " +
                              numbers(99) +
                              "}\n  - task_id: last\n    operator: empty\n"
                              "    depends_on: [\"g_*\"]\n");
    INFO(format_errors(at_limit.errors).substr(0, 2000));
    REQUIRE(at_limit.dag);
    CHECK(at_limit.dag->tasks.size() == 9901);
    CHECK(at_limit.dag->find_task("last")->upstream.size() == 9900);
}

TEST_CASE("the same fault in every task a for_each makes is said once, with a count", "[dagfile][generated]") {
    // Two faults on two lines of a group made five times.
    auto result = load_text(
        "tasks:\n  - group: g_{{ item }}\n    for_each: [1, 2, 3, 4, 5]\n    tasks:\n"
        "      - task_id: a\n        operator: bash\n        bash_command: \"true\"\n        count: three\n"
        "        retries: -1\n");
    const std::string said = format_errors(result.errors);
    INFO(said);
    REQUIRE_FALSE(result.dag);
    auto count_of = [&](std::string_view text) {
        size_t found = 0;
        for (size_t at = said.find(text); at != std::string::npos; at = said.find(text, at + 1)) ++found;
        return found;
    };
    CHECK(count_of(":8:16: ") == 1);  // count: three
    CHECK(count_of(":9:18: ") == 1);  // retries: -1
    CHECK(count_of("(and 4 more times, for other tasks made from this line)") == 2);
    // Faults on different lines are not folded together, even with the same words.
    auto two_lines = load_text(
        "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: \"true\"\n    count: three\n"
        "  - task_id: b\n    operator: bash\n    bash_command: \"true\"\n    count: three\n");
    INFO(format_errors(two_lines.errors));
    CHECK(two_lines.errors.size() == 2);
    CHECK(format_errors(two_lines.errors).find("more time") == std::string::npos);
}

}  // namespace mayaflow
