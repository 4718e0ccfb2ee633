"""FastAPI dependencies: the caller's principal, and the roles a route admits.

``Authorization: Bearer <token>`` is checked by the app's :class:`TokenVerifier`
(``app.state.verifier``). ``X-Admin-Token`` (``CITYOPS_ADMIN_TOKEN``) is the operator's
credential for automation and first setup: it acts as an ``admin``. No credential is 401,
a credential for the wrong role is 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer

from cityops.contracts import Role
from services.api.auth.principal import OPERATOR, Principal
from services.api.auth.tokens import InvalidToken, TokenVerifier

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def verifier(request: Request) -> TokenVerifier:
    found: TokenVerifier = request.app.state.verifier
    return found


async def current_principal(
    request: Request,
    token: Annotated[str | None, Depends(bearer)],
    x_admin_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    if token:
        try:
            return verifier(request).verify(token)
        except InvalidToken as exc:
            raise HTTPException(401, f"未登录或登录已失效：{exc}", headers=CHALLENGE) from exc
    admin = request.app.state.admin_token
    if x_admin_token is not None and admin is not None:
        if hmac.compare_digest(x_admin_token.encode(), admin.get_secret_value().encode()):
            return OPERATOR
        raise HTTPException(401, "X-Admin-Token 不正确")
    raise HTTPException(401, "请先登录（Authorization: Bearer <令牌>）", headers=CHALLENGE)


Caller = Annotated[Principal, Depends(current_principal)]

ROLE_LABELS = {
    Role.GRID_WORKER: "网格员",
    Role.DISPATCHER: "派遣员",
    Role.DEPARTMENT: "处置部门",
    Role.MANAGER: "管理者",
    Role.ADMIN: "系统管理员",
}


def require(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting only ``roles``: ``Annotated[Principal, Depends(require(...))]``."""
    admitted = frozenset(roles)
    names = "、".join(ROLE_LABELS.get(r, r.value) for r in roles)

    async def check(principal: Caller) -> Principal:
        if principal.role not in admitted:
            raise HTTPException(403, f"无权访问：仅限{names}（当前角色 {principal.role.value}）")
        return principal

    return check


# The admission sets the routes use (docs/security.md prints the whole matrix).
STAFF = (Role.DISPATCHER, Role.MANAGER, Role.ADMIN)  # read the whole area
ANYONE = (Role.GRID_WORKER, Role.DISPATCHER, Role.DEPARTMENT, Role.MANAGER, Role.ADMIN)
Staff = Annotated[Principal, Depends(require(*STAFF))]
Person = Annotated[Principal, Depends(require(*ANYONE))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Operators = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.ADMIN))]
Reporter = Annotated[Principal, Depends(require(Role.GRID_WORKER, Role.DISPATCHER, Role.ADMIN))]
# who acts on cases at all (which command, on which case: services/api/auth/scope.py)
Actors = Annotated[
    Principal,
    Depends(require(Role.GRID_WORKER, Role.DISPATCHER, Role.DEPARTMENT, Role.ADMIN)),
]
GridWorker = Annotated[Principal, Depends(require(Role.GRID_WORKER))]
