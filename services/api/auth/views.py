"""Sign-in (OAuth2 password flow), refresh, "who am I", and the admin's account routes."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cityops.contracts import Role
from cityops.contracts.users import USER_ID_PATTERN, UserRecord
from services.api.auth import passwords
from services.api.auth.accounts import (
    AccountExists,
    Accounts,
    AccountService,
    UnknownAccount,
    new_record,
)
from services.api.auth.deps import ROLE_LABELS, Admin, Caller
from services.api.auth.principal import OPERATOR, Principal
from services.api.auth.tokens import InvalidToken, TokenIssuer, TokenVerifier, principal_of
from services.api.sensors.ratelimit import Buckets, retry_after

router = APIRouter(prefix="/api/v1", tags=["people"])


class Me(BaseModel):
    user_id: str
    name: str | None
    role: Role
    role_label: str
    department: str | None = None
    town: str | None = None
    grids: list[str] = Field(default_factory=list)


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="访问令牌有效秒数")
    refresh_expires_in: int
    user: Me


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=20, max_length=4096)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(pattern=USER_ID_PATTERN)
    name: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=1, max_length=passwords.MAX_PASSWORD)
    department: str | None = Field(default=None, max_length=64)
    town: str | None = Field(default=None, max_length=64)
    grids: list[str] = Field(default_factory=list, max_length=200)


class UserPublic(Me):
    disabled: bool
    updated_at: str
    updated_by: str


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=passwords.MAX_PASSWORD)


class LoginGuard:
    """Failed sign-ins, limited per account and per client address (bounded memory)."""

    def __init__(self, attempts: int, window_s: float) -> None:
        rate = attempts / window_s
        self.accounts = Buckets(rate, attempts)
        self.addresses = Buckets(rate * 4, attempts * 4)

    def wait(self, user_id: str, address: str, now: float) -> float:
        return max(self.accounts.wait(user_id, 1, now), self.addresses.wait(address, 1, now))

    def failed(self, user_id: str, address: str, now: float) -> None:
        self.accounts.take(user_id, 1, now)
        self.addresses.take(address, 1, now)


def me_of(principal: Principal) -> Me:
    return Me(
        user_id=principal.user_id,
        name=principal.name,
        role=principal.role,
        role_label=ROLE_LABELS.get(principal.role, principal.role.value),
        department=principal.department,
        town=principal.town,
        grids=list(principal.grids),
    )


def public(record: UserRecord) -> UserPublic:
    return UserPublic(
        **me_of(principal_of(record)).model_dump(),
        disabled=record.disabled,
        updated_at=record.updated_at.isoformat(),
        updated_by=record.updated_by,
    )


def _issuer(request: Request) -> TokenIssuer:
    issuer: TokenIssuer | None = request.app.state.issuer
    if issuer is None:
        raise HTTPException(404, "本系统使用外部身份提供方登录（OIDC），请在那里登录")
    return issuer


def _accounts(request: Request) -> Accounts:
    if not request.app.state.accounts_loaded.is_set():
        raise HTTPException(503, "账号数据加载中，请稍后再试", headers={"Retry-After": "2"})
    accounts: Accounts = request.app.state.accounts
    return accounts


def _service(request: Request) -> AccountService:
    _accounts(request)
    service: AccountService = request.app.state.account_service
    return service


Service = Annotated[AccountService, Depends(_service)]


def _tokens(request: Request, record: UserRecord) -> Tokens:
    pair = _issuer(request).issue(record)
    return Tokens(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        refresh_expires_in=pair.refresh_expires_in,
        user=me_of(principal_of(record)),
    )


@router.post("/auth/token", response_model=Tokens, summary="登录（OAuth2 密码模式）")
async def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Tokens:
    _issuer(request)
    accounts = _accounts(request)
    guard: LoginGuard = request.app.state.login_guard
    user_id = form.username.strip().lower()[:64]
    address = request.client.host if request.client else "-"
    now = time.monotonic()
    wait = guard.wait(user_id, address, now)
    if wait > 0:
        raise HTTPException(
            429,
            f"登录失败次数过多，请 {retry_after(wait)} 秒后再试",
            headers={"Retry-After": str(retry_after(wait))},
        )
    record = accounts.get(user_id)
    ok = passwords.verify(record.password_hash if record else None, form.password)
    if record is None or not ok or record.disabled:
        guard.failed(user_id, address, now)
        reason = "账号已停用" if ok and record and record.disabled else "用户名或密码错误"
        raise HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})
    return _tokens(request, record)


@router.post("/auth/refresh", response_model=Tokens, summary="用刷新令牌换取新令牌")
async def refresh(request: Request, body: RefreshIn) -> Tokens:
    _issuer(request)
    accounts = _accounts(request)
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = verifier.verify(body.refresh_token, "refresh")
    except InvalidToken as exc:
        raise HTTPException(401, f"刷新令牌无效：{exc}") from exc
    record = accounts.get(principal.user_id)
    assert record is not None  # the verifier just read it
    return _tokens(request, record)


@router.post(
    "/auth/logout",
    status_code=204,
    summary="在所有设备上退出",
    description="此前签发给本人的访问令牌和刷新令牌全部失效（手机丢失、在公用电脑上登录过）；"
    "重新登录即可继续使用。",
)
async def logout_everywhere(request: Request, principal: Caller, service: Service) -> None:
    _issuer(request)
    if principal is OPERATOR or service.accounts.get(principal.user_id) is None:
        raise HTTPException(400, "运维令牌不是登录会话，无需退出")
    await _change(service.sign_out(principal.user_id, principal.user_id))


@router.get("/auth/me", response_model=Me, summary="当前登录用户")
async def me(principal: Caller) -> Me:
    return me_of(principal)


@router.get("/users", response_model=list[UserPublic], summary="用户列表（管理员）")
async def list_users(_: Admin, request: Request, role: Role | None = None) -> list[UserPublic]:
    return [public(u) for u in _accounts(request).all(role)]


@router.post("/users", response_model=UserPublic, status_code=201, summary="新建用户（管理员）")
async def add_user(principal: Admin, body: UserCreate, service: Service) -> UserPublic:
    try:
        record = new_record(
            body.user_id,
            body.name,
            body.role,
            body.password,
            by=principal.user_id,
            department=body.department,
            town=body.town,
            grids=tuple(body.grids),
        )
    except passwords.WeakPassword as exc:
        raise HTTPException(422, str(exc)) from exc
    except ValidationError as exc:
        raise HTTPException(422, _first_error(exc)) from exc
    try:
        return public(await service.add(record))
    except AccountExists as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/users/{user_id}/disable", response_model=UserPublic, summary="停用用户（管理员）")
async def disable_user(principal: Admin, user_id: str, service: Service) -> UserPublic:
    return await _change(service.set_disabled(user_id, True, principal.user_id))


@router.post("/users/{user_id}/enable", response_model=UserPublic, summary="启用用户（管理员）")
async def enable_user(principal: Admin, user_id: str, service: Service) -> UserPublic:
    return await _change(service.set_disabled(user_id, False, principal.user_id))


@router.post(
    "/users/{user_id}/sign-out",
    response_model=UserPublic,
    summary="强制下线（管理员）",
    description="该用户此前的令牌全部失效，须重新登录；账号仍可用（要停用请用 disable）。",
)
async def sign_out_user(principal: Admin, user_id: str, service: Service) -> UserPublic:
    return await _change(service.sign_out(user_id, principal.user_id))


@router.put("/users/{user_id}/password", response_model=UserPublic, summary="重设密码（管理员）")
async def reset_password(
    principal: Admin, user_id: str, body: PasswordIn, service: Service
) -> UserPublic:
    try:
        return await _change(service.set_password(user_id, body.password, principal.user_id))
    except passwords.WeakPassword as exc:
        raise HTTPException(422, str(exc)) from exc


async def _change(change: Awaitable[UserRecord]) -> UserPublic:
    try:
        record = await change
    except UnknownAccount as exc:
        raise HTTPException(404, str(exc)) from exc
    return public(record)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return str(error.get("msg", "参数无效")).removeprefix("Value error, ")
