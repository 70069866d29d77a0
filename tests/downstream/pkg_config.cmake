# Installs this build of kvstore and builds tests/downstream/pkg_config_main.cpp
# with the compiler and `pkg-config --cflags --libs kvstore` only (no CMake
# package), then runs it.
#   cmake -DKVSTORE_SOURCE_DIR=... -DKVSTORE_BINARY_DIR=... -DWORK_DIR=... -DCXX=...
#         -DDRIVERS="memory;sqlite;..." -DSHARED=ON|OFF -DSANITIZE=... -P pkg_config.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install "${KVSTORE_BINARY_DIR}" --prefix "${WORK_DIR}/prefix")
file(GLOB_RECURSE pc_files "${WORK_DIR}/prefix/*/kvstore.pc")
list(LENGTH pc_files count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "expected one installed kvstore.pc, found: ${pc_files}")
endif()
get_filename_component(pc_dir "${pc_files}" DIRECTORY)
get_filename_component(cmake_dir "${pc_dir}/../cmake/kvstore" ABSOLUTE)
if(NOT EXISTS "${cmake_dir}/kvstoreConfig.cmake")
  message(FATAL_ERROR "kvstore.pc (${pc_dir}) is not next to the CMake package")
endif()

# Static libraries need --static: the client libraries are Requires.private.
set(static "")
if(NOT SHARED)
  set(static --static)
endif()
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
run(pkg-config --modversion kvstore)
message(STATUS "kvstore.pc version ${run_output}")
run(pkg-config ${static} --cflags --libs kvstore)
string(STRIP "${run_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
message(STATUS "pkg-config flags: ${flags}")
set(sanitize "")
if(SANITIZE)
  set(sanitize -fsanitize=${SANITIZE})
endif()
run(${CXX} -std=c++20 ${sanitize} "${KVSTORE_SOURCE_DIR}/tests/downstream/pkg_config_main.cpp"
    -o "${WORK_DIR}/pkg_config_main" ${flags})
list(REMOVE_ITEM DRIVERS memory)
run("${WORK_DIR}/pkg_config_main" ${DRIVERS})
message(STATUS "${run_output}")
