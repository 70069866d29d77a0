#include "sqlite_errors.h"

#include <sqlite3.h>

#include <utility>

#include <SQLiteCpp/Exception.h>
#include <kvstore/url.h>

namespace kvstore::sqlite::detail {

std::string native_code(int extended_code) {
  return extended_code < 0 ? std::string() : std::to_string(extended_code);
}

Failure classify_code(int extended_code, std::string message, bool busy_gave_up,
                      const ClassifyContext& context) {
  Failure f;
  f.native_code = native_code(extended_code);
  // A failed SQLite statement has no effect (statement atomicity), so a
  // request that failed was not applied, unless the disk failed under a
  // commit (below).
  f.maybe_sent = false;
  f.message = std::move(message);
  switch (extended_code) {
    case SQLITE_BUSY_SNAPSHOT:
      // A read transaction cannot be upgraded to write over a newer
      // snapshot: the serialization failure of SQLite. Repeating succeeds.
      f.code = ErrorCode::conflict;
      f.transient = true;
      return f;
    default:
      break;
  }
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      f.code = ErrorCode::timeout;
      f.transient = !busy_gave_up;
      if (busy_gave_up) {
        f.message += " (still locked by another connection after busy_timeout=" +
                     format_duration(context.busy_timeout) + ")";
      }
      return f;
    case SQLITE_INTERRUPT:
      // The progress handler interrupts a statement that runs past
      // command_timeout (the driver's client-side deadline).
      f.code = ErrorCode::timeout;
      f.message += " (command_timeout passed)";
      return f;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      f.code = ErrorCode::permission_denied;
      return f;
    case SQLITE_NOTADB:
      f.code = ErrorCode::corrupt;
      f.message += " (the file is not a SQLite database)";
      return f;
    case SQLITE_CORRUPT:
      f.code = ErrorCode::corrupt;
      return f;
    case SQLITE_TOOBIG:
      f.code = ErrorCode::limit_exceeded;
      return f;
    case SQLITE_IOERR:
      // The disk failed, possibly in the middle of a commit: the write may
      // or may not be in the file, and the connection's state is unknown.
      f.code = ErrorCode::unavailable;
      f.maybe_sent = true;
      f.connection_broken = context.file_backed;
      return f;
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
      f.code = ErrorCode::unavailable;
      return f;
    default:
      f.code = ErrorCode::internal;
      return f;
  }
}

Failure classify(const std::exception& e, const ClassifyContext& context) {
  if (const auto* own = dynamic_cast<const SqliteError*>(&e)) {
    return classify_code(own->extended_code(), own->what(), own->busy_gave_up(), context);
  }
  if (const auto* native = dynamic_cast<const SQLite::Exception*>(&e)) {
    // Without the driver's context a lock error is taken as a spent wait.
    return classify_code(native->getErrorCode(), native->what(), true, context);
  }
  Failure f;
  f.code = ErrorCode::internal;
  f.message = e.what();
  f.maybe_sent = true;
  return f;
}

}  // namespace kvstore::sqlite::detail
