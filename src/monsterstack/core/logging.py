"""Logging: readable lines in DEV, one JSON object per line in PROD; secrets masked in both."""

from __future__ import annotations

import json
import logging
import sys
import time

from .secrets import install_log_filter
from .settings import Context


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            out.update(extra)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


def configure(context: Context, level: str = "info", service: str = "monsterstack") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if context is Context.PROD:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {service} %(levelname)-7s %(name)s: %(message)s")
        )
    # No secret in any line: URL passwords and the settings' secrets masked (core.secrets).
    install_log_filter(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO, and our URLs carry names: names stay out of logs.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
