"""Errors every command shares, so that any module may raise them without importing the CLI."""
from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager


class UserError(Exception):
    """A mistake the user can fix: `switchboard` prints it as one line naming the fix, no stack trace."""


class Unavailable(Exception):
    """Something a command needs is not there (a broker down, a port taken): one line naming the fix, exit 1."""


# asyncio's create_server (aiohttp's run_app and TCPSite) says "error while attempting to bind on
# address ('127.0.0.1', 8080): address already in use"; a plain socket.bind names no address.
_ADDRESS = re.compile(r"\('([^']*)', (\d+)")


@contextmanager
def port_taken_is_unavailable(fix: str) -> Iterator[None]:
    """Turn a listening socket's `OSError(EADDRINUSE)` inside the block into Unavailable naming `fix`."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        found = _ADDRESS.search(str(exc))
        where = f"{found[1]}:{found[2]}" if found else "a port it listens on"
        raise Unavailable(f"{where} is already in use (another switchboard process?): stop what listens "
                          f"there or {fix}") from None
