#pragma once
// Content negotiation for the endpoints that answer JSON or text (logs, DAG sources), as Airflow's
// do from the Accept header: the offered type the client gives the highest q; a type named
// exactly beats type/* and */* at the same q; on a tie, the first offered. No Accept header takes
// the first offered.

#include <initializer_list>
#include <optional>
#include <string_view>

#include "web/http_types.h"

namespace mayaflow {

// nullopt: the Accept header accepts none of `offered` (Airflow's 406).
std::optional<std::string_view> negotiate_media_type(const WebRequest& request,
                                                     std::initializer_list<std::string_view> offered);

}  // namespace mayaflow
