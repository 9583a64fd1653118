#include "engine/exec/direct_command.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>

namespace mayaflow {
namespace {

bool plain_character(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("_./:=,+@%- \t").find(c) != std::string_view::npos;
}

// Bash's builtins and reserved words (bash 5.2, `compgen -b -k`), less true and false.
bool shell_word(std::string_view word) {
    static constexpr std::array<std::string_view, 76> kWords = {
        ".", ":", "[", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command", "compgen",
        "complete", "compopt", "continue", "declare", "dirs", "disown", "echo", "enable", "eval", "exec",
        "exit", "export", "fc", "fg", "getopts", "hash", "help", "history", "jobs", "kill", "let", "local",
        "logout", "mapfile", "popd", "printf", "pushd", "pwd", "read", "readarray", "readonly", "return",
        "set", "shift", "shopt", "source", "suspend", "test", "times", "trap", "type", "typeset", "ulimit",
        "umask", "unalias", "unset", "wait", "if", "then", "else", "elif", "fi", "case", "esac", "for",
        "select", "while", "until", "do", "done", "in", "function", "time", "coproc"};
    return std::find(kWords.begin(), kWords.end(), word) != kWords.end();
}

std::optional<std::string> find_program(const std::string& name, const std::map<std::string, std::string>& env) {
    if (name.front() == '/') {
        std::error_code ignored;
        if (::access(name.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(name, ignored)) return name;
        return std::nullopt;
    }
    if (name.find('/') != std::string::npos) return std::nullopt;  // relative to the cwd: leave it to bash
    auto path = env.find("PATH");
    std::string_view dirs = path != env.end() ? std::string_view(path->second) : std::string_view("/usr/bin:/bin");
    while (true) {
        size_t colon = dirs.find(':');
        std::string_view dir = dirs.substr(0, colon);
        if (!dir.empty() && dir.front() == '/') {
            std::string candidate = std::string(dir) + "/" + name;
            std::error_code ignored;
            if (::access(candidate.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(candidate, ignored)) {
                return candidate;
            }
        }
        if (colon == std::string_view::npos) return std::nullopt;
        dirs.remove_prefix(colon + 1);
    }
}

}  // namespace

std::optional<std::vector<std::string>> direct_argv(std::string_view command,
                                                    const std::map<std::string, std::string>& env) {
    if (!std::all_of(command.begin(), command.end(), plain_character)) return std::nullopt;
    std::vector<std::string> words;
    size_t at = 0;
    while (at < command.size()) {
        size_t start = command.find_first_not_of(" \t", at);
        if (start == std::string_view::npos) break;
        size_t end = command.find_first_of(" \t", start);
        words.emplace_back(command.substr(start, end == std::string_view::npos ? end : end - start));
        at = end == std::string_view::npos ? command.size() : end;
    }
    if (words.empty() || shell_word(words[0]) || words[0].find('=') != std::string::npos) return std::nullopt;
    auto program = find_program(words[0], env);
    if (!program) return std::nullopt;  // not found: bash says so, and exits 127
    words[0] = *program;
    return words;
}

}  // namespace mayaflow
