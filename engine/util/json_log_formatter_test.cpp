#include "engine/util/json_log_formatter.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace mayaflow {
namespace {

// Logs through a real spdlog logger whose sink uses the formatter, and returns what it wrote.
std::string logged(spdlog::level::level_enum level, const std::string& message) {
    std::ostringstream written;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(written);
    sink->set_formatter(std::make_unique<JsonLogFormatter>());
    spdlog::logger logger("mayaflow", sink);
    logger.set_level(spdlog::level::trace);
    logger.log(level, "{}", message);
    logger.flush();
    return written.str();
}

TEST_CASE("a log record is one line of JSON with its time, level, logger, thread and message", "[log-format]") {
    const std::string line = logged(spdlog::level::warn, "DAG file daily.yaml: \"tasks\" is empty");
    REQUIRE(line.back() == '\n');
    REQUIRE(line.find('\n') == line.size() - 1);
    const auto record = nlohmann::json::parse(line);
    CHECK(record["level"] == "warning");
    CHECK(record["logger"] == "mayaflow");
    CHECK(record["message"] == "DAG file daily.yaml: \"tasks\" is empty");
    CHECK(record["thread"].is_number_integer());
    const std::string timestamp = record["timestamp"];
    // 2026-12-06T22:58:28.123Z
    REQUIRE(timestamp.size() == 24);
    CHECK(timestamp[10] == 'T');
    CHECK(timestamp[19] == '.');
    CHECK(timestamp.back() == 'Z');
}

TEST_CASE("a message with newlines, control characters and bytes that are not UTF-8 stays one valid line",
          "[log-format]") {
    const std::string message = std::string("first\nsecond\r\t\x01 caf\xc3\xa9 bad:\xff\xfe end");
    const std::string line = logged(spdlog::level::err, message);
    REQUIRE(line.find('\n') == line.size() - 1);
    const auto record = nlohmann::json::parse(line);
    CHECK(record["level"] == "error");
    const std::string text = record["message"];
    CHECK(text.rfind("first\nsecond\r\t\x01 caf\xc3\xa9 bad:", 0) == 0);
    CHECK(text.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD for the bad bytes
    CHECK(text.size() > 0);
}

}  // namespace
}  // namespace mayaflow
