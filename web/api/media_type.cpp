#include "web/api/media_type.h"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/trim.hpp>

#include <string>
#include <vector>

namespace mayaflow {
namespace {

struct AcceptedRange {
    std::string type;  // "text/plain", "text/*", "*/*"
    double q = 1;
};

std::vector<AcceptedRange> parse_accept(const std::string& header) {
    std::vector<AcceptedRange> ranges;
    size_t start = 0;
    while (start <= header.size()) {
        size_t end = header.find(',', start);
        if (end == std::string::npos) end = header.size();
        std::string item = header.substr(start, end - start);
        start = end + 1;
        AcceptedRange range;
        const size_t semicolon = item.find(';');
        range.type = boost::algorithm::to_lower_copy(boost::algorithm::trim_copy(item.substr(0, semicolon)));
        if (range.type.empty()) continue;
        for (size_t at = semicolon; at != std::string::npos;) {
            const size_t next = item.find(';', at + 1);
            std::string parameter = boost::algorithm::trim_copy(item.substr(at + 1, next - at - 1));
            if (parameter.size() > 2 && (parameter[0] == 'q' || parameter[0] == 'Q') && parameter[1] == '=') {
                try {
                    range.q = std::stod(parameter.substr(2));
                } catch (const std::exception&) {
                    range.q = 0;  // a q that is not a number accepts nothing, rather than everything
                }
            }
            at = next;
        }
        ranges.push_back(std::move(range));
    }
    return ranges;
}

// How well `range` names `type`: 3 exactly, 2 as type/*, 1 as */*, 0 not at all.
int specificity(const std::string& range, std::string_view type) {
    if (range == type) return 3;
    if (range == "*/*") return 1;
    const auto slash = type.find('/');
    if (range.size() == slash + 2 && range.ends_with("/*") && type.substr(0, slash) == range.substr(0, slash)) return 2;
    return 0;
}

}  // namespace

std::optional<std::string_view> negotiate_media_type(const WebRequest& request,
                                                     std::initializer_list<std::string_view> offered) {
    const auto header = request.headers.find("accept");
    if (header == request.headers.end() || boost::algorithm::trim_copy(header->second).empty()) {
        return offered.size() ? std::optional(*offered.begin()) : std::nullopt;
    }
    const auto ranges = parse_accept(header->second);
    std::optional<std::string_view> best;
    double best_q = 0;
    for (std::string_view type : offered) {
        int most_specific = 0;
        double q = 0;
        for (const auto& range : ranges) {
            const int level = specificity(range.type, type);
            if (level > most_specific) {
                most_specific = level;
                q = range.q;
            }
        }
        if (most_specific > 0 && q > best_q) {
            best = type;
            best_q = q;
        }
    }
    return best;
}

}  // namespace mayaflow
