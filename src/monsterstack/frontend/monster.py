"""GET/HEAD /monster/{name} on the frontend: a 304, the picture through the cache, or a 503."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from ..core.asgi import error_body, send_refusal, send_response
from ..core.monster_request import answer_early
from ..generator import DEFAULT_STYLE, DEFAULT_THEME, Theme
from .images import BackendBusy, BackendUnavailable, Images

UNAVAILABLE = error_body(
    "imagebackend_unavailable",
    "the image backend is not answering; the picture will be back shortly",
)
BUSY = error_body("busy", "too many new pictures are being drawn right now; retry in a second")


class MonsterEndpoint:
    """A plain ASGI endpoint: the request's identity is parsed once (`answer_early`), and the
    ETag, the cache key and the backend's URL all come from it."""

    def __init__(self, images: Images, theme: Theme = DEFAULT_THEME) -> None:
        self.images = images
        self.theme = theme

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        req = await answer_early(scope, send, DEFAULT_STYLE, self.theme)
        if req is None:
            return
        head = scope["method"] == "HEAD"
        body = self.images.hot_hit(req)
        tag = None
        if body is None:
            try:
                body, tag = await self.images.fetch(req)
            except BackendUnavailable as exc:
                busy = isinstance(exc, BackendBusy)
                await send_refusal(
                    send,
                    503,
                    BUSY if busy else UNAVAILABLE,
                    [(b"retry-after", b"1" if busy else b"2")],
                    head=head,
                )
                return
        # A picture from a backend of another version carries that version's tag, honestly.
        headers = req.headers(tag)
        await send_response(send, 200, headers, body, head=head, content_type=req.content_type)
