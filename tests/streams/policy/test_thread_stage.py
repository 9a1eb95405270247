"""Issue 12's "Done when" lines of the thread stage, table-driven through the conversation processor's
dispatch (pure: no broker): windows, Messenger tags, opt-in / opt-out, X limits, LINE reply or push, and
where an approved message goes (outbound-approved, or outbound-checks for the account stage)."""
import pytest

from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.samples import on_thread
from switchboard.accounts import load_accounts
from tests.streams.conversations.factory import ACCOUNTS, HOUR, MINUTE, T0, event, inbound, settled

DAY = 24 * HOUR
BOT = "bot-reminders"
CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR, system_senders=lambda tenant: frozenset({BOT}))
THREADS = {"whatsapp": "acme:whatsapp:109876543210987:14155550123",
           "messenger": "acme:messenger:104729385610293:6523409871234567",
           "messenger 24+1": "acme:messenger:104729385610294:6523409871234567",
           "messenger human_agent": "acme:messenger:104729385610295:6523409871234567",
           "x": "acme:x:1466859271035789312:987654321012345678",
           "line": "acme:line:U4af4980629a1b2c3d4e5f60718293a4b:U8f7e6d5c4b3a29180716f5e4d3c2b1a0"}
FIXTURE = {"line": "inbound_line_text"}


def step(source, state, value, at):
    return apply(source, state, value, partition=0, record_ms=at, config=CONFIG)


def topics(result) -> dict[str, list[dict]]:
    out = {}
    for o in result.outputs:
        out.setdefault(o.topic, []).append(o.value)
    return out


def wrote(where, at=T0, state=None, n=1, name=None, **overrides) -> dict:
    """The thread once its customer wrote at `at` (fixture `name`) and agent Ana is connected."""
    name = name or FIXTURE.get(where.split()[0], "inbound_whatsapp")
    msg = on_thread(inbound(n, at, name=name, **overrides), THREADS[where])
    state = step("inbound-messages", state, msg, at).state
    connected = event("assignment_connected", assignment_id=f"as-{n}", occurred_at=at + 1, thread_key=THREADS[where],
                      conversation_id=state["conversation"]["conversation_id"])
    return step("assignments", state, connected, at + 1).state


def send(state, where, at, n=1, **overrides):
    customer = THREADS[where].rsplit(":", 1)[1]
    out = on_thread(event("outbound_reply", outbound_id=f"out-{n}"), THREADS[where]) | {"recipient_id": customer}
    return step("outbound-messages", state, out | overrides, at)


def verdict(result) -> str:
    """`approved`, `checks` (approved, the account stage next) or the rejection's rule."""
    found = topics(result)
    if "outbound-rejected" in found:
        return found["outbound-rejected"][0]["rule"]
    return "approved" if "outbound-approved" in found else "checks"


TEMPLATE = {"kind": "template", "content": [], "agent_id": BOT, "conversation_id": None,
            "template": {"name": "card_delivery_update", "language": "en_US", "category": "utility",
                         "parameters": ["Maria", "Nov 28"]}}


