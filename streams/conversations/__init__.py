"""The conversation processor: dedupe, threading, last agent, routing requests and identity claims.

Pure functions (`threading`, `assignments`, `expiry`) decide; `agent` is the faust plumbing that
runs them in one hop keyed by the thread key (see streams/README.md).
"""
