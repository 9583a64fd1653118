#pragma once
// For the API's tests of secrets: a keyring for the fixture (its key's text kept, to check that it
// shows up nowhere), and the daemon's log captured unmasked while a test runs, so a secret that
// reached a log call is seen even though the daemon's masker would have hidden it.

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>

#include "engine/connections/secret_cipher.h"
#include "engine/connections/secrets_repository.h"
#include "tests/web/api_fixture.h"

namespace mayaflow::testing {

struct ApiSecrets {
    ApiFixture& fixture;
    SecretKey key;
    std::string key_text;
    std::unique_ptr<SecretsRepository> repository;

    explicit ApiSecrets(ApiFixture& api) : fixture(api) {
        auto generated = generate_secret_key();
        REQUIRE(generated);
        key = *generated;
        key_text = format_secret_key(key);
        repository = std::make_unique<SecretsRepository>(*api.store, SecretKeyring({key}, "test"));
        api.context->secrets = repository.get();
    }
    ~ApiSecrets() { fixture.context->secrets = nullptr; }
};

// Everything logged through spdlog's default logger while it lives, as written (no masking).
class LogCapture {
  public:
    LogCapture() : previous_(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(written_);
        auto logger = std::make_shared<spdlog::logger>("api-test", sink);
        logger->set_level(spdlog::level::trace);
        logger->set_pattern("%l %v");
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(previous_); }
    std::string text() {
        spdlog::default_logger()->flush();
        return written_.str();
    }

  private:
    std::shared_ptr<spdlog::logger> previous_;
    std::ostringstream written_;
};

}  // namespace mayaflow::testing
