"""The Bluesky simulator's sessions, rate limits and faults, through the real `atproto` SDK
(every response checked against the lexicons and the SDK's models, see `_bsky`)."""

# Fixtures are imported from _bsky, so their parameters "redefine" the imports.
# ruff: noqa: F811

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from _bsky import NOW, CheckedClient, bsky_world, checked_raw, logged_in  # noqa: F401
from atproto_client.exceptions import (
    BadRequestError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)

from barometer.sim.bsky import BskyFaultPlan, BskySimServer, BskyWorld
from barometer.sim.model import DAY_MS, to_ms

SANOFI = "sanofi.bsky.social"


def _server(world: BskyWorld, faults: str = "", **kw: object) -> BskySimServer:
    return BskySimServer(world, now=NOW, faults=BskyFaultPlan.parse(faults, timeout_seconds=0.3), **kw)  # type: ignore[arg-type]


# -- sessions -----------------------------------------------------------------------------------
def test_session_string_resumes_without_a_login(bsky_world: BskyWorld) -> None:
    with _server(bsky_world) as srv:
        first = logged_in(srv)
        saved = first.export_session_string()
        again = CheckedClient(srv.url)
        again.login(session_string=saved)
        assert again.app.bsky.actor.get_profile({"actor": SANOFI}).handle == SANOFI
        assert srv.stats["logins"] == 1


def test_the_sdk_refreshes_short_lived_sessions(bsky_world: BskyWorld) -> None:
    # Access tokens of 60 s: the SDK refreshes 15 minutes ahead of expiry, i.e. before each call.
    with _server(bsky_world, access_ttl=60) as srv:
        c = logged_in(srv)
        spent = c._session.refresh_jwt
        for _ in range(3):
            assert c.app.bsky.feed.get_author_feed({"actor": SANOFI, "limit": 5}).feed
        assert srv.stats["refreshes"] >= 3 and srv.stats["logins"] == 1
        r = httpx.post(
            f"{srv.url}/xrpc/com.atproto.server.refreshSession", headers={"authorization": f"Bearer {spent}"}
        )
        assert (r.status_code, r.json()["error"]) == (400, "ExpiredToken")  # rotated away


def test_an_expired_access_token_is_refused(bsky_world: BskyWorld) -> None:
    with _server(bsky_world, access_ttl=-1) as srv:  # born expired
        c = CheckedClient(srv.url)
        session = c.com.atproto.server.create_session({"identifier": srv.handle, "password": srv.password})
        r = checked_raw(srv, "app.bsky.actor.getProfile", {"actor": SANOFI}, session.access_jwt)
        assert (r.status_code, r.json()["error"]) == (400, "ExpiredToken")
        r = checked_raw(srv, "app.bsky.actor.getProfile", {"actor": SANOFI}, "not.a.token")
        assert (r.status_code, r.json()["error"]) == (401, "InvalidToken")


def test_expire_and_revoke_faults(bsky_world: BskyWorld) -> None:
    with _server(bsky_world) as srv:
        c = logged_in(srv)
        srv.set_faults(BskyFaultPlan.parse("expire"))
        with pytest.raises(BadRequestError) as e:
            c.app.bsky.actor.get_profiles({"actors": [SANOFI]})
        assert e.value.response.content.error == "ExpiredToken"
        c._refresh_and_set_session()  # what a client does on ExpiredToken
        assert c.app.bsky.actor.get_profiles({"actors": [SANOFI]}).profiles
        srv.set_faults(BskyFaultPlan.parse("revoke"))
        with pytest.raises(UnauthorizedError):
            c.app.bsky.actor.get_profiles({"actors": [SANOFI]})
        with pytest.raises(UnauthorizedError) as e:
            CheckedClient(srv.url).login(srv.handle, srv.password)
        assert e.value.response.content.error == "AuthenticationRequired"


# -- rate limits --------------------------------------------------------------------------------
def test_rate_limit_headers_on_every_response(bsky_world: BskyWorld) -> None:
    with _server(bsky_world) as srv:
        c = logged_in(srv)
        token = c._session.access_jwt
        rems = []
        for _ in range(3):
            r = checked_raw(srv, "app.bsky.feed.searchPosts", {"q": "sanofi", "limit": 1}, token)
            assert r.headers["ratelimit-limit"] == "3000" and r.headers["ratelimit-policy"] == "3000;w=300"
            assert 0 < int(r.headers["ratelimit-reset"]) - time.time() <= 300
            rems.append(int(r.headers["ratelimit-remaining"]))
        assert rems == [rems[0], rems[0] - 1, rems[0] - 2]


def test_logins_are_limited_to_30_per_5_minutes(bsky_world: BskyWorld) -> None:
    with _server(bsky_world) as srv:
        for _ in range(30):
            CheckedClient(srv.url).com.atproto.server.create_session(
                {"identifier": srv.handle, "password": srv.password}
            )
        with pytest.raises(RateLimitExceededError) as e:
            CheckedClient(srv.url).login(srv.handle, srv.password)
        err = e.value
        assert (err.limit, err.remaining, err.policy) == (30, 0, "30;w=300")
        assert err.reset_at is not None and timedelta(0) < err.reset_at - datetime.now(UTC) <= timedelta(seconds=300)


