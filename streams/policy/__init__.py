"""The outbound policy: channel windows, templates, anti-spam and content capabilities.

`decide` is the pure rule check; `outbound.on_outbound` applies it to the thread state. The
conversation processor's agent runs it (same table, same partition: see streams/README.md).
"""
