"""The external-provider verifier: tokens signed by the provider's key (published as a
JWKS over HTTP, here by a local server) become principals; others are refused."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from cityops.contracts import Role
from services.api.auth.tokens import InvalidToken, OidcVerifier

ISSUER = "https://idp.example/realms/lingang"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/certs"
    server.shutdown()


def token(key: rsa.RSAPrivateKey = KEY, **claims: object) -> str:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "cityops-api", "sub": "u-1", "iat": now, "exp": now + 300}
    return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_providers_token_becomes_a_principal(jwks_url: str) -> None:
    verifier = OidcVerifier(ISSUER, "cityops-api", jwks_url)
    principal = verifier.verify(
        token(
            preferred_username="li.ming",
            name="李明",
            cityops_role="department",
            department="water",
            town="laogang",
        )
    )
    assert (principal.user_id, principal.role) == ("li.ming", Role.DEPARTMENT)
    assert (principal.department, principal.town, principal.name) == ("water", "laogang", "李明")


def test_wrong_key_audience_role_or_kind_is_refused(jwks_url: str) -> None:
    verifier = OidcVerifier(ISSUER, "cityops-api", jwks_url)
    with pytest.raises(InvalidToken):
        verifier.verify(token(OTHER, cityops_role="dispatcher"))
    with pytest.raises(InvalidToken):
        verifier.verify(token(aud="another-app", cityops_role="dispatcher"))
    with pytest.raises(InvalidToken, match="角色"):
        verifier.verify(token(cityops_role="overlord"))
    with pytest.raises(InvalidToken):
        verifier.verify(token(cityops_role="dispatcher"), "refresh")
