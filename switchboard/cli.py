"""The `switchboard` command: one entry point for every role and operation."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable

from .errors import UserError
from .settings import ConfigError, load_settings

Handler = Callable[[argparse.Namespace], int | None]


def _local_kafka(settings):
    from deploy.kafka.broker import LocalKafka

    return LocalKafka(cache_dir=settings.cache_dir, data_dir=settings.data_dir / "kafka",
                      port=settings.kafka_port, controller_port=settings.kafka_controller_port,
                      heap=settings.kafka_heap)


def kafka_start(args) -> None:
    """Start the local broker (idempotent) and create the catalogue's topics."""
    from deploy.kafka.topics import create_topics
    from schemas import catalogue

    settings = load_settings()
    bootstrap = _local_kafka(settings).start()
    created = create_topics(bootstrap, catalogue().values())
    print(f"kafka running at {bootstrap} ({len(created)} topics created)", file=sys.stderr)
    print(bootstrap)


def kafka_stop(args) -> None:
    """Stop the local broker, if one runs."""
    stopped = _local_kafka(load_settings()).stop()
    print("kafka stopped" if stopped else "kafka was not running")


def kafka_status(args) -> int:
    """Show whether the local broker runs; exit 1 when it does not."""
    status = _local_kafka(load_settings()).status()
    print(json.dumps(status, default=str))
    return 0 if status["running"] else 1


def topics_create(args) -> None:
    """Create every catalogue topic that does not exist yet."""
    from deploy.kafka.topics import create_topics
    from schemas import catalogue

    created = create_topics(load_settings().kafka_bootstrap, catalogue().values())
    print("\n".join(created) if created else "all topics exist")


def topics_list(args) -> None:
    """List the catalogue's topics (with --broker: the broker's)."""
    from schemas import catalogue

    if args.broker:
        from deploy.kafka.topics import list_topics

        print("\n".join(list_topics(load_settings().kafka_bootstrap)))
        return
    for t in catalogue().values():
        print(f"{t.name:28} {t.partitions:>3}  {t.value:22} {t.config.get('cleanup.policy', '')}")


def topics_describe(args) -> None:
    """Show one topic as declared and, with --broker, as the broker has it."""
    from schemas import UnknownTopic, topic

    try:
        declared = topic(args.name)
    except UnknownTopic as exc:
        raise UserError(exc.args[0]) from None
    out = {"declared": {k: v for k, v in vars(declared).items()}}
    if args.broker:
        from deploy.kafka.topics import describe_topic

        out["broker"] = describe_topic(load_settings().kafka_bootstrap, args.name)
    print(json.dumps(out, indent=2, default=str))


def show_settings(args) -> None:
    """Print the effective settings, secrets masked."""
    print(json.dumps(load_settings().masked(), indent=2))


def run(args) -> int:
    """Run the whole system locally until Ctrl-C (or SWITCHBOARD_RUN_SECONDS)."""
    from deploy.run import run_all

    return run_all(load_settings())


# Roles and tools implemented elsewhere: `switchboard NAME ARGS...` calls `function(ARGS)` of the
# module (imported only then), which parses its own arguments (so `switchboard NAME --help` works).
ROLES: dict[str, tuple[str, str]] = {
    "edge": ("connectors.edge:main", "serve channel webhooks (and later the agent workspace)"),
    "deliver": ("connectors.delivery:main", "send approved outbound messages through platform APIs"),
    "simulate": ("connectors.simulators:main", "run the platform simulators and simulated customers"),
    "worker": ("streams.worker:main", "run the stream processors (faust worker)"),
    "sink": ("sink.main:main", "write every event to ClickHouse and serve its HTTP interface"),
    "sql": ("sink.sql:main", "run a ClickHouse SQL query against the facts"),
    "report": ("switchboard.report_cli:main", "a report view (queues, agents, interactions…) as a table, CSV or JSON"),
    "rules": ("streams.routing.rules_cli:main", "routing rules: `rules test TEXT` shows which rule fires"),
    "dlq": ("switchboard.dlq_cli:main", "inspect and replay dead-letter topics"),
    "admin": ("switchboard.admin_cli:main", "people and configuration: tenants, routing, agents, canned responses"),
    "generate": ("switchboard.generate:main", "write a generated history of interactions into ClickHouse (demos, benchmarks)"),
}


def _run_role(target: str, argv: list[str]) -> int | None:
    import importlib

    module_name, function = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UserError(f"{module_name} is not part of this build yet") from None
        raise
    return getattr(module, function)(argv)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    groups = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kafka = groups.add_parser("kafka", help="the local Apache Kafka broker").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    for name, handler in [("start", kafka_start), ("stop", kafka_stop), ("status", kafka_status)]:
        kafka.add_parser(name, help=handler.__doc__).set_defaults(handler=handler)

    topics = groups.add_parser("topics", help="the topic catalogue").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    topics.add_parser("create", help=topics_create.__doc__).set_defaults(handler=topics_create)
    listing = topics.add_parser("list", help=topics_list.__doc__)
    listing.add_argument("--broker", action="store_true", help="list what the broker has")
    listing.set_defaults(handler=topics_list)
    describe = topics.add_parser("describe", help=topics_describe.__doc__)
    describe.add_argument("name")
    describe.add_argument("--broker", action="store_true", help="also ask the broker")
    describe.set_defaults(handler=topics_describe)

    groups.add_parser("settings", help=show_settings.__doc__).set_defaults(handler=show_settings)
    for name, (_, help_text) in ROLES.items():
        groups.add_parser(name, help=help_text, add_help=False)  # listed here, dispatched in main()
    groups.add_parser("run", help=run.__doc__).set_defaults(handler=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, dispatch, and turn user mistakes into one-line errors (exit 2)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] in ROLES:
            return _run_role(ROLES[argv[0]][0], argv[1:]) or 0
        # A command (not a service): a broker it cannot reach is its one-line error, not client noise.
        logging.getLogger("switchboard.kafka.client").setLevel(logging.CRITICAL)
        args = _build_parser().parse_args(argv)
        return args.handler(args) or 0
    except (UserError, ConfigError) as exc:
        print(f"switchboard: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        if not _operational(exc):
            raise
        print(f"switchboard: error: {exc}", file=sys.stderr)
        return 1


def _operational(exc: Exception) -> bool:
    """Failures of a service we run that name their own fix (no stack trace needed)."""
    from deploy.kafka.broker import BrokerError

    return isinstance(exc, BrokerError)


if __name__ == "__main__":
    sys.exit(main())
