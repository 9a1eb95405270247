"""Bad input at the edge, per channel, by property-based fuzzing: never a 5xx, never a crash.

A correctly signed body is always answered 200: its events are published, or its raw bytes go to
the dead letters (replayable once the parser is fixed). A body that is not correctly signed is
answered 401 (or 400 when its header bytes are not HTTP) with nothing published. The in-process
edge with a recording publisher (tests/connectors/edge_app.py) keeps this fast: a few hundred cases
per channel here, ≥ 10,000 with HYPOTHESIS_PROFILE=soak (`make soak-fuzz`).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.connectors.edge_app import DLQ, Recorder, path_of, raw_post, start
from tests.connectors.helpers import FIXTURES, SECRETS, SIGNING, WEBHOOKS, new_tenant, signed_headers, webhook

SOAK = os.environ.get("HYPOTHESIS_PROFILE") == "soak"
CASES = {"bodies": 10_000 if SOAK else 150, "headers": 10_000 if SOAK else 100, "raw": 10_000 if SOAK else 50}
FUZZ_FIXTURES = FIXTURES / "fuzz"
# Deeply nested JSON: json.loads raised RecursionError, which the edge answered 500 (fixed: dead letter + 200).
NESTED_NAME = "nested_arrays.json"
NESTED = (FUZZ_FIXTURES / NESTED_NAME).read_bytes()


def fuzzed(kind: str):
    return settings(max_examples=CASES[kind], deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Edge:
    """One in-process edge for the module, driven from synchronous hypothesis tests on its own loop."""

    def __init__(self, tmp_path):
        self.loop = asyncio.new_event_loop()
        self.recorder = Recorder()
        self.client = self.loop.run_until_complete(start(tmp_path, new_tenant(), self.recorder))

    def post(self, channel: str, body: bytes, headers) -> tuple[int, list]:
        """(status, records published by this request)."""
        before = len(self.recorder.units)

        async def call():
            response = await self.client.post(path_of(channel), data=body, headers=headers)
            await response.read()
            return response.status
        status = self.loop.run_until_complete(call())
        return status, [r for unit in self.recorder.units[before:] for r in unit]

    def post_raw(self, channel: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, list]:
        before = len(self.recorder.units)
        status = self.loop.run_until_complete(raw_post(self.client, path_of(channel), body, headers))
        return status, [r for unit in self.recorder.units[before:] for r in unit]

    def close(self):
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    quiet = logging.getLogger("switchboard.edge")
    level, _ = quiet.level, quiet.setLevel(logging.ERROR)  # thousands of refusals: their warnings are not the test
    running = Edge(tmp_path_factory.mktemp("fuzz"))
    yield running
    running.close()
    quiet.setLevel(level)


# --- strategies -------------------------------------------------------------------------------

# Text with what platforms may send and parsers forget: emoji, RTL, NUL, lone surrogates (\udXXX in JSON).
TEXT = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from("\x00\u202e😀\\\"")),
               max_size=40)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63 - 2, max_value=2**70),
                   st.floats(allow_nan=False), TEXT)
JSON = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


def fixtures_of(channel: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / "webhooks" / channel).glob("*.json"))


@st.composite
def mutated(draw, channel: str) -> bytes:
    """A stored webhook of `channel` with a few of its values replaced, deleted or re-typed."""
    document = json.loads(webhook(channel, draw(st.sampled_from(fixtures_of(channel)))))
    for _ in range(draw(st.integers(1, 4))):
        containers = list(_containers(document))
        parent = draw(st.sampled_from(containers))
        if not parent:
            continue
        key = draw(st.sampled_from(sorted(parent) if isinstance(parent, dict) else range(len(parent))))
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(st.one_of(JSON, st.sampled_from(["", 0, -1, [], {}, "played", "1e400", "x" * 5000])))
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


def _containers(value):
    if isinstance(value, (dict, list)):
        yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _containers(child)


def signed_bodies(channel: str):
    return st.one_of(mutated(channel), st.binary(max_size=600),
                     JSON.map(lambda v: json.dumps(v).encode()))


def signature_values(channel: str, body: bytes):
    """Values of the signature header that are not the signature of `body` under the account's secrets."""
    header, render = SIGNING[channel]
    genuine = render(SECRETS[channel].encode(), body)
    near = st.tuples(st.integers(0, len(genuine) - 1), st.sampled_from("0aA+/=-x")).filter(
        lambda c: genuine[c[0]] != c[1]).map(lambda c: genuine[:c[0]] + c[1] + genuine[c[0] + 1:])
    return st.one_of(near, st.text(HEADER_TEXT, max_size=80), st.just(genuine[:-1]), st.just(genuine + "0"),
                     st.just(render(b"another-secret", body)), st.just(render(SECRETS[channel].encode(), body + b" ")),
                     st.just(genuine.upper() if genuine != genuine.upper() else genuine.lower()),
                     st.just(genuine.split("=", 1)[-1] if genuine.startswith("sha256=") else "sha256=" + genuine))


