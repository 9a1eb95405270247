"""A steady load of simulated customers on every channel, the simulators' own record of it, and its facts.

`Load` runs one lane per (customer, channel) on a thread of its own: each lane asks the
simulators' control API (`POST /_sim/{channel}/customers/messages`, as RunningSystem.customer_writes
does) to make its customer write, waits for the answer — the simulator redelivers a webhook that got
no 200 as the platforms do (connectors/simulators/webhooks.py RETRY_DELAYS), so the answer is the
edge's final status — and paces itself so that all lanes together send `rate` messages a second.
A lane sends its next message only after the previous one was answered: its messages have an order,
which the conversation's facts must keep. Every text is unique (`<tag> <lane> #<n>`), so each
message is found in the facts by its text whatever ids the channel gives it (`Facts`).
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field

import aiohttp

CHANNELS = ("messenger", "whatsapp", "line", "x", "open", "web")
PHRASES = ("where is my parcel?", "my card was declined at the shop", "can I change my delivery address?",
           "the app logs me out all the time", "please send me the invoice again", "is the branch open on Sunday?")
# The facts of a run: its inbound by text tag, its replies (with their outcomes) by thread.
INBOUND = """SELECT text, message_id, conversation_id, customer_id, thread_key FROM message_facts FINAL
WHERE tenant_id = {tenant:String} AND direction = 'inbound' AND startsWith(text, {tag:String})"""
OUTBOUND = """SELECT m.message_id, m.channel, m.text, d.statuses, d.codes, d.ids FROM message_facts AS m FINAL
LEFT JOIN (SELECT outbound_id, groupArray(status) AS statuses, groupArray(ifNull(error_code, '')) AS codes,
                  arrayFlatten(groupArray(platform_message_ids)) AS ids
           FROM delivery_facts FINAL WHERE tenant_id = {tenant:String} GROUP BY outbound_id) AS d
       ON d.outbound_id = m.message_id
WHERE m.tenant_id = {tenant:String} AND m.direction = 'outbound' AND m.thread_key IN {threads:Array(String)}
  AND m.occurred_at >= fromUnixTimestamp64Milli({since:Int64}) AND m.occurred_at < fromUnixTimestamp64Milli({until:Int64})"""
REJECTED = """SELECT outbound_id FROM outbound_rejection_facts FINAL
WHERE tenant_id = {tenant:String} AND thread_key IN {threads:Array(String)}"""
SENT_ELSEWHERE = """SELECT outbound_id, arrayJoin(platform_message_ids) AS id FROM delivery_facts FINAL
WHERE status = 'sent' AND ifNull(outbound_id, '') != '' AND occurred_at >= fromUnixTimestamp64Milli({since:Int64})"""
LAST_SEQUENCES = """SELECT conversation_id, last_sequence FROM conversation_facts FINAL
WHERE tenant_id = {tenant:String} AND conversation_id IN {ids:Array(String)}"""


@dataclass
class Sent:
    """One message a simulated customer wrote: its lane, order, text, times and the edge's final status."""

    lane: str
    n: int
    text: str
    sent_at: float            # time.time() when asked
    answered_at: float = 0.0  # when the simulator answered (after its redeliveries)
    status: int | None = None

    @property
    def accepted(self) -> bool:
        """The edge answered 200: the platform is done with it, so it must be exactly one fact."""
        return self.status == 200


