"""The account clock: every second, an account-tick for each portfolio of this worker's partitions
that holds messages, sent to the partition that owns it.

A faust timer cannot write tables, so it sends ticks through `account-ticks` (co-partitioned with
outbound-checks) and the account agent releases what may go when a tick arrives (the tick's
record time is the stage's clock). A lost tick is harmless: the next one carries a later time.
Tests leave this module out and produce ticks with the times they choose.
"""
from __future__ import annotations

import asyncio
import logging
import time

from schemas import topic
from streams.app import app
from streams.produce import ProduceFailed, send_all
from streams.records import Output

from .agent import Runtime, policy_by_account

TICK_SECONDS = 1.0
TICKS = topic("account-ticks").name
log = logging.getLogger(__name__)


def tick(state: dict, now: int) -> Output:
    """The tick of one portfolio at `now`, to the partition that holds its state."""
    key = state["portfolio_key"]
    return Output(TICKS, key, "account-tick", {"tick_id": f"{key}:{now}", "tenant_id": state["tenant_id"],
                                               "portfolio_key": key, "at": now}, partition=state["partition"])


@app.timer(interval=TICK_SECONDS)
async def tick_held_portfolios() -> None:
    """Send the wall-clock time to every local portfolio that holds messages."""
    if Runtime.states is None:
        return
    now, records = int(time.time() * 1000), []
    for index, (_, data) in enumerate(policy_by_account.items()):
        state = Runtime.states.loads(data)
        if state["held"]:
            records.append(tick(state, now).encoded(Runtime.wiring.codec))
        if index % 1000 == 999:
            await asyncio.sleep(0)   # many portfolios must not starve the agent
    try:
        await send_all(records)
    except ProduceFailed as exc:
        log.warning("account ticks not sent: %s", exc)
