#include "web/openapi_document.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>

namespace mayaflow {
namespace {

// A YAML scalar as JSON: plain scalars that read as null, booleans or numbers become those (as
// YAML 1.2's core schema reads them); quoted ones stay strings.
nlohmann::json scalar_to_json(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    if (node.Tag() == "!") return text;
    if (text == "~" || text == "null" || text == "Null" || text == "NULL" || text.empty()) return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    long long integer = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), integer);
    if (error == std::errc() && end == text.data() + text.size()) return integer;
    double real = 0;
    auto [real_end, real_error] = std::from_chars(text.data(), text.data() + text.size(), real);
    if (real_error == std::errc() && real_end == text.data() + text.size()) return real;
    return text;
}

nlohmann::json to_json(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            auto object = nlohmann::json::object();
            for (const auto& item : node) object[item.first.as<std::string>()] = to_json(item.second);
            return object;
        }
        case YAML::NodeType::Sequence: {
            auto array = nlohmann::json::array();
            for (const auto& item : node) array.push_back(to_json(item));
            return array;
        }
        case YAML::NodeType::Scalar: return scalar_to_json(node);
        default: return nullptr;
    }
}

}  // namespace

Result<OpenApiDocument> merge_openapi_parts(const std::vector<OpenApiPart>& parts) {
    YAML::Node merged(YAML::NodeType::Map);
    YAML::Node paths(YAML::NodeType::Map);
    YAML::Node components(YAML::NodeType::Map);
    YAML::Node tags(YAML::NodeType::Sequence);
    bool have_base = false;
    for (const auto& part : parts) {
        YAML::Node root;
        try {
            root = YAML::Load(std::string(part.text));
        } catch (const YAML::Exception& e) {
            return make_error("web/openapi/{}: {}", part.name, e.what());
        }
        if (!root.IsMap()) return make_error("web/openapi/{}: the part must be a mapping", part.name);
        const bool base = part.name == "openapi.yaml";
        have_base = have_base || base;
        for (const auto& item : root) {
            const auto key = item.first.as<std::string>();
            if (key == "paths") {
                for (const auto& path : item.second) {
                    const auto name = path.first.as<std::string>();
                    YAML::Node target = paths[name];
                    for (const auto& method : path.second) {
                        const auto verb = method.first.as<std::string>();
                        if (target[verb]) return make_error("web/openapi/{}: {} {} is described twice", part.name, verb, name);
                        target[verb] = method.second;
                    }
                }
            } else if (key == "components") {
                for (const auto& section : item.second) {
                    const auto section_name = section.first.as<std::string>();
                    YAML::Node target = components[section_name];
                    for (const auto& entry : section.second) {
                        const auto entry_name = entry.first.as<std::string>();
                        if (target[entry_name]) {
                            return make_error("web/openapi/{}: components.{}.{} is defined twice", part.name, section_name,
                                              entry_name);
                        }
                        target[entry_name] = entry.second;
                    }
                }
            } else if (key == "tags") {
                for (const auto& tag : item.second) tags.push_back(tag);
            } else if (base) {
                merged[key] = item.second;
            } else {
                return make_error("web/openapi/{}: '{}' belongs in openapi.yaml; a part holds paths, components and tags",
                                  part.name, key);
            }
        }
    }
    if (!have_base) return make_error("web/openapi/openapi.yaml is missing");
    if (tags.size() > 0) merged["tags"] = tags;
    merged["paths"] = paths;
    merged["components"] = components;
    YAML::Emitter out;
    out << merged;
    return OpenApiDocument{std::string(out.c_str()) + "\n", to_json(merged)};
}

const Result<OpenApiDocument>& openapi_document() {
    static const Result<OpenApiDocument> document = merge_openapi_parts(embedded_openapi_parts());
    return document;
}

}  // namespace mayaflow
