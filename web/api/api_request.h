#pragma once
// What an endpoint's handler is given: the request, its path parameters (percent-decoded), its
// query parameters, and the user who sent it. The readers here turn query parameters and JSON
// bodies into values, or into the 400 answer that names the parameter and says what it takes.

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/time/instant.h"
#include "web/auth/authenticator.h"
#include "web/http_types.h"

namespace mayaflow {

// A value read from the request, or the 400 answer that says why it could not be.
template <typename T>
using Read = std::variant<T, WebResponse>;

template <typename T>
bool failed(const Read<T>& read) {
    return std::holds_alternative<WebResponse>(read);
}

struct ApiRequest {
    const WebRequest& web;
    std::string path;
    std::map<std::string, std::string> params;          // from the route's {name} segments
    std::multimap<std::string, std::string> query;      // decoded; a name may repeat
    Principal principal;

    const std::string& param(const std::string& name) const;
    std::optional<std::string> query_value(const std::string& name) const;  // the last one given
    // A list parameter as Airflow takes them: repeated (`dag_ids=a&dag_ids=b`) or comma-separated.
    std::vector<std::string> query_list(const std::string& name) const;
};

struct Page {
    size_t limit = 100;
    size_t offset = 0;
};

// The maximum number of items one page holds (Airflow's [api] maximum_page_limit); a larger
// `limit` is lowered to it, as Airflow does.
inline constexpr size_t kMaximumPageLimit = 1000;
inline constexpr size_t kDefaultPageLimit = 100;

// `limit` and `offset`: plain digits from 0 to 1,000,000.
Read<Page> read_page(const ApiRequest& request);

struct Ordering {
    std::string field;
    bool descending = false;
};
// `order_by`: one of `fields`, with a leading `-` for descending; `fallback` when absent.
Read<Ordering> read_order_by(const ApiRequest& request, std::initializer_list<std::string_view> fields,
                             Ordering fallback);

// A date-time query parameter (ISO 8601 with an offset, as Airflow takes them); nullopt when absent.
Read<std::optional<Instant>> read_datetime(const ApiRequest& request, const std::string& name);
// `true` or `false`; nullopt when absent.
Read<std::optional<bool>> read_bool(const ApiRequest& request, const std::string& name);

// The body as a JSON object with only the fields in `allowed` (an unknown one is named in the 400,
// with the fields that are allowed). An empty body is an empty object when `empty_allowed`.
Read<nlohmann::json> read_json_object(const ApiRequest& request, std::initializer_list<std::string_view> allowed,
                                      bool empty_allowed = false);

// Type checks of a body's field, with the field's name in the message; nullopt when absent or null.
Read<std::optional<std::string>> string_field(const nlohmann::json& body, const std::string& name);
// A run's or task instance's `note`: a string of at most 1,000 characters (Airflow's column), or null.
inline constexpr size_t kMaxNoteLength = 1000;
Read<std::optional<std::string>> note_field(const nlohmann::json& body);
Read<std::optional<bool>> bool_field(const nlohmann::json& body, const std::string& name);
Read<std::optional<long long>> integer_field(const nlohmann::json& body, const std::string& name);
// `page_offset` and `page_limit` of a batch list's body (Airflow's `…/list` endpoints): the page,
// the limit lowered to kMaximumPageLimit.
Read<Page> page_fields(const nlohmann::json& body);
Read<std::optional<Instant>> datetime_field(const nlohmann::json& body, const std::string& name);
Read<std::optional<std::vector<std::string>>> string_list_field(const nlohmann::json& body, const std::string& name);

// A page of a list already in order: the items from `offset`, at most `limit` of them.
template <typename T, typename Convert>
nlohmann::json page_of(const std::vector<T>& items, const Page& page, Convert convert) {
    auto out = nlohmann::json::array();
    for (size_t i = page.offset; i < items.size() && out.size() < page.limit; ++i) out.push_back(convert(items[i]));
    return out;
}

}  // namespace mayaflow
