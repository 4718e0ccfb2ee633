"""Tokens and passwords, without I/O: what a token proves and when it stops proving it."""

from __future__ import annotations

import time

import jwt
import pytest

from cityops.contracts import Role
from services.api.auth import passwords
from services.api.auth.accounts import Accounts, new_record
from services.api.auth.tokens import InvalidToken, LocalVerifier, TokenIssuer

SECRET = b"s" * 32


def accounts_with(*records):  # type: ignore[no-untyped-def]
    accounts = Accounts()
    for r in records:
        accounts.apply(r)
    return accounts


def dept() -> object:
    return new_record("d1", "部门甲", Role.DEPARTMENT, "Passw0rd!", "t", "water", "nanhui_xincheng")


def test_an_issued_token_gives_the_account_its_role_and_binding() -> None:
    record = dept()
    pair = TokenIssuer(SECRET, 900, 3600).issue(record)  # type: ignore[arg-type]
    principal = LocalVerifier(SECRET, accounts_with(record)).verify(pair.access_token)
    assert (principal.user_id, principal.role) == ("d1", Role.DEPARTMENT)
    assert (principal.department, principal.town) == ("water", "nanhui_xincheng")
    assert principal.actor().id == "d1"


def test_a_refresh_token_is_no_access_token_and_the_reverse() -> None:
    record = dept()
    pair = TokenIssuer(SECRET, 900, 3600).issue(record)  # type: ignore[arg-type]
    verifier = LocalVerifier(SECRET, accounts_with(record))
    with pytest.raises(InvalidToken):
        verifier.verify(pair.refresh_token)
    with pytest.raises(InvalidToken):
        verifier.verify(pair.access_token, "refresh")
    assert verifier.verify(pair.refresh_token, "refresh").user_id == "d1"


def test_expired_forged_disabled_and_re_passworded_tokens_are_refused() -> None:
    record = dept()
    issuer = TokenIssuer(SECRET, 900, 3600)
    old = issuer.issue(record, now=time.time() - 1000).access_token  # type: ignore[arg-type]
    fresh = issuer.issue(record).access_token  # type: ignore[arg-type]
    accounts = accounts_with(record)
    verifier = LocalVerifier(SECRET, accounts)
    with pytest.raises(InvalidToken, match="过期"):
        verifier.verify(old)
    forged = jwt.encode({"sub": "d1", "typ": "access"}, b"x" * 32, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verifier.verify(forged)
    with pytest.raises(InvalidToken):  # alg "none" is never accepted
        verifier.verify(jwt.encode({"sub": "d1"}, None, algorithm="none"))  # type: ignore[arg-type]
    later = record.updated_at.replace(year=record.updated_at.year + 1)  # type: ignore[attr-defined]
    accounts.apply(record.model_copy(update={"disabled": True, "updated_at": later}))  # type: ignore[attr-defined]
    with pytest.raises(InvalidToken, match="停用"):
        verifier.verify(fresh)
    changed = new_record(
        "d1", "部门甲", Role.DEPARTMENT, "0therPass!", "t", "water", "nanhui_xincheng"
    )
    accounts.apply(changed.model_copy(update={"updated_at": later.replace(year=later.year + 1)}))
    with pytest.raises(InvalidToken, match="密码"):
        verifier.verify(fresh)


def test_signing_out_everywhere_ends_the_tokens_issued_before_and_not_later_ones() -> None:
    record = dept()
    issuer = TokenIssuer(SECRET, 900, 3600)
    before = issuer.issue(record)  # type: ignore[arg-type]
    accounts = accounts_with(record)
    verifier = LocalVerifier(SECRET, accounts)
    assert verifier.verify(before.access_token).user_id == "d1"
    now = record.updated_at.replace(year=record.updated_at.year + 1)  # type: ignore[attr-defined]
    signed_out = record.model_copy(update={"signed_out_at": now, "updated_at": now})  # type: ignore[attr-defined]
    accounts.apply(signed_out)
    with pytest.raises(InvalidToken, match="所有设备"):
        verifier.verify(before.access_token)
    with pytest.raises(InvalidToken, match="所有设备"):
        verifier.verify(before.refresh_token, "refresh")
    after = issuer.issue(signed_out)
    assert verifier.verify(after.access_token).user_id == "d1"
    assert verifier.verify(after.refresh_token, "refresh").user_id == "d1"


def test_passwords_are_argon2id_and_weak_ones_are_refused() -> None:
    hashed = passwords.hash_password("Lingang-2026")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "Lingang-2026")
    assert not passwords.verify(hashed, "lingang-2026")
    assert not passwords.verify(None, "Lingang-2026")  # no such user: fails, same cost
    for weak in ("short1", "12345678901", "onlyletters"):
        with pytest.raises(passwords.WeakPassword):
            passwords.hash_password(weak)


def test_a_binding_the_role_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="department"):
        new_record("x1", "某", Role.DEPARTMENT, "Passw0rd!", "t")
    with pytest.raises(ValueError, match="grid"):
        new_record("x2", "某", Role.DISPATCHER, "Passw0rd!", "t", grids=("g-001",))
