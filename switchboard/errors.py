"""Errors every command shares, so that any module may raise them without importing the CLI."""
from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: `switchboard` prints it as one line naming the fix, no stack trace."""
