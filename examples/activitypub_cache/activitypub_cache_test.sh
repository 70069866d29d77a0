#!/usr/bin/env bash
# Drives activitypub_cache with real HTTP requests (curl), checks cache hits
# and misses, TTL expiry and follower paging, then stops it by its pid.
#   activitypub_cache_test.sh <activitypub_cache> <store-url> <curl> <jq>
set -euo pipefail
bin=$1 url=$2 curl=$3 jq=$4
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- server stderr:" >&2; cat "$work/err" >&2 || true; exit 1; }

if [[ $url == sqlite:* ]]; then rm -f "${url#sqlite:}" "${url#sqlite:}-wal" "${url#sqlite:}-shm"; fi
ttl_ms=1500
"$bin" "$url" --ttl-ms $ttl_ms --threads 2 >"$work/out" 2>"$work/err" &
pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$work/out")
  [[ -n $port ]] && break
  kill -0 "$pid" 2>/dev/null || fail "the server exited before listening"
  sleep 0.1
done
[[ -n $port ]] || fail "the server never printed its port"
base="http://127.0.0.1:$port"

# request METHOD PATH -> sets status, cache, body
request() {
  local headers="$work/headers"
  body=$("$curl" -sS -X "$1" -D "$headers" "$base$2")
  status=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$headers")
  cache=$(sed -n 's/^X-Cache: \([a-z]*\).*/\1/ip' "$headers")
}

request GET /doc/42
[[ $status == 200 && $cache == miss ]] || fail "first GET /doc/42: $status $cache"
first=$body
[[ $("$jq" -r .id <<<"$body") == https://origin.example/doc/42 ]] || fail "document id: $body"
[[ $("$jq" -r .type <<<"$body") == Note ]] || fail "document type: $body"
request GET /doc/42
[[ $status == 200 && $cache == hit ]] || fail "second GET /doc/42: $status $cache"
[[ $body == "$first" ]] || fail "the cached body differs: $body"
request GET /doc/43
[[ $status == 200 && $cache == miss ]] || fail "GET /doc/43: $status $cache"
sleep $(((ttl_ms + 1000) / 1000)).5
request GET /doc/42
[[ $status == 200 && $cache == miss ]] || fail "GET /doc/42 after its TTL: $status $cache"

# 25 followers, added out of order; listed in key order, 10 per page.
for i in $(seq 0 24 | sort -R); do
  request PUT "/followers/alice/f$(printf %02d "$i")"
  [[ $status == 204 ]] || fail "PUT follower $i: $status $body"
done
request PUT /followers/bob/z
expected_page() { seq "$1" "$2" | while read -r i; do printf 'f%02d\n' "$i"; done; }
after=""
for page in "0 9" "10 19" "20 24"; do
  request GET "/followers/alice?limit=10${after:+&after=$after}"
  [[ $status == 200 ]] || fail "GET followers: $status $body"
  items=$("$jq" -r '.items[]' <<<"$body")
  [[ $items == "$(expected_page $page)" ]] || fail "page $page: $body"
  next=$("$jq" -r .next <<<"$body")
  after=$next
done
[[ $next == null ]] || fail "the last page has a next: $body"
request GET "/followers/bob"
[[ $("$jq" -c .items <<<"$body") == '["z"]' ]] || fail "bob's followers: $body"
request GET "/followers/carol"
[[ $("$jq" -c .items <<<"$body") == '[]' ]] || fail "carol's followers: $body"
request GET "/followers/alice?limit=0"
[[ $status == 400 ]] || fail "limit=0: $status"
request GET /nowhere
[[ $status == 404 ]] || fail "GET /nowhere: $status"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc == 0 ]] || fail "the server exited with $rc after SIGTERM"
echo "activitypub_cache: all checks passed on $url"
