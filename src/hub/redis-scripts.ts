/**
 * The Lua scripts of the Redis bus. Each runs atomically in Redis, so a
 * delta's log entry, its topic state and the sequence move together or not at
 * all, and only the lease holder moves them.
 *
 * Keys (under the bus's prefix): `lease` (the writer's replica id, expiring),
 * `epoch`, `seq`, `log` (a Stream whose entry ids are `<seq>-0`), `state` (a
 * hash of topic → `{version, seq, data}`).
 */

/**
 * Takes or renews the writer lease. KEYS: lease, seq. ARGV: replica id, ttl ms.
 * Returns the shared seq when this replica holds the lease, -1 when another does.
 */
export const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return tonumber(redis.call('GET', KEYS[2]) or '0')
`;

/**
 * Appends one delta. KEYS: lease, epoch, seq, log, state. ARGV: replica id,
 * lease ttl ms, epoch, seq, log max length, topic, encoded delta, topic state
 * JSON ('' when the topic is removed, '-' to leave the stored state as it is:
 * the writer then writes it within `STATE`'s delay, and a reader catches up
 * from the log, which holds every delta since).
 *
 * Refused (an error reply, nothing written) when another replica holds the
 * lease, when the epoch changed (Redis lost its data) or when the seq is not
 * the next one: the writer then steps down instead of forking the history.
 * A lease that merely expired (Redis was restarted, or slow) is taken back,
 * and a delta already written by this replica (a command the client resent
 * after a reconnect, its first reply lost) is acknowledged again, unchanged.
 */
export const PUBLISH = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return redis.error_reply('LEASE held by ' .. holder) end
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return redis.error_reply('EPOCH changed') end
local seq = tonumber(redis.call('GET', KEYS[3]) or '0')
local want = tonumber(ARGV[4])
if want <= seq then
  local entry = redis.call('XRANGE', KEYS[4], ARGV[4] .. '-0', ARGV[4] .. '-0')
  if #entry == 1 and entry[1][2][4] == ARGV[1] then return want end
end
if seq + 1 ~= want then
  return redis.error_reply('SEQ expected ' .. (seq + 1) .. ' got ' .. ARGV[4])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[3], ARGV[4])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], ARGV[4] .. '-0', 'd', ARGV[7], 'w', ARGV[1])
if ARGV[8] == '' then
  redis.call('HDEL', KEYS[5], ARGV[6])
elseif ARGV[8] ~= '-' then
  redis.call('HSET', KEYS[5], ARGV[6], ARGV[8])
end
return seq + 1
`;

/**
 * Writes a topic's state that `PUBLISH` left out. KEYS: lease, state. ARGV:
 * replica id, topic, state JSON. Only the lease holder writes; it sends these
 * after the deltas they follow, on the same connection, so a newer state
 * never lands before an older one.
 */
export const STATE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`;

/** Gives the lease up if this replica holds it. KEYS: lease. ARGV: replica id. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
