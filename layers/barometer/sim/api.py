"""X API v2 semantics over a simulated world, independent of the HTTP transport.

`XApi.handle(path, query, headers)` returns a `Reply` (status, headers, body). The server
module only moves bytes; keeping the API logic here lets tests and benchmarks call it
directly. Response shapes, error documents and limits follow the real API (v2, app-only
bearer auth); where X's behaviour is not documented the choice made is noted inline.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qs

from barometer.sim.faults import FaultPlan
from barometer.sim.query import QueryError, SearchIndex
from barometer.sim.world import DAY_MS, Post, User, World, min_id_at, snowflake_ms, to_ms

# App-only (bearer) limits per 15-minute window, from X's documented rate limits.
RATE_LIMITS: dict[str, int] = {
    "users_by": 300,
    "users": 300,
    "users_tweets": 1500,
    "tweets": 3500,
    "search_recent": 450,
    "counts_recent": 300,
    "search_all": 300,
    "counts_all": 300,
    "usage": 50,
}
WINDOW_S = 900
POST_READING = ("users_tweets", "tweets", "search_recent", "search_all")

TWEET_FIELDS = frozenset(
    {
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "suggested_source_links",
        "text",
        "username",
        "withheld",
    }
)
USER_FIELDS = frozenset(
    {
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "most_recent_tweet_id",
        "name",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_type",
        "withheld",
    }
)
TWEET_EXPANSIONS = frozenset(
    {
        "article.cover_media",
        "article.media_entities",
        "attachments.media_keys",
        "attachments.media_source_tweet",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "entities.note.mentions.username",
        "referenced_tweets.id",
        "referenced_tweets.id.attachments.media_keys",
        "referenced_tweets.id.author_id",
    }
)
USER_EXPANSIONS = frozenset({"affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"})
_MEDIA_PLACE_POLL = ("media.fields", "poll.fields", "place.fields")
_TWEET_PARAMS = ("tweet.fields", "user.fields", "expansions", *_MEDIA_PLACE_POLL)
ALLOWED: dict[str, tuple[str, ...]] = {
    "users_by": ("usernames", "user.fields", "expansions", "tweet.fields"),
    "users": ("ids", "user.fields", "expansions", "tweet.fields"),
    "users_tweets": (
        "since_id",
        "until_id",
        "max_results",
        "pagination_token",
        "exclude",
        "start_time",
        "end_time",
        *_TWEET_PARAMS,
    ),
    "tweets": ("ids", *_TWEET_PARAMS),
    "search_recent": (
        "query",
        "start_time",
        "end_time",
        "since_id",
        "until_id",
        "max_results",
        "next_token",
        "pagination_token",
        "sort_order",
        *_TWEET_PARAMS,
    ),
    "counts_recent": (
        "query",
        "start_time",
        "end_time",
        "since_id",
        "until_id",
        "next_token",
        "pagination_token",
        "granularity",
        "search_count.fields",
    ),
    "usage": ("days", "usage.fields"),
}
ALLOWED["search_all"] = ALLOWED["search_recent"]
ALLOWED["counts_all"] = ALLOWED["counts_recent"]

_NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
_INVALID = "https://api.twitter.com/2/problems/invalid-request"
_ROUTES = (
    (re.compile(r"^/2/users/by$"), "users_by"),
    (re.compile(r"^/2/users$"), "users"),
    (re.compile(r"^/2/users/([^/]+)/tweets$"), "users_tweets"),
    (re.compile(r"^/2/tweets$"), "tweets"),
    (re.compile(r"^/2/tweets/search/recent$"), "search_recent"),
    (re.compile(r"^/2/tweets/search/all$"), "search_all"),
    (re.compile(r"^/2/tweets/counts/recent$"), "counts_recent"),
    (re.compile(r"^/2/tweets/counts/all$"), "counts_all"),
    (re.compile(r"^/2/usage/tweets$"), "usage"),
)
_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})$"
)
_ENTITY_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_ENTITY_TAG = re.compile(r"(?<![\w#])#(\w+)")
_ENTITY_URL = re.compile(r"https?://\S+")


@dataclass
class Reply:
    status: int
    body: bytes | None  # None: drop the connection without answering
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeout fault)


class ApiError(Exception):
    def __init__(self, status: int, doc: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(doc.get("detail") or doc.get("title"))
        self.status = status
        self.doc = doc
        self.headers = headers or {}


def invalid(message: str, parameters: dict[str, list[str]] | None = None) -> ApiError:
    err: dict[str, Any] = {"message": message}
    if parameters is not None:
        err["parameters"] = parameters
    return ApiError(
        400,
        {
            "errors": [err],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": _INVALID,
        },
    )


def generic(status: int, title: str) -> dict[str, Any]:
    return {"title": title, "detail": title, "type": "about:blank", "status": status}


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def iso(ms: int) -> str:
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(name: str, value: str) -> int:
    m = _TIME.match(value)
    if not m:
        raise invalid(
            f"Invalid '{name}':'{value}'. '{name}' must be a valid RFC 3339 date-time", {name: [value]}
        )
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        t = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=UTC)
    except ValueError:
        raise invalid(f"Invalid '{name}':'{value}'.", {name: [value]}) from None
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        hh, mm = int(tz[1:3]), int(tz[-2:])
        t -= sign * timedelta(hours=hh, minutes=mm)
    return to_ms(t) + (int((frac or "0").ljust(3, "0")[:3]))


_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if not n:
            return out


def make_token(direction: str, post_id: int) -> str:
    # Opaque to clients, stateless here: the page boundary id, base-36 (X's tokens look alike).
    return direction + _b36(post_id ^ 0x5A5A5A5A5A)


def read_token(name: str, token: str, direction: str) -> int:
    try:
        if not token.startswith(direction):
            raise ValueError
        return int(token[1:], 36) ^ 0x5A5A5A5A5A
    except ValueError:
        raise invalid(f"The `{name}` query parameter value [{token}] is not valid", {name: [token]}) from None



def _check_ids(raw: str, ids: list[str]) -> None:
    for i in ids:
        if not i.isdigit() or len(i) > 19:
            raise invalid(f"The `ids` query parameter value [{i}] does not match ^[0-9]{{1,19}}$", {"ids": [raw]})


def _user_error(value: str, parameter: str, *, suspended: bool) -> dict[str, Any]:
    """X's `errors` entry for a suspended or unknown user asked by handle or id."""
    return {
        "value": value,
        "detail": f"User has been suspended: [{value}]." if suspended
        else f"Could not find user with {parameter}: [{value}].",
        "title": "Forbidden" if suspended else "Not Found Error",
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": value,
        "type": _NOT_FOUND,
    }

