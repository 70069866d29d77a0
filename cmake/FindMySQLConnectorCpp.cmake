# FindMySQLConnectorCpp — MySQL Connector/C++ 1.1 (the "legacy" JDBC-like API,
# Debian package libmysqlcppconn-dev), which ships no CMake or pkg-config file.
#
# Result: MySQLConnectorCpp_FOUND, MySQLConnectorCpp_INCLUDE_DIR,
# MySQLConnectorCpp_LIBRARY and the imported target MySQLConnectorCpp::MySQLConnectorCpp.
#
# Only <cppconn/...> headers are looked for: <mysql_driver.h> and
# <mysql_connection.h> include Boost, which kvstore does not need.
# Hints: MySQLConnectorCpp_ROOT (standard <Package>_ROOT search prefix).
find_path(MySQLConnectorCpp_INCLUDE_DIR
  NAMES cppconn/driver.h
  PATH_SUFFIXES include)
find_library(MySQLConnectorCpp_LIBRARY
  NAMES mysqlcppconn
  PATH_SUFFIXES lib lib64)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(MySQLConnectorCpp
  REQUIRED_VARS MySQLConnectorCpp_LIBRARY MySQLConnectorCpp_INCLUDE_DIR)

if(MySQLConnectorCpp_FOUND AND NOT TARGET MySQLConnectorCpp::MySQLConnectorCpp)
  add_library(MySQLConnectorCpp::MySQLConnectorCpp UNKNOWN IMPORTED GLOBAL)
  set_target_properties(MySQLConnectorCpp::MySQLConnectorCpp PROPERTIES
    IMPORTED_LOCATION "${MySQLConnectorCpp_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${MySQLConnectorCpp_INCLUDE_DIR}")
endif()
mark_as_advanced(MySQLConnectorCpp_INCLUDE_DIR MySQLConnectorCpp_LIBRARY)
