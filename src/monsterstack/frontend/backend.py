"""The imagebackend client: httpx with pooled connections, a timeout on every call, and an
injectable transport (tests of the layer above can hand it an in-process app)."""

from __future__ import annotations

import asyncio

import httpx

from ..core.monster_request import MonsterRequest


class BackendUnavailable(Exception):
    """The imagebackend did not give the picture (down, slow, or an error)."""


class ImageBackend:
    def __init__(
        self,
        base_url: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=transport,
        )

    async def fetch(self, req: MonsterRequest) -> tuple[bytes, str | None]:
        """(the image bytes, the backend's ETag) for exactly this request."""
        try:
            # One deadline for the whole call: httpx's timeouts are per step (a wait for a
            # pooled connection, then the read), which let a call to a hung backend take
            # nearly twice BACKEND_TIMEOUT (measured: 1.9 s with 1 s).
            async with asyncio.timeout(self.timeout):
                response = await self.client.get(req.path, params=req.query)
        except TimeoutError as exc:
            raise BackendUnavailable(f"no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"{type(exc).__name__} calling the imagebackend") from exc
        if response.status_code != 200:
            raise BackendUnavailable(f"the imagebackend answered {response.status_code}")
        return response.content, response.headers.get("etag")

    async def alive(self) -> tuple[bool, str]:
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.get("/livez")
        except TimeoutError:
            return False, f"no answer within {self.timeout:g} s at {self.base_url}"
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__} at {self.base_url}"
        return response.status_code == 200, f"{self.base_url} answered {response.status_code}"

    async def close(self) -> None:
        await self.client.aclose()
