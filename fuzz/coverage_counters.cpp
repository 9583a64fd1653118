// Edge coverage for libFuzzer in the g++ sanitizer build (cmake/FuzzRuns.cmake). g++ cannot emit the
// counters clang's -fsanitize=fuzzer does; its -fsanitize-coverage=trace-pc calls
// __sanitizer_cov_trace_pc() at the start of every basic block instead. This counts each pair of
// consecutive blocks (AFL's edges: the caller's address mixed with the previous block's) in a table of
// 8-bit counters that libFuzzer reads as it reads clang's. libFuzzer 14 has its own
// __sanitizer_cov_trace_pc, which only says trace-pc is no longer supported: the build links a copy of
// its archive in which that symbol is weak, so this one is used.

#include <cstddef>
#include <cstdint>

extern "C" void __sanitizer_cov_8bit_counters_init(std::uint8_t* start, std::uint8_t* stop);

namespace {

constexpr std::size_t kCounters = std::size_t{1} << 18;  // the instrumented code has ~100,000 blocks
alignas(64) std::uint8_t counters[kCounters];
thread_local std::uintptr_t previous_block = 0;

// Runs before main(), so before libFuzzer looks for counters.
[[maybe_unused]] const bool registered = [] {
    __sanitizer_cov_8bit_counters_init(counters, counters + kCounters);
    return true;
}();

}  // namespace

extern "C" __attribute__((no_sanitize_address, no_sanitize_undefined)) void __sanitizer_cov_trace_pc() {
    std::uintptr_t block = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
    block ^= block >> 17;
    const std::size_t edge = (block ^ previous_block) & (kCounters - 1);
    previous_block = block >> 1;  // shifted, so that A -> B and B -> A count apart
    ++counters[edge];
}
