"""The conversation processor: dedupe, threading, last agent, routing requests, identity claims, outbound policy.

Pure functions (`threading`, `assignments`, `outbound`, `expiry`) decide, over the thread state of
`state`; `dispatch` maps each source topic to one of them; `agent` is the faust plumbing that runs
them in one hop keyed by the thread key (see streams/README.md). `samples` builds source events for
tests and benchmarks.
"""
