#pragma once
// Every answer the API's unit tests receive, kept for the OpenAPI check: when MAYAFLOW_API_ANSWERS
// names a file, each request through a test fixture appends one JSON line to it (the file is
// emptied by the process's first answer) with the test case, method, target, status, content type
// and body. tests/tools/check_api_answers.py then holds every line to the document the daemon
// serves, as tests/integration/openapi_check.py does for the integration tests' answers.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <mutex>

#include "web/http_types.h"

namespace mayaflow::testing {

inline void record_answer(const WebRequest& request, const WebResponse& response) {
    static const char* const file = std::getenv("MAYAFLOW_API_ANSWERS");
    if (file == nullptr || *file == '\0') return;
    static std::mutex mutex;
    static std::ofstream out(file, std::ios::trunc | std::ios::binary);
    nlohmann::json line = {{"test", Catch::getResultCapture().getCurrentTestName()},
                           {"method", request.method},
                           {"target", request.target},
                           {"status", response.status},
                           {"content_type", response.content_type},
                           {"body", response.body}};
    std::lock_guard lock(mutex);
    // Bodies are not always UTF-8 (a log's bytes): replace what is not, the check only needs JSON's.
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n' << std::flush;
}

}  // namespace mayaflow::testing
