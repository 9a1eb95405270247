-- One row per generated conversation: every random choice and every time of its story, from which
-- each fact table's INSERT … SELECT (the other files here) reads. Randomness is cityHash64 of
-- (seed, conversation number, draw number): a seed reproduces the history exactly. Times are ms
-- offsets from the conversation's first event, placed at `base` (its diurnal start, moved earlier
-- when its story would run past {until_ms}). `model` (sink/generate/__init__.py MODEL) holds the
-- queues, channels and the hour-of-day weights. Computed in stages (nested SELECTs): an alias
-- used by the next stage is a column there, not an expression the analyzer copies again.
CREATE TABLE {plan:Identifier} ENGINE = MergeTree ORDER BY n AS
WITH
    JSONExtract({model:String}, 'queues', 'name', 'Array(String)') AS q_name,
    JSONExtract({model:String}, 'queues', 'weight', 'Array(Float64)') AS q_weight,
    JSONExtract({model:String}, 'queues', 'shared', 'Array(UInt8)') AS q_shared,
    JSONExtract({model:String}, 'queues', 'mean_wait_s', 'Array(Float64)') AS q_mean_wait,
    JSONExtract({model:String}, 'queues', 'abandon_rate', 'Array(Float64)') AS q_abandon,
    JSONExtract({model:String}, 'queues', 'alert_timeout_seconds', 'Array(Float64)') AS q_alert_timeout,
    JSONExtract({model:String}, 'queues', 'short_abandon_seconds', 'Array(Float64)') AS q_short,
    JSONExtract({model:String}, 'queues', 'abandon_after_silence_seconds', 'Array(Float64)') AS q_silence,
    JSONExtract({model:String}, 'queues', 'service_level_percent', 'Array(Float64)') AS q_sl_pct,
    JSONExtract({model:String}, 'queues', 'service_level_seconds', 'Array(Float64)') AS q_sl_s,
    JSONExtract({model:String}, 'queues', 'later_service_level_seconds', 'Array(Float64)') AS q_sl_s_later,
    JSONExtract({model:String}, 'queues', 'acw_timeout_seconds', 'Array(Float64)') AS q_acw_timeout,
    JSONExtract({model:String}, 'queues', 'default_code', 'Array(String)') AS q_default_code,
    JSONExtract({model:String}, 'queues', 'wrapup_codes', 'Array(Array(String))') AS q_codes,
    JSONExtract({model:String}, 'channels', 'name', 'Array(String)') AS c_name,
    JSONExtract({model:String}, 'channels', 'weight', 'Array(Float64)') AS c_weight,
    JSONExtract({model:String}, 'channels', 'account', 'Array(String)') AS c_account,
    JSONExtract({model:String}, 'hours', 'Array(Float64)') AS hour_weight,
    length(q_name) AS queues,
    arrayMap(d -> if(toDayOfWeek(toDate(fromUnixTimestamp64Milli(toInt64({since_ms:UInt64}), 'UTC')) + d) >= 6, 0.6, 1.0),
             range({days:UInt32})) AS day_weight,
    -- a uniform draw in [0, 1) of this conversation; a weighted choice (1-based index); an exponential (ms, mean m s)
    (n, k) -> cityHash64({seed:UInt64}, n, k) / 18446744073709551616. AS draw,
    (w, x) -> greatest(1, arrayFirstIndex(c -> c >= x * arraySum(w), arrayCumSum(w))) AS pick,
    (x, m) -> toInt64(-log(1 - x) * m * 1000) AS expo,
    -- agents: a queue's pool works three shifts (06-14, 14-22, 22-06 UTC, the night one a quarter of it)
    (t) -> multiIf(toHour(fromUnixTimestamp64Milli(t, 'UTC')) < 6, 2, toHour(fromUnixTimestamp64Milli(t, 'UTC')) < 14, 0,
                   toHour(fromUnixTimestamp64Milli(t, 'UTC')) < 22, 1, 2) AS shift_of,
    (s) -> if(s = 2, greatest(1, intDiv({per_shift:UInt32}, 4)), {per_shift:UInt32}) AS pool_size,
    (pq, s, k) -> concat('gen-agent-', q_name[pq], '-', ['early', 'late', 'night'][s + 1], '-',
                         leftPad(toString(k % pool_size(s) + 1), 3, '0')) AS agent
