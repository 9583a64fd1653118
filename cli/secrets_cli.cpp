#include "cli/secrets_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_support.h"
#include "engine/connections/secret_key_file.h"

namespace mayaflow::cli {

Secrets open_secrets(bool for_writing) {
    auto settings = settings_or_fail();
    auto environment = process_environment();
    Secrets secrets{settings, nullptr, nullptr, EnvironmentSecrets(environment)};
    if (!for_writing && !std::filesystem::exists(settings.database)) return secrets;
    // Read-write even to read: the migration that adds the tables applies on open.
    secrets.store = open_store_or_fail(settings, false);
    auto keyring = load_keyring_for_store(*secrets.store, environment, settings.home, for_writing);
    if (!keyring) throw CommandFailed{keyring.error().message};
    secrets.repository = std::make_unique<SecretsRepository>(*secrets.store, std::move(*keyring));
    return secrets;
}

SecretsRepository& repository_or_fail(Secrets& secrets) {
    if (!secrets.repository) {
        throw CommandFailed{
            fmt::format("no mayaflow database at {}: start `mayaflow standalone` (or run `mayaflow db "
                        "migrate`) first, or set MAYAFLOW_HOME to the folder that holds mayaflow.db",
                        secrets.settings.database.string())};
    }
    return *secrets.repository;
}

void write_output_file(const std::string& file, const std::string& text) {
    if (file == "-") {
        std::cout << text << std::flush;
        return;
    }
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw CommandFailed{fmt::format("cannot write {}: {}", file, std::strerror(errno))};
    std::string_view rest = text;
    while (!rest.empty()) {
        auto written = ::write(fd, rest.data(), rest.size());
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) {
            auto message = std::strerror(errno);
            ::close(fd);
            throw CommandFailed{fmt::format("cannot write {}: {}", file, message)};
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
    ::close(fd);
}

std::string read_input_file(const std::string& file, const std::string& missing_message) {
    if (!std::filesystem::exists(file)) throw CommandFailed{missing_message};
    std::ifstream in(file, std::ios::binary);
    if (!in) throw CommandFailed{fmt::format("cannot read {}: {}", file, std::strerror(errno))};
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace mayaflow::cli
