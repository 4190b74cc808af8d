"""An experiment, not a setting of the service: big renders through a thread pool of N.

The imagebackend sends renders over INLINE_RENDER_MAX_PIXELS to anyio's default thread
limiter (40 threads). With 16 big renders in flight, 16 threads then contend for the GIL with
the event loop, and small requests wait for it. This factory wraps the service's own and
sets that limiter to BENCH_THREAD_TOKENS, to measure what a dedicated small pool would give.
"""

from __future__ import annotations

import os
from typing import Any

import anyio.to_thread

TOKENS_ENV = "BENCH_THREAD_TOKENS"


def factory() -> Any:
    from monsterstack.imagebackend.app import app_from_env

    app = app_from_env()
    tokens = int(os.environ[TOKENS_ENV])
    limited = False

    async def limited_app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal limited
        if not limited:  # the limiter belongs to the running event loop: set it from inside
            anyio.to_thread.current_default_thread_limiter().total_tokens = tokens
            limited = True
        await app(scope, receive, send)

    return limited_app
