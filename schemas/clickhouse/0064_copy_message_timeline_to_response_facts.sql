-- The responses of the messages written before DDL 0063, from message_timeline as the views worked
-- them out until then (sink.metrics.responses_of: runs of one side in time order, each run's
-- first message and agent). Conversations under way at the upgrade continue from the processor's
-- state, which starts their runs anew (conversation-state v7).
INSERT INTO response_facts (tenant_id, at, message_id, conversation_id, channel, responder, agent_id, response_s,
                            first_of_conversation, first_of_participation)
SELECT tenant_id, at, message_id, conversation_id, channel, responder, agent_id, response_s,
       row_number() OVER (PARTITION BY tenant_id, conversation_id, responder ORDER BY at, message_id) = 1,
       row_number() OVER (PARTITION BY tenant_id, conversation_id, responder, agent_id ORDER BY at, message_id) = 1
FROM (SELECT tenant_id, conversation_id, message_id, channel, at, if(side = 'agent', 'agent', 'customer') AS responder,
             if(side = 'agent', agent_id, lagInFrame(run_agent) OVER w) AS agent_id,
             dateDiff('millisecond', lagInFrame(run_start) OVER w, at) / 1000 AS response_s, starts, run
      FROM (SELECT *, first_value(at) OVER r AS run_start, first_value(agent_id) OVER r AS run_agent
            FROM (SELECT *, sum(starts) OVER (PARTITION BY tenant_id, conversation_id ORDER BY at, message_id
                                              ROWS UNBOUNDED PRECEDING) AS run
                  FROM (SELECT *, side != lagInFrame(side, 1, '') OVER w AS starts
                        FROM (SELECT tenant_id, message_id, conversation_id, channel, sender_kind, agent_id, occurred_at AS at,
                                     if(direction = 'inbound', 'customer', 'agent') AS side
                              FROM message_timeline FINAL WHERE direction = 'inbound' OR sender_kind = 'agent')
                        WINDOW w AS (PARTITION BY tenant_id, conversation_id ORDER BY at, message_id
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)))
            WINDOW r AS (PARTITION BY tenant_id, conversation_id, run ORDER BY at, message_id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
      WINDOW w AS (PARTITION BY tenant_id, conversation_id ORDER BY at, message_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
WHERE starts AND run > 1
