#include "engine/time/time_zone.h"

#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/time/posix_tz_rule.h"
#include "engine/util/text.h"

namespace mayaflow {

using std::chrono::seconds;

// The date library (reading the OS database) knows only the transitions a TZif file lists, which for
// most zones end in 2037; after the last one the file's footer rule keeps the clocks changing.
struct TimeZoneTail {
    Instant from;  // the last listed transition
    PosixTzRule rule;
};

namespace {

constexpr const char* kZoneDirectory = "/usr/share/zoneinfo";

std::string lower_ascii(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
}

bool is_utc_name(std::string_view name) {
    if (name.size() > 7) return false;
    const std::string lower = lower_ascii(name);
    return lower == "utc" || lower == "etc/utc";
}

// Reads the last transition and the footer rule of a TZif file (RFC 8536); nullopt when the file is
// version 1, has no footer, or its footer has no daylight saving time to add.
std::optional<TimeZoneTail> read_tzif_tail(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto be32 = [&](size_t at) -> std::uint32_t {
        std::uint32_t v = 0;
        for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(data[at + i]);
        return v;
    };
    auto be64 = [&](size_t at) -> std::int64_t {
        std::uint64_t v = 0;
        for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(data[at + i]);
        return static_cast<std::int64_t>(v);
    };
    struct Counts {
        std::uint64_t isut, isstd, leap, time, type, chars;
    };
    auto counts_at = [&](size_t header) -> std::optional<Counts> {
        if (header + 44 > data.size() || data.compare(header, 4, "TZif") != 0) return std::nullopt;
        return Counts{be32(header + 20), be32(header + 24), be32(header + 28),
                      be32(header + 32), be32(header + 36), be32(header + 40)};
    };

    auto v1 = counts_at(0);
    if (!v1 || data[4] < '2') return std::nullopt;
    const std::uint64_t v1_size =
        v1->time * 5 + v1->type * 6 + v1->chars + v1->leap * 8 + v1->isstd + v1->isut;
    const size_t header2 = 44 + v1_size;
    auto v2 = counts_at(header2);
    if (!v2) return std::nullopt;
    const size_t body = header2 + 44;
    const std::uint64_t v2_size =
        v2->time * 9 + v2->type * 6 + v2->chars + v2->leap * 12 + v2->isstd + v2->isut;
    const size_t footer = body + v2_size;
    if (footer + 1 > data.size() || data[footer] != '\n') return std::nullopt;
    const size_t footer_end = data.find('\n', footer + 1);
    if (footer_end == std::string::npos) return std::nullopt;

    auto rule = PosixTzRule::parse(std::string_view(data).substr(footer + 1, footer_end - footer - 1));
    if (!rule.ok() || !rule->has_daylight_saving() || v2->time == 0) return std::nullopt;
    const Instant last_transition{seconds{be64(body + (v2->time - 1) * 8)}};
    return TimeZoneTail{last_transition, std::move(rule).value()};
}

// Tails are read once per zone name.
std::shared_ptr<const TimeZoneTail> tail_for(const std::string& name) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const TimeZoneTail>> cache;
    std::lock_guard<std::mutex> lock(mutex);
    auto found = cache.find(name);
    if (found != cache.end()) return found->second;
    std::shared_ptr<const TimeZoneTail> tail;
    if (auto read = read_tzif_tail(std::string(kZoneDirectory) + "/" + name)) {
        tail = std::make_shared<const TimeZoneTail>(std::move(*read));
    }
    cache.emplace(name, tail);
    return tail;
}

// The zone name nearest to a misspelt one ("Asia/Tokio" -> "Asia/Tokyo", "tokyo" -> "Asia/Tokyo"),
// or the usual example when nothing is near.
std::string suggest_zone(std::string_view wrong) {
    const std::string example = "Asia/Tokyo";
    // No zone name is longer than this; a longer text is not a typo of one, and comparing it with
    // each of the ~600 names would take long for a pasted megabyte.
    if (wrong.size() > kMaxSuggestedWordLength) return example;
    std::string wanted = lower_ascii(wrong);
    std::replace(wanted.begin(), wanted.end(), ' ', '_');
    std::string best = example;
    size_t best_distance = std::max<size_t>(3, wanted.size() / 4) + 1;
    try {
        for (const auto& zone : date::get_tzdb().zones) {
            const std::string name = lower_ascii(zone.name());
            const size_t slash = name.rfind('/');
            size_t distance = edit_distance_within(wanted, name, best_distance - 1);
            if (slash != std::string::npos) {
                distance = std::min(distance,
                                    edit_distance_within(wanted, std::string_view(name).substr(slash + 1), best_distance - 1));
            }
            if (distance < best_distance) {
                best_distance = distance;
                best = std::string(zone.name());
            }
        }
    } catch (const std::exception&) {
        // No database to search: the example stands.
    }
    return best;
}

// A wall-clock time resolved, with the offset in force just before a gap (to move a gap time forward).
struct DetailedResolution {
    LocalTimeResolution resolution;
    seconds offset_before_gap{0};
};

LocalTimeResolution unique_at(Instant instant) {
    LocalTimeResolution r;
    r.kind = LocalTimeResolution::Kind::unique;
    r.earlier = instant;
    r.later = instant;
    return r;
}

}  // namespace

TimeZone TimeZone::utc() {
    return TimeZone("UTC", nullptr, nullptr);
}

