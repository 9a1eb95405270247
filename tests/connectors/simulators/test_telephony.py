"""The simulated telephony platform: work-events of calls on free agents, every call ended."""
import asyncio

from connectors.simulators import telephony
from schemas import Codec
from switchboard.settings import Settings


class _Producer:
    def __init__(self):
        self.sent = []

    def produce(self, name, key, value):
        self.sent.append((name, key, Codec().decode(value, "work-event")))

    def poll(self, _timeout):
        return 0

    def flush(self, _timeout):
        return 0


def test_calls_go_to_free_agents_and_are_all_ended_when_the_platform_stops(monkeypatch):
    monkeypatch.setattr(telephony, "producer", lambda *_a, **_k: _Producer())
    monkeypatch.setattr(telephony, "CALL_EVERY_SECONDS", (0.001, 0.002))
    monkeypatch.setattr(telephony, "CALL_SECONDS", (60.0, 60.0))   # nobody hangs up before the stop
    phones = telephony.Telephony(Settings(), "acme", ["agent-ana", "agent-ben"], seed=1)
    assert {phones.start_call(), phones.start_call()} == {"agent-ana", "agent-ben"}
    assert phones.start_call() is None   # both on a call
    phones.end_call("agent-ana")
    kinds = [(v["type"], v["agent_id"], v["media"], key) for _t, key, v in phones.producer.sent]
    assert kinds[-1] == ("ended", "agent-ana", "voice", b"acme") and len(kinds) == 3

    async def run():
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, stop.set)
        return await telephony.run_telephony(Settings(), ["agent-ana", "agent-ben"], stop, seed=2)
    counts = asyncio.run(run())
    assert counts["calls_started"] == counts["calls_ended"] == 2
