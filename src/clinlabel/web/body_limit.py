"""A cap on request bodies: nothing this server accepts is larger than a label with its comment.

Without it a 300 MB PUT was read whole into memory, parsed, and echoed back in the 422. A body
whose Content-Length is over the cap is answered 413 before any byte of it is read; a body sent
without one (chunked) is counted as it arrives and refused as soon as it passes the cap.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The largest legitimate body is a label with a 10,000-character comment (60 KB as JSON escapes).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class BodyTooLargeError(HTTPException):
    """Raised from `receive` once a chunked body passes the cap.

    An `HTTPException`, because FastAPI turns any other error met while reading a body into a
    400 "error parsing the body"; `web.errors` renders it like every other refusal.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


def too_large_message(limit: int) -> str:
    return (
        f"The request is larger than this server accepts ({limit // 1024} KiB); nothing was "
        "saved. Shorten the comment and try again."
    )


class BodyLimit:
    """Pure ASGI middleware (it must see the body before any framework reads it)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            # Read outside FastAPI's body parsing (a raw stream): answer here if still possible.
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"error": "too_large", "message": too_large_message(self.max_bytes)}
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                    # The rest of the body is not read: the client must not reuse the connection.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