Result<TimeZone> TimeZone::find(std::string_view name) {
    if (name.empty()) {
        return make_error("time zone name is empty: use an IANA name such as \"Asia/Tokyo\" or \"UTC\"");
    }
    if (is_utc_name(name)) return utc();
    try {
        date::get_tzdb();
    } catch (const std::exception& e) {
        return make_error(
            "cannot read the time zone database in {} to look up {} ({}): install the "
            "tzdata package",
            kZoneDirectory, quote_for_message(name), e.what());
    }
    const date::time_zone* zone = nullptr;
    try {
        zone = date::locate_zone(name);
    } catch (const std::exception&) {
        return make_error("unknown time zone {}: use an IANA name such as \"{}\" or \"UTC\"",
                          quote_for_message(name), suggest_zone(name));
    }
    std::string canonical(name);
    return TimeZone(canonical, zone, tail_for(canonical));
}

namespace {

struct OffsetAndAbbreviation {
    seconds offset{0};
    std::string abbreviation;
};

OffsetAndAbbreviation info_at(const date::time_zone* zone, const TimeZoneTail* tail, Instant instant) {
    if (zone == nullptr) return {seconds{0}, "UTC"};
    if (tail != nullptr && instant >= tail->from) {
        auto period = tail->rule.period_at(instant);
        return {period.offset, period.abbreviation};
    }
    const auto info = zone->get_info(std::chrono::floor<seconds>(instant));
    return {info.offset, info.abbrev};
}

DetailedResolution resolve_with_rule(const TimeZoneTail& tail, LocalTime local) {
    const Instant as_utc{local.time_since_epoch()};
    const auto std_offset = tail.rule.standard_offset();
    const auto dst_offset = tail.rule.daylight_offset();
    const Instant with_std = as_utc - std_offset;
    const Instant with_dst = as_utc - dst_offset;
    const bool std_fits = tail.rule.period_at(with_std).offset == std_offset;
    const bool dst_fits = tail.rule.period_at(with_dst).offset == dst_offset;
    DetailedResolution d;
    if (std_fits && dst_fits && with_std != with_dst) {
        d.resolution.kind = LocalTimeResolution::Kind::ambiguous;
        d.resolution.earlier = std::min(with_std, with_dst);
        d.resolution.later = std::max(with_std, with_dst);
    } else if (std_fits || dst_fits) {
        d.resolution = unique_at(std_fits ? with_std : with_dst);
    } else {
        // In a gap the later candidate uses the offset from before the jump and lies after it.
        const auto after = tail.rule.period_at(std::max(with_std, with_dst));
        d.offset_before_gap = tail.rule.period_at(std::min(with_std, with_dst)).offset;
        d.resolution.kind = LocalTimeResolution::Kind::nonexistent;
        d.resolution.earlier = after.begin;
        d.resolution.later = after.begin;
        d.resolution.gap = after.offset - d.offset_before_gap;
    }
    return d;
}

DetailedResolution resolve_detailed(const date::time_zone* zone, const TimeZoneTail* tail, LocalTime local) {
    const Instant as_utc{local.time_since_epoch()};
    if (zone == nullptr) return {unique_at(as_utc), seconds{0}};
    // The tail rule changes clocks months apart, so a day's margin keeps both answers in one regime.
    if (tail != nullptr && as_utc - std::chrono::days{1} >= tail->from) {
        return resolve_with_rule(*tail, local);
    }

    const date::local_seconds whole{std::chrono::floor<seconds>(local.time_since_epoch())};
    const auto info = zone->get_info(whole);
    DetailedResolution d;
    switch (info.result) {
        case date::local_info::unique:
            d.resolution = unique_at(as_utc - info.first.offset);
            break;
        case date::local_info::ambiguous:
            d.resolution.kind = LocalTimeResolution::Kind::ambiguous;
            d.resolution.earlier = as_utc - info.first.offset;
            d.resolution.later = as_utc - info.second.offset;
            break;
        case date::local_info::nonexistent:
            d.resolution.kind = LocalTimeResolution::Kind::nonexistent;
            d.resolution.earlier = Instant{info.second.begin};
            d.resolution.later = d.resolution.earlier;
            d.resolution.gap = info.second.offset - info.first.offset;
            d.offset_before_gap = info.first.offset;
            break;
    }
    return d;
}

}  // namespace

seconds TimeZone::offset_at(Instant instant) const {
    return info_at(zone_, tail_.get(), instant).offset;
}

std::string TimeZone::abbreviation_at(Instant instant) const {
    return info_at(zone_, tail_.get(), instant).abbreviation;
}

LocalTime TimeZone::to_local(Instant instant) const {
    return LocalTime{instant.time_since_epoch() + offset_at(instant)};
}

LocalTimeResolution TimeZone::resolve(LocalTime local) const {
    return resolve_detailed(zone_, tail_.get(), local).resolution;
}

Instant TimeZone::from_local(LocalTime local, bool prefer_later) const {
    const auto d = resolve_detailed(zone_, tail_.get(), local);
    switch (d.resolution.kind) {
        case LocalTimeResolution::Kind::unique:
            return d.resolution.earlier;
        case LocalTimeResolution::Kind::ambiguous:
            return prefer_later ? d.resolution.later : d.resolution.earlier;
        case LocalTimeResolution::Kind::nonexistent:
            break;
    }
    // Read with the offset from before the jump, a gap time lands the gap's length after the wall
    // time it names: 02:30 on a spring-forward night in New York becomes 03:30 EDT.
    return Instant{local.time_since_epoch()} - d.offset_before_gap;
}

}  // namespace mayaflow
