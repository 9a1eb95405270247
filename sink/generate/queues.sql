-- queue_config_facts: every queue as routing applied it when the history begins, and again halfway
-- (a restart writes the same settings; general's service-level threshold changes then).
INSERT INTO queue_config_facts (tenant_id, queue_id, configured_at, decision_id, service_level_percent, service_level_seconds,
                                short_abandon_seconds, abandon_after_silence_seconds, alert_timeout_seconds, acw_mode,
                                acw_timeout_seconds, skills)
WITH JSONExtract({model:String}, 'queues', 'name', 'Array(String)') AS q_name,
     arrayJoin(arrayEnumerate(q_name)) AS q,
     arrayJoin([toInt64({since_ms:UInt64}) - 3600000, toInt64({middle_ms:UInt64})]) AS configured,
     (key) -> JSONExtract({model:String}, 'queues', key, 'Array(Float64)')[q] AS number_of
SELECT {tenant:String}, q_name[q], fromUnixTimestamp64Milli(configured, 'UTC'),
       concat('rd:gen-', q_name[q], ':configured:', toString(configured)), number_of('service_level_percent'),
       if(configured >= toInt64({middle_ms:UInt64}), number_of('later_service_level_seconds'), number_of('service_level_seconds')),
       number_of('short_abandon_seconds'), number_of('abandon_after_silence_seconds'), number_of('alert_timeout_seconds'),
       JSONExtract({model:String}, 'queues', 'acw_mode', 'Array(String)')[q], number_of('acw_timeout_seconds'),
       JSONExtract({model:String}, 'queues', 'skills', 'Array(Map(String, UInt8))')[q]
FROM system.one
