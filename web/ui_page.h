#pragma once
// The UI's first page until the full UI lands: the DAGs and the files that failed to load.

#include <string>
#include <vector>

#include "engine/store/store.h"

namespace mayaflow {

std::string html_escape(std::string_view text);
std::string render_index_page(const std::vector<DagRecord>& dags, const std::vector<ImportErrorRecord>& errors);

}  // namespace mayaflow
