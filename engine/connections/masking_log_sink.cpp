#include "engine/connections/masking_log_sink.h"

#include <string>

namespace mayaflow {

void MaskingLogSink::sink_it_(const spdlog::details::log_msg& message) {
    const std::string masked = masker_.mask(std::string_view(message.payload.data(), message.payload.size()));
    spdlog::details::log_msg copy = message;
    copy.payload = spdlog::string_view_t(masked.data(), masked.size());
    inner_->log(copy);
}

void MaskingLogSink::flush_() { inner_->flush(); }

void MaskingLogSink::set_pattern_(const std::string& pattern) { inner_->set_pattern(pattern); }

void MaskingLogSink::set_formatter_(std::unique_ptr<spdlog::formatter> formatter) {
    inner_->set_formatter(std::move(formatter));
}

}  // namespace mayaflow
