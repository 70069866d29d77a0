#!/usr/bin/env bash
# test-services.sh - throwaway PostgreSQL 15, Redis 7 and MariaDB 10.11 servers
# on 127.0.0.1 for the kvstore tests (Debian 12, run as root).
#
# Usage:
#   test-services.sh install                       install missing Debian packages
#   test-services.sh start   DIR [SERVICE...]      start servers (default: all), print env
#   test-services.sh stop    DIR [SERVICE...]      stop servers (default: all)
#   test-services.sh restart DIR SERVICE           stop + start one server, same port/data
#   test-services.sh status  DIR                   show which servers are running
#
# SERVICE is one of: postgres redis mariadb.
#
# Everything (data, sockets, logs, pid files, tmpdirs, chosen ports) lives in
# DIR/<service>/.  `start` and `restart` write DIR/env and print it:
#   export KVSTORE_TEST_POSTGRES_URL='postgresql://kvstore:kvstore@127.0.0.1:PORT/kvstore'
#   export KVSTORE_TEST_REDIS_URL='redis://kvstore:kvstore@127.0.0.1:PORT/0'
#   export KVSTORE_TEST_MYSQL_URL='mysql://kvstore:kvstore@127.0.0.1:PORT/kvstore'
#   export KVSTORE_TEST_SERVICES='/abs/path/test-services.sh DIR'
# (one URL line per server running in DIR; the last line is always present).
#
# Processes are only ever stopped by the pid recorded in DIR (after checking the
# pid still belongs to that server), never by name.
#
# Environment: KVSTORE_TEST_SERVICES_TIMEOUT  seconds to wait for start/stop (30)
set -euo pipefail

readonly ALL_SERVICES=(postgres redis mariadb)
readonly PG_BIN=/usr/lib/postgresql/15/bin
readonly PACKAGES=(postgresql postgresql-15 redis-server mariadb-server mariadb-client)
readonly POLICY_RC_D=/usr/sbin/policy-rc.d
TIMEOUT=${KVSTORE_TEST_SERVICES_TIMEOUT:-30}
SCRIPT=$(readlink -f -- "${BASH_SOURCE[0]}")
readonly SCRIPT
DIR=""          # absolute state directory, set by set_dir
SPAWNED_PID=""  # pid of the server process just launched

declare -A BASE_PORT=([postgres]=25432 [redis]=26379 [mariadb]=23306)
declare -A ENV_VAR=([postgres]=KVSTORE_TEST_POSTGRES_URL [redis]=KVSTORE_TEST_REDIS_URL
                    [mariadb]=KVSTORE_TEST_MYSQL_URL)
declare -A PROC_NAME=([postgres]=postgres [redis]=redis-server [mariadb]=mariadbd)
# Signal for a clean shutdown: postgres SIGINT = "fast" shutdown; redis and
# mariadbd shut down cleanly on SIGTERM.
declare -A STOP_SIGNAL=([postgres]=INT [redis]=TERM [mariadb]=TERM)

# Keep libpq from picking up the caller's connection defaults.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE \
      PGSERVICEFILE PGOPTIONS PGSSLMODE PGDATA PGTZ PGCLIENTENCODING

# ---------------------------------------------------------------- helpers ---

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$SCRIPT" >&2
  exit 2
}

require_root() { ((EUID == 0)) || die "must run as root"; }

# Serialise start/stop/restart across all state dirs, so two concurrent
# callers never pick the same free port.  Locks the script file itself (fd 9).
take_lock() {
  exec 9<"$SCRIPT"
  flock -w 600 9 || die "timed out waiting for the lock on $SCRIPT"
}

set_dir() {  # set_dir RAW_DIR [create]
  [[ -n ${1:-} ]] || usage
  if [[ ${2:-} == create ]]; then mkdir -p -- "$1"; fi
  DIR=$(readlink -m -- "$1")
  [[ $DIR =~ ^[A-Za-z0-9_./@%+,:=-]+$ ]] ||
    die "DIR '$DIR' contains unsupported characters (whitespace, quotes, ...)"
}

