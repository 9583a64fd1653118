#include "operators/gcp/gcs_to_bigquery_operator.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/connections/python_json.h"
#include "engine/http/http_message.h"
#include "engine/util/text.h"
#include "operators/gcp/bigquery_table_ref.h"

namespace mayaflow::gcp {
namespace {

constexpr const char* kFormats[] = {"CSV", "NEWLINE_DELIMITED_JSON", "AVRO", "PARQUET", "ORC", "DATASTORE_BACKUP"};
constexpr const char* kFieldTypes[] = {"STRING",  "BYTES",     "INTEGER", "INT64",    "FLOAT",     "FLOAT64", "NUMERIC",
                                       "BIGNUMERIC", "BOOLEAN", "BOOL",    "TIMESTAMP", "DATE",      "TIME",
                                       "DATETIME", "GEOGRAPHY", "JSON",    "RECORD",   "STRUCT",    "RANGE"};

// A schema as BigQuery's TableSchema fields: each {name, type, mode?, description?, fields?}. Checked
// here so that a typo is the task's error with the field's place, not a job that fails later.
Status check_schema_fields(const nlohmann::json& fields, const std::string& where, int depth = 0) {
    if (depth > 15) return make_error("{}: records nest at most 15 levels", where);
    if (!fields.is_array() || fields.empty()) return make_error("{} must be a list of fields: [{{name, type}}, …]", where);
    for (size_t i = 0; i < fields.size(); ++i) {
        const auto& field = fields[i];
        const std::string at = fmt::format("{}[{}]", where, i);
        if (!field.is_object()) return make_error("{} must be a mapping {{name, type, mode}}", at);
        for (const auto& [key, value] : field.items()) {
            static const std::vector<std::string> known = {"name", "type", "mode", "description", "fields",
                                                           "policyTags", "maxLength", "precision", "scale",
                                                           "defaultValueExpression", "collation", "roundingMode",
                                                           "rangeElementType"};
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                return make_error("{}: unknown key {}{}", at, quote_name(key), did_you_mean(key, known));
            }
            (void)value;
        }
        if (!field.contains("name") || !field["name"].is_string() || field["name"].get<std::string>().empty()) {
            return make_error("{} needs a name", at);
        }
        if (!field.contains("type") || !field["type"].is_string()) return make_error("{} needs a type", at);
        std::string type = field["type"].get<std::string>();
        for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (std::find(std::begin(kFieldTypes), std::end(kFieldTypes), type) == std::end(kFieldTypes)) {
            return make_error("{}: type {} is not a BigQuery type (STRING, INTEGER, FLOAT, NUMERIC, BOOLEAN, "
                              "TIMESTAMP, DATE, TIME, DATETIME, JSON, RECORD …)",
                              at, quote_for_message(field["type"].get<std::string>()));
        }
        if (field.contains("mode")) {
            const auto& mode = field["mode"];
            if (!mode.is_string() ||
                (mode != "NULLABLE" && mode != "REQUIRED" && mode != "REPEATED" && mode != "nullable" &&
                 mode != "required" && mode != "repeated")) {
                return make_error("{}: mode must be NULLABLE, REQUIRED or REPEATED", at);
            }
        }
        const bool record = type == "RECORD" || type == "STRUCT";
        if (record) {
            if (!field.contains("fields")) return make_error("{}: a RECORD needs its fields", at);
            if (Status nested = check_schema_fields(field["fields"], at + ".fields", depth + 1); !nested) return nested;
        }
    }
    return Status::success();
}

}  // namespace

