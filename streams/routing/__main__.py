"""A routing-only faust worker: `python -m streams.routing [--name N] [--store URL] [--no-clock]`.

`switchboard worker` runs every processor; this runs only routing, for tests (which drive the
clock with their own ticks: --no-clock), for the benchmark, and for scaling routing on its own.
"""
from __future__ import annotations

import argparse
import sys

from switchboard.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    """Configure the shared app, load the routing agent (and clock), run the faust worker."""
    parser = argparse.ArgumentParser(prog="python -m streams.routing", description=__doc__)
    parser.add_argument("--name", default="routing-1", help="worker name (data dir, static membership)")
    parser.add_argument("--store", default="rocksdb://", help="table store: rocksdb:// or memory://")
    parser.add_argument("--no-clock", action="store_true", help="do not send wall-clock ticks")
    parser.add_argument("--group", help="consumer group (faust app id); tests use their own")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    from streams.app import app, configure

    settings = load_settings()
    configure(settings, worker_name=args.name, store=args.store)
    (settings.data_dir / "streams").mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    if args.group:
        app.conf.id = args.group
        app.conf.consumer_group_instance_id = f"{args.group}-{args.name}"
    import streams.routing.agent  # noqa: F401 (registers the agent and table)
    if not args.no_clock:
        import streams.routing.clock  # noqa: F401
    sys.argv = ["faust", "-L", "uvloop", "worker", "--without-web", "-l", args.log_level]
    app.main()


if __name__ == "__main__":
    main()
