"""The stream processors a worker runs: modules that register agents, tables and tasks on
`streams.app.app`. A module may define `setup(settings, options)`, called before the app starts.
Add one line per processor."""
PROCESSORS: list[str] = [
    "streams.conversations.agent",   # dedupe, threading, last agent, routing requests, outbound policy
]
