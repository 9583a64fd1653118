// In the sanitizer build the parsers are compiled with -fsanitize-coverage=trace-pc for the fuzz runs
// (cmake/FuzzRuns.cmake), so every program that links them needs __sanitizer_cov_trace_pc: outside the
// fuzz targets, which define it (fuzz/coverage_counters.cpp), it is this one, which does nothing.
extern "C" __attribute__((weak, no_sanitize_address, no_sanitize_undefined)) void __sanitizer_cov_trace_pc() {}
