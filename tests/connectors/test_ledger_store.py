"""The ledger's local RocksDB store: states, applied offsets and expiry by its time-ordered index."""
from __future__ import annotations

import pytest

from connectors.ledger_store import LedgerLocked, LedgerStore

DAY_MS = 24 * 3600 * 1000
T0 = 1764063101000  # schemas/examples/delivery-attempt/sent.json's updated_at


@pytest.fixture
def store(tmp_path):
    opened = LedgerStore(tmp_path / "ledger")
    yield opened
    opened.close()


def test_a_state_and_the_offsets_survive_a_reopen(tmp_path):
    first = LedgerStore(tmp_path / "ledger")
    first.put("out-1", "sending", T0)
    first.put("out-1", "sent", T0 + 5)
    first.offset("delivery-ledger", 3, 1200)
    first.close()
    again = LedgerStore(tmp_path / "ledger")
    assert again.state("out-1") == ("sent", T0 + 5) and again.state("out-2") is None
    assert again.offsets("delivery-ledger", range(6)) == {3: 1200}
    assert again.offsets("another-topic", range(6)) == {}
    again.close()


def test_nothing_staged_is_visible_before_commit(store):
    store.put("out-1", "sent", T0)
    assert store.state("out-1") is None
    store.commit()
    assert store.state("out-1") == ("sent", T0)


def test_expiry_forgets_what_was_last_updated_before_the_horizon_only(store):
    store.put("old", "sent", T0 - 8 * DAY_MS)
    store.put("renewed", "sending", T0 - 8 * DAY_MS)   # its first index key is older than the horizon…
    store.put("renewed", "sent", T0 - 6 * DAY_MS)      # …but its latest state is not
    store.put("young", "failed", T0)
    store.commit()
    assert store.expire(T0 - 7 * DAY_MS) == 1
    assert store.state("old") is None
    assert store.state("renewed") == ("sent", T0 - 6 * DAY_MS) and store.state("young") == ("failed", T0)
    assert store.expire(T0 - 7 * DAY_MS) == 0   # the pass removed its index keys: nothing is read twice
    assert store.expire(T0 + 1) == 2


def test_a_tombstone_forgets_an_entry_and_expiry_skips_it(store):
    store.put("erased", "sent", T0 - 8 * DAY_MS)
    store.commit()
    store.delete("erased")
    store.commit()
    assert store.state("erased") is None and store.expire(T0) == 0


def test_a_second_store_on_the_same_directory_is_refused_with_the_reason(store, tmp_path):
    with pytest.raises(LedgerLocked, match="another deliver instance"):
        LedgerStore(tmp_path / "ledger")


def test_the_ledger_topic_keeps_exactly_as_long_as_the_ledger_remembers():
    """A shorter retention would lose ids deliver still dedupes; a longer one re-reads expired ones."""
    from connectors.ledger import HORIZON_S
    from schemas import topic
    from switchboard.settings import Settings

    config = topic("delivery-ledger").config
    assert set(config["cleanup.policy"].split(",")) == {"compact", "delete"}
    assert int(config["retention.ms"]) == HORIZON_S * 1000 == Settings().ledger_horizon_hours * 3600 * 1000
