"""The Bluesky simulator's contract, through the real `atproto` SDK: every endpoint, valid and
invalid requests, paging; every response validates against the official lexicons and parses
with the SDK's models (strict, string formats checked) — see `_bsky.CheckedClient`.

Sessions, rate limits and faults are in test_bsky_sim_faults.py.
"""

# Fixtures are imported from _bsky, so their parameters "redefine" the imports.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from _bsky import (  # noqa: F401
    HANDLE,
    NOW,
    CheckedClient,
    bsky_server,
    bsky_world,
    checked_raw,
    client,
    lexicons,
    raw,
)
from atproto import models
from atproto_client.exceptions import BadRequestError, UnauthorizedError

from barometer.sim.bsky import BPost, BskySimServer, BskyWorld, Repost, build_bsky_world
from barometer.sim.model import to_ms

SANOFI = "sanofi.bsky.social"
NOW_MS = to_ms(NOW)


def _alive(it: BPost | Repost) -> bool:
    """Not deleted by now (the world deletes some posts the night they are written)."""
    p = it.subject if isinstance(it, Repost) else it
    return p.deleted_ms is None or p.deleted_ms > NOW_MS


# -- the checker itself -------------------------------------------------------------------------
def test_lexicon_checker_catches_what_it_should() -> None:
    lx = lexicons()
    ok = {"did": "did:plc:5i4f37rnrnof5hu6s3fx3f5p", "handle": "sanofi.bsky.social"}
    assert lx.errors("app.bsky.actor.defs#profileViewBasic", ok) == []
    assert lx.errors("app.bsky.actor.defs#profileViewBasic", {"did": "did:plc:x"})  # handle missing
    assert lx.errors("app.bsky.actor.defs#profileViewBasic", {**ok, "did": "plc:abc"})
    assert lx.errors("app.bsky.actor.defs#profileViewBasic", {**ok, "handle": "no_underscore.bsky.social"})
    assert lx.errors("app.bsky.actor.defs#profileViewBasic", {**ok, "createdAt": "2018-01-01T00:00:00"})
    post = {"$type": "app.bsky.feed.post", "text": "x" * 301, "createdAt": "2018-01-01T00:00:00Z"}
    assert any("graphemes" in e for e in lx.errors("app.bsky.feed.post", post))
    view = {
        "uri": "at://did:plc:abc/app.bsky.feed.post/3kabc",
        "cid": "bafyreinotacid",
        "author": ok,
        "record": {**post, "text": "ok"},
        "indexedAt": "2018-01-01T00:00:00Z",
    }
    errs = lx.errors("app.bsky.feed.defs#postView", view)
    assert errs == ["$.cid: 'bafyreinotacid' is not a valid cid"]
    item = {
        "post": {**view, "cid": "bafyreie6vze2gaf3mjme7etj4aicim6f2whevigdij2fyst6xfn6giiqza"},
        "reason": {"by": ok, "indexedAt": "2018-01-01T00:00:00Z"},
    }
    assert lx.errors("app.bsky.feed.defs#feedViewPost", item) == [
        "$.reason: a union member must be an object with a $type"
    ]
    facet = {"index": {"byteStart": 0, "byteEnd": 3}, "features": [{"$type": "app.bsky.richtext.facet#mention"}]}
    assert lx.errors("app.bsky.richtext.facet", facet) == ["$.features[0]: missing required 'did'"]


def test_every_lexicon_reference_resolves() -> None:
    lx = lexicons()

    def refs(node: Any, ctx: str) -> list[str]:
        if isinstance(node, dict):
            out = [lx.full(node["ref"], ctx)] if node.get("type") == "ref" else []
            if node.get("type") == "union":
                out += [lx.full(r, ctx) for r in node["refs"]]
            return out + [r for v in node.values() for r in refs(v, ctx)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v, ctx)]
        return []

    for lex_id, doc in lx.docs.items():
        for full in refs(doc["defs"], lex_id):
            lx.resolve(full)  # KeyError if it does not


# -- identity and profiles ----------------------------------------------------------------------
def test_login_and_me(bsky_server: BskySimServer, client: CheckedClient) -> None:
    assert client.me is not None and client.me.handle == HANDLE
    assert ("com.atproto.server.createSession", 200) in client.seen
    by_did = CheckedClient(bsky_server.url)
    by_did.login(client.me.did, bsky_server.password)  # the DID works as the identifier
    with pytest.raises(UnauthorizedError) as e:
        CheckedClient(bsky_server.url).login(HANDLE, "wrong-pass-word-0000")
    assert e.value.response is not None and e.value.response.content.error == "AuthenticationRequired"


