"""X's repeat rules: no identical DM twice to the same person, no link-only repeats, within the period."""
import pytest

from channels.registry import rules
from schemas import Codec
from streams.conversations.state import StateCodec, new_thread
from streams.policy.spam import remember, repeat
from switchboard.accounts import load_accounts
from tests.streams.conversations.factory import ACCOUNTS, HOUR, MINUTE, T0

X = load_accounts(ACCOUNTS).get("x", "1466859271035789312")
HELLO = [{"type": "text", "text": "Your replacement card ships today."}]
LINK = [{"type": "url", "url": "https://acme.example/track/4821"}]
LINK_TEXT = [{"type": "text", "text": "https://acme.example/track/4821"}]
WITH_WORDS = [{"type": "text", "text": "Track it here: https://acme.example/track/4821"}]


def thread_after(*sent) -> dict:
    """A thread whose approved messages were `(content, at)`."""
    thread = {"recent_outbound": []}
    for content, at in sent:
        remember(rules("x"), X, thread, content, at)
    return thread


@pytest.mark.parametrize("case,sent,content,now,rule", [
    ("identical within the period", [(HELLO, T0)], HELLO, T0 + 23 * HOUR, "spam.x_identical"),
    ("identical up to case and spaces", [(HELLO, T0)], [{"type": "text", "text": " your  REPLACEMENT card ships today. "}],
     T0 + MINUTE, "spam.x_identical"),
    ("identical after the period", [(HELLO, T0)], HELLO, T0 + 24 * HOUR + 1, None),
    ("a different text", [(HELLO, T0)], [{"type": "text", "text": "Anything else?"}], T0 + MINUTE, None),
    ("link-only repeat of a sent link", [(WITH_WORDS, T0)], LINK, T0 + HOUR, "spam.x_link_repeat"),
    ("link-only as text", [(LINK, T0)], LINK_TEXT, T0 + HOUR, "spam.x_identical"),
    ("link-only, new link", [(LINK, T0)], [{"type": "url", "url": "https://acme.example/faq"}], T0 + HOUR, None),
    ("the link with words again", [(LINK, T0)], WITH_WORDS, T0 + HOUR, None),
    ("link-only after the period", [(LINK, T0)], LINK_TEXT, T0 + 25 * HOUR, None),
])
def test_x_repeat_rules(case, sent, content, now, rule):
    verdict = repeat(rules("x"), X, thread_after(*sent), content, now)
    assert (verdict and verdict.rule) == rule, case
    assert verdict is None or verdict.reason


def test_the_period_is_a_per_account_setting():
    short = X.model_copy(update={"repeat_period_hours": 1})
    assert repeat(rules("x"), short, thread_after((HELLO, T0)), HELLO, T0 + 2 * HOUR) is None
    assert repeat(rules("x"), X, thread_after((HELLO, T0)), HELLO, T0 + 2 * HOUR).rule == "spam.x_identical"


def test_channels_without_repeat_rules_remember_nothing():
    thread = {"recent_outbound": []}
    remember(rules("line"), None, thread, HELLO, T0)
    assert thread["recent_outbound"] == [] and repeat(rules("line"), None, thread, HELLO, T0) is None


def test_old_entries_are_forgotten_and_what_is_kept_survives_a_restart():
    thread = thread_after((HELLO, T0), (LINK, T0 + 30 * HOUR))
    assert [e["at"] for e in thread["recent_outbound"]] == [T0 + 30 * HOUR]
    state = new_thread("acme:x:1466859271035789312:987654321012345678", 0, T0) | thread
    restored = StateCodec(Codec()).loads(StateCodec(Codec()).dumps(state))
    titled = [{"type": "url", "url": LINK[0]["url"], "text": "Tracking"}]
    assert repeat(rules("x"), X, restored, titled, T0 + 31 * HOUR).rule == "spam.x_link_repeat"
