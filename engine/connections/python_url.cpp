#include "engine/connections/python_url.h"

#include <algorithm>
#include <charconv>

#include "engine/template/unicode.h"

namespace mayaflow::pyurl {
namespace {

bool is_ascii_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
    return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) {
    if (is_ascii_digit(c)) return c - '0';
    return (c | 0x20) - 'a' + 10;
}
bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_ascii_digit);
}

// Python's str.partition / rpartition: (before, found, after).
struct Parts {
    std::string_view before;
    bool found = false;
    std::string_view after;
};
Parts partition(std::string_view text, char separator) {
    auto at = text.find(separator);
    if (at == std::string_view::npos) return {text, false, {}};
    return {text.substr(0, at), true, text.substr(at + 1)};
}
Parts rpartition(std::string_view text, char separator) {
    auto at = text.rfind(separator);
    if (at == std::string_view::npos) return {{}, false, text};
    return {text.substr(0, at), true, text.substr(at + 1)};
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        auto at = text.find(separator, start);
        if (at == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, at - start));
        start = at + 1;
    }
}

// ipaddress.IPv4Address's parser: four decimal octets, no leading zeros, each at most 255.
bool is_ipv4(std::string_view text) {
    auto octets = split(text, '.');
    if (octets.size() != 4) return false;
    for (auto octet : octets) {
        if (!all_digits(octet) || octet.size() > 3) return false;
        if (octet != "0" && octet[0] == '0') return false;
        int value = 0;
        std::from_chars(octet.data(), octet.data() + octet.size(), value);
        if (value > 255) return false;
    }
    return true;
}

bool is_hextet(std::string_view text) {
    return !text.empty() && text.size() <= 4 && std::all_of(text.begin(), text.end(), is_hex_digit);
}

// ipaddress.IPv6Address's parser, with its rules for '::', an IPv4 tail and a %zone.
bool is_ipv6(std::string_view text) {
    if (text.find('/') != std::string_view::npos) return false;
    auto [address, has_zone, zone] = partition(text, '%');
    if (has_zone && (zone.empty() || zone.find('%') != std::string_view::npos)) return false;
    if (address.empty()) return false;
    auto parts = split(address, ':');
    if (parts.size() < 3) return false;
    std::vector<std::string_view> hextets(parts.begin(), parts.end());
    if (hextets.back().find('.') != std::string_view::npos) {
        if (!is_ipv4(hextets.back())) return false;
        hextets.back() = "0";  // the IPv4 tail counts as two valid hextets
        hextets.push_back("0");
    }
    constexpr std::size_t kHextets = 8;
    if (hextets.size() > kHextets + 1) return false;
    std::optional<std::size_t> skip;
    for (std::size_t i = 1; i + 1 < hextets.size(); ++i) {
        if (hextets[i].empty()) {
            if (skip) return false;
            skip = i;
        }
    }
    std::size_t high = 0, low = 0;
    if (skip) {
        high = *skip;
        low = hextets.size() - *skip - 1;
        if (hextets.front().empty() && --high != 0) return false;
        if (hextets.back().empty() && --low != 0) return false;
        if (kHextets < high + low + 1) return false;
    } else {
        if (hextets.size() != kHextets || hextets.front().empty() || hextets.back().empty()) return false;
        high = hextets.size();
    }
    for (std::size_t i = 0; i < high; ++i) {
        if (!is_hextet(hextets[i])) return false;
    }
    for (std::size_t i = hextets.size() - low; i < hextets.size(); ++i) {
        if (!is_hextet(hextets[i])) return false;
    }
    return true;
}

// urllib.parse._check_bracketed_host: an IPv6 address or an IPvFuture literal, never IPv4.
Status check_bracketed_host(std::string_view host) {
    if (host.starts_with('v')) {
        auto dot = host.find('.');
        bool valid =
            dot != std::string_view::npos && dot > 1 && dot + 1 < host.size() &&
            std::all_of(host.begin() + 1, host.begin() + static_cast<std::ptrdiff_t>(dot), is_hex_digit);
        if (!valid) return make_error("IPvFuture address is invalid");
        return Status::success();
    }
    if (is_ipv4(host)) return make_error("An IPv4 address cannot be in brackets");
    if (!is_ipv6(host)) return make_error("'{}' does not appear to be an IPv4 or IPv6 address", host);
    return Status::success();
}

