# The header-only async adapters (docs/async.md):
#   kvstore::boost_asio — <kvstore/boost_asio.h>, needs Boost >= 1.74 (headers only)
#   kvstore::asio       — <kvstore/asio.h>, needs standalone asio >= 1.22 (Debian libasio-dev)
# <kvstore/coro.h> needs nothing beyond the core and is part of it.
# Each is built per KVSTORE_WITH_BOOST_ASIO / KVSTORE_WITH_ASIO: AUTO (when
# found), ON (required) or OFF. Their headers live with the core's and are
# installed with them.

foreach(adapter IN ITEMS BOOST_ASIO ASIO)
  set(KVSTORE_WITH_${adapter} AUTO CACHE STRING
    "Build the kvstore::${adapter} adapter target: AUTO (when found), ON (required) or OFF")
  set_property(CACHE KVSTORE_WITH_${adapter} PROPERTY STRINGS AUTO ON OFF)
endforeach()

# Declares the INTERFACE target kvstore_<name>, exported as kvstore::<name>.
function(kvstore_add_adapter name)
  add_library(kvstore_${name} INTERFACE)
  add_library(kvstore::${name} ALIAS kvstore_${name})
  set_target_properties(kvstore_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(kvstore_${name} INTERFACE kvstore_core Threads::Threads ${ARGN})
  target_compile_features(kvstore_${name} INTERFACE cxx_std_20)
  if(KVSTORE_INSTALL)
    install(TARGETS kvstore_${name} EXPORT kvstoreTargets)
  endif()
  set_property(GLOBAL APPEND PROPERTY KVSTORE_ADAPTERS ${name})
endfunction()

find_package(Threads REQUIRED)

# The AUTO|ON|OFF options read as the drivers' are (cmake/KvstoreHelpers.cmake).
kvstore_driver_mode(boost_asio boost_asio_mode)
if(NOT boost_asio_mode STREQUAL "OFF")
  kvstore_driver_requirement(boost_asio boost_requirement)
  find_package(Boost 1.74 ${boost_requirement})
  if(Boost_FOUND)
    kvstore_add_adapter(boost_asio Boost::headers)
    kvstore_add_package_dependency("find_dependency(Boost ${Boost_MAJOR_VERSION}.${Boost_MINOR_VERSION})")
    message(STATUS "kvstore: kvstore::boost_asio adapter with Boost ${Boost_VERSION}")
    # use_awaitable needs Boost.Asio's C++20 coroutines (GCC 12; not clang 14
    # with libstdc++): the example and the conformance suite's asio run.
    include(CheckCXXSourceCompiles)
    set(CMAKE_REQUIRED_FLAGS "-std=c++20")
    set(CMAKE_REQUIRED_INCLUDES "${Boost_INCLUDE_DIRS}")
    check_cxx_source_compiles([=[
#include <utility>
#include <boost/asio/awaitable.hpp>
#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error no co_await
#endif
int main() { return 0; }
]=] KVSTORE_BOOST_ASIO_HAS_CO_AWAIT)
    unset(CMAKE_REQUIRED_FLAGS)
    unset(CMAKE_REQUIRED_INCLUDES)
  else()
    message(STATUS "kvstore: not building kvstore::boost_asio: Boost >= 1.74 not found "
                   "(Debian libboost-dev; -DKVSTORE_WITH_BOOST_ASIO=OFF silences this)")
  endif()
endif()

kvstore_driver_mode(asio asio_mode)
if(NOT asio_mode STREQUAL "OFF")
  # Debian's libasio-dev ships no CMake or pkg-config file.
  find_path(KVSTORE_ASIO_INCLUDE_DIR asio.hpp PATH_SUFFIXES include
    DOC "Directory holding standalone asio's asio.hpp")
  set(asio_version "")
  if(KVSTORE_ASIO_INCLUDE_DIR AND EXISTS "${KVSTORE_ASIO_INCLUDE_DIR}/asio/version.hpp")
    file(STRINGS "${KVSTORE_ASIO_INCLUDE_DIR}/asio/version.hpp" line
      REGEX "^#define ASIO_VERSION [0-9]+")
    string(REGEX REPLACE "^#define ASIO_VERSION ([0-9]+).*" "\\1" number "${line}")
    math(EXPR major "${number} / 100000")
    math(EXPR minor "${number} / 100 % 1000")
    math(EXPR patch "${number} % 100")
    set(asio_version "${major}.${minor}.${patch}")
  endif()
  if(asio_version AND asio_version VERSION_GREATER_EQUAL 1.22)
    kvstore_add_adapter(asio)
    # ASIO_STANDALONE: never fall back to Boost's configuration headers.
    target_compile_definitions(kvstore_asio INTERFACE ASIO_STANDALONE)
    target_include_directories(kvstore_asio SYSTEM INTERFACE "${KVSTORE_ASIO_INCLUDE_DIR}")
    message(STATUS "kvstore: kvstore::asio adapter with standalone asio ${asio_version}")
  elseif(asio_mode STREQUAL "ON")
    message(FATAL_ERROR "KVSTORE_WITH_ASIO=ON but standalone asio >= 1.22 was not found "
                        "(found: '${asio_version}'; Debian libasio-dev)")
  else()
    message(STATUS "kvstore: not building kvstore::asio: standalone asio >= 1.22 not found "
                   "(Debian libasio-dev; -DKVSTORE_WITH_ASIO=OFF silences this)")
  endif()
endif()
