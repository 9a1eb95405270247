"""The `switchboard` command: one entry point for every role and operation."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable

from .errors import Unavailable, UserError, port_taken_is_unavailable
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


def _reachable_broker() -> dict:
    """The whole Kafka client configuration (TLS and SASL included: a secured broker takes nothing
    less) once the broker answers it (else a one-line error, exit 1)."""
    from .kafka import require_broker

    config = load_settings().kafka_client_config()
    require_broker(config)
    return config


def topics_create(args) -> None:
    """Create every catalogue topic that does not exist yet."""
    from deploy.kafka.topics import create_topics
    from schemas import catalogue

    if args.min_insync_replicas is not None and not 1 <= args.min_insync_replicas <= args.replication_factor:
        raise UserError(f"--min-insync-replicas {args.min_insync_replicas} must be between 1 and "
                        f"--replication-factor ({args.replication_factor})")
    created = create_topics(_reachable_broker(), catalogue().values(),
                            replication_factor=args.replication_factor, min_insync_replicas=args.min_insync_replicas)
    print("\n".join(created) if created else "all topics exist")


def topics_list(args) -> None:
    """List the catalogue's topics (with --broker: the broker's)."""
    from schemas import catalogue

    if args.broker:
        from deploy.kafka.topics import list_topics

        print("\n".join(list_topics(_reachable_broker())))
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

        out["broker"] = describe_topic(_reachable_broker(), args.name)
    print(json.dumps(out, indent=2, default=str))


def show_settings(args) -> None:
    """Print the effective settings, secrets masked, once the accounts file they name reads."""
    from .accounts import load_accounts

    settings = load_settings()
    load_accounts(settings.accounts_file)   # a broken file is its one-line error here, not at a role's start
    print(json.dumps(settings.masked(), indent=2))


def run(args) -> int:
    """Run the whole system locally until Ctrl-C (or SWITCHBOARD_RUN_SECONDS)."""
    from deploy.run import run_all

    from .accounts import load_accounts

    settings = load_settings()
    load_accounts(settings.accounts_file)   # refused before a broker or a role starts, not in one role's log
    return run_all(settings)


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


# What to change when a role's listening port is taken (the rest: `switchboard NAME --help`).
PORT_FIXES = {
    "edge": "choose another port: `switchboard edge --port N` or SWITCHBOARD_EDGE_PORT",
    "sink": "choose another port: SWITCHBOARD_SINK_PORT",
    "simulate": "choose another port: `switchboard simulate --port N`",
}


class _PrintVersion(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, packages_distributions, version

        try:   # the distribution (switchboard-cx) that installed this package, as pyproject.toml names it
            found = version(packages_distributions().get(__package__, [__package__])[0])
        except PackageNotFoundError:
            found = "(not installed: run `pip install -e .`)"
        print(f"switchboard {found}")
        parser.exit()


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
    parser.add_argument("--version", action=_PrintVersion, help="print `switchboard <version>` and exit")
    groups = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kafka = groups.add_parser("kafka", help="the local Apache Kafka broker").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    for name, handler in [("start", kafka_start), ("stop", kafka_stop), ("status", kafka_status)]:
        kafka.add_parser(name, help=handler.__doc__).set_defaults(handler=handler)

    topics = groups.add_parser("topics", help="the topic catalogue").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    creating = topics.add_parser("create", help=topics_create.__doc__)
    creating.add_argument("--replication-factor", type=int, default=1, metavar="N",
                          help="replicas of each new topic (default 1: the local single-node broker)")
    creating.add_argument("--min-insync-replicas", type=int, metavar="M",
                          help="min.insync.replicas of each new topic (default: the broker's)")
    creating.set_defaults(handler=topics_create)
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
    """Parse, dispatch, and turn user mistakes (exit 2) and missing services (exit 1) into one-line errors."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _dispatch(argv)
    except (UserError, ConfigError) as exc:
        print(f"switchboard: error: {exc}", file=sys.stderr)
        return 2
    except Unavailable as exc:
        print(f"switchboard: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        if not _operational(exc):
            raise
        print(f"switchboard: error: {exc}", file=sys.stderr)
        return 1


# Roles that are commands, not services: their Kafka clients' log lines are noise around their one-line error.
COMMAND_ROLES = frozenset({"dlq", "admin", "report", "sql", "rules", "generate"})


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in ROLES:
        if argv[0] in COMMAND_ROLES:
            logging.getLogger("switchboard.kafka.client").setLevel(logging.CRITICAL)
        with port_taken_is_unavailable(PORT_FIXES.get(argv[0], f"choose another port (`switchboard {argv[0]} --help`)")):
            return _run_role(ROLES[argv[0]][0], argv[1:]) or 0
    # A command (not a service): a broker it cannot reach is its one-line error, not client noise.
    logging.getLogger("switchboard.kafka.client").setLevel(logging.CRITICAL)
    args = _build_parser().parse_args(argv)
    from confluent_kafka import KafkaException

    try:
        return args.handler(args) or 0
    except KafkaException as exc:   # the broker answered the probe, then failed the request
        raise Unavailable(f"Kafka: {exc.args[0].str()} (is the broker well? `switchboard kafka status`)") from None


def _operational(exc: Exception) -> bool:
    """Failures of a service we run that name their own fix (no stack trace needed)."""
    from deploy.kafka.broker import BrokerError

    return isinstance(exc, BrokerError)


if __name__ == "__main__":
    sys.exit(main())
