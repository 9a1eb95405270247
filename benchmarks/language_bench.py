"""Offline language detectors on short customer messages (not a test): accuracy by length, cost, memory.

Reads the labelled fixture tests/fixtures/language/messages.jsonl (contact-center messages as typed
into WhatsApp or Messenger, nine languages, the confusable pairs es/pt, de/nl, ja/zh) and runs each
candidate restricted to the fixture's languages, each in a process of its own so its resident memory
is its own: accuracy (top-1) by length bucket, on messages of >= 20 characters, what share of messages
is above the confidence threshold and how often those are right, the cost of one message (p50/p99),
the time to load and the process RSS after loading (VmRSS, /proc/self/status). `lingua` is the
detector the conversation processor uses (streams/conversations/language.py); `lingua-all` loads
lingua with every language it knows, for the memory a restriction saves.

Run: `.venv/bin/python -m benchmarks.language_bench [--threshold 0.5] [--passes 5]`. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests/fixtures/language/messages.jsonl"
BUCKETS = (("<20", 0, 20), ("20-29", 20, 30), ("30-59", 30, 60), (">=60", 60, 10**9))
Detect = Callable[[str], "tuple[str, float] | None"]


def _lingua(languages: list[str]) -> Detect:
    from streams.conversations.language import build
    detector = build(frozenset(languages))
    return detector.best


def _lingua_low(languages: list[str]) -> Detect:
    from lingua import IsoCode639_1, LanguageDetectorBuilder
    detector = LanguageDetectorBuilder.from_iso_codes_639_1(*(IsoCode639_1.from_str(c) for c in languages)) \
        .with_preloaded_language_models().with_low_accuracy_mode().build()

    def detect(text: str) -> tuple[str, float] | None:
        best = detector.compute_language_confidence_values(text)[0]
        return (best.language.iso_code_639_1.name.lower(), best.value) if best.value > 0 else None
    return detect


def _lingua_all(languages: list[str]) -> Detect:  # noqa: ARG001 (every language, for its memory)
    from lingua import LanguageDetectorBuilder
    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def detect(text: str) -> tuple[str, float] | None:
        best = detector.compute_language_confidence_values(text)[0]
        return (best.language.iso_code_639_1.name.lower(), best.value) if best.value > 0 else None
    return detect


def _py3langid(languages: list[str]) -> Detect:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(languages)

    def detect(text: str) -> tuple[str, float] | None:
        language, probability = identifier.classify(text)
        return language, float(probability)
    return detect


CANDIDATES = {"lingua": _lingua, "lingua-low": _lingua_low, "py3langid": _py3langid, "lingua-all": _lingua_all}


def rss_mb() -> float:
    """This process's resident memory (MiB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure(name: str, rows: list[dict], threshold: float, passes: int) -> dict:
    """One candidate's figures (run in a process of its own)."""
    languages = sorted({r["language"] for r in rows})
    baseline, started = rss_mb(), time.perf_counter()
    detect = CANDIDATES[name](languages)
    loaded = time.perf_counter() - started
    results = [detect(r["text"]) for r in rows]
    figures = {"load_seconds": round(loaded, 2), "rss_mb_before": baseline, "rss_mb_loaded": rss_mb()}
    costs = []
    for _ in range(passes):
        for row in rows:
            start = time.perf_counter_ns()
            detect(row["text"])
            costs.append((time.perf_counter_ns() - start) / 1000)
    costs.sort()
    figures["cost_us"] = {"p50": round(costs[len(costs) // 2], 1), "p99": round(costs[int(len(costs) * 0.99)], 1)}
    return figures | accuracy(rows, results, threshold)


def accuracy(rows: list[dict], results: list, threshold: float) -> dict:
    """Top-1 accuracy by length bucket and on >= 20 characters; coverage and precision above the threshold."""
    right = [bool(res) and res[0] == r["language"] for r, res in zip(rows, results)]
    by_bucket = {}
    for label, low, high in BUCKETS:
        picked = [ok for r, ok in zip(rows, right) if low <= len(r["text"]) < high]
        by_bucket[label] = {"n": len(picked), "accuracy": round(sum(picked) / len(picked), 3) if picked else None}
    long_ = [ok for r, ok in zip(rows, right) if len(r["text"]) >= 20]
    confident = [ok for res, ok in zip(results, right) if res and res[1] >= threshold]
    wrong = [{"text": r["text"], "expected": r["language"], "got": res and [res[0], round(res[1], 2)]}
             for r, res, ok in zip(rows, results, right) if not ok]
    return {"accuracy_by_length": by_bucket, "accuracy_ge20": round(sum(long_) / len(long_), 3),
            "above_threshold": {"threshold": threshold, "share": round(len(confident) / len(rows), 3),
                                "accuracy": round(sum(confident) / len(confident), 3) if confident else None},
            "wrong": wrong}


def fixture_summary(rows: list[dict]) -> dict:
    """What the fixture holds."""
    languages = sorted({r["language"] for r in rows})
    return {"messages": len(rows), "languages": languages,
            "under_30_chars": round(sum(len(r["text"]) < 30 for r in rows) / len(rows), 3),
            "ge20_chars": sum(len(r["text"]) >= 20 for r in rows)}


def main() -> None:
    """Measure every candidate in a child process; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--candidate", choices=sorted(CANDIDATES), help="measure this one here (the parent's child)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.fixture.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.candidate:
        print(json.dumps(measure(args.candidate, rows, args.threshold, args.passes), ensure_ascii=False))
        return
    detectors = {}
    for name in CANDIDATES:
        child = subprocess.run([sys.executable, "-m", "benchmarks.language_bench", "--candidate", name,
                                "--fixture", str(args.fixture), "--threshold", str(args.threshold),
                                "--passes", str(args.passes)], cwd=REPO, check=True, capture_output=True, text=True)
        detectors[name] = json.loads(child.stdout)
    print(json.dumps({"fixture": fixture_summary(rows), "detectors": detectors}, ensure_ascii=False))


if __name__ == "__main__":
    main()
