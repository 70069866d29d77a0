// The Redis driver's Lua scripts: every write and every list page is one
// script call, so the value key, the index and the expiry set change
// together (docs/drivers/redis.md, "How each promise is kept").
#pragma once

#include <string_view>

namespace kvstore::redis::detail {

// Keys (KEYS[1] value key, KEYS[2] index, KEYS[3] expiry set) and
// ARGV: 1 member (encoded key), 2 expectation ('n' none, 'a' absent,
// 'e' equal to ARGV[3]), 4 action ('s' store ARGV[5], 'd' delete),
// 6 ttl in ms or '', 7 the value-key prefix (to sweep other members).
// Returns 1 if it wrote, 0 if the expectation failed.
//
// The value key, its index member and its expiry member change together in
// one script, so readers and cas never see them disagree except for a value
// key Redis has expired on its own, which every reader treats as absent.
// Each write also forgets a few index members whose values expired over a
// second ago (the slack covers the millisecond between TIME and PX), so the
// index does not grow with keys that expired and were never listed.
inline constexpr std::string_view kWriteScript = R"lua(
local vkey, idx, exp = KEYS[1], KEYS[2], KEYS[3]
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
if ARGV[4] == 's' then
  if ARGV[6] == '' then
    redis.call('SET', vkey, ARGV[5])
    redis.call('ZREM', exp, member)
  else
    redis.call('SET', vkey, ARGV[5], 'PX', ARGV[6])
    redis.call('ZADD', exp, string.format('%.0f', now + tonumber(ARGV[6])), member)
  end
  redis.call('ZADD', idx, 0, member)
else
  redis.call('DEL', vkey)
  redis.call('ZREM', idx, member)
  redis.call('ZREM', exp, member)
end
local due = redis.call('ZRANGEBYSCORE', exp, '-inf', string.format('%.0f', now - 1000),
                       'LIMIT', 0, 16)
for _, m in ipairs(due) do
  local left = redis.call('PTTL', ARGV[7] .. m)
  if left == -2 then
    redis.call('ZREM', idx, m)
    redis.call('ZREM', exp, m)
  elseif left == -1 then
    redis.call('ZREM', exp, m)
  else
    redis.call('ZADD', exp, string.format('%.0f', now + left), m)
  end
end
return 1
)lua";

// KEYS[1] index, KEYS[2] expiry set; ARGV: 1 value-key prefix, 2 first
// member (inclusive, '' = from the start), 3 end (exclusive, '' = to the
// last), 4 how many live entries to return, 5 how many dead members to drop
// before giving up for this call.
// Returns {resume, member1, value1, member2, value2, ...}: resume is '' when
// the page is full or the range exhausted, else the last member examined
// (the caller continues strictly after it). Members whose value key is gone
// (expired or deleted behind our back) are dropped from the index here.
inline constexpr std::string_view kListScript = R"lua(
local idx, exp, prefix = KEYS[1], KEYS[2], ARGV[1]
local first = '-'
if ARGV[2] ~= '' then first = '[' .. ARGV[2] end
local last = '+'
if ARGV[3] ~= '' then last = '(' .. ARGV[3] end
local want = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local out = {''}
local found = 0
while found < want do
  local batch = want - found
  local members = redis.call('ZRANGEBYLEX', idx, first, last, 'LIMIT', 0, batch)
  for _, m in ipairs(members) do
    local v = redis.call('GET', prefix .. m)
    if v then
      out[#out + 1] = m
      out[#out + 1] = v
      found = found + 1
    else
      redis.call('ZREM', idx, m)
      redis.call('ZREM', exp, m)
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

// Dead index members one list call may drop before returning what it has.
inline constexpr int kListDeadBudget = 1000;

}  // namespace kvstore::redis::detail
