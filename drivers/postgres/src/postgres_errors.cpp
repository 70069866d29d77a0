#include "postgres_errors.h"

#include <algorithm>
#include <cctype>
#include <new>

#include <pqxx/except>

namespace kvstore::postgres::detail {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

}  // namespace

bool is_connection_state(std::string_view state) {
  return starts_with(state, "08") || state == "57P01" || state == "57P02" || state == "57P03" ||
         state == "53300";
}

bool is_transient_state(std::string_view state) { return starts_with(state, "40"); }

ErrorCode code_for_sqlstate(std::string_view state) {
  if (state == "57014" || state == "55P03") return ErrorCode::timeout;  // canceled, lock timeout
  if (is_connection_state(state)) return ErrorCode::unavailable;
  if (is_transient_state(state)) return ErrorCode::conflict;
  // Authorization, privileges, a read-only server (hot standby,
  // default_transaction_read_only).
  if (starts_with(state, "28") || state == "42501" || state == "25006") {
    return ErrorCode::permission_denied;
  }
  // What the URL named does not exist: an unknown database or schema.
  if (state == "3D000" || state == "3F000") return ErrorCode::invalid_argument;
  if (state == "54000") return ErrorCode::limit_exceeded;
  return ErrorCode::internal;
}

ErrorCode code_for_connect_failure(std::string_view state, std::string_view message) {
  if (!state.empty()) {
    if (starts_with(state, "28") || state == "42501") return ErrorCode::permission_denied;
    if (is_connection_state(state) || starts_with(state, "53") || starts_with(state, "57")) {
      return ErrorCode::unavailable;
    }
    // The server rejected what it was sent: an unknown database, startup
    // options (options=-c...), an unknown setting or a bad value.
    return ErrorCode::invalid_argument;
  }
  // libpq's own checks of the connection options ("invalid sslmode value",
  // "invalid integer value ... for connection option", a missing
  // certificate file, SSL required by the URL but not offered).
  for (std::string_view marker :
       {"invalid ", "could not match", "missing \"=\"", "unterminated quoted string",
        "not compiled in", "was required", "certificate file", "does not support SSL"}) {
    if (contains(message, marker)) return ErrorCode::invalid_argument;
  }
  return ErrorCode::unavailable;
}

// The lines after the first repeat the statement with a "LINE 1:" pointer
// (several times when libpqxx adds its own copy): they say nothing more.
std::string first_line(std::string_view text) {
  std::string line(text.substr(0, text.find('\n')));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) {
    line.pop_back();
  }
  for (std::string_view tag : {"ERROR:  ", "FATAL:  "}) {
    if (starts_with(line, tag)) line.erase(0, tag.size());
  }
  return line;
}

std::string state_suffix(std::string_view state) {
  return state.empty() ? std::string() : " (SQLSTATE " + std::string(state) + ")";
}

ConnectMessage parse_connect_message(std::string_view raw) {
  ConnectMessage m;
  std::string_view rest = raw;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    for (std::string_view tag : {"FATAL:  ", "ERROR:  ", "PANIC:  "}) {
      const std::size_t at = line.find(tag);
      if (at == std::string_view::npos) continue;
      std::string_view state = line.substr(at + tag.size(), 7);
      if (state.size() == 7 && state.substr(5) == ": " &&
          std::all_of(state.begin(), state.begin() + 5, [](unsigned char c) {
            return std::isdigit(c) != 0 || std::isupper(c) != 0;
          })) {
        m.state = std::string(state.substr(0, 5));
        m.text = first_line(std::string(line.substr(0, at + tag.size())) +
                            std::string(line.substr(at + tag.size() + 7)));
        return m;
      }
    }
  }
  m.text = first_line(raw);
  return m;
}

Failure classify(const std::exception& e, const std::string& target) {
  Failure f;
  if (const auto* cut = dynamic_cast<const StatementCut*>(&e)) {
    f.code = ErrorCode::timeout;
    f.message = cut->what();
    f.connection_broken = true;  // the watchdog shut its socket down
    f.maybe_sent = true;
    return f;
  }
  if (const auto* c = dynamic_cast<const ConnectError*>(&e)) {
    f.code = c->timed_out() ? ErrorCode::timeout : code_for_connect_failure(c->state(), c->what());
    f.message = "cannot connect to " + target + ": " + c->what() + state_suffix(c->state());
    f.native_code = c->state();
    // Nothing was sent, and the failed attempt left no session to discard;
    // trying again at once would only repeat the same wait.
    f.connection_broken = false;
    f.maybe_sent = false;
    return f;
  }
  if (const auto* s = dynamic_cast<const SqlError*>(&e)) {
    f.native_code = s->state();
    if (s->broken() || is_connection_state(s->state())) {
      f.code = ErrorCode::unavailable;
      f.message = "lost the connection to " + target + ": " + s->what() + state_suffix(s->state());
      f.connection_broken = true;
      f.maybe_sent = true;
      return f;
    }
    f.code = s->state().empty() ? ErrorCode::internal : code_for_sqlstate(s->state());
    f.message = s->what() + state_suffix(s->state());
    // An autocommit statement that the server answered with an error had no
    // effect, so repeating a transient one is safe even for a cas.
    f.maybe_sent = false;
    f.transient = is_transient_state(s->state());
    return f;
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::failure*>(&e) != nullptr) {
    // libpqxx is used only to quote names; it fails so only on a dead connection.
    f.code = ErrorCode::unavailable;
    f.message = "lost the connection to " + target + ": " + first_line(e.what());
    f.connection_broken = true;
    f.maybe_sent = false;
    return f;
  }
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    f.code = ErrorCode::internal;
    f.message = "out of memory";
    return f;
  }
  f.code = ErrorCode::internal;
  f.message = e.what();
  f.connection_broken = true;  // its state is unknown
  return f;
}

}  // namespace kvstore::postgres::detail
