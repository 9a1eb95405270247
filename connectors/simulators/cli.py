"""`switchboard simulate`: the platform simulators and simulated customers, until stopped."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys

from aiohttp import web


def _parser(settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard simulate", description=
                                     "Local stand-ins for Messenger, WhatsApp, LINE, X and Open Messaging: their send "
                                     "APIs, and customers who send signed webhooks to the edge; web visitors "
                                     "on the edge's guest socket.")
    parser.add_argument("--host", default="127.0.0.1", help="address the send APIs listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port of the send APIs and /_sim/ (default 8090)")
    parser.add_argument("--edge-url", default=f"http://{settings.edge_host}:{settings.edge_port}",
                        help="where webhooks go: <edge-url>/webhooks/<channel>/<account> (default: the edge settings)")
    parser.add_argument("--accounts", default=str(settings.accounts_file), help="accounts file (default: settings)")
    parser.add_argument("--rate", type=float, default=2.0, help="customer requests per second, all channels (default 2)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (default: until SIGTERM/Ctrl-C)")
    parser.add_argument("--seed", type=int, default=0, help="seed for customers, content, batches, redeliveries")
    parser.add_argument("--no-customers", action="store_true", help="serve the send APIs only; send no webhooks")
    parser.add_argument("--no-web", action="store_true",
                        help="no web visitors (they need the directory's deployments, read from Kafka)")
    parser.add_argument("--batch-probability", type=float, default=0.08, help="share of requests carrying 2-4 events")
    parser.add_argument("--redelivery-probability", type=float, default=0.05, help="share of requests delivered twice")
    parser.add_argument("--receipt-delay", type=float, default=0.5, help="seconds between a send and each receipt")
    parser.add_argument("--agents", type=int, default=0,
                        help="simulated agents of the demo tenant who take offers, reply and wrap up (default 0)")
    parser.add_argument("--agent-speed", type=float, default=1.0, help="divide the agents' think times by this")
    parser.add_argument("--whatsapp-window-error", choices=("status", "response"), default="status",
                        help="free-form outside 24 h: 200 then a failed status (Cloud API) or an immediate 131047")
    return parser


def main(argv: list[str]) -> int:
    """Run the simulators; print one JSON line of stats when stopped."""
    from switchboard.accounts import load_accounts
    from switchboard.settings import load_settings

    settings = load_settings()
    args = _parser(settings).parse_args(argv)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s simulate %(levelname)s %(message)s")
    accounts = list(load_accounts(args.accounts))
    if not args.no_web:   # web visitors go to the directory's deployments (the accounts file has none)
        from .web import deployments

        accounts += deployments(settings)
    stats = asyncio.run(_serve(args, accounts, settings))
    print(json.dumps(stats, ensure_ascii=False), flush=True)
    return 0


async def _serve(args, accounts, settings) -> dict:
    from .scenario import CustomerScenario
    from .simulator import Simulator

    sim = Simulator(accounts, args.edge_url, seed=args.seed, receipt_delay=args.receipt_delay)
    sim.platforms["whatsapp"].window_error = args.whatsapp_window_error
    runner = web.AppRunner(sim.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, args.host, args.port).start()
    print(f"simulators on http://{args.host}:{args.port} → {args.edge_url}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    if args.duration:
        asyncio.get_running_loop().call_later(args.duration, stop.set)
    if not args.no_customers:
        scenario = CustomerScenario(sim, rate=args.rate, seed=args.seed, batch_probability=args.batch_probability,
                                    redelivery_probability=args.redelivery_probability)
        sim.spawn(scenario.run(stop))
        if args.agents:   # make run's demo: the channel policy's cases once (scenario.PolicyScenario)
            from .scenario import policy_scenario

            if (policy := policy_scenario(sim, scenario, settings, args.edge_url)) is not None:
                sim.spawn(policy.run(stop))
    agents = None
    if args.agents:
        from .agents import run_agents

        agents = asyncio.create_task(run_agents(settings, args.agents, stop, seed=args.seed or 7,
                                                speed=args.agent_speed))
        calls = _telephony(settings, args.agents, stop, args.seed or 7)
    await stop.wait()
    stats = sim.state.stats.as_json()
    if agents is not None:
        stats["agents"] = await agents
        stats["telephony"] = await calls
    await runner.cleanup()
    return stats


def _telephony(settings, n_agents: int, stop: asyncio.Event, seed: int) -> asyncio.Task:
    """make run's demo of blending: a simulated telephony platform puts half the simulated agents on calls."""
    from .agents import agent_ids
    from .telephony import run_telephony

    phones = agent_ids(settings, "acme", n_agents)[: max(1, n_agents // 2)]
    return asyncio.create_task(run_telephony(settings, phones, stop, seed=seed))
