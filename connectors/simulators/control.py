"""The control API under /_sim/: faults, recorded requests, the clock, stats and on-demand customers."""
from __future__ import annotations

import random

from aiohttp import web

from .customers import compose
from .state import Fault


def control_routes(sim) -> list[web.RouteDef]:
    """Routes for tests and demos to steer and observe the simulators."""
    def platform(request: web.Request):
        name = request.match_info["platform"]
        if name not in sim.platforms:
            raise web.HTTPNotFound(text=f"unknown platform {name}; known: {', '.join(sim.platforms)}")
        return sim.platforms[name]

    async def health(request):
        return web.json_response({"ok": True, "accounts": [f"{a.channel}/{a.account_id}" for a in sim.accounts]})

    async def stats(request):
        body = sim.state.stats.as_json() | {"clock_offset_seconds": sim.state.clock.offset,
                                            "faults_pending": {p: sum(f.count for f in q) for p, q in sim.state.faults.items()}}
        return web.json_response(body)

    async def requests(request):
        log = list(sim.state.requests[platform(request).channel])
        return web.json_response(log[int(request.query.get("since", 0)):])

    async def clear_requests(request):
        sim.state.requests[platform(request).channel].clear()
        return web.json_response({"ok": True})

    async def add_fault(request):
        p, body = platform(request), await request.json()
        fault = Fault(body["kind"], int(body.get("count", 1)), body.get("retry_after"))
        try:
            p.fault_reply(Fault(fault.kind))  # refuse unknown kinds now rather than at the next call
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f"{exc}; known: {', '.join(p.FAULTS)} or http_<status>") from None
        sim.state.faults[p.channel].append(fault)
        return web.json_response({"pending": [f.__dict__ for f in sim.state.faults[p.channel]]})

    async def clear_faults(request):
        sim.state.faults[platform(request).channel].clear()
        return web.json_response({"ok": True})

    async def clock(request):
        if request.method == "POST":
            body = await request.json()
            sim.state.clock.offset = float(body.get("offset_seconds", sim.state.clock.offset)) + float(
                body.get("advance_seconds", 0))
        return web.json_response({"offset_seconds": sim.state.clock.offset, "now_ms": sim.state.clock.now_ms()})

    async def customers(request):
        return web.json_response([c.__dict__ | {"open_id": c.open_id} for c in sim.pool])

    async def customer_message(request):
        """Make one simulated customer write now; answers the edge's status and the payload sent."""
        p = platform(request)
        body = await request.json() if request.can_read_body else {}
        account = sim.account(p.channel, body.get("account_id"))
        if account is None:
            raise web.HTTPNotFound(text=f"no {p.channel} account {body.get('account_id') or ''}")
        rng = random.Random(body.get("seed"))
        customer = _customer(sim, p.channel, body.get("customer"), rng)
        content = compose(rng, customer, body.get("kind", "text"))
        if "text" in body:
            content = type(content)(**(content.__dict__ | {"text": body["text"]}))
        event = p.event(account, customer, content, sim.state.clock.now_ms())
        p.customers_wrote(account, [event], sim.state.clock.now())
        status = await p.deliver(p.webhook(account, p.envelope(account, [event])))
        return web.json_response({"status": status, "customer": customer.id_on(p.channel), "event": event})

    return [web.get("/_sim/health", health), web.get("/_sim/stats", stats),
            web.get("/_sim/clock", clock), web.post("/_sim/clock", clock),
            web.get("/_sim/customers", customers),
            web.get("/_sim/{platform}/requests", requests), web.delete("/_sim/{platform}/requests", clear_requests),
            web.post("/_sim/{platform}/faults", add_fault), web.delete("/_sim/{platform}/faults", clear_faults),
            web.post("/_sim/{platform}/customers/messages", customer_message)] + _platform_routes(sim)


def _platform_routes(sim) -> list[web.RouteDef]:
    """A platform's own control calls (WhatsApp templates and quality, LINE quota), when it has some."""
    return [route for p in sim.platforms.values() if hasattr(p, "control_routes") for route in p.control_routes()]


def _customer(sim, channel: str, wanted: str | int | None, rng: random.Random):
    """A pool customer by index, name or platform id; a random one of the channel when not given."""
    people = [c for c in sim.pool if channel in c.channels] or sim.pool
    if wanted is None:
        return rng.choice(people)
    if isinstance(wanted, int):
        return sim.pool[wanted]
    found = [c for c in sim.pool if wanted in (c.name, c.id_on(channel))]
    if not found:
        raise web.HTTPNotFound(text=f"no customer {wanted!r}")
    return found[0]
