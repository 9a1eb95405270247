"""faust plumbing of the account stage: a sequencer, one agent, one table.

Its three input topics (outbound-checks, account-events, account-ticks), all keyed by portfolio
key, are sequenced into `account-inputs` (`streams/sequencer.py`), so a replay applies a
portfolio's records in the order they were first applied; the agent over that log is a
`streams.processor.Processor`: the batch's outputs are produced and acked before the new states
are written. The clock task (`clock.py`) sends the ticks that release held messages.
"""
from __future__ import annotations

from schemas import subjects
from streams.app import raw_table
from streams.processor import Wiring
from streams.records import Output
from streams.sequencer import Sequencer, source_of
from switchboard.accounts import load_accounts
from switchboard.pricing import prices

from .dispatch import SUBJECTS, AccountsConfig, apply
from .state import StateCodec
from .tiers import tiers

STAGE = "streams.accounts"
# Few, small entries (one per portfolio): a small per-partition RocksDB.
ROCKSDB_OPTIONS = {"write_buffer_size": 4 << 20, "max_write_buffer_number": 2, "block_cache_size": 8 << 20,
                   "target_file_size_base": 8 << 20, "max_open_files": 128}

policy_by_account = raw_table("policy_by_account", changelog="account-policy-state", options=ROCKSDB_OPTIONS,
                              help="Account policy state by portfolio key (subject account-state).")
sequencer = Sequencer("sequence_account_inputs", SUBJECTS, "account-inputs", stage=STAGE)
processor = sequencer.reader("police_accounts", stage=STAGE, tables=[policy_by_account])
portfolios = processor.staged(policy_by_account)
metrics = processor.metrics
metrics.update(applied=0, duplicates=0, approved=0, held=0, rejected=0)


class Runtime:
    """What the handler and the clock need, built by `setup` from the worker's wiring."""

    config: AccountsConfig | None = None
    states: StateCodec | None = None
    wiring: Wiring | None = None


def setup(wiring: Wiring) -> None:
    """Read accounts, the tier ladder and the price table (UserError on a bad file), bind the handler."""
    accounts, directory = load_accounts(wiring.settings.accounts_file), wiring.directory
    Runtime.config = AccountsConfig(accounts.get, directory.tenant if directory is not None else (lambda t: None),
                                    tiers(), prices(), views="policy-view" in subjects())
    Runtime.states, Runtime.wiring = StateCodec(wiring.codec), wiring
    sequencer.bind(wiring)
    processor.bind(handle, wiring)


def handle(msg, value: dict) -> list[Output]:
    """Approve, hold or refuse an outbound; apply an account event; release held messages on a tick."""
    source, key = source_of(msg), msg.key
    current = Runtime.states.loads(portfolios.get(key))
    step = apply(source, current, value, portfolio_key=key.decode(), partition=msg.partition,
                 record_ms=int(msg.timestamp * 1000), config=Runtime.config)
    metrics["duplicates" if step.duplicate else "applied"] += 1
    if step.duplicate or (source == "account-ticks" and not step.outputs):
        return step.outputs   # nothing changed: no write
    portfolios[key] = Runtime.states.dumps(step.state)
    _count(step.outputs)
    return step.outputs


def _count(outputs: list[Output]) -> None:
    for output in outputs:
        if output.subject == "outbound-message":
            metrics["approved"] += 1
        elif output.subject == "outbound-rejection":
            metrics["rejected"] += 1
        elif output.subject == "delivery-status" and output.value["status"] == "held":
            metrics["held"] += 1
