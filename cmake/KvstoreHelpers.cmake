# Shared settings for every kvstore target.

# C++20, warnings, and (for libraries) installation of the target and its
# public headers under include/kvstore/.
function(kvstore_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports impossible std::string overlaps at -O2 (GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(KVSTORE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Declares kvstore_<name> as a library with public headers in include/ of the
# calling directory, exported as kvstore::<name>.
function(kvstore_add_library name)
  set(target kvstore_${name})
  add_library(${target} ${ARGN})
  add_library(kvstore::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  kvstore_target_defaults(${target})
  install(TARGETS ${target} EXPORT kvstoreTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()

# Declares a driver library kvstore_<name> (kvstore::<name>) that the
# umbrella target kvstore::kvstore links and registers. Extra arguments are
# its sources. Its public header must be <kvstore/<name>.h> declaring
# `std::unique_ptr<KvStore> kvstore::<name>::open(Url&)`.
function(kvstore_add_driver name)
  kvstore_add_library(${name} ${ARGN})
  target_link_libraries(kvstore_${name} PUBLIC kvstore_core)
  set_property(GLOBAL APPEND PROPERTY KVSTORE_DRIVERS ${name})
endfunction()

# Adds CMake code that the installed kvstoreConfig.cmake runs to find a
# driver's dependencies (e.g. "find_dependency(SQLiteCpp)").
function(kvstore_add_package_dependency code)
  set_property(GLOBAL APPEND PROPERTY KVSTORE_PACKAGE_DEPENDENCIES "${code}")
endfunction()