OperatorSpec gcs_to_bigquery_operator_spec() {
    OperatorSpec spec;
    spec.name = "gcs_to_bigquery";
    spec.description = "Loads files from Cloud Storage into a BigQuery table (or one partition of it) with one load job.";
    spec.params = gcp_common_params();
    auto add = [&spec](ParamSpec param) { spec.params.push_back(std::move(param)); };
    add({.name = "bucket", .type = ParamType::string, .required = true, .templated = true});
    add({.name = "source_objects", .type = ParamType::string_list, .required = true, .templated = true,
         .help = "Object names in the bucket; one '*' each is allowed (BigQuery's rule)"});
    add({.name = "destination_project_dataset_table", .type = ParamType::string, .required = true, .templated = true,
         .help = "project.dataset.table or dataset.table, with a partition decorator such as $20240101"});
    add({.name = "schema_fields", .type = ParamType::list, .templated = true});
    add({.name = "schema_object", .type = ParamType::string, .templated = true,
         .help = "A JSON file in the bucket holding the schema's fields"});
    add({.name = "schema_object_bucket", .type = ParamType::string, .templated = true});
    add({.name = "autodetect", .type = ParamType::boolean, .default_value = true});
    add({.name = "source_format", .type = ParamType::string, .default_value = "CSV",
         .allowed_values = {std::begin(kFormats), std::end(kFormats)}});
    add({.name = "compression", .type = ParamType::string, .default_value = "NONE", .allowed_values = {"NONE", "GZIP"},
         .help = "BigQuery reads .gz files as they are; kept for Airflow DAGs"});
    add({.name = "create_disposition", .type = ParamType::string, .default_value = "CREATE_IF_NEEDED",
         .allowed_values = {"CREATE_IF_NEEDED", "CREATE_NEVER"}});
    add({.name = "write_disposition", .type = ParamType::string, .default_value = "WRITE_EMPTY",
         .allowed_values = {"WRITE_EMPTY", "WRITE_TRUNCATE", "WRITE_APPEND"}});
    add({.name = "skip_leading_rows", .type = ParamType::integer});
    add({.name = "field_delimiter", .type = ParamType::string, .default_value = ","});
    add({.name = "quote_character", .type = ParamType::string});
    add({.name = "encoding", .type = ParamType::string, .default_value = "UTF-8",
         .allowed_values = {"UTF-8", "ISO-8859-1", "UTF-16BE", "UTF-16LE", "UTF-32BE", "UTF-32LE"}});
    add({.name = "allow_quoted_newlines", .type = ParamType::boolean, .default_value = false});
    add({.name = "allow_jagged_rows", .type = ParamType::boolean, .default_value = false});
    add({.name = "max_bad_records", .type = ParamType::integer, .default_value = 0});
    add({.name = "ignore_unknown_values", .type = ParamType::boolean, .default_value = false});
    add({.name = "time_partitioning", .type = ParamType::map, .templated = true});
    add({.name = "cluster_fields", .type = ParamType::string_list, .templated = true});
    add({.name = "schema_update_options", .type = ParamType::string_list,
         .help = "ALLOW_FIELD_ADDITION, ALLOW_FIELD_RELAXATION"});
    return spec;
}

const OperatorSpec& GcsToBigQueryOperator::spec() const {
    static const OperatorSpec spec = gcs_to_bigquery_operator_spec();
    return spec;
}

