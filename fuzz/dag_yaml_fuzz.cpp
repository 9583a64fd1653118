// DAG files: the whole loader (YAML, validation against the built-in operators' declared parameters,
// for_each, groups, defaults, load-time templates, `!include` of the files in dags/) on the input as
// dags/fuzz.yaml. A file that loads must serialize as the daemon stores it and read back the same; a
// file that does not must fail with few, short errors in UTF-8.

#include <filesystem>

#include "engine/dagfile/dag_loader.h"
#include "engine/model/dag_json.h"
#include "engine/util/utf8.h"
#include "fuzz/fuzz_support.h"
#include "operators/operator_registry.h"

using namespace mayaflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path folder = std::filesystem::path(MAYAFLOW_SOURCE_DIR) / "dags";
    static const DagLoadOptions options{&builtin_operators(), folder};
    auto result = load_dag_text(fuzz::as_text(data, size), folder / "fuzz.yaml", options);
    FUZZ_CHECK(result.dag.has_value() == result.errors.empty());
    if (!result.dag) {
        FUZZ_CHECK(result.errors.size() <= kMaxErrorsPerFile + 1);
        FUZZ_CHECK(is_valid_utf8(format_errors(result.errors)));
        return 0;
    }
    for (const auto& warning : result.warnings) FUZZ_CHECK(is_valid_utf8(warning.to_string()));
    auto stored = to_json(*result.dag);
    auto serialized = stored.dump();  // as the daemon records a DAG version
    auto back = dag_from_json(nlohmann::json::parse(serialized));
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(to_json(*back) == stored);
    return 0;
}
