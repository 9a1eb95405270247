"""An outbound's outcome from its facts: the furthest status of its deliveries, whatever their order."""
from __future__ import annotations

from types import SimpleNamespace

from connectors.workspace import outcomes


class Facts:
    """A clickhouse-connect client answering each of outcome()'s three queries with given rows."""

    def __init__(self, rejected=(), approved=(), deliveries=()):
        self.rows = {outcomes.REJECTED_SQL: list(rejected), outcomes.APPROVED_SQL: list(approved),
                     outcomes.DELIVERY_SQL: list(deliveries)}

    def query(self, sql, parameters):
        assert parameters == {"tenant": "t-1", "outbound": "ob-1"}
        return SimpleNamespace(result_rows=self.rows[sql])


def delivery(status: str, at: int) -> tuple:
    return (status, at, None, None, None, None, None, None)


def test_the_state_is_the_furthest_status_not_the_latest_row():
    # WhatsApp's delivered stamped before its sent (the same second, another order), a web read before sent.
    for rows, state in (([delivery("delivered", 1000), delivery("sent", 1000)], "delivered"),
                        ([delivery("sent", 900), delivery("read", 1000), delivery("delivered", 1001)], "read"),
                        ([delivery("held", 900), delivery("sent", 1000)], "sent"),
                        ([delivery("sent", 900), delivery("failed", 1000)], "failed")):
        found = outcomes.outcome(Facts(approved=[(800, None, None, None)], deliveries=rows), "t-1", "ob-1")
        assert found["state"] == state, rows
        assert [d["status"] for d in found["deliveries"]] == [r[0] for r in rows]


def test_approved_without_deliveries_rejected_first_and_unknown_outbounds():
    assert outcomes.outcome(Facts(approved=[(800, "utility", "0.0080", "EUR")]), "t-1", "ob-1")["state"] == "approved"
    rejected = outcomes.outcome(Facts(rejected=[("window.closed", "24 h", 700)]), "t-1", "ob-1")
    assert rejected["state"] == "rejected" and rejected["rejected"]["rule"] == "window.closed"
    assert outcomes.outcome(Facts(), "t-1", "ob-1") is None
