"""Unknown-but-valid platform input: every enum the connectors fill maps to its declared fallback
with the raw value kept, and the public client libraries' own webhook examples
(tests/fixtures/webhooks/<channel>/sdk/) all answer 2xx through the edge, none crashing."""
from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from connectors.account_events import KINDS, account_event
from connectors.edge import ACCOUNT_EVENTS, INBOUND, STATUSES, make_app, webhook_events
from connectors.normalize import enum, identity, inbound, item, status, symbol
from connectors.registry import CONNECTORS
from schemas import Codec
from schemas.registry import load_schema
from switchboard.settings import load_settings
from tests.connectors.helpers import ACCOUNT_IDS, FIXTURES, load_test_accounts, signed_headers

CODEC = Codec()
SDK = {c: FIXTURES / "webhooks" / c / "sdk" for c in ("whatsapp", "line", "messenger", "x")}
NOW = 1741950000000
EVENTS = (INBOUND, STATUSES, ACCOUNT_EVENTS)   # not the dead-letter topic


class Recorder:
    """The publisher the edge is given: keeps what it would have published."""

    def __init__(self):
        self.records = []

    async def publish(self, records):
        self.records += records


def _cases() -> list[tuple[str, str, dict]]:
    """(channel, case, webhook body) for every kept SDK example, as the platform would send it."""
    cases = [("whatsapp", f"{p.stem}/{name}", body) for p in sorted(SDK["whatsapp"].glob("pywa/*.json"))
             for name, body in json.loads(p.read_text()).items()]
    cases += [("line", p.stem, json.loads(p.read_text())) for p in sorted(SDK["line"].glob("*.json"))]
    for path in sorted(SDK["messenger"].glob("*.json")):   # bottender keeps single messaging events
        cases += [("messenger", f"{path.stem}/{name}", {"object": "page", "entry": [
            {"id": "PAGE", "time": event.get("timestamp", NOW), "messaging": [event]}]})
            for name, event in json.loads(path.read_text()).items()]
    cases += [("x", f"{p.stem}/{name}", body) for p in sorted(SDK["x"].glob("*.json"))
              for name, body in json.loads(p.read_text()).items()]
    return cases


CASES = _cases()


def addressed(channel: str, body: dict, account) -> bytes:
    """The example readdressed to the test account (each library uses its own ids), as bytes to sign."""
    body = json.loads(json.dumps(body))
    if channel == "whatsapp":
        for entry in body.get("entry") or []:
            entry["id"] = account.waba_id
            for change in entry.get("changes") or []:
                metadata = (change.get("value") or {}).get("metadata")
                if isinstance(metadata, dict):
                    metadata["phone_number_id"] = account.account_id
    elif channel == "messenger":
        for entry in body["entry"]:
            entry["id"] = account.account_id
    else:
        body["destination" if channel == "line" else "for_user_id"] = account.account_id
    return json.dumps(body).encode()


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    return {a.channel: a for a in load_test_accounts(tmp_path_factory.mktemp("accounts"), "acme")}


def test_the_sdk_examples_cover_four_platforms_and_the_unknown_values():
    assert {c for c, _, _ in CASES} == set(SDK) and len(CASES) >= 100
    statuses = [s["status"] for c, _, b in CASES if c == "whatsapp" for e in b["entry"] for ch in e["changes"]
                for s in (ch.get("value") or {}).get("statuses") or []]
    assert "played" in statuses


@pytest.mark.parametrize("channel,case,body", CASES, ids=[f"{c}:{n}" for c, n, _ in CASES])
def test_every_sdk_example_parses_and_encodes(accounts, channel, case, body):
    account = accounts[channel]
    parsed, records = webhook_events(CONNECTORS[channel], account, addressed(channel, body, account), NOW, CODEC)
    assert all(CODEC.decode(r.value) for r in records)


async def test_every_sdk_example_signed_for_the_test_account_is_answered_2xx_by_the_edge(tmp_path):
    accounts = load_test_accounts(tmp_path, "acme")
    by_channel = {a.channel: a for a in accounts}
    publisher = Recorder()
    client = TestClient(TestServer(make_app(load_settings(), accounts, publisher, CODEC), host="127.0.0.1"))
    await client.start_server()
    try:
        answers = {}
        for channel, case, body in CASES:
            data = addressed(channel, body, by_channel[channel])
            response = await client.post(f"/webhooks/{channel}/{ACCOUNT_IDS[channel]}", data=data,
                                         headers=signed_headers(channel, data))
            answers[f"{channel}:{case}"] = response.status
    finally:
        await client.close()
    assert {k: v for k, v in answers.items() if not 200 <= v < 300} == {}
    decoded = [CODEC.decode(r.value) for r in publisher.records if r.topic in EVENTS]
    played = [d for d in decoded if d.get("attributes", {}).get("raw_status") == "played"]
    assert [(d["channel"], d["status"]) for d in played] == [("whatsapp", "unknown")]
    assert len(decoded) >= 60


