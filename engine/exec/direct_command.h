#pragma once
// Whether a shell command can run without a shell, as make decides it: plain words (no quoting,
// expansion, redirection, globbing or separators), a first word that is a program on PATH and not a
// shell builtin or keyword (bar `true` and `false`, which do the same either way), and no variable
// assignment. Then bash would only split the words and exec the program, so the program is started
// directly, one process instead of two.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mayaflow {

// The argv to exec for `command` with the environment `env` (its PATH; "/usr/bin:/bin" without one),
// with the program's path resolved; nullopt when the command needs bash.
std::optional<std::vector<std::string>> direct_argv(std::string_view command,
                                                    const std::map<std::string, std::string>& env);

}  // namespace mayaflow
