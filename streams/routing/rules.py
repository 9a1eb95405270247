"""Keyword rules: the first matching rule gives a conversation its queue, skills, priority, language.

Matching is case- and accent-insensitive and on whole words: text and keywords are casefolded,
decomposed (NFKD) and stripped of combining marks, so "VOLÉE" matches "volee" and "card" does
not match "discard". A keyword of several words is a phrase (consecutive words). Regexes see the
same normalized text.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .config import Rule, RoutingConfig

WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """Casefolded text without accents ("Volée" -> "volee", "Straße" -> "strasse")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> tuple[str, ...]:
    """The normalized words of a text."""
    return tuple(WORD.findall(normalize(text)))


@dataclass(frozen=True)
class RuleCheck:
    """Why one rule did or did not match."""

    rule: str
    matched: bool
    reason: str
    matched_words: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True)
class Classification:
    """Where a conversation goes, and the evidence."""

    queue: str
    skills: dict[str, int]
    priority: int
    language: str | None
    rule: str | None
    matched_words: tuple[str, ...] = ()
    checks: tuple[RuleCheck, ...] = field(default=(), compare=False)

    def explain(self) -> str:
        """One line for the audit trail."""
        if self.rule is None:
            return f"no rule matched: default queue {self.queue}"
        return f"rule {self.rule} matched {', '.join(self.matched_words) or 'its conditions'}"


@lru_cache(maxsize=4096)
def _phrase(keyword: str) -> tuple[str, ...]:
    return words(keyword)


def _contains(haystack: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if n == 0:
        return False
    return any(haystack[i:i + n] == phrase for i in range(len(haystack) - n + 1))


def _keyword_lists(rule: Rule) -> list[tuple[str | None, tuple[str, ...]]]:
    keywords = rule.when.keywords
    if isinstance(keywords, dict):
        return list(keywords.items())
    return [(None, keywords)] if keywords else []


def check_rule(rule: Rule, text_words: tuple[str, ...], text: str, channel: str) -> RuleCheck:
    """Does `rule` match this text on this channel, and why (not)."""
    when = rule.when
    if when.channels and channel not in when.channels:
        return RuleCheck(rule.name, False, f"channel {channel} is not one of {', '.join(when.channels)}")
    if not _keyword_lists(rule) and not when.regex:
        return RuleCheck(rule.name, True, "no text condition" + (f"; channel {channel}" if when.channels else ""))
    for language, keywords in _keyword_lists(rule):
        hits = tuple(k for k in keywords if _contains(text_words, _phrase(k)))
        if hits:
            return RuleCheck(rule.name, True, f"keyword{'s' * (len(hits) > 1)} {', '.join(hits)}", hits, language)
    for pattern in when.regex:
        found = re.search(pattern, text)
        if found:
            return RuleCheck(rule.name, True, f"regex {pattern} matched {found.group(0)!r}", (found.group(0),))
    return RuleCheck(rule.name, False, "no keyword or regex matched")


def classify(config: RoutingConfig, texts: list[str], channel: str,
             language: str | None = None) -> Classification:
    """Run the rules in order over the customer's first message(s); the first match decides."""
    text = normalize(" \n ".join(t for t in texts if t))
    text_words = tuple(WORD.findall(text))
    checks = []
    for rule in config.rules:
        check = check_rule(rule, text_words, text, channel)
        checks.append(check)
        if check.matched:
            return _classified(config, rule, check, language, tuple(checks))
    return Classification(config.default_queue, dict(config.queues[config.default_queue].skills),
                          0, language, None, (), tuple(checks))


def _classified(config: RoutingConfig, rule: Rule, check: RuleCheck, language: str | None,
                checks: tuple[RuleCheck, ...]) -> Classification:
    queue = rule.then.queue or config.default_queue
    # The queue's own required skills, raised (never lowered) by the rule's.
    skills = dict(config.queues[queue].skills)
    for name, level in rule.then.skills.items():
        skills[name] = max(level, skills.get(name, 0))
    # An explicit rule language wins, then what the conversation already knows, then the
    # language of the keyword list that matched.
    chosen = rule.then.language or language or check.language
    return Classification(queue, skills, rule.then.priority, chosen, rule.name, check.matched_words, checks)
