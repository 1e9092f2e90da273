"""Posts and users as X's JSON objects, with the fields and expansions a request asked for."""

from __future__ import annotations

import bisect
import re
from datetime import UTC, datetime
from typing import Any

from barometer.sim.api.params import iso, requested_fields
from barometer.sim.api.state import ApiState
from barometer.sim.model import Post, User, World, min_id_at

_ENTITY_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_ENTITY_TAG = re.compile(r"(?<![\w#])#(\w+)")
_ENTITY_URL = re.compile(r"https?://\S+")


def page(
    state: ApiState,
    posts: list[Post],
    params: dict[str, str],
    exp_allowed: frozenset[str],
    meta: dict[str, Any] | None,
) -> dict[str, Any]:
    """A posts response: `data`, `includes` for the expansions asked, then `meta` if given."""
    tf, uf, exp = requested_fields(params, exp_allowed)
    out: dict[str, Any] = {}
    if posts:
        out["data"] = [tweet_json(state, p, tf) for p in posts]
        state.count_posts(len(posts))
        inc = includes(state, posts, tf, uf, exp)
        if inc:
            out["includes"] = inc
    if meta is not None:
        out["meta"] = meta
    return out


def tweet_json(state: ApiState, p: Post, fields: set[str]) -> dict[str, Any]:
    d: dict[str, Any] = {"id": str(p.id), "text": p.text, "edit_history_tweet_ids": [str(p.id)]}
    if not fields:
        return d
    if "author_id" in fields:
        d["author_id"] = p.author_id
    if "created_at" in fields:
        d["created_at"] = iso(p.ts)
    if "lang" in fields:
        d["lang"] = p.lang
    if "conversation_id" in fields:
        root = p
        while root.kind == "reply" and root.ref is not None:
            root = root.ref
        d["conversation_id"] = str(root.id)
    if "in_reply_to_user_id" in fields and p.kind == "reply" and p.in_reply_to_user_id:
        d["in_reply_to_user_id"] = p.in_reply_to_user_id
    if "referenced_tweets" in fields and p.ref is not None:
        kind = {"reply": "replied_to", "quote": "quoted", "repost": "retweeted"}.get(p.kind)
        if kind:
            d["referenced_tweets"] = [{"type": kind, "id": str(p.ref.id)}]
    if "public_metrics" in fields:
        m = state.world.metrics_at(p, state.now_ms)
        d["public_metrics"] = {
            "retweet_count": m.reposts,
            "reply_count": m.replies,
            "like_count": m.likes,
            "quote_count": m.quotes,
            "bookmark_count": m.bookmarks,
            "impression_count": m.impressions,
        }
    if "entities" in fields:
        ent = state.entity_cache.get(p.id)
        if ent is None:
            ent = state.entity_cache[p.id] = entities(state.world, p.text)
        if ent:
            d["entities"] = ent
    if "possibly_sensitive" in fields:
        d["possibly_sensitive"] = False
    if "reply_settings" in fields:
        d["reply_settings"] = "everyone"
    if "edit_controls" in fields:
        d["edit_controls"] = {
            "edits_remaining": 5,
            "is_edit_eligible": False,
            "editable_until": iso(p.ts + 3_600_000),
        }
    return d


def entities(world: World, text: str) -> dict[str, Any]:
    ent: dict[str, Any] = {}
    mentions = []
    for m in _ENTITY_MENTION.finditer(text):
        u = world.user_by_handle(m.group(1))
        e: dict[str, Any] = {"start": m.start(), "end": m.end(), "username": m.group(1)}
        if u is not None:
            e["id"] = u.id
        mentions.append(e)
    if mentions:
        ent["mentions"] = mentions
    tags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _ENTITY_TAG.finditer(text)]
    if tags:
        ent["hashtags"] = tags
    urls = [
        {
            "start": m.start(),
            "end": m.end(),
            "url": m.group(0),
            "expanded_url": f"https://example.org/sante/{m.group(0)[-10:]}",
            "display_url": f"example.org/sante/{m.group(0)[-10:]}",
        }
        for m in _ENTITY_URL.finditer(text)
    ]
    if urls:
        ent["urls"] = urls
    return ent


def user_json(state: ApiState, u: User, fields: set[str]) -> dict[str, Any]:
    d: dict[str, Any] = {"id": u.id, "name": u.name, "username": state.username(u)}
    if "created_at" in fields:
        d["created_at"] = iso(u.created_ms)
    if "description" in fields:
        d["description"] = u.description
    if "location" in fields and u.location:
        d["location"] = u.location
    if "protected" in fields:
        d["protected"] = False
    if "verified" in fields:
        d["verified"] = u.verified
    if "verified_type" in fields:
        d["verified_type"] = "business" if u.brand_id else ("blue" if u.verified else "none")
    if "profile_image_url" in fields:
        d["profile_image_url"] = f"https://pbs.twimg.com/profile_images/{u.id}/avatar_normal.jpg"
    if "url" in fields:
        d["url"] = ""
    if "public_metrics" in fields:
        followers = (
            state.world.followers_at(u.id, datetime.fromtimestamp(state.now_ms / 1000, tz=UTC))
            if u.followers_on
            else u.followers
        )
        d["public_metrics"] = {
            "followers_count": followers,
            "following_count": u.following,
            "tweet_count": state.world.tweet_count(u.id, state.now_ms),
            "listed_count": u.listed,
            "like_count": u.listed * 3,
        }
    if "most_recent_tweet_id" in fields:
        ids = state.author_ids.get(u.id, [])
        k = bisect.bisect_right(ids, min_id_at(state.now_ms + 1)) - 1
        if k >= 0:
            d["most_recent_tweet_id"] = str(ids[k])
    return d


def includes(state: ApiState, posts: list[Post], tf: set[str], uf: set[str], exp: set[str]) -> dict[str, Any]:
    inc: dict[str, Any] = {}
    uids: dict[str, None] = {}  # an ordered set: users appear in the order posts name them
    ref_tweets: dict[int, Post] = {}
    for p in posts:
        if "author_id" in exp:
            uids[p.author_id] = None
        if "in_reply_to_user_id" in exp and p.kind == "reply" and p.in_reply_to_user_id:
            uids[p.in_reply_to_user_id] = None
        if "entities.mentions.username" in exp:
            for m in _ENTITY_MENTION.finditer(p.text):
                u = state.world.user_by_handle(m.group(1))
                if u is not None:
                    uids[u.id] = None
        if (
            ("referenced_tweets.id" in exp or "referenced_tweets.id.author_id" in exp)
            and p.ref is not None
            and state.visible(p.ref)
        ):
            ref_tweets[p.ref.id] = p.ref
            if "referenced_tweets.id.author_id" in exp:
                uids[p.ref.author_id] = None
    if ref_tweets and "referenced_tweets.id" in exp:
        inc["tweets"] = [tweet_json(state, t, tf) for t in ref_tweets.values()]
        state.count_posts(len(ref_tweets))
    users = [user_json(state, state.world.users[u], uf) for u in uids if not state.author_hidden(u)]
    if users:
        inc["users"] = users
        state.stats.count_users(len(users))
    return inc
