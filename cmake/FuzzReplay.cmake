# The fuzz targets (fuzz/<name>_fuzz.cpp) built a second time in the main g++ build, each with
# fuzz/replay_main.cpp instead of libFuzzer: fuzz_replay_<name> runs the target once on every
# hand-written seed (fuzz/corpus/<name>), every seed fuzz/gather-seeds finds in the tests and examples
# (the fixture test fuzz_gather_seeds writes them to <build>/fuzz-seeds/) and every input a fuzzing run
# found (fuzz/regressions/<name>), under the build's sanitizers, as a CTest test. Fuzzing itself needs
# clang (fuzz/CMakeLists.txt, scripts/fuzz).
find_program(MAYAFLOW_DEBIAN_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
add_test(NAME fuzz_gather_seeds COMMAND ${MAYAFLOW_DEBIAN_PYTHON} ${CMAKE_SOURCE_DIR}/fuzz/gather-seeds
         ${CMAKE_BINARY_DIR}/fuzz-seeds)
set_tests_properties(fuzz_gather_seeds PROPERTIES TIMEOUT 120 FIXTURES_SETUP fuzz_seeds)
#
# mayaflow_fuzz_replay(<name> <library>): the target and the lowest layer it needs.
function(mayaflow_fuzz_replay name library)
  add_executable(fuzz_replay_${name} fuzz/${name}_fuzz.cpp fuzz/replay_main.cpp)
  target_link_libraries(fuzz_replay_${name} PRIVATE ${library})
  target_compile_definitions(fuzz_replay_${name} PRIVATE MAYAFLOW_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  set(inputs ${CMAKE_SOURCE_DIR}/fuzz/corpus/${name} ${CMAKE_BINARY_DIR}/fuzz-seeds/${name})
  if(EXISTS ${CMAKE_SOURCE_DIR}/fuzz/regressions/${name})
    list(APPEND inputs ${CMAKE_SOURCE_DIR}/fuzz/regressions/${name})
  endif()
  add_test(NAME fuzz_replay_${name} COMMAND fuzz_replay_${name} ${inputs})
  set_tests_properties(fuzz_replay_${name} PROPERTIES TIMEOUT 300 FIXTURES_REQUIRED fuzz_seeds)
endfunction()

mayaflow_fuzz_replay(cron mayaflow_engine)
mayaflow_fuzz_replay(duration mayaflow_engine)
mayaflow_fuzz_replay(template mayaflow_engine)
mayaflow_fuzz_replay(connection_uri mayaflow_engine)
mayaflow_fuzz_replay(connection_file mayaflow_engine)
mayaflow_fuzz_replay(dag_yaml mayaflow_operators)
mayaflow_fuzz_replay(notebook mayaflow_operators)
mayaflow_fuzz_replay(api_request mayaflow_web)
