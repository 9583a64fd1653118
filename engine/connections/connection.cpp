#include "engine/connections/connection.h"

#include <fmt/format.h>

#include "engine/template/unicode.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow {

void Connection::set_password(std::optional<std::string> value) {
    if (value && value->empty()) value.reset();
    password = std::move(value);
}

ParsedExtra Connection::parse_extra() const {
    ParsedExtra parsed;
    if (!extra || extra->empty()) return parsed;
    auto value = pyjson::loads(*extra);
    if (!value) {
        parsed.problem =
            fmt::format("the extra of connection '{}' is not JSON ({})", conn_id, value.error().message);
        return parsed;
    }
    if (!value->is_object()) {
        parsed.problem = fmt::format(
            "the extra of connection '{}' is JSON but not an object; it must be a JSON "
            "object such as {{\"key\": \"value\"}}",
            conn_id);
    }
    parsed.value = std::move(*value);
    return parsed;
}

std::string normalize_conn_type(std::string_view conn_type) {
    if (conn_type == "postgresql") return "postgres";
    std::string normalized(conn_type);
    for (char& c : normalized) {
        if (c == '-') c = '_';
    }
    return normalized;
}

Status validate_conn_id(std::string_view conn_id) {
    constexpr std::size_t kMaxLength = 200;
    if (conn_id.empty()) return make_error("the conn_id is empty");
    if (tmpl::unicode::length(conn_id) > kMaxLength) {
        return make_error("the conn_id has to be less than {} characters", kMaxLength);
    }
    std::size_t pos = 0;
    while (pos < conn_id.size()) {
        std::size_t start = pos;
        char32_t cp = tmpl::unicode::decode_next(conn_id, pos);
        bool allowed =
            cp == '_' || cp == '.' || cp == '-' || (cp < 0x80 && std::isalnum(static_cast<int>(cp))) ||
            (cp >= 0x80 && cp != 0xFFFD && (tmpl::unicode::is_alpha(cp) || tmpl::unicode::is_digit(cp)));
        if (!allowed) {
            return make_error(
                "the conn_id {} has to be made of alphanumeric characters, dashes, dots and underscores "
                "exclusively ({} is not)",
                quote_for_message(conn_id), quote_for_message(conn_id.substr(start, pos - start)));
        }
    }
    return Status::success();
}

Status validate_extra(const Connection& connection) {
    auto parsed = connection.parse_extra();
    if (parsed.problem) return Error{*parsed.problem};
    return Status::success();
}

Status validate_connection_text(const Connection& connection) {
    auto check = [&](std::string_view field, const std::optional<std::string>& value) -> Status {
        if (!value) return Status::success();
        if (auto bad = first_invalid_utf8(*value)) {
            return make_error(
                "the {} of connection '{}' is not UTF-8 text (an invalid byte at position {}); mayaflow "
                "keeps "
                "connections as UTF-8 text so that every export writes them back as they were",
                field, connection.conn_id, *bad);
        }
        return Status::success();
    };
    for (auto [field, value] :
         {std::pair{"conn_type", std::optional<std::string>(connection.conn_type)},
          std::pair{"description", connection.description}, std::pair{"host", connection.host},
          std::pair{"login", connection.login}, std::pair{"password", connection.password},
          std::pair{"schema", connection.schema}, std::pair{"extra", connection.extra}}) {
        if (Status valid = check(field, value); !valid) return valid;
    }
    return Status::success();
}

Status validate_connection_for_storage(const Connection& connection) {
    if (Status text = validate_connection_text(connection); !text) return text;
    if (connection.extra) {
        if (Status shallow = pyjson::check_nesting(*connection.extra); !shallow) {
            return make_error("the extra of connection '{}' cannot be stored: {}", connection.conn_id,
                              shallow.error().message);
        }
    }
    return Status::success();
}

}  // namespace mayaflow
