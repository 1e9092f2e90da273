"""Bluesky pages (XRPC JSON) → lake rows, `network = bluesky`.

A post's id is its AT URI; an account's id its DID. Mentioned accounts come from the post's
facets (`app.bsky.richtext.facet#mention`, a DID): the graph is built from DIDs, each named
by the handle we know for it (the panel's accounts, the post's author) or else the DID itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NETWORK = "bluesky"
MENTION = "app.bsky.richtext.facet#mention"


def ts(s: str | None) -> datetime | None:
    if not s:
        return None
    d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (d.astimezone(UTC) if d.tzinfo else d).replace(tzinfo=None)


def mentioned_dids(record: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for f in record.get("facets") or []:
        for feat in f.get("features") or []:
            if feat.get("$type") == MENTION and feat.get("did") and feat["did"] not in out:
                out.append(feat["did"])
    return out


def kind(record: dict[str, Any], repost: bool = False) -> str:
    if repost:
        return "repost"
    if record.get("reply"):
        return "reply"
    emb = record.get("embed") or {}
    if str(emb.get("$type", "")).startswith("app.bsky.embed.record"):
        return "quote"
    return "original"


def post_row(view: dict[str, Any], names: dict[str, str], observed_at: datetime,
             repost: bool = False) -> dict[str, Any]:
    """A `posts`/`mentions` row (without brand_id) from a postView."""
    rec = view.get("record") or {}
    author = view.get("author") or {}
    langs = rec.get("langs") or []
    return {
        "post_id": view["uri"], "network": NETWORK, "account_id": author.get("did"),
        "author_id": author.get("did"), "author_handle": author.get("handle"),
        "author_followers": None, "created_at": ts(rec.get("createdAt") or view.get("indexedAt")),
        "kind": kind(rec, repost), "text": rec.get("text", ""), "lang": langs[0] if langs else None,
        "likes": view.get("likeCount", 0), "reposts": view.get("repostCount", 0),
        "replies": view.get("replyCount", 0), "quotes": view.get("quoteCount", 0), "impressions": None,
        "mentioned_handles": [names.get(d, d).lower() for d in mentioned_dids(rec)],
        "topics": None, "deleted": False, "observed_at": observed_at,
    }


def account_row(brand: str, profile: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"brand_id": brand, "network": NETWORK, "account_id": profile.get("did"),
            "handle": profile.get("handle"), "name": profile.get("displayName"), "status": "ok",
            "followers": profile.get("followersCount"), "following": profile.get("followsCount"),
            "posts_count": profile.get("postsCount"), "listed": None, "collected_at": at}
