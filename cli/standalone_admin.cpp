#include "cli/standalone_admin.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "cli/cli_support.h"
#include "engine/util/utf8.h"
#include "web/auth/password_hash.h"
#include "web/auth/store_authenticator.h"

namespace mayaflow::cli {
namespace {

// Written to a new file beside it, then renamed: a crash never leaves half a password.
void write_password_file(const std::filesystem::path& path, const std::string& password) {
    const auto temporary = path.string() + ".tmp";
    ::unlink(temporary.c_str());
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw CommandFailed{fmt::format("cannot write {}: {}", temporary, std::strerror(errno))};
    const std::string text = password + "\n";
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    written = ::fchmod(fd, 0600) == 0 && written;
    written = ::fsync(fd) == 0 && written;
    ::close(fd);
    if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
        ::unlink(temporary.c_str());
        throw CommandFailed{fmt::format("cannot write {}: {}", path.string(), std::strerror(errno))};
    }
}

}  // namespace

std::string ensure_standalone_admin(SqliteStore& store, const std::filesystem::path& home) {
    const auto file = home / kStandaloneAdminPasswordFile;
    auto count = store.count_users();
    if (!count) throw CommandFailed{count.error().message};
    if (*count > 0) {
        std::error_code ec;
        if (std::filesystem::exists(file, ec)) {
            return fmt::format("  sign in:    user admin, password in {}\n", file.string());
        }
        return "  sign in:    as a user of `mayaflow users list`\n";
    }
    const std::string password = random_password();
    UserRow admin;
    admin.username = "admin";
    admin.first_name = "Admin";
    admin.last_name = "User";
    admin.email = "admin@localhost";
    admin.password_hash = hash_password(password);
    admin.roles = {"Admin"};
    admin.created_on = admin.changed_on = now_instant();
    write_password_file(file, password);
    auto created = store.create_user(admin);
    if (!created) throw CommandFailed{created.error().message};
    return fmt::format("  sign in:    user admin, password {} (shown this once; kept in {})\n", password, file.string());
}

bool api_auth_required() {
    const char* value = std::getenv("MAYAFLOW_API_AUTH");
    const std::string mode = value ? value : "";
    if (mode == "off") return false;
    if (mode.empty() || mode == "required" || mode == "on") return true;
    throw CommandFailed{fmt::format("MAYAFLOW_API_AUTH is \"{}\"; it takes `required` (the default) or `off`",
                                    escape_invalid_utf8(mode))};
}

std::unique_ptr<Authenticator> api_authenticator(UserStore& users, const Settings& settings, bool required) {
    if (!required) {
        spdlog::warn("MAYAFLOW_API_AUTH=off: the API and the UI take every request without credentials, as a "
                     "Viewer; do not expose this server");
        return std::make_unique<FixedRoleAuthenticator>(Role::viewer);
    }
    return std::make_unique<StoreAuthenticator>(
        users, StoreAuthenticatorOptions{.secure_cookies = settings.base_url.starts_with("https://")});
}

}  // namespace mayaflow::cli
