"""People and configuration as data: the compacted `directory` topic, its kinds, and a live view.

Each entry is keyed `<tenant>:<kind>:<id>` and carries its body as a JSON object validated by the
kind's model below (`KINDS`); a tombstone deletes it. Every role reads the topic whole with a
`DirectoryView` (a background consumer, no consumer group) and follows it live, so a change made
with `switchboard admin` reaches every process without a restart (docs/workspace.md). Other issues
add their kinds to `KINDS`.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channels.web import DeploymentBody, EntryPointBody
from channels.zones import TimeZoneName
from schemas import Codec, topic

from .errors import UserError
from .kafka import TopicFollower, producer

log = logging.getLogger("switchboard.directory")
TOPIC = topic("directory")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Body):
    """Local times (the recipient's zone) between which business-initiated messages are held."""

    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


OPT_OUT_KEYWORDS = {"en": ("STOP", "UNSUBSCRIBE"), "es": ("BAJA",), "fr": ("ARRET", "ARRÊT"), "de": ("STOPP",),
                    "pt": ("PARAR",)}
OPT_IN_KEYWORDS = {"en": ("START",)}


class TenantBody(_Body):
    """A tenant: its name, the system senders its outbound policy accepts, and its sending policy:
    budgets for business-initiated messages (decimal strings in the price table's currency, None:
    none), quiet hours, the zone used when a recipient's is unknown, opt-out and opt-in keywords."""

    name: str = ""
    system_senders: tuple[str, ...] = ()
    budget_daily: str | None = Field(None, pattern=r"^[0-9]+(\.[0-9]+)?$")
    budget_monthly: str | None = Field(None, pattern=r"^[0-9]+(\.[0-9]+)?$")
    quiet_hours: QuietHours | None = None
    time_zone: TimeZoneName = "UTC"
    opt_out_keywords: dict[str, tuple[str, ...]] = OPT_OUT_KEYWORDS
    opt_in_keywords: dict[str, tuple[str, ...]] = OPT_IN_KEYWORDS
    # Languages its customers write in (ISO 639-1): the offline detector only chooses among these
    # (streams/conversations/language.py); empty: no detection.
    languages: tuple[str, ...] = ()
    # Merge customers whose typed email or phone (found in message text) matches another customer's;
    # False (default): a merge suggestion an agent confirms or rejects (docs/identity.md).
    merge_typed_details: bool = False


class PersonBody(_Body):
    """An agent, supervisor or admin: how they sign in and how they are routed."""

    name: str = Field(min_length=1)
    role: Literal["agent", "supervisor", "admin"] = "agent"
    password_hash: str | None = None   # None: routed, but cannot sign in (e.g. simulated agents)
    skills: dict[str, int] = {}
    languages: tuple[str, ...] = ()
    capacity: dict[str, int] = {}
    queues: tuple[str, ...] = ()
    disabled: bool = False


class CannedBody(_Body):
    """A canned response, for the whole tenant or one queue."""

    title: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=4096)
    shortcut: str = ""
    queue: str | None = None


class RevokedBody(_Body):
    """A signed-out session, refused until its token would have expired."""

    expires_at: int


class RoutingBody(BaseModel):
    """A tenant's routing file without `agents:` (checked in full by streams.routing.config)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    default_queue: str
    queues: dict[str, dict]


KINDS: dict[str, type[BaseModel]] = {"tenant": TenantBody, "person": PersonBody, "canned_response": CannedBody,
                                     "session_revoked": RevokedBody, "routing": RoutingBody,
                                     "deployment": DeploymentBody, "entry_point": EntryPointBody}


def entry_key(tenant: str, kind: str, entry_id: str) -> str:
    """The directory key of one entry."""
    return f"{tenant}:{kind}:{entry_id}"


def validated(kind: str, body: dict) -> dict:
    """`body` checked by its kind's model (UserError naming the field), as plain JSON data."""
    model = KINDS.get(kind)
    if model is None:
        raise UserError(f"unknown directory kind {kind!r}: one of {', '.join(sorted(KINDS))}")
    try:
        return model(**body).model_dump(mode="json")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or kind}: {e['msg']}" for e in exc.errors())
        raise UserError(f"invalid {kind}: {problems}") from None


class DirectoryWriter:
    """Publishes directory entries (and tombstones), waiting for the broker's acknowledgement."""

    def __init__(self, client_config: dict, codec: Codec):
        self.codec, self.producer = codec, producer(client_config)

    def put(self, tenant: str, kind: str, entry_id: str, body: dict | None, by: str | None) -> None:
        """Write one entry (None deletes it); UserError when invalid or the broker does not ack."""
        key = entry_key(tenant, kind, entry_id)
        value = None if body is None else self.codec.encode("directory-entry", {
            "tenant_id": tenant, "kind": kind, "entry_id": entry_id, "updated_at": int(time.time() * 1000),
            "updated_by": by, "body": json.dumps(validated(kind, body), sort_keys=True)})
        errors: list = []
        self.producer.produce(TOPIC.name, key=key.encode(), value=value,
                              on_delivery=lambda err, _msg: err and errors.append(err))
        if self.producer.flush(15) or errors:
            raise UserError(f"the broker did not acknowledge {key}: {errors or 'timed out'} "
                            "(is Kafka running? switchboard kafka status)")

    def close(self) -> None:
        """Flush what is left and let the producer go (its threads end with the object)."""
        if self.producer is not None:
            self.producer.flush(5)
            self.producer = None


