#!/usr/bin/env bash
# kvtool against a real SQLite file: every command, exit codes, and errors.
#   kvtool_test.sh PATH/TO/kvtool
set -euo pipefail
kvtool=$1
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

"$kvtool" "$url" set '["_fedify","publicKey","https://a.example/u#k"]' '{"b": 1, "a": [true]}'
"$kvtool" "$url" set '["_fedify","other"]' '2' --ttl 1h
"$kvtool" "$url" set plain '"text"'
expect '{"b": 1, "a": [true]}' "$kvtool" "$url" get '["_fedify","publicKey","https://a.example/u#k"]'
expect '"text"' "$kvtool" "$url" get plain
expect $'["_fedify","other"]\t2\n["_fedify","publicKey","https://a.example/u#k"]\t{"b": 1, "a": [true]}' \
  "$kvtool" "$url" list '["_fedify"]'
expect $'["_fedify","other"]\t2' "$kvtool" "$url" list --limit 1
expect swapped "$kvtool" "$url" cas plain '"text"' '{"n":1}'
if "$kvtool" "$url" cas plain '"text"' 3 > /dev/null; then fail "cas with a stale value swapped"; fi
expect swapped "$kvtool" "$url" cas new - 1
"$kvtool" "$url" rm plain
if "$kvtool" "$url" get plain; then fail "removed key still readable"; fi
[[ $("$kvtool" "$url" get plain; echo $?) == 1 ]] || fail "absent key must exit 1"

# Errors exit 2 with kvstore's message, and change nothing.
status=0; "$kvtool" "$url" set k '{bad' 2> "$dir/err" || status=$?
[[ $status == 2 ]] && grep -q "invalid_argument" "$dir/err" || fail "invalid JSON: exit $status, $(cat "$dir/err")"
status=0; "$kvtool" "$url?nope=1" get k 2> "$dir/err" || status=$?
[[ $status == 2 ]] && grep -q "'nope'" "$dir/err" || fail "unknown parameter: exit $status"
status=0; "$kvtool" "$url" set k 1 --ttl 5 2> /dev/null || status=$?
[[ $status == 2 ]] || fail "ttl without a unit accepted"
if "$kvtool" "$url" get k 2> /dev/null; then fail "a failed set stored something"; fi
echo "kvtool: all checks passed"
