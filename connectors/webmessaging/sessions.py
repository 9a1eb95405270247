"""Guest sessions: the compacted `webmessaging-sessions` topic, followed whole by every edge replica.

Keyed `<deployment>:<sha256(token)>`: the token stays in the visitor's browser, the topic only
holds its hash, so neither a log line nor the topic can resume someone's session. A replica that
writes a session applies it to its own view at once (the follower catches up to the same value).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import threading

from connectors.publisher import Record
from schemas import plain, topic
from switchboard.kafka import TopicFollower

log = logging.getLogger("switchboard.webmessaging")
SESSIONS = topic("webmessaging-sessions")
HOUR_MS = 3600 * 1000


def session_key(deployment_id: str, token: str) -> str:
    """The topic key of a token's session (never the token itself)."""
    return f"{deployment_id}:{hashlib.sha256(token.encode()).hexdigest()}"


def new_session(tenant: str, deployment: dict, now_ms: int) -> dict:
    """A fresh guest session of `deployment` (a new random id: a new thread)."""
    return {"tenant_id": tenant, "deployment_id": deployment["id"], "session_id": f"ws-{secrets.token_hex(16)}",
            "created_at": now_ms, "expires_at": now_ms + int(deployment["session_hours"] * HOUR_MS),
            "authenticated": False, "auth_sub": None, "display_name": None, "email": None, "phone": None,
            "entry_point": None, "last_activity_at": None}


def thread_key(session: dict) -> str:
    """The session's thread key, as `connectors.normalize.thread_key` makes it for web."""
    return f"{session['tenant_id']}:web:{session['deployment_id']}:{session['session_id']}"


def conversation_expires_at(session: dict, deployment: dict) -> int | None:
    """When the threading window closes after the visitor's last message (None before the first)."""
    last = session.get("last_activity_at")
    return None if last is None else last + int(deployment["window_hours"] * HOUR_MS)


class SessionView:
    """Every guest session in memory, by key and by (deployment, session id)."""

    def __init__(self, client_config: dict, codec):
        self.codec = codec
        self._by_key: dict[str, dict] = {}
        self._by_id: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._follower = TopicFollower(client_config, SESSIONS.name, SESSIONS.partitions, self._apply_all)

    def start(self) -> "SessionView":
        """Begin reading the topic from its start."""
        self._follower.start()
        return self

    def wait_ready(self, timeout: float) -> bool:
        """Whether every session that was on the topic at start has been read."""
        return self._follower.ready.wait(timeout)

    def close(self) -> None:
        """Stop reading."""
        self._follower.close()

    def get(self, key: str) -> dict | None:
        """The session of a key."""
        with self._lock:
            found = self._by_key.get(key)
        return None if found is None else dict(found)

    def by_id(self, deployment_id: str, session_id: str) -> dict | None:
        """The session with this id on this deployment (a delivery names it so)."""
        with self._lock:
            key = self._by_id.get((deployment_id, session_id))
            return None if key is None else dict(self._by_key[key])

    def record(self, key: str, session: dict | None) -> Record:
        """The Kafka record that writes (None: forgets) a session."""
        value = None if session is None else self.codec.encode("web-session", session)
        return Record(SESSIONS.name, key, value)

    def applied(self, key: str, session: dict | None) -> None:
        """Our own write, acknowledged: visible here at once."""
        self._apply(key, session)

    def _apply_all(self, messages) -> None:
        for m in messages:
            try:
                session = None if m.value() is None else plain(self.codec.decode(m.value(), "web-session"))
            except Exception as exc:   # a record we cannot read is skipped, never the whole view
                log.warning("unreadable %s record %d-%d: %s", SESSIONS.name, m.partition(), m.offset(), exc)
                continue
            self._apply(m.key().decode(), session)

    def _apply(self, key: str, session: dict | None) -> None:
        with self._lock:
            old = self._by_key.pop(key, None)
            if old is not None:
                self._by_id.pop((old["deployment_id"], old["session_id"]), None)
            if session is not None:
                self._by_key[key] = session
                self._by_id[(session["deployment_id"], session["session_id"])] = key

