-- agent_status_facts: each pool agent's working days (plan.sql's shifts, a few minutes' jitter):
-- on queue, a 30-minute break (away), a few minutes not responding after a missed alert, on queue
-- again, then offline until the next shift; the offline after the last shift stays open (ended_at NULL).
INSERT INTO agent_status_facts (tenant_id, fact_id, agent_id, status, routing_status, started_at, ended_at, next_status,
                                reason, version)
WITH (t) -> fromUnixTimestamp64Milli(toInt64(t), 'UTC') AS at,
     JSONExtract({model:String}, 'queues', 'name', 'Array(String)') AS q_name,
     {per_shift:UInt32} AS K,
     (s) -> if(s = 2, greatest(1, intDiv(K, 4)), K) AS pool_size,
     intDiv(number, {days:UInt32}) AS a,
     number % {days:UInt32} AS d,
     intDiv(a, 3 * K) + 1 AS pq,
     intDiv(a % (3 * K), K) AS s,
     a % K AS k,
     (x, salt) -> cityHash64({seed:UInt64}, 'status', a, x, salt) / 18446744073709551616. AS r,
     (x) -> toInt64({since_ms:UInt64}) + x * 86400000 + [6, 14, 22][s + 1] * 3600000 + toInt64((r(x, 1) - 0.5) * 1200000) AS start_of,
     (x) -> start_of(x) + 8 * 3600000 + toInt64((r(x, 2) - 0.5) * 1200000) AS end_of,
     (x) -> x < {days:UInt32} AND end_of(x) <= toInt64({until_ms:UInt64}) AS works,
     start_of(d) AS on1,
     on1 + toInt64((3.5 + r(d, 3)) * 3600000) AS break_at,
     break_at + 1800000 AS back_at,
     back_at + toInt64((0.5 + r(d, 4) * 2) * 3600000) AS missed_at,
     missed_at + toInt64((60 + r(d, 5) * 180) * 1000) AS answering_at,
     end_of(d) AS off_at,
     if(works(d + 1), start_of(d + 1), NULL) AS next_on,
     [(on1, break_at, 'on_queue', 'signed in'), (break_at, back_at, 'away', 'break'), (back_at, missed_at, 'on_queue', 'back from break'),
      (missed_at, answering_at, 'not_responding', 'alert timed out'), (answering_at, off_at, 'on_queue', 'accepted an offer'),
      (off_at, next_on, 'offline', 'signed out')] AS intervals,
     arrayJoin(arrayEnumerate(intervals)) AS i,
     intervals[i] AS iv,
     concat('gen-agent-', q_name[pq], '-', ['early', 'late', 'night'][s + 1], '-', leftPad(toString(k + 1), 3, '0')) AS agent
SELECT {tenant:String}, concat('st:', {tenant:String}, ':', agent, ':', toString(iv.1), ':', iv.3), agent, iv.3,
       multiIf(iv.3 = 'on_queue', 'on_queue', iv.3 = 'not_responding', 'not_responding', 'off_queue'),
       at(iv.1), if(iv.2 IS NULL, NULL, at(assumeNotNull(iv.2))), if(i < 6, intervals[i + 1].3, if(next_on IS NULL, NULL, 'on_queue')),
       iv.4, if(iv.2 IS NULL, toUInt64(iv.1) * 2, toUInt64(assumeNotNull(iv.2)) * 2 + 1)
FROM numbers(length(q_name) * 3 * {per_shift:UInt32} * {days:UInt32})
WHERE k < pool_size(s) AND works(d)
