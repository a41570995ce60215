"""ASGI middleware: request body size limit and security headers."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by header or while streaming.

    File uploads (``upload_paths``, matched exactly, or ``upload_patterns``, regular expressions
    matching the whole path) may be up to ``upload_max_bytes`` instead.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_paths: tuple[str, ...] = (),
        upload_max_bytes: int | None = None,
        upload_patterns: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.default_max = max_bytes
        self.upload_paths = frozenset(upload_paths)
        self.upload_patterns = tuple(re.compile(p) for p in upload_patterns)
        self.upload_max = upload_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        is_upload = scope.get("method") == "POST" and (
            path in self.upload_paths or any(p.fullmatch(path) for p in self.upload_patterns)
        )
        limit = self.upload_max if is_upload else self.default_max
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    await _json(send, 400, "Malformed Content-Length header.")
                    return
                if too_big:
                    await _json(send, 413, _message(max_bytes))
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _json(send, 413, _message(max_bytes))


def _message(max_bytes: int) -> str:
    return f"Request body too large (limit {max_bytes} bytes)."


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
]


class SecurityHeaders:
    """Add conservative security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, add_headers)  # type: ignore[arg-type]
