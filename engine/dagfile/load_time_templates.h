#pragma once
// LoadTimeTemplates handles the templates of one DAG file while it loads. Values fixed when the DAG
// loads (task ids, group ids, pools, dependency and file names, parameters that are not templated)
// are rendered with only the for_each variables; templated parameters are parsed, to report syntax
// errors now, and checked for the Airflow 2 names Airflow 3 removed (a warning). Each text is parsed
// once per load however many for_each combinations use it, and all the renders share one work
// budget (kMaxStaticRenderWorkPerDag).

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/dagfile/field_reader.h"
#include "engine/dagfile/load_limits.h"
#include "engine/template/template.h"

namespace mayaflow {

// True when `text` has template markup ({{, {% or {#).
bool has_markup(const std::string& text);

class LoadTimeTemplates {
  public:
    explicit LoadTimeTemplates(FieldReader& reader) : reader_(reader) {}

    // `text` rendered with only `loop_vars`, or nullopt after an error. A name's template may be at
    // most kMaxStaticTemplateBytes long.
    std::optional<std::string> render(const std::string& text, const nlohmann::json& loop_vars,
                                      SourceLocation where, const std::string& field, bool is_name = true);
    // Checks every string in `value` (a templated parameter) as a template.
    void check(const nlohmann::json& value, const nlohmann::json& loop_vars, SourceLocation where,
               const std::string& field);

  private:
    // What checking a templated value found, kept per text.
    struct TemplateCheck {
        std::optional<std::string> syntax_error;
        std::vector<tmpl::NameUse> removed_names;  // Airflow 2 names that Airflow 3 removed
    };

    void check_text(const std::string& text, const nlohmann::json& loop_vars, SourceLocation where,
                    const std::string& field);

    FieldReader& reader_;
    tmpl::RenderBudget render_budget_{kMaxStaticRenderWorkPerDag};
    std::unordered_map<std::string, Result<tmpl::Template>> parsed_;
    std::unordered_map<std::string, TemplateCheck> checks_;
};

}  // namespace mayaflow
