#include "web/api/api_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "engine/connections/python_json.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"

namespace mayaflow {
namespace {

std::string joined(std::initializer_list<std::string_view> names) {
    std::string out;
    for (auto name : names) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

const char* json_type_name(const nlohmann::json& value) {
    if (value.is_string()) return "a string";
    if (value.is_boolean()) return "a boolean";
    if (value.is_number_integer() || value.is_number_unsigned()) return "a whole number";
    if (value.is_number()) return "a number";
    if (value.is_array()) return "a list";
    if (value.is_object()) return "an object";
    return "null";
}

}  // namespace

const std::string& ApiRequest::param(const std::string& name) const {
    static const std::string kEmpty;
    auto it = params.find(name);
    return it == params.end() ? kEmpty : it->second;
}

std::optional<std::string> ApiRequest::query_value(const std::string& name) const {
    std::optional<std::string> value;
    auto [begin, end] = query.equal_range(name);
    for (auto it = begin; it != end; ++it) value = it->second;
    return value;
}

std::vector<std::string> ApiRequest::query_list(const std::string& name) const {
    std::vector<std::string> values;
    auto [begin, end] = query.equal_range(name);
    for (auto it = begin; it != end; ++it) {
        size_t start = 0;
        const std::string& text = it->second;
        while (start <= text.size()) {
            size_t comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            if (comma > start) values.push_back(text.substr(start, comma - start));
            start = comma + 1;
        }
    }
    return values;
}

Read<Page> read_page(const ApiRequest& request) {
    Page page{kDefaultPageLimit, 0};
    for (const auto& [name, field] : {std::pair{"limit", &page.limit}, std::pair{"offset", &page.offset}}) {
        auto text = request.query_value(name);
        if (!text) continue;
        // Digits only: no sign, no spaces, no hex.
        long long value = -1;
        auto [end, failure] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (text->empty() || text->front() == '-' || failure != std::errc() || end != text->data() + text->size() ||
            value > 1'000'000) {
            return bad_request(fmt::format("query parameter '{}' must be a whole number from 0 to 1000000, got {}",
                                           name, quote_for_message(*text)));
        }
        *field = static_cast<size_t>(value);
    }
    page.limit = std::min(page.limit, kMaximumPageLimit);
    return page;
}

Read<Ordering> read_order_by(const ApiRequest& request, std::initializer_list<std::string_view> fields,
                             Ordering fallback) {
    auto text = request.query_value("order_by");
    if (!text || text->empty()) return fallback;
    Ordering ordering;
    std::string_view name = *text;
    if (name.front() == '-') {
        ordering.descending = true;
        name.remove_prefix(1);
    }
    for (auto field : fields) {
        if (field == name) {
            ordering.field = std::string(name);
            return ordering;
        }
    }
    return bad_request(fmt::format("order_by {} is not a field this list can be ordered by; use one of {} "
                                   "(a leading '-' orders descending)",
                                   quote_for_message(*text), joined(fields)));
}

namespace {

// A '+' written unencoded in a query string arrives as a space: curl scripts written for Airflow send
// `execution_date_gte=2024-01-01T00:00:00+00:00` so, and Airflow reads the space before a trailing
// HH:MM offset as '+'. Only that space is read so: a space may also stand for the T.
std::string plus_restored(std::string text) {
    const size_t n = text.size();
    if (n > 6 && text[n - 6] == ' ' && std::isdigit(static_cast<unsigned char>(text[n - 5])) &&
        std::isdigit(static_cast<unsigned char>(text[n - 4])) && text[n - 3] == ':' &&
        std::isdigit(static_cast<unsigned char>(text[n - 2])) && std::isdigit(static_cast<unsigned char>(text[n - 1])) &&
        text.find(':') < n - 6) {
        text[n - 6] = '+';
    }
    return text;
}

bool equals_ignoring_case(std::string_view text, std::string_view word) {
    if (text.size() != word.size()) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != word[i]) return false;
    }
    return true;
}

}  // namespace