SELECT n,
    concat('gen-', lower(hex(cityHash64({seed:UInt64}, n, 'conversation')))) AS conversation_id,
    -- a pool of 0.7 N customers: some come back with another conversation
    concat('gen-cust-', lower(hex(cityHash64({seed:UInt64}, 'customer', cityHash64({seed:UInt64}, n, 'customer') % greatest(1, toUInt64({n:UInt64} * 0.7)))))) AS customer_id,
    c_name[ch] AS channel, c_account[ch] AS channel_account_id,
    if(c_name[ch] = 'line', 'ja', ['en', 'en', 'en', 'en', 'en', 'en', 'en', 'es', 'es', 'fr', 'de'][1 + toUInt32(u[42] * 10.999)]) AS language,
    q_name[q] AS queue_id, q_name[q2] AS queue2_id,
    base, bi, greeted, enter1, exit1, wait1, if(abandoned, 'abandoned', 'answered') AS outcome1, short_abandon, silent,
    -- a queue's settings as they were during the visit (general's SL threshold changes halfway)
    q_sl_pct[q] AS sl_pct1, if(base + enter1 >= toInt64({middle_ms:UInt64}), q_sl_s_later[q], q_sl_s[q]) AS sl_s1, q_short[q] AS short1,
    q_sl_pct[q2] AS sl_pct2, if(base + enter2 >= toInt64({middle_ms:UInt64}), q_sl_s_later[q2], q_sl_s[q2]) AS sl_s2, q_short[q2] AS short2,
    length(a1_outcome) AS offers1, a1_start, a1_end, a1_outcome,
    arrayMap(i -> agent(pool1, shift1, k1 + length(a1_outcome) - i), range(1, length(a1_outcome) + 1)) AS a1_agent,
    if(abandoned, '', agent(pool1, shift1, k1)) AS agent1,
    m1, i1_end, if(transferred, 'transferred', 'completed') AS i1_outcome,
    if(transferred, splitByChar('_', second)[1], NULL) AS transfer_type,
    multiIf(endsWith(second, '_queue'), concat('queue:', q_name[q2]), endsWith(second, '_agent'), concat('agent:', agent2), NULL) AS transfer_target,
    wrapped1, wrap1_timeout, w1_end,
    if(wrapped1, if(wrap1_timeout, nullIf(q_default_code[q], ''), q_codes[q][1 + toUInt32(u[37] * 0.999 * length(q_codes[q]))]), NULL) AS code1,
    second, has2, enter2, alert2_start, exit2, agent2, m2, i2_end, wrap2_timeout, w2_end,
    if(has2, if(wrap2_timeout, nullIf(q_default_code[q2], ''), q_codes[q2][1 + toUInt32(u[40] * 0.999 * length(q_codes[q2]))]), NULL) AS code2,
    story_end
