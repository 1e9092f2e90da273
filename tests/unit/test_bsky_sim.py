"""The Bluesky simulator's parts without HTTP: identifiers, facets, sessions, rate limits,
the fault plan's syntax, and the XRPC service called in-process on a small world."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from barometer.errors import ConfigError
from barometer.sim.bsky import BskyApi, BskyFaultPlan, BskyWorld
from barometer.sim.bsky.auth import Sessions
from barometer.sim.bsky.errors import XrpcError
from barometer.sim.bsky.ids import bsky_handle, cid_for, did_for, tid
from barometer.sim.bsky.limits import GLOBAL, LOGIN_5MIN, LOGIN_DAY, RateLimiter
from barometer.sim.bsky.text import convert, words

NOW = datetime(2018, 5, 1, 5, tzinfo=UTC)


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# -- identifiers --------------------------------------------------------------------------------
def test_identifiers_look_like_bluesky_ones() -> None:
    did = did_for("Sanofi.bsky.social")
    assert re.fullmatch(r"did:plc:[a-z2-7]{24}", did) and did == did_for("sanofi.bsky.social")
    t1, t2 = tid(1_500_000_000_000_000, 7), tid(1_500_000_000_000_001, 7)
    assert re.fullmatch(r"[234567a-j][234567a-z]{12}", t1) and t1 < t2  # sortable by time
    cid = cid_for({"text": "x"})
    raw = base64.b32decode(cid[1:].upper() + "=" * (-len(cid[1:]) % 8))
    assert cid.startswith("bafyrei") and raw[:4] == bytes([1, 0x71, 0x12, 0x20]) and len(raw) == 36
    assert bsky_handle("Pfizer_France") == "pfizer-france.bsky.social"
    assert bsky_handle("_x_") == "x-fr.bsky.social"


def test_facets_count_utf8_bytes_and_resolve_handles() -> None:
    def resolve(name: str) -> tuple[str, str] | None:
        return ("sanofi.bsky.social", "did:plc:" + "a" * 24) if name.lower() == "sanofi" else None

    text, facets, dids = convert("Étude : @sanofi répond à @inconnu #Santé https://t.co/x1", resolve)
    assert text == "Étude : @sanofi.bsky.social répond à @inconnu #Santé https://t.co/x1"
    raw = text.encode()
    spans = {
        f["features"][0]["$type"].rsplit("#", 1)[1]: raw[f["index"]["byteStart"] : f["index"]["byteEnd"]]
        for f in facets
    }
    assert spans == {"mention": b"@sanofi.bsky.social", "tag": "#Santé".encode(), "link": b"https://t.co/x1"}
    assert dids == ("did:plc:" + "a" * 24,)
    long, facets, _ = convert("@sanofi " + "mot " * 100, resolve)
    assert len(long) <= 300 and long.endswith("…") and len(facets) == 1
    assert {"sante", "etude", "sanofi", "bsky"} <= words(text)


# -- sessions -----------------------------------------------------------------------------------
def test_sessions_login_refresh_rotation_expiry_revocation() -> None:
    clock = Clock()
    s = Sessions("me.bsky.social", "did:plc:" + "m" * 24, "pass-word-pass-word", clock)
    with pytest.raises(XrpcError) as e:
        s.create("me.bsky.social", "wrong")
    assert (e.value.status, e.value.error) == (401, "AuthenticationRequired")
    doc = s.create("@ME.bsky.social", "pass-word-pass-word")
    claims = json.loads(base64.urlsafe_b64decode(doc["accessJwt"].split(".")[1] + "=="))
    assert claims["exp"] - claims["iat"] == 2 * 3600 and claims["sub"] == s.did
    assert s.access(doc["accessJwt"]) == s.did
    with pytest.raises(XrpcError, match="InvalidToken"):
        s.access(doc["refreshJwt"])  # a refresh token is no access token
    with pytest.raises(XrpcError, match="InvalidToken"):
        s.access(doc["accessJwt"][:-3] + "AAA")  # tampered signature
    new = s.refresh(doc["refreshJwt"])
    with pytest.raises(XrpcError, match="ExpiredToken"):
        s.refresh(doc["refreshJwt"])  # rotated: the old refresh token is spent
    clock.t += 2 * 3600 + 1
    with pytest.raises(XrpcError) as e:
        s.access(new["accessJwt"])
    assert (e.value.status, e.value.error) == (400, "ExpiredToken")
    fresh = s.refresh(new["refreshJwt"])
    assert s.access(fresh["accessJwt"]) == s.did
    clock.t += 1
    s.expire_all()
    with pytest.raises(XrpcError, match="ExpiredToken"):
        s.access(fresh["accessJwt"])
    assert s.access(s.refresh(fresh["refreshJwt"])["accessJwt"]) == s.did  # tokens after it work
    s.revoked = True
    with pytest.raises(XrpcError, match="AuthenticationRequired"):
        s.create("me.bsky.social", "pass-word-pass-word")


# -- rate limits --------------------------------------------------------------------------------
def test_rate_limiter_windows_and_headers() -> None:
    clock = Clock(1_700_000_100.0)
    rl = RateLimiter(clock)
    h = rl.take("did:a", GLOBAL)
    reset = (1_700_000_100 // 300 + 1) * 300
    assert h == {
        "ratelimit-limit": "3000",
        "ratelimit-remaining": "2999",
        "ratelimit-reset": str(reset),
        "ratelimit-policy": "3000;w=300",
    }
    for _ in range(2999):
        rl.take("did:a", GLOBAL)
    with pytest.raises(XrpcError) as e:
        rl.take("did:a", GLOBAL)
    assert e.value.status == 429 and e.value.headers["ratelimit-remaining"] == "0"
    assert rl.take("did:b", GLOBAL)["ratelimit-remaining"] == "2999"  # per account
    clock.t = reset
    assert rl.take("did:a", GLOBAL)["ratelimit-remaining"] == "2999"  # a new window


def test_logins_30_per_5_minutes_and_300_a_day() -> None:
    clock = Clock(1_700_006_400.0)  # a day boundary is far: 86400 s windows start at midnight UTC
    rl = RateLimiter(clock)
    logins = 0
    refused_5min = 0
    for _ in range(12):  # twelve 5-minute windows
        for _ in range(31):
            try:
                rl.take("login:me", LOGIN_5MIN, LOGIN_DAY)
                logins += 1
            except XrpcError as e:
                assert e.headers["ratelimit-policy"] in ("30;w=300", "300;w=86400")
                refused_5min += e.headers["ratelimit-policy"] == "30;w=300"
        clock.t += 300
    assert logins == 300 and refused_5min == 10
    with pytest.raises(XrpcError) as e:
        rl.take("login:me", LOGIN_5MIN, LOGIN_DAY)
    assert e.value.headers["ratelimit-policy"] == "300;w=86400"


# -- the fault plan -----------------------------------------------------------------------------
def test_fault_plan_syntax() -> None:
    plan = BskyFaultPlan.parse(
        "429@search_posts:2, 503, reset@get_posts, expire, suspended=gsk-france.bsky.social, delete=2"
    )
    assert [(f.kind, f.endpoint, f.count, f.status) for f in plan.faults] == [
        ("status", "search_posts", 2, 429),
        ("status", None, 1, 503),
        ("reset", "get_posts", 1, 0),
    ]
    assert plan.expire and not plan.revoke and plan.suspended == {"gsk-france.bsky.social"} and plan.delete == 2
    for bad in ("429@search_recent", "cap", "suspended=GSK_FR", "rename=a>b", "200@get_posts"):
        with pytest.raises(ConfigError, match=r"^--faults: "):
            BskyFaultPlan.parse(bad)


# -- the service in-process ---------------------------------------------------------------------
def _api(clock: Clock, **kw: Any) -> BskyApi:
    world = BskyWorld(1, date(2018, 1, 1), date(2018, 4, 30), {}, [], [], {})
    return BskyApi(world, NOW, clock=clock, **kw)


def _login(api: BskyApi, password: str = "sim0-app0-pass-word") -> Any:
    body = json.dumps({"identifier": "barometer.bsky.social", "password": password}).encode()
    return api.handle("POST", "/xrpc/com.atproto.server.createSession", "", {}, body)


def test_service_limits_per_account_and_replay_resets() -> None:
    clock = Clock()
    api = _api(clock)
    token = json.loads(_login(api).body or b"")["accessJwt"]
    auth = {"authorization": f"Bearer {token}"}
    q = "handle=barometer.bsky.social"
    replies = [api.handle("GET", "/xrpc/com.atproto.identity.resolveHandle", q, auth, b"") for _ in range(3000)]
    assert {r.status for r in replies} == {200} and replies[-1].headers["ratelimit-remaining"] == "0"
    refused = api.handle("GET", "/xrpc/com.atproto.identity.resolveHandle", q, auth, b"")
    assert refused.status == 429 and json.loads(refused.body or b"")["error"] == "RateLimitExceeded"
    anon = api.handle("GET", "/xrpc/com.atproto.identity.resolveHandle", q, {}, b"", "10.0.0.9")
    assert anon.status == 200  # anonymous requests count per IP
    api.set_now(datetime(2018, 5, 2, 5, tzinfo=UTC))  # a replay's next day: windows start afresh
    assert api.handle("GET", "/xrpc/com.atproto.identity.resolveHandle", q, auth, b"").status == 200


def test_service_login_refusals_and_limits() -> None:
    clock = Clock(1_700_006_400.0)
    api = _api(clock)
    assert _login(api, "nope").status == 401
    for _ in range(29):
        assert _login(api).status == 200
    refused = _login(api)
    assert refused.status == 429 and refused.headers["ratelimit-policy"] == "30;w=300"
    assert int(refused.headers["ratelimit-reset"]) - clock.t <= 300
    bad = api.handle("POST", "/xrpc/com.atproto.server.createSession", "", {}, b"{not json")
    assert bad.status == 400


def test_sim_serve_bluesky_refuses_a_bad_fault_plan_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from barometer.cli import main

    assert main(["sim", "serve", "--network", "bluesky", "--port", "0", "--faults", "cap"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("barometer: error: --faults: cannot parse 'cap'") and err.count("\n") == 1
