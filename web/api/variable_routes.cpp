// /variables: Airflow's variables, kept sealed at rest through SecretsRepository. A value whose key
// is a sensitive name (Airflow's should_hide_value_for_key) is answered as "***", and a JSON value's
// members under sensitive keys likewise; lists answer keys and descriptions only, as Airflow's do.

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/connections/secret_masker.h"
#include "engine/connections/sensitive_fields.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/secrets_answers.h"

namespace mayaflow {
namespace {

// The value as an answer may show it.
std::string shown_value(const Variable& variable) {
    if (is_sensitive_name(variable.key)) return "***";
    auto parsed = pyjson::loads(variable.value);
    if (parsed && (parsed->is_object() || parsed->is_array())) {
        auto redacted = redact_sensitive_fields(*parsed);
        if (redacted != *parsed) return pyjson::dumps(redacted);
    }
    return variable.value;
}

nlohmann::json variable_json(const Variable& variable) {
    return {{"key", variable.key},
            {"value", shown_value(variable)},
            {"description", variable.description ? nlohmann::json(*variable.description) : nlohmann::json()}};
}

std::string quoted_name(const std::string& key) { return "'" + escape_invalid_utf8(key) + "'"; }

WebResponse variable_not_found(const std::string& key) {
    return not_found(fmt::format("no variable with key {}; GET /api/v1/variables lists them", quoted_name(key)));
}

struct VariableFields {
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::optional<std::string> description;
    bool description_given = false;
};

Read<VariableFields> read_variable_fields(const nlohmann::json& body) {
    VariableFields fields;
    for (auto [name, target] : {std::pair{"key", &fields.key}, std::pair{"value", &fields.value},
                                std::pair{"description", &fields.description}}) {
        auto text = string_field(body, name);
        if (failed(text)) return std::get<WebResponse>(text);
        *target = std::get<std::optional<std::string>>(text);
    }
    fields.description_given = body.contains("description");
    if (fields.key) {
        if (Status valid = validate_variable_key(*fields.key); !valid) return bad_request(valid.error().message);
    }
    return fields;
}

// Writes the variable, registers its secrets with the process's masker (so that no log line shows
// them from now on), and answers with it.
WebResponse write_variable(SecretsRepository& secrets, const Variable& variable) {
    if (Status valid = validate_variable_for_storage(variable); !valid) return bad_request(valid.error().message);
    if (Status written = secrets.put_variables({variable}); !written) return secrets_unavailable(written.error());
    (void)mask_variable_secret(process_secret_masker(), variable.key, variable.value);
    return json_response(variable_json(variable));
}

WebResponse list_variables(ApiContext& context, const ApiRequest& request) {
    auto page = read_page(request);
    if (failed(page)) return std::get<WebResponse>(page);
    // Airflow's default order is `id`, the order of creation; a variable's key is its id here.
    auto order = read_order_by(request, {"key", "description", "id"}, Ordering{"key", false});
    if (failed(order)) return std::get<WebResponse>(order);
    if (std::get<Ordering>(order).field == "id") std::get<Ordering>(order).field = "key";
    // Keys and descriptions are stored in clear: the list opens no value.
    auto rows = context.connection_store.list_variables();
    if (!rows) return store_unavailable(rows.error());
    const auto& ordering = std::get<Ordering>(order);
    std::stable_sort(rows->begin(), rows->end(), [&](const VariableRow& a, const VariableRow& b) {
        auto field = [&](const VariableRow& row) {
            return ordering.field == "description" ? std::pair{row.description.value_or(""), row.key}
                                                   : std::pair{row.key, std::string()};
        };
        return ordering.descending ? field(b) < field(a) : field(a) < field(b);
    });
    auto convert = [](const VariableRow& row) {
        return nlohmann::json{{"key", row.key},
                              {"description", row.description ? nlohmann::json(*row.description) : nlohmann::json()}};
    };
    return json_response({{"variables", page_of(*rows, std::get<Page>(page), convert)}, {"total_entries", rows->size()}});
}

WebResponse get_variable(ApiContext& context, const ApiRequest& request) {
    auto* secrets = secrets_or_null(context);
    if (!secrets) return no_keyring();
    const auto& key = request.param("variable_key");
    auto variable = secrets->find_variable(key);
    if (!variable) return secrets_unavailable(variable.error());
    if (!*variable) return variable_not_found(key);
    return json_response(variable_json(**variable));
}

WebResponse create_variable(ApiContext& context, const ApiRequest& request) {
    auto* secrets = secrets_or_null(context);
    if (!secrets) return no_keyring();
    auto body = read_json_object(request, {"key", "value", "description"});
    if (failed(body)) return std::get<WebResponse>(body);
    auto fields = read_variable_fields(std::get<nlohmann::json>(body));
    if (failed(fields)) return std::get<WebResponse>(fields);
    auto& given = std::get<VariableFields>(fields);
    if (!given.key) return bad_request("'key' is required: the variable's key");
    if (!given.value) return bad_request("'value' is required: the variable's value, as a string");
    auto existing = context.connection_store.find_variable(*given.key);
    if (!existing) return store_unavailable(existing.error());
    if (*existing) {
        return conflict(fmt::format("variable {} already exists; PATCH /api/v1/variables/{{variable_key}} changes it",
                                    quoted_name(*given.key)));
    }
    return write_variable(*secrets, Variable{*given.key, *given.value, given.description});
}

WebResponse update_variable(ApiContext& context, const ApiRequest& request) {
    auto* secrets = secrets_or_null(context);
    if (!secrets) return no_keyring();
    const auto& key = request.param("variable_key");
    auto body = read_json_object(request, {"key", "value", "description"});
    if (failed(body)) return std::get<WebResponse>(body);
    auto fields = read_variable_fields(std::get<nlohmann::json>(body));
    if (failed(fields)) return std::get<WebResponse>(fields);
    auto& given = std::get<VariableFields>(fields);
    if (given.key && *given.key != key) {
        return bad_request(fmt::format("the body's key {} is not the key in the path ({}); a variable's key cannot "
                                       "be changed: create the new one and delete the old",
                                       quoted_name(*given.key), quoted_name(key)));
    }
    std::set<std::string> mask;
    for (auto field : request.query_list("update_mask")) {
        field.erase(0, field.find_first_not_of(' '));
        field.erase(field.find_last_not_of(' ') + 1);
        if (field != "value" && field != "description") {
            return bad_request(fmt::format("update_mask names {}, which is not a field of a variable that can be "
                                           "changed; use value or description",
                                           quote_for_message(field)));
        }
        mask.insert(field);
    }
    if (mask.empty() && !given.value) {
        return bad_request("without update_mask the body is the whole variable: 'key' and 'value' are required (or "
                           "name the fields to change, e.g. ?update_mask=description)");
    }
    if (mask.count("value") && !given.value) return bad_request("update_mask names 'value' but the body has no value");
    auto current = secrets->find_variable(key);
    if (!current) return secrets_unavailable(current.error());
    if (!*current) return variable_not_found(key);
    Variable variable = **current;
    if (mask.empty() || mask.count("value")) variable.value = *given.value;
    if (mask.count("description") || (mask.empty() && given.description_given)) variable.description = given.description;
    return write_variable(*secrets, variable);
}

WebResponse delete_variable(ApiContext& context, const ApiRequest& request) {
    const auto& key = request.param("variable_key");
    auto deleted = context.connection_store.delete_variable(key);
    if (!deleted) return store_unavailable(deleted.error());
    if (!*deleted) return variable_not_found(key);
    return WebResponse{204, "application/json", "", {}};
}

}  // namespace

void add_variable_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/variables", {Resource::variable, Action::read},
              [&context](const ApiRequest& request) { return list_variables(context, request); });
    table.add("POST", "/api/v1/variables", {Resource::variable, Action::create},
              [&context](const ApiRequest& request) { return create_variable(context, request); });
    table.add("GET", "/api/v1/variables/{variable_key}", {Resource::variable, Action::read},
              [&context](const ApiRequest& request) { return get_variable(context, request); });
    table.add("PATCH", "/api/v1/variables/{variable_key}", {Resource::variable, Action::edit},
              [&context](const ApiRequest& request) { return update_variable(context, request); });
    table.add("DELETE", "/api/v1/variables/{variable_key}", {Resource::variable, Action::remove},
              [&context](const ApiRequest& request) { return delete_variable(context, request); });
}

}  // namespace mayaflow
