"""``PARAPH_LOG_FORMAT=json``: one JSON object per line (time, level, logger, message, and the request's id,
account id and signature request id when the line belongs to a request), on every handler of the root logger
and of uvicorn. The secret-redacting filter (:mod:`paraph.logredact`) runs first, so JSON lines are redacted
like text ones."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from paraph.ops import context


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(context.current())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def use_json(*loggers: logging.Logger) -> None:
    """Format every handler of the root logger (and of ``loggers``) as JSON lines."""
    formatter = JsonFormatter()
    for logger in (logging.getLogger(), *loggers):
        for handler in logger.handlers:
            handler.setFormatter(formatter)


def uvicorn_json(config: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging configuration (``logredact.uvicorn_log_config()``) with JSON formatters."""
    for name in list(config.get("formatters", {})):
        config["formatters"][name] = {"()": JsonFormatter}
    return config
