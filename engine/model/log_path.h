#pragma once
// Where a try's log lives: <logs>/dag_id=<dag>/run_id=<run>/task_id=<task>/attempt=<n>.log, the
// layout Airflow uses. Run ids are written as they are (':' included, as Airflow does), except the
// bytes a folder name cannot hold or that would make two ids share a folder: '/', '%' and control
// characters are written as %XX, so every run id has a folder of its own. A name longer than a file
// system allows (255 bytes) is shortened and ends in a hash of the whole id.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace mayaflow {

// File systems hold at most 255 bytes in one name.
inline constexpr std::size_t kMaxFileNameBytes = 255;

// A stable 64-bit hash (FNV-1a) that tells long ids apart after they are shortened.
inline std::uint64_t log_name_hash(std::string_view text) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

inline std::string log_folder_name(std::string_view prefix, std::string_view id) {
    std::string name(prefix);
    // Where the name may be cut: before each character, never inside a UTF-8 sequence or a %XX.
    std::size_t last_cut_that_fits = name.size();
    constexpr std::size_t kHashSuffixBytes = 17;  // '~' and 16 hex digits
    for (char c : id) {
        auto byte = static_cast<unsigned char>(c);
        const bool continues_a_character = (byte & 0xC0) == 0x80;
        if (!continues_a_character && name.size() + kHashSuffixBytes <= kMaxFileNameBytes) {
            last_cut_that_fits = name.size();
        }
        if (c == '/' || c == '%' || byte < 0x20 || byte == 0x7f) {
            name += fmt::format("%{:02X}", byte);
        } else {
            name += c;
        }
    }
    if (name.size() <= kMaxFileNameBytes) return name;
    // Too long for one folder name (a 250-character id, or a run id full of escapes): keep what
    // fits and add a hash of the whole id, so two long ids that share a beginning stay apart.
    name.resize(last_cut_that_fits);
    return name + fmt::format("~{:016x}", log_name_hash(id));
}

inline std::filesystem::path task_log_path(const std::filesystem::path& logs_folder, const std::string& dag_id,
                                           const std::string& run_id, const std::string& task_id, int try_number) {
    return logs_folder / log_folder_name("dag_id=", dag_id) / log_folder_name("run_id=", run_id) /
           log_folder_name("task_id=", task_id) / fmt::format("attempt={}.log", try_number);
}

}  // namespace mayaflow
