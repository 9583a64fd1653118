// The daemon's log masks secrets: MaskingLogSink in front of the sink that writes.

#include "engine/connections/masking_log_sink.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>

#include <sstream>

namespace mayaflow {
namespace {

TEST_CASE("the daemon's log shows registered secrets as ***", "[connections][masker]") {
    std::ostringstream written;
    auto inner = std::make_shared<spdlog::sinks::ostream_sink_mt>(written);
    SecretMasker masker;
    masker.add_secret("s3cr3t pw");
    spdlog::logger logger("test", std::make_shared<MaskingLogSink>(inner, masker));
    logger.set_pattern("%l %v");
    logger.error("login failed for {} with {}", "svc", "s3cr3t pw");
    logger.warn("in a URL: postgres://svc:s3cr3t%20pw@host/db");
    logger.info("nothing secret");
    logger.flush();
    CHECK(written.str() == "error login failed for svc with ***\nwarning in a URL: postgres://svc:***@host/db\n"
                           "info nothing secret\n");
}

}  // namespace
}  // namespace mayaflow