Result<BigQueryJobOperator::JobPlan> GcsToBigQueryOperator::plan(const nlohmann::json& params,
                                                                const GcpConnection& connection, GoogleApi& api) const {
    auto planned = plan_in_project(params, connection);
    if (!planned) return planned.error();
    JobPlan plan = std::move(*planned);
    const std::string bucket = params.value("bucket", std::string());
    if (bucket.empty() || bucket.find('/') != std::string::npos) {
        return make_error("bucket {} is not a bucket name (no gs://, no '/')", quote_for_message(bucket));
    }
    nlohmann::json uris = nlohmann::json::array();
    for (const auto& object : params.value("source_objects", nlohmann::json::array())) {
        const std::string name = object.get<std::string>();
        if (name.empty()) return make_error("source_objects holds an empty name");
        if (std::count(name.begin(), name.end(), '*') > 1) {
            return make_error("source_objects {}: BigQuery allows one '*' per object name", quote_for_message(name));
        }
        uris.push_back(fmt::format("gs://{}/{}", bucket, name));
    }
    if (uris.empty()) return make_error("source_objects is empty: name at least one object");
    auto table = parse_table_reference(params.value("destination_project_dataset_table", std::string()), plan.project,
                                       "destination_project_dataset_table");
    if (!table) return table.error();

    const std::string format = params.value("source_format", "CSV");
    nlohmann::json load = {{"sourceUris", uris},
                           {"sourceFormat", format},
                           {"destinationTable", table->to_json()},
                           {"createDisposition", params.value("create_disposition", "CREATE_IF_NEEDED")},
                           {"writeDisposition", params.value("write_disposition", "WRITE_EMPTY")},
                           {"maxBadRecords", params.value("max_bad_records", 0)},
                           {"ignoreUnknownValues", params.value("ignore_unknown_values", false)}};
    if (params.value("max_bad_records", 0) < 0) return make_error("max_bad_records must be 0 or more");

    nlohmann::json fields = params.value("schema_fields", nlohmann::json());
    if (auto object = params.value("schema_object", std::string()); !object.empty()) {
        if (!fields.is_null()) return make_error("give schema_fields or schema_object, not both");
        std::string schema_bucket = params.value("schema_object_bucket", std::string());
        if (schema_bucket.empty()) schema_bucket = bucket;
        const std::string url = fmt::format("{}/storage/v1/b/{}/o/{}?alt=media", connection.endpoints.storage,
                                            url_encode(schema_bucket), url_encode(object));
        ApiAnswer answer = api.call_and_wait("GET", url, fmt::format("reading schema_object gs://{}/{}", schema_bucket, object), true);
        if (!answer.ok()) return make_error("{}", answer.error);
        fields = pyjson::parse_or_discarded(answer.raw_body);
        if (fields.is_object() && fields.contains("fields")) fields = fields["fields"];
        if (fields.is_discarded()) {
            return make_error("schema_object gs://{}/{} is not JSON: it must hold a list of fields", schema_bucket, object);
        }
    }
    if (!fields.is_null()) {
        Status checked = check_schema_fields(fields, params.contains("schema_object") ? "schema_object" : "schema_fields");
        if (!checked) return checked.error();
        load["schema"] = {{"fields", fields}};
    } else if (params.value("autodetect", true)) {
        if (format == "CSV" || format == "NEWLINE_DELIMITED_JSON") load["autodetect"] = true;
    } else if (format == "CSV" || format == "NEWLINE_DELIMITED_JSON") {
        return make_error("no schema: give schema_fields or schema_object, or set autodetect: true");
    }
    if (format == "CSV") {
        if (params.contains("skip_leading_rows")) {
            const long long skip = params["skip_leading_rows"].get<long long>();
            if (skip < 0) return make_error("skip_leading_rows must be 0 or more");
            load["skipLeadingRows"] = skip;
        }
        load["fieldDelimiter"] = params.value("field_delimiter", ",");
        if (params.contains("quote_character")) load["quote"] = params["quote_character"];
        load["encoding"] = params.value("encoding", "UTF-8");
        load["allowQuotedNewlines"] = params.value("allow_quoted_newlines", false);
        load["allowJaggedRows"] = params.value("allow_jagged_rows", false);
    }
    add_table_layout(params, load);
    if (params.contains("schema_update_options") && !params["schema_update_options"].empty()) {
        for (const auto& option : params["schema_update_options"]) {
            if (option != "ALLOW_FIELD_ADDITION" && option != "ALLOW_FIELD_RELAXATION") {
                return make_error("schema_update_options: {} is neither ALLOW_FIELD_ADDITION nor ALLOW_FIELD_RELAXATION",
                                  option.dump());
            }
        }
        load["schemaUpdateOptions"] = params["schema_update_options"];
    }
    plan.configuration = {{"load", load}};
    return plan;
}

}  // namespace mayaflow::gcp
