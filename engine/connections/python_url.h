#pragma once
// urllib.parse as Python 3.11 runs it, for the parts Airflow's Connection uses: urlsplit and the
// properties of its result, quote, quote_plus, unquote, parse_qsl and urlencode. Airflow's URIs are
// whatever these functions make of a string, quirks included (a host is lower-cased, a password may
// hold any byte percent-encoded), so mayaflow reads and writes them with the same rules.
// Text is UTF-8; Python's code-point operations become byte operations because every delimiter is
// ASCII. Not reproduced: urlsplit's NFKC check of non-ASCII hosts (see docs/connections.md).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow::pyurl {

// What urlsplit() returns: scheme://netloc/path?query#fragment, nothing decoded.
struct SplitUrl {
    std::string scheme;  // lower-cased
    std::string netloc;
    std::string path;
    std::string query;
    std::string fragment;

    // The parts of netloc, as SplitResult's properties compute them.
    std::optional<std::string> username() const;
    std::optional<std::string> password() const;
    std::optional<std::string> hostname() const;  // lower-cased except an IPv6 zone id
    // The port, or an error when it is not digits or past 65535 (Python raises ValueError).
    Result<std::optional<int>> port() const;
};

// urlsplit(url): an error where Python raises ValueError (unbalanced or invalid IPv6 brackets).
Result<SplitUrl> urlsplit(std::string_view url);

// quote(text, safe): every byte except letters, digits, "_.-~" and those in `safe` as %XX.
std::string quote(std::string_view text, std::string_view safe = "/");
// quote_plus(text, safe): as quote, with spaces as '+'.
std::string quote_plus(std::string_view text, std::string_view safe = "");
// unquote(text): %XX sequences decoded as UTF-8, invalid sequences replaced by U+FFFD.
std::string unquote(std::string_view text);
std::string unquote_plus(std::string_view text);

using QueryPairs = std::vector<std::pair<std::string, std::string>>;
// parse_qsl(query, keep_blank_values=True).
QueryPairs parse_qsl(std::string_view query);
// urlencode(pairs): key=value joined by '&', both quote_plus'ed.
std::string urlencode(const QueryPairs& pairs);

// Python's str.lower() for the scripts mayaflow's Unicode tables cover.
std::string python_lower(std::string_view text);

}  // namespace mayaflow::pyurl
