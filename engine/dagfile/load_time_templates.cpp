#include "engine/dagfile/load_time_templates.h"

#include <fmt/format.h>

#include "engine/template/airflow2_names.h"
#include "engine/util/text.h"

namespace mayaflow {

bool has_markup(const std::string& text) {
    return text.find("{{") != std::string::npos || text.find("{%") != std::string::npos ||
           text.find("{#") != std::string::npos;
}

std::optional<std::string> LoadTimeTemplates::render(const std::string& text, const nlohmann::json& loop_vars,
                                                     SourceLocation where, const std::string& field,
                                                     bool is_name) {
    if (!has_markup(text)) return text;
    if (is_name && text.size() > kMaxStaticTemplateBytes) {
        reader_.error(
            where, field,
            fmt::format("this name is fixed when the DAG loads, and its template is {} bytes long; the "
                        "limit is {}",
                        text.size(), kMaxStaticTemplateBytes));
        return std::nullopt;
    }
    // The same text is rendered once per for_each combination: parse it once (short texts, which are
    // most of them; a long value is parsed each time, and the DAG's text budget bounds that).
    std::optional<Result<tmpl::Template>> uncached;
    auto found = parsed_.find(text);
    if (found == parsed_.end() && text.size() <= kMaxStaticTemplateBytes) {
        found = parsed_.emplace(text, tmpl::Template::parse(text)).first;
    } else if (found == parsed_.end()) {
        uncached.emplace(tmpl::Template::parse(text));
    }
    const auto& parsed = uncached ? *uncached : found->second;
    if (!parsed) {
        reader_.error(where, field, "template syntax error: " + parsed.error().message);
        return std::nullopt;
    }
    tmpl::Context context;
    for (auto& [name, value] : loop_vars.items()) context.set(name, tmpl::Value::from_json(value));
    auto rendered = parsed->render(context, render_budget_);
    if (!rendered) {
        std::vector<std::string> names;
        for (auto& [name, value] : loop_vars.items()) names.push_back(name);
        std::string budget_note;
        if (render_budget_.remaining() == 0) {
            budget_note = fmt::format(
                " (the values fixed when this DAG loads may do {} steps of template work in "
                "all)",
                kMaxStaticRenderWorkPerDag);
        }
        reader_.error(
            where, field,
            fmt::format("{}: this value is fixed when the DAG loads, so it may use only the "
                        "for_each variables{}{}",
                        rendered.error().message,
                        names.empty() ? std::string(" (there are none here)") : " (" + join(names) + ")",
                        budget_note));
        return std::nullopt;
    }
    return *rendered;
}

void LoadTimeTemplates::check_text(const std::string& text, const nlohmann::json& loop_vars,
                                   SourceLocation where, const std::string& field) {
    if (!has_markup(text)) return;
    auto found = checks_.find(text);
    if (found == checks_.end()) {
        TemplateCheck check;
        auto parsed = tmpl::Template::parse(text);
        if (!parsed) {
            check.syntax_error = parsed.error().message;
        } else {
            for (auto& use : parsed->context_names()) {
                if (tmpl::airflow3_replacement(use.name)) check.removed_names.push_back(std::move(use));
            }
        }
        found = checks_.emplace(text, std::move(check)).first;
    }
    const TemplateCheck& check = found->second;
    if (check.syntax_error) {
        reader_.error(where, field, "template syntax error: " + *check.syntax_error);
        return;
    }
    for (const auto& use : check.removed_names) {
        if (loop_vars.contains(use.name)) continue;  // a for_each variable of that name is defined
        std::string position = text.find('\n') == std::string::npos
                                   ? fmt::format("column {} of the template", use.column)
                                   : fmt::format("line {}, column {} of the template", use.line, use.column);
        reader_.warn(
            where, field,
            fmt::format("'{}' ({}) was removed in Airflow 3 and is undefined here: the task would fail "
                        "with \"'{}' is undefined\"; use {}",
                        use.name, position, use.name, *tmpl::airflow3_replacement(use.name)));
    }
}

void LoadTimeTemplates::check(const nlohmann::json& value, const nlohmann::json& loop_vars,
                              SourceLocation where, const std::string& field) {
    if (value.is_string()) {
        check_text(value.get_ref<const std::string&>(), loop_vars, where, field);
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) {
            check(value[i], loop_vars, where, fmt::format("{}[{}]", field, i));
        }
    } else if (value.is_object()) {
        for (auto& [key, item] : value.items()) check(item, loop_vars, where, field + "." + key);
    }
}

}  // namespace mayaflow