def test_resolve_handle(client: CheckedClient, bsky_world: BskyWorld) -> None:
    assert client.resolve_handle(SANOFI).did == bsky_world.brand_accounts["sanofi"][0]
    with pytest.raises(BadRequestError):
        client.resolve_handle("nobody-here.bsky.social")
    bad = models.ComAtprotoIdentityResolveHandle.Params.model_construct(handle="not a handle")
    with pytest.raises(BadRequestError):
        client.com.atproto.identity.resolve_handle(bad)


def test_get_profile_and_profiles(client: CheckedClient, bsky_world: BskyWorld) -> None:
    p = client.app.bsky.actor.get_profile({"actor": SANOFI})
    sanofi = bsky_world.brand_actor("sanofi")
    assert (p.did, p.handle, p.display_name) == (sanofi.did, SANOFI, "Sanofi")
    assert p.followers_count == bsky_world.followers_at(sanofi.did, NOW)
    assert p.posts_count == bsky_world.posts_count(sanofi.did, NOW_MS)
    assert client.app.bsky.actor.get_profile({"actor": sanofi.did}).handle == SANOFI
    with pytest.raises(BadRequestError):
        client.app.bsky.actor.get_profile({"actor": "nobody-here.bsky.social"})

    brands = [bsky_world.brand_actor(b).handle for b in bsky_world.brand_accounts]
    others = [a.handle for a in list(bsky_world.actors.values())[20:38]]
    actors = [*brands, "nobody-here.bsky.social", *others][:25]
    r = client.app.bsky.actor.get_profiles({"actors": actors})
    assert [x.handle for x in r.profiles] == [a for a in actors if a != "nobody-here.bsky.social"]
    assert all(x.followers_count is not None and x.posts_count is not None for x in r.profiles)
    too_many = models.AppBskyActorGetProfiles.Params.model_construct(actors=[*actors, SANOFI])
    with pytest.raises(BadRequestError) as e:
        client.app.bsky.actor.get_profiles(too_many)
    assert "25" in e.value.response.content.message


# -- author feeds -------------------------------------------------------------------------------
def _whole_feed(c: CheckedClient, actor: str, **params: Any) -> list[Any]:
    items, cursor = [], None
    while True:
        page = c.app.bsky.feed.get_author_feed({"actor": actor, "limit": 100, "cursor": cursor, **params})
        assert len(page.feed) <= 100
        items.extend(page.feed)
        cursor = page.cursor
        if not cursor:
            return items


def test_author_feed_pages_through_posts_and_reposts(client: CheckedClient, bsky_world: BskyWorld) -> None:
    sanofi = bsky_world.brand_actor("sanofi")
    items = _whole_feed(client, SANOFI)
    truth = [it for it in bsky_world.feeds[sanofi.did] if it.ts <= NOW_MS and _alive(it)]
    assert len(items) == len(truth) > 300
    times = [it.reason.indexed_at if it.reason else it.post.indexed_at for it in items]
    assert times == sorted(times, reverse=True)  # newest first, no overlap between pages
    keys = [(it.post.uri, it.reason.uri if it.reason else None) for it in items]
    assert len(set(keys)) == len(keys)
    reposts = [it for it in items if it.reason is not None]
    assert reposts and all(
        it.reason.py_type == "app.bsky.feed.defs#reasonRepost"
        and it.reason.by.did == sanofi.did
        and it.post.author.did != sanofi.did
        for it in reposts
    )
    own = [it.post for it in items if it.reason is None]
    assert all(p.author.did == sanofi.did and p.uri.startswith(f"at://{sanofi.did}/app.bsky.feed.post/") for p in own)
    assert all(min(p.like_count, p.repost_count, p.reply_count, p.quote_count) >= 0 for p in own)
    assert sum(p.like_count for p in own) > 0
    replies = [it for it in items if it.reason is None and it.post.record.reply is not None]
    assert replies and all(it.reply is not None for it in replies)
    quotes = [p for p in own if p.embed is not None]
    assert quotes and all(p.embed.py_type == "app.bsky.embed.record#view" for p in quotes)


