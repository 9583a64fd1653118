#pragma once
// What the fuzz targets share: the input as text, and a check that aborts (so libFuzzer keeps the input)
// when a property every input must have does not hold.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace mayaflow::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Like assert(), but also in builds with NDEBUG.
#define FUZZ_CHECK(condition)                                                              \
    do {                                                                                    \
        if (!(condition)) {                                                                 \
            std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (false)

}  // namespace mayaflow::fuzz
