"""`switchboard rules test TEXT [--channel C] [--tenant T]`: which routing rule fires, and why."""
from __future__ import annotations

import argparse
import json
import sys

from switchboard.settings import load_settings

from .config import RoutingConfigError, load_config
from .rules import Classification, classify


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard rules", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    test = actions.add_parser("test", help="dry-run the rules on a customer message")
    test.add_argument("text", help="the customer's first message")
    test.add_argument("--channel", default="web", help="web, messenger, x, line, whatsapp, open (default web)")
    test.add_argument("--tenant", default="acme")
    test.add_argument("--language", help="the language the conversation already has, if any")
    test.add_argument("--json", action="store_true", help="machine-readable output")
    actions.add_parser("check", help="validate every tenant's routing file")
    return parser


def render(result: Classification) -> str:
    """The dry-run as text: the winner with its evidence, then every rule that did not match."""
    lines = [f"rule:     {result.rule or '(none: default queue)'}",
             f"matched:  {', '.join(result.matched_words) or '-'}",
             f"queue:    {result.queue}",
             f"skills:   {', '.join(f'{k}>={v}' for k, v in sorted(result.skills.items())) or '-'}",
             f"priority: {result.priority}",
             f"language: {result.language or '-'}"]
    misses = [c for c in result.checks if not c.matched]
    if misses:
        lines.append("did not match:")
        lines += [f"  {c.rule}: {c.reason}" for c in misses]
    return "\n".join(lines)


def as_json(result: Classification) -> str:
    """The dry-run as one JSON object."""
    return json.dumps({"rule": result.rule, "matched_words": list(result.matched_words), "queue": result.queue,
                       "skills": result.skills, "priority": result.priority, "language": result.language,
                       "not_matched": {c.rule: c.reason for c in result.checks if not c.matched}},
                      ensure_ascii=False)


def main(argv: list[str]) -> int:
    """Entry point of the `rules` role."""
    args = _parser().parse_args(argv)
    routing_dir = load_settings().routing_dir
    try:
        if args.action == "check":
            for path in sorted(routing_dir.glob("*.yaml")):
                load_config(routing_dir, path.stem)
                print(f"{path}: ok")
            return 0
        config = load_config(routing_dir, args.tenant)
    except RoutingConfigError as exc:
        print(f"switchboard rules: error: {exc}", file=sys.stderr)
        return 2
    result = classify(config, [args.text], args.channel, args.language)
    print(as_json(result) if args.json else render(result))
    return 0