Read<std::optional<Instant>> read_datetime(const ApiRequest& request, const std::string& name) {
    auto text = request.query_value(name);
    if (!text) return std::optional<Instant>{};
    auto instant = parse_datetime(plus_restored(*text), TimeZone::utc());
    if (!instant) {
        return bad_request(fmt::format("query parameter '{}' must be a date-time like 2024-01-31T00:00:00+00:00, got {} "
                                       "({})",
                                       name, quote_for_message(*text), instant.error().message));
    }
    return std::optional<Instant>{*instant};
}

Read<std::optional<bool>> read_bool(const ApiRequest& request, const std::string& name) {
    auto text = request.query_value(name);
    if (!text) return std::optional<bool>{};
    // Any case, as Airflow (connexion) reads them: the official Python client sends True and False.
    if (equals_ignoring_case(*text, "true")) return std::optional<bool>{true};
    if (equals_ignoring_case(*text, "false")) return std::optional<bool>{false};
    return bad_request(fmt::format("query parameter '{}' must be true or false, got {}", name, quote_for_message(*text)));
}

namespace {

// nlohmann's message without the body's text it quotes ("last read: '…'", "parsing '…'"): a body
// that fails to parse may hold a password, and the answer (and whatever logs it) should not. The
// line and column stay: they say where to look.
std::string without_body_text(std::string message) {
    if (auto prefix = message.find("] "); message.starts_with("[json.exception.") && prefix != std::string::npos) {
        message.erase(0, prefix + 2);
    }
    for (std::string_view marker : {"; last read: '", " parsing '"}) {
        auto start = message.find(marker);
        if (start == std::string::npos) continue;
        auto close = message.rfind("'; expected ");
        if (close != std::string::npos && close > start) {
            message.erase(start, close + 1 - start);
        } else {
            message.erase(start);
        }
    }
    return message;
}

}  // namespace

Read<nlohmann::json> read_json_object(const ApiRequest& request, std::initializer_list<std::string_view> allowed,
                                      bool empty_allowed) {
    // A body sent as a form or as text is refused, empty or not, as Airflow answers 415: those are
    // what a page on another site can POST without asking (no CORS preflight), and a browser adds
    // the Basic credentials it keeps for this server to them, CSRF token or not.
    if (auto type = request.web.headers.find("content-type"); type != request.web.headers.end()) {
        std::string media;
        for (char c : std::string_view(type->second).substr(0, type->second.find(';'))) {
            if (c != ' ' && c != '\t') media += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (media != "application/json" && !media.ends_with("+json")) {
            return problem(415, fmt::format("the body must be JSON sent with Content-Type: application/json, not {}",
                                            quote_for_message(type->second)));
        }
    }
    const std::string& body = request.web.body;
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
        if (empty_allowed) return nlohmann::json::object();
        return bad_request("the request needs a JSON object as its body");
    }
    if (!is_valid_utf8(body)) return bad_request("the body is not UTF-8 text; JSON must be UTF-8");
    // Before nlohmann builds the value: copying, comparing and writing it recurse once per level.
    if (Status shallow = pyjson::check_nesting(body); !shallow) {
        return bad_request(fmt::format("the body is refused: {}", shallow.error().message));
    }
    nlohmann::json parsed;
    try {
        parsed = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        return bad_request(fmt::format("the body is not valid JSON: {}", without_body_text(e.what())));
    } catch (const nlohmann::json::out_of_range& e) {
        // A number beyond a double (1e400): nlohmann throws out_of_range.406 rather than parse_error.
        return bad_request(fmt::format("the body has a number too large for a double (at most about 1.8e308): {}",
                                       without_body_text(e.what())));
    }
    if (!parsed.is_object()) {
        return bad_request(fmt::format("the body must be a JSON object, not {}", json_type_name(parsed)));
    }
    for (const auto& [key, value] : parsed.items()) {
        bool known = false;
        for (auto name : allowed) known = known || name == key;
        if (!known) {
            return bad_request(fmt::format("unknown field {} in the body; this request takes {}", quote_for_message(key),
                                           allowed.size() ? joined(allowed) : std::string("no fields")));
        }
    }
    return parsed;
}

Read<std::optional<std::string>> string_field(const nlohmann::json& body, const std::string& name) {
    if (!body.contains(name) || body[name].is_null()) return std::optional<std::string>{};
    if (!body[name].is_string()) return bad_request(fmt::format("'{}' must be a string, not {}", name, json_type_name(body[name])));
    return std::optional<std::string>{body[name].get<std::string>()};
}