FROM (
SELECT *,
    -- a shared queue (general) is served by every pool
    if(q_shared[q], 1 + toUInt32(u[21] * 0.999 * queues), q) AS pool1, shift_of(base + exit1) AS shift1, toUInt32(u[21] * 1000003) AS k1,
    if(q_shared[q2], 1 + toUInt32(u[31] * 0.999 * queues), q2) AS pool2, shift_of(base + exit2) AS shift2,
    multiIf(second = 'return' AND u[43] < 0.4, agent(pool1, shift1, k1),     -- the last agent again
            endsWith(second, '_agent'), agent(pool1, shift1, k1 + 1 + toUInt32(u[31] * 7)),
            agent(pool2, shift2, toUInt32(u[31] * 1000003))) AS agent2
FROM (
SELECT *,
    if(abandoned, exit1, greatest(w1_end, if(has2, w2_end, 0))) AS story_end,   -- a consult's first wrap-up may end last
    -- placed so that nothing happens after {until_ms}: a long story near the end starts earlier
    least(wanted_start, toInt64({until_ms:UInt64}) - story_end - 60000) AS base
FROM (
SELECT *,
    i2_end + wrap2_dur AS w2_end
FROM (
SELECT *,
    arrayMap(c -> exit2 + c, arrayCumSum(g2)) AS m2,
    exit2 + arraySum(g2) + toInt64((30 + u[35] * 150) * 1000) AS i2_end
FROM (
SELECT *,
    enter2 + pre_wait2 AS alert2_start,
    enter2 + pre_wait2 + accept_dur2 AS exit2,
    arrayMap(j -> if(j % 2 = 1, toInt64(4000) + expo(draw(n, 200 + j), 75), toInt64(5000) + expo(draw(n, 200 + j), if(j = 0, 40, 50))),
             range(if(has2, 2 * (1 + toUInt32(u[33] * 4)) - 1, 0))) AS g2
FROM (
SELECT *,
    -- the second visit: the transfer's, or the returning customer's hours or days after the wrap-up
    if(transferred, transfer_at, w1_end + toInt64((2 + u[32] * 46) * 3600000)) AS enter2
FROM (
SELECT *,
    i1_end + if(wrapped1, wrap1_dur, 0) AS w1_end
FROM (
SELECT *,
    -- a consult transfer's first agent stays until the second accepts
    multiIf(startsWith(second, 'consult'), transfer_at + pre_wait2 + accept_dur2, startsWith(second, 'blind'), transfer_at,
            last1 + toInt64((30 + u[34] * 150) * 1000)) AS i1_end
FROM (
SELECT *,
    exit1 + arraySum(g1) AS last1,
    arrayMap(c -> exit1 + c, arrayCumSum(g1)) AS m1,
    exit1 + arraySum(g1) + toInt64((20 + u[27] * 60) * 1000) AS transfer_at,
    arrayMap(e -> if(abandoned, exit1, e),
             arrayMap(e -> enter1 + if(abandoned, wait1, pre_wait) + e - 1000, arrayCumSum(arrayMap(d -> d + 1000, a1_dur)))) AS a1_end,
    arrayMap((e, d) -> e - d, a1_end, a1_dur) AS a1_start
FROM (
SELECT *,
    if(abandoned, abandon_wait, pre_wait + arraySum(a1_dur) + failed * 1000) AS wait1,
    enter1 + wait1 AS exit1,
    if(endsWith(second, '_agent'), toInt64((3 + u[29] * 20) * 1000), expo(u[29], q_mean_wait[q2] * load)) AS pre_wait2,
    u[41] < 0.04 AS wrap2_timeout,
    if(wrap2_timeout, toInt64(q_acw_timeout[q2] * 1000), toInt64(5000) + expo(u[39], 40)) AS wrap2_dur,
    -- the first participation's messages: the agent first, then customer and agent in turn; in 6 %
    -- of conversations the customer answers one to three days later (asynchronous messaging)
    arrayMap(j -> multiIf(j = 0, toInt64(8000) + expo(draw(n, 100 + j), 40),
                          async_gap AND j = gap_at, toInt64((1 + u[25] * 2) * 86400000),
                          j % 2 = 1, toInt64(4000) + expo(draw(n, 100 + j), 75),
                          toInt64(5000) + expo(draw(n, 100 + j), 50)),
             range(if(abandoned, 0, 2 * r1 - 1))) AS g1
FROM (
SELECT *,
    if(abandoned, if(abandon_alerted, [toInt64(abandon_wait * 0.4)], []),
       arrayConcat(arraySlice(failed_dur, 1, failed), [accept_dur])) AS a1_dur,
    if(abandoned, if(abandon_alerted, ['abandoned'], []), arrayConcat(arraySlice(failed_kind, 1, failed), ['accepted'])) AS a1_outcome,
    1 + 2 * toUInt32(u[24] * (r1 - 1)) AS gap_at,       -- the customer message (odd index) that comes late
    startsWith(second, 'blind') OR startsWith(second, 'consult') AS transferred,
    second != 'none' AS has2,
    NOT abandoned AND NOT startsWith(second, 'blind') AS wrapped1,   -- a blind transfer has no wrap-up
    if(endsWith(second, '_queue'), (q + toUInt32(u[28] * (queues - 1))) % queues + 1, q) AS q2
FROM (
SELECT *,
    multiIf(short_abandon, toInt64((1 + u[13] * (q_short[q] - 1.5)) * 1000),
            silent, toInt64(q_silence[q] * 1000),
            toInt64(least(q_short[q] * 1000 + expo(u[13], 150), q_silence[q] * 1000 - 1000))) AS abandon_wait,
    abandoned AND NOT short_abandon AND NOT silent AND u[14] < 0.25 AS abandon_alerted,
    -- answered: 0-2 offers declined or timed out before the one accepted
    if(abandoned, 0, multiIf(u[15] < 0.83, 0, u[15] < 0.96, 1, 2)) AS failed,
    [if(u[16] < 0.4, 'declined', 'timeout'), if(u[18] < 0.4, 'declined', 'timeout')] AS failed_kind,
    arrayMap((k, x) -> if(k = 'declined', toInt64((3 + x * 9) * 1000), toInt64(q_alert_timeout[q] * 1000)),
             failed_kind, [u[17], u[17] * 0.7 + 0.2]) AS failed_dur,
    expo(u[19], q_mean_wait[q] * load) AS pre_wait,
    toInt64((2 + u[20] * 13) * 1000) AS accept_dur,
    NOT abandoned AND u[23] < 0.06 AS async_gap,
    if(abandoned, 0, if(async_gap, greatest(1 + toUInt32(u[22] * 5), 2), 1 + toUInt32(u[22] * 5))) AS r1,
    -- what follows: a transfer (blind or consult, to a queue or an agent) or the customer's return
    if(abandoned, 'none', multiIf(u[26] < 0.06, 'blind_queue', u[26] < 0.08, 'blind_agent', u[26] < 0.10, 'consult_queue',
                                  u[26] < 0.12, 'consult_agent', u[26] < 0.17, 'return', 'none')) AS second,
    toInt64((2 + u[30] * 13) * 1000) AS accept_dur2,
    u[38] < 0.04 AS wrap1_timeout,
    if(wrap1_timeout, toInt64(q_acw_timeout[q] * 1000), toInt64(5000) + expo(u[36], 40)) AS wrap1_dur
FROM (
SELECT *,
    -- 4 % begin with our template (business-initiated); the customer answers it and enters the queue
    u[7] < 0.04 AS bi,
    if(bi, 60000 + expo(u[8], 1200), 300) AS enter1,
    NOT bi AND u[9] < 0.4 AS greeted,                   -- an automatic "an agent will be with you" reply
    u[10] < q_abandon[q] * (0.6 + 0.4 * load) AS abandoned,
    abandoned AND u[11] < 0.35 AS short_abandon,
    abandoned AND NOT short_abandon AND u[12] < 0.4 AS silent    -- the customer went silent (async abandon)
FROM (
SELECT *,
    -- when it begins: a day (weekends quieter), an hour of it (the diurnal curve), a moment in that hour
    toInt64({since_ms:UInt64}) + (pick(day_weight, u[1]) - 1) * 86400000 + (hour - 1) * 3600000 + toInt64(u[3] * 3600000) AS wanted_start,
    hour_weight[hour] / (arraySum(hour_weight) / 24) AS load,
    pick(c_weight, u[4]) AS ch,
    pick(q_weight, u[5]) AS q
FROM (
SELECT number AS n, arrayMap(k -> draw(number, k), range(48)) AS u, pick(hour_weight, u[2]) AS hour
FROM numbers({n:UInt64}))))))))))))))))
