#include "mysql_errors.h"

#include <string>

namespace kvstore::mysql {

namespace {

enum class Kind {
  connection_unsent,  // the connection is unusable and the statement never ran
  connection_lost,    // the connection broke; the statement may have run
  other,
};

Kind kind_of(int error_number) {
  switch (error_number) {
    case 2002:  // CR_CONNECTION_ERROR (socket)
    case 2003:  // CR_CONN_HOST_ERROR
    case 2005:  // CR_UNKNOWN_HOST
    case 2006:  // CR_SERVER_GONE_ERROR: the command could not be sent
    case 1053:  // ER_SERVER_SHUTDOWN: sent before the server read our command
    case 1040:  // ER_CON_COUNT_ERROR
      return Kind::connection_unsent;
    case 2013:  // CR_SERVER_LOST: the answer never came
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
    case 1152:  // ER_ABORTING_CONNECTION
    case 1158:  // ER_NET_READ_ERROR
    case 1159:  // ER_NET_READ_INTERRUPTED
    case 1160:  // ER_NET_ERROR_ON_WRITE
    case 1161:  // ER_NET_WRITE_INTERRUPTED
      return Kind::connection_lost;
    default:
      return Kind::other;
  }
}

// Server errors that leave the connection usable. Configuration errors (who
// we are, which database) are never unavailable: retrying cannot fix them.
ErrorCode code_of(int error_number) {
  switch (error_number) {
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 1130:  // ER_HOST_NOT_PRIVILEGED
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1290:  // ER_OPTION_PREVENTS_STATEMENT (read_only)
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR (unknown user, unix_socket-only user)
    case 1792:  // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    case 1836:  // ER_READ_ONLY_MODE
      return ErrorCode::permission_denied;
    case 1049:  // ER_BAD_DB_ERROR
    case 1102:  // ER_WRONG_DB_NAME
    case 1300:  // ER_INVALID_CHARACTER_STRING (e.g. a database name that is not UTF-8)
    case 1054:  // ER_BAD_FIELD_ERROR: a table that is not kvstore's
      return ErrorCode::invalid_argument;
    case 1153:  // ER_NET_PACKET_TOO_LARGE
    case 2020:  // CR_NET_PACKET_TOO_LARGE
    case 1406:  // ER_DATA_TOO_LONG
      return ErrorCode::limit_exceeded;
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1969:  // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
    case 3024:  // ER_QUERY_TIMEOUT (MySQL max_execution_time)
      return ErrorCode::timeout;
    case 1213:  // ER_LOCK_DEADLOCK
      return ErrorCode::conflict;
    default:
      return ErrorCode::internal;
  }
}

}  // namespace

bool is_connection_failure(int error_number) noexcept {
  return kind_of(error_number) != Kind::other;
}

bool may_have_run(int error_number) noexcept {
  return kind_of(error_number) == Kind::connection_lost;
}

Failure classify_error(const ServerError& error) {
  Failure f;
  f.message = error.what();
  f.native_code = std::to_string(error.error_number());
  const Kind kind = kind_of(error.error_number());
  if (kind != Kind::other) {
    f.code = error.timed_out() ? ErrorCode::timeout : ErrorCode::unavailable;
    f.connection_broken = true;
    f.maybe_sent = kind == Kind::connection_lost && error.write_sent();
    // A step that ran into its timeout ends the call: a second attempt would
    // stack another timeout on the first. A fast failure (a restarted server)
    // is worth one more try on a new connection.
    f.transient = !error.timed_out();
    return f;
  }
  f.code = code_of(error.error_number());
  switch (error.error_number()) {
    case 1213:
      // InnoDB rolled the statement back: it certainly did not apply, so
      // even a cas may run again.
      f.maybe_sent = false;
      f.transient = true;
      break;
    case 1205:
    case 1969:
    case 3024:
      // Rolled back too, but repeating would wait as long again.
      f.maybe_sent = false;
      break;
    case 1153:
      // The server drops a connection that sent a packet above
      // max_allowed_packet, after refusing the statement.
      f.connection_broken = true;
      f.maybe_sent = false;
      break;
    default:
      // The server answered with an error: the statement did not apply.
      f.maybe_sent = false;
      break;
  }
  return f;
}

Failure classify(const std::exception& e) {
  if (const auto* server = dynamic_cast<const ServerError*>(&e)) return classify_error(*server);
  // bad_alloc or the like in the middle of a call: the connection's state is
  // unknown, so it is closed, and a cas may have been sent.
  Failure f;
  f.code = ErrorCode::internal;
  f.message = e.what();
  f.connection_broken = true;
  return f;
}

std::string describe(const std::string& what, int error_number, const std::string& sql_state) {
  std::string out = what;
  out += " (error " + std::to_string(error_number);
  if (!sql_state.empty()) out += ", SQLSTATE " + sql_state;
  out += ")";
  return out;
}

}  // namespace kvstore::mysql