def test_author_feed_filters_and_refusals(client: CheckedClient, bsky_world: BskyWorld) -> None:
    no_replies = _whole_feed(client, SANOFI, filter="posts_no_replies")
    assert no_replies and all(it.reason or it.post.record.reply is None for it in no_replies)
    assert client.app.bsky.feed.get_author_feed({"actor": SANOFI, "filter": "posts_with_media"}).feed == []
    first = client.app.bsky.feed.get_author_feed({"actor": SANOFI})
    assert len(first.feed) == 50 and first.cursor  # the lexicon's default limit
    for bad in ({"limit": 101}, {"limit": 0}, {"cursor": "not-a-cursor"}, {"filter": "everything"}):
        params = models.AppBskyFeedGetAuthorFeed.Params.model_construct(actor=SANOFI, **bad)
        with pytest.raises(BadRequestError):
            client.app.bsky.feed.get_author_feed(params)
    with pytest.raises(BadRequestError) as e:
        client.app.bsky.feed.get_author_feed({"actor": "nobody-here.bsky.social"})
    assert e.value.response.content.message == "Profile not found"


# -- getPosts -----------------------------------------------------------------------------------
def test_get_posts_refreshes_up_to_25(client: CheckedClient, bsky_world: BskyWorld) -> None:
    page = client.app.bsky.feed.get_author_feed({"actor": SANOFI, "limit": 30})
    uris = [it.post.uri for it in page.feed if it.reason is None][:23]
    missing = uris[0].rsplit("/", 1)[0] + "/3zzzzzzzzzzzz"
    asked = [*uris[:10], missing, uris[3], *uris[10:]]
    r = client.app.bsky.feed.get_posts({"uris": asked})
    assert [p.uri for p in r.posts] == uris  # request order, unknown left out, duplicates once
    by_handle = uris[0].replace(bsky_world.brand_actor("sanofi").did, SANOFI)
    assert [p.uri for p in client.app.bsky.feed.get_posts({"uris": [by_handle]}).posts] == uris[:1]
    too_many = models.AppBskyFeedGetPosts.Params.model_construct(uris=[uris[0]] * 26)
    with pytest.raises(BadRequestError):
        client.app.bsky.feed.get_posts(too_many)
    bad = models.AppBskyFeedGetPosts.Params.model_construct(uris=["https://bsky.app/profile/x/post/1"])
    with pytest.raises(BadRequestError):
        client.app.bsky.feed.get_posts(bad)


def test_counts_grow_with_age(bsky_world: BskyWorld) -> None:
    """A young post's counts grow over three days, then stay (as the X simulator's)."""
    sanofi = bsky_world.brand_actor("sanofi")
    post = max((p for p in bsky_world.posts if p.author == sanofi.did and p.src.likes > 20), key=lambda p: p.ts)
    seen = []
    for hours in (1, 24, 48, 72, 200):
        with BskySimServer(bsky_world, now=datetime.fromtimestamp(post.ts / 1000 + hours * 3600, UTC)) as srv:
            c = CheckedClient(srv.url)
            seen.append(c.app.bsky.feed.get_posts({"uris": [post.uri]}).posts[0].like_count)
    assert seen == sorted(seen) and seen[0] < seen[-1] == seen[-2]


# -- searchPosts --------------------------------------------------------------------------------
def test_search_mentions_by_facet(client: CheckedClient, bsky_world: BskyWorld) -> None:
    sanofi = bsky_world.brand_actor("sanofi")
    posts, cursor = [], None
    while True:
        r = client.app.bsky.feed.search_posts(
            {
                "q": "*",
                "mentions": SANOFI,
                "since": "2018-03-01",
                "until": "2018-04-01T00:00:00Z",
                "sort": "latest",
                "limit": 100,
                "cursor": cursor,
            }
        )
        posts.extend(r.posts)
        cursor = r.cursor
        if not cursor:
            break
    truth = [
        p
        for p in bsky_world.posts
        if sanofi.did in p.mentions and "2018-03-01" <= p.record["createdAt"] < "2018-04-01" and _alive(p)
    ]
    assert len(posts) == len(truth) == r.hits_total > 100
    for p in posts:
        text = p.record.text.encode()
        spans = [
            (f.index.byte_start, f.index.byte_end)
            for f in p.record.facets or []
            for feat in f.features
            if getattr(feat, "did", None) == sanofi.did
        ]
        assert spans and all(text[a:b].decode() == "@" + SANOFI for a, b in spans)
        assert "2018-03-01" <= p.record.created_at < "2018-04-01"
    created = [p.record.created_at for p in posts]
    assert created == sorted(created, reverse=True)


