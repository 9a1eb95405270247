"""Switchboard's shared core: settings, channel-account data and the `switchboard` command."""
