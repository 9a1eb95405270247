"""Every channel declared once: `channels/<channel>.py` holds its account model, signature scheme,
content capabilities and limits, window rule, and the names of its connector and simulator.

`channels.registry.CHANNELS` is the one list; the accounts file's models, the outbound policy's
window rules, delivery's capability checks, the connectors, the simulators and the demo summary
are all derived from it. Both sides import this package; it imports neither (tests/test_layering.py).
"""
