// Notebook JSON: the notebook a DAG names (parse_notebook, then papermill's parameter injection), the
// executed copy nbconvert writes back (find_failure reads the failed cell from it), and a run's
// parameters as JSON (checked, then written as Python literals into the injected cell).

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "operators/notebook/executed_notebook.h"
#include "operators/notebook/papermill_parameters.h"

using namespace mayaflow;
using namespace mayaflow::notebook;

namespace {

void as_notebook(std::string_view text) {
    static const nlohmann::json parameters = {{"ds", "2024-03-01"}, {"limit", 10}, {"rate", 0.5}, {"tags", {"a", "b"}}};
    auto notebook = parse_notebook(text, "fuzz.ipynb");
    if (!notebook) return;
    (void)first_tagged_cell(*notebook, "parameters");
    auto injected = inject_parameters(*notebook, parameters);
    auto index = first_tagged_cell(injected, "injected-parameters");
    FUZZ_CHECK(index.has_value());
    FUZZ_CHECK(cell_source(injected["cells"][*index]) == injected_source(parameters));
}

void as_executed_copy(const nlohmann::json& executed) {
    if (auto failure = find_failure(executed)) {
        (void)failure_message(*failure, "10s");
        (void)failure_report(*failure, "10s");
    }
}

void as_parameters(const nlohmann::json& parameters) {
    if (!parameters.is_object() || !check_parameter_text(parameters).ok()) return;
    nlohmann::json usable = nlohmann::json::object();
    for (const auto& [name, value] : parameters.items()) {
        if (!why_not_parameter_name(name)) usable[name] = value;
    }
    (void)injected_source(usable);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    as_notebook(text);
    auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return 0;
    as_executed_copy(json);
    as_parameters(json);
    (void)strip_ansi(text);
    return 0;
}
