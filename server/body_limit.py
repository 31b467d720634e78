"""A cap on the size of every request body, with or without a Content-Length."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 60 * 1024 * 1024
CLOSE = (b"connection", b"close")


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes the limit; the app's own answer is dropped."""


def too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body larger than {limit} bytes"}, status_code=413)


class BodySizeLimit:
    """Answer 413 to a body over `limit` bytes: before reading it when its Content-Length
    says so, else as soon as the bytes read pass the limit (a chunked body has no length).

    An answer given before the body was read to its end closes the connection, so the
    client stops uploading what nobody will read (the server would otherwise drain it).
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length", "")
        announced = "transfer-encoding" in headers or (length.isdigit() and int(length) > 0)
        received = 0
        read_to_end = not announced
        exceeded = answered = False

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not read_to_end:
                message = {**message, "headers": [*message.get("headers", []), CLOSE]}
            await send(message)

        if length.isdigit() and int(length) > self.limit:
            await too_large(self.limit)(scope, receive, closing_send)
            return

        async def counting_receive() -> Message:
            nonlocal received, exceeded, read_to_end
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                read_to_end = not message.get("more_body", False)
                if received > self.limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if exceeded:
                return  # whatever the app answers to a body cut short, the answer is 413
            answered = True
            await closing_send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not answered:
            await too_large(self.limit)(scope, receive, closing_send)