parse_services() {  # parse_services [NAME...] -> SERVICES array
  SERVICES=()
  (($# > 0)) || set -- "${ALL_SERVICES[@]}"
  local name
  for name in "$@"; do
    [[ -n ${BASE_PORT[$name]+x} ]] || die "unknown service '$name' (postgres, redis, mariadb)"
    [[ " ${SERVICES[*]} " == *" $name "* ]] || SERVICES+=("$name")
  done
}

svc_log()      { printf '%s/%s/%s.log' "$DIR" "$1" "$1"; }
svc_portfile() { printf '%s/%s/port' "$DIR" "$1"; }
svc_pidfile() {
  case $1 in
    postgres) printf '%s/postgres/data/postmaster.pid' "$DIR" ;;
    redis)    printf '%s/redis/redis.pid' "$DIR" ;;
    mariadb)  printf '%s/mariadb/mariadbd.pid' "$DIR" ;;
  esac
}
svc_lockfiles() {  # files holding the server's pid that block a new start
  svc_pidfile "$1"
  if [[ $1 == postgres ]]; then printf '\n%s/postgres/.s.PGSQL.%s.lock' "$DIR" "$(svc_port "$1")"; fi
}

alive() {  # alive PID: process exists and is not a zombie
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Print the pid of SERVICE's server in DIR if it is running.  The pid from the
# pid file must be alive, have the server's process name, and (when readable)
# have its working directory in DIR/SERVICE/data, so a recycled pid is never
# mistaken for ours.
svc_pid() {
  local name=$1 pidfile pid cwd
  pidfile=$(svc_pidfile "$name")
  [[ -r $pidfile ]] || return 1
  pid=$(head -n 1 "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "${PROC_NAME[$name]}" ]] || return 1
  if cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null); then
    [[ $cwd == "$DIR/$name/data" ]] || return 1
  fi
  printf '%s\n' "$pid"
}

svc_port() { cat "$(svc_portfile "$1")" 2>/dev/null; }

port_in_use() {  # port_in_use PORT: something listens on it (any address)
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; then
    return 0
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# choose_port SERVICE [strict]: reuse the port recorded in DIR if it is free;
# otherwise (unless strict) probe upward from the service's base port.
choose_port() {
  local name=$1 strict=${2:-} port i
  port=$(svc_port "$name" || true)
  if [[ $port =~ ^[0-9]+$ ]]; then
    if ! port_in_use "$port"; then printf '%s\n' "$port"; return 0; fi
    [[ -z $strict ]] || die "$name: its port $port is now used by another process"
    log "$name: previous port $port is taken, picking a new one"
  fi
  port=${BASE_PORT[$name]}
  for ((i = 0; i < 500; i++, port++)); do
    if ! port_in_use "$port"; then printf '%s\n' "$port"; return 0; fi
  done
  die "$name: no free port in ${BASE_PORT[$name]}..$port"
}

# Close every fd above 2 (the lock, pipes inherited from the caller such as a
# test runner's), so long-lived servers never hold them open.
close_extra_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then exec {fd}>&-; fi
  done
}

# spawn LOG CMD...: run CMD detached in its own session, output appended to LOG.
spawn() {
  local logfile=$1; shift
  (close_extra_fds; exec setsid "$@" </dev/null >>"$logfile" 2>&1) &
  SPAWNED_PID=$!
}

now_us() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }  # microseconds

