"""How many webhooks per second one edge answers 200 (published, acks=all) — prints one JSON line.

    python benchmarks/edge_bench.py --bootstrap 127.0.0.1:9092 [--requests 2000] [--concurrency 50]

Runs the edge in-process on a free port for the demo accounts (deploy/accounts.yaml), posts signed
copies of tests/fixtures/webhooks/whatsapp/text.json with `concurrency` requests in flight, once
with a Kafka transaction per group commit and once with plain idempotent produce. The events land
on inbound-messages for tenant `acme`: use a scratch broker.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from connectors.edge import make_app
from connectors.publisher import Publisher
from connectors.signatures import hex_sha256
from schemas import Codec
from switchboard.accounts import load_accounts
from switchboard.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
BODY = (REPO / "tests/fixtures/webhooks/whatsapp/text.json").read_bytes()


async def measure(bootstrap: str, transactional: bool, requests: int, concurrency: int) -> dict:
    """Requests/s and latency percentiles for one publishing mode."""
    settings = load_settings(kafka_bootstrap=bootstrap)
    accounts = load_accounts(REPO / "deploy/accounts.yaml")
    publisher = Publisher(settings.kafka_client_config(),
                          transactional_id=f"bench-edge-{time.time_ns()}" if transactional else None)
    runner = web.AppRunner(make_app(settings, accounts, publisher, Codec.from_settings(settings)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/webhooks/whatsapp/109876543210987"
    headers = {"X-Hub-Signature-256": hex_sha256(b"demo-whatsapp-app-secret", BODY), "Content-Type": "application/json"}
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def one():
            started = time.perf_counter()
            async with session.post(url, data=BODY, headers=headers) as response:
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - started)
        await asyncio.gather(*(one() for _ in range(concurrency)))  # warm-up: connections, producer
        latencies.clear()
        started = time.perf_counter()
        pending = set()
        for _ in range(requests):
            pending.add(asyncio.ensure_future(one()))
            if len(pending) >= concurrency:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - started
    await runner.cleanup()
    publisher.close()
    latencies.sort()
    return {"mode": "transaction" if transactional else "plain", "requests": requests, "concurrency": concurrency,
            "requests_per_s": round(requests / elapsed), "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=load_settings().kafka_bootstrap)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    results = [await measure(args.bootstrap, mode, args.requests, args.concurrency) for mode in (True, False)]
    serial = await measure(args.bootstrap, True, max(50, args.requests // 20), 1)
    print(json.dumps({"edge": results + [serial]}))


if __name__ == "__main__":
    asyncio.run(main())
