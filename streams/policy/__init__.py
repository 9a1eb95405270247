"""The outbound policy: channel windows, templates, anti-spam and content capabilities.

`decide` is the pure rule check over a thread state; it imports nothing of the conversation
processor. `streams.conversations.outbound.on_outbound` applies its verdict to the thread state, in
the conversation processor's agent (same table, same partition: see streams/README.md).
"""
