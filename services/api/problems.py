"""The one HTTP error format: RFC 9457 problem details, with reasons people can act on."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from cityops.errors import DependencyUnavailable
from services.ingest.normalise import RejectedReport

log = logging.getLogger(__name__)

TITLES = {
    400: "请求有误",
    404: "未找到",
    405: "方法不允许",
    409: "冲突",
    413: "请求过大",
    422: "数据校验失败",
    503: "服务暂不可用",
}


def problem(status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "错误"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field(tuple(e["loc"])), "reason": e["msg"]} for e in exc.errors()]
    summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:3])
    return problem(422, f"请求内容不符合要求: {summary}", errors)


async def _rejected(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RejectedReport)
    return problem(422, str(exc), [{"field": exc.field, "reason": str(exc)}])


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("dependency unavailable", extra={"error": str(exc)})
    response = problem(503, f"{exc}，请稍后重试（重试时请使用相同的幂等键）")
    response.headers["Retry-After"] = "5"
    return response


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    response = problem(exc.status_code, str(exc.detail))
    response.headers.update(exc.headers or {})  # Retry-After, WWW-Authenticate
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(RejectedReport, _rejected)
    app.add_exception_handler(DependencyUnavailable, _unavailable)
    app.add_exception_handler(HTTPException, _http)