class XApi:
    """The API: routes, auth, limits, faults and the endpoint logic."""

    def __init__(
        self,
        world: World,
        bearer_token: str,
        now: datetime,
        faults: FaultPlan | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rate_limits: bool = True,
        search_all_per_second: bool = True,
        project_cap: int = 10_000_000,
    ) -> None:
        self.world = world
        self.token = bearer_token
        self.clock = clock
        self.rate_limits = rate_limits
        self.search_all_per_second = search_all_per_second
        self.project_cap = project_cap
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}
        self._last_search_all = 0.0
        self.usage: Counter[str] = Counter()  # simulated day (ISO) → posts read
        self.stats: dict[str, Any] = {
            "requests": Counter(),
            "status": Counter(),
            "posts": 0,
            "users": 0,
            "faults": Counter(),
        }
        self._ids = [p.id for p in world.posts]
        self._author_ids: dict[str, list[int]] = {a: [p.id for p in ps] for a, ps in world.by_author.items()}
        self.index = SearchIndex(world.posts, {u.id: u.username for u in world.users.values()})
        self._query_ids: dict[str, list[int]] = {}
        self._world_deleted = {p.id: p.deleted_ms for p in world.posts if p.deleted_ms is not None}
        self.now_ms = to_ms(now)
        self.faults = FaultPlan()
        self.deleted: dict[int, int] = {}  # fault deletions: post id → deletion time (ms)
        self._entity_cache: dict[int, dict[str, Any]] = {}
        # (author, now, faults) → visible timeline: the collector pages one timeline per run.
        self._timelines: dict[tuple[str, int, int], list[Post]] = {}
        self.set_faults(faults)

    # -- configuration -----------------------------------------------------------------------
    def set_now(self, now: datetime) -> None:
        new = to_ms(now)
        if abs(new - self.now_ms) >= WINDOW_S * 1000:
            # A replay jumps the simulated clock by days between runs: in the world it replays,
            # every 15-minute rate-limit window has long reset, so start fresh ones.
            with self._lock:
                self._windows.clear()
        self.now_ms = new

    def set_faults(self, plan: FaultPlan | None) -> None:
        plan = plan or FaultPlan()
        self.faults = plan
        self.deleted = {}
        self._timelines = {}
        self._renamed = {old: new for old, new in plan.renames.items()}
        self._renamed_to = {new.lower(): old for old, new in plan.renames.items()}
        ids = list(plan.delete_ids)
        if plan.delete:
            ids.extend(self._pick_deletions(plan.delete))
        for pid in ids:
            self.deleted[pid] = self.now_ms

    def _pick_deletions(self, n: int) -> list[int]:
        # Recent enough that a collector refreshing young posts has seen them, old enough
        # (a day) that it already stored them: the case deletions exercise.
        hi = self.now_ms - DAY_MS
        cands = [
            p
            for uids in self.world.brand_accounts.values()
            for u in uids
            for p in self.world.by_author.get(u, [])
            if p.kind != "repost" and p.ts <= hi and p.deleted_ms is None
        ]
        cands.sort(key=lambda p: p.id, reverse=True)
        return [p.id for p in cands[:n]]

    # -- helpers -------------------------------------------------------------------------------
    def visible(self, p: Post) -> bool:
        if p.ts > self.now_ms:
            return False
        if p.deleted_ms is not None and p.deleted_ms <= self.now_ms:
            return False
        d = self.deleted.get(p.id)
        if d is not None and d <= self.now_ms:
            return False
        return not self._author_hidden(p.author_id)

    def _author_hidden(self, uid: str) -> bool:
        if not self.faults.suspended and not self.faults.unknown:
            return False
        name = self.world.users[uid].username.lower()
        return name in self.faults.suspended or name in self.faults.unknown

    def username(self, u: User) -> str:
        return self._renamed.get(u.username.lower(), u.username)

    def _resolve_handle(self, handle: str) -> tuple[User | None, str | None]:
        """(user, problem) for a handle: problem is 'suspended' or 'not_found'."""
        low = handle.lower()
        if low in self.faults.suspended:
            return None, "suspended"
        if low in self.faults.unknown or low in self._renamed:
            return None, "not_found"
        u = self.world.user_by_handle(self._renamed_to.get(low, low))
        return (u, None) if u else (None, "not_found")

    # -- entry point ---------------------------------------------------------------------------
    def handle(self, path: str, query: str, headers: dict[str, str]) -> Reply:
        endpoint, arg = None, None
        for rx, name in _ROUTES:
            m = rx.match(path)
            if m:
                endpoint, arg = name, (m.group(1) if m.groups() else None)
                break
        if endpoint is None:
            return self._json(
                404,
                {
                    "errors": [{"message": "The requested resource could not be found."}],
                    "title": "Not Found Error",
                    "detail": "Not Found",
                    "type": "about:blank",
                    "status": 404,
                },
                {},
            )
        with self._lock:
            self.stats["requests"][endpoint] += 1
        auth = headers.get("authorization", "")
        if auth != f"Bearer {self.token}":
            return self._json(401, generic(401, "Unauthorized"), {})

        rl_headers: dict[str, str] = {}
        fault = self.faults.take(endpoint)
        if fault is not None:
            with self._lock:
                self.stats["faults"][fault.kind if fault.kind != "status" else str(fault.status)] += 1
            reply = self._fault_reply(fault, endpoint)
            if reply is not None:
                return reply
        try:
            rl_headers = self._rate_limit(endpoint)
            params = self._params(endpoint, query)
            body = self._dispatch(endpoint, arg, params)
        except ApiError as e:
            return self._json(e.status, e.doc, {**rl_headers, **e.headers})
        reply = self._json(200, body, rl_headers)
        if fault is not None and fault.kind == "timeout":
            reply.delay = self.faults.timeout_seconds
        return reply

    def _json(self, status: int, doc: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.stats["status"][status] += 1
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        return Reply(status, body, {"content-type": "application/json; charset=utf-8", **headers})

    def _fault_reply(self, fault: Any, endpoint: str) -> Reply | None:
        wall = self.clock()
        if fault.kind == "cap":
            if endpoint not in POST_READING:
                return None
            reset = int(wall) + self._cap_reset_days() * 86400
            return self._json(
                429,
                {
                    "account_id": 1_500_000_000,
                    "product_name": "standard-basic",
                    "title": "UsageCapExceeded",
                    "period": "Monthly",
                    "scope": "Product",
                    "detail": "Usage cap exceeded: Monthly product cap",
                    "type": "https://api.twitter.com/2/problems/usage-capped",
                    "status": 429,
                },
                {
                    "x-rate-limit-limit": str(RATE_LIMITS[endpoint]),
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(reset),
                },
            )
        if fault.kind == "status":
            hdrs = {}
            if fault.status == 429:
                hdrs = {
                    "x-rate-limit-limit": str(RATE_LIMITS[endpoint]),
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(wall) + 2),
                }
            return self._json(fault.status, generic(fault.status, _TITLES.get(fault.status, "Error")), hdrs)
        if fault.kind == "reset":
            with self._lock:
                self.stats["status"]["reset"] += 1
            return Reply(0, None)
        if fault.kind == "malformed":
            with self._lock:
                self.stats["status"]["malformed"] += 1
            return Reply(200, b'{"data":[{"id":"1","text":"tronqu', {"content-type": "application/json"})
        return None  # timeout: answered normally, late

    def _cap_reset_days(self) -> int:
        now = datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)
        nxt = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
        return max(1, (nxt - now).days)

    def _rate_limit(self, endpoint: str) -> dict[str, str]:
        limit = RATE_LIMITS[endpoint]
        wall = self.clock()
        win = int(wall // WINDOW_S)
        reset = (win + 1) * WINDOW_S
        with self._lock:
            w, used = self._windows.get(endpoint, (win, 0))
            if w != win:
                used = 0
            if self.rate_limits and used >= limit:
                self._windows[endpoint] = (win, used)
                raise ApiError(
                    429,
                    generic(429, "Too Many Requests"),
                    {
                        "x-rate-limit-limit": str(limit),
                        "x-rate-limit-remaining": "0",
                        "x-rate-limit-reset": str(reset),
                    },
                )
            if self.rate_limits and endpoint == "search_all" and self.search_all_per_second:
                if wall - self._last_search_all < 1.0:
                    raise ApiError(
                        429,
                        generic(429, "Too Many Requests"),
                        {
                            "x-rate-limit-limit": "1",
                            "x-rate-limit-remaining": "0",
                            "x-rate-limit-reset": str(int(self._last_search_all) + 2),
                        },
                    )
                self._last_search_all = wall
            used += 1
            self._windows[endpoint] = (win, used)
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - used)),
            "x-rate-limit-reset": str(reset),
        }

    def _params(self, endpoint: str, query: str) -> dict[str, str]:
        raw = parse_qs(query, keep_blank_values=True)
        allowed = ALLOWED[endpoint]
        for k in raw:
            if k not in allowed:
                raise invalid(f"The query parameter [{k}] is not one of [{','.join(allowed)}]", {k: raw[k]})
        return {k: v[-1] for k, v in raw.items()}

    def _dispatch(self, endpoint: str, arg: str | None, params: dict[str, str]) -> dict[str, Any]:
        if endpoint == "users_by":
            return self.users_by(params)
        if endpoint == "users":
            return self.users_by_ids(params)
        if endpoint == "users_tweets":
            assert arg is not None
            return self.users_tweets(arg, params)
        if endpoint == "tweets":
            return self.tweets(params)
        if endpoint in ("search_recent", "search_all"):
            return self.search(params, full=endpoint == "search_all")
        if endpoint in ("counts_recent", "counts_all"):
            return self.counts(params, full=endpoint == "counts_all")
        return self.usage_tweets(params)

    # -- field selection ------------------------------------------------------------------------
    @staticmethod
    def _list(params: dict[str, str], name: str, allowed: frozenset[str]) -> set[str]:
        val = params.get(name)
        if val is None:
            return set()
        items = [x for x in val.split(",")]
        for x in items:
            if x not in allowed:
                raise invalid(
                    f"The `{name}` query parameter value [{x}] is not one of [{','.join(sorted(allowed))}]",
                    {name: [val]},
                )
        return set(items)

    def _fields(
        self, params: dict[str, str], expansions: frozenset[str]
    ) -> tuple[set[str], set[str], set[str]]:
        return (
            self._list(params, "tweet.fields", TWEET_FIELDS),
            self._list(params, "user.fields", USER_FIELDS),
            self._list(params, "expansions", expansions),
        )

    def tweet_json(self, p: Post, fields: set[str]) -> dict[str, Any]:
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
            m = self.world.metrics_at(p, self.now_ms)
            d["public_metrics"] = {
                "retweet_count": m.reposts,
                "reply_count": m.replies,
                "like_count": m.likes,
                "quote_count": m.quotes,
                "bookmark_count": m.bookmarks,
                "impression_count": m.impressions,
            }
        if "entities" in fields:
            ent = self._entity_cache.get(p.id)
            if ent is None:
                ent = self._entity_cache[p.id] = self._entities(p.text)
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

    def _entities(self, text: str) -> dict[str, Any]:
        ent: dict[str, Any] = {}
        mentions = []
        for m in _ENTITY_MENTION.finditer(text):
            u = self.world.user_by_handle(m.group(1))
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

    def user_json(self, u: User, fields: set[str]) -> dict[str, Any]:
        d: dict[str, Any] = {"id": u.id, "name": u.name, "username": self.username(u)}
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
                self.world.followers_at(u.id, datetime.fromtimestamp(self.now_ms / 1000, tz=UTC))
                if u.followers_on
                else u.followers
            )
            d["public_metrics"] = {
                "followers_count": followers,
                "following_count": u.following,
                "tweet_count": self.world.tweet_count(u.id, self.now_ms),
                "listed_count": u.listed,
                "like_count": u.listed * 3,
            }
        if "most_recent_tweet_id" in fields:
            ids = self._author_ids.get(u.id, [])
            k = bisect.bisect_right(ids, min_id_at(self.now_ms + 1)) - 1
            if k >= 0:
                d["most_recent_tweet_id"] = str(ids[k])
        return d

    def _includes(self, posts: list[Post], tf: set[str], uf: set[str], exp: set[str]) -> dict[str, Any]:
        inc: dict[str, Any] = {}
        uids: dict[str, None] = {}
        ref_tweets: dict[int, Post] = {}
        for p in posts:
            if "author_id" in exp:
                uids[p.author_id] = None
            if "in_reply_to_user_id" in exp and p.kind == "reply" and p.in_reply_to_user_id:
                uids[p.in_reply_to_user_id] = None
            if "entities.mentions.username" in exp:
                for m in _ENTITY_MENTION.finditer(p.text):
                    u = self.world.user_by_handle(m.group(1))
                    if u is not None:
                        uids[u.id] = None
            if (
                ("referenced_tweets.id" in exp or "referenced_tweets.id.author_id" in exp)
                and p.ref is not None
                and self.visible(p.ref)
            ):
                ref_tweets[p.ref.id] = p.ref
                if "referenced_tweets.id.author_id" in exp:
                    uids[p.ref.author_id] = None
        if ref_tweets and "referenced_tweets.id" in exp:
            inc["tweets"] = [self.tweet_json(t, tf) for t in ref_tweets.values()]
            self._count_posts(len(ref_tweets))
        users = [self.user_json(self.world.users[u], uf) for u in uids if not self._author_hidden(u)]
        if users:
            inc["users"] = users
            with self._lock:
                self.stats["users"] += len(users)
        return inc

    def _count_posts(self, n: int) -> None:
        day = datetime.fromtimestamp(self.now_ms / 1000, tz=UTC).date().isoformat()
        with self._lock:
            self.stats["posts"] += n
            self.usage[day] += n

    def _page(
        self,
        posts: list[Post],
        params: dict[str, str],
        exp_allowed: frozenset[str],
        meta: dict[str, Any] | None,
    ) -> dict[str, Any]:
        tf, uf, exp = self._fields(params, exp_allowed)
        out: dict[str, Any] = {}
        if posts:
            out["data"] = [self.tweet_json(p, tf) for p in posts]
            self._count_posts(len(posts))
            inc = self._includes(posts, tf, uf, exp)
            if inc:
                out["includes"] = inc
        if meta is not None:
            out["meta"] = meta
        return out

    # -- endpoints -------------------------------------------------------------------------------
    def users_by(self, params: dict[str, str]) -> dict[str, Any]:
        raw, names = self._csv_param(params, "usernames")
        uf = self._list(params, "user.fields", USER_FIELDS)
        self._list(params, "expansions", USER_EXPANSIONS)
        self._list(params, "tweet.fields", TWEET_FIELDS)
        data, errors = [], []
        for name in names:
            if not re.match(r"^[A-Za-z0-9_]{1,15}$", name):
                raise invalid(
                    f"The `usernames` query parameter value [{name}] does not match ^[A-Za-z0-9_]{{1,15}}$",
                    {"usernames": [raw]},
                )
            u, problem = self._resolve_handle(name)
            if u is not None:
                data.append(self.user_json(u, uf))
            else:
                errors.append(_user_error(name, "usernames", suspended=problem == "suspended"))
        return self._users_reply(data, errors)

    def users_by_ids(self, params: dict[str, str]) -> dict[str, Any]:
        """`GET /2/users?ids=`: a renamed account answers by its stable id with its new username."""
        raw, ids = self._csv_param(params, "ids")
        _check_ids(raw, ids)
        uf = self._list(params, "user.fields", USER_FIELDS)
        self._list(params, "expansions", USER_EXPANSIONS)
        self._list(params, "tweet.fields", TWEET_FIELDS)
        data, errors = [], []
        for uid in ids:
            u = self.world.users.get(uid)
            if u is not None and self.username(u).lower() not in self.faults.suspended:
                data.append(self.user_json(u, uf))
            else:
                errors.append(_user_error(uid, "ids", suspended=u is not None))
        return self._users_reply(data, errors)

    def _users_reply(self, data: list[dict[str, Any]], errors: list[dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            self.stats["users"] += len(data)
        out: dict[str, Any] = {}
        if data:
            out["data"] = data
        if errors:
            out["errors"] = errors
        return out

    @staticmethod
    def _csv_param(params: dict[str, str], name: str) -> tuple[str, list[str]]:
        """A comma-separated list parameter of 1 to 100 values, with X's own error messages."""
        raw = params.get(name)
        if not raw:
            raise invalid(f"The `{name}` query parameter can not be empty", {name: [raw or ""]})
        values = raw.split(",")
        if len(values) > 100:
            raise invalid(
                f"The number of values in the `{name}` query parameter list [{len(values)}] is not "
                "between 1 and 100",
                {name: [raw]},
            )
        return raw, values

    def _max_results(self, params: dict[str, str], lo: int, hi: int, default: int) -> int:
        raw = params.get("max_results")
        if raw is None:
            return default
        if not raw.isdigit() or not lo <= int(raw) <= hi:
            raise invalid(
                f"The `max_results` query parameter value [{raw}] is not between {lo} and {hi}",
                {"max_results": [raw]},
            )
        return int(raw)

    @staticmethod
    def _id_param(params: dict[str, str], name: str) -> int | None:
        raw = params.get(name)
        if raw is None:
            return None
        if not raw.isdigit() or len(raw) > 19:
            raise invalid(
                f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$", {name: [raw]}
            )
        return int(raw)

    def users_tweets(self, uid: str, params: dict[str, str]) -> dict[str, Any]:
        if not uid.isdigit() or len(uid) > 19:
            raise invalid(
                f"The `id` query parameter value [{uid}] does not match ^[0-9]{{1,19}}$", {"id": [uid]}
            )
        limit = self._max_results(params, 5, 100, 10)
        exclude = self._list(params, "exclude", frozenset({"retweets", "replies"}))
        since = self._id_param(params, "since_id")
        until = self._id_param(params, "until_id")
        start = parse_time("start_time", params["start_time"]) if "start_time" in params else None
        end = parse_time("end_time", params["end_time"]) if "end_time" in params else None
        self._fields(params, TWEET_EXPANSIONS)
        u = self.world.users.get(uid)
        if u is None or self._author_hidden(uid):
            name = u.username if u else uid
            suspended = u is not None and name.lower() in self.faults.suspended
            detail = (
                f"User has been suspended: [{uid}]."
                if suspended
                else f"Could not find user with id: [{uid}]."
            )
            return {
                "errors": [
                    {
                        "value": uid,
                        "detail": detail,
                        "title": "Forbidden" if suspended else "Not Found Error",
                        "resource_type": "user",
                        "parameter": "id",
                        "resource_id": uid,
                        "type": _NOT_FOUND,
                    }
                ]
            }
        # Only the 3,200 most recent posts are reachable through a timeline, as on X.
        key = (uid, self.now_ms, id(self.faults))
        visible = self._timelines.get(key)
        if visible is None:
            if len(self._timelines) > 256:
                self._timelines.clear()
            visible = [p for p in self.world.by_author.get(uid, []) if self.visible(p)][-3200:]
            self._timelines[key] = visible
        if "retweets" in exclude:
            visible = [p for p in visible if p.kind != "repost"]
        if "replies" in exclude:
            visible = [p for p in visible if p.kind != "reply"]
        lo_id = since + 1 if since is not None else 0
        if start is not None:
            lo_id = max(lo_id, min_id_at(start))
        hi_id = until if until is not None else 1 << 63
        if end is not None:
            hi_id = min(hi_id, min_id_at(end))
        prev = params.get("pagination_token")
        newest_first = True
        if prev is not None and prev.startswith("p"):
            lo_id = max(lo_id, read_token("pagination_token", prev, "p") + 1)
            newest_first = False
        elif prev is not None:
            hi_id = min(hi_id, read_token("pagination_token", prev, "n"))
        ids = [p.id for p in visible]
        a, b = bisect.bisect_left(ids, lo_id), bisect.bisect_left(ids, hi_id)
        window = visible[a:b]
        page = window[::-1][:limit] if newest_first else window[:limit][::-1]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = str(page[0].id)
            meta["oldest_id"] = str(page[-1].id)
            more = len(window) > limit
            # Newest first: older pages follow next_token, newer ones previous_token.
            if more if newest_first else True:
                meta["next_token"] = make_token("n", page[-1].id)
            if (prev is not None) if newest_first else more:
                meta["previous_token"] = make_token("p", page[0].id)
        return self._page(page, params, TWEET_EXPANSIONS, meta)

    def tweets(self, params: dict[str, str]) -> dict[str, Any]:
        raw, ids = self._csv_param(params, "ids")
        _check_ids(raw, ids)
        found: list[Post] = []
        errors = []
        for i in ids:
            p = self.world.by_id.get(int(i))
            if p is not None and self.visible(p):
                found.append(p)
            elif (
                p is not None
                and p.ts <= self.now_ms
                and self._author_hidden(p.author_id)
                and (self.world.users[p.author_id].username.lower() in self.faults.suspended)
            ):
                errors.append(
                    {
                        "value": i,
                        "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{i}].",
                        "title": "Authorization Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": i,
                        "section": "data",
                        "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
                    }
                )
            else:
                errors.append(
                    {
                        "value": i,
                        "detail": f"Could not find tweet with ids: [{i}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": i,
                        "type": _NOT_FOUND,
                    }
                )
        out = self._page(found, params, TWEET_EXPANSIONS, None)
        if errors:
            out["errors"] = errors
        return out

    def _query_ids_for(self, query: str) -> list[int]:
        ids = self._query_ids.get(query)
        if ids is None:
            try:
                pos = self.index.positions(query)
            except QueryError as e:
                raise invalid(str(e), {"query": [query]}) from None
            ids = [self._ids[i] for i in pos]
            self._query_ids[query] = ids
        return ids

    def _time_range(self, params: dict[str, str], full: bool) -> tuple[int, int]:
        now = self.now_ms
        end = parse_time("end_time", params["end_time"]) if "end_time" in params else now - 30_000
        if end > now - 10_000:
            raise invalid(
                "Invalid 'end_time':'{}'. 'end_time' must be a minimum of 10 seconds prior to the "
                "request time.".format(params.get("end_time")),
                {"end_time": [params.get("end_time", "")]},
            )
        if full:
            start = (
                parse_time("start_time", params["start_time"])
                if "start_time" in params
                else end - 30 * DAY_MS
            )
            if start < to_ms(datetime(2006, 3, 21, tzinfo=UTC)):
                raise invalid(
                    f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be on or after "
                    "2006-03-21T00:00Z",
                    {"start_time": [params["start_time"]]},
                )
        else:
            floor = now - 7 * DAY_MS
            start = parse_time("start_time", params["start_time"]) if "start_time" in params else floor
            if start < floor:
                raise invalid(
                    f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be on or after "
                    f"{iso(floor)[:16]}Z",
                    {"start_time": [params["start_time"]]},
                )
        if start >= end:
            raise invalid(
                f"Invalid 'start_time':'{params.get('start_time', iso(start))}'. 'start_time' must be "
                "before 'end_time'",
                {"start_time": [params.get("start_time", iso(start))]},
            )
        return start, end

    def _id_bounds(self, params: dict[str, str], full: bool) -> tuple[int, int]:
        start, end = self._time_range(params, full)
        lo, hi = min_id_at(start), min_id_at(end)
        since = self._id_param(params, "since_id")
        until = self._id_param(params, "until_id")
        if since is not None:
            if not full and snowflake_ms(since) < self.now_ms - 7 * DAY_MS:
                raise invalid(
                    f"Invalid 'since_id':'{since}'. 'since_id' must be a tweet id created after "
                    f"{iso(self.now_ms - 7 * DAY_MS)[:16]}Z",
                    {"since_id": [str(since)]},
                )
            lo = max(lo, since + 1)
        if until is not None:
            hi = min(hi, until)
        return lo, hi

    def _query(self, params: dict[str, str], full: bool) -> str:
        q = params.get("query")
        if not q:
            raise invalid("The `query` query parameter can not be empty", {"query": [q or ""]})
        cap = 1024 if full else 512
        if len(q) > cap:
            raise invalid(
                f"The `query` query parameter value [{q}] is not between 1 and {cap} characters",
                {"query": [q]},
            )
        return q

    def search(self, params: dict[str, str], full: bool) -> dict[str, Any]:
        q = self._query(params, full)
        limit = self._max_results(params, 10, 500 if full else 100, 10)
        if params.get("sort_order") not in (None, "recency", "relevancy"):
            raise invalid(
                f"The `sort_order` query parameter value [{params['sort_order']}] is not one of "
                "[recency,relevancy]",
                {"sort_order": [params["sort_order"]]},
            )
        self._fields(params, TWEET_EXPANSIONS)
        lo, hi = self._id_bounds(params, full)
        token = params.get("next_token") or params.get("pagination_token")
        if token is not None:
            hi = min(hi, read_token("next_token", token, "n"))
        ids = self._query_ids_for(q)
        a, b = bisect.bisect_left(ids, lo), bisect.bisect_left(ids, hi)
        page: list[Post] = []
        more = False
        by_id = self.world.by_id
        for k in range(b - 1, a - 1, -1):
            p = by_id[ids[k]]
            if not self.visible(p):
                continue
            if len(page) == limit:
                more = True
                break
            page.append(p)
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = str(page[0].id)
            meta["oldest_id"] = str(page[-1].id)
            if more:
                meta["next_token"] = make_token("n", page[-1].id)
        return self._page(page, params, TWEET_EXPANSIONS, meta)

    def counts(self, params: dict[str, str], full: bool) -> dict[str, Any]:
        q = self._query(params, full)
        gran = params.get("granularity", "hour")
        step = {"minute": 60_000, "hour": 3_600_000, "day": DAY_MS}.get(gran)
        if step is None:
            raise invalid(
                f"The `granularity` query parameter value [{gran}] is not one of [minute,hour,day]",
                {"granularity": [gran]},
            )
        fields = params.get("search_count.fields")
        if fields is not None:
            self._list(params, "search_count.fields", frozenset({"end", "start", "tweet_count"}))
        start, end = self._time_range(params, full)
        lo_extra, hi_extra = self._id_bounds(params, full)
        token = params.get("next_token") or params.get("pagination_token")
        next_token = None
        if full:
            # counts/all pages backwards in time, 31 days a page, as X does.
            if token is not None:
                end = min(end, read_token("next_token", token, "n"))
            if end - start > 31 * DAY_MS:
                page_start = ((end - 31 * DAY_MS) // step + (1 if (end - 31 * DAY_MS) % step else 0)) * step
                next_token = make_token("n", page_start)
                start = page_start
        ids = self._query_ids_for(q)
        by_id = self.world.by_id
        bounds = [start]
        t = (start // step + 1) * step
        while t < end:
            bounds.append(t)
            t += step
        bounds.append(end)
        data = []
        total = 0
        for s, e in pairwise(bounds):
            a = bisect.bisect_left(ids, max(min_id_at(s), lo_extra))
            b = bisect.bisect_left(ids, min(min_id_at(e), hi_extra))
            n = 0
            for k in range(a, b):
                if self.visible(by_id[ids[k]]):
                    n += 1
            data.append({"end": iso(e), "start": iso(s), "tweet_count": n})
            total += n
        meta: dict[str, Any] = {"total_tweet_count": total}
        if next_token:
            meta["next_token"] = next_token
        return {"data": data, "meta": meta}

    def usage_tweets(self, params: dict[str, str]) -> dict[str, Any]:
        raw = params.get("days", "7")
        if not raw.isdigit() or not 1 <= int(raw) <= 90:
            raise invalid(
                f"The `days` query parameter value [{raw}] is not between 1 and 90", {"days": [raw]}
            )
        fields = self._list(
            params,
            "usage.fields",
            frozenset(
                {
                    "cap_reset_day",
                    "daily_client_app_usage",
                    "daily_project_usage",
                    "project_cap",
                    "project_id",
                    "project_usage",
                }
            ),
        )
        capped = any(f.kind == "cap" for f in self.faults.faults)
        used = sum(self.usage.values())
        data: dict[str, Any] = {
            "cap_reset_day": self._cap_reset_days(),
            "project_cap": self.project_cap,
            "project_id": "1500000000000000000",
            "project_usage": self.project_cap if capped else used,
        }
        if "daily_project_usage" in fields or "daily_client_app_usage" in fields:
            now = datetime.fromtimestamp(self.now_ms / 1000, tz=UTC).date()
            days = [now - timedelta(days=i) for i in range(int(raw) - 1, -1, -1)]
            usage = [
                {"date": f"{d.isoformat()}T00:00:00.000Z", "usage": self.usage.get(d.isoformat(), 0)}
                for d in days
            ]
            if "daily_project_usage" in fields:
                data["daily_project_usage"] = {"project_id": 1500000000, "usage": usage}
            if "daily_client_app_usage" in fields:
                data["daily_client_app_usage"] = [
                    {"client_app_id": "29000000", "usage": usage, "usage_result_count": len(usage)}
                ]
        return {"data": data}


def stats_view(api: XApi) -> dict[str, Any]:
    with api._lock:
        return {
            "requests": dict(api.stats["requests"]),
            "status": dict(api.stats["status"]),
            "posts": api.stats["posts"],
            "users": api.stats["users"],
            "faults": dict(api.stats["faults"]),
        }
