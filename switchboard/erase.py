"""Erasure of a customer's personal data on request (GDPR-style): `switchboard admin erase-customer`.

    switchboard admin erase-customer --tenant T --customer C [--yes]

What is erased, for the customer and every customer merged with it (sink/history.members):
- the compacted topics' current state: `conversation-state` (thread key) and `identity-state`
  (`<tenant>:<type>:<value>` of every detail) through the processors' own inputs (a
  `conversation-timeouts` record of kind `erased`, an `identity-claims` claim of action `erase`: a
  running worker drops the entry from its table, which writes the changelog's tombstone) and a
  tombstone written here too (for entries no worker holds now); tombstones on `policy-views` and
  the expiry index `conversation-due-index` (`thread:<thread key>`; the index's `due:` entry names
  the thread too, and is dropped by a running worker with its thread) and `delivery-ledger` (the
  threads' outbound ids);
- every fact row of its threads, conversations, messages and customer ids (ClickHouse lightweight
  deletes, every MergeTree table but the audits);
- the media it sent, unless another message still refers to the same (content-addressed) bytes.
The erasure itself is a row of `erasure_facts` (DDL 0030): who, when, which customer ids, counts.
Records in retention-limited topics are not rewritten: they expire by their retention (docs/security.md).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sink.history import members

from .details import claim_key
from .errors import UserError

# Audit tables keep their rows: they hold no detail, text or name, and are the record of who did what.
KEPT_TABLES = ("erasure_facts", "access_audit_facts", "schema_migrations")
# Which set of the plan a column is matched against.
COLUMN_SETS = {"thread_key": "threads", "customer_id": "customers", "merged_customer_id": "customers",
               "conversation_id": "conversations", "message_id": "messages", "outbound_id": "messages"}

THREADS_SQL = """SELECT DISTINCT thread_key FROM (
    SELECT assumeNotNull(thread_key) AS thread_key FROM identity_facts FINAL
    WHERE tenant_id = {tenant:String} AND thread_key IS NOT NULL
      AND (customer_id IN {customers:Array(String)} OR merged_customer_id IN {customers:Array(String)})
    UNION ALL SELECT assumeNotNull(thread_key) FROM conversation_facts FINAL
    WHERE tenant_id = {tenant:String} AND customer_id IN {customers:Array(String)} AND thread_key IS NOT NULL)
ORDER BY thread_key"""
DETAILS_SQL = """SELECT DISTINCT assumeNotNull(detail_type), assumeNotNull(detail_value) FROM identity_facts FINAL
WHERE tenant_id = {tenant:String} AND detail_type IS NOT NULL AND detail_value IS NOT NULL
  AND (customer_id IN {customers:Array(String)} OR merged_customer_id IN {customers:Array(String)}
       OR thread_key IN {threads:Array(String)})
ORDER BY 1, 2"""
CONVERSATIONS_SQL = """SELECT DISTINCT conversation_id FROM conversation_facts FINAL
WHERE tenant_id = {tenant:String}
  AND (customer_id IN {customers:Array(String)} OR thread_key IN {threads:Array(String)})
ORDER BY conversation_id"""
MESSAGES_SQL = """SELECT message_id, direction, content FROM message_facts FINAL
WHERE tenant_id = {tenant:String}
  AND (customer_id IN {customers:Array(String)} OR thread_key IN {threads:Array(String)}
       OR conversation_id IN {conversations:Array(String)})
