"""Error classes: retriable codes retried in place with bounded backoff, data errors, fatal ones."""
from __future__ import annotations

import pytest

from sink.errors import ClickHouseError, classify, code_of, retrying


@pytest.mark.parametrize("exc,expected", [
    (ClickHouseError(252, "Code: 252. DB::Exception: Too many parts"), "retry"),
    (ClickHouseError(241, "Code: 241. DB::Exception: Memory limit exceeded"), "retry"),
    (ConnectionError("refused"), "retry"),
    (ClickHouseError(41, "Code: 41. DB::Exception: Cannot parse datetime"), "data"),
    (TypeError("cannot store object"), "data"),
    (ClickHouseError(60, "Code: 60. DB::Exception: Unknown table"), "fatal"),
])
def test_classify(exc, expected):
    assert classify(exc) == expected


def test_code_of_reads_clickhouse_connect_messages_too():
    assert code_of("Received ClickHouse exception, code: 60, server response: Code: 60. DB::Exception: x") == 60
    assert code_of("no code here") == 0


def test_retriable_errors_are_retried_with_growing_bounded_delays():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise ClickHouseError(202, "Code: 202. DB::Exception: Too many simultaneous queries")
        return "ok"

    assert retrying(flaky, sleep=sleeps.append) == "ok"
    assert sleeps == [0.2, 0.4, 0.8]


def test_retries_give_up_after_the_last_attempt():
    sleeps = []
    with pytest.raises(ConnectionError):
        retrying(lambda: (_ for _ in ()).throw(ConnectionError("down")), attempts=3, sleep=sleeps.append)
    assert len(sleeps) == 2


def test_data_errors_are_not_retried():
    sleeps = []
    with pytest.raises(ClickHouseError):
        retrying(lambda: (_ for _ in ()).throw(ClickHouseError(27, "Code: 27.")), sleep=sleeps.append)
    assert sleeps == []
