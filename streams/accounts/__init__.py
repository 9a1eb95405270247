"""The account stage: the second policy stage, keyed by portfolio key `<tenant>:<portfolio>`.

WhatsApp template catalogue, messaging-limit tier, number throughput, budgets and quiet hours;
LINE's monthly push quota; X's daily cap. Pure functions (state, decide, events, holds, view)
and the faust plumbing around them (agent, clock).
"""