def test_search_query_words_phrases_and_operators(client: CheckedClient) -> None:
    r = client.app.bsky.feed.search_posts({"q": "sanofi", "since": "2018-04-01", "limit": 100})
    assert r.posts and all("sanofi" in p.record.text.lower() for p in r.posts)
    assert r.hits_total >= len(r.posts)
    phrase = client.app.bsky.feed.search_posts({"q": '"pfizer france"', "limit": 50})
    assert phrase.posts and all("pfizer france" in p.record.text.lower().replace("-", " ") for p in phrase.posts)
    excl = client.app.bsky.feed.search_posts({"q": "sanofi -dépakine", "limit": 100})
    assert all("dépakine" not in p.record.text.lower() for p in excl.posts)
    frm = client.app.bsky.feed.search_posts({"q": f"from:{SANOFI}", "limit": 20})
    assert frm.posts and all(p.author.handle == SANOFI for p in frm.posts)
    top = client.app.bsky.feed.search_posts({"q": "sanofi", "sort": "top", "limit": 20})
    likes = [p.like_count for p in top.posts]
    assert likes == sorted(likes, reverse=True)
    assert client.app.bsky.feed.search_posts({"q": "zzzunmatchedzzz"}).posts == []


def test_search_refusals(bsky_server: BskySimServer, client: CheckedClient) -> None:
    for bad in ({"limit": 101}, {"limit": 0}, {"sort": "oldest"}, {"since": "yesterday"}, {"cursor": "x"}):
        params = models.AppBskyFeedSearchPosts.Params.model_construct(q="sanofi", **bad)
        with pytest.raises(BadRequestError):
            client.app.bsky.feed.search_posts(params)
    r = checked_raw(bsky_server, "app.bsky.feed.searchPosts", {"q": "   "}, client._session.access_jwt)
    assert r.status_code == 400 and r.json()["error"] == "BadQueryString"


def test_search_anonymous_gets_one_page_and_no_cursor(bsky_server: BskySimServer) -> None:
    anon = CheckedClient(bsky_server.url)
    first = anon.app.bsky.feed.search_posts({"q": "sanofi", "limit": 10})
    assert len(first.posts) == 10 and first.cursor is None and first.hits_total > 10
    with pytest.raises(UnauthorizedError) as e:
        anon.app.bsky.feed.search_posts({"q": "sanofi", "limit": 10, "cursor": "10"})
    assert e.value.response.status_code == 401


def test_search_stops_at_the_10000_cap(bsky_server: BskySimServer, client: CheckedClient) -> None:
    # 100 pages: the SDK reads (and the checker checks) the first and the last; raw GETs between.
    token = client._session.access_jwt
    first = client.app.bsky.feed.search_posts({"q": "*", "limit": 100})
    seen, cursor, pages = len(first.posts), first.cursor, 1
    while cursor and int(cursor) < 9900:
        r = raw(bsky_server, "app.bsky.feed.searchPosts", {"q": "*", "limit": 100, "cursor": cursor}, token)
        seen += len(r.json()["posts"])
        cursor = r.json().get("cursor")
        pages += 1
    last = client.app.bsky.feed.search_posts({"q": "*", "limit": 100, "cursor": cursor})
    seen += len(last.posts)
    assert first.hits_total > 10_000 and seen == 10_000 and pages + 1 == 100 and last.cursor is None
    beyond = client.app.bsky.feed.search_posts({"q": "*", "limit": 100, "cursor": "10000"})
    assert beyond.posts == [] and beyond.cursor is None
    sliced = client.app.bsky.feed.search_posts({"q": "*", "since": "2018-04-01", "until": "2018-04-08", "limit": 1})
    assert 0 < sliced.hits_total < 10_000  # a slice by since/until stays under the cap