# wait_until SECONDS PID CMD...: succeed once CMD succeeds; fail early if PID dies.
wait_until() {
  local deadline=$(($(now_us) + $1 * 1000000)) pid=$2
  shift 2
  while (($(now_us) < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    if [[ -n $pid ]] && ! alive "$pid"; then return 1; fi
    sleep 0.1
  done
  "$@" >/dev/null 2>&1
}

wait_gone() {  # wait_gone SECONDS PID...: all PIDs have exited
  local deadline=$(($(now_us) + $1 * 1000000)) pid
  shift
  for pid in "$@"; do
    while alive "$pid"; do
      (($(now_us) < deadline)) || return 1
      sleep 0.05
    done
  done
}

# Last resort: SIGKILL PID and its direct children (postgres backends run in
# their own sessions), then delete the lock/pid FILEs still naming the dead
# pid (postgres refuses to start while that pid exists, even as a zombie).
kill_hard() {  # kill_hard PID FILE...
  local pid=$1 pids file
  shift
  read -r -a pids <<<"$pid $(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ')"
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait_gone 10 "${pids[@]}" || return 1
  for file in "$@"; do
    if [[ $(head -n 1 "$file" 2>/dev/null) == "$pid" ]]; then rm -f "$file"; fi
  done
}

check_access() {  # check_access USER: USER can reach DIR
  id -u "$1" >/dev/null 2>&1 || die "system user '$1' missing; run: $SCRIPT install"
  runuser -u "$1" -- test -x "$DIR" ||
    die "user '$1' cannot traverse $DIR (a parent directory is not world-searchable)"
}

check_socket_path() {  # unix socket paths are limited to 107 bytes
  ((${#1} <= 107)) || die "socket path too long (${#1} > 107): $1; use a shorter DIR"
}

# ------------------------------------------------------------- postgres ---

pg_admin() {  # pg_admin PORT ARGS...: psql as superuser over DIR's unix socket
  local port=$1; shift
  "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$DIR/postgres" -p "$port" \
    -U postgres -d postgres "$@"
}

postgres_url() { printf 'postgresql://kvstore:kvstore@127.0.0.1:%s/kvstore' "$1"; }

postgres_prepare() {
  local d=$DIR/postgres
  [[ -x $PG_BIN/postgres ]] || die "PostgreSQL 15 is not installed; run: $SCRIPT install"
  check_access postgres
  check_socket_path "$d/.s.PGSQL.65535"
  install -d -o postgres -g postgres -m 700 "$d"
  # The log is appended to by root (initdb output) and by the server.
  [[ -e $(svc_log postgres) ]] || install -o postgres -g postgres -m 640 /dev/null "$(svc_log postgres)"
  [[ -e $d/initialized ]] && return 0
  log "postgres: initdb in $d/data"
  rm -rf "$d/data"
  (cd "$d" && runuser -u postgres -- "$PG_BIN/initdb" -D "$d/data" -U postgres \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-locale \
      --no-sync --no-instructions) >>"$(svc_log postgres)" 2>&1 ||
    { tail -n 30 "$(svc_log postgres)" >&2; die "postgres: initdb failed"; }
  cat >>"$d/data/postgresql.conf" <<EOF

# --- kvstore test settings (scripts/test-services.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$d'
unix_socket_permissions = 0700
password_encryption = scram-sha-256
max_connections = 200
# No fsync (throwaway data), but each commit is written to the kernel before
# it is acknowledged: a SIGKILLed server (tests/faults) keeps every
# acknowledged write, as a production server does; only an OS crash would not.
fsync = off
synchronous_commit = on
full_page_writes = off
EOF
  touch "$d/initialized"
}

postgres_launch() {
  local port=$1 d=$DIR/postgres
  # pg_ctl puts the postmaster in its own session and waits until it is ready.
  (close_extra_fds; cd "$d" && exec runuser -u postgres -- "$PG_BIN/pg_ctl" start -s -w \
      -t "$TIMEOUT" -D "$d/data" -l "$(svc_log postgres)" -o "-p $port") </dev/null >&2 ||
    return 1
  SPAWNED_PID=$(head -n 1 "$(svc_pidfile postgres)")
}

postgres_admin_ready() { [[ $(pg_admin "$1" -c 'SELECT 1') == 1 ]]; }

postgres_setup() {
  pg_admin "$1" <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kvstore') THEN
    CREATE ROLE kvstore LOGIN PASSWORD 'kvstore';
  ELSE
    ALTER ROLE kvstore LOGIN PASSWORD 'kvstore';
  END IF;
END
$$;
SELECT 'CREATE DATABASE kvstore OWNER kvstore ENCODING ''UTF8'' TEMPLATE template0'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'kvstore')
\gexec
SQL
}

postgres_check_url() {
  [[ $("$PG_BIN/psql" -X -At -c 'SELECT 1' "$(postgres_url "$1")") == 1 ]]
}

# ---------------------------------------------------------------- redis ---

redis_url() { printf 'redis://kvstore:kvstore@127.0.0.1:%s/0' "$1"; }

redis_prepare() {
  command -v redis-server >/dev/null || die "redis-server is not installed; run: $SCRIPT install"
  mkdir -p "$DIR/redis/data"
}

redis_launch() {
  local port=$1 d=$DIR/redis
  # No persistence; the kvstore ACL user is part of the command line, so it
  # exists again after every restart.  The default user stays passwordless.
  spawn "$(svc_log redis)" redis-server --port "$port" --bind 127.0.0.1 \
    --protected-mode yes --save '' --appendonly no --daemonize no \
    --pidfile "$(svc_pidfile redis)" --logfile "$(svc_log redis)" --dir "$d/data" \
    --user kvstore on '>kvstore' '~*' '&*' '+@all'
}

redis_admin_ready() { [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

redis_setup() { :; }

redis_check_url() {
  [[ $(redis-cli --no-auth-warning -u "$(redis_url "$1")" ping 2>/dev/null) == PONG ]]
}

# -------------------------------------------------------------- mariadb ---

# Shared by mariadb-install-db and mariadbd (small footprint, fast commits).
readonly MARIADB_INNODB_OPTS=(--innodb-buffer-pool-size=64M --innodb-log-file-size=32M
                              --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0)

mariadb_admin() {  # mariadb_admin ARGS...: client as root (unix_socket auth)
  mariadb --no-defaults --socket="$DIR/mariadb/mariadbd.sock" -uroot "$@"
}

mariadb_url() { printf 'mysql://kvstore:kvstore@127.0.0.1:%s/kvstore' "$1"; }

mariadb_prepare() {
  local d=$DIR/mariadb
  command -v mariadbd >/dev/null || die "mariadb-server is not installed; run: $SCRIPT install"
  command -v mariadb >/dev/null || die "mariadb-client is not installed; run: $SCRIPT install"
  check_access mysql
  check_socket_path "$d/mariadbd.sock"
  install -d -o mysql -g mysql -m 750 "$d"
  install -d -o mysql -g mysql -m 750 "$d/tmp"
  [[ -e $d/initialized ]] && return 0
  log "mariadb: mariadb-install-db in $d/data"
  rm -rf "$d/data"
  install -d -o mysql -g mysql -m 750 "$d/data"
  (cd "$d" && mariadb-install-db --no-defaults --user=mysql --datadir="$d/data" \
      --tmpdir="$d/tmp" --auth-root-authentication-method=socket --skip-test-db \
      --skip-name-resolve "${MARIADB_INNODB_OPTS[@]}") </dev/null >>"$(svc_log mariadb)" 2>&1 ||
    { tail -n 30 "$(svc_log mariadb)" >&2; die "mariadb: mariadb-install-db failed"; }
  touch "$d/initialized"
}

mariadb_launch() {
  local port=$1 d=$DIR/mariadb
  spawn "$(svc_log mariadb)" mariadbd --no-defaults --user=mysql \
    --datadir="$d/data" --tmpdir="$d/tmp" --socket="$d/mariadbd.sock" \
    --pid-file="$(svc_pidfile mariadb)" --port="$port" --bind-address=127.0.0.1 \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
    --skip-log-bin --max-connections=200 --max-allowed-packet=64M \
    "${MARIADB_INNODB_OPTS[@]}"
}

mariadb_admin_ready() { [[ $(mariadb_admin -N -s -e 'SELECT 1') == 1 ]]; }

mariadb_setup() {
  mariadb_admin <<'SQL'
CREATE DATABASE IF NOT EXISTS kvstore CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'kvstore'@'127.0.0.1' IDENTIFIED BY 'kvstore';
CREATE USER IF NOT EXISTS 'kvstore'@'localhost' IDENTIFIED BY 'kvstore';
ALTER USER 'kvstore'@'127.0.0.1' IDENTIFIED BY 'kvstore';
ALTER USER 'kvstore'@'localhost' IDENTIFIED BY 'kvstore';
GRANT ALL PRIVILEGES ON kvstore.* TO 'kvstore'@'127.0.0.1';
GRANT ALL PRIVILEGES ON kvstore.* TO 'kvstore'@'localhost';
SQL
}

mariadb_check_url() {
  [[ $(mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$1" -u kvstore \
         --password=kvstore -N -s -e 'SELECT 1' kvstore) == 1 ]]
}

# ---------------------------------------------------- generic lifecycle ---

fail_service() {  # fail_service SERVICE MESSAGE: show log, stop, exit
  log "error: $1: $2"
  log "---- last lines of $(svc_log "$1") ----"
  tail -n 30 "$(svc_log "$1")" >&2 || true
  stop_service "$1"
  exit 1
}

start_service() {  # start_service SERVICE [strict]  (strict: keep the old port or fail)
  local name=$1 strict=${2:-} pid port
  if pid=$(svc_pid "$name"); then
    port=$(svc_port "$name") || die "$name: running (pid $pid) but $(svc_portfile "$name") is missing"
    log "$name: already running (pid $pid, port $port)"
  else
    "${name}_prepare"
    port=$(choose_port "$name" "$strict")
    printf '%s\n' "$port" >"$(svc_portfile "$name")"
    log "$name: starting on 127.0.0.1:$port"
    SPAWNED_PID=""
    "${name}_launch" "$port" || fail_service "$name" "failed to start"
    pid=$SPAWNED_PID
  fi
  if ! wait_until "$TIMEOUT" "$pid" "${name}_admin_ready" "$port"; then
    if alive "$pid"; then fail_service "$name" "not ready within ${TIMEOUT}s"; fi
    fail_service "$name" "server exited during startup"
  fi
  "${name}_setup" "$port" || fail_service "$name" "creating the kvstore user failed"
  wait_until 10 "$pid" "${name}_check_url" "$port" ||
    fail_service "$name" "login as kvstore over TCP failed"
  log "$name: ready (pid $(svc_pid "$name" || echo "$pid"), port $port)"
}

stop_service() {
  local name=$1 pid
  pid=$(svc_pid "$name") || return 0
  log "$name: stopping pid $pid"
  kill -s "${STOP_SIGNAL[$name]}" "$pid" 2>/dev/null || true
  if ! wait_gone "$TIMEOUT" "$pid"; then
    log "$name: pid $pid still running after ${TIMEOUT}s, sending SIGKILL"
    local lockfiles
    mapfile -t lockfiles < <(svc_lockfiles "$name")
    kill_hard "$pid" "${lockfiles[@]}" || die "$name: pid $pid survived SIGKILL"
  fi
}

write_env() {  # write_env [print]: DIR/env for all running servers
  local name port lines=()
  for name in "${ALL_SERVICES[@]}"; do
    if svc_pid "$name" >/dev/null && port=$(svc_port "$name"); then
      lines+=("export ${ENV_VAR[$name]}='$("${name}_url" "$port")'")
    fi
  done
  lines+=("export KVSTORE_TEST_SERVICES='$SCRIPT $DIR'")
  printf '%s\n' "${lines[@]}" >"$DIR/env.tmp"
  mv -f "$DIR/env.tmp" "$DIR/env"
  if [[ ${1:-} == print ]]; then printf '%s\n' "${lines[@]}"; fi
}

# ------------------------------------------------------------- commands ---

cmd_install() {
  require_root
  local pkg missing=()
  for pkg in "${PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) == ii* ]] ||
      missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    log "all packages already installed"
    return 0
  fi
  log "installing: ${missing[*]}"
  # Keep the packages' postinst from starting the system-wide services.  An
  # existing policy-rc.d is left as it is; services that still got started
  # are left alone (our servers use their own ports).
  if [[ ! -e $POLICY_RC_D ]]; then
    trap 'rm -f "$POLICY_RC_D"' EXIT
    printf '#!/bin/sh\n# temporary, from %s install\nexit 101\n' "$SCRIPT" >"$POLICY_RC_D"
    chmod 755 "$POLICY_RC_D"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

cmd_start() {
  set_dir "${1:-}" create
  shift
  parse_services "$@"
  require_root
  take_lock
  chmod 755 "$DIR"
  local name
  for name in "${SERVICES[@]}"; do start_service "$name"; done
  write_env print
}

cmd_stop() {
  set_dir "${1:-}"
  shift
  parse_services "$@"
  [[ -d $DIR ]] || return 0
  require_root
  take_lock
  local name
  for name in "${SERVICES[@]}"; do stop_service "$name"; done
  write_env
}

cmd_restart() {
  (($# == 2)) || usage
  set_dir "$1"
  parse_services "$2"
  [[ -d $DIR ]] || die "$DIR does not exist"
  require_root
  take_lock
  stop_service "$2"
  start_service "$2" strict
  write_env print
}

cmd_status() {
  set_dir "${1:-}"
  shift
  parse_services "$@"
  local name pid
  ((EUID == 0)) || log "note: not root, servers whose files are unreadable show as stopped"
  for name in "${SERVICES[@]}"; do
    if pid=$(svc_pid "$name"); then
      printf '%-8s running  pid %s  %s\n' "$name" "$pid" "$("${name}_url" "$(svc_port "$name")")"
    else
      printf '%-8s stopped\n' "$name"
    fi
  done
}

main() {
  (($# >= 1)) || usage
  [[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "KVSTORE_TEST_SERVICES_TIMEOUT must be a positive integer"
  local cmd=$1
  shift
  case $cmd in
    install) (($# == 0)) || usage; cmd_install ;;
    start)   cmd_start "$@" ;;
    stop)    cmd_stop "$@" ;;
    restart) cmd_restart "$@" ;;
    status)  cmd_status "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
