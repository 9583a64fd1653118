#include "web/api/route_table.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace mayaflow {
namespace {

std::vector<std::string> split_pattern(const std::string& pattern) {
    std::vector<std::string> segments;
    if (pattern == "/") return segments;  // the root has no segments, as a parsed URL's path
    size_t start = 1;  // after the leading '/'
    while (start <= pattern.size()) {
        size_t slash = pattern.find('/', start);
        if (slash == std::string::npos) slash = pattern.size();
        segments.push_back(pattern.substr(start, slash - start));
        start = slash + 1;
    }
    return segments;
}

bool is_param(const std::string& segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Whether the route's pattern matches, and how specific it is: one bit per literal segment, the
// first segment the highest, so that a literal early on beats a parameter there.
bool matches(const Route& route, const std::vector<std::string>& segments, unsigned long long& specificity) {
    if (route.segments.size() != segments.size()) return false;
    specificity = 0;
    for (size_t i = 0; i < segments.size(); ++i) {
        specificity <<= 1;
        if (is_param(route.segments[i])) {
            if (segments[i].empty()) return false;
        } else {
            if (route.segments[i] != segments[i]) return false;
            specificity |= 1;
        }
    }
    return true;
}

}  // namespace

void RouteTable::add(std::string method, std::string pattern, Access access, RouteHandler handler) {
    if (pattern.empty() || pattern.front() != '/') throw std::logic_error("route pattern must start with '/': " + pattern);
    for (const auto& route : routes_) {
        if (route.method == method && route.pattern == pattern) {
            throw std::logic_error("route added twice: " + method + " " + pattern);
        }
    }
    auto segments = split_pattern(pattern);
    routes_.push_back(Route{std::move(method), std::move(pattern), access, std::move(handler), std::move(segments)});
}

RouteMatch RouteTable::match(const std::string& method, const std::vector<std::string>& segments) const {
    const std::string& wanted = method == "HEAD" ? std::string("GET") : method;
    RouteMatch result;
    unsigned long long best = 0;
    bool found = false;
    std::set<std::string> allowed;
    for (const auto& route : routes_) {
        unsigned long long specificity = 0;
        if (!matches(route, segments, specificity)) continue;
        allowed.insert(route.method);
        if (route.method != wanted) continue;
        if (!found || specificity > best) {
            found = true;
            best = specificity;
            result.route = &route;
        }
    }
    if (result.route) {
        for (size_t i = 0; i < segments.size(); ++i) {
            const auto& name = result.route->segments[i];
            if (is_param(name)) result.params[name.substr(1, name.size() - 2)] = segments[i];
        }
        return result;
    }
    if (allowed.count("GET")) allowed.insert("HEAD");
    result.allowed.assign(allowed.begin(), allowed.end());
    return result;
}

}  // namespace mayaflow
