#include "engine/connections/secret_key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mayaflow {
namespace {

constexpr const char* kKeyFileHeader =
    "# mayaflow's secret key: it encrypts connection passwords, extras and variable values in the\n"
    "# database. Keep this file private and keep a copy: without it those values cannot be read.\n"
    "# The first key encrypts; any key listed decrypts. See docs/connections.md.\n";

std::string errno_text() {
    return std::strerror(errno);
}

Result<std::vector<SecretKey>> parse_keys(std::string_view text, const std::string& origin, char separator) {
    std::vector<SecretKey> keys;
    std::size_t start = 0, number = 0;
    while (start <= text.size()) {
        auto end = text.find(separator, start);
        if (end == std::string_view::npos) end = text.size();
        auto item = text.substr(start, end - start);
        ++number;
        start = end + 1;
        auto first = item.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || item[first] == '#') continue;
        auto key = parse_secret_key(item);
        if (!key) {
            return make_error("{}: key {}: {}", origin, number, key.error().message);
        }
        keys.push_back(std::move(*key));
    }
    if (keys.empty()) return make_error("{} holds no key", origin);
    return keys;
}

Status fsync_folder(const std::filesystem::path& folder) {
    int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return make_error("cannot open {} to sync it: {}", folder.string(), errno_text());
    int synced = ::fsync(fd);
    ::close(fd);
    if (synced != 0) return make_error("cannot sync {}: {}", folder.string(), errno_text());
    return Status::success();
}

Result<SecretKeyring> read_key_file(const std::filesystem::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        return make_error("cannot read {}: {}", path.string(), errno_text());
    if ((info.st_mode & 077) != 0) {
        return make_error(
            "the secret key file {} may be read by other users (mode {:04o}); make it private with "
            "`chmod 600 {}`",
            path.string(), info.st_mode & 07777, path.string());
    }
    std::ifstream file(path);
    if (!file) return make_error("cannot read {}: {}", path.string(), errno_text());
    std::stringstream text;
    text << file.rdbuf();
    auto keys = parse_keys(text.str(), path.string(), '\n');
    if (!keys) return keys.error();
    return SecretKeyring(std::move(*keys), path.string());
}

}  // namespace

std::filesystem::path secret_key_file_path(const std::filesystem::path& home) {
    return home / "secret.key";
}

namespace {

// Writes `keys` to a new private file beside `path` and syncs it; returns the file's path.
Result<std::filesystem::path> write_temporary_key_file(const std::filesystem::path& path,
                                                       const std::vector<SecretKey>& keys) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return make_error("cannot create {}: {}", path.parent_path().string(), ec.message());
    auto temporary = path;
    temporary += ".new." + std::to_string(::getpid());
    ::unlink(temporary.c_str());
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return make_error("cannot create {}: {}", temporary.string(), errno_text());
    std::string text = kKeyFileHeader;
    for (const auto& key : keys) text += format_secret_key(key) + "\n";
    std::string_view rest = text;
    while (!rest.empty()) {
        auto written = ::write(fd, rest.data(), rest.size());
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) {
            auto message = errno_text();
            ::close(fd);
            ::unlink(temporary.c_str());
            return make_error("cannot write {}: {}", temporary.string(), message);
        }
        rest.remove_prefix(static_cast<std::size_t>(written));
    }
    if (::fsync(fd) != 0) {
        auto message = errno_text();
        ::close(fd);
        ::unlink(temporary.c_str());
        return make_error("cannot sync {}: {}", temporary.string(), message);
    }
    ::close(fd);
    return temporary;
}

// Puts a first key file in place unless another process was quicker (link() never replaces).
Status create_secret_key_file(const std::filesystem::path& path, const SecretKey& key) {
    auto temporary = write_temporary_key_file(path, {key});
    if (!temporary) return temporary.error();
    int linked = ::link(temporary->c_str(), path.c_str());
    int link_errno = errno;
    ::unlink(temporary->c_str());
    if (linked != 0 && link_errno != EEXIST) {
        return make_error("cannot create {}: {}", path.string(), std::strerror(link_errno));
    }
    return fsync_folder(path.parent_path());
}

}  // namespace

Status write_secret_key_file(const std::filesystem::path& path, const std::vector<SecretKey>& keys) {
    auto temporary = write_temporary_key_file(path, keys);
    if (!temporary) return temporary.error();
    if (::rename(temporary->c_str(), path.c_str()) != 0) {
        auto message = errno_text();
        ::unlink(temporary->c_str());
        return make_error("cannot replace {}: {}", path.string(), message);
    }
    return fsync_folder(path.parent_path());
}

Result<SecretKeyring> load_secret_keyring(const std::map<std::string, std::string>& environment,
                                          const std::filesystem::path& home, bool create_if_missing) {
    if (auto variable = environment.find(kSecretKeyVariable);
        variable != environment.end() && !variable->second.empty()) {
        auto keys = parse_keys(variable->second, kSecretKeyVariable, ',');
        if (!keys) return keys.error();
        return SecretKeyring(std::move(*keys), kSecretKeyVariable);
    }
    auto path = secret_key_file_path(home);
    if (std::filesystem::exists(path)) return read_key_file(path);
    if (!create_if_missing) return SecretKeyring({}, path.string());
    auto key = generate_secret_key();
    if (!key) return key.error();
    auto created = create_secret_key_file(path, *key);
    if (!created) return created.error();
    return read_key_file(path);
}

}  // namespace mayaflow
