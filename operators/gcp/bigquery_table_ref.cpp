#include "operators/gcp/bigquery_table_ref.h"

#include <fmt/format.h>

#include "engine/util/text.h"

namespace mayaflow::gcp {
namespace {

bool is_dataset_id(std::string_view id) {
    if (id.empty() || id.size() > 1024) return false;
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
}

// Project ids: 6-30 lowercase letters, digits and hyphens; "domain.com:project" for old ones.
bool is_project_id(std::string_view id) {
    if (id.empty() || id.size() > 100) return false;
    for (char c : id) {
        if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
              c == '.' || c == ':')) {
            return false;
        }
    }
    return true;
}

bool is_table_id(std::string_view id) {
    const size_t dollar = id.find('$');
    std::string_view name = id.substr(0, dollar);
    if (name.empty() || name.size() > 1024) return false;
    for (char c : name) {
        // Letters, marks, numbers, connectors, dashes and spaces are allowed (any UTF-8 byte passes here).
        if (c == '.' || c == '/' || c == ':' || c == '`' || static_cast<unsigned char>(c) < 0x20) return false;
    }
    if (dollar == std::string_view::npos) return true;
    std::string_view decorator = id.substr(dollar + 1);
    if (decorator == "__NULL__" || decorator == "__UNPARTITIONED__") return true;
    if (decorator.empty() || decorator.size() > 10) return false;
    for (char c : decorator) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

}  // namespace

Result<TableReference> parse_table_reference(std::string_view text, std::string_view default_project,
                                             std::string_view field) {
    auto bad = [&](std::string_view why) {
        return make_error("{} {} is not a table: {}; write project.dataset.table or dataset.table, with a partition "
                          "decorator such as $20240101 if needed",
                          field, quote_for_message(text), why);
    };
    TableReference reference;
    std::string_view rest = text;
    // project:dataset.table (legacy SQL's form, which Airflow accepts too)
    if (const size_t colon = rest.rfind(':', rest.find('.')); colon != std::string_view::npos && rest.find('.') != std::string_view::npos) {
        reference.project = std::string(rest.substr(0, colon));
        rest.remove_prefix(colon + 1);
    }
    const size_t first_dot = rest.find('.');
    if (first_dot == std::string_view::npos) return bad("it names no dataset");
    const size_t second_dot = rest.find('.', first_dot + 1);
    if (second_dot != std::string_view::npos) {
        if (!reference.project.empty()) return bad("it has too many parts");
        // The table's decorator may not hold a dot, so a third dot is an error below.
        reference.project = std::string(rest.substr(0, first_dot));
        reference.dataset = std::string(rest.substr(first_dot + 1, second_dot - first_dot - 1));
        reference.table = std::string(rest.substr(second_dot + 1));
    } else {
        reference.dataset = std::string(rest.substr(0, first_dot));
        reference.table = std::string(rest.substr(first_dot + 1));
    }
    if (reference.project.empty()) reference.project = std::string(default_project);
    if (reference.project.empty()) return bad("it names no project, and the task has none (set project_id)");
    if (!is_project_id(reference.project)) return bad(fmt::format("the project {} is not a project id", quote_for_message(reference.project)));
    if (!is_dataset_id(reference.dataset)) {
        return bad(fmt::format("the dataset {} may hold only letters, digits and '_'", quote_for_message(reference.dataset)));
    }
    if (!is_table_id(reference.table)) {
        return bad(fmt::format("the table {} is not a table id (a decorator is $ and digits, e.g. $20240101)",
                               quote_for_message(reference.table)));
    }
    return reference;
}

}  // namespace mayaflow::gcp