@dataclass
class Load:
    """Lanes of customers writing at `rate` msg/s in total until stopped; `sent` is what they wrote."""

    sim_url: str
    customers: list[int]
    rate: float
    tag: str
    channels: tuple[str, ...] = CHANNELS
    sent: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def lanes(self) -> list[tuple[str, int]]:
        """(channel, customer index) of every lane."""
        return [(channel, c) for c in self.customers for channel in self.channels]

    def start(self) -> "Load":
        """Start writing in the background."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="load", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 120) -> list[Sent]:
        """Stop after each lane's message in flight is answered; everything sent."""
        self._stop.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the load's lanes did not finish their last message"
        return list(self.sent)

    def between(self, start: float, end: float) -> list[Sent]:
        """Messages asked for in [start, end)."""
        return [s for s in list(self.sent) if start <= s.sent_at < end]

    def in_flight(self) -> list[Sent]:
        """Messages asked for and not answered yet."""
        return [s for s in list(self.sent) if not s.answered_at]

    def answered_before(self, moment: float) -> list[Sent]:
        """Messages the edge accepted before `moment` (what the pipeline must have caught up with)."""
        return [s for s in list(self.sent) if s.accepted and s.answered_at < moment]

    async def _run(self) -> None:
        interval = len(self.lanes) / self.rate
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            await asyncio.gather(*(self._lane(session, channel, customer, interval, offset=i / self.rate)
                                   for i, (channel, customer) in enumerate(self.lanes)))

    async def _lane(self, session, channel: str, customer: int, interval: float, offset: float) -> None:
        await asyncio.sleep(offset)   # lanes spread over one interval, not all at once
        lane, n = f"{channel}:{customer}", 0
        while not self._stop.is_set():
            n += 1
            sent = Sent(lane, n, f"{self.tag} {lane} #{n}: {PHRASES[n % len(PHRASES)]}", time.time())
            self.sent.append(sent)
            body = {"customer": customer, "kind": "text", "text": sent.text, "seed": n}
            try:
                async with session.post(f"{self.sim_url}/_sim/{channel}/customers/messages", json=body) as answer:
                    sent.status = (await answer.json())["status"] if answer.status == 200 else None
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError):
                sent.status = None   # the simulator itself did not answer: not accepted
            sent.answered_at = time.time()
            await asyncio.sleep(max(0.0, interval - (sent.answered_at - sent.sent_at)))


class Facts:
    """The sink's facts about this run's messages (its inbound by text tag, its replies by thread)."""

    def __init__(self, client, system, tag: str, since_ms: int):
        self.client, self.system, self.tag, self.since_ms = client, system, tag, since_ms

    def rows(self, sql: str, **parameters) -> list[tuple]:
        """A query's rows, or none while the sink cannot answer."""
        try:
            return self.client.query(sql, parameters={"tenant": self.system.tenant, **parameters}).result_rows
        except Exception:  # noqa: BLE001 - the sink restarting or refusing: not yet
            return []

    def inbound(self) -> dict[str, list[tuple]]:
        """text -> its message_facts rows (message id, conversation, customer, thread)."""
        by_text = defaultdict(list)
        for text, *rest in self.rows(INBOUND, tag=self.tag):
            by_text[text].append(tuple(rest))
        return by_text

    def threads(self) -> list[str]:
        """The thread keys this run's messages arrived on."""
        return sorted({row[3] for rows in self.inbound().values() for row in rows if row[3]})

    def outbound(self, until: float) -> list[tuple]:
        """(outbound id, channel, text, statuses, error codes, platform ids) of the replies to this run's
        threads created before `until` (the simulated agents go on replying)."""
        return self.rows(OUTBOUND, threads=self.threads(), since=self.since_ms, until=int(until * 1000))

    def rejected(self) -> set[str]:
        """Outbound ids of this run's threads that the policy or delivery refused."""
        return {r[0] for r in self.rows(REJECTED, threads=self.threads())}

    def sent_ids(self) -> list[tuple]:
        """(outbound id, platform message id) of every reply any tenant sent since the run began."""
        return self.rows(SENT_ELSEWHERE, since=self.since_ms)

    def last_sequences(self, conversations: list[str]) -> dict[str, int]:
        """Conversation id -> the last event sequence its facts hold."""
        return dict(self.rows(LAST_SEQUENCES, ids=conversations))


def unused_customers(system, count: int) -> list[int]:
    """`count` pool customers no other test of the session has used, from the end of the pool (the
    tests that come later ask for the fixtures' people and channel mixes from its start)."""
    pool = _get(f"{system.sim_url}/_sim/customers")
    free = [i for i in reversed(range(len(pool))) if i not in system._handed_out][:count]
    assert len(free) == count, f"the simulators' pool has {len(free)} unused customers, {count} wanted"
    system._handed_out.update(free)
    return free


def requests_log(system, since: dict[str, int] | None = None) -> dict[str, list[dict]]:
    """What each platform's send API received (the web visitors: the agent messages they saw),
    from `since[channel]` on."""
    return {c: _get(f"{system.sim_url}/_sim/{c}/requests?since={(since or {}).get(c, 0)}") for c in CHANNELS}


def log_positions(system) -> dict[str, int]:
    """Where each platform's request log ends now."""
    return {c: len(entries) for c, entries in requests_log(system).items()}


def strings(value) -> set[str]:
    """Every string inside a JSON value (a response's ids, a request's texts), whatever its shape."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(strings, value)) if value else set()
    return set()


def _get(url: str):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())
