"""One log format for every role: readable lines, or JSON lines with SWITCHBOARD_LOG_FORMAT=json.

Every role's startup calls `setup_logging(settings, role)`; the worker hands `logging_config(...)`
to faust's Worker instead, which applies it with dictConfig where it would install its own
handlers. Both formats carry the time (UTC), level, logger, role, message and exception text.
"""
from __future__ import annotations

import json
import logging
import logging.config
from datetime import datetime, timezone

TEXT = "%(asctime)s %(levelname)s %(role)s %(name)s: %(message)s"


class RoleFilter(logging.Filter):
    """Stamps each record with the process's role (the formatters print it)."""

    def __init__(self, role: str):
        super().__init__()
        self.role = role

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = self.role
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-02T18:40:47.123Z INFO sink switchboard.sink: message`, then any traceback."""

    def __init__(self):
        super().__init__(TEXT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        return _utc(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, role, message, and exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": _utc(record.created), "level": record.levelname, "logger": record.name,
                "role": getattr(record, "role", ""), "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def logging_config(settings, role: str) -> dict:
    """The dictConfig of a role: one stderr handler in the settings' format and level."""
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"role": {"()": RoleFilter, "role": role}},
        "formatters": {"switchboard": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "switchboard", "filters": ["role"]}},
        "root": {"level": settings.log_level, "handlers": ["stderr"]},
    }


def setup_logging(settings, role: str) -> None:
    """Configure the process's logging for `role` (replaces any handler already on the root logger)."""
    logging.config.dictConfig(logging_config(settings, role))
