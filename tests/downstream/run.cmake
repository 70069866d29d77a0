# Builds and runs tests/downstream against this build of kvstore.
#   cmake -DMODE=package|subdirectory -DKVSTORE_SOURCE_DIR=... -DKVSTORE_BINARY_DIR=...
#         -DWORK_DIR=... -DGENERATOR=... -P run.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()

set(configure_args -DMODE=${MODE})
if(MODE STREQUAL "package")
  run(${CMAKE_COMMAND} --install "${KVSTORE_BINARY_DIR}" --prefix "${WORK_DIR}/prefix")
  list(APPEND configure_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  string(REPLACE "|" ";" driver_flags "${DRIVER_FLAGS}")
  list(APPEND configure_args -DKVSTORE_SOURCE_DIR=${KVSTORE_SOURCE_DIR} ${driver_flags})
endif()
run(${CMAKE_COMMAND} -S "${KVSTORE_SOURCE_DIR}/tests/downstream" -B "${WORK_DIR}/build"
    -G "${GENERATOR}" -DCMAKE_BUILD_TYPE=Release ${configure_args})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/downstream")
run("${WORK_DIR}/build/core_memory")
run("${WORK_DIR}/build/custom_driver")

if(MODE STREQUAL "package")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S "${KVSTORE_SOURCE_DIR}/tests/downstream/missing_component"
            -B "${WORK_DIR}/missing" -G "${GENERATOR}" -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "find_package(kvstore COMPONENTS nosuchdriver) succeeded")
  endif()
  if(NOT "${out}${err}" MATCHES "no 'nosuchdriver' component")
    message(FATAL_ERROR "find_package failed without naming the component:\n${out}${err}")
  endif()
  message(STATUS "a missing component fails clearly")
endif()
