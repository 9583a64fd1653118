// Files written to crash or stall the loader: very long ids and numbers, bytes that are not UTF-8,
// megabytes pasted into a field, and files with thousands of errors. Each must fail with a clear
// error, few and short, and never crash.

#include <catch2/catch.hpp>

#include "engine/dagfile/loader_test_support.h"
#include "engine/util/utf8.h"

namespace mayaflow {
using test::check_refused;
using test::load_text;

namespace {

std::string task(const std::string& id, const std::string& more = "") {
    return "  - task_id: " + id + "\n    operator: empty\n" + more;
}

}  // namespace

TEST_CASE("ids of 30,000 characters are errors, not stack overflows", "[dagfile][hostile]") {
    const std::string long_name(30'000, 'a');
    check_refused(load_text("dag_id: " + long_name + "\ntasks:\n" + task("a")),
                  "may contain only letters, digits, '_', '-' and '.', at most 250 of them (it has 30000)");
    check_refused(load_text("dag_id: " + long_name + "!\ntasks:\n" + task("a")), "may contain only letters");
    check_refused(load_text("tasks:\n" + task(long_name)),
                  "task_id is 30000 characters long; the limit is 250");
    check_refused(load_text("tasks:\n" + task(long_name + " x")), "may contain only letters");
    check_refused(load_text("tasks:\n  - group: " + long_name +
                            "\n    tasks:\n      - task_id: a\n"
                            "        operator: empty\n"),
                  "makes task ids longer than 250 characters");
    // YAML allows keys this long only as explicit keys (`? key`); plain ones are a syntax error.
    check_refused(
        load_text("tasks:\n  - task_id: t_{{ item }}\n    operator: empty\n    for_each:\n      ? " +
                  long_name + "-x\n      : [1, 2]\n"),
        "is not a valid variable name");
    check_refused(load_text("tasks:\n  - task_id: t_{{ " + long_name +
                            " }}\n    operator: empty\n    for_each:\n"
                            "      ? " +
                            long_name + "\n      : [1, 2]\n"),
                  "its template is 30008 bytes long; the limit is 4096");
    check_refused(load_text("tasks:\n" + task("a", "    ? " + long_name + "\n    : 1\n")), "unknown field '");
    check_refused(load_text("tasks:\n" + task("a", "    " + long_name + ": 1\n")), "YAML syntax error");
    check_refused(load_text("tasks:\n  - task_id: a\n    operator: " + long_name + "\n"),
                  "unknown operator '");
    check_refused(load_text("? " + long_name + "\n: 1\ntasks:\n" + task("a")), "unknown DAG field '");
    check_refused(load_text("tasks:\n" + task("a", "    depends_on: [" + long_name + "]\n")),
                  "but there is no task or group with that name");
    check_refused(load_text("tasks:\n" + task("a", "    pool: " + long_name + "\n")), "pool name");
}

TEST_CASE("numbers of 40,000 digits load as text or fail as the wrong type", "[dagfile][hostile]") {
    const std::string digits(40'000, '9');
    for (const std::string& number : {digits, "-" + digits, digits + ".5", "0x" + std::string(40'000, 'f'),
                                      "1e" + digits, "." + digits}) {
        auto result = load_text("params:\n  n: " + number + "\ntasks:\n" + task("a"));
        INFO(format_errors(result.errors));
        REQUIRE(result.dag);
        CHECK(result.dag->params["n"].is_number_float() == (number == "." + digits));
    }
    check_refused(load_text("tasks:\n" + task("a", "    retries: " + digits + "\n")),
                  "expected a whole number");
    check_refused(load_text("max_active_runs: " + digits + "\ntasks:\n" + task("a")),
                  "expected a whole number");
    check_refused(load_text("tasks:\n  - task_id: a\n    operator: bash\n    bash_command: x\n    count: " +
                            digits + "\n"),
                  "bash parameter 'count' must be an integer, got \"9999");
}

TEST_CASE("a megabyte in a field fails fast with a short message", "[dagfile][hostile]") {
    const std::string megabyte(1'000'000, 'x');
    check_refused(load_text("timezone: " + megabyte + "\ntasks:\n" + task("a")), "unknown time zone \"xxxx");
    check_refused(load_text("timezone: Asia/" + megabyte + "\ntasks:\n" + task("a")),
                  "such as \"Asia/Tokyo\"");
    check_refused(load_text("schedule: " + megabyte + "\ntasks:\n" + task("a")),
                  "is neither a cron expression");
    check_refused(load_text("schedule: \"0 " + megabyte + " * * *\"\ntasks:\n" + task("a")), "schedule");
    check_refused(load_text("start_date: " + megabyte + "\ntasks:\n" + task("a")), "start_date");
    check_refused(load_text("tasks:\n" + task("a", "    retry_delay: 1" + megabyte + "\n")),
                  "invalid duration");
    check_refused(load_text("tasks:\n" + task("a", "    trigger_rule: " + megabyte + "\n")),
                  "unknown trigger rule");
    check_refused(load_text("catchup: " + megabyte + "\ntasks:\n" + task("a")), "expected true or false");
}

TEST_CASE("merge keys that repeat a large mapping through aliases are bounded", "[dagfile][hostile]") {
    std::string keys;
    for (int i = 0; i < 1000; ++i) keys += (i ? ", " : "") + std::string("k") + std::to_string(i) + ": 1";
    std::string merges;
    for (int i = 0; i < 1000; ++i) merges += (i ? ", " : "") + std::string("*m");
    check_refused(
        load_text("params:\n  a: &m {" + keys + "}\n  b: {<<: [" + merges + "]}\ntasks:\n" + task("a")),
        "value is too large");
    check_refused(load_text("default_args:\n  <<: [" + std::string("*m, ") + merges +
                            "]\nparams:\n  a: &m {" + keys + "}\ntasks:\n" + task("a")),
                  "YAML syntax error");  // an alias before its anchor
}

TEST_CASE("a file that is not UTF-8 is refused with its line, column and byte", "[dagfile][hostile]") {
    auto latin1 = load_text(
        "dag_id: cafe\ndescription: ok\ndoc_md: \"caf\xe9 au lait\"\ntasks:\n" + task("a"), "x.yaml");
    check_refused(latin1, "the file is not UTF-8 (byte 0xe9 at offset 41); save it as UTF-8");
    REQUIRE_FALSE(latin1.errors.empty());
    CHECK(latin1.errors[0].where.line == 3);
    CHECK(latin1.errors[0].where.column == 13);
    CHECK_THAT(latin1.errors[0].to_string(), Catch::Contains("x.yaml:3:13: the file is not UTF-8"));
    // The column counts characters: the é before the bad byte is one.
    auto after_accent = load_text("tasks:\n" + task("a", "    doc_md: \xc3\xa9\xff\n"));
    check_refused(after_accent, "byte 0xff");
    CHECK(after_accent.errors[0].where.column == 14);
    for (const std::string& bad :
         {std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("\xf5\x80\x80\x80"),
          std::string("\xe2\x82"), std::string("\xff\xfe")}) {
        check_refused(load_text("description: " + bad + "\ntasks:\n" + task("a")), "the file is not UTF-8");
    }
    check_refused(load_text("tasks:\n" + task("a"), "caf\xe9.yaml"), "the file name is not UTF-8");
    CHECK(is_valid_utf8(format_errors(load_text("tasks:\n" + task("a"), "caf\xe9.yaml").errors)));
}

TEST_CASE("errors are capped per file and each is short", "[dagfile][hostile]") {
    std::string many = "tasks:\n" + task("a");
    for (int i = 0; i < 1000; ++i) many += "unknown_" + std::to_string(i) + ": 1\n";
    auto result = load_text(many);
    check_refused(result, "... and 950 more errors not listed (a file lists at most 50); fix these first");
    CHECK(result.errors.size() == kMaxErrorsPerFile + 1);

    // One misspelled field inside a for_each of 10,000 tasks: the loader stops looking.
    std::string nested = "tasks:\n  - group: g_{{ item }}\n    for_each: [";
    for (int i = 0; i < 100; ++i) nested += (i ? ", " : "") + std::to_string(i);
    nested +=
        "]\n    tasks:\n      - task_id: t_{{ day }}\n        operator: empty\n        retries: lots\n"
        "        for_each: {day: [";
    for (int i = 0; i < 100; ++i) nested += (i ? ", " : "") + std::to_string(i);
    nested += "]}\n";
    auto nested_result = load_text(nested);
    // The same fault in every copy is said once, with a count, and the loader says it stopped.
    check_refused(nested_result, "more times, for other tasks made from this line");
    check_refused(nested_result, "the loader stopped looking after");
    CHECK(nested_result.errors.size() == 2);
    CHECK(format_errors(nested_result.errors).size() < 50'000);
}

TEST_CASE("schedules shorter than a minute are load errors", "[dagfile][hostile]") {
    for (const char* schedule : {"1ms", "30s", "59s", "1us", "PT30S", "\"30\"", "500ms"}) {
        INFO(schedule);
        check_refused(load_text(std::string("schedule: ") + schedule + "\ntasks:\n" + task("a")),
                      "is shorter than the minimum interval of 1m");
    }
    for (const char* schedule : {"1m", "60s", "PT1M", "\"* * * * *\"", "\"@hourly\""}) {
        auto result = load_text(std::string("schedule: ") + schedule + "\ntasks:\n" + task("a"));
        INFO(schedule << "\n" << format_errors(result.errors));
        CHECK(result.dag);
    }
    check_refused(load_text("schedule: \"*/1 * * * * *\"\ntasks:\n" + task("a")), "expected 5 fields");
}

TEST_CASE("a file that cannot be read is an error naming it", "[dagfile][hostile]") {
    test::ScratchFolder folder("mayaflow-hostile-read");
    std::filesystem::create_directories(folder.path() / "folder.yaml");
    check_refused(folder.load("folder.yaml"), "cannot read the file");
    check_refused(folder.load("missing.yaml"), "cannot read the file");
    folder.write("big.yaml", std::string(kMaxDagFileBytes + 1, '#'));
    check_refused(folder.load("big.yaml"), "the file is 4194305 bytes; the limit is 4194304 bytes");
}

}  // namespace mayaflow
