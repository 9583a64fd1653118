#pragma once
// MaskingLogSink puts the secrets masker in front of another spdlog sink: every message is masked
// before the inner sink formats and writes it, so a password that reaches a log call (in an error
// from a library, a failed task's message, a template error) shows as "***" in the daemon's log.

#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>

#include "engine/connections/secret_masker.h"

namespace mayaflow {

class MaskingLogSink : public spdlog::sinks::base_sink<std::mutex> {
  public:
    MaskingLogSink(spdlog::sink_ptr inner, const SecretMasker& masker) : inner_(std::move(inner)), masker_(masker) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& message) override;
    void flush_() override;
    // The pattern and formatter are the inner sink's: it formats (and colours) the masked message.
    void set_pattern_(const std::string& pattern) override;
    void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override;

  private:
    spdlog::sink_ptr inner_;
    const SecretMasker& masker_;
};

}  // namespace mayaflow
