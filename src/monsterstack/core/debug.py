"""The answer to an unexpected exception: JSON, never Starlette's HTML traceback page.

In DEV it carries the traceback (source lines and messages, never local variables) with every
secret masked (core.secrets); in PROD only a generic message. Either way the exception goes on
to the server, which logs it through the redacting log filter.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .secrets import format_exception


def add_internal_error_handler(app: FastAPI, dev: bool) -> None:
    """Register on an app built with `debug=False` (with debug on, Starlette ignores it)."""

    async def on_exception(_: Request, exc: Exception) -> Response:
        body: dict[str, object] = {
            "error": "internal_error",
            "message": "an unexpected error; it is in the service's log",
        }
        if dev:
            body["debug"] = format_exception(exc).splitlines()
        return JSONResponse(body, status_code=500, headers={"cache-control": "no-store"})

    app.add_exception_handler(Exception, on_exception)
