"""Property-based: whatever query parameters a client sends, the Bluesky simulator answers a
lexicon-valid page that honours them, or a 400 XRPC error exactly when the lexicon (or the
parameter's documented syntax) refuses them."""

# Fixtures are imported from _bsky, so their parameters "redefine" the imports.
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from _bsky import NOW, bsky_world, check_body, logged_in, raw  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barometer.sim.bsky import BskySimServer, BskyWorld
from barometer.sim.bsky.params import DID_RE, HANDLE_RE

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HANDLES = ["sanofi.bsky.social", "gsk-france.bsky.social", "msd-france.bsky.social", "nobody-here.bsky.social"]


@pytest.fixture(scope="module")
def served(bsky_world: BskyWorld) -> Iterator[tuple[BskySimServer, str]]:
    with BskySimServer(bsky_world, now=NOW, rate_limits=False) as srv:
        yield srv, logged_in(srv)._session.access_jwt


def _dates() -> st.SearchStrategy[str]:
    days = st.dates(min_value=date(2016, 10, 1), max_value=date(2018, 6, 1))
    return st.one_of(
        days.map(date.isoformat),
        days.map(lambda d: f"{d.isoformat()}T12:00:00Z"),
        days.map(lambda d: f"{d.isoformat()}T12:00:00.5+02:00"),
        st.sampled_from(["yesterday", "2018-13-01", "2018-04-01T25:00:00Z", ""]),
    )


def _ok_when(v: str | None) -> bool:
    if not v:
        return True
    try:
        from barometer.sim.bsky.params import parse_when

        parse_when("x", v)
        return True
    except Exception:
        return False


SEARCH = st.fixed_dictionaries(
    {},
    optional={
        "limit": st.integers(-3, 130),
        "sort": st.sampled_from(["latest", "top", "oldest"]),
        "since": _dates(),
        "until": _dates(),
        "mentions": st.sampled_from([*HANDLES, "did:plc:5i4f37rnrnof5hu6s3fx3f5p", "not a handle"]),
        "lang": st.sampled_from(["fr", "en"]),
        "cursor": st.one_of(st.integers(0, 12_000).map(str), st.sampled_from(["x", "-1"])),
    },
)
QUERIES = st.sampled_from(
    [
        "sanofi",
        "*",
        '"pfizer france"',
        "sanofi -scandale",
        "#pharma",
        "pfizer OR novartis",
        "from:sanofi.bsky.social",
        "mentions:gsk-france.bsky.social vaccin",
        "zzz",
        "   ",
    ]
)


@SETTINGS
@given(q=QUERIES, params=SEARCH)
def test_search_posts_honours_any_parameters(served: tuple[BskySimServer, str], q: str, params: dict[str, Any]) -> None:
    srv, token = served
    r = raw(srv, "app.bsky.feed.searchPosts", {"q": q, **params}, token)
    body = r.json()
    check_body("app.bsky.feed.searchPosts", r.status_code, body)
    limit = params.get("limit", 25)
    valid = (
        1 <= limit <= 100
        and params.get("sort", "latest") in ("latest", "top")
        and _ok_when(params.get("since"))
        and _ok_when(params.get("until"))
        and params.get("cursor", "0").isdigit()
        and params.get("mentions") != "not a handle"
        and q.strip() != ""
    )
    assert (r.status_code == 200) == valid, (r.status_code, body)
    if r.status_code != 200:
        assert r.status_code == 400
        return
    posts = body["posts"]
    offset = int(params.get("cursor", 0))
    assert len(posts) <= limit and (not posts or offset + len(posts) <= 10_000)
    if "cursor" in body:
        assert int(body["cursor"]) == offset + len(posts) and len(posts) == limit
    created = [p["record"]["createdAt"] for p in posts]
    if params.get("sort", "latest") == "latest":
        assert created == sorted(created, reverse=True)
    if params.get("lang"):
        assert all(params["lang"] in p["record"]["langs"] for p in posts)
    if params.get("mentions") in HANDLES[:3]:
        for p in posts:
            assert any(f["features"][0].get("did") for f in p["record"].get("facets", []))


@SETTINGS
@given(
    actor=st.sampled_from(HANDLES),
    limit=st.one_of(st.none(), st.integers(-2, 110)),
    flt=st.sampled_from([None, "posts_with_replies", "posts_no_replies", "posts_and_author_threads", "bogus"]),
    pages=st.integers(1, 3),
)
def test_author_feed_pages_are_consistent(
    served: tuple[BskySimServer, str], actor: str, limit: int | None, flt: str | None, pages: int
) -> None:
    srv, token = served
    params: dict[str, Any] = {"actor": actor}
    if limit is not None:
        params["limit"] = limit
    if flt is not None:
        params["filter"] = flt
    seen: list[str] = []
    for _ in range(pages):
        r = raw(srv, "app.bsky.feed.getAuthorFeed", params, token)
        body = r.json()
        check_body("app.bsky.feed.getAuthorFeed", r.status_code, body)
        valid = (limit is None or 1 <= limit <= 100) and flt != "bogus" and actor != HANDLES[3]
        assert (r.status_code == 200) == valid, body
        if not valid:
            return
        feed = body["feed"]
        assert len(feed) <= (limit or 50)
        keys = [(it["post"]["uri"], it.get("reason", {}).get("uri")) for it in feed]
        assert not set(keys) & set(map(str, seen))
        seen.extend(map(str, keys))
        if flt == "posts_no_replies":
            assert all("reason" in it or "reply" not in it["post"]["record"] for it in feed)
        if "cursor" not in body:
            return
        params["cursor"] = body["cursor"]


IDENTS = st.sampled_from(
    [*HANDLES, "did:plc:5i4f37rnrnof5hu6s3fx3f5p", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "bad handle", "x"]
)


@SETTINGS
@given(actors=st.lists(IDENTS, max_size=30))
def test_get_profiles_any_list(served: tuple[BskySimServer, str], actors: list[str]) -> None:
    srv, token = served
    r = raw(srv, "app.bsky.actor.getProfiles", {"actors": actors}, token)
    body = r.json()
    check_body("app.bsky.actor.getProfiles", r.status_code, body)
    syntactic = all(DID_RE.match(a) or HANDLE_RE.match(a) for a in actors)
    assert (r.status_code == 200) == (1 <= len(actors) <= 25 and syntactic), body
    if r.status_code == 200:
        got = [p["handle"] for p in body["profiles"]]
        assert len(got) == len(set(got)) and set(got) <= set(HANDLES[:3])