# -- faults -------------------------------------------------------------------------------------
def test_status_faults(bsky_world: BskyWorld) -> None:
    with _server(bsky_world, "429@search_posts:1,503@get_profiles:2") as srv:
        c = logged_in(srv)
        with pytest.raises(RateLimitExceededError) as e:
            c.app.bsky.feed.search_posts({"q": "sanofi"})
        assert e.value.remaining == 0 and e.value.reset_at is not None and e.value.policy == "3000;w=300"
        assert c.app.bsky.feed.search_posts({"q": "sanofi"}).posts  # once only
        for _ in range(2):
            with pytest.raises(RequestException) as e5:
                c.app.bsky.actor.get_profiles({"actors": [SANOFI]})
            assert e5.value.response.status_code == 503
        assert c.app.bsky.actor.get_profiles({"actors": [SANOFI]}).profiles
        assert srv.stats["faults"] == {"429": 1, "503": 2}


def test_transport_faults(bsky_world: BskyWorld) -> None:
    with _server(bsky_world, "reset@resolve_handle,malformed@resolve_handle,timeout@resolve_handle") as srv:
        c = logged_in(srv)
        # What a collector sees from the SDK: httpx's error for a dropped connection (the SDK
        # does not wrap it), a ValueError for a body that is not JSON, a late answer.
        with pytest.raises(httpx.RemoteProtocolError):
            c.resolve_handle(SANOFI)
        with pytest.raises(ValueError):
            c.resolve_handle(SANOFI)
        t0 = time.monotonic()
        assert c.resolve_handle(SANOFI).did
        assert time.monotonic() - t0 >= 0.3
        assert c.resolve_handle(SANOFI).did  # the plan is spent


def test_hidden_accounts(bsky_world: BskyWorld) -> None:
    gsk, msd = "gsk-france.bsky.social", "msd-france.bsky.social"
    with _server(bsky_world, f"suspended={gsk},unknown={msd}") as srv:
        c = logged_in(srv)
        with pytest.raises(BadRequestError) as e:
            c.app.bsky.actor.get_profile({"actor": gsk})
        assert e.value.response.content.error == "AccountTakedown"
        with pytest.raises(BadRequestError):
            c.app.bsky.feed.get_author_feed({"actor": gsk})
        with pytest.raises(BadRequestError):
            c.resolve_handle(msd)
        got = c.app.bsky.actor.get_profiles({"actors": [gsk, msd, SANOFI]}).profiles
        assert [p.handle for p in got] == [SANOFI]
        found = c.app.bsky.feed.search_posts({"q": f"from:{gsk}"})
        assert found.posts == []


def test_deleted_posts_disappear(bsky_world: BskyWorld) -> None:
    sanofi = bsky_world.brand_actor("sanofi").did
    brand_dids = {d for ds in bsky_world.brand_accounts.values() for d in ds}
    old = [
        p for p in bsky_world.posts if p.author in brand_dids and p.ts <= to_ms(NOW) - DAY_MS and p.deleted_ms is None
    ]
    victims = sorted(old, key=lambda p: (p.ts, p.uri))[-3:]
    uris = [p.uri for p in victims] + [next(p.uri for p in old if p.author == sanofi)]
    with _server(bsky_world) as srv:
        c = logged_in(srv)
        assert len(c.app.bsky.feed.get_posts({"uris": uris}).posts) == 4
        srv.set_faults(BskyFaultPlan.parse("delete=3"))
        assert [p.uri for p in c.app.bsky.feed.get_posts({"uris": uris}).posts] == uris[3:]


def test_set_now_moves_the_world(bsky_world: BskyWorld) -> None:
    with _server(bsky_world) as srv:
        c = logged_in(srv)
        later = c.app.bsky.actor.get_profile({"actor": SANOFI}).posts_count
        srv.set_now(datetime(2018, 3, 1, 5, tzinfo=UTC))
        earlier = c.app.bsky.actor.get_profile({"actor": SANOFI})
        assert earlier.posts_count < later
        feed = c.app.bsky.feed.get_author_feed({"actor": SANOFI, "limit": 5}).feed
        assert all(it.post.indexed_at < "2018-03-01T05:00:00" for it in feed if it.reason is None)


def test_cli_serves_bluesky_with_the_documented_login(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`barometer sim serve --network bluesky`: the SDK logs in with the login it prints."""
    from barometer.cli import main

    seen: dict[str, object] = {}

    def serve_forever(self: BskySimServer) -> None:  # a client's visit instead of Ctrl-C
        c = CheckedClient(self.url)
        c.login("barometer.bsky.social", "sim0-app0-pass-word")
        seen["profiles"] = [p.handle for p in c.app.bsky.actor.get_profiles({"actors": [SANOFI]}).profiles]
        self.stop()

    monkeypatch.setattr(BskySimServer, "serve_forever", serve_forever)
    assert main(["sim", "serve", "--network", "bluesky", "--port", "0", "--faults", "503@get_posts"]) == 0
    out = capsys.readouterr().out
    assert "Bluesky XRPC simulator for pharma-fr at http://127.0.0.1:" in out
    assert "log in as barometer.bsky.social / sim0-app0-pass-word" in out
    assert seen["profiles"] == [SANOFI]
