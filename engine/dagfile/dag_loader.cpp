#include "engine/dagfile/dag_loader.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <new>

#include "engine/dagfile/dependency_resolver.h"
#include "engine/dagfile/field_reader.h"
#include "engine/dagfile/include_files.h"
#include "engine/dagfile/names.h"
#include "engine/dagfile/task_builder.h"
#include "engine/dagfile/text_encoding.h"
#include "engine/dagfile/yaml_documents.h"
#include "engine/time/cron_reading.h"
#include "engine/time/iso8601.h"
#include "engine/util/hash.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

const std::vector<std::string>& dag_field_names() {
    static const std::vector<std::string> names = {
        "dag_id",          "description",      "doc_md",         "schedule",   "timezone",
        "start_date",      "end_date",         "catchup",        "max_active_runs",
        "max_active_tasks", "dagrun_timeout",  "tags",           "params",     "default_args",
        "owner",           "is_paused_upon_creation", "tasks", "on_failure_callback", "on_success_callback"};
    return names;
}

// Hints for keys that Airflow or dag-factory users carry over.
std::string renamed_field_hint(const std::string& key) {
    if (key == "schedule_interval") return "; Airflow 2.4 renamed it: use 'schedule'";
    if (key == "concurrency") return "; use 'max_active_tasks'";
    if (key == "dependencies") return "; use 'depends_on'";
    if (key == "on_retry_callback") return "; a DAG run is not retried: set it on tasks or in default_args";
    return "";
}

class DagFileParser {
  public:
    DagFileParser(const std::filesystem::path& file, const DagLoadOptions& options)
        : file_(file), options_(options), reader_(file, options.dags_folder, result_.errors, result_.warnings) {}

    DagLoadResult parse(std::string_view text) {
        parse_text(text);
        reader_.finish();
        return std::move(result_);
    }

  private:
    void parse_text(std::string_view text) {
        if (!is_valid_utf8(file_.string())) {
            reader_.error(SourceLocation{file_.string(), 0, 0}, "",
                          "the file name is not UTF-8: rename the file (mayaflow's names are UTF-8 text)");
            return;
        }
        if (text.size() > kMaxDagFileBytes) {
            reader_.error(SourceLocation{file_.string(), 0, 0}, "",
                          fmt::format("file is {} bytes; DAG files may be at most {} bytes", text.size(),
                                      kMaxDagFileBytes));
            return;
        }
        if (auto bad = find_non_utf8(text)) {
            reader_.error(SourceLocation{file_.string(), bad->line, bad->column}, "",
                          fmt::format("the file is not UTF-8 ({}); save it as UTF-8", describe(*bad)));
            return;
        }
        YAML::Node root;
        try {
            // Counted first, without nodes: yaml-cpp's LoadAll never ends on some malformed texts
            // (yaml_documents.h).
            const YamlDocumentCount counted = may_hold_several_documents(text)
                                                  ? count_yaml_documents(text, kMaxYamlDocuments)
                                                  : YamlDocumentCount{.documents = 1};
            if (counted.documents > 1) {
                const SourceLocation second{file_.string(), counted.second_line, counted.second_column};
                if (counted.endless) {
                    reader_.error(second, "",
                                  "YAML syntax error: the YAML parser finds document after empty document here "
                                  "and never an end; a line that starts with '%' is a YAML directive, allowed "
                                  "only at the top of a document, before '---'");
                    return;
                }
                // A second document would be ignored without a word; say so instead.
                reader_.error(second, "",
                              fmt::format("the file holds {} YAML documents (separated by '---'); a DAG file holds "
                                          "one DAG: put each DAG in a file of its own",
                                          counted.documents));
                return;
            }
            if (counted.documents == 1) root = YAML::Load(std::string(text));
        } catch (const YAML::DeepRecursion& e) {
            reader_.error(mark_of(e), "",
                          fmt::format("the YAML is nested too deeply to read (more than 2000 levels of lists and "
                                      "mappings); flatten it — values may nest at most {} levels",
                                      kMaxValueDepth));
            return;
        } catch (const YAML::Exception& e) {
            reader_.error(mark_of(e), "", "YAML syntax error: " + e.msg);
            return;
        }
        if (!root.IsMap()) {
            reader_.error(SourceLocation{file_.string(), 1, 1}, "",
                          "a DAG file must be a mapping with at least 'tasks:' (see docs/dag-format.md)");
            return;
        }
        Dag dag;
        dag.dag_id = file_.stem().string();
        dag.fileloc = std::filesystem::absolute(file_).lexically_normal().string();
        read_fields(root, dag);
        result_.included_files = reader_.included_files();
        if (reader_.error_count() > 0) return;
        ContentHash hash;
        hash.add(text);
        hash.add(reader_.included_hash().hex());
        dag.source_hash = hash.hex();
        dag.index_tasks();
        result_.dag = std::move(dag);
    }

