"""Secrets kept out of everything the services print or answer: logs, error messages, pages.

Three nets, each applied by `redact`: a URL's userinfo (`redis://:PASSWORD@host` ->
`redis://***@host`), `password=`-style query or key=value pairs, and every secret value the
settings loaded (registered by core.settings.load: SecretStr fields, URL passwords). Values
shorter than 4 characters are not searched for by value (they would blank common words); the
URL and key=value nets still catch them where they are written as such.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "***"
MIN_KNOWN = 4

_SECRET_WORDS = r"pass(?:word|wd)?|pwd|secret(?:[-_]?key)?|token|api[-_]?key|private[-_]?key"
_SECRET_NAME = re.compile(rf"(?:^|[-_.])(?:{_SECRET_WORDS}|credentials?|auth)(?:$|[-_.])", re.I)
# scheme://user:password@ or scheme://password@ (greedy to the last @ before the path: a
# password holding an unescaped @ is masked whole). Without a scheme, ':password@' too.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@")
_BARE_USERINFO = re.compile(r":(?!//\*\*\*@)[^\s@]*@")
_PAIR = re.compile(
    rf"(?P<key>\b[\w-]*?(?:{_SECRET_WORDS}))"
    r"(?P<sep>['\"]?\s*[=:]\s*['\"]?)(?P<value>[^\s&'\",;)}]+)",
    re.I,
)

_known: set[str] = set()
_lock = threading.Lock()


def is_secret_name(name: str) -> bool:
    """Whether a setting or field name says it holds a secret (REDIS_PASSWORD, api_token...)."""
    return bool(_SECRET_NAME.search(name))


def register(*values: str | None) -> None:
    """Remembers secret values, so `redact` masks them wherever they turn up."""
    with _lock:
        for value in values:
            if value and len(value) >= MIN_KNOWN:
                _known.add(value)
                decoded = unquote(value)
                if len(decoded) >= MIN_KNOWN:
                    _known.add(decoded)


def url_password(url: str) -> str | None:
    """The password in a URL's userinfo, if any (decoded), without raising on bad URLs."""
    try:
        password = urlsplit(url).password
    except ValueError:
        match = re.search(r"://[^/?#]*?:([^@/?#]*)@", url)
        password = match.group(1) if match else None
    return unquote(password) if password else None


def redact(text: str) -> str:
    """`text` with URL userinfo, password=... pairs and every registered secret masked."""
    if not text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _BARE_USERINFO.sub(f":{MASK}@", text)
    text = _PAIR.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_value(value: Any, name: str = "") -> Any:
    """A copy of `value` (str, dict, list, tuple, anything) safe to print: secret-named fields
    masked whole, strings through `redact`, other values through their repr."""
    if name and is_secret_name(name) and value not in (None, ""):
        return MASK
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(repr(value))


def format_exception(exc: BaseException) -> str:
    """The traceback text (source lines and messages, no locals), redacted."""
    return redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's message, exception text and structured fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw message, still redacted
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = format_exception(record.exc_info[1]).rstrip("\n")
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = redact_value(fields)
        return True


def install_log_filter(handler: logging.Handler) -> None:
    """On our handler, and on granian's own loggers (they do not propagate to the root)."""
    handler.addFilter(RedactingFilter())
    for name in ("_granian", "granian.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
