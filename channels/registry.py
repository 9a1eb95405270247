"""The one list of channels: adding a channel adds its module's name here."""
from __future__ import annotations

from importlib import import_module

from .spec import ChannelSpec

# Modules of this package, each with a `SPEC`; the order is the Avro `Channel` enum's.
MODULES = ("web", "messenger", "whatsapp", "line", "x", "open")

CHANNELS: dict[str, ChannelSpec] = {spec.channel: spec for spec in
                                    (import_module(f"{__package__}.{name}").SPEC for name in MODULES)}


def rules(channel: str) -> ChannelSpec:
    """The declaration of `channel`; KeyError naming the known channels otherwise."""
    if channel not in CHANNELS:
        raise KeyError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
    return CHANNELS[channel]


def resolve(target: str):
    """The object a `"module:attribute"` name of a spec points to (a connector or simulator class)."""
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)
