"""Access and refresh tokens (JWT), and the verifier that turns a token into a principal.

The API trusts one :class:`TokenVerifier`. :class:`LocalVerifier` checks the tokens this
API issues itself (HS256 with ``CITYOPS_AUTH_SECRET``) against the account store on every
request, so that a disabled account or a changed password stops working at once, not when
its token expires. :class:`OidcVerifier` checks an external provider's tokens (RS256/ES256
from its JWKS) instead: the swap is one setting, ``CITYOPS_OIDC_ISSUER`` (docs/security.md).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import jwt

from cityops.contracts import Role
from cityops.contracts.users import UserRecord
from services.api.auth.principal import Principal

ISSUER = "cityops"
AUDIENCE = "cityops-api"
ALGORITHM = "HS256"
Kind = Literal["access", "refresh"]


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or its account no longer allows it."""


class Accounts(Protocol):
    def get(self, user_id: str) -> UserRecord | None: ...


def password_version(record: UserRecord) -> str:
    """Changes whenever the password does: tokens issued before a change stop working."""
    return hashlib.sha256(record.password_hash.encode()).hexdigest()[:12]


def session_version(record: UserRecord) -> str:
    """Changes whenever the person signs out everywhere: tokens issued before stop working
    (``""`` for an account never signed out, which tokens without the claim match)."""
    if record.signed_out_at is None:
        return ""
    return hashlib.sha256(record.signed_out_at.isoformat().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "bearer"


class TokenIssuer:
    def __init__(self, secret: bytes, access_ttl_s: int, refresh_ttl_s: int) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret needs at least 32 bytes")
        self.secret, self.access_ttl_s, self.refresh_ttl_s = secret, access_ttl_s, refresh_ttl_s

    def issue(self, record: UserRecord, now: float | None = None) -> TokenPair:
        now = time.time() if now is None else now
        return TokenPair(
            access_token=self._token(record, "access", self.access_ttl_s, now),
            refresh_token=self._token(record, "refresh", self.refresh_ttl_s, now),
            expires_in=self.access_ttl_s,
            refresh_expires_in=self.refresh_ttl_s,
        )

    def _token(self, record: UserRecord, kind: Kind, ttl_s: int, now: float) -> str:
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": record.user_id,
            "typ": kind,
            "role": record.role.value,
            "pwv": password_version(record),
            "sv": session_version(record),
            "iat": int(now),
            "exp": int(now) + ttl_s,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)


class TokenVerifier(Protocol):
    def verify(self, token: str, kind: Kind = "access") -> Principal: ...


def principal_of(record: UserRecord) -> Principal:
    return Principal(
        user_id=record.user_id,
        role=record.role,
        name=record.name,
        department=record.department,
        town=record.town,
        grids=record.grids,
    )


class LocalVerifier:
    """Tokens from :class:`TokenIssuer`, checked against the current account record."""

    def __init__(self, secret: bytes, accounts: Accounts) -> None:
        self.secret, self.accounts = secret, accounts

    def verify(self, token: str, kind: Kind = "access") -> Principal:
        claims = _decode(token, self.secret, [ALGORITHM], ISSUER, AUDIENCE)
        if claims.get("typ") != kind:
            raise InvalidToken(f"需要 {kind} 令牌")
        record = self.accounts.get(str(claims.get("sub")))
        if record is None or record.disabled:
            raise InvalidToken("账号不存在或已停用")
        if claims.get("pwv") != password_version(record):
            raise InvalidToken("密码已更改，请重新登录")
        if claims.get("sv", "") != session_version(record):
            raise InvalidToken("已在所有设备上退出，请重新登录")
        return principal_of(record)


class OidcVerifier:
    """An external OpenID Connect provider's access tokens, keys from its JWKS.

    The role and bindings come from claims (``cityops_role``, ``department``, ``town``,
    ``grids`` by default), which the provider maps from its groups. Refresh is the
    provider's business: this verifier accepts access tokens only.
    """

    def __init__(
        self, issuer: str, audience: str, jwks_url: str, role_claim: str = "cityops_role"
    ) -> None:
        self.issuer, self.audience, self.role_claim = issuer, audience, role_claim
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600)

    def verify(self, token: str, kind: Kind = "access") -> Principal:
        if kind != "access":
            raise InvalidToken("令牌由外部身份提供方签发，请在那里刷新")
        try:
            key = self.jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"令牌签名密钥无法获取：{exc}") from exc
        claims = _decode(token, key, ["RS256", "ES256"], self.issuer, self.audience)
        try:
            role = Role(str(claims.get(self.role_claim)))
        except ValueError as exc:
            raise InvalidToken("令牌未给出有效角色") from exc
        grids = claims.get("grids") or ()
        return Principal(
            user_id=str(claims.get("preferred_username") or claims["sub"]),
            role=role,
            name=claims.get("name"),
            department=claims.get("department"),
            town=claims.get("town"),
            grids=tuple(str(g) for g in grids),
        )


def _decode(
    token: str, key: Any, algorithms: list[str], issuer: str, audience: str
) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("令牌已过期") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"令牌无效：{exc}") from exc
    return claims
