"""Security headers on every response of the frontend, 429s and 503s included."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
_CSP_NAME = b"content-security-policy"
_NAMES = frozenset(name for name, _ in SECURITY_HEADERS) | {_CSP_NAME}


class SecurityHeaders:
    """Security headers on every response, the strict CSP among them. A header the response
    sets itself (an SVG's own CSP, the docs page's, see core/docs.py) is kept, not repeated."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.extra = [*SECURITY_HEADERS, (_CSP_NAME, CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.extra

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # Header names are lowercase in ASGI (Starlette's and ours alike).
                present = {k for k, _ in headers if k in _NAMES}
                headers += [h for h in extra if h[0] not in present] if present else extra
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
