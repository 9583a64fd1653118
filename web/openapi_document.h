#pragma once
// The API's OpenAPI 3 document, served at /api/v1/openapi.yaml (and .json). It is kept in parts,
// web/openapi/*.yaml, one per endpoint family beside the base (openapi.yaml: info, servers,
// security, shared components); the parts are merged here. A test holds it to the route table:
// every route is in it, and everything in it is a route.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow {

struct OpenApiPart {
    std::string_view name;  // its file name: "dags.yaml"
    std::string_view text;
};

// The parts compiled into the binary (cmake/EmbedOpenApi.cmake).
const std::vector<OpenApiPart>& embedded_openapi_parts();

struct OpenApiDocument {
    std::string yaml;
    nlohmann::json json;
};

// Merges the parts: their paths (a method described twice is an error), their components (a name
// defined twice is an error) and their tags; the other top-level keys come from openapi.yaml only.
Result<OpenApiDocument> merge_openapi_parts(const std::vector<OpenApiPart>& parts);

// The merged embedded parts, merged once; an error when they do not merge (a test catches that).
const Result<OpenApiDocument>& openapi_document();

}  // namespace mayaflow
