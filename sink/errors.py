"""ClickHouse errors classified once: retry in place, dead-letter the record, or stop the sink."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Transient server conditions: the same insert succeeds later (ClickHouse src/Common/ErrorCodes.cpp).
RETRIABLE_CODES = {
    159,  # TIMEOUT_EXCEEDED
    164,  # READONLY (replica in read-only mode during a restart)
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    236,  # ABORTED
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    252,  # TOO_MANY_PARTS (merges will catch up)
    285,  # TOO_FEW_LIVE_REPLICAS
    319,  # UNKNOWN_STATUS_OF_INSERT
    394,  # QUERY_WAS_CANCELLED
    425,  # SYSTEM_ERROR
    473,  # DEADLOCK_AVOIDED
    999,  # KEEPER_EXCEPTION
    1000,  # POCO_EXCEPTION (connection reset and friends)
}
# The rows themselves are wrong: split the batch, dead-letter the records that fail alone.
DATA_CODES = {
    6,  # CANNOT_PARSE_TEXT
    26,  # CANNOT_PARSE_QUOTED_STRING
    27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    38,  # CANNOT_PARSE_DATE
    41,  # CANNOT_PARSE_DATETIME
    53,  # TYPE_MISMATCH
    69,  # ARGUMENT_OUT_OF_BOUND
    70,  # CANNOT_CONVERT_TYPE
    72,  # CANNOT_PARSE_NUMBER
    117,  # INCORRECT_DATA
    131,  # TOO_LARGE_STRING_SIZE
    321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
}
_CODE = re.compile(r"Code: (\d+)\.")


class ClickHouseError(Exception):
    """An error ClickHouse (server or embedded) reported, with its numeric code."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def code_of(message: str) -> int:
    """The `Code: N.` of a ClickHouse exception text (0 when absent)."""
    match = _CODE.search(message)
    return int(match.group(1)) if match else 0


def classify(exc: BaseException) -> str:
    """`retry`, `data` or `fatal` for an exception raised while writing rows."""
    if isinstance(exc, ClickHouseError):
        if exc.code in RETRIABLE_CODES:
            return "retry"
        return "data" if exc.code in DATA_CODES else "fatal"
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return "retry"
    # Rows a client cannot even serialize (clickhouse-connect raises these before sending).
    return "data" if isinstance(exc, (TypeError, ValueError)) else "fatal"


def retrying(action: Callable[[], T], attempts: int = 6, base_delay: float = 0.2,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `action`, retrying retriable errors in place with bounded exponential backoff."""
    for attempt in range(attempts):
        try:
            return action()
        except Exception as exc:
            if classify(exc) != "retry" or attempt == attempts - 1:
                raise
            sleep(min(base_delay * 2 ** attempt, 5.0))
    raise AssertionError("unreachable")