class DirectoryView:
    """The whole directory in memory, caught up at start and followed live by a background thread."""

    def __init__(self, client_config: dict, codec: Codec):
        self.codec, self.client_config = codec, client_config
        self.entries: dict[str, dict] = {}          # key → {"tenant_id", "kind", "entry_id", "body", …}
        self.version = 0                            # bumps on every change
        self._revoked: set[str] = set()
        self._deployments: dict[str, tuple[str, dict]] = {}   # deployment id → (tenant, body)
        self._versions: dict[str, int] = {}          # per tenant: bumps when its routing or people change
        self._lock = threading.Lock()
        self._follower = TopicFollower(client_config, TOPIC.name, TOPIC.partitions, self._apply_all)

    def start(self) -> "DirectoryView":
        """Begin reading from the start of the topic."""
        self._follower.start()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        """Block until the view has read everything that was on the topic at start."""
        if not self._follower.ready.wait(timeout):
            raise UserError(f"the directory topic {TOPIC.name!r} could not be read in {timeout:.0f} s: "
                            "is Kafka running and the topic created? (switchboard topics create)")

    def close(self) -> None:
        """Stop the background reader."""
        self._follower.close()

    def _apply_all(self, messages) -> None:
        for msg in messages:
            self._apply(msg.key().decode(), msg.value())

    def _apply(self, key: str, value: bytes | None) -> None:
        with self._lock:
            if value is None:
                gone = self.entries.pop(key, None)
                if gone and gone["kind"] == "session_revoked":
                    self._revoked.discard(gone["entry_id"])
                if gone and gone["kind"] == "deployment":
                    self._deployments.pop(gone["entry_id"], None)
            else:
                entry = self.codec.decode(value, "directory-entry")
                self.entries[key] = {**entry, "body": json.loads(entry["body"])}
                if entry["kind"] == "session_revoked":
                    self._revoked.add(entry["entry_id"])
                if entry["kind"] == "deployment":
                    self._deployments[entry["entry_id"]] = (entry["tenant_id"], self.entries[key]["body"])
            self.version += 1
            tenant, kind, _id = key.split(":", 2)
            if kind in ("routing", "person"):
                self._versions[tenant] = self._versions.get(tenant, 0) + 1

    def routing_version(self, tenant: str) -> int:
        """A number that changes whenever the tenant's routing entry or people change."""
        return self._versions.get(tenant, 0)

    def get(self, tenant: str, kind: str, entry_id: str) -> dict | None:
        """One entry's body with its `id`, or None."""
        entry = self.entries.get(entry_key(tenant, kind, entry_id))
        return None if entry is None else {**entry["body"], "id": entry["entry_id"]}

    def all(self, tenant: str, kind: str) -> list[dict]:
        """Every entry of one kind of a tenant, by id."""
        prefix = f"{tenant}:{kind}:"
        with self._lock:
            found = [(k, e) for k, e in self.entries.items() if k.startswith(prefix)]
        return [{**e["body"], "id": e["entry_id"]} for _k, e in sorted(found)]

    def person(self, tenant: str, person_id: str) -> dict | None:
        """A person of the tenant (None when unknown)."""
        return self.get(tenant, "person", person_id)

    def people(self, tenant: str, role: str | None = None) -> list[dict]:
        """The tenant's people, optionally of one role."""
        return [p for p in self.all(tenant, "person") if role is None or p["role"] == role]

    def canned(self, tenant: str, queue: str | None = None) -> list[dict]:
        """Canned responses for the tenant (and `queue`, when given)."""
        return [c for c in self.all(tenant, "canned_response") if c.get("queue") in (None, queue)]

    def routing(self, tenant: str) -> dict | None:
        """The tenant's routing entry (the routing file without agents)."""
        return self.get(tenant, "routing", "config")

    def tenant(self, tenant: str) -> dict | None:
        """The tenant entry."""
        return self.get(tenant, "tenant", tenant)

    def tenants(self) -> list[str]:
        """Every tenant with a tenant or routing entry."""
        with self._lock:
            return sorted({e["tenant_id"] for e in self.entries.values() if e["kind"] in ("tenant", "routing")})

    def system_senders(self, tenant: str) -> frozenset[str]:
        """The sender ids (besides the connected agent) the tenant's outbound policy accepts."""
        return frozenset((self.tenant(tenant) or {}).get("system_senders", ()))

    def deployment(self, deployment_id: str) -> tuple[str, dict] | None:
        """(tenant, body) of a web messaging deployment by its id, which is unique across tenants."""
        with self._lock:
            found = self._deployments.get(deployment_id)
        return None if found is None else (found[0], {**found[1], "id": deployment_id})

    def entry_point(self, tenant: str, entry_id: str) -> dict | None:
        """An entry point of the tenant (its id is the `ref` its link carries)."""
        return self.get(tenant, "entry_point", entry_id)

    def entry_point_of_ad(self, tenant: str, ad_id: str) -> dict | None:
        """The tenant's entry point that lists `ad_id` (a click-to-WhatsApp or Messenger ad), if any."""
        return next((e for e in self.all(tenant, "entry_point") if ad_id in e.get("ad_ids", ())), None)

    def revoked(self, session_id: str) -> bool:
        """Whether a session was signed out (any tenant: session ids are random)."""
        return session_id in self._revoked
