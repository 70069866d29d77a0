#!/usr/bin/env bash
# kvtool against real SQLite files: every subcommand, exit codes, errors, the
# export -> import round trip (byte-exact), expires_at, and the man page.
#   kvtool_test.sh PATH/TO/kvtool PATH/TO/kvtool.1
set -euo pipefail
kvtool=$1
manpage=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
url="sqlite:$dir/kv.db"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expected-output command...
  local expected=$1; shift
  local actual
  actual=$("$@") || fail "$* exited $?"
  [[ "$actual" == "$expected" ]] || fail "$*: expected [$expected], got [$actual]"
}
status_of() { local s=0; "$@" > "$dir/out" 2> "$dir/err" || s=$?; echo "$s"; }

# --- get/set/rm/cas/list -------------------------------------------------------
"$kvtool" set "$url" '["_fedify","publicKey","https://a.example/u#k"]' '{"b": 1, "a": [true]}'
"$kvtool" set "$url" '["_fedify","other"]' '2' --ttl 1h
"$kvtool" set "$url" plain '"text"'
expect '{"b": 1, "a": [true]}' "$kvtool" get "$url" '["_fedify","publicKey","https://a.example/u#k"]'
expect '"text"' "$kvtool" get "$url" plain
expect $'["_fedify","other"]\t2\n["_fedify","publicKey","https://a.example/u#k"]\t{"b": 1, "a": [true]}' \
  "$kvtool" list "$url" '["_fedify"]'
expect $'["_fedify","other"]\t2' "$kvtool" list "$url" --limit 1
expect $'["_fedify","publicKey","https://a.example/u#k"]\t{"b": 1, "a": [true]}' \
  "$kvtool" list "$url" '["_fedify"]' --after '["_fedify","other"]'
expect swapped "$kvtool" cas "$url" plain '"text"' '{"n":1}'
[[ $(status_of "$kvtool" cas "$url" plain '"text"' 3) == 3 ]] || fail "a cas with a stale value must exit 3"
expect swapped "$kvtool" cas "$url" new - 1
expect swapped "$kvtool" cas "$url" new 1 -
[[ $(status_of "$kvtool" get "$url" new) == 3 ]] || fail "cas to - did not remove"
"$kvtool" rm "$url" plain
[[ $(status_of "$kvtool" get "$url" plain) == 3 ]] || fail "an absent key must exit 3"
# The order of the hand-parsed kvtool (URL first) still works.
expect '2' "$kvtool" "$url" get '["_fedify","other"]'
# A short TTL set by kvtool expires.
"$kvtool" set "$url" brief 1 --ttl 300ms
sleep 0.5
[[ $(status_of "$kvtool" get "$url" brief) == 3 ]] || fail "--ttl 300ms entry still readable"

# --- errors: kvstore's message, exit 1; usage, exit 2; no password shown ---------
s=$(status_of "$kvtool" set "$url" k '{bad')
[[ $s == 1 ]] && grep -q "invalid_argument" "$dir/err" || fail "invalid JSON: exit $s, $(cat "$dir/err")"
s=$(status_of "$kvtool" get "$url?nope=1" k)
[[ $s == 1 ]] && grep -q "'nope'" "$dir/err" || fail "unknown parameter: exit $s"
s=$(status_of "$kvtool" set "$url" k 1 --ttl 5)
[[ $s == 2 ]] || fail "ttl without a unit: exit $s"
[[ $(status_of "$kvtool" get "$url" k) == 3 ]] || fail "a failed set stored something"
[[ $(status_of "$kvtool" frobnicate "$url") == 2 ]] || fail "unknown subcommand must exit 2"
[[ $(status_of "$kvtool" get) == 2 ]] || fail "missing arguments must exit 2"
s=$(status_of "$kvtool" get 'redis://user:s3cr3tpw@127.0.0.1:1/0?connect_timeout=200ms' k)
[[ $s == 1 ]] || fail "unreachable redis: exit $s"
if grep -q s3cr3tpw "$dir/err"; then fail "a password was printed: $(cat "$dir/err")"; fi
if grep -qi "terminate\|stack\|abort" "$dir/err"; then fail "not a clean error: $(cat "$dir/err")"; fi
s=$(status_of "$kvtool" copy "sqlite:$dir/a.db" 'redis://u:an0therpw@127.0.0.1:1/0?connect_timeout=200ms')
[[ $s == 1 ]] || fail "copy to an unreachable store: exit $s"
if grep -q an0therpw "$dir/err"; then fail "copy printed a password: $(cat "$dir/err")"; fi

