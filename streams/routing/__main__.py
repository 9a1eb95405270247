"""A routing-only worker: `python -m streams.routing [--name N] [--store URL] [--no-clock] [--group G]`.

`switchboard worker` runs every processor; this runs only routing, for tests (which drive the
clock with their own ticks: --no-clock), for the benchmark, and for scaling routing on its own.
It is `switchboard worker --processors streams.routing.agent[,streams.routing.clock]`.
"""
from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    """Run the worker with the routing processor (and its clock)."""
    parser = argparse.ArgumentParser(prog="python -m streams.routing", description=__doc__)
    parser.add_argument("--name", default="routing-1", help="worker name (data dir, static membership)")
    parser.add_argument("--store", default="rocksdb://", help="table store: rocksdb:// or memory://")
    parser.add_argument("--no-clock", action="store_true", help="do not send wall-clock ticks")
    parser.add_argument("--group", help="consumer group (faust app id); tests use their own")
    parser.add_argument("--log-level", default=None)
    args = parser.parse_args(argv)
    from streams import worker

    processors = "streams.routing.agent" + ("" if args.no_clock else ",streams.routing.clock")
    return worker.main(["--name", args.name, "--store", args.store, "--processors", processors]
                       + (["--app-id", args.group] if args.group else [])
                       + (["--loglevel", args.log_level.upper()] if args.log_level else []))


if __name__ == "__main__":
    raise SystemExit(main())
