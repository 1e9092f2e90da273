"""The simulated world's data: users, posts, their metrics over time, and the world's look-ups.

Time is kept as integer epoch milliseconds (UTC) inside the world: it is what snowflake ids
encode, and it keeps generation and index look-ups cheap. `world.build_world` makes one.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from barometer.config import Panel

TWEPOCH_MS = 1288834974657  # X's snowflake epoch
DAY_MS = 86_400_000
YOUNG_MS = 3 * DAY_MS

Kind = str  # "original" | "reply" | "quote" | "repost"


def snowflake(ms: int, seq: int) -> int:
    """An X-style id: milliseconds since X's epoch in the high bits, so ids grow with time."""
    return ((ms - TWEPOCH_MS) << 22) | (seq & 0x3FFFFF)


def snowflake_ms(sid: int) -> int:
    return (sid >> 22) + TWEPOCH_MS


def min_id_at(ms: int) -> int:
    """Smallest id a post created at `ms` can have (for time → id range conversions)."""
    return max(0, (ms - TWEPOCH_MS) << 22)


def to_ms(t: datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def day_ms(d: date) -> int:
    return (d - date(1970, 1, 1)).days * DAY_MS


def stable_user_id(handle: str) -> str:
    """A brand account's id: a 19-digit number derived from its handle, stable across seeds."""
    h = int.from_bytes(hashlib.sha256(handle.lower().encode()).digest()[:8], "big")
    return str(10**18 + h % (9 * 10**18 - 1))


@dataclass(slots=True, eq=False)
class User:
    id: str
    username: str
    name: str
    created_ms: int
    description: str
    location: str
    verified: bool
    followers: int
    following: int
    listed: int
    tweets_before: int  # posts before the world's history starts (for tweet_count)
    brand_id: str | None = None
    # End-of-UTC-day follower counts for brand accounts (empty for others).
    followers_on: dict[date, int] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Post:
    ts: int  # created_at, epoch ms UTC
    author_id: str
    text: str
    kind: Kind
    family: str
    lang: str = "fr"
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    impressions: int = 0
    ref: Post | None = None  # replied_to / quoted / retweeted post
    in_reply_to_user_id: str | None = None
    brand_id: str | None = None  # set when the author is a brand account
    target: str | None = None  # the brand this post mentions (ground truth), if any
    deleted_ms: int | None = None
    id: int = 0

    @property
    def created_at(self) -> datetime:
        return from_ms(self.ts)

    @property
    def interactions(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


@dataclass(frozen=True)
class Metrics:
    likes: int
    reposts: int
    replies: int
    quotes: int
    bookmarks: int
    impressions: int

    @property
    def interactions(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


@dataclass
class World:
    panel: Panel
    seed: int
    start: date
    end: date
    users: dict[str, User]
    posts: list[Post]  # sorted by id (= by creation time)
    brand_accounts: dict[str, list[str]]  # brand id → account user ids
    by_id: dict[int, Post] = field(default_factory=dict)
    by_author: dict[str, list[Post]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.posts}
        self.by_author = {}
        for p in self.posts:
            self.by_author.setdefault(p.author_id, []).append(p)
        self._handles = {u.username.lower(): u.id for u in self.users.values()}

    # -- look-ups ---------------------------------------------------------------------------
    def user_by_handle(self, handle: str) -> User | None:
        uid = self._handles.get(handle.lower().removeprefix("@"))
        return self.users.get(uid) if uid else None

    def brand_user(self, brand_id: str) -> User:
        return self.users[self.brand_accounts[brand_id][0]]

    def followers_at(self, user_id: str, t: datetime) -> int:
        """Followers as read at `t`: the count at the end of the last complete UTC day."""
        u = self.users[user_id]
        if not u.followers_on:
            return u.followers
        d = (t.astimezone(UTC) - timedelta(days=1)).date()
        d = min(max(d, self.start), self.end)
        return u.followers_on[d]

    def metrics_at(self, post: Post, t_ms: int) -> Metrics:
        """Public metrics seen at `t_ms`: linear growth over 3 days, then final.

        A repost shows the metrics of the post it reposts, as X does.
        """
        src = post.ref if post.kind == "repost" and post.ref is not None else post
        age = t_ms - src.ts
        if age >= YOUNG_MS:
            return Metrics(src.likes, src.reposts, src.replies, src.quotes, src.bookmarks, src.impressions)
        f = max(age, 0) / YOUNG_MS

        def g(x: int) -> int:
            return math.floor(x * f)

        return Metrics(
            g(src.likes), g(src.reposts), g(src.replies), g(src.quotes), g(src.bookmarks), g(src.impressions)
        )

    def visible(self, post: Post, now_ms: int) -> bool:
        return post.ts <= now_ms and (post.deleted_ms is None or post.deleted_ms > now_ms)

    def brand_posts(self, brand_id: str) -> list[Post]:
        out: list[Post] = []
        for uid in self.brand_accounts[brand_id]:
            out.extend(self.by_author.get(uid, []))
        out.sort(key=lambda p: p.id)
        return out

    def mention_posts(self, brand_id: str) -> list[Post]:
        """Ground truth: posts by others naming the brand (retweets included; filter on kind)."""
        return [p for p in self.posts if p.target == brand_id]

    def tweet_count(self, user_id: str, t_ms: int) -> int:
        u = self.users[user_id]
        posts = self.by_author.get(user_id, [])
        ts = [p.ts for p in posts]
        return u.tweets_before + bisect.bisect_right(ts, t_ms)
