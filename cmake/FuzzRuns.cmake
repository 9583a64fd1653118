# libFuzzer in the g++ sanitizer build: the fuzz targets (fuzz/<name>_fuzz.cpp) linked with Debian's
# libFuzzer (libclang-rt-14-dev) as build-sanitize/fuzz/<name>_fuzz, and a CTest test fuzz_run_<name> that
# fuzzes each for 30 s (scripts/fuzz), so the README's test command fuzzes every parser without a
# second, clang, build of the tree (~1,900 s of compiling). Coverage: the folders of the parsers and of
# what the targets drive are compiled with -fsanitize-coverage=trace-pc,trace-cmp; trace-pc calls reach
# fuzz/coverage_counters.cpp in the targets and fuzz/coverage_fallback.cpp (nothing) everywhere else;
# the comparisons feed libFuzzer's own hooks, and libasan's empty ones elsewhere. The clang build
# (fuzz/CMakeLists.txt) stays for long runs with clang's finer coverage (docs/fuzzing.md).
if(NOT MAYAFLOW_SANITIZE)
  return()
endif()

file(GLOB MAYAFLOW_LIBFUZZER /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a)
if(NOT MAYAFLOW_LIBFUZZER)
  message(FATAL_ERROR "the sanitizer build fuzzes with libFuzzer: install it with "
                      "`apt-get install libclang-rt-14-dev` (scripts/install-deps --test does)")
endif()
list(GET MAYAFLOW_LIBFUZZER 0 MAYAFLOW_LIBFUZZER)
find_program(MAYAFLOW_OBJCOPY objcopy REQUIRED)

set(MAYAFLOW_FUZZ_COVERED_DIRS engine/util engine/config engine/time engine/template engine/model engine/dagfile
    engine/connections ${MAYAFLOW_OPERATOR_DIRS} ${MAYAFLOW_WEB_DIRS})
mayaflow_sources(fuzz_covered_sources ${MAYAFLOW_FUZZ_COVERED_DIRS})
set_property(SOURCE ${fuzz_covered_sources} APPEND PROPERTY COMPILE_OPTIONS
             -fsanitize-coverage=trace-pc,trace-cmp)
target_sources(mayaflow_engine PRIVATE fuzz/coverage_fallback.cpp fuzz/coverage_float_compares.cpp)

# libFuzzer with its __sanitizer_cov_trace_pc made weak (see fuzz/coverage_counters.cpp).
set(fuzz_runtime ${CMAKE_BINARY_DIR}/fuzz/libFuzzer-weak-trace-pc.a)
add_custom_command(OUTPUT ${fuzz_runtime}
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/fuzz
                   COMMAND ${MAYAFLOW_OBJCOPY} -W __sanitizer_cov_trace_pc ${MAYAFLOW_LIBFUZZER} ${fuzz_runtime}
                   DEPENDS ${MAYAFLOW_LIBFUZZER}
                   COMMENT "libFuzzer with a weak __sanitizer_cov_trace_pc")
add_custom_target(mayaflow_fuzz_runtime DEPENDS ${fuzz_runtime})
add_library(mayaflow_fuzz_coverage OBJECT fuzz/coverage_counters.cpp)

# mayaflow_fuzz_run(<name> <library>): the target, linked with libFuzzer's main, and its 30 s run.
function(mayaflow_fuzz_run name library)
  add_executable(${name}_fuzz fuzz/${name}_fuzz.cpp $<TARGET_OBJECTS:mayaflow_fuzz_coverage>)
  add_dependencies(${name}_fuzz mayaflow_fuzz_runtime)
  target_link_libraries(${name}_fuzz PRIVATE ${library} ${fuzz_runtime})
  target_compile_definitions(${name}_fuzz PRIVATE MAYAFLOW_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  set_target_properties(${name}_fuzz PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_test(NAME fuzz_run_${name}
           COMMAND ${CMAKE_SOURCE_DIR}/scripts/fuzz --no-build --bin-dir ${CMAKE_BINARY_DIR}/fuzz
                   --work-dir ${CMAKE_BINARY_DIR}/fuzz-work --seeds-dir ${CMAKE_BINARY_DIR}/fuzz-seeds
                   --targets ${name} --seconds 30 --show-log
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(fuzz_run_${name} PROPERTIES TIMEOUT 240 FIXTURES_REQUIRED fuzz_seeds)
endfunction()

mayaflow_fuzz_run(cron mayaflow_engine)
mayaflow_fuzz_run(duration mayaflow_engine)
mayaflow_fuzz_run(template mayaflow_engine)
mayaflow_fuzz_run(connection_uri mayaflow_engine)
mayaflow_fuzz_run(connection_file mayaflow_engine)
mayaflow_fuzz_run(dag_yaml mayaflow_operators)
mayaflow_fuzz_run(notebook mayaflow_operators)
mayaflow_fuzz_run(api_request mayaflow_web)