Status check_bracketed_netloc(std::string_view netloc) {
    auto host_and_port = rpartition(netloc, '@').after;
    auto [before_bracket, has_bracket, bracketed] = partition(host_and_port, '[');
    std::string_view host;
    if (has_bracket) {
        if (!before_bracket.empty()) return make_error("Invalid IPv6 URL");
        auto [inside, closed, port] = partition(bracketed, ']');
        if (!port.empty() && !port.starts_with(':')) return make_error("Invalid IPv6 URL");
        host = inside;
    } else {
        host = partition(host_and_port, ':').before;
    }
    return check_bracketed_host(host);
}

// (hostname, port) as SplitResult._hostinfo cuts them from netloc.
std::pair<std::string_view, std::optional<std::string_view>> host_info(std::string_view netloc) {
    auto host_part = rpartition(netloc, '@').after;
    auto [before, has_bracket, bracketed] = partition(host_part, '[');
    std::string_view host, port;
    if (has_bracket) {
        auto [inside, closed, rest] = partition(bracketed, ']');
        host = inside;
        port = partition(rest, ':').after;
    } else {
        auto [name, colon, after] = partition(host_part, ':');
        host = name;
        port = after;
    }
    if (port.empty()) return {host, std::nullopt};
    return {host, port};
}

// The length of the valid UTF-8 prefix of a sequence that starts at `pos`: the whole sequence when
// complete, else the bytes that could still have started one (Python replaces those by one U+FFFD).
std::pair<std::size_t, bool> utf8_sequence(std::string_view bytes, std::size_t pos) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
    unsigned char lead = byte(pos);
    if (lead < 0x80) return {1, true};
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    } else {
        return {1, false};
    }
    std::size_t used = 1;
    for (; used < length; ++used) {
        if (pos + used >= bytes.size()) return {used, false};
        unsigned char next = byte(pos + used);
        unsigned char min = used == 1 ? low : 0x80, max = used == 1 ? high : 0xBF;
        if (next < min || next > max) return {used, false};
    }
    return {length, true};
}

// bytes.decode("utf-8", "replace").
std::string decode_replacing(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t pos = 0; pos < bytes.size();) {
        auto [length, valid] = utf8_sequence(bytes, pos);
        if (valid) {
            out.append(bytes.substr(pos, length));
        } else {
            out += "\xEF\xBF\xBD";
        }
        pos += length;
    }
    return out;
}

// unquote_to_bytes for one run of ASCII text.
std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && is_hex_digit(text[i + 1]) && is_hex_digit(text[i + 2])) {
            out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

// Every byte from 0x00 to 0x20 (the literal is sized explicitly because it starts with a NUL).
constexpr char kWhatwgC0ControlOrSpaceBytes[] =
    "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
    "\x1b"
    "\x1c\x1d\x1e\x1f ";
constexpr std::string_view kWhatwgC0ControlOrSpace(kWhatwgC0ControlOrSpaceBytes,
                                                   sizeof kWhatwgC0ControlOrSpaceBytes - 1);

bool is_scheme_char(char c) {
    return is_ascii_alpha(c) || is_ascii_digit(c) || c == '+' || c == '-' || c == '.';
}

}  // namespace

std::optional<std::string> SplitUrl::username() const {
    auto [userinfo, has_info, host] = rpartition(netloc, '@');
    if (!has_info) return std::nullopt;
    return std::string(partition(userinfo, ':').before);
}

std::optional<std::string> SplitUrl::password() const {
    auto [userinfo, has_info, host] = rpartition(netloc, '@');
    if (!has_info) return std::nullopt;
    auto [user, has_password, password] = partition(userinfo, ':');
    if (!has_password) return std::nullopt;
    return std::string(password);
}

std::optional<std::string> SplitUrl::hostname() const {
    auto host = host_info(netloc).first;
    if (host.empty()) return std::nullopt;
    auto [name, has_zone, zone] = partition(host, '%');
    std::string result = python_lower(name);
    if (has_zone) result.append("%").append(zone);
    return result;
}

Result<std::optional<int>> SplitUrl::port() const {
    auto port = host_info(netloc).second;
    if (!port) return std::optional<int>();
    if (!all_digits(*port)) return make_error("Port could not be cast to integer value as '{}'", *port);
    auto digits = port->substr(std::min(port->find_first_not_of('0'), port->size()));
    if (digits.size() > 5) return make_error("Port out of range 0-65535");
    int value = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (value > 65535) return make_error("Port out of range 0-65535");
    return std::optional<int>(value);
}