ORDER BY message_id"""
# Whether any message not being erased (any tenant: the store is content-addressed) still refers to a key.
MEDIA_IN_USE_SQL = """SELECT count() FROM message_facts
WHERE position(ifNull(content, ''), {key:String}) > 0 AND message_id NOT IN {messages:Array(String)}"""
TABLES_SQL = """SELECT table, groupArray(name) FROM system.columns
WHERE database = currentDatabase() AND table IN (
    SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree')
GROUP BY table ORDER BY table"""


@dataclass
class Plan:
    """Everything of one customer group that is erased (the group's ids, threads, details, …)."""

    tenant: str
    customer: str
    customers: list[str]
    threads: list[str] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    outbound: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)

    def sets(self) -> dict[str, list[str]]:
        """The id sets columns are matched against (COLUMN_SETS)."""
        return {"threads": self.threads, "customers": self.customers,
                "conversations": self.conversations, "messages": self.messages}

    def summary(self) -> dict:
        """Counts only: what the command prints and the audit keeps (no personal data)."""
        return {"tenant": self.tenant, "customer": self.customer, "customers": self.customers,
                "threads": len(self.threads), "details": len(self.details),
                "conversations": len(self.conversations), "messages": len(self.messages),
                "media": len(self.media)}


def plan(store, tenant: str, customer: str) -> Plan:
    """Resolve the customer's group and everything of it the facts know; UserError if nothing does."""
    customers = members(store, tenant, customer)
    p = Plan(tenant, customer, customers)
    params = {"tenant": tenant, "customers": customers}
    p.threads = [r[0] for r in store.query(THREADS_SQL, params).result_rows]
    params["threads"] = p.threads
    p.details = [(r[0], r[1]) for r in store.query(DETAILS_SQL, params).result_rows]
    p.conversations = [r[0] for r in store.query(CONVERSATIONS_SQL, params).result_rows]
    params["conversations"] = p.conversations
    rows = store.query(MESSAGES_SQL, params).result_rows
    if not (p.threads or p.details or rows):
        raise UserError(f"no customer {customer!r} in tenant {tenant!r} (check the id in the customer's "
                        "history: GET /api/customers/<id>/history)")
    p.messages = [r[0] for r in rows]
    p.outbound = [r[0] for r in rows if r[1] == "outbound"]
    keys = {item["media_key"] for r in rows if r[1] == "inbound" and r[2]
            for item in json.loads(r[2]) if item.get("media_key")}
    p.media = sorted(k for k in keys
                     if not store.query(MEDIA_IN_USE_SQL, {"key": k, "messages": p.messages}).result_rows[0][0])
    return p


def topic_records(p: Plan, erasure_id: str = "", requested_by: str = "") -> list[tuple]:
    """(topic, key, value) to produce: the processors' `erased` / `erase` inputs, then the tombstones (None).

    The inputs make a running worker drop the entry from its table (which writes the changelog's
    tombstone); the tombstones cover entries no worker holds now (a stopped worker restores without them).
    """
    from schemas import topic

    now = int(datetime.now(timezone.utc).timestamp() * 1000)
    forget_threads = [(topic("conversation-timeouts").name, t,
                       {"tenant_id": p.tenant, "thread_key": t, "kind": "erased", "conversation_id": None,
                        "last_activity_at": now, "checked_at": now}) for t in p.threads]
    forget_details = [(topic("identity-claims").name, claim_key(p.tenant, kind, value),
                       {"claim_id": f"erase:{erasure_id}:{n}", "tenant_id": p.tenant, "detail_type": kind,
                        "detail_value": value, "source": "other", "thread_key": "", "channel": "unknown",
                        "channel_account_id": "", "external_id": "", "customer_id": p.customers[0],
                        "display_name": None, "occurred_at": now, "action": "erase", "origin": None,
                        "message_id": None, "auto_merge": False, "other_customer_id": None,
                        "actor": requested_by or None})
                      for n, (kind, value) in enumerate(p.details)]
    return forget_threads + forget_details + \
        [(topic("conversation-state").name, t, None) for t in p.threads] + \
        [(topic("conversation-due-index").name, f"thread:{t}", None, t) for t in p.threads] + \
        [(topic("policy-views").name, f"thread:{t}", None) for t in p.threads] + \
        [(topic("identity-state").name, claim_key(p.tenant, kind, value), None) for kind, value in p.details] + \
        [(topic("delivery-ledger").name, o, None) for o in p.outbound]


def produce(client_config: dict, codec, records: list[tuple]) -> int:
    """Write the records (murmur2 keys: each lands where faust keeps it); how many tombstones.

    A record may name a 4th item, the key whose partition it belongs to: the expiry index's
    `thread:<thread key>` entry lives on its thread's partition (faust writes it under the thread's event).
    """
    from aiokafka.partitioner import murmur2

    from schemas import topic

    from .kafka import producer

    out, failed = producer(client_config, **{"message.timeout.ms": 15000}), []

    def delivered(err, _msg):
        if err is not None:
            failed.append(str(err))
    for name, key, value, *owner in records:
        data = None if value is None else codec.encode(topic(name).value, value)
        where = {"partition": (murmur2(owner[0].encode()) & 0x7FFFFFFF) % topic(name).partitions} if owner else {}
        out.produce(name, key=key.encode(), value=data, on_delivery=delivered, **where)
    if out.flush(20) or failed:
        raise UserError(f"the erasure's records were not all written ({failed[:1] or 'timeout'}): is Kafka up? "
                        "Run the same command again (erasing twice is harmless)")
    return sum(1 for r in records if r[2] is None)


def delete_facts(store, p: Plan) -> tuple[int, list[str]]:
    """Lightweight-delete every row of the plan in every MergeTree table: (rows deleted, tables touched)."""
    sets, total, touched = p.sets(), 0, []
    for table, columns in store.query(TABLES_SQL).result_rows:
        if table in KEPT_TABLES or "tenant_id" not in columns:
            continue
        matches = [f"{c} IN {{{COLUMN_SETS[c]}:Array(String)}}" for c in columns
                   if c in COLUMN_SETS and sets[COLUMN_SETS[c]]]
        if not matches:
            continue
        where = f"tenant_id = {{tenant:String}} AND ({' OR '.join(matches)})"
        params = {"tenant": p.tenant, **sets}
        found = store.query(f"SELECT count() FROM {table} WHERE {where}", params).result_rows[0][0]
        if found:
            store.command(f"DELETE FROM {table} WHERE {where}", params)
            total, touched = total + found, touched + [table]
    return total, touched


def remove_media(media_store, p: Plan) -> int:
    """Remove the customer's stored media; how many files went."""
    return sum(1 for key in p.media if media_store.remove(key))


def erase(store, p: Plan, *, client_config: dict, codec, media_store, requested_by: str) -> dict:
    """Run the plan: topics first (so a running worker forgets), then facts, media, and the audit row."""
    erasure_id = str(uuid.uuid4())
    tombstones = produce(client_config, codec, topic_records(p, erasure_id, requested_by))
    rows, tables = delete_facts(store, p)
    removed = remove_media(media_store, p)
    audit = {"tenant_id": p.tenant, "erasure_id": erasure_id, "customer_id": p.customer,
             "customers": p.customers, "requested_by": requested_by, "erased_at": datetime.now(timezone.utc),
             "threads": len(p.threads), "details": len(p.details), "conversations": len(p.conversations),
             "messages": len(p.messages), "media": removed, "tombstones": tombstones,
             "rows_deleted": rows, "tables": tables}
    store.insert("erasure_facts", [audit])
    return {k: v for k, v in audit.items() if k != "erased_at"} | {"erased_at": audit["erased_at"].isoformat()}


def erase_customer_cmd(settings, args) -> object:
    """erase-customer: show what would go; with --yes erase it."""
    import getpass

    from connectors.media import DirectoryStore
    from schemas import Codec
    from sink.client import NoClickHouse, connect
    from sink.store import ServerStore

    try:
        store = ServerStore(connect(settings))
    except NoClickHouse as exc:
        raise UserError(str(exc)) from None
    p = plan(store, args.tenant, args.customer)
    if not args.yes:
        return {"would_erase": p.summary(),
                "next": f"switchboard admin erase-customer --tenant {args.tenant} --customer {args.customer} --yes"}
    return erase(store, p, client_config=settings.kafka_client_config(), codec=Codec.from_settings(settings),
                 media_store=DirectoryStore(settings.media_path(), settings.media_max_bytes),
                 requested_by=f"cli:{getpass.getuser()}")


def add_commands(sub, with_tenant) -> None:
    """`switchboard admin erase-customer` (switchboard/admin_cli.py calls this)."""
    p = with_tenant(sub.add_parser("erase-customer", help="erase a customer's personal data (GDPR-style; "
                                   "without --yes: show what would be erased)"))
    p.add_argument("--customer", required=True, help="the customer id (any id of a merged group erases the group)")
    p.add_argument("--yes", action="store_true", help="erase (there is no undo)")
    p.set_defaults(handler=erase_customer_cmd, needs_directory=False)
