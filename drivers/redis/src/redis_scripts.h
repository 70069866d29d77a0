// The Redis driver's Lua scripts: every write and every list page is one
// script call, so the value key, the index and the expiry set change
// together (docs/drivers/redis.md, "How each promise is kept").
#pragma once

#include <string_view>

namespace kvstore::redis::detail {

// Keys (KEYS[1] value key, KEYS[2] index, KEYS[3] expiry set, KEYS[4]
// metadata key) and ARGV: 1 member (encoded key), 2 expectation ('n' none,
// 'a' absent, 'e' equal to ARGV[3]), 4 action ('s' store ARGV[5], 'd'
// delete), 6 expiry ('' never, 'r<ms>' a TTL from now, 'a<ms>' at that Unix
// time in ms), 7 the value-key prefix (to sweep other members), 8 metadata
// ('' none, else 'm' followed by its JSON text).
// Returns 1 if it wrote, 0 if the expectation failed.
//
// The value key, its metadata key, its index member and its expiry member
// change together in one script, so readers and cas never see them disagree
// except for keys Redis has expired on its own, which every reader treats as
// absent. The value and metadata keys get the same absolute PXAT, which is
// also the expiry member's score, so they expire in the same millisecond and
// the score is the expiry a reader reports. An absolute expiry that has
// already passed deletes the entry (it is expired at once).
// Each write also forgets a few index members whose values expired over a
// second ago (the slack covers clock steps between TIME and Redis' own
// expiry), so the index does not grow with keys that expired and were never
// listed.
inline constexpr std::string_view kWriteScript = R"lua(
local vkey, idx, exp, mkey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local member, expect = ARGV[1], ARGV[2]
if expect ~= 'n' then
  local cur = redis.call('GET', vkey)
  if expect == 'a' then
    if cur then return 0 end
  elseif cur ~= ARGV[3] then
    return 0
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local action = ARGV[4]
local at = nil
local expiry = ARGV[6]
if expiry ~= '' then
  at = tonumber(string.sub(expiry, 2))
  if string.sub(expiry, 1, 1) == 'r' then at = now + at end
  if action == 's' and at <= now then action = 'd' end
end
if action == 's' then
  local meta = ARGV[8]
  if at == nil then
    redis.call('SET', vkey, ARGV[5])
    if meta == '' then
      redis.call('DEL', mkey)
    else
      redis.call('SET', mkey, string.sub(meta, 2))
    end
    redis.call('ZREM', exp, member)
  else
    local when = string.format('%.0f', at)
    redis.call('SET', vkey, ARGV[5], 'PXAT', when)
    if meta == '' then
      redis.call('DEL', mkey)
    else
      redis.call('SET', mkey, string.sub(meta, 2), 'PXAT', when)
    end
    redis.call('ZADD', exp, when, member)
  end
  redis.call('ZADD', idx, 0, member)
else
  redis.call('DEL', vkey, mkey)
  redis.call('ZREM', idx, member)
  redis.call('ZREM', exp, member)
end
local vprefix = ARGV[7]
local mprefix = string.sub(vprefix, 1, -3) .. 'm:'
local due = redis.call('ZRANGEBYSCORE', exp, '-inf', string.format('%.0f', now - 1000),
                       'LIMIT', 0, 16)
for _, m in ipairs(due) do
  local left = redis.call('PTTL', vprefix .. m)
  if left == -2 then
    redis.call('ZREM', idx, m)
    redis.call('ZREM', exp, m)
    redis.call('DEL', mprefix .. m)
  elseif left == -1 then
    redis.call('ZREM', exp, m)
  else
    redis.call('ZADD', exp, string.format('%.0f', now + left), m)
  end
end
return 1
)lua";

// KEYS[1] value key, KEYS[2] metadata key, KEYS[3] expiry set; ARGV[1] the
// member. Returns nil if the entry is absent or expired, else {value,
// metadata or nil, expiry score or nil}: one atomic read of all three.
inline constexpr std::string_view kEntryScript = R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return false end
local m = redis.call('GET', KEYS[2])
local s = redis.call('ZSCORE', KEYS[3], ARGV[1])
return {v, m or false, s or false}
)lua";

// KEYS[1] index, KEYS[2] expiry set; ARGV: 1 value-key prefix, 2 first
// member (inclusive, '' = from the start), 3 end (exclusive, '' = to the
// last), 4 how many live entries to return, 5 how many dead members to drop
// before giving up for this call, 6 'v' with values or 'k' keys only.
// Returns {resume, member1, value1, metadata1, expiry1, member2, ...} ('v')
// or {resume, member1, metadata1, expiry1, ...} ('k'), a missing metadata or
// expiry as nil. resume is '' when the page is full or the range exhausted,
// else the last member examined (the caller continues strictly after it).
// Members whose value key is gone (expired or deleted behind our back) are
// dropped from the index here, and their metadata key with them. Keys only
// checks that the value key EXISTS, which never reads or sends its value, so
// that listing costs per key, not per byte of value.
inline constexpr std::string_view kListScript = R"lua(
local idx, exp, prefix = KEYS[1], KEYS[2], ARGV[1]
local mprefix = string.sub(prefix, 1, -3) .. 'm:'
local first = '-'
if ARGV[2] ~= '' then first = '[' .. ARGV[2] end
local last = '+'
if ARGV[3] ~= '' then last = '(' .. ARGV[3] end
local want = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local values = ARGV[6] == 'v'
local out = {''}
local found = 0
while found < want do
  local batch = want - found
  local members = redis.call('ZRANGEBYLEX', idx, first, last, 'LIMIT', 0, batch)
  for _, m in ipairs(members) do
    local v
    if values then
      v = redis.call('GET', prefix .. m)
    else
      v = redis.call('EXISTS', prefix .. m) == 1
    end
    if v then
      out[#out + 1] = m
      if values then out[#out + 1] = v end
      out[#out + 1] = redis.call('GET', mprefix .. m) or false
      out[#out + 1] = redis.call('ZSCORE', exp, m) or false
      found = found + 1
    else
      redis.call('ZREM', idx, m)
      redis.call('ZREM', exp, m)
      redis.call('DEL', mprefix .. m)
      budget = budget - 1
    end
  end
  if #members < batch then break end
  if found < want and budget <= 0 then
    out[1] = members[#members]
    break
  end
  first = '(' .. members[#members]
end
return out
)lua";

// KEYS[1] the layout-version key; ARGV[1] this code's version. Records the
// version if none is (a fresh store, or a version-1 one: those never
// recorded theirs, and their keys need nothing more to be read as version
// 2: no metadata key means no metadata) or '1' is, and returns the recorded
// version. Atomic, so stores opening at once agree, and a newer version
// another process recorded meanwhile is returned, not overwritten.
inline constexpr std::string_view kLayoutScript = R"lua(
local v = redis.call('GET', KEYS[1])
if v and v ~= '1' then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
)lua";

// The layout this code writes (docs/drivers/redis.md, "Layout version").
inline constexpr int kLayoutVersion = 2;

// Dead index members one list call may drop before returning what it has.
inline constexpr int kListDeadBudget = 1000;

}  // namespace kvstore::redis::detail
