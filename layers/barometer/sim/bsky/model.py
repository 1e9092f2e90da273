"""The Bluesky world's data: actors, posts (with their records), reposts, and look-ups.

Times are epoch milliseconds (UTC), as in the X world. A post keeps the X post it derives
from (`src`) and a scale: its counts at any time are the X post's, scaled (Bluesky is smaller).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from barometer.sim.model import YOUNG_MS, Post


@dataclass(slots=True, eq=False)
class Actor:
    did: str
    handle: str
    display_name: str
    description: str
    created_ms: int
    followers: int
    follows: int
    posts_before: int  # posts before the world's history starts (for postsCount)
    brand_id: str | None = None
    followers_on: dict[date, int] = field(default_factory=dict)  # brand accounts: end of UTC day


@dataclass(slots=True, eq=False)
class BPost:
    ts: int  # createdAt (= indexedAt, sortAt), epoch ms
    author: str  # DID
    rkey: str  # TID
    uri: str
    cid: str
    record: dict[str, Any]  # the app.bsky.feed.post record, as served
    kind: str  # original | reply | quote
    src: Post  # the X post it derives from (counts)
    scale: float  # counts = X counts × scale
    mentions: tuple[str, ...] = ()  # DIDs of the mention facets
    quoted: BPost | None = None
    parent: BPost | None = None
    deleted_ms: int | None = None
    brand_id: str | None = None  # set when the author is a brand account
    target: str | None = None  # the brand it mentions (ground truth), if any
    words: frozenset[str] = frozenset()  # the search index's tokens of the text


@dataclass(slots=True, eq=False)
class Repost:
    ts: int
    by: str  # DID
    subject: BPost
    uri: str
    cid: str


@dataclass(frozen=True)
class Counts:
    likes: int
    reposts: int
    replies: int
    quotes: int


@dataclass
class BskyWorld:
    seed: int
    start: date
    end: date
    actors: dict[str, Actor]  # DID → actor
    posts: list[BPost]  # by time
    reposts: list[Repost]  # by time
    brand_accounts: dict[str, list[str]]  # brand id → DIDs
    by_uri: dict[str, BPost] = field(default_factory=dict)
    by_handle: dict[str, str] = field(default_factory=dict)  # handle → DID
    feeds: dict[str, list[BPost | Repost]] = field(default_factory=dict)  # DID → items by time

    def __post_init__(self) -> None:
        self.by_uri = {p.uri: p for p in self.posts}
        self.by_handle = {a.handle.lower(): a.did for a in self.actors.values()}
        feeds: dict[str, list[BPost | Repost]] = {}
        for p in self.posts:
            feeds.setdefault(p.author, []).append(p)
        for r in self.reposts:
            feeds.setdefault(r.by, []).append(r)
        for items in feeds.values():
            items.sort(key=lambda it: (it.ts, it.uri))
        self.feeds = feeds
        self._post_ts = {did: [it.ts for it in items if isinstance(it, BPost)] for did, items in feeds.items()}
        self._ts = [p.ts for p in self.posts]
        self._by_mention: dict[str, tuple[list[BPost], list[int]]] | None = None

    def in_range(self, lo_ms: int, hi_ms: int, *, mentioning: str | None = None) -> list[BPost]:
        """Posts created in [lo_ms, hi_ms], by time; only those mentioning a DID if given."""
        if mentioning is None:
            posts, ts = self.posts, self._ts
        else:
            if self._by_mention is None:
                index: dict[str, list[BPost]] = {}
                for p in self.posts:
                    for did in p.mentions:
                        index.setdefault(did, []).append(p)
                self._by_mention = {d: (ps, [p.ts for p in ps]) for d, ps in index.items()}
            posts, ts = self._by_mention.get(mentioning, ([], []))
        return posts[bisect.bisect_left(ts, lo_ms) : bisect.bisect_right(ts, hi_ms)]

    def add_actor(self, a: Actor) -> None:
        """An account with no post (e.g. the collector's login account)."""
        self.actors.setdefault(a.did, a)
        self.by_handle.setdefault(a.handle.lower(), a.did)

    def actor(self, ident: str) -> Actor | None:
        """An actor by DID or handle (case-insensitive, `@` optional)."""
        ident = ident.removeprefix("@")
        if ident.startswith("did:"):
            return self.actors.get(ident)
        did = self.by_handle.get(ident.lower())
        return self.actors.get(did) if did else None

    def brand_actor(self, brand_id: str) -> Actor:
        return self.actors[self.brand_accounts[brand_id][0]]

    def followers_at(self, did: str, t: datetime) -> int:
        """Followers as read at `t`: the count at the end of the last complete UTC day."""
        a = self.actors[did]
        if not a.followers_on:
            return a.followers
        d = (t.astimezone(UTC) - timedelta(days=1)).date()
        d = min(max(d, self.start), self.end)
        return a.followers_on.get(d, a.followers)

    def posts_count(self, did: str, now_ms: int) -> int:
        a = self.actors[did]
        return a.posts_before + bisect.bisect_right(self._post_ts.get(did, []), now_ms)

    def counts_at(self, post: BPost, now_ms: int) -> Counts:
        """Counts seen at `now_ms`: the X post's, scaled, growing linearly over 3 days."""
        src = post.src
        age = now_ms - post.ts
        f = post.scale * (1.0 if age >= YOUNG_MS else max(age, 0) / YOUNG_MS)

        def g(x: int) -> int:
            return math.floor(x * f)

        return Counts(g(src.likes), g(src.reposts), g(src.replies), g(src.quotes))

    def brand_posts(self, brand_id: str) -> list[BPost]:
        dids = set(self.brand_accounts.get(brand_id, []))
        return [p for p in self.posts if p.author in dids]

    def mention_posts(self, brand_id: str) -> list[BPost]:
        """Ground truth: posts by others naming the brand (facet mention or text)."""
        return [p for p in self.posts if p.target == brand_id]
