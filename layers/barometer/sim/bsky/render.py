"""Views as the AppView writes them: profiles (basic, detailed), posts, feed items."""

from __future__ import annotations

from typing import Any

from barometer.sim.bsky.ids import iso
from barometer.sim.bsky.model import Actor, BPost, Repost
from barometer.sim.bsky.state import BskyState
from barometer.sim.model import from_ms

_ASSOCIATED = {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False}
_PROFILE_VIEWER = {"muted": False, "blockedBy": False}


def profile_basic(a: Actor) -> dict[str, Any]:
    return {
        "did": a.did,
        "handle": a.handle,
        "displayName": a.display_name,
        "associated": dict(_ASSOCIATED),
        "viewer": dict(_PROFILE_VIEWER),
        "labels": [],
        "createdAt": iso(a.created_ms),
    }


def profile_detailed(s: BskyState, a: Actor) -> dict[str, Any]:
    return {
        "did": a.did,
        "handle": a.handle,
        "displayName": a.display_name,
        "description": a.description,
        "followersCount": s.world.followers_at(a.did, from_ms(s.now_ms)),
        "followsCount": a.follows,
        "postsCount": s.world.posts_count(a.did, s.now_ms),
        "associated": dict(_ASSOCIATED),
        "indexedAt": iso(min(s.now_ms, a.created_ms + 60_000)),
        "createdAt": iso(a.created_ms),
        "viewer": dict(_PROFILE_VIEWER),
        "labels": [],
    }


def _counts(s: BskyState, p: BPost) -> dict[str, int]:
    c = s.world.counts_at(p, s.now_ms)
    return {"replyCount": c.replies, "repostCount": c.reposts, "likeCount": c.likes, "quoteCount": c.quotes}


def post_view(s: BskyState, p: BPost) -> dict[str, Any]:
    author = s.world.actors[p.author]
    view: dict[str, Any] = {
        "$type": "app.bsky.feed.defs#postView",
        "uri": p.uri,
        "cid": p.cid,
        "author": profile_basic(author),
        "record": p.record,
    }
    if p.kind == "quote":
        view["embed"] = {"$type": "app.bsky.embed.record#view", "record": _quoted(s, p)}
    view.update(_counts(s, p))
    view.update(
        {
            "bookmarkCount": 0,
            "indexedAt": iso(p.ts),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
    )
    return view


def _quoted(s: BskyState, p: BPost) -> dict[str, Any]:
    q = p.quoted
    if q is None or not s.visible(q):
        uri = p.record["embed"]["record"]["uri"]
        return {"$type": "app.bsky.embed.record#viewNotFound", "uri": uri, "notFound": True}
    return {
        "$type": "app.bsky.embed.record#viewRecord",
        "uri": q.uri,
        "cid": q.cid,
        "author": profile_basic(s.world.actors[q.author]),
        "value": q.record,
        "labels": [],
        **_counts(s, q),
        "indexedAt": iso(q.ts),
        "embeds": [],
    }


def _reply_side(s: BskyState, uri: str) -> dict[str, Any]:
    p = s.world.by_uri.get(uri)
    if p is None or not s.visible(p):
        return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
    return post_view(s, p)


def feed_item(s: BskyState, it: BPost | Repost) -> dict[str, Any]:
    """A feedViewPost: the post, its reply context, and `reason` for a repost."""
    if isinstance(it, Repost):
        return {
            "post": post_view(s, it.subject),
            "reason": {
                "$type": "app.bsky.feed.defs#reasonRepost",
                "by": profile_basic(s.world.actors[it.by]),
                "uri": it.uri,
                "cid": it.cid,
                "indexedAt": iso(it.ts),
            },
        }
    item: dict[str, Any] = {"post": post_view(s, it)}
    reply = it.record.get("reply")
    if reply is not None:
        item["reply"] = {
            "root": _reply_side(s, reply["root"]["uri"]),
            "parent": _reply_side(s, reply["parent"]["uri"]),
        }
    return item
