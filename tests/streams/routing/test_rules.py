"""Keyword rules: the documented examples route as documented; matching; validation; reload; CLI."""
from pathlib import Path

import pytest

from streams.routing.config import ConfigCache, RoutingConfigError, load_config, parse_config
from streams.routing.rules import classify, normalize, words
from streams.routing.rules_cli import main as rules_main

from .drive import FIXTURES

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "routing.md"


def _doc_examples() -> list[list[str]]:
    section = DOC.read_text().split("\n### Examples\n", 1)[1].split("\n### ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| message")]
    assert len(rows) >= 10
    return rows


@pytest.mark.parametrize("message,channel,rule,queue,skills,priority,language", _doc_examples())
def test_documented_examples_route_as_documented(message, channel, rule, queue, skills, priority, language):
    result = classify(load_config(REPO / "deploy" / "routing", "acme"), [message], channel)
    shown = ", ".join(f"{k}>={v}" for k, v in sorted(result.skills.items())) or "-"
    assert (result.rule or "-", result.queue, shown, str(result.priority), result.language or "-") == \
        (rule, queue, skills, priority, language)


def test_normalization_ignores_case_and_accents_and_splits_whole_words():
    assert normalize("VOLÉE Straße") == "volee strasse"
    assert words("Discard-this, card!") == ("discard", "this", "card")


def test_non_matching_rules_say_why():
    config = load_config(REPO / "deploy" / "routing", "acme")
    result = classify(config, ["hello"], "line")
    reasons = {c.rule: c.reason for c in result.checks if not c.matched}
    assert reasons["card-fraud"] == "no keyword or regex matched"
    assert result.rule == "line-followers"
    web = classify(config.model_copy(update={"rules": config.rules[-1:]}), ["hello"], "web")
    assert web.checks[0].reason == "channel web is not one of line"


@pytest.mark.parametrize("change,message", [
    ("queues:\n  general: {acw: {mode: time_boxed}}", "needs a default_code"),
    ("agents:\n  a9: {skills: {cards: 6}, queues: [general]}", "proficiency must be 0-5"),
    ("agents:\n  a9: {queues: [nowhere]}", "unknown queue 'nowhere'"),
    ("rules:\n  - {name: r, when: {regex: ['(']}, then: {}}", "does not compile"),
    ("queues:\n  general: {rings: [{}, {}, {}, {}, {}, {}, {}]}", "1 to 6 rings"),
])
def test_invalid_routing_files_are_refused_with_the_reason(change, message):
    with pytest.raises(RoutingConfigError, match=message):
        base = "" if change.startswith("queues:") else "queues: {general: {}}\n"
        parse_config(f"default_queue: general\n{base}{change}\n", "t")


def test_the_file_is_reloaded_when_it_changes_and_a_broken_one_keeps_the_last_good(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text((FIXTURES / "tenant.yaml").read_text())
    cache = ConfigCache(tmp_path)
    first = cache.get("t")
    assert cache.get("t") is first
    path.write_text(path.read_text().replace("priority: 5", "priority: 7"))
    _bump(path)
    assert cache.get("t").rules[0].then.priority == 7
    path.write_text("default_queue: [")
    _bump(path, 2)
    assert cache.get("t").rules[0].then.priority == 7


def _bump(path: Path, seconds: int = 1) -> None:
    import os
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + seconds))


def test_the_dry_run_cli_shows_the_rule_the_words_and_the_misses(capsys, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_ROUTING_DIR", str(REPO / "deploy" / "routing"))
    assert rules_main(["test", "Necesito la factura", "--channel", "whatsapp", "--tenant", "acme"]) == 0
    printed = capsys.readouterr().out
    assert "rule:     billing" in printed and "matched:  factura" in printed
    assert "card-fraud: no keyword or regex matched" in printed
    assert rules_main(["test", "hi", "--tenant", "nobody"]) == 2