@pytest.mark.parametrize("where,since,overrides,expected", [
    ("messenger", 23 * HOUR + 59 * MINUTE, {}, "approved"),
    ("messenger", 24 * HOUR + MINUTE, {}, "window.messenger"),
    ("messenger human_agent", 24 * HOUR + MINUTE, {}, "approved"),                # a human, tagged HUMAN_AGENT
    ("messenger human_agent", 7 * DAY - MINUTE, {}, "approved"),
    ("messenger human_agent", 7 * DAY + MINUTE, {}, "window.messenger"),
    ("messenger human_agent", 24 * HOUR + MINUTE, {"agent_id": BOT}, "window.messenger"),   # not by a system sender
    ("messenger", HOUR, {"messaging_tag": "ACCOUNT_UPDATE"}, "window.messenger_tag"),        # not in allowed_tags
    ("whatsapp", 23 * HOUR + 59 * MINUTE, {}, "checks"),
    ("whatsapp", 24 * HOUR + MINUTE, {}, "window.whatsapp_24h"),
    ("whatsapp", 24 * HOUR + MINUTE, TEMPLATE, "optin.required"),                 # business-initiated, no opt-in
    ("whatsapp", HOUR, TEMPLATE, "checks"),                                       # inside the window: no opt-in needed
    ("x", 23 * HOUR, {}, "checks"),
    ("x", 24 * HOUR + MINUTE, {}, "window.x_24h"),
    ("line", 30 * DAY, {}, "checks"),                                             # a push: the monthly quota
])
def test_windows_tags_and_templates(where, since, overrides, expected):
    state = wrote(where)
    if overrides.get("agent_id") == BOT:   # the bot writes on its own: nobody connected
        state = wrote(where) | {"conversation": {**state["conversation"], "connected_agent_id": None}}
    assert verdict(send(state, where, T0 + since, **overrides)) == expected


def test_a_human_agent_reply_after_24_hours_carries_the_tag():
    [approved] = topics(send(wrote("messenger human_agent"), "messenger human_agent", T0 + 3 * DAY))["outbound-approved"]
    assert approved["messaging_tag"] == "HUMAN_AGENT" and approved["business_initiated"] is False


def test_messenger_24_plus_1_allows_exactly_one_more():
    first = send(wrote("messenger 24+1"), "messenger 24+1", T0 + 30 * HOUR)
    second = send(first.state, "messenger 24+1", T0 + 31 * HOUR, n=2)
    assert [verdict(first), verdict(second)] == ["approved", "window.messenger"]


@pytest.mark.parametrize("where", ["whatsapp", "x", "line", "messenger"])
def test_nothing_to_a_customer_who_never_wrote(where):
    result = send(None, where, T0, agent_id=BOT)
    assert verdict(result) == "window.unsolicited"


def test_a_customer_without_opt_in_cannot_be_messaged_first_and_one_with_it_can():
    no = send(None, "whatsapp", T0, **TEMPLATE)
    assert verdict(no) == "optin.required" and "POST /api/v1/consents" in topics(no)["outbound-rejected"][0]["reason"]
    consent = event("consent_api_opt_in", occurred_at=T0 - HOUR)
    state = step("consents", None, consent, T0 - HOUR).state           # an opt-in before any message
    yes = send(state, "whatsapp", T0, **TEMPLATE)
    [checked] = topics(yes)["outbound-checks"]
    assert (checked["business_initiated"], checked["portfolio_key"], checked["window_open_until"]) == (True, "acme:main", None)
    assert [o.key for o in yes.outputs if o.topic == "outbound-checks"] == ["acme:main"]
    assert step("consents", yes.state, consent, T0 + 1).duplicate   # redelivered


@pytest.mark.parametrize("text,action", [("Stop!", "opt_out"), ("  arrêt ", "opt_out"), ("BAJA.", "opt_out"),
                                         ("stopp", "opt_out"), ("Start", "opt_in"), ("please stop", None)])
def test_keywords_in_any_language_are_consents(text, action):
    result = step("inbound-messages", None, on_thread(inbound(1, T0, name="inbound_whatsapp_stop", text=text),
                                                      THREADS["whatsapp"]), T0)
    emitted = [c["action"] for c in topics(result).get("consents", [])]
    assert emitted == ([action] if action else [])


