// /config: the configuration as Airflow's REST API shows it ({sections: [{name, options: [{key,
// value, source}]}]}), from the same description as `mayaflow config list`
// (engine/config/settings_description.h). Admin only; secrets are "< hidden >". JSON unless the
// client's Accept header prefers text/plain, then the airflow.cfg layout, as Airflow's does.

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "engine/config/settings_description.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"

namespace mayaflow {
namespace {

enum class ConfigType { json, text, none };

// How much the client wants `type` ("application/json") by its Accept header: the quality of the
// most specific media range that matches it, 0 when none does. No header accepts everything.
double accept_quality(const std::string& accept, std::string_view type) {
    if (accept.empty()) return 1.0;
    const std::string_view major = type.substr(0, type.find('/'));
    double best = 0.0;
    int best_specificity = -1;
    std::stringstream ranges(accept);
    std::string range;
    while (std::getline(ranges, range, ',')) {
        std::string media;
        double quality = 1.0;
        std::stringstream parts(range);
        std::string part;
        bool first = true;
        while (std::getline(parts, part, ';')) {
            auto begin = part.find_first_not_of(" \t");
            auto end = part.find_last_not_of(" \t");
            part = begin == std::string::npos ? "" : part.substr(begin, end - begin + 1);
            if (first) {
                media = part;
                first = false;
            } else if (part.starts_with("q=") || part.starts_with("Q=")) {
                char* stop = nullptr;
                double value = std::strtod(part.c_str() + 2, &stop);
                quality = stop && *stop == '\0' && value >= 0 && value <= 1 ? value : 0.0;
            }
        }
        for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        int specificity = -1;
        if (media == type) specificity = 2;
        else if (media == std::string(major) + "/*") specificity = 1;
        else if (media == "*/*") specificity = 0;
        if (specificity > best_specificity) {
            best_specificity = specificity;
            best = quality;
        }
    }
    return best;
}

// JSON unless text/plain is preferred; none when the client takes neither (406).
ConfigType answer_type(const ApiRequest& request) {
    auto header = request.web.headers.find("accept");
    const std::string accept = header == request.web.headers.end() ? "" : header->second;
    const double json = accept_quality(accept, "application/json");
    const double text = accept_quality(accept, "text/plain");
    if (json <= 0 && text <= 0) return ConfigType::none;
    return text > json ? ConfigType::text : ConfigType::json;
}

nlohmann::json config_json(const std::vector<SettingSection>& sections) {
    auto array = nlohmann::json::array();
    for (const auto& section : sections) {
        auto options = nlohmann::json::array();
        for (const auto& option : section.options) {
            options.push_back({{"key", option.key}, {"value", to_valid_utf8(option.value)}, {"source", option.source}});
        }
        array.push_back({{"name", section.name}, {"options", options}});
    }
    return {{"sections", array}};
}

WebResponse config_answer(const ApiRequest& request, const std::vector<SettingSection>& sections) {
    switch (answer_type(request)) {
        case ConfigType::text:
            return WebResponse{200, "text/plain; charset=utf-8", to_valid_utf8(settings_as_text(sections, false)), {}};
        case ConfigType::json:
            return json_response(config_json(sections));
        case ConfigType::none:
            break;
    }
    return problem(406, "the configuration is served as application/json or text/plain; the Accept header takes neither");
}

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::vector<std::string> names_of(const std::vector<SettingSection>& sections) {
    std::vector<std::string> names;
    for (const auto& section : sections) names.push_back(section.name);
    return names;
}

}  // namespace

void add_config_routes(RouteTable& table, ApiContext& context) {
    const Access read_config{Resource::config, Action::read};
    table.add("GET", "/api/v1/config", read_config, [&context](const ApiRequest& request) {
        auto sections = describe_settings(context.settings, process_environment());
        if (auto wanted = request.query_value("section")) {
            const SettingSection* section = find_section(sections, lower(*wanted));
            if (!section) {
                return not_found(fmt::format("section={} not found. The sections are {}", escape_invalid_utf8(*wanted),
                                             join(names_of(sections))));
            }
            sections = {*section};
        }
        return config_answer(request, sections);
    });
    table.add("GET", "/api/v1/config/section/{section}/option/{option}", read_config,
              [&context](const ApiRequest& request) {
                  auto sections = describe_settings(context.settings, process_environment());
                  const std::string& section_name = request.param("section");
                  const std::string& option_name = request.param("option");
                  // Without regard to case, as Airflow finds them; the answer names them as asked.
                  const SettingOption* found = find_option(sections, lower(section_name), lower(option_name));
                  std::optional<SettingOption> option;
                  if (found && is_valid_utf8(section_name) && is_valid_utf8(option_name)) {
                      option = *found;
                      option->key = option_name;
                  }
                  if (!option) {
                      return not_found(fmt::format("The option [{}/{}] is not found in config.",
                                                   escape_invalid_utf8(section_name), escape_invalid_utf8(option_name)));
                  }
                  return config_answer(request, {SettingSection{section_name, {*option}}});
              });
}

}  // namespace mayaflow
