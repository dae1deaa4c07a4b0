# Helpers so that every target gets the same warnings, include rules and test labels.

# loyalty_library(name SOURCES ... DEPS ...): a static library with an alias loyalty::name.
function(loyalty_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  string(REGEX REPLACE "^loyalty_" "" short_name ${name})
  add_library(loyalty::${short_name} ALIAS ${name})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()

# loyalty_executable(name SOURCES ... DEPS ...): with jemalloc unless LOYALTY_JEMALLOC is off.
function(loyalty_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  if(LOYALTY_JEMALLOC)
    target_link_libraries(${name} PRIVATE PkgConfig::JEMALLOC)
  endif()
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()

# loyalty_test(name LABEL unit|integration|realkafka|bench SOURCES ... DEPS ... [TIMEOUT s]
#              [DEVKAFKA_ONLY])
# An integration test is registered twice: `name` against the dev broker it starts, and
# `name.realkafka` (label realkafka) against the real cluster that scripts/test.sh starts with
# scripts/kafka.sh (LOYALTY_TEST_KAFKA=real; the cluster is $LOYALTY_TEST_KAFKA_BOOTSTRAP or
# scripts/kafka.sh's default 3-node list: tests/support/process.h). The
# realkafka runs share that cluster, hence the resource lock. DEVKAFKA_ONLY: a test that needs
# something only the dev broker has (say why beside it).
function(loyalty_test name)
  cmake_parse_arguments(ARG "DEVKAFKA_ONLY" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if(ARG_LABEL STREQUAL "realkafka")  # a test of the real cluster only
    set_tests_properties(${name} PROPERTIES LABELS realkafka TIMEOUT ${ARG_TIMEOUT}
      RESOURCE_LOCK realkafka
      ENVIRONMENT "LOYALTY_BIN_DIR=${PROJECT_BINARY_DIR}/bin;LOYALTY_TEST_KAFKA=real")
    return()
  endif()
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "LOYALTY_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
  if(ARG_LABEL STREQUAL "integration" AND NOT ARG_DEVKAFKA_ONLY)
    add_test(NAME ${name}.realkafka COMMAND ${name})
    set_tests_properties(${name}.realkafka PROPERTIES LABELS realkafka TIMEOUT ${ARG_TIMEOUT}
      RESOURCE_LOCK realkafka
      ENVIRONMENT "LOYALTY_BIN_DIR=${PROJECT_BINARY_DIR}/bin;LOYALTY_TEST_KAFKA=real")
  endif()
endfunction()

set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
