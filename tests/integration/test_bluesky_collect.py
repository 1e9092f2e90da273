"""The Bluesky collector on the file lake, row by row, against an in-process stand-in of the
atproto Client (same call shapes: client.app.bsky.<ns>.<method>(params=...), models with
model_dump). To be moved onto the Bluesky simulator (barometer.sim.bsky) once it serves XRPC."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from barometer.collect.bluesky import collect_bluesky
from barometer.config import parse_panel
from barometer.lake.store import Lake

D = date(2026, 4, 30)
PANEL = parse_panel({
    "id": "bsky-panel", "name": "B", "scoring": {"window_days": 10},
    "brands": [
        {"id": "alpha", "name": "Alpha", "accounts": [{"network": "x", "handle": "alpha"},
                                                      {"network": "bluesky", "handle": "alpha.bsky.social"}],
         "mentions": {"x": "alpha", "bluesky": {"q": "alpha"}}},
        {"id": "ghost", "name": "Ghost", "accounts": [{"network": "bluesky", "handle": "ghost.bsky.social"}]},
        {"id": "beta", "name": "Beta", "accounts": [{"handle": "beta"}], "mention_query": "beta"},
    ],
})


class _Resp:
    def __init__(self, d: dict[str, Any]) -> None:
        self.d = d

    def model_dump(self, **_: Any) -> dict[str, Any]:
        return self.d


def _post(uri: str, did: str, handle: str, created: str, likes: int = 0, facets: list[str] | None = None) -> dict:
    rec: dict[str, Any] = {"text": "hello", "createdAt": created, "langs": ["fr"]}
    if facets:
        rec["facets"] = [{"features": [{"$type": "app.bsky.richtext.facet#mention", "did": d}]} for d in facets]
    return {"uri": uri, "author": {"did": did, "handle": handle}, "record": rec, "likeCount": likes,
            "repostCount": 0, "replyCount": 0, "quoteCount": 0, "indexedAt": created}


class FakeClient:
    def __init__(self, password: str = "app-pass") -> None:
        self.calls: list[str] = []
        self.password = password
        self.session: str | None = None
        feed = [{"post": _post("at://did:plc:alpha/app.bsky.feed.post/2", "did:plc:alpha", "alpha.bsky.social",
                               "2026-04-29T10:00:00Z", 4, ["did:plc:other"])},
                {"post": _post("at://did:plc:alpha/app.bsky.feed.post/1", "did:plc:alpha", "alpha.bsky.social",
                               "2026-04-25T10:00:00Z", 2)}]
        search = [_post("at://did:plc:u1/app.bsky.feed.post/9", "did:plc:u1", "u1.bsky.social",
                        "2026-04-30T08:00:00Z", 1, ["did:plc:alpha"]),
                  _post("at://did:plc:alpha/app.bsky.feed.post/3", "did:plc:alpha", "alpha.bsky.social",
                        "2026-04-30T09:00:00Z")]

        def ep(name: str, fn: Any) -> Any:
            def call(params: dict[str, Any]) -> _Resp:
                self.calls.append(name)
                return _Resp(fn(params))
            return call
        profiles = {"alpha.bsky.social": {"did": "did:plc:alpha", "handle": "alpha.bsky.social",
                                          "followersCount": 80, "followsCount": 3, "postsCount": 12}}
        self.app = SimpleNamespace(bsky=SimpleNamespace(
            actor=SimpleNamespace(get_profiles=ep("getProfiles", lambda p: {
                "profiles": [profiles[a] for a in p["actors"] if a in profiles]})),
            feed=SimpleNamespace(
                get_author_feed=ep("getAuthorFeed", lambda p: {"feed": feed}),
                get_posts=ep("getPosts", lambda p: {"posts": []}),
                search_posts=ep("searchPosts", lambda p: {"posts": search}))))

    def login(self, login: str | None = None, password: str | None = None, session_string: str | None = None) -> None:
        self.calls.append("login" if session_string is None else "resume")
        if session_string is None and password != self.password:
            raise RuntimeError("AuthenticationRequired")
        self.session = "s"

    def export_session_string(self) -> str:
        return self.session or ""


def test_rows_row_by_row_and_rerun(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    c = FakeClient()
    r = collect_bluesky(PANEL, D, lake, c, "me.bsky.social", "app-pass")
    assert r.errors == ["bluesky: ghost: handle @ghost.bsky.social does not resolve"]
    assert r.status == "partial" and r.logins == 1 and c.calls.count("getProfiles") == 1
    acc = lake.read("accounts", PANEL.id).to_pylist()
    assert [(a["brand_id"], a["network"], a["account_id"], a["followers"]) for a in acc] == [
        ("alpha", "bluesky", "did:plc:alpha", 80)]
    posts = sorted(lake.read("posts", PANEL.id).to_pylist(), key=lambda p: p["post_id"])
    assert [(p["post_id"][-1], p["likes"], p["mentioned_handles"], p["network"]) for p in posts] == [
        ("1", 2, [], "bluesky"), ("2", 4, ["did:plc:other"], "bluesky")]
    men = lake.read("mentions", PANEL.id).to_pylist()  # the brand's own post is not a mention
    assert [(m["author_id"], m["mentioned_handles"]) for m in men] == [("did:plc:u1", ["alpha.bsky.social"])]
    assert lake.read("mention_counts", PANEL.id).to_pylist()[0]["mentions"] == 1
    # Rerun: same rows, nothing twice; the session is resumed, not a new login.
    c2 = FakeClient()
    r2 = collect_bluesky(PANEL, D, lake, c2, "me.bsky.social", "app-pass")
    assert r2.logins == 0 and "login" not in c2.calls
    assert lake.read("posts", PANEL.id).num_rows == 2 and lake.read("mentions", PANEL.id).num_rows == 1


def test_refused_password_one_line_others_collected(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    r = collect_bluesky(PANEL, D, lake, FakeClient(password="other"), "me.bsky.social", "wrong-pass")
    line = [e for e in r.errors if "login refused" in e]
    assert line == ["bluesky: login refused for me.bsky.social: app password refused or expired"]
    assert "wrong-pass" not in " ".join(r.errors)
    assert lake.read("posts", PANEL.id).num_rows == 2  # profiles and feeds still read
    assert lake.read("mentions", PANEL.id).num_rows == 0


@pytest.mark.parametrize("panel_net", ["x"])
def test_x_only_panel_skipped(tmp_path: Path, panel_net: str) -> None:
    x_only = PANEL.model_copy(update={"brands": [PANEL.brand("beta")]})
    assert collect_bluesky(x_only, D, Lake(str(tmp_path)), FakeClient()).status == "skipped"
    assert datetime  # noqa: B018