# --- --help, every subcommand, and the man page ---------------------------------
"$kvtool" --help > "$dir/help" || fail "--help exited $?"
subcommands=$(awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}' "$dir/help")
[[ -n "$subcommands" ]] || fail "--help lists no subcommands: $(cat "$dir/help")"
for wanted in get set rm cas list export import copy purge-expired stats; do
  grep -qx "$wanted" <<< "$subcommands" || fail "--help does not list $wanted"
done
for sub in $subcommands; do
  "$kvtool" "$sub" --help > /dev/null || fail "$sub --help exited $?"
  grep -q "^\.SS $sub " "$manpage" || fail "the man page has no section for $sub"
done
grep -q "Exit codes" "$dir/help" || fail "--help does not document the exit codes"
if command -v man > /dev/null; then
  man -l "$manpage" > /dev/null 2>&1 || fail "the man page does not render"
fi

# --- export -> import is byte-exact for set_json values ---------------------------
src="sqlite:$dir/src.db"
dst="sqlite:$dir/dst.db"
values=(
  '{"b":1,"a":2}'                  # member order kept (set() would sort)
  '{ "a" : [ 1 , 2 ] }'            # inner whitespace kept
  '1.0' '1' '1e3' '-0' '1.50'      # number spellings kept
  '123456789012345678901234567890' # beyond 64 bits: the text survives
  '18446744073709551615' '-9223372036854775808'
  '"caf\u00e9 \ud83d\ude00 \"q\" \\ /"' '"café 😀 ∑ \t"'
  'null' 'true' '[]' '{}' '[[[[[[[[[[1]]]]]]]]]]'
)
i=0
for v in "${values[@]}"; do
  "$kvtool" set "$src" "[\"v\",\"$(printf %03d $i)\"]" "$v"
  i=$((i + 1))
done
# Text that cannot sit on one line as-is: a line break, outer whitespace.
"$kvtool" set "$src" '["w","newline"]' $'{\n  "a": 1\n}'
"$kvtool" set "$src" '["w","outer"]' ' [1] '
# Awkward keys.
"$kvtool" set "$src" '["k","a:b","","with \"quote\"","new\nline","ü"]' 0
"$kvtool" export "$src" -o "$dir/dump.jsonl" 2> "$dir/export.err"
grep -q '"value_json"' "$dir/dump.jsonl" || fail "line breaks were not written as value_json"
[[ $(wc -l < "$dir/dump.jsonl") == $((i + 3)) ]] || fail "export wrote $(wc -l < "$dir/dump.jsonl") lines"
jq -c . "$dir/dump.jsonl" > /dev/null || fail "export is not JSON Lines"
"$kvtool" import "$dst" "$dir/dump.jsonl" 2> "$dir/import.err"
grep -q "$((i + 3)) written" "$dir/import.err" || fail "import summary: $(cat "$dir/import.err")"
i=0
for v in "${values[@]}"; do
  got=$("$kvtool" get "$dst" "[\"v\",\"$(printf %03d $i)\"]")
  [[ "$got" == "$v" ]] || fail "round trip of [$v] gave [$got]"
  i=$((i + 1))
done
[[ "$("$kvtool" get "$dst" '["w","newline"]')" == $'{\n  "a": 1\n}' ]] || fail "newline value changed"
[[ "$("$kvtool" get "$dst" '["w","outer"]')" == ' [1] ' ]] || fail "outer whitespace changed"
"$kvtool" export "$dst" -o "$dir/dump2.jsonl" 2> /dev/null
cmp "$dir/dump.jsonl" "$dir/dump2.jsonl" || fail "export of the import differs from the first export"
# stdin, a prefix, and stdout.
"$kvtool" export "$src" '["v"]' 2> /dev/null | "$kvtool" import "memory:" 2> "$dir/import.err"
grep -q "^import: ${#values[@]} entries read, ${#values[@]} written" "$dir/import.err" ||
  fail "prefix export | import: $(cat "$dir/import.err")"

# --skip-existing keeps what the destination has; --overwrite (default) replaces.
"$kvtool" set "$dst" '["v","000"]' '"mine"'
"$kvtool" import "$dst" "$dir/dump.jsonl" --skip-existing 2> "$dir/import.err"
grep -q "0 written, .* $((i + 3)) skipped" "$dir/import.err" || fail "skip-existing: $(cat "$dir/import.err")"
[[ "$("$kvtool" get "$dst" '["v","000"]')" == '"mine"' ]] || fail "--skip-existing replaced an entry"
"$kvtool" rm "$dst" '["v","000"]'
"$kvtool" import "$dst" "$dir/dump.jsonl" --skip-existing 2> /dev/null
[[ "$("$kvtool" get "$dst" '["v","000"]')" == '{"a":2,"b":1}' ]] ||
  fail "--skip-existing writes via cas (JSON-equal, re-serialized): $("$kvtool" get "$dst" '["v","000"]')"
