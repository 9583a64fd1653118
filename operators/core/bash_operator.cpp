#include "operators/core/bash_operator.h"

#include <stdlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>
#include <vector>

#include "engine/time/iso8601.h"

namespace mayaflow {

namespace {

namespace fs = std::filesystem;

const OperatorSpec& spec() {
    static const OperatorSpec bash = bash_operator_spec();
    return bash;
}

// The parameters that decide how an exit code and the output are read. Neither is templated, so a resumed
// try reads them from the task as written.
struct OutputRules {
    std::vector<int> skip_on_exit_code;
    bool latin1 = false;
};

OutputRules output_rules(const nlohmann::json& params) {
    OutputRules rules;
    const nlohmann::json skip = params.value("skip_on_exit_code", nlohmann::json::array({99}));
    if (skip.is_number_integer()) rules.skip_on_exit_code.push_back(skip.get<int>());
    if (skip.is_array()) {
        for (const auto& code : skip) {
            if (code.is_number_integer()) rules.skip_on_exit_code.push_back(code.get<int>());
        }
    }
    const auto encoding = params.find("output_encoding");
    rules.latin1 = encoding != params.end() && *encoding == "latin-1";
    return rules;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The length of the valid UTF-8 sequence at text[at], or 0 when it is not one (overlong forms, surrogates
// and code points past U+10FFFF are not).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(at);
    if (lead < 0x80) return 1;
    // The sequence's length and the range its second byte must be in (Unicode's table of well-formed UTF-8).
    struct Form {
        std::size_t length;
        unsigned char low, high;
    };
    Form form{0, 0x80, 0xBF};
    if (lead >= 0xC2 && lead <= 0xDF) {
        form = {2, 0x80, 0xBF};
    } else if (lead == 0xE0) {
        form = {3, 0xA0, 0xBF};
    } else if (lead == 0xED) {
        form = {3, 0x80, 0x9F};  // no surrogates
    } else if (lead >= 0xE1 && lead <= 0xEF) {
        form = {3, 0x80, 0xBF};
    } else if (lead == 0xF0) {
        form = {4, 0x90, 0xBF};
    } else if (lead >= 0xF1 && lead <= 0xF3) {
        form = {4, 0x80, 0xBF};
    } else if (lead == 0xF4) {
        form = {4, 0x80, 0x8F};  // nothing past U+10FFFF
    } else {
        return 0;
    }
    const std::size_t length = form.length;
    if (at + length > text.size()) return 0;
    if (byte(at + 1) < form.low || byte(at + 1) > form.high) return 0;
    for (std::size_t i = 2; i < length; ++i) {
        if ((byte(at + i) & 0xC0) != 0x80) return 0;
    }
    return length;
}

// The command's output as UTF-8 text: latin-1 maps each byte to its code point; invalid UTF-8 bytes become
// U+FFFD, as Python's errors="replace" does. (JSON, and so the result value, holds only valid UTF-8.)
std::string decode_output(std::string_view raw, bool latin1) {
    std::string text;
    text.reserve(raw.size());
    for (std::size_t at = 0; at < raw.size();) {
        if (latin1) {
            append_utf8(text, static_cast<unsigned char>(raw[at++]));
            continue;
        }
        const std::size_t length = utf8_sequence_length(raw, at);
        if (length == 0) {
            text += "\xEF\xBF\xBD";
            ++at;
        } else {
            text.append(raw.substr(at, length));
            at += length;
        }
    }
    return text;
}

// The environment of the command: the task's env (with append_env, over the daemon's) or else the daemon's,
// then Airflow's context variables and mayaflow's names for them, as Airflow's BashOperator does.
std::map<std::string, std::string> command_environment(const TaskRun& run, const nlohmann::json& params) {
    std::map<std::string, std::string> env;
    const auto given = params.find("env");
    if (given != params.end() && given->is_object()) {
        const auto append = params.find("append_env");
        if (append != params.end() && *append == true) env = run.base_environment;
        for (const auto& [name, value] : given->items()) {
            env.insert_or_assign(name, value.is_string() ? value.get<std::string>() : value.dump());
        }
    } else {
        env = run.base_environment;
    }
    const tmpl::RunInfo& info = run.run_info;
    const std::string logical_date =
        info.logical_date ? format_iso8601(*info.logical_date, TimeZone::utc()) : std::string();
    const std::pair<const char*, std::string> context[] = {
        {"DAG_ID", info.dag_id},
        {"TASK_ID", run.task.task_id},
        {"LOGICAL_DATE", logical_date},
        {"DAG_RUN_ID", info.run_id},
        {"TRY_NUMBER", std::to_string(run.try_number)},
        {"DAG_OWNER", run.task.owner},
    };
    for (const auto& [name, value] : context) {
        if (value.empty()) continue;
        env.insert_or_assign(std::string("AIRFLOW_CTX_") + name, value);
        env.insert_or_assign(std::string("MAYAFLOW_") + name, value);
    }
    return env;
}

// Whether `folder` holds nothing (false when it cannot be read).
bool is_empty_folder(const fs::path& folder) {
    std::error_code error;
    fs::directory_iterator entries(folder, error);
    return !error && entries == fs::directory_iterator();
}

// A worker thread's working folder from its last try, left empty, for its next try: making and
// removing a folder for every try costs more than a `true` command itself on a busy file system
// (ext4 searches past recently freed inodes). Removed when the thread ends.
struct SpareFolder {
    fs::path root;
    fs::path path;
    ~SpareFolder() {
        std::error_code ignored;
        if (!path.empty()) fs::remove(path, ignored);
    }
};
thread_local SpareFolder spare_folder;

// A private, empty working folder for one try, removed with everything in it when the try ends (or,
// when the command left it empty, kept for the thread's next try).
class TempDir {
  public:
    static Result<TempDir> make(const fs::path& root) {
        if (!spare_folder.path.empty() && spare_folder.root == root) {
            fs::path spare = std::exchange(spare_folder.path, {});
            if (is_empty_folder(spare)) return TempDir(root, std::move(spare));
            remove(spare);
        }
        std::error_code error;
        const fs::path base = root.empty() ? fs::temp_directory_path(error) : root;
        if (error) {
            return make_error("cannot find the temporary folder for the task's working folder: {}",
                              error.message());
        }
        std::string pattern = (base / (std::string(kBashTempDirPrefix) + "XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            return make_error(
                "cannot make a temporary working folder in \"{}\": {}; check that it exists and is writable, "
                "or set the task's cwd",
                base.string(), std::error_code(errno, std::generic_category()).message());
        }
        fs::path path = fs::weakly_canonical(pattern, error);
        return TempDir(root, error ? fs::path(pattern) : path);
    }
    TempDir(TempDir&& other) noexcept
        : root_(std::move(other.root_)), path_(std::exchange(other.path_, {})) {}
    TempDir& operator=(TempDir&&) = delete;
    ~TempDir() {
        if (path_.empty()) return;
        if (!is_empty_folder(path_)) {
            remove(path_);
            return;
        }
        remove(spare_folder.path);  // one of another root, normally none
        spare_folder.root = root_;
        spare_folder.path = std::move(path_);
    }

    const fs::path& path() const { return path_; }

    static void remove(const fs::path& path) {
        if (path.empty()) return;
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }

  private:
    TempDir(fs::path root, fs::path path) : root_(std::move(root)), path_(std::move(path)) {}
    fs::path root_;
    fs::path path_;
};

// Whether `folder` is a temporary working folder this operator made in `root`.
bool is_our_temp_dir(const fs::path& folder, const fs::path& root) {
    if (folder.empty() || !folder.filename().string().starts_with(kBashTempDirPrefix)) return false;
    std::error_code error;
    const fs::path base = root.empty() ? fs::temp_directory_path(error) : root;
    if (error) return false;
    return fs::weakly_canonical(base, error) == folder.parent_path() && !error;
}

OperatorResult result_of(const ShellEnd& end, const TaskRun& run, const OutputRules& rules) {
    if (std::optional<OperatorResult> unfinished = result_without_exit(end, run)) return *unfinished;

    const int code = *end.exit_code;
    OperatorResult result;
    result.exit_code = code;
    const auto& skip = rules.skip_on_exit_code;
    if (std::find(skip.begin(), skip.end(), code) != skip.end()) {
        result.outcome = TaskOutcome::skipped;
        result.message = fmt::format("exit code {} (in skip_on_exit_code)", code);
    } else if (code == 0) {
        result.outcome = TaskOutcome::success;
        result.message = "exit code 0";
        if (std::optional<std::string> line = last_output_line(run.log_file, end.output_start)) {
            result.value = decode_output(*line, rules.latin1);
        }
    } else {
        result.outcome = TaskOutcome::failed;
        result.message = fmt::format("exit code {}", code);
    }
    return result;
}

}  // namespace

OperatorSpec bash_operator_spec() {
    OperatorSpec spec;
    spec.name = "bash";
    spec.description = "Runs a command with bash; exit code 0 is success, skip_on_exit_code is skipped.";
    spec.params = {
        ParamSpec{.name = "bash_command",
                  .type = ParamType::string,
                  .required = true,
                  .templated = true,
                  .template_ext = {".sh", ".bash"},
                  .help = "the command, or a .sh file next to the DAG file"},
        ParamSpec{.name = "env",
                  .type = ParamType::string_map,
                  .templated = true,
                  .help = "environment variables for the command"},
        ParamSpec{.name = "append_env",
                  .type = ParamType::boolean,
                  .default_value = false,
                  .help = "with env: keep the daemon's environment and add env to it"},
        ParamSpec{.name = "cwd",
                  .type = ParamType::string,
                  .templated = true,
                  .help = "working directory; a fresh temporary directory when unset"},
        ParamSpec{.name = "skip_on_exit_code",
                  .type = ParamType::integer_or_list,
                  .default_value = nlohmann::json::array({99}),
                  .help = "exit codes that mark the task skipped instead of failed"},
        ParamSpec{.name = "output_encoding",
                  .type = ParamType::string,
                  .default_value = "utf-8",
                  .allowed_values = {"utf-8", "latin-1"},
                  .help = "how to read the command's output"},
    };
    return spec;
}

BashOperator::BashOperator(BashOptions options) : options_(std::move(options)) {}

void BashOperator::cancel() {
    cancel_.raise();
}

OperatorResult BashOperator::execute(const TaskRun& run) {
    if (cancel_.raised()) return logged_result(run, cancelled_result());
    Result<nlohmann::json> params = render_templated_params(spec(), run.task, make_task_context(run));
    if (!params) return logged_result(run, failed_result(params.error().message));

    const auto command_text = params->find("bash_command");
    if (command_text == params->end() || !command_text->is_string()) {
        return logged_result(run, failed_result("bash_command must be a string holding the command to run"));
    }
    ShellCommand command{.command = command_text->get<std::string>(),
                         .env = command_environment(run, *params)};
    std::optional<TempDir> temp_dir;
    const auto cwd = params->find("cwd");
    if (cwd != params->end() && cwd->is_string() && !cwd->get_ref<const std::string&>().empty()) {
        command.cwd = cwd->get<std::string>();
    } else {
        Result<TempDir> made = TempDir::make(options_.temp_root);
        if (!made) return logged_result(run, failed_result(made.error().message));
        temp_dir.emplace(std::move(*made));
        command.cwd = temp_dir->path();
    }

    Result<ShellEnd> end = run_shell_command(command, run, cancel_, options_.kill_grace);
    if (!end) return logged_result(run, failed_result(end.error().message));
    return logged_result(run, result_of(*end, run, output_rules(*params)));
}

OperatorResult BashOperator::resume(const TaskRun& run, const StartedProcess& recorded) {
    Result<ShellEnd> end = resume_shell_command(run, recorded, cancel_, options_.kill_grace);
    if (!end) return logged_result(run, failed_result(end.error().message));
    if (end->adopted && is_our_temp_dir(end->adopted_cwd, options_.temp_root))
        TempDir::remove(end->adopted_cwd);
    return logged_result(run, result_of(*end, run, output_rules(run.task.params)));
}

}  // namespace mayaflow
