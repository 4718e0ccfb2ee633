"""Request-size limit: a body larger than the limit is answered 413 (problem details).

Checked twice: from ``Content-Length`` before the app runs (nothing is read), and while the
body streams in (a chunked body, or a ``Content-Length`` that lies), so no route ever
buffers more than its limit.

The limit is ``max_bytes`` everywhere but on the paths given a larger one, either to
:class:`BodyLimit` (``overrides``) or by the package that owns the route, with
:func:`allow_larger_body` (the photo upload: ``photo_max_bytes`` and the multipart framing).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.problems import problem

STATE_KEY = "body_limits"  # app.state.body_limits: path → bytes


def too_large(max_bytes: int) -> str:
    return (
        f"请求体过大：最多 {max_bytes // 1024} KiB，"
        "请精简内容或分多次提交（照片请先上传，只提交地址）"
    )


def allow_larger_body(app: Starlette, path: str, max_bytes: int) -> None:
    """Lets requests to exactly ``path`` carry up to ``max_bytes`` (read per request)."""
    current: dict[str, int] = dict(getattr(app.state, STATE_KEY, None) or {})
    current[path] = max_bytes
    setattr(app.state, STATE_KEY, current)


class BodyLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int, overrides: Mapping[str, int] | None = None
    ) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.overrides = dict(overrides or {})

    def limit(self, scope: Scope) -> int:
        path = scope.get("path", "")
        if path in self.overrides:
            return self.overrides[path]
        owner = scope.get("app")
        registered: Mapping[str, int] = getattr(getattr(owner, "state", None), STATE_KEY, {})
        return registered.get(path, self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            response = problem(413, too_large(max_bytes))
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    # FastAPI re-raises an HTTPException met while reading the body, and
                    # the problem handler (services/api/problems.py) answers it.
                    raise HTTPException(413, too_large(max_bytes))
            return message

        await self.app(scope, counted, send)
