// GET …/taskInstances/{task_id}/logs/{try}: pages and continuation tokens, text or JSON, a log that
// grows, bytes that are not UTF-8, and ids from the URL that try to leave the logs folder.

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cctype>

#include "engine/util/utf8.h"
#include "tests/web/api_fixture.h"
#include "tests/web/run_fixture.h"
#include "web/api/log_page.h"
#include "web/api/signed_token.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

const std::string kLogs = "/api/v1/dags/sales/dagRuns/run_1/taskInstances/load/logs/";

struct LogFixture : ApiFixture {
    LogFixture() {
        testing::add_dag(*this, "sales", (folder / "sales.yaml").string(), {testing::task_of("load"), testing::task_of("report")});
        testing::add_run(*this, "sales", "run_1",
                         {testing::task_row("load", TaskState::running, 2), testing::task_row("report", TaskState::none, 0)});
    }
    std::filesystem::path log(int try_number, const std::string& task_id = "load") {
        return testing::log_of(*this, "sales", "run_1", task_id, try_number);
    }
    nlohmann::json get_json(const std::string& target) {
        auto response = call("GET", target);
        INFO(target << " " << response.body);
        REQUIRE(response.status == 200);
        CHECK(response.content_type == "application/json");
        return json(response);
    }
};

std::string url_encoded(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

}  // namespace

TEST_CASE("a try's log is answered as JSON with a token, or as text when Accept asks", "[logs]") {
    LogFixture fixture;
    testing::write_file(fixture.log(1), "first try\nfailed\n");
    testing::write_file(fixture.log(2), "second try\n");

    auto first = fixture.get_json(kLogs + "1");
    CHECK(first["content"] == "first try\nfailed\n");
    CHECK(first["continuation_token"].is_string());
    CHECK(fixture.get_json(kLogs + "2")["content"] == "second try\n");
    CHECK(fixture.get_json(kLogs + "1?full_content=true")["content"] == "first try\nfailed\n");
    CHECK(fixture.get_json(kLogs + "1?map_index=-1")["content"] == "first try\nfailed\n");

    auto text = fixture.call("GET", kLogs + "1", "", {{"accept", "text/plain"}});
    CHECK(text.status == 200);
    CHECK(text.content_type == "text/plain; charset=utf-8");
    CHECK(text.body == "first try\nfailed\n");
    CHECK_FALSE(text.headers["X-Continuation-Token"].empty());
    // JSON is the default, and wins a tie; text/plain must be preferred to be chosen.
    CHECK(fixture.call("GET", kLogs + "1", "", {{"accept", "*/*"}}).content_type == "application/json");
    CHECK(fixture.call("GET", kLogs + "1", "", {{"accept", "application/json, text/plain"}}).content_type ==
          "application/json");
    CHECK(fixture.call("GET", kLogs + "1", "", {{"accept", "text/plain;q=0.9, application/json;q=0.5"}}).content_type ==
          "text/plain; charset=utf-8");
    CHECK(fixture.call("GET", kLogs + "1", "", {{"accept", "text/*"}}).content_type == "text/plain; charset=utf-8");

    // A Viewer reads logs.
    fixture.as(Role::viewer);
    CHECK(fixture.call("GET", kLogs + "1").status == 200);
}