def test_stop_opts_out_at_once_and_blocks_a_later_template_but_not_a_reply_inside_the_window():
    opted_in = step("consents", None, event("consent_api_opt_in", occurred_at=T0 - DAY), T0 - DAY).state
    stopped = step("inbound-messages", opted_in, on_thread(event("inbound_whatsapp_stop"), THREADS["whatsapp"]), T0)
    [fact] = topics(stopped)["consents"]
    state = wrote("whatsapp", T0 + 1, stopped.state, n=2, text="ok")   # an agent connected
    assert (fact["action"], fact["source"], fact["text"], state["consent"]["opted_out_source"]) == (
        "opt_out", "keyword", "Stop!", "keyword")
    assert step("consents", state, fact, T0 + 1).duplicate          # our own record read back: nothing new
    assert verdict(send(state, "whatsapp", T0 + 2 * DAY, **TEMPLATE)) == "optin.opted_out"
    assert verdict(send(state, "whatsapp", T0 + HOUR, kind="notification", n=2)) == "optin.opted_out"
    assert verdict(send(state, "whatsapp", T0 + HOUR, n=3)) == "checks"   # the agent still answers inside the window
    again = step("consents", state, event("consent_api_opt_in", consent_id="consent-again", occurred_at=T0 + DAY),
                 T0 + DAY).state
    assert verdict(send(again, "whatsapp", T0 + 2 * DAY, **TEMPLATE, outbound_id="out-4")) == "checks"


def test_an_opted_out_customer_gets_nothing_after_the_window_on_any_channel():
    state = wrote("messenger human_agent", name="inbound_whatsapp_stop")
    assert state["consent"]["opted_out_at"] == T0
    assert verdict(send(state, "messenger human_agent", T0 + 2 * DAY)) == "optin.opted_out"
    assert verdict(send(state, "messenger human_agent", T0 + HOUR, n=2)) == "approved"


def test_x_sixth_reply_and_identical_repeat_are_rejected():
    state, results = wrote("x"), []
    for n in range(6):
        result = send(state, "x", T0 + (n + 1) * MINUTE, n=n, content=[{"type": "text", "text": f"Reply {n}"}])
        state, results = result.state, results + [verdict(result)]
    assert results == ["checks"] * 5 + ["limit.x_replies_per_inbound"]
    first = send(wrote("x"), "x", T0 + MINUTE)
    assert verdict(send(first.state, "x", T0 + 2 * MINUTE, n=2)) == "spam.x_identical"


def test_line_reply_inside_the_token_goes_as_reply_and_later_as_push_to_the_account_stage():
    state = wrote("line", received_at=T0)
    reply = send(state, "line", T0 + 30_000)
    later = send(reply.state, "line", T0 + 40_000, n=2, content=[{"type": "text", "text": "And more"}])
    [free] = topics(reply)["outbound-approved"]
    [push] = topics(later)["outbound-checks"]
    assert free["reply_token"] and push.get("reply_token") is None and push["portfolio_key"] == "acme:main"


@pytest.mark.parametrize("where,deadline", [("whatsapp", T0 + DAY), ("messenger", T0 + DAY), ("x", T0 + DAY),
                                            ("line", None)])
def test_routing_requests_carry_the_reply_deadline(where, deadline):
    msg = on_thread(inbound(1, T0, name=FIXTURE.get(where, "inbound_whatsapp")), THREADS[where])
    [request] = topics(settled(step("inbound-messages", None, msg, T0)))["routing-requests"]
    assert (request["reply_deadline_at"], request["template_only"]) == (deadline, False)


def test_a_waiting_customer_writing_again_moves_the_deadline_in_a_new_request():
    first = settled(step("inbound-messages", None, on_thread(inbound(1, T0), THREADS["whatsapp"]), T0))
    again = step("inbound-messages", first.state, on_thread(inbound(2, T0 + HOUR), THREADS["whatsapp"]), T0 + HOUR)
    [a], [b] = topics(first)["routing-requests"], topics(again)["routing-requests"]
    assert b["request_id"] != a["request_id"] and b["reply_deadline_at"] == T0 + HOUR + DAY
    late = step("inbound-messages", again.state, on_thread(inbound(3, T0 + MINUTE), THREADS["whatsapp"]), T0 + 2 * HOUR)
    [c] = topics(late)["routing-requests"]           # its text still goes to the rules (message_added) ...
    assert c["reason"] == "message_added" and c["reply_deadline_at"] == b["reply_deadline_at"]   # ... moving nothing
