"""Structured logs: one JSON line per event, with tenant and conversation ids."""

from __future__ import annotations

import json
import logging
import sys

CONTEXT_FIELDS = ("tenant_id", "conversation_id", "handoff", "status", "error", "duration_ms")


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "logger": record.name,
        }
        event.update({k: getattr(record, k) for k in CONTEXT_FIELDS if hasattr(record, k)})
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False, default=str)


def configure_logging(debug: bool = False) -> None:
    """Send every log record to stderr as a JSON line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("httpx", "httpcore", "aiosqlite", "LiteLLM", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
