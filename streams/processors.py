"""The stream processors a worker runs: modules that register agents, tables and tasks on
`streams.app.app`. A module may define `setup(settings, options)`, called before the app starts.
Add one line per processor."""
PROCESSORS: list[str] = [
    "streams.conversations.agent",   # inputs -> conversation-inputs; dedupe, threading, last agent, routing requests, policy
    "streams.identity.agent",        # identity matcher: link, merge or flag customers by claimed email/phone
    "streams.routing.agent",         # routing-requests + agent-actions + routing-ticks -> routing-inputs -> ACD
    "streams.routing.clock",         # a routing-tick per tenant every second
    "streams.accounts.agent",        # outbound-checks + account-events + account-ticks -> account-inputs -> account stage
    "streams.accounts.clock",        # an account-tick per portfolio holding messages every second
]