def test_whatsapp_played_is_unknown_with_the_raw_status_and_its_own_event_id(accounts):
    account = accounts["whatsapp"]
    cases = json.loads((SDK["whatsapp"] / "pywa" / "message_status.json").read_text())
    played = webhook_events(CONNECTORS["whatsapp"], account, addressed("whatsapp", cases["played"], account), NOW, CODEC)[0]
    read = webhook_events(CONNECTORS["whatsapp"], account, addressed("whatsapp", cases["read"], account), NOW, CODEC)[0]
    [voice], [seen] = played.statuses, read.statuses
    assert (voice["status"], voice["attributes"]["raw_status"]) == ("unknown", "played")
    assert seen["status"] == "read" and "raw_status" not in seen["attributes"]
    assert voice["event_id"] != seen["event_id"]


def test_whatsapp_unsupported_messages_keep_their_raw_type(accounts):
    account = accounts["whatsapp"]
    cases = json.loads((SDK["whatsapp"] / "pywa" / "message.json").read_text())
    parsed = CONNECTORS["whatsapp"].parse(account, addressed("whatsapp", cases["unsupported_with_type"], account), NOW)
    [message] = parsed.messages
    assert [(i["type"], i["raw_type"]) for i in message["content"]] == [("unsupported", "pool")]
    assert parsed.unsupported == 1


def test_whatsapp_system_messages_are_platform_notices_naming_a_changed_number(accounts):
    account = accounts["whatsapp"]
    cases = json.loads((SDK["whatsapp"] / "pywa" / "system.json").read_text())
    [changed] = CONNECTORS["whatsapp"].parse(account, addressed("whatsapp", cases["phone_number_change"], account), NOW).messages
    [identity_] = CONNECTORS["whatsapp"].parse(account, addressed("whatsapp", cases["identity_change"], account), NOW).messages
    assert (changed["kind"], changed["content"], changed["sender"]["external_id"]) == ("other", [], "972987654321")
    assert changed["attributes"]["system_type"] == "user_changed_number"
    assert changed["attributes"]["new_wa_id"] == "972912345678"
    assert identity_["attributes"]["system_type"] == "customer_identity_changed" and "new_wa_id" not in identity_["attributes"]


def test_line_event_types_the_connector_does_not_model_are_counted_not_fatal(accounts):
    account = accounts["line"]
    body = json.loads((SDK["line"] / "line-bot-sdk-python_webhook.json").read_text())
    parsed = CONNECTORS["line"].parse(account, addressed("line", body, account), NOW)
    assert len(parsed.messages) + parsed.ignored == len(body["events"])
    assert {"undefined", "messageEdited", "videoPlayComplete"} <= {e["type"] for e in body["events"]}


@pytest.mark.parametrize("subject,name", [("delivery-status", "DeliveryState"), ("inbound-message", "InboundKind"),
                                          ("inbound-message", "ContentType"), ("inbound-message", "IdType"),
                                          ("account-event", "AccountEventKind")])
def test_symbols_are_read_from_the_schema_and_unknown_values_get_its_default(subject, name):
    symbols, default = enum(subject, name)
    assert default in symbols and symbols[0] in json.dumps(load_schema(subject).definition)
    assert symbol(symbols[0], subject, name) == symbols[0]
    assert symbol("added-by-the-platform-next-year", subject, name) == default


def test_each_record_builder_maps_an_unknown_value_to_the_fallback_and_keeps_the_raw_one(accounts):
    account = accounts["open"]
    sender = identity("u1", "nickname")
    message = inbound(account, platform_message_id="m1", occurred_at=NOW, received_at=NOW, sender=sender,
                      kind="poll_vote", content=[item("poll", text="yes")])
    receipt = status(account, external_id="u1", state="played", platform_message_ids=["m0"], occurred_at=NOW)
    event = account_event(account, kind="payment_method_update", occurred_at=NOW, says={"a": 1})
    assert sender["id_type"] == "opaque"
    assert (message["kind"], message["attributes"]["raw_kind"]) == ("other", "poll_vote")
    assert (message["content"][0]["type"], message["content"][0]["raw_type"]) == ("unsupported", "poll")
    assert (receipt["status"], receipt["attributes"]["raw_status"]) == ("unknown", "played")
    assert (event["kind"], event["attributes"]["raw_kind"]) == ("other", "payment_method_update")
    assert "other" in KINDS
    for subject, record in (("inbound-message", message), ("delivery-status", receipt), ("account-event", event)):
        assert CODEC.decode(CODEC.encode(subject, record), subject)["event_id"] == record["event_id"]


def test_an_open_messaging_receipt_status_of_a_later_version_is_unknown_not_a_parse_error(accounts):
    body = (FIXTURES / "webhooks" / "open" / "delivery_receipt.json").read_bytes().replace(b'"Delivered"', b'"Played"')
    [receipt] = CONNECTORS["open"].parse(accounts["open"], body, NOW).statuses
    assert (receipt["status"], receipt["attributes"]["raw_status"]) == ("unknown", "Played")
