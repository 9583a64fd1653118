#pragma once
// Checks a JSON value against a schema of a Google discovery document the way Google's JSON →
// protobuf reader does: an unknown field name, a value of the wrong JSON type, an int64 outside its
// range or a value outside an enum is refused, naming where. A request that passes is one Google
// parses; whether it then makes sense is BigQuery's to say.
//
// Text that is still a template ("{{ ds }}", "{% if %}") passes as any scalar: it is checked again
// once rendered.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "engine/model/operator_spec.h"
#include "engine/util/result.h"

namespace mayaflow::gcp {

class DiscoverySchemas {
  public:
    // The "schemas" of a discovery document; an error when the text is not one.
    static Result<DiscoverySchemas> read(std::string_view document);

    // The first problem of `value` as the schema named `schema` (JobConfiguration, Table …), or none.
    std::optional<ParamProblem> check(std::string_view schema, const nlohmann::json& value) const;

  private:
    nlohmann::json schemas_;
};

}  // namespace mayaflow::gcp
