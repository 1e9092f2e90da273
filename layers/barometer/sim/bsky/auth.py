"""Sessions: app-password logins, access and refresh JWTs, refresh-token rotation.

Tokens are real JWTs (HS256 over a secret derived from the login), so the `atproto` SDK can
read their `exp` and refresh ahead of it, and a token stays valid across a server restart
with the same login. Lifetimes are Bluesky's (access 2 hours, refresh 90 days) on the wall
clock, like the rate limits. A used refresh token is revoked (rotation). The fault plan can
expire every access token issued so far (`expire`), or revoke the app password (`revoke`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from typing import Any

from barometer.sim.bsky.errors import XrpcError

ACCESS_TTL_S = 2 * 3600
REFRESH_TTL_S = 90 * 86400
ACCESS_SCOPE = "com.atproto.appPass"
REFRESH_SCOPE = "com.atproto.refresh"
AUDIENCE = "did:web:bsky.sim.invalid"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def bad_login() -> XrpcError:
    return XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")


def expired() -> XrpcError:
    return XrpcError(400, "ExpiredToken", "Token has expired")


def bad_token(message: str = "Token could not be verified") -> XrpcError:
    return XrpcError(401, "InvalidToken", message)


class Sessions:
    """The one account that may log in: `handle` (or its DID) with `password`."""

    def __init__(
        self,
        handle: str,
        did: str,
        password: str,
        clock: Callable[[], float],
        *,
        access_ttl: float = ACCESS_TTL_S,
        refresh_ttl: float = REFRESH_TTL_S,
    ) -> None:
        self.handle = handle
        self.did = did
        self.password = password
        self.clock = clock
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._secret = hashlib.sha256(f"bsky-sim|{handle}|{password}".encode()).digest()
        self._lock = threading.Lock()
        self._used: set[str] = set()  # refresh tokens' jti already exchanged
        self._serial = 0
        self.revoked = False  # the app password was revoked: no login, no session
        self.expired_ms = 0  # access tokens minted before this (epoch ms) are expired
        self.logins = 0
        self.refreshes = 0

    # -- tokens --------------------------------------------------------------------------------
    def _mint(self, scope: str, ttl: float) -> str:
        now = self.clock()
        with self._lock:
            self._serial += 1
            jti = f"{int(now * 1000):x}-{self._serial}"
        head = {"typ": "at+jwt" if scope == ACCESS_SCOPE else "refresh+jwt", "alg": "HS256"}
        body = {"scope": scope, "sub": self.did, "aud": AUDIENCE, "iat": int(now), "exp": int(now + ttl), "jti": jti}
        signing = _b64(json.dumps(head).encode()) + "." + _b64(json.dumps(body).encode())
        sig = hmac.new(self._secret, signing.encode(), hashlib.sha256).digest()
        return signing + "." + _b64(sig)

    def _read(self, token: str) -> dict[str, Any]:
        try:
            head, body, sig = token.split(".")
            want = hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(want, _unb64(sig)):
                raise ValueError
            claims: dict[str, Any] = json.loads(_unb64(body))
        except (ValueError, UnicodeDecodeError):
            raise bad_token() from None
        if self.revoked:
            raise bad_token("Token has been revoked")
        return claims

    def session_doc(self) -> dict[str, Any]:
        return {
            "accessJwt": self._mint(ACCESS_SCOPE, self.access_ttl),
            "refreshJwt": self._mint(REFRESH_SCOPE, self.refresh_ttl),
            "handle": self.handle,
            "did": self.did,
            "active": True,
        }

    # -- the endpoints' checks -------------------------------------------------------------------
    def create(self, identifier: str, password: str) -> dict[str, Any]:
        ident = identifier.removeprefix("@").lower()
        if self.revoked or ident not in (self.handle.lower(), self.did) or password != self.password:
            raise bad_login()
        self.logins += 1
        return self.session_doc()

    def refresh(self, token: str) -> dict[str, Any]:
        claims = self._read(token)
        if claims.get("scope") != REFRESH_SCOPE:
            raise XrpcError(400, "InvalidToken", "Invalid token type")
        if claims["exp"] <= self.clock():
            raise expired()
        with self._lock:
            if claims["jti"] in self._used:
                raise XrpcError(400, "ExpiredToken", "Token has been revoked")
            self._used.add(claims["jti"])
        self.refreshes += 1
        return self.session_doc()

    def access(self, token: str) -> str:
        """The DID a bearer access token authenticates; 401/400 as Bluesky when it does not."""
        claims = self._read(token)
        if claims.get("scope") != ACCESS_SCOPE:
            raise XrpcError(400, "InvalidToken", "Bad token scope")
        minted_ms = int(str(claims.get("jti", "0-0")).partition("-")[0], 16)
        if claims["exp"] <= self.clock() or minted_ms < self.expired_ms:
            raise expired()
        return str(claims["sub"])

    def expire_all(self) -> None:
        """Every access token minted so far expires, those of earlier runs of a server with the
        same login included (tokens are stateless): clients must refresh."""
        self.expired_ms = int(self.clock() * 1000)
