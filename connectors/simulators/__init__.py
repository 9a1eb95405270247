"""Platform simulators: local stand-ins for Messenger, WhatsApp, LINE, X and Open Messaging.

They play the platforms' side only, written from the protocol facts (docs/channels/), and never
import the connectors they test. See README.md.
"""


def main(argv: list[str]) -> int:
    """`switchboard simulate` (the role in switchboard/cli.py ROLES)."""
    from .cli import main as run

    return run(argv)
