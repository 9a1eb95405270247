"""Blending through the real broker and routing worker: a call on work-events blocks messaging offers."""
import copy
import json
import uuid

import pytest
import yaml

from .broker import Events, Outputs, RoutingWorker, on_queue
from .drive import FIXTURES, T0, request

pytestmark = pytest.mark.kafka
S = 1000
WORK = json.loads((FIXTURES / "work.json").read_text())


def test_an_agent_on_a_voice_call_gets_no_messaging_offer_until_it_ends(kafka_bootstrap, tmp_path):
    tenant = f"t{uuid.uuid4().hex[:10]}"
    worker = RoutingWorker(kafka_bootstrap, tmp_path)
    routing = yaml.safe_load((FIXTURES / "tenant.yaml").read_text())
    routing["utilization"] = {"messaging": {"capacity": 2}, "voice": {"capacity": 1}}   # a call blocks messaging
    (worker.routing_dir / f"{tenant}.yaml").write_text(yaml.safe_dump(routing))
    worker.start()
    events, outputs = Events(kafka_bootstrap), Outputs(kafka_bootstrap, tenant)
    call = copy.deepcopy(WORK) | {"tenant_id": tenant, "work_id": f"call-{tenant}"}
    try:
        # three topics, sequenced in the order they are read: each input waits for the one before it
        on_queue(events, outputs, tenant, ("a1",), T0)
        events.send("work-events", "work-event", call | {"event_id": "e1", "type": "started", "occurred_at": T0 + S})
        outputs.wait_for(lambda r: outputs.of("routing-decision", "work_started"))
        events.request(request("c1", T0 + 2 * S, tenant))
        # the later record that proves the request met the call: the audit says why a1 was skipped
        outputs.wait_for(lambda r: outputs.of("routing-decision", "queued"))
        (queued,) = outputs.of("routing-decision", "queued")
        assert [c["excluded"] for c in queued["candidates"]] == ["busy with voice, which messaging may not interrupt"]
        assert not outputs.of("agent-event", "offered")
        events.send("work-events", "work-event", call | {"event_id": "e2", "type": "ended", "occurred_at": T0 + 60 * S})
        outputs.wait_for(lambda r: outputs.of("agent-event", "offered") and outputs.of("routing-decision", "offered"))
        (offer,) = outputs.of("agent-event", "offered")
        assert (offer["conversation_id"], offer["agent_id"], offer["occurred_at"]) == ("c1", "a1", T0 + 60 * S)
        decisions = [v["kind"] for s, v in outputs.records if s == "routing-decision"]
        assert decisions.index("work_started") < decisions.index("queued") < decisions.index("work_ended") \
            < decisions.index("offered")
        assert [v["type"] for v in outputs.of("agent-event", "work_started")] == ["work_started"]
    finally:
        outputs.close()
        worker.stop()