# -- the world ----------------------------------------------------------------------------------
def test_world_is_deterministic_and_smaller_than_x(bsky_world: BskyWorld) -> None:
    from conftest_sim import _pharma_world

    x = _pharma_world()
    again = build_bsky_world(x)
    assert [(p.uri, p.cid, p.record) for p in again.posts] == [(p.uri, p.cid, p.record) for p in bsky_world.posts]
    assert [(r.uri, r.subject.uri) for r in again.reposts] == [(r.uri, r.subject.uri) for r in bsky_world.reposts]
    for brand, dids in bsky_world.brand_accounts.items():
        a = bsky_world.actors[dids[0]]
        assert a.handle == f"{brand}.bsky.social"
        assert a.followers < x.users[x.brand_accounts[brand][0]].followers
        assert 0 < len(bsky_world.brand_posts(brand)) < len(x.brand_posts(brand))
        assert 0 < len(bsky_world.mention_posts(brand)) < len(x.mention_posts(brand))
    assert len(bsky_world.posts) < len(x.posts) / 3


def test_every_facet_spans_its_text_in_utf8_bytes(bsky_world: BskyWorld) -> None:
    handles = {a.did: a.handle for a in bsky_world.actors.values()}
    n = 0
    for p in bsky_world.posts:
        text = p.record["text"].encode()
        for f in p.record.get("facets", []):
            piece = text[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
            feat = f["features"][0]
            if feat["$type"].endswith("#mention"):
                assert piece == "@" + handles[feat["did"]]
                n += 1
            elif feat["$type"].endswith("#tag"):
                assert piece == "#" + feat["tag"]
            else:
                assert piece == feat["uri"]
    assert n > 5000


def test_raw_records_validate(bsky_world: BskyWorld) -> None:
    """Every post record of the world (not only those a test happened to read)."""
    lx = lexicons()
    bad = [(p.uri, errs) for p in bsky_world.posts[::7] if (errs := lx.errors("app.bsky.feed.post", p.record))]
    assert bad == []


def test_unknown_method_and_wrong_verb(bsky_server: BskySimServer) -> None:
    r = raw(bsky_server, "app.bsky.feed.getTimeline")
    assert (r.status_code, r.json()["error"]) == (501, "MethodNotImplemented")
    r = raw(bsky_server, "com.atproto.server.createSession")
    assert r.status_code == 400 and r.json()["error"] == "InvalidRequest"


def test_a_panel_with_bluesky_handles() -> None:
    """The panel's Bluesky handles are the brands' accounts; a brand without one has none."""
    from barometer.config import parse_panel
    from barometer.sim.world import build_world

    panel = parse_panel(
        {
            "id": "bsky-panel",
            "name": "B",
            "scoring": {"window_days": 30},
            "first_date": "2026-01-01",
            "brands": [
                {
                    "id": "alpha",
                    "name": "Alpha",
                    "accounts": [
                        {"network": "x", "handle": "alpha"},
                        {"network": "bluesky", "handle": "alpha.example.org"},
                    ],
                    "mentions": {"x": "alpha", "bluesky": {"q": "alpha"}},
                },
                {"id": "ghost", "name": "Ghost", "accounts": [{"network": "bluesky", "handle": "ghost.bsky.social"}]},
                {"id": "beta", "name": "Beta", "accounts": [{"handle": "beta"}], "mention_query": "beta"},
            ],
        }
    )
    world = build_bsky_world(build_world(panel, 7, end=datetime(2026, 4, 30).date()))
    assert {b: [world.actors[d].handle for d in ds] for b, ds in world.brand_accounts.items()} == {
        "alpha": ["alpha.example.org"],
        "ghost": ["ghost.bsky.social"],
    }
    assert world.brand_posts("alpha") and world.mention_posts("alpha")
    assert not any("bsky-social" in a.handle or "example-org" in a.handle for a in world.actors.values())
    alpha = world.brand_actor("alpha").did
    assert any(alpha in p.mentions for p in world.posts)
    now = datetime(2026, 5, 1, 5, tzinfo=UTC)
    now_ms = to_ms(now)
    with BskySimServer(world, now=now) as srv:
        c = CheckedClient(srv.url)
        c.login(srv.handle, srv.password)
        got = c.app.bsky.actor.get_profiles({"actors": ["alpha.example.org", "ghost.bsky.social", "beta.bsky.social"]})
        assert [p.handle for p in got.profiles] == ["alpha.example.org", "ghost.bsky.social"]
        r = c.app.bsky.feed.search_posts({"q": "*", "mentions": "alpha.example.org", "limit": 100})
        assert r.posts and r.hits_total == len(
            [
                p
                for p in world.posts
                if alpha in p.mentions and p.ts <= now_ms and (p.deleted_ms is None or p.deleted_ms > now_ms)
            ]
        )
