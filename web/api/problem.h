#pragma once
// Answers of the REST API: JSON, and errors as RFC 7807 problem JSON whose `detail` says what was
// wrong and what to do about it. The title is always the status's reason phrase, as Airflow's are.

#include <nlohmann/json.hpp>

#include <string>

#include "engine/util/result.h"
#include "web/http_types.h"

namespace mayaflow {

WebResponse json_response(const nlohmann::json& body, int status = 200);

// The reason phrase of an HTTP status ("Not Found"), or "Error" for one it does not know.
std::string_view reason_phrase(int status);

WebResponse problem(int status, const std::string& detail);
// Kept for the callers that give their own title; the title should be the reason phrase.
WebResponse problem(int status, const std::string& title, const std::string& detail);

WebResponse bad_request(const std::string& detail);  // 400: the request itself is wrong
WebResponse not_found(const std::string& detail);    // 404: what it names does not exist
WebResponse conflict(const std::string& detail);     // 409: it would clash with what exists
// 503: the store could not answer (it is locked, full or gone); says so and to try again.
WebResponse store_unavailable(const Error& error);

}  // namespace mayaflow