    SourceLocation mark_of(const YAML::Exception& e) const {
        return SourceLocation{file_.string(), e.mark.line >= 0 ? e.mark.line + 1 : 0,
                              e.mark.column >= 0 ? e.mark.column + 1 : 0};
    }

    void read_fields(const YAML::Node& root, Dag& dag) {
        auto entries = reader_.entries(root, "");
        std::map<std::string, const YamlEntry*> fields;
        for (const auto& entry : entries) {
            const auto& known = dag_field_names();
            if (std::find(known.begin(), known.end(), entry.key) == known.end()) {
                reader_.error(entry.key_node, entry.key,
                              fmt::format("unknown DAG field {}{}{}", quote_name(entry.key),
                                          did_you_mean(entry.key, known), renamed_field_hint(entry.key)));
                continue;
            }
            fields[entry.key] = &entry;
        }
        auto node = [&](const char* name) -> const YAML::Node* {
            auto it = fields.find(name);
            return it == fields.end() ? nullptr : &it->second->value;
        };

        if (auto* n = node("dag_id")) {
            if (auto id = reader_.string(*n, "dag_id")) dag.dag_id = *id;
        }
        if (dag.dag_id.size() > kMaxIdLength || !is_id_text(dag.dag_id)) {
            SourceLocation where = fields.count("dag_id") ? reader_.where(*node("dag_id")) : SourceLocation{file_.string(), 1, 1};
            reader_.error(where, "dag_id",
                          fmt::format("dag_id {} may contain only letters, digits, '_', '-' and '.', at most {} of "
                                      "them (it has {})",
                                      quote_for_message(dag.dag_id), kMaxIdLength, dag.dag_id.size()));
        }
        if (auto* n = node("description")) dag.description = reader_.string(*n, "description").value_or("");
        if (auto* n = node("doc_md")) dag.doc_md = reader_.string(*n, "doc_md").value_or("");
        if (auto* n = node("owner")) dag.owner = reader_.string(*n, "owner").value_or("");
        if (auto* n = node("timezone")) {
            if (auto name = reader_.string(*n, "timezone")) {
                auto zone = TimeZone::find(*name);
                if (zone) dag.timezone = *zone;
                else reader_.error(*n, "timezone", zone.error().message);
            }
        }
        if (auto* n = node("schedule")) {
            if (!n->IsNull()) {
                if (auto text = reader_.string(*n, "schedule")) {
                    auto schedule = Schedule::parse(*text);
                    if (schedule) {
                        dag.schedule = *schedule;
                        if (schedule->kind() == Schedule::Kind::cron) {
                            if (auto warning = cron_day_fields_warning(schedule->cron())) {
                                reader_.warn(reader_.where(*n), "schedule", *warning);
                            }
                            if (auto warning = cron_step_warning(schedule->cron().text())) {
                                reader_.warn(reader_.where(*n), "schedule", *warning);
                            }
                        }
                    } else {
                        reader_.error(*n, "schedule", schedule.error().message);
                    }
                }
            }
        }
        dag.start_date = read_date(node("start_date"), "start_date", dag.timezone);
        dag.end_date = read_date(node("end_date"), "end_date", dag.timezone);
        if (dag.start_date && dag.end_date && *dag.end_date < *dag.start_date) {
            reader_.error(*node("end_date"), "end_date", "end_date is before start_date");
        }
        if (auto* n = node("catchup")) dag.catchup = reader_.boolean(*n, "catchup").value_or(false);
        if (dag.catchup && !dag.start_date && dag.schedule.kind() != Schedule::Kind::none) {
            reader_.error(*node("catchup"), "catchup",
                          "catchup: true needs a start_date to know where to start catching up from");
        }
        if (auto* n = node("max_active_runs")) {
            dag.max_active_runs = static_cast<int>(reader_.integer(*n, "max_active_runs", 1, 100'000).value_or(16));
        }
        if (auto* n = node("max_active_tasks")) {
            dag.max_active_tasks = static_cast<int>(reader_.integer(*n, "max_active_tasks", 1, 1'000'000).value_or(16));
        }
        if (auto* n = node("dagrun_timeout")) {
            if (!n->IsNull()) dag.dagrun_timeout = reader_.duration(*n, "dagrun_timeout");
        }
        if (auto* n = node("is_paused_upon_creation")) {
            dag.is_paused_upon_creation = reader_.boolean(*n, "is_paused_upon_creation").value_or(false);
        }
        if (auto* n = node("tags")) {
            if (auto tags = reader_.string_list(*n, "tags")) dag.tags = *tags;
        }
        if (auto* n = node("params")) {
            if (!n->IsNull()) {
                auto params = reader_.json(*n, "params");
                if (params && !params->is_object()) {
                    reader_.error(*n, "params", "params must be a mapping of names to default values");
                } else if (params) {
                    dag.params = *params;
                }
            }
        }

        if (!options_.operators) {
            reader_.error(SourceLocation{file_.string(), 0, 0}, "", "internal error: no operator catalog given");
            return;
        }
        TaskBuilder builder(reader_, *options_.operators);
        std::string default_owner = dag.owner;
        if (auto* n = node("default_args")) {
            builder.set_default_args(*n, "default_args");
            if (n->IsMap() && (*n)["owner"] && (*n)["owner"].IsScalar() && default_owner.empty()) {
                default_owner = (*n)["owner"].Scalar();
            }
        }
        if (dag.owner.empty()) dag.owner = default_owner.empty() ? "airflow" : default_owner;
        builder.set_dag_owner(dag.owner);
        if (auto* n = node("on_failure_callback")) {
            dag.callbacks.on_failure = builder.read_callbacks(*n, "on_failure_callback", nlohmann::json::object());
        }
        if (auto* n = node("on_success_callback")) {
            dag.callbacks.on_success = builder.read_callbacks(*n, "on_success_callback", nlohmann::json::object());
        }
        auto* tasks = node("tasks");
        if (!tasks) {
            reader_.error(SourceLocation{file_.string(), 1, 1}, "tasks", "a DAG file needs a 'tasks:' list");
            return;
        }
        size_t errors_before = reader_.error_count();
        builder.add_tasks(*tasks, "tasks");
        if (reader_.error_count() != errors_before) return;
        dag.tasks = resolve_dependencies(builder.take(), reader_);
    }

    std::optional<Instant> read_date(const YAML::Node* node, const std::string& field, const TimeZone& zone) {
        if (!node || node->IsNull()) return std::nullopt;
        auto text = reader_.string(*node, field);
        if (!text) return std::nullopt;
        auto parsed = parse_datetime(*text, zone);
        if (!parsed) {
            reader_.error(*node, field, parsed.error().message);
            return std::nullopt;
        }
        return *parsed;
    }

    std::filesystem::path file_;
    const DagLoadOptions& options_;
    DagLoadResult result_;
    FieldReader reader_;
};

}  // namespace

// The loader must never take the daemon down: an exception that escapes it is a bug or an exhausted
// resource, and becomes this file's error rather than the end of the folder scan.
DagLoadResult failed_load(const std::filesystem::path& file, std::string message) {
    DagLoadResult result;
    result.errors.push_back(LoadError{SourceLocation{file.string(), 0, 0}, "", shorten_message(message, kMaxMessageBytes)});
    return result;
}

DagLoadResult load_dag_text(std::string_view text, const std::filesystem::path& file, const DagLoadOptions& options) {
    try {
        DagFileParser parser(file, options);
        return parser.parse(text);
    } catch (const std::bad_alloc&) {
        return failed_load(file, "loading the file needed more memory than is available");
    } catch (const std::exception& e) {
        return failed_load(file, fmt::format("internal error while loading: {}", e.what()));
    } catch (...) {
        return failed_load(file, "internal error while loading: an unknown exception");
    }
}

DagLoadResult load_dag_file(const std::filesystem::path& file, const DagLoadOptions& options) {
    try {
        auto text = read_file_at_most(file, kMaxDagFileBytes);
        if (!text) return failed_load(file, text.error().message);
        return load_dag_text(*text, file, options);
    } catch (const std::bad_alloc&) {
        return failed_load(file, "loading the file needed more memory than is available");
    } catch (const std::exception& e) {
        return failed_load(file, fmt::format("internal error while loading: {}", e.what()));
    } catch (...) {
        return failed_load(file, "internal error while loading: an unknown exception");
    }
}

}  // namespace mayaflow
