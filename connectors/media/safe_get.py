"""One GET that only ever connects to allowlisted hosts: the SSRF control of inbound media fetches."""
from __future__ import annotations

import ipaddress
from urllib.parse import urljoin, urlsplit

import aiohttp

from channels.line import LINE_API, LINE_DATA_API

from ..sending import OutsideTarget
from .store import MediaRefused

MAX_REDIRECTS = 3


def allowed_hosts(account) -> tuple[str, ...]:
    """The account's `media_hosts`, else the host of its api_base_url (the simulators' loopback);
    LINE's real API serves content from its data host (connectors/media/fetch.py), so that one too."""
    if account.media_hosts:
        return tuple(h.lower() for h in account.media_hosts)
    host = urlsplit(account.api_base_url or "").hostname
    if host == urlsplit(LINE_API).hostname:
        return host, urlsplit(LINE_DATA_API).hostname
    return (host,) if host else ()


def host_allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether `url` is http(s) to a host on the list ("*.example.com": its subdomains).

    An IP literal passes only when the list names that exact address: a wildcard never matches one.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return False
    if _is_ip(host):
        return any(_is_ip(h) and ipaddress.ip_address(h) == ipaddress.ip_address(host) for h in hosts)
    return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in hosts)


async def safe_get(session: aiohttp.ClientSession, url: str, headers: dict[str, str], hosts: tuple[str, ...],
                   max_bytes: int, timeout_s: float = 20.0) -> tuple[bytes, str | None]:
    """(body, Content-Type) of `url`, following at most 3 redirects, each hop checked before connecting.

    Credentials go only to the first host: a redirect (e.g. to a CDN) is fetched without them.
    The session's outside-target guard (`connectors.sending.guard`) refuses a host beyond loopback
    unless outside targets are allowed: `media.outside_target`, naming the setting.
    """
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    for _ in range(MAX_REDIRECTS + 1):
        if not host_allowed(url, hosts):
            raise MediaRefused("media.host", f"{urlsplit(url).hostname or url!r} is not on the account's "
                                             "media_hosts allowlist")
        try:
            async with session.get(url, headers=headers, allow_redirects=False, timeout=timeout) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url, headers = urljoin(url, response.headers["Location"]), {}
                    continue
                if response.status != 200:
                    raise MediaRefused("media.fetch", f"HTTP {response.status} from {urlsplit(url).hostname}")
                return await _body(response, max_bytes), response.headers.get("Content-Type")
        except OutsideTarget as exc:   # before connecting: the process does not allow outside targets
            raise MediaRefused("media.outside_target", str(exc)) from None
        except aiohttp.ClientError as exc:
            raise MediaRefused("media.fetch", f"cannot fetch from {urlsplit(url).hostname}: {exc}") from exc
    raise MediaRefused("media.fetch", f"more than {MAX_REDIRECTS} redirects")


async def _body(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if response.content_length is not None and response.content_length > max_bytes:
        raise MediaRefused("media.too_large", f"{response.content_length} bytes; the limit is {max_bytes}")
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:  # stop reading: never hold more than the limit in memory
            raise MediaRefused("media.too_large", f"more than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False