HEADER_TEXT = st.characters(exclude_categories=["Cc", "Cs"])  # what aiohttp's client sends (raw bytes: post_raw)
HEADER_NAMES = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).map(lambda n: "x-fuzz-" + n)
EXTRA_HEADERS = st.dictionaries(HEADER_NAMES, st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
                                max_size=4)


# --- properties -------------------------------------------------------------------------------

def assert_kept_or_published(status: int, records: list, body: bytes) -> None:
    assert status == 200
    dead = [r for r in records if r.topic == DLQ]
    if dead:  # unreadable: the raw bytes alone, with their provenance, and nothing else of the body
        [letter] = records
        headers = dict(letter.headers)
        assert letter.value == body and headers["stage"] == b"edge.parse" and headers["error"]


@pytest.mark.parametrize("channel", WEBHOOKS)
def test_a_correctly_signed_body_is_always_answered_200_and_kept_when_unreadable(edge, channel):
    @fuzzed("bodies")
    @given(body=signed_bodies(channel), extra=EXTRA_HEADERS)
    @example(body=NESTED, extra={})
    def check(body, extra):
        status, records = edge.post(channel, body, {**extra, **signed_headers(channel, body)})
        assert_kept_or_published(status, records, body)
    check()


@pytest.mark.parametrize("channel", WEBHOOKS)
def test_a_body_not_correctly_signed_is_answered_401_and_publishes_nothing(edge, channel):
    @fuzzed("headers")
    @given(data=st.data(), body=st.one_of(mutated(channel), st.binary(max_size=200)), extra=EXTRA_HEADERS)
    def check(data, body, extra):
        header = SIGNING[channel][0]
        headers = {**extra, header: data.draw(signature_values(channel, body))}
        if data.draw(st.booleans()):
            del headers[header]
        assert edge.post(channel, body, headers) == (401, [])
    check()


@pytest.mark.parametrize("channel", WEBHOOKS)
def test_signature_header_bytes_that_are_not_text_are_refused_not_crashed_on(edge, channel):
    raw_value = st.binary(min_size=1, max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").strip())

    @fuzzed("raw")
    @given(value=raw_value.filter(bool))
    @example(value=(FUZZ_FIXTURES / "signature_not_utf8.bin").read_bytes())
    def check(value):
        body = webhook(channel, "text")
        status, records = edge.post_raw(channel, body, [(SIGNING[channel][0].encode(), value)])
        assert status in (400, 401) and records == []  # 400: aiohttp refused the header bytes as HTTP
    check()


# The cases fuzzing found, kept (tests/fixtures/fuzz/): each was answered 500 before the edge kept
# whatever a parser raises on a signed body as a dead letter. `<channel>_*.json` are that channel's
# parser bugs; the nested arrays stop every channel's JSON parser.
FOUND = [(p.name.split("_")[0], p.name) for p in sorted(FUZZ_FIXTURES.glob("*.json")) if p.name.split("_")[0] in WEBHOOKS]
FOUND += [(channel, NESTED_NAME) for channel in WEBHOOKS]


@pytest.mark.parametrize("channel,name", FOUND)
def test_the_cases_fuzzing_found_are_kept_as_dead_letters_and_answered_200(edge, channel, name):
    body = (FUZZ_FIXTURES / name).read_bytes()
    status, records = edge.post(channel, body, signed_headers(channel, body))
    assert_kept_or_published(status, records, body)
    assert [r.topic for r in records] == [DLQ]  # a ParseError once the parser is fixed: kept all the same


@pytest.mark.parametrize("channel,name", FOUND)
def test_each_case_fuzzing_found_is_a_parse_error_naming_the_problem_not_a_crash(channel, name, tmp_path):
    """Fixed at the root: the parser refuses the body with a reason (ParseError), so its dead letter
    says what is wrong instead of `parser failed: AttributeError`."""
    from connectors.base import ParseError
    from connectors.registry import CONNECTORS
    from tests.connectors.helpers import load_test_accounts

    accounts = load_test_accounts(tmp_path, "acme")
    account = next(a for a in accounts if a.channel == channel)
    with pytest.raises(ParseError):
        CONNECTORS[channel].parse(account, (FUZZ_FIXTURES / name).read_bytes(), 0)


def test_a_signature_header_that_is_not_utf8_simply_does_not_match():
    from connectors.signatures import hex_sha256, matches

    presented = (FUZZ_FIXTURES / "signature_not_utf8.bin").read_bytes().decode("utf-8", "surrogateescape")
    assert matches(presented, [b"secret"], b"{}", hex_sha256) is False