"$kvtool" import "$dst" "$dir/dump.jsonl" --overwrite 2> /dev/null
[[ "$("$kvtool" get "$dst" '["v","000"]')" == '{"b":1,"a":2}' ]] || fail "--overwrite did not restore the text"
[[ $(status_of "$kvtool" import "$dst" "$dir/dump.jsonl" --overwrite --skip-existing) == 2 ]] ||
  fail "--overwrite with --skip-existing must be a usage error"

# --- expires_at on import -----------------------------------------------------------
now_ms=$(date +%s%3N)
iso() { date -u -d "@$(( $1 / 1000 )).$(printf %03d $(( $1 % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
{
  echo "{\"key\":[\"t\",\"past\"],\"value\":1,\"expires_at\":\"$(iso $((now_ms - 60000)))\"}"
  echo "{\"key\":[\"t\",\"soon\"],\"value\":2,\"expires_at\":\"$(iso $((now_ms + 1500)))\"}"
  echo "{\"key\":[\"t\",\"later\"],\"value\":3,\"expires_at\":\"$(iso $((now_ms + 3600000)))\"}"
  echo "{\"key\":[\"t\",\"offset\"],\"value\":4,\"expires_at\":\"2999-01-01T01:00:00+01:00\"}"
  echo "{\"key\":[\"t\",\"never\"],\"value\":5,\"expires_at\":null}"
} > "$dir/ttl.jsonl"
ttl="sqlite:$dir/ttl.db"
"$kvtool" import "$ttl" "$dir/ttl.jsonl" 2> "$dir/import.err"
grep -q "5 entries read, 4 written, .* 1 expired on the way" "$dir/import.err" ||
  fail "expires_at import: $(cat "$dir/import.err")"
[[ $(status_of "$kvtool" get "$ttl" '["t","past"]') == 3 ]] || fail "an expired entry was imported"
expect 2 "$kvtool" get "$ttl" '["t","soon"]'
sleep 1.7
[[ $(status_of "$kvtool" get "$ttl" '["t","soon"]') == 3 ]] || fail "expires_at was not applied"
expect 3 "$kvtool" get "$ttl" '["t","later"]'
expect 4 "$kvtool" get "$ttl" '["t","offset"]'
expect 5 "$kvtool" get "$ttl" '["t","never"]'

# --- metadata and expires_at survive export -> import and copy ----------------------
# The lines are what export prints (key order; compact metadata with sorted
# members; expires_at to the millisecond), so each store's export must equal
# the file byte for byte. The values mix set()'s canonical text (written with
# set_many) and other text (written with set_json); "null" metadata is
# metadata, and must not turn into none, nor none into null.
now_ms=$(date +%s%3N)
{
  echo '{"key":["m","empty"],"value":0,"metadata":{}}'
  echo '{"key":["m","false"],"value":[true],"metadata":false}'
  echo "{\"key\":[\"m\",\"ms\"],\"value\":[1],\"expires_at\":\"$(iso $((now_ms / 1000 * 1000 + 3600987)))\"}"
  echo '{"key":["m","none"],"value":1}'
  echo '{"key":["m","null"],"value":2,"metadata":null}'
  echo '{"key":["m","obj"],"value":{"b":1,"a":2},"metadata":{"a":null,"z":[1,2.5,"é \"q\""]}}'
  echo "{\"key\":[\"m\",\"str\"],\"value\":\"s\",\"expires_at\":\"$(iso $((now_ms / 1000 * 1000 + 7200001)))\",\"metadata\":\"tag\"}"
  echo '{"key":["m","zero"],"value":0,"metadata":0}'
} > "$dir/meta.jsonl"
msrc="sqlite:$dir/meta-src.db"
"$kvtool" import "$msrc" "$dir/meta.jsonl" --batch 3 2> "$dir/import.err"
grep -q "^import: 8 entries read, 8 written, .* 0 expired on the way" "$dir/import.err" ||
  fail "metadata import: $(cat "$dir/import.err")"
"$kvtool" export "$msrc" -o "$dir/meta-src.jsonl" -q
cmp "$dir/meta.jsonl" "$dir/meta-src.jsonl" || fail "export after import: $(diff "$dir/meta.jsonl" "$dir/meta-src.jsonl")"
[[ $(jq -c 'select(.key == ["m","null"]) | has("metadata")' "$dir/meta-src.jsonl") == true ]] ||
  fail "JSON null metadata was lost"
[[ $(jq -c 'select(.key == ["m","none"]) | has("metadata")' "$dir/meta-src.jsonl") == false ]] ||
  fail "an entry without metadata gained some"
# copy SQLite -> SQLite, in overwrite mode (set_many, split among two writers)
# and with --skip-existing (per-entry cas).
for mode in --overwrite --skip-existing; do
  mdst="sqlite:$dir/meta-copy$mode.db"
  "$kvtool" copy "$msrc" "$mdst" --batch 3 --jobs 2 "$mode" 2> "$dir/copy.err"
  grep -q "^copy: 8 entries read, 8 written, .* 0 expired on the way (complete)" "$dir/copy.err" ||
    fail "metadata copy $mode: $(cat "$dir/copy.err")"
  "$kvtool" export "$mdst" -o "$dir/meta-copy.jsonl" -q
  if [[ $mode == --overwrite ]]; then
    cmp "$dir/meta.jsonl" "$dir/meta-copy.jsonl" || fail "copy $mode: $(diff "$dir/meta.jsonl" "$dir/meta-copy.jsonl")"
  else  # cas stores values re-serialized; metadata and expiry stay exact
    diff <(jq -c 'del(.value)' "$dir/meta.jsonl") <(jq -c 'del(.value)' "$dir/meta-copy.jsonl") ||
      fail "copy $mode changed metadata or expiry"
  fi
done
# A memory: destination takes the same lines (it is gone when kvtool exits, so
# only its counts can be seen).
"$kvtool" export "$msrc" -q | "$kvtool" import "memory:" 2> "$dir/import.err"
grep -q "^import: 8 entries read, 8 written" "$dir/import.err" || fail "import to memory: $(cat "$dir/import.err")"

# stats counts the entries with an expiry.
[[ $("$kvtool" stats "$msrc" --json | jq .with_ttl) == 2 ]] || fail "stats --json with_ttl: $("$kvtool" stats "$msrc" --json)"
"$kvtool" stats "$msrc" | grep -qx "with_ttl	2" || fail "stats with_ttl: $("$kvtool" stats "$msrc")"
[[ $("$kvtool" stats "$src" --json | jq .with_ttl) == 0 ]] || fail "stats with_ttl of a store without expiries"

# An entry that expires between kvtool's expiry check and the write (the
# store then rejects its expires_at) is counted as expired, in both modes.
# KVTOOL_TEST_PAUSE_BEFORE_WRITE_MS holds each write back for that long.
race="sqlite:$dir/race.db"
"$kvtool" set "$race" '["r","a"]' 1
"$kvtool" set "$race" '["r","b"]' 2 --ttl 2s
"$kvtool" set "$race" '["r","c"]' '{"x":1}'
KVTOOL_TEST_PAUSE_BEFORE_WRITE_MS=2500 "$kvtool" copy "$race" "sqlite:$dir/race-over.db" 2> "$dir/race-over.err" &
over_pid=$!
KVTOOL_TEST_PAUSE_BEFORE_WRITE_MS=1200 "$kvtool" copy "$race" "sqlite:$dir/race-skip.db" --skip-existing \
  2> "$dir/race-skip.err" || fail "race copy --skip-existing exited $?: $(cat "$dir/race-skip.err")"
wait "$over_pid" || fail "race copy exited $?: $(cat "$dir/race-over.err")"
for m in over skip; do
  grep -q "^copy: 3 entries read, 2 written, .* 1 expired on the way (complete)" "$dir/race-$m.err" ||
    fail "race copy ($m): $(cat "$dir/race-$m.err")"
  [[ $(status_of "$kvtool" get "sqlite:$dir/race-$m.db" '["r","b"]') == 3 ]] || fail "race copy ($m) stored the expired entry"
  expect 1 "$kvtool" get "sqlite:$dir/race-$m.db" '["r","a"]'
  "$kvtool" get "sqlite:$dir/race-$m.db" '["r","c"]' > /dev/null || fail "race copy ($m) lost [r,c]"
done

# --- import refuses what it cannot store, and says where -----------------------------
# Metadata over 1 KiB: the store's limit_exceeded, naming the line.
big=$(printf '"%01100d"' 0)
printf '%s\n' '{"key":["m"],"value":1}' "{\"key\":[\"m2\"],\"value\":1,\"metadata\":$big}" > "$dir/bigmeta.jsonl"
s=$(status_of "$kvtool" import "sqlite:$dir/bigmeta.db" "$dir/bigmeta.jsonl")
[[ $s == 1 ]] && grep -q 'limit_exceeded: line 2, key \["m2"\]: ' "$dir/err" ||
  fail "oversized metadata: exit $s, $(cat "$dir/err")"
for bad in '{"key":"k","value":1}' '{"key":["k"]}' '{"key":["k"],"value":1,"extra":2}' \
  '{"key":["k"],"value":1,"expires_at":"tomorrow"}' '{"key":["k"],"value":1' 'not json' \
  '{"key":["k"],"value":1,"value_json":"1"}'; do
  printf '%s\n' "$bad" > "$dir/bad.jsonl"
  s=$(status_of "$kvtool" import "memory:" "$dir/bad.jsonl")
  [[ $s == 4 ]] && grep -q "line 1:" "$dir/err" || fail "bad line [$bad]: exit $s, $(cat "$dir/err")"
done
printf '%s\n' '{"key":["k"],"value":{bad}}' > "$dir/bad.jsonl"
s=$(status_of "$kvtool" import "memory:" "$dir/bad.jsonl")
[[ $s == 1 ]] && grep -q "invalid_argument: line 1, key \\[\"k\"\\]: " "$dir/err" ||
  fail "invalid value text: exit $s, $(cat "$dir/err")"

# --- copy, checkpoint, resume ----------------------------------------------------------
cdst="sqlite:$dir/copy.db"
"$kvtool" copy "$src" "$cdst" --checkpoint "$dir/ck" --limit 5 --batch 2 -q 2> "$dir/copy.err"
grep -q "stopped at --limit" "$dir/copy.err" || fail "copy --limit: $(cat "$dir/copy.err")"
[[ $("$kvtool" list "$cdst" | wc -l) == 5 ]] || fail "copy --limit 5 copied $("$kvtool" list "$cdst" | wc -l)"
[[ $(status_of "$kvtool" copy "$src" "$cdst" --checkpoint "$dir/ck") == 2 ]] ||
  fail "an existing checkpoint without --resume must be refused"
[[ $(status_of "$kvtool" copy "$src" "sqlite:$dir/other.db" --checkpoint "$dir/ck" --resume) == 2 ]] ||
  fail "a checkpoint of another copy must be refused"
"$kvtool" copy "$src" "$cdst" --checkpoint "$dir/ck" --resume --batch 2 2> "$dir/copy.err"
grep -q "$((i + 3)) entries read, $((i + 3)) written, .* (complete)" "$dir/copy.err" ||
  fail "copy --resume: $(cat "$dir/copy.err")"
"$kvtool" export "$cdst" -o "$dir/copy.jsonl" -q
cmp "$dir/dump.jsonl" "$dir/copy.jsonl" || fail "the copy differs from the source"
"$kvtool" copy "$src" "$cdst" --checkpoint "$dir/ck" --resume 2> "$dir/copy.err"
grep -q "already complete" "$dir/copy.err" || fail "resuming a complete copy: $(cat "$dir/copy.err")"
[[ $(status_of "$kvtool" copy "$src" "$src") == 2 ]] || fail "copying a store onto itself must be refused"

# --- stats, purge-expired ----------------------------------------------------------------
"$kvtool" stats "$src" > "$dir/stats"
total=$(jq -s 'length' "$dir/dump.jsonl")
bytes=$(("$kvtool" list "$src" | cut -f2- | tr -d '\n' | wc -c) 2> /dev/null)
grep -qx "entries	$total" "$dir/stats" || fail "stats entries: $(cat "$dir/stats")"
grep -qx "\"v\"	${#values[@]}	.*" "$dir/stats" || fail "stats by first component: $(cat "$dir/stats")"
json_bytes=$("$kvtool" stats "$src" --json | jq .bytes)
[[ $(grep -c . "$dir/stats") -ge 6 ]] || fail "stats: $(cat "$dir/stats")"
[[ "$json_bytes" -ge "$bytes" ]] || fail "stats bytes $json_bytes < $bytes"
s=$(status_of "$kvtool" purge-expired "$src")
[[ $s == 5 ]] && grep -q "not supported" "$dir/err" || fail "purge-expired: exit $s"
echo "kvtool: all checks passed"
