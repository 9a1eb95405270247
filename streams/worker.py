"""`switchboard worker`: run the stream processors (a faust worker under uvloop)."""
from __future__ import annotations

import argparse
import importlib
import logging
import socket
from pathlib import Path

from schemas import Codec
from switchboard.settings import load_settings

from .processors import PROCESSORS

log = logging.getLogger("streams.worker")
READY = "streams worker ready"   # tests and supervisors wait for this line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard worker", description=__doc__)
    parser.add_argument("--name", default=socket.gethostname(),
                        help="this worker's stable name: its data dir and static group membership")
    parser.add_argument("--store", default="rocksdb://", help="table store (memory:// for throwaway runs)")
    parser.add_argument("--app-id", default=None,
                        help="consumer group / app id (default switchboard); separate ids share no offsets")
    parser.add_argument("--processors", default=None,
                        help="comma-separated processor modules (default: streams/processors.py)")
    parser.add_argument("--expiry-interval", type=float, default=30.0,
                        help="seconds between inactivity scans of the conversation table")
    parser.add_argument("--loglevel", default=None, help="default: SWITCHBOARD_LOG_LEVEL")
    return parser


def main(argv: list[str]) -> int:
    """Configure the app, import the processors, run the worker until SIGTERM/SIGINT."""
    args = _parser().parse_args(argv)
    settings = load_settings()
    import faust
    import mode.loop

    mode.loop.use("uvloop")            # faust's `-L uvloop`: must precede any event loop
    from .app import configure
    from .faults import Fault
    from switchboard.directory import DirectoryView

    from .processor import Wiring
    from .routing.sources import DirectoryConfigs

    app = configure(settings, worker_name=args.name, store=args.store)
    if args.app_id:
        app.conf.id = args.app_id
        app.conf.consumer_group_instance_id = f"{args.app_id}-{args.name}"
    Path(app.conf.datadir).mkdir(parents=True, exist_ok=True)   # faust creates only the last level
    codec = Codec.from_settings(settings)
    directory = DirectoryView(settings.kafka_client_config(), codec).start()
    directory.wait_ready(60)      # routing must not start on an empty roster
    wiring = Wiring(settings, args, codec, Fault.parse(settings.fault_point), directory,
                    DirectoryConfigs(directory, settings.routing_dir))
    if settings.fault_point:
        log.warning("fault injection on: %s (tests only)", settings.fault_point)
    for name in args.processors.split(",") if args.processors else PROCESSORS:
        module = importlib.import_module(name)
        if hasattr(module, "setup"):
            module.setup(wiring)

    async def ready(sender=None, **kwargs) -> None:
        log.info("%s: %s, partitions %s", READY, args.name,
                 sorted({tp.partition for tp in app.consumer.assignment()}) if app.consumer else [])

    app.on_rebalance_complete.connect(ready)
    worker = faust.Worker(app, loglevel=args.loglevel or settings.log_level, quiet=True)
    worker.execute_from_commandline()   # exits the process with the worker's exit code
    return 0
