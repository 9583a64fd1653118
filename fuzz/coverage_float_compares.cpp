// g++'s -fsanitize-coverage=trace-cmp (cmake/FuzzRuns.cmake) also reports comparisons of floats and
// doubles, to hooks that neither libasan nor libFuzzer 14 defines: these do nothing, in every program
// that links the instrumented folders, the fuzz targets too (libFuzzer learns nothing from such
// comparisons). A file of its own: the linker takes it for these two symbols alone.
extern "C" __attribute__((weak, no_sanitize_address, no_sanitize_undefined)) void __sanitizer_cov_trace_cmpf(float,
                                                                                                         float) {}
extern "C" __attribute__((weak, no_sanitize_address, no_sanitize_undefined)) void __sanitizer_cov_trace_cmpd(double,
                                                                                                         double) {}
