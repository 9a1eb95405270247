"""The stream processors a worker runs: modules that register agents, tables and tasks on
`streams.app.app`. A module may define `setup(settings, options)`, called before the app starts.
Add one line per processor."""
PROCESSORS: list[str] = [
    "streams.conversations.agent",   # dedupe, threading, last agent, routing requests, outbound policy
    "streams.identity.agent",        # identity matcher: link, merge or flag customers by claimed email/phone
    "streams.routing.agent",         # ACD: routing-requests + agent-actions + routing-ticks -> offers, assignments
    "streams.routing.clock",         # a routing-tick per tenant every second
]
