#pragma once
// JsonLogFormatter writes each log record as one line of JSON (log_format: json), for log shippers
// that read structured lines (journald's JSON, Loki, Cloud Logging, Elasticsearch):
//   {"timestamp":"2026-12-06T22:58:28.123Z","level":"info","logger":"mayaflow","thread":4242,
//    "message":"..."}
// The message is escaped as JSON; bytes that are not UTF-8 become U+FFFD, so a line always parses.

#include <spdlog/formatter.h>

#include <memory>

namespace mayaflow {

// The other format (log_format: text), as an spdlog pattern: the time with its offset, the level
// (coloured on a colour sink), the message. The daemon and its task supervisor write it alike.
inline constexpr const char* kTextLogPattern = "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v";

class JsonLogFormatter : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) override;
    std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace mayaflow
