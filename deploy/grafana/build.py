"""Emit the dashboards with grafana-foundation-sdk: the reports (deploy/grafana/dashboards/reports/*.json,
ClickHouse) and operations (dashboards/operations/*.json, Prometheus: deploy/grafana/operations.py).

`python -m deploy.grafana.build` rewrites them; `--check` exits 1 naming the files that differ
from what this script builds (tests/deploy/test_grafana.py makes the same comparison). Every
panel's SQL comes from deploy/grafana/queries.py, i.e. from the metric dictionary (sink/metrics.py).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from .boards import BOARDS
from .operations import metrics

FOLDER = Path(__file__).with_name("dashboards") / "reports"
OPERATIONS = FOLDER.with_name("operations")
FOLDERS = {FOLDER: BOARDS, OPERATIONS: {"switchboard": metrics}}   # a Grafana folder each


def rendered() -> dict[Path, str]:
    """{file: JSON text} of every dashboard, as committed."""
    return {folder / f"{name}.json": json.dumps(make(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
            for folder, boards in FOLDERS.items() for name, make in boards.items()}


def main(argv: list[str] | None = None) -> int:
    """Write the dashboards, or with --check name those that differ."""
    parser = argparse.ArgumentParser(description="Emit Switchboard's report and operations dashboards for Grafana.")
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed dashboard differs")
    args = parser.parse_args(argv)
    files = rendered()
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path} is out of date: run python -m deploy.grafana.build", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
