"""Posts: app.bsky.feed.getAuthorFeed (posts and reposts, newest first) and getPosts."""

from __future__ import annotations

import re
from typing import Any

from barometer.sim.bsky.errors import invalid
from barometer.sim.bsky.ids import POST_NSID, iso
from barometer.sim.bsky.model import BPost, Repost
from barometer.sim.bsky.params import Params, parse_when, split_at_uri
from barometer.sim.bsky.render import feed_item, post_view
from barometer.sim.bsky.state import BskyState

MAX_URIS = 25
FILTERS = ("posts_with_replies", "posts_no_replies", "posts_with_media", "posts_and_author_threads", "posts_with_video")
_CURSOR = re.compile(r"^(?P<when>\d{4}-\d{2}-\d{2}T[\d:.]+Z)::(?P<rkey>[a-z2-7]{13})$")


def _key(it: BPost | Repost) -> tuple[int, str]:
    return it.ts, it.uri.rsplit("/", 1)[1]


def _cursor(it: BPost | Repost) -> str:
    """The page boundary: the item's sort time and record key (an AppView cursor looks alike)."""
    ts, rkey = _key(it)
    return f"{iso(ts)}::{rkey}"


def _read_cursor(cursor: str) -> tuple[int, str]:
    m = _CURSOR.match(cursor)
    if not m:
        raise invalid("Malformed cursor")
    return parse_when("cursor", m.group("when")), m.group("rkey")


def _keep(s: BskyState, it: BPost | Repost, did: str, flt: str) -> bool:
    if flt in ("posts_with_media", "posts_with_video"):
        return False  # the simulated posts carry no images or video
    if isinstance(it, Repost) or it.kind != "reply":
        return True
    if flt == "posts_no_replies":
        return False
    if flt == "posts_and_author_threads":
        return it.parent is not None and it.parent.author == did
    return True


def get_author_feed(s: BskyState, q: Params) -> dict[str, Any]:
    actor = q.identifier("actor", required=True)
    limit = q.integer("limit", 50, 1, 100)
    flt = q.one("filter") or "posts_with_replies"
    if flt not in FILTERS:
        raise invalid(f"Error: filter must be one of {', '.join(FILTERS)}")
    q.boolean("includePins", False)  # no pinned posts in the simulated world
    cursor = q.one("cursor")
    assert actor is not None
    a = s.actor(actor)
    assert a is not None
    items = s.feed(a.did)
    start = 0
    if cursor:
        bound = _read_cursor(cursor)
        # Newest first: the page starts after the last item the previous page gave.
        lo, hi = 0, len(items)
        while lo < hi:
            mid = (lo + hi) // 2
            if _key(items[mid]) >= bound:
                lo = mid + 1
            else:
                hi = mid
        start = lo
    page: list[BPost | Repost] = []
    i = start
    while i < len(items) and len(page) < limit:
        if _keep(s, items[i], a.did, flt):
            page.append(items[i])
        i += 1
    out: dict[str, Any] = {"feed": [feed_item(s, it) for it in page]}
    if page and any(_keep(s, it, a.did, flt) for it in items[i:]):
        out["cursor"] = _cursor(page[-1])
    s.count_posts(len(page))
    return out


def get_posts(s: BskyState, q: Params) -> dict[str, Any]:
    """Up to 25 AT-URIs (a handle in place of the DID resolves); unknown or deleted posts are
    left out; the order is the request's."""
    uris = q.many("uris", required=True, max_length=MAX_URIS)
    wanted = []
    for u in uris:
        repo, coll, rkey = split_at_uri("uris", u)
        wanted.append((repo, coll, rkey))
    out = []
    seen: set[str] = set()
    for repo, coll, rkey in wanted:
        if coll != POST_NSID:
            continue
        a = s.actor(repo, strict=False)
        if a is None:
            continue
        uri = f"at://{a.did}/{coll}/{rkey}"
        p = s.world.by_uri.get(uri)
        if p is None or uri in seen or not s.visible(p):
            continue
        seen.add(uri)
        out.append(post_view(s, p))
    s.count_posts(len(out))
    return {"posts": out}
