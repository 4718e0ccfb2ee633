"""Request-size limit: a body larger than ``max_bytes`` is answered 413 (problem details).

Checked twice: from ``Content-Length`` before the app runs (nothing is read), and while the
body streams in (a chunked body, or a ``Content-Length`` that lies), so no route ever
buffers more than ``max_bytes``.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.problems import problem


def too_large(max_bytes: int) -> str:
    return (
        f"请求体过大：最多 {max_bytes // 1024} KiB，"
        "请精简内容或分多次提交（照片请先上传，只提交地址）"
    )


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = problem(413, too_large(self.max_bytes))
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI re-raises an HTTPException met while reading the body, and
                    # the problem handler (services/api/problems.py) answers it.
                    raise HTTPException(413, too_large(self.max_bytes))
            return message

        await self.app(scope, counted, send)
