// Durations (`retry_delay: 5m`, `execution_timeout: 1h30m`, `PT15M`) and the ISO 8601 date-times read
// beside them: parse, then check that what format_duration prints reads back as the same duration.

#include "engine/time/duration_text.h"
#include "engine/time/iso8601.h"
#include "fuzz/fuzz_support.h"

using namespace mayaflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    if (auto duration = parse_duration(text)) {
        FUZZ_CHECK(duration->count() >= 0);
        auto printed = format_duration(*duration);
        auto again = parse_duration(printed);
        FUZZ_CHECK(again && *again == *duration);
    }
    static const TimeZone tokyo = TimeZone::find("Asia/Tokyo").value();
    if (auto instant = parse_datetime(text, tokyo)) {
        auto printed = format_iso8601(*instant, TimeZone::utc());
        auto again = parse_datetime(printed, TimeZone::utc());
        FUZZ_CHECK(again && *again == *instant);
    }
    return 0;
}