TEST_CASE("a try that has written nothing yet has an empty log; unknown ids are 404", "[logs]") {
    LogFixture fixture;
    auto empty = fixture.get_json(kLogs + "2");
    CHECK(empty["content"] == "");
    // Its token, once the try writes, reads what it wrote.
    testing::write_file(fixture.log(2), "started\n");
    auto next = fixture.get_json(kLogs + "2?token=" + empty["continuation_token"].get<std::string>());
    CHECK(next["content"] == "started\n");

    check_problem(fixture.call("GET", "/api/v1/dags/nope/dagRuns/run_1/taskInstances/load/logs/1"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/dags/sales/dagRuns/nope/taskInstances/load/logs/1"), 404, "Not Found");
    check_problem(fixture.call("GET", "/api/v1/dags/sales/dagRuns/run_1/taskInstances/nope/logs/1"), 404, "Not Found");
    check_problem(fixture.call("GET", kLogs + "3"), 404, "Not Found");  // two tries so far
    check_problem(fixture.call("GET", "/api/v1/dags/sales/dagRuns/run_1/taskInstances/report/logs/1"), 404, "Not Found");
    for (const std::string bad : {"0", "-1", "abc", "1.5", "99999999999", "%20"}) {
        INFO(bad);
        check_problem(fixture.call("GET", kLogs + bad), 400, "Bad Request");
    }
    check_problem(fixture.call("GET", kLogs + "1?map_index=3"), 404, "Not Found");
    check_problem(fixture.call("GET", kLogs + "1?map_index=x"), 400, "Bad Request");
    check_problem(fixture.call("GET", kLogs + "1?full_content=yes"), 400, "Bad Request");
    // SQL in an id is only a name that does not exist.
    for (const std::string id : {"' OR 1=1 --", "%", "_", "sales' --"}) {
        INFO(id);
        check_problem(fixture.call("GET", "/api/v1/dags/" + url_encoded(id) + "/dagRuns/run_1/taskInstances/load/logs/1"),
                      404, "Not Found");
        check_problem(fixture.call("GET", "/api/v1/dags/sales/dagRuns/" + url_encoded(id) + "/taskInstances/load/logs/1"),
                      404, "Not Found");
    }
}

TEST_CASE("ids that would step out of the logs folder are refused, in every spelling", "[logs]") {
    LogFixture fixture;
    // A file beside the logs folder that no answer may show.
    testing::write_file(fixture.folder / "secret.txt", "SECRET\n");
    testing::write_file(fixture.folder / "logs" / "secret.txt", "SECRET\n");
    const std::vector<std::string> ids = {
        "..",          "%2e%2e",           "%2E%2E",        ".",           "..%2f..%2fsecret.txt",
        "%2e%2e%2fsecret.txt", "%2fetc%2fpasswd", "a%2fb",     "a%00b",       "%00",
        "..%5c..%5csecret.txt", "a%0ab",
    };
    for (const auto& id : ids) {
        for (const std::string& target : {"/api/v1/dags/" + id + "/dagRuns/run_1/taskInstances/load/logs/1",
                                          "/api/v1/dags/sales/dagRuns/" + id + "/taskInstances/load/logs/1",
                                          "/api/v1/dags/sales/dagRuns/run_1/taskInstances/" + id + "/logs/1"}) {
            INFO(target);
            auto response = fixture.call("GET", target);
            check_problem(response, 400, "Bad Request");
            CHECK(response.body.find("SECRET") == std::string::npos);
        }
    }
    // Unencoded ../ is a path the router has no route for, or an id refused the same way.
    for (const std::string target : {"/api/v1/dags/../dagRuns/run_1/taskInstances/load/logs/1",
                                     "/api/v1/dags/sales/dagRuns/../../../secret.txt/taskInstances/load/logs/1",
                                     "/api/v1/dags/sales/dagRuns/run_1/taskInstances/load/logs/../../../../secret.txt"}) {
        INFO(target);
        auto response = fixture.call("GET", target);
        CHECK((response.status == 400 || response.status == 404));
        CHECK(response.body.find("SECRET") == std::string::npos);
    }
}

TEST_CASE("a log that is a symlink out of the logs folder is not served", "[logs]") {
    LogFixture fixture;
    testing::write_file(fixture.folder / "secret.txt", "SECRET\n");
    std::filesystem::create_directories(fixture.log(1).parent_path());
    std::filesystem::create_symlink(fixture.folder / "secret.txt", fixture.log(1));
    auto response = fixture.call("GET", kLogs + "1");
    check_problem(response, 404, "Not Found");
    CHECK(response.body.find("SECRET") == std::string::npos);
    check_problem(fixture.call("GET", kLogs + "1?full_content=true"), 404, "Not Found");

    // A folder of the path that leads out of the logs folder is refused the same way.
    testing::write_file(fixture.folder / "elsewhere" / "attempt=1.log", "SECRET\n");
    const auto report_folder = testing::log_of(fixture, "sales", "run_2", "report", 1).parent_path();
    std::filesystem::create_directories(report_folder.parent_path());
    std::filesystem::create_symlink(fixture.folder / "elsewhere", report_folder);
    testing::add_run(fixture, "sales", "run_2", {testing::task_row("report", TaskState::failed, 1)});
    auto other = fixture.call("GET", "/api/v1/dags/sales/dagRuns/run_2/taskInstances/report/logs/1");
    check_problem(other, 404, "Not Found");
    CHECK(other.body.find("SECRET") == std::string::npos);

    // A symlink that stays inside the logs folder is followed.
    testing::write_file(fixture.folder / "logs" / "kept.log", "inside\n");
    std::filesystem::create_directories(fixture.log(2).parent_path());
    std::filesystem::create_symlink(fixture.folder / "logs" / "kept.log", fixture.log(2));
    CHECK(fixture.get_json(kLogs + "2")["content"] == "inside\n");
}

TEST_CASE("a long log comes in pages that end at a line's end and join up to the whole log", "[logs]") {
    LogFixture fixture;
    std::string whole;
    for (int line = 0; whole.size() < 3 * kLogPageBytes; ++line) whole += fmt::format("line {} of the log é\n", line);
    testing::write_file(fixture.log(1), whole);

    std::string joined;
    std::string target = kLogs + "1";
    for (int page = 0; page < 10; ++page) {
        auto body = fixture.get_json(target);
        const std::string content = body["content"];
        if (content.empty()) break;
        CHECK(content.size() <= kLogPageBytes);
        CHECK(content.back() == '\n');
        joined += content;
        target = kLogs + "1?token=" + body["continuation_token"].get<std::string>();
    }
    CHECK(joined == whole);
    CHECK(fixture.get_json(kLogs + "1?full_content=true")["content"] == whole);
}

TEST_CASE("full_content answers at most 8 MiB, up to a line's end, and its token goes on from there", "[logs]") {
    LogFixture fixture;
    const std::string line(999, 'x');
    std::string whole;
    while (whole.size() < kFullContentBytes + 100'000) whole += line + "\n";
    testing::write_file(fixture.log(1), whole);
    auto first = fixture.get_json(kLogs + "1?full_content=true");
    const std::string content = first["content"];
    CHECK(content.size() == kFullContentBytes / 1000 * 1000);  // the last whole line within 8 MiB
    CHECK(whole.starts_with(content));
    auto rest = fixture.get_json(kLogs + "1?token=" + first["continuation_token"].get<std::string>());
    std::string joined = content + rest["content"].get<std::string>();
    for (int page = 0; page < 10 && joined.size() < whole.size(); ++page) {
        rest = fixture.get_json(kLogs + "1?token=" + rest["continuation_token"].get<std::string>());
        joined += rest["content"].get<std::string>();
    }
    CHECK(joined == whole);
}

TEST_CASE("a running try's log is tailed with the token: each answer holds only what was added", "[logs]") {
    LogFixture fixture;
    testing::write_file(fixture.log(2), "starting\n");
    auto first = fixture.get_json(kLogs + "2");
    CHECK(first["content"] == "starting\n");
    // Nothing new: an empty answer, and a token that still goes on from there.
    auto idle = fixture.get_json(kLogs + "2?token=" + first["continuation_token"].get<std::string>());
    CHECK(idle["content"] == "");
    // The try writes a line and half a character ("é" is two bytes): the half waits for the rest.
    testing::write_file(fixture.log(2), "row 1 done\ncaf\xc3", true);
    auto second = fixture.get_json(kLogs + "2?token=" + idle["continuation_token"].get<std::string>());
    CHECK(second["content"] == "row 1 done\ncaf");
    testing::write_file(fixture.log(2), "\xa9 ok\n", true);
    auto third = fixture.get_json(kLogs + "2?token=" + second["continuation_token"].get<std::string>());
    CHECK(third["content"] == "\xc3\xa9 ok\n");
    // The text answer carries the token in a header and tails the same way.
    testing::write_file(fixture.log(2), "end\n", true);
    auto text = fixture.call("GET", kLogs + "2?token=" + third["continuation_token"].get<std::string>(), "",
                             {{"accept", "text/plain"}});
    CHECK(text.body == "end\n");
    auto after = fixture.get_json(kLogs + "2?token=" + text.headers["X-Continuation-Token"]);
    CHECK(after["content"] == "");
}

TEST_CASE("a log that is not UTF-8 is still answered as valid JSON", "[logs]") {
    LogFixture fixture;
    testing::write_file(fixture.log(1), "caf\xe9 \xff\xfe ok\n\x80\n");
    auto response = fixture.call("GET", kLogs + "1");
    REQUIRE(response.status == 200);
    CHECK(is_valid_utf8(response.body));
    auto body = ApiFixture::json(response);
    CHECK(body["content"] == "caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD ok\n\xEF\xBF\xBD\n");
    auto text = fixture.call("GET", kLogs + "1", "", {{"accept", "text/plain"}});
    CHECK(is_valid_utf8(text.body));
}

TEST_CASE("continuation tokens that were changed, forged or given for another log are refused", "[logs]") {
    LogFixture fixture;
    testing::write_file(fixture.log(1), "one\ntwo\n");
    testing::write_file(fixture.log(2), "other\n");
    const std::string token = fixture.get_json(kLogs + "1")["continuation_token"];

    // Every single character changed.
    for (size_t at = 0; at < token.size(); ++at) {
        std::string changed = token;
        changed[at] = changed[at] == 'A' ? 'B' : 'A';
        if (changed == token) continue;
        INFO(changed);
        check_problem(fixture.call("GET", kLogs + "1?token=" + changed), 400, "Bad Request");
    }
    // A payload of the client's own with any signature, or another key's.
    TokenSigner stranger("not the database's key at all, 32+");
    const nlohmann::json payload = {{"dag_id", "sales"}, {"run_id", "run_1"}, {"task_id", "load"}, {"try_number", 1},
                                    {"offset", 2}};
    const std::string forged = stranger.sign("task_log", payload);
    check_problem(fixture.call("GET", kLogs + "1?token=" + forged), 400, "Bad Request");
    check_problem(fixture.call("GET", kLogs + "1?token=" + forged.substr(0, forged.find('.'))), 400, "Bad Request");
    for (const std::string junk : {"x", ".", "..", "%2e%2e%2f", "eyJvZmZzZXQiOjB9", "' OR 1=1 --"}) {
        INFO(junk);
        check_problem(fixture.call("GET", kLogs + "1?token=" + url_encoded(junk)), 400, "Bad Request");
    }
    // The database's own key, but made for another purpose (a DAG file's token) or another log.
    auto signer = TokenSigner::of_store(*fixture.store);
    REQUIRE(signer);
    check_problem(fixture.call("GET", kLogs + "1?token=" + signer->sign("dag_file", payload)), 400, "Bad Request");
    check_problem(fixture.call("GET", kLogs + "2?token=" + token), 400, "Bad Request");
    check_problem(fixture.call("GET", "/api/v1/dags/sales/dagRuns/run_1/taskInstances/report/logs/1?token=" + token),
                  404, "Not Found");
    // The genuine one works, and full_content ignores any token.
    CHECK(fixture.get_json(kLogs + "1?token=" + token)["content"] == "");
    CHECK(fixture.get_json(kLogs + "1?full_content=true&token=junk")["content"] == "one\ntwo\n");
}

}  // namespace mayaflow
