"""Offline language detection: which of the tenant's languages a customer's message is written in.

The detector is lingua (`lingua-language-detector`, chosen by measurement: benchmarks/language_bench.py,
docs/routing.md "Language"): its n-gram models ship inside the wheel and are loaded into memory when a
detector is built, never fetched at run time. A detector chooses only among the languages it is built
with: one is built per set of languages (a tenant's `languages`, TenantBody, ISO 639-1) and cached, and
detectors share the models of the languages they have in common, so memory grows with the languages a
worker loads (about 265 MB of RSS for nine), not with tenants; every language would cost about 1 GB.
Building one takes about a second: a worker pays it at its first message for that set. A tenant with
fewer than two languages has nothing to choose from: no detection.

The confidence is lingua's relative confidence of the best language among the tenant's (0..1, summing
to 1 over them). A detection is used only at or above the threshold (`SWITCHBOARD_LANGUAGE_CONFIDENCE`,
default 0.5); below it none is set, so routing imposes no language requirement. Short greetings
("hola", "bom dia") stay below it; a sentence is usually far above.

The conversation processor classifies the first customer text of a conversation and later ones while
no agent has answered (`classify`), until one is confident (`language_settled`); a language the
conversation already has (the platform's) is never overridden.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

log = logging.getLogger(__name__)


class Detection(NamedTuple):
    """A language (ISO 639-1) and the detector's confidence in it."""

    language: str
    confidence: float


Detect = Callable[[str | None], Detection | None]   # a text -> its confident detection, else None


def none(text: str | None) -> None:  # noqa: ARG001
    """No detection (a tenant without languages, or no directory)."""
    return None


class Detector:
    """A lingua detector restricted to a set of languages (build it with `build`: it is cached)."""

    def __init__(self, languages: frozenset[str]):
        try:
            from lingua import IsoCode639_1, LanguageDetectorBuilder
        except ImportError as missing:   # a dependency of the project: an install that lacks it is broken
            raise ImportError("language detection needs lingua-language-detector: "
                              "pip install -e . (pyproject.toml pins it)") from missing
        codes = {}
        for code in sorted(languages):
            try:
                codes[code] = IsoCode639_1.from_str(code)
            except ValueError:
                log.warning("language %r is not an ISO 639-1 code lingua knows: left out of detection", code)
        self.languages = frozenset(codes)
        self._lingua = LanguageDetectorBuilder.from_iso_codes_639_1(*codes.values()) \
            .with_preloaded_language_models().build() if len(codes) > 1 else None

    def best(self, text: str) -> Detection | None:
        """The most likely language of `text` and its confidence (None: nothing to choose, or no letters)."""
        if self._lingua is None or not text:
            return None
        best = self._lingua.compute_language_confidence_values(text)[0]
        return Detection(best.language.iso_code_639_1.name.lower(), best.value) if best.value > 0 else None


@lru_cache(maxsize=64)
def build(languages: frozenset[str]) -> Detector:
    """The detector of a set of languages, built once per process."""
    return Detector(languages)


def detect(text: str | None, languages: Iterable[str]) -> Detection | None:
    """The most likely of `languages` for `text`, with its confidence (below any threshold, too)."""
    languages = frozenset(languages)
    return build(languages).best(text or "") if len(languages) > 1 else None


def confident(languages: Iterable[str], threshold: float) -> Detect:
    """A text's detection among `languages` when its confidence reaches `threshold`, else None."""
    languages = frozenset(languages)
    if len(languages) < 2:
        return none

    def detect_confident(text: str | None) -> Detection | None:
        found = detect(text, languages)
        return found if found is not None and found.confidence >= threshold else None
    return detect_confident


def warm(directory) -> threading.Thread:
    """Build every tenant's detector in the background once the directory is read, so the first
    customer message does not wait for the models to load (1-3 s for six languages)."""
    def build_all() -> None:
        try:
            directory.wait_ready(60)
        except Exception as exc:   # noqa: BLE001 - a cold detector is slower, not wrong: say so and go on
            log.warning("language detectors not warmed: %s", exc)
            return
        for tenant in directory.tenants():
            languages = frozenset((directory.tenant(tenant) or {}).get("languages") or ())
            if len(languages) > 1:
                build(languages)
    thread = threading.Thread(target=build_all, name="warm-language-detectors", daemon=True)
    thread.start()
    return thread


def lookup(directory, threshold: float) -> Callable[[str], Detect]:
    """Each tenant's detection, from its directory entry's `languages` (read at every message: live)."""
    def of_tenant(tenant: str) -> Detect:
        return confident((directory.tenant(tenant) or {}).get("languages") or (), threshold)
    return of_tenant


def classify(conv: dict, msg: dict, detect: Detect) -> dict:
    """Detect the language of a customer message of `conv` while its language is not settled and no
    agent has answered; a confident detection sets `language` and `language_confidence` and settles
    it. The fields of the message's event (conversation-event v6): the language this message settled, or {}."""
    if conv["language_settled"] or conv["answered"] or conv["language"] or msg.get("language") \
            or msg.get("kind") != "message":
        return {}
    found = detect(msg.get("text"))
    if found is None:
        return {}
    fields = {"language": found.language, "language_confidence": round(found.confidence, 4)}
    conv.update(fields, language_settled=True)
    return fields


def waiting_message(conv: dict, text: str | None) -> bool:
    """Whether a later customer text goes to routing as `message_added` (keyword rules may re-skill a
    conversation until it is answered): it waits for an agent, no agent has had it and nobody answered.
    Once an agent had it, routing let it go (ended) or keeps it as a transfer: `no_agent` asks again."""
    return bool(text) and conv["awaiting_agent"] and not conv["connected_agent_id"] and not conv["answered"] \
        and not conv["last_agent_id"]
