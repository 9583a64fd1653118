#include "engine/util/json_log_formatter.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <string>

namespace mayaflow {

namespace {

// spdlog's own names, except "warning" for "warn" (the name log_level takes, and most shippers know).
std::string level_name(spdlog::level::level_enum level) {
    if (level == spdlog::level::warn) return "warning";
    const auto name = spdlog::level::to_string_view(level);
    return std::string(name.data(), name.size());
}

std::string utc_timestamp(spdlog::log_clock::time_point when) {
    const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(since_epoch / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                       utc.tm_hour, utc.tm_min, utc.tm_sec, since_epoch % 1000);
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) {
    nlohmann::ordered_json line;
    line["timestamp"] = utc_timestamp(message.time);
    line["level"] = level_name(message.level);
    line["logger"] = std::string(message.logger_name.data(), message.logger_name.size());
    line["thread"] = message.thread_id;
    line["message"] = std::string(message.payload.data(), message.payload.size());
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const { return std::make_unique<JsonLogFormatter>(); }

}  // namespace mayaflow