Read<std::optional<std::string>> note_field(const nlohmann::json& body) {
    auto note = string_field(body, "note");
    if (auto* text = std::get_if<std::optional<std::string>>(&note); text && *text) {
        // Characters, not bytes: a JSON string is UTF-8, and its non-continuation bytes start one each.
        const auto characters = static_cast<size_t>(std::count_if(
            (*text)->begin(), (*text)->end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
        if (characters > kMaxNoteLength) {
            return bad_request(fmt::format("'note' is {} characters long; a note holds at most {}", characters, kMaxNoteLength));
        }
    }
    return note;
}

Read<std::optional<bool>> bool_field(const nlohmann::json& body, const std::string& name) {
    if (!body.contains(name) || body[name].is_null()) return std::optional<bool>{};
    if (!body[name].is_boolean()) return bad_request(fmt::format("'{}' must be true or false, not {}", name, json_type_name(body[name])));
    return std::optional<bool>{body[name].get<bool>()};
}

Read<std::optional<long long>> integer_field(const nlohmann::json& body, const std::string& name) {
    if (!body.contains(name) || body[name].is_null()) return std::optional<long long>{};
    const auto& value = body[name];
    // is_number_integer() holds for unsigned values too: one past LLONG_MAX read as long long would
    // wrap to a negative number, so the unsigned ones are checked first.
    if (value.is_number_unsigned()) {
        if (value.get<unsigned long long>() <= 9'007'199'254'740'992ULL) {
            return std::optional<long long>{static_cast<long long>(value.get<unsigned long long>())};
        }
    } else if (value.is_number_integer()) {
        return std::optional<long long>{value.get<long long>()};
    }
    if (value.is_number()) {
        return bad_request(fmt::format("'{}' must be a whole number no larger than 2^53, got {}", name, value.dump()));
    }
    return bad_request(fmt::format("'{}' must be a whole number, not {}", name, json_type_name(value)));
}

Read<std::optional<Instant>> datetime_field(const nlohmann::json& body, const std::string& name) {
    auto text = string_field(body, name);
    if (failed(text)) return std::get<WebResponse>(text);
    auto& value = std::get<std::optional<std::string>>(text);
    if (!value) return std::optional<Instant>{};
    auto instant = parse_datetime(*value, TimeZone::utc());
    if (!instant) {
        return bad_request(fmt::format("'{}' must be a date-time like 2024-01-31T00:00:00+00:00, got {} ({})", name,
                                       quote_for_message(*value), instant.error().message));
    }
    return std::optional<Instant>{*instant};
}

Read<std::optional<std::vector<std::string>>> string_list_field(const nlohmann::json& body, const std::string& name) {
    if (!body.contains(name) || body[name].is_null()) return std::optional<std::vector<std::string>>{};
    const auto& value = body[name];
    if (!value.is_array()) return bad_request(fmt::format("'{}' must be a list of strings, not {}", name, json_type_name(value)));
    std::vector<std::string> items;
    for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
            return bad_request(fmt::format("'{}[{}]' must be a string, not {}", name, i, json_type_name(value[i])));
        }
        items.push_back(value[i].get<std::string>());
    }
    return std::optional<std::vector<std::string>>{std::move(items)};
}

Read<Page> page_fields(const nlohmann::json& body) {
    auto offset = integer_field(body, "page_offset");
    if (failed(offset)) return std::get<WebResponse>(offset);
    auto limit = integer_field(body, "page_limit");
    if (failed(limit)) return std::get<WebResponse>(limit);
    const auto& given_offset = std::get<std::optional<long long>>(offset);
    const auto& given_limit = std::get<std::optional<long long>>(limit);
    if ((given_offset && *given_offset < 0) || (given_limit && *given_limit < 1)) {
        return bad_request("page_offset must be 0 or more and page_limit 1 or more");
    }
    Page page{kDefaultPageLimit, static_cast<size_t>(given_offset.value_or(0))};
    if (given_limit) page.limit = static_cast<size_t>(std::min<long long>(*given_limit, kMaximumPageLimit));
    return page;
}

}  // namespace mayaflow
