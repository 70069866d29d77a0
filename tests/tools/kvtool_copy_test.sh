#!/usr/bin/env bash
# kvtool copy across every server driver: N entries (default 100,000) with
# mixed expiries and metadata go SQLite -> PostgreSQL -> Redis -> MariaDB -> SQLite; the
# PostgreSQL -> Redis copy is killed (SIGKILL, by its pid) midway and resumed
# from its checkpoint; the final store is compared with the source entry by
# entry.
#   kvtool_copy_test.sh PATH/TO/kvtool
# Needs KVSTORE_TEST_POSTGRES_URL, KVSTORE_TEST_REDIS_URL, KVSTORE_TEST_MYSQL_URL
# (scripts/test-services.sh start DIR; source DIR/env). KVTOOL_COPY_N overrides N.
set -euo pipefail
kvtool=$1
n=${KVTOOL_COPY_N:-100000}
for var in KVSTORE_TEST_POSTGRES_URL KVSTORE_TEST_REDIS_URL KVSTORE_TEST_MYSQL_URL; do
  [[ -n "${!var:-}" ]] || { echo "FAIL: $var is not set (scripts/test-services.sh start DIR; source DIR/env)" >&2; exit 1; }
done
dir=$(mktemp -d)
copy_pid=
cleanup() {
  if [[ -n "$copy_pid" ]] && kill -0 "$copy_pid" 2> /dev/null; then kill -KILL "$copy_pid"; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
with_param() { if [[ "$1" == *\?* ]]; then echo "$1&$2"; else echo "$1?$2"; fi; }
SECONDS=0

# Fresh, private namespaces in each server, so reruns and other tests never mix.
run_id="kvtool_$$_$(date +%s)"
sqlite_src="sqlite:$dir/source.db"
postgres=$(with_param "$KVSTORE_TEST_POSTGRES_URL" "table=$run_id")
redis=$(with_param "$KVSTORE_TEST_REDIS_URL" "prefix=$run_id")
mariadb=$(with_param "$KVSTORE_TEST_MYSQL_URL" "table=$run_id")
sqlite_dst="sqlite:$dir/final.db"

# The data: values whose text a parser would change (member order, spacing,
# 1.0, big integers, escapes), spread over three first components, and four
# kinds of expiry:
#   i%10 == 0  expired an hour ago: import must skip (and count) it
#   i%100 == 1 expires 5 s after the import: live in the source at first,
#              gone before the first copy starts, so never copied
#   i%10 == 2  expires in an hour: live throughout
#   otherwise  no expiry
# and metadata: i%5 == 3 an object, i%5 == 4 JSON null (not the same as none).
# expected.jsonl is what export must print for the long-lived entries, in key
# order (the keys are generated in kvstore's order: component-wise, byte-wise).
python3 - "$n" "$dir" <<'EOF'
import json, sys, time, datetime
n, d = int(sys.argv[1]), sys.argv[2]
now_ms = int(time.time() * 1000)
# From whole milliseconds, so that the text is exactly what export prints.
def iso(ms):
    return datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % (ms % 1000)
groups = ["cache", "notes", "users"]
with open(f"{d}/input.jsonl", "w") as inp, open(f"{d}/soon.jsonl", "w") as soon, \
        open(f"{d}/expected.jsonl", "w") as exp:
    expected = []
    for i in range(n):
        g = groups[i % 3]
        key = json.dumps([g, "%07d" % i, "ü:/%" if i % 7 == 0 else ""], ensure_ascii=False, separators=(",", ":"))
        kind = i % 6
        if kind == 0: value = '{"z":%d,"a":[1.0, 2.50],"s":"caf\\u00e9 %d"}' % (i, i)
        elif kind == 1: value = '%d123456789012345678901234567890' % i
        elif kind == 2: value = '{ "id" : %d , "tags" : [ "x" , null , true ] }' % i
        elif kind == 3: value = '"text \\"%d\\" ✓"' % i
        elif kind == 4: value = '[%d, -0, 1e3, 18446744073709551615]' % i
        else: value = '%d.0' % i
        line = '{"key":%s,"value":%s' % (key, value)
        # As export writes it: compact, members sorted, after expires_at.
        meta = ',"metadata":{"i":%d,"tag":"ü"}' % i if i % 5 == 3 else ',"metadata":null' if i % 5 == 4 else ''
        t = i % 10
        if t == 0:
            inp.write(line + ',"expires_at":"%s"%s}\n' % (iso(now_ms - 3600000), meta))
        elif i % 100 == 1:
            soon.write(line + meta + '}\n')
        elif t == 2:
            # An odd millisecond, to see that it is kept exactly.
            entry = line + ',"expires_at":"%s"%s}\n' % (iso(now_ms + 3600000 + i % 1000), meta)
            inp.write(entry)
            expected.append((key, entry))
        else:
            inp.write(line + meta + '}\n')
            expected.append((key, line + meta + '}\n'))
    # kvstore's order: component by component, byte-wise, a key before its extensions.
    expected.sort(key=lambda e: [c.encode() for c in json.loads(e[0])])
    exp.write("".join(line for _, line in expected))
EOF
expected=$(wc -l < "$dir/expected.jsonl")
soon_count=$(wc -l < "$dir/soon.jsonl")
input_count=$(wc -l < "$dir/input.jsonl")
expired_count=$((input_count - expected))

"$kvtool" import "$sqlite_src" "$dir/input.jsonl" -q 2> "$dir/log"
grep -q "^import: $input_count entries read, $expected written, .* $expired_count expired on the way" "$dir/log" ||
  fail "import: $(cat "$dir/log")"
# The short-lived entries get an expires_at 5 s ahead, measured now.
python3 - "$dir" <<'EOF'
import sys, time, datetime
d = sys.argv[1]
t = time.time() + 5
iso = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (int(t * 1000) % 1000)
lines = open(f"{d}/soon.jsonl").read().splitlines()
open(f"{d}/soon.jsonl", "w").write("".join(l[:-1] + ',"expires_at":"%s"}\n' % iso for l in lines))
EOF
soon_start=$(date +%s%3N)
"$kvtool" import "$sqlite_src" "$dir/soon.jsonl" -q 2> "$dir/log"
grep -q "^import: $soon_count entries read, $soon_count written" "$dir/log" || fail "import soon: $(cat "$dir/log")"
first_soon=$(head -1 "$dir/soon.jsonl" | jq -c .key)
"$kvtool" get "$sqlite_src" "$first_soon" > /dev/null || fail "a short-lived entry is missing right after its import"
[[ $(( $(date +%s%3N) - soon_start )) -lt 4500 ]] || fail "importing the short-lived entries took too long to test them"
sleep $(( (soon_start + 5300 - $(date +%s%3N)) / 1000 + 1 ))
live=$("$kvtool" stats "$sqlite_src" --json | jq .entries)
[[ "$live" == "$expected" ]] || fail "after their expiry the source has $live entries, not $expected"
"$kvtool" export "$sqlite_src" -o "$dir/source.jsonl" -q
cmp "$dir/expected.jsonl" "$dir/source.jsonl" || fail "the source export differs from the generated data"
echo "setup: ${SECONDS}s"

copy() {  # SRC DST NAME [extra args]
  local src=$1 dst=$2 name=$3; shift 3
  local start=$SECONDS
  "$kvtool" copy "$src" "$dst" --checkpoint "$dir/$name.ck" "$@" -q 2> "$dir/$name.log" ||
    fail "copy $name exited $?: $(cat "$dir/$name.log")"
  grep -q "^copy: $expected entries read, $expected written, .* 0 skipped (existing), 0 expired on the way (complete)" \
    "$dir/$name.log" || fail "copy $name summary: $(cat "$dir/$name.log")"
  echo "copy $name: $((SECONDS - start))s"
}

copy "$sqlite_src" "$postgres" sqlite-postgres

# PostgreSQL -> Redis: killed midway, then resumed.
"$kvtool" copy "$postgres" "$redis" --checkpoint "$dir/pg-redis.ck" --batch 500 -q 2> "$dir/pg-redis.log" &
copy_pid=$!
target=$((expected / 3))
while :; do
  if ! kill -0 "$copy_pid" 2> /dev/null; then fail "the copy ended before it could be interrupted"; fi
  done_so_far=$(jq -r '.counts.written' "$dir/pg-redis.ck" 2> /dev/null || echo 0)
  [[ "$done_so_far" -ge "$target" ]] && break
  sleep 0.05
done
kill -KILL "$copy_pid"
wait "$copy_pid" 2> /dev/null || true
copy_pid=
in_redis=$("$kvtool" stats "$redis" --json | jq .entries)
[[ "$in_redis" -ge "$target" && "$in_redis" -lt "$expected" ]] ||
  fail "after the kill Redis has $in_redis entries (wanted between $target and $expected)"
checkpoint_written=$(jq -r '.counts.written' "$dir/pg-redis.ck")
[[ "$(jq -r .complete "$dir/pg-redis.ck")" == false ]] || fail "the killed copy's checkpoint says complete"
echo "interrupted PostgreSQL -> Redis at $in_redis entries (checkpoint: $checkpoint_written)"
start=$SECONDS
"$kvtool" copy "$postgres" "$redis" --checkpoint "$dir/pg-redis.ck" --resume -q 2> "$dir/pg-redis.log" ||
  fail "resume exited $?: $(cat "$dir/pg-redis.log")"
grep -q "resuming after" "$dir/pg-redis.log" || fail "resume did not resume: $(cat "$dir/pg-redis.log")"
# The counts carry over the checkpoint: each entry is read once in all.
grep -q "^copy: $expected entries read, $expected written, .* (complete)" "$dir/pg-redis.log" ||
  fail "resumed copy summary: $(cat "$dir/pg-redis.log")"
echo "resume PostgreSQL -> Redis: $((SECONDS - start))s"

copy "$redis" "$mariadb" redis-mariadb
copy "$mariadb" "$sqlite_dst" mariadb-sqlite

# Entry by entry: the same keys, in the same order, with byte-identical values,
# the same metadata (null kept apart from none) and the same expires_at to the
# millisecond; none of the expired or short-lived entries came back.
"$kvtool" export "$sqlite_dst" -o "$dir/final.jsonl" -q
for name in postgres redis mariadb; do
  "$kvtool" export "${!name}" -o "$dir/$name.jsonl" -q
  cmp "$dir/source.jsonl" "$dir/$name.jsonl" || fail "$name differs from the source"
done
cmp "$dir/source.jsonl" "$dir/final.jsonl" || fail "the final store differs from the source"
[[ $(wc -l < "$dir/final.jsonl") == "$expected" ]] || fail "the final store has $(wc -l < "$dir/final.jsonl") entries"
# Spot checks through get, so that the comparison does not rest on export alone.
for i in 3 4 5 6 7 8 9 12 $((n - 1)); do
  key=$(sed -n "$((i % expected + 1))p" "$dir/expected.jsonl" | jq -c .key)
  want=$(sed -n "$((i % expected + 1))p" "$dir/expected.jsonl" |
    sed 's/^{"key":\[[^]]*\],"value"://; s/,"expires_at":"[^"]*"//; s/,"metadata":.*}$/}/; s/}$//')
  got=$("$kvtool" get "$sqlite_dst" "$key")
  [[ "$got" == "$want" ]] || fail "get $key: [$got], expected [$want]"
done
for i in 0 1 10 101 $((n - n % 10)) $((n - n % 100 + 1)); do
  [[ $i -lt $n ]] || continue
  key=$(printf '["%s","%07d","%s"]' "$(python3 -c "print(['cache','notes','users'][$i % 3])")" "$i" \
    "$( ((i % 7 == 0)) && echo 'ü:/%' )")
  s=0; "$kvtool" get "$sqlite_dst" "$key" > /dev/null || s=$?
  [[ $s == 3 ]] || fail "expired entry $key is in the final store (exit $s)"
done
# The hour-long expiries stay expiries (export compared their times above);
# stats counts them in every store.
with_ttl=$(grep -c '"expires_at"' "$dir/expected.jsonl")
for name in postgres redis mariadb sqlite_dst; do
  got=$("$kvtool" stats "${!name}" --json | jq .with_ttl)
  [[ "$got" == "$with_ttl" ]] || fail "$name: stats with_ttl $got, expected $with_ttl"
done
echo "kvtool copy chain: $expected entries, all checks passed in ${SECONDS}s"