Result<SplitUrl> urlsplit(std::string_view input) {
    auto first_kept = input.find_first_not_of(kWhatwgC0ControlOrSpace);
    input = first_kept == std::string_view::npos ? std::string_view() : input.substr(first_kept);
    std::string url;
    url.reserve(input.size());
    for (char c : input) {
        if (c != '\t' && c != '\r' && c != '\n') url.push_back(c);
    }
    SplitUrl result;
    std::string_view rest = url;
    auto colon = rest.find(':');
    if (colon != std::string_view::npos && colon > 0 && is_ascii_alpha(rest[0]) &&
        std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(colon), is_scheme_char)) {
        result.scheme = python_lower(rest.substr(0, colon));
        rest = rest.substr(colon + 1);
    }
    if (rest.starts_with("//")) {
        auto end = std::min(rest.find_first_of("/?#", 2), rest.size());
        result.netloc = std::string(rest.substr(2, end - 2));
        rest = rest.substr(end);
        bool open = result.netloc.find('[') != std::string::npos;
        bool close = result.netloc.find(']') != std::string::npos;
        if (open != close) return make_error("Invalid IPv6 URL");
        if (open && close) {
            auto checked = check_bracketed_netloc(result.netloc);
            if (!checked) return checked.error();
        }
    }
    if (auto hash = rest.find('#'); hash != std::string_view::npos) {
        result.fragment = std::string(rest.substr(hash + 1));
        rest = rest.substr(0, hash);
    }
    if (auto question = rest.find('?'); question != std::string_view::npos) {
        result.query = std::string(rest.substr(question + 1));
        rest = rest.substr(0, question);
    }
    result.path = std::string(rest);
    return result;
}

std::string quote(std::string_view text, std::string_view safe) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        bool keep = is_ascii_alpha(c) || is_ascii_digit(c) || c == '_' || c == '.' || c == '-' || c == '~' ||
                    (static_cast<unsigned char>(c) < 0x80 && safe.find(c) != std::string_view::npos);
        if (keep) {
            out.push_back(c);
        } else {
            auto byte = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(kHex[byte >> 4]);
            out.push_back(kHex[byte & 0x0F]);
        }
    }
    return out;
}

std::string quote_plus(std::string_view text, std::string_view safe) {
    if (text.find(' ') == std::string_view::npos) return quote(text, safe);
    std::string with_space(safe);
    with_space.push_back(' ');
    std::string quoted = quote(text, with_space);
    std::replace(quoted.begin(), quoted.end(), ' ', '+');
    return quoted;
}

std::string unquote(std::string_view text) {
    if (text.find('%') == std::string_view::npos) return std::string(text);
    // Python decodes each run of ASCII characters on its own; other characters pass through.
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = pos;
        bool ascii = static_cast<unsigned char>(text[pos]) < 0x80;
        while (end < text.size() && (static_cast<unsigned char>(text[end]) < 0x80) == ascii) ++end;
        auto run = text.substr(pos, end - pos);
        if (ascii) {
            out += decode_replacing(percent_decode(run));
        } else {
            out.append(run);
        }
        pos = end;
    }
    return out;
}

std::string unquote_plus(std::string_view text) {
    std::string spaced(text);
    std::replace(spaced.begin(), spaced.end(), '+', ' ');
    return unquote(spaced);
}

QueryPairs parse_qsl(std::string_view query) {
    QueryPairs pairs;
    if (query.empty()) return pairs;
    for (auto field : split(query, '&')) {
        if (field.empty()) continue;
        auto [name, has_equals, value] = partition(field, '=');
        pairs.emplace_back(unquote_plus(name), unquote_plus(value));
    }
    return pairs;
}

std::string urlencode(const QueryPairs& pairs) {
    std::string out;
    for (const auto& [key, value] : pairs) {
        if (!out.empty()) out.push_back('&');
        out += quote_plus(key);
        out.push_back('=');
        out += quote_plus(value);
    }
    return out;
}

std::string python_lower(std::string_view text) {
    namespace unicode = tmpl::unicode;
    if (unicode::is_ascii(text)) {
        std::string out(text);
        for (char& c : out) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        return out;
    }
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t start = pos;
        char32_t cp = unicode::decode_next(text, pos);
        if (cp == 0xFFFD && text.substr(start, pos - start) != "\xEF\xBF\xBD") {
            out.append(text.substr(start, pos - start));  // keep bytes that are not UTF-8 as they came
        } else {
            unicode::append_utf8(out, unicode::to_lower(cp));
        }
    }
    return out;
}

}  // namespace mayaflow::pyurl
