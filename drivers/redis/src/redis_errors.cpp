// The Redis driver's native error table (docs/drivers/redis.md, "Errors").
#include "redis_errors.h"

#include <hiredis/hiredis.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

namespace kvstore::redis::detail {

namespace {

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

std::string native_code_of(std::string_view reply) {
  const std::size_t end = reply.find(' ');
  const std::string_view word = reply.substr(0, end);
  if (word.empty()) return {};
  for (char c : word) {
    if (c < 'A' || c > 'Z') return {};
  }
  return std::string(word);
}

bool starts_with_word(std::string_view reply, std::string_view word) {
  return reply.size() >= word.size() && reply.compare(0, word.size(), word) == 0 &&
         (reply.size() == word.size() || reply[word.size()] == ' ');
}

Failure classify_reply(std::string_view reply) {
  Failure failure;
  failure.message = "Redis replied: " + std::string(reply);
  failure.native_code = native_code_of(reply);
  failure.connection_broken = false;  // a reply came: the connection is in step
  failure.code = ErrorCode::internal;
  const std::string& code = failure.native_code;
  if (code == "NOAUTH" || code == "WRONGPASS" || code == "NOPERM") {
    failure.code = ErrorCode::permission_denied;
  } else if (code == "READONLY") {
    // A replica (or a server with replica-read-only) refuses writes, as a
    // read-only file does in the SQL drivers.
    failure.code = ErrorCode::permission_denied;
  } else if (code == "LOADING" || code == "BUSY" || code == "MASTERDOWN" || code == "TRYAGAIN" ||
             code == "CLUSTERDOWN" ||
             reply.find("max number of clients") != std::string_view::npos) {
    // Refused before it ran, for a while: worth one more try, even for a cas.
    failure.code = ErrorCode::unavailable;
    failure.transient = true;
    failure.maybe_sent = false;
  } else if (code == "OOM") {
    failure.code = ErrorCode::limit_exceeded;
  } else if (code == "WRONGTYPE") {
    failure.code = ErrorCode::corrupt;  // something else wrote a kvstore key
  }
  return failure;
}

Failure classify_handshake(std::string_view command, std::string_view reply, std::int64_t db,
                           const std::string& where) {
  Failure failure = classify_reply(reply);
  std::string why;
  if (!failure.transient && command == "AUTH") {
    failure.code = ErrorCode::permission_denied;
    if (reply.find("without any password configured") != std::string_view::npos ||
        reply.find("no password is set") != std::string_view::npos) {
      why =
          "the server has no password set for the default user, so the URL's password is "
          "wrong; ";
    }
  } else if (!failure.transient && failure.code == ErrorCode::internal) {
    failure.code = ErrorCode::invalid_argument;
    if (reply.find("out of range") != std::string_view::npos) {
      why = "database " + std::to_string(db) +
            " does not exist on the server (see its 'databases' setting); ";
    }
  }
  failure.maybe_sent = false;  // a refused handshake changed nothing
  failure.message = std::string(command) + " on " + where + " refused: " + why +
                    "Redis replied: " + std::string(reply);
  return failure;
}

Failure classify_transport(const TransportError& error) {
  Failure failure;
  failure.code =
      error.kind() == TransportError::Kind::timeout ? ErrorCode::timeout : ErrorCode::unavailable;
  failure.message = error.what();
  // A late reply could otherwise answer the next command.
  failure.connection_broken = true;
  failure.maybe_sent = error.maybe_sent();
  return failure;
}

Failure classify(const std::exception& e) {
  if (const auto* transport = dynamic_cast<const TransportError*>(&e)) {
    return classify_transport(*transport);
  }
  if (const auto* reply = dynamic_cast<const ReplyError*>(&e))
    return classify_reply(reply->reply());
  Failure failure;
  failure.code = ErrorCode::internal;
  failure.message = e.what();
  failure.connection_broken = true;  // unknown state: do not reuse
  return failure;
}

TransportError describe_transport(const std::string& where, std::chrono::milliseconds timeout,
                                  std::string_view label, bool sending, bool maybe_sent,
                                  int error_number, int hiredis_error, const char* errstr) {
  const std::string command(label);
  if (hiredis_error == REDIS_ERR_IO && error_number == EAGAIN) {
    return TransportError(
        TransportError::Kind::timeout,
        sending ? "timed out sending " + command + " to " + where + " after " + ms_text(timeout)
                : "timed out waiting for the reply to " + command + " from " + where + " after " +
                      ms_text(timeout),
        maybe_sent);
  }
  const std::string doing = sending ? "sending " + command : "waiting for the reply to " + command;
  std::string why;
  switch (hiredis_error) {
    case REDIS_ERR_EOF:
      why = "the server closed the connection";
      break;
    case REDIS_ERR_PROTOCOL:
      why = std::string("the reply is not valid Redis protocol (") + errstr + ")";
      break;
    case REDIS_ERR_OOM:
      why = "out of memory";
      break;
    default:
      why = describe_errno(error_number);
      break;
  }
  return TransportError(TransportError::Kind::broken,
                        "lost the connection to " + where + " while " + doing + ": " + why,
                        maybe_sent);
}

Failure classify_connect(int hiredis_error, const char* errstr, std::chrono::milliseconds elapsed,
                         std::chrono::milliseconds connect_timeout, const std::string& where) {
  Failure failure;
  failure.maybe_sent = false;
  failure.connection_broken = true;
  const int error_number = hiredis_error == REDIS_ERR_IO ? errno_of(errstr) : 0;
  if (error_number == ETIMEDOUT || error_number == EAGAIN) {
    failure.code = ErrorCode::timeout;
    failure.message = "timed out connecting to " + where + " after " + ms_text(elapsed) +
                      " (connect_timeout=" + ms_text(connect_timeout) + ")";
  } else if (error_number == EACCES || error_number == EPERM) {
    // A socket file this process may not use: retrying will not help.
    failure.code = ErrorCode::permission_denied;
    failure.message = "cannot connect to " + where + ": " + describe_errno(error_number);
  } else if (error_number != 0) {
    failure.code = ErrorCode::unavailable;
    failure.message = "cannot connect to " + where + ": " + describe_errno(error_number);
  } else {
    // Name resolution (getaddrinfo's own words) and anything else hiredis says.
    failure.code = ErrorCode::unavailable;
    failure.message = "cannot connect to " + where + ": " + errstr;
  }
  return failure;
}

int errno_of(const char* errstr) {
  const std::string_view text(errstr);
  for (int e :
       {EAGAIN, ETIMEDOUT, ECONNREFUSED, ECONNRESET, ECONNABORTED, EPIPE, EHOSTUNREACH, EHOSTDOWN,
        ENETUNREACH, ENETDOWN, ENOENT, ENOTDIR, EACCES, EPERM, EADDRNOTAVAIL, EINTR}) {
    const std::string name = std::strerror(e);
    if (text == name || text.ends_with(": " + name)) return e;
  }
  return 0;
}

std::string describe_errno(int e) {
  switch (e) {
    case ECONNREFUSED:
      return "connection refused (is Redis running there?)";
    case ECONNRESET:
      return "the server reset the connection";
    case EPIPE:
      return "the server closed the connection";
    case ECONNABORTED:
      return "the connection was aborted";
    case ETIMEDOUT:
      return "the network stopped answering (TCP timed out)";
    case EHOSTUNREACH:
    case EHOSTDOWN:
      return "no route to the host";
    case ENETUNREACH:
    case ENETDOWN:
      return "the network is unreachable";
    case ENOENT:
    case ENOTDIR:
      return "no socket exists at that path";
    case EACCES:
    case EPERM:
      return "permission denied";
    case EADDRNOTAVAIL:
      return "no local address or port is free for a new connection";
    case 0:
      return "connection lost";
    default:
      return std::string("system error ") + std::to_string(e) + " (" + std::strerror(e) + ")";
  }
}

}  // namespace kvstore::redis::detail
