"""Raw X API v2 pages → lake rows. Pure functions: no API call, no lake write.

One parser serves the live collector, `reparse` (pages read back from `raw/`) and the tests on
real recorded responses, so it works on the JSON bodies exactly as X sends them and tolerates
missing optional fields (the recorded fixtures carry default fields only).

A page is the dict archived under `raw/`: `endpoint`, `context` (what the collector knew when it
asked: brand, account, requested ids...), `params`, `observed_at`, and `body` (parsed JSON) or
`body_text` (a malformed body, kept verbatim).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from barometer.config import Panel
from barometer.lake.schemas import SCHEMAS

Tagger = Callable[[str | None], list[str]]
NETWORK = "x"

USER_ENDPOINTS = ("users_by_username", "users_by_id")
TIMELINE = "user_tweets"
LOOKUP = "tweets_lookup"
SEARCH_ENDPOINTS = ("search_recent", "search_all")
COUNT_ENDPOINTS = ("counts_recent", "counts_all")
LOOKBACK = "lookback"  # a record of collect/lookback.py: sampled authors' earlier mentions
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


def ts(value: str | None) -> datetime | None:
    """An X timestamp (`2018-01-31T10:00:00.000Z`) as a naive UTC datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def id_int(post_id: str | int | None) -> int:
    """Post ids are decimal strings; compare them as numbers ("9" < "10")."""
    return int(post_id) if post_id is not None else 0


def tweet_kind(tweet: dict[str, Any]) -> str:
    types = {r.get("type") for r in tweet.get("referenced_tweets") or ()}
    if "retweeted" in types:
        return "repost"
    if "quoted" in types:
        return "quote"
    if "replied_to" in types:
        return "reply"
    return "original"


def mentioned_handles(tweet: dict[str, Any]) -> list[str]:
    mentions = (tweet.get("entities") or {}).get("mentions") or ()
    return [m["username"].lower() for m in mentions if m.get("username")]


def mentioned_ids(tweet: dict[str, Any]) -> list[str | None]:
    """The account ids of `mentioned_handles`, element for element (None where X gave none)."""
    mentions = (tweet.get("entities") or {}).get("mentions") or ()
    return [str(m["id"]) if m.get("id") else None for m in mentions if m.get("username")]


def data_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    """`data` as a list (single-object endpoints return a dict; empty results omit it)."""
    data = body.get("data")
    if data is None:
        return []
    return data if isinstance(data, list) else [data]


def page_ids(body: dict[str, Any]) -> list[int]:
    return [int(t["id"]) for t in data_list(body)]


def billed(endpoint: str, body: dict[str, Any]) -> tuple[int, int]:
    """(post reads, user reads) a page returns: every resource, expansions included."""
    posts, users = billed_ids(endpoint, body)
    return len(posts), len(users)


def billed_ids(endpoint: str, body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The ids of the posts and users a page returns, expansions included: what X bills.

    X deduplicates billing within a UTC day (a post or user returned again the same day is not
    billed again), so the collector counts distinct ids over the run (`fetch.Counters`).
    """
    inc = body.get("includes") or {}
    users = [str(u.get("id")) for u in inc.get("users") or () if isinstance(u, dict)]
    if endpoint in COUNT_ENDPOINTS:
        return [], []
    data = [str(d.get("id")) for d in data_list(body) if isinstance(d, dict)]
    if endpoint in USER_ENDPOINTS:
        return [], data + users
    return data + [str(t.get("id")) for t in inc.get("tweets") or () if isinstance(t, dict)], users


def user_error_status(err: dict[str, Any]) -> str:
    text = f"{err.get('title', '')} {err.get('detail', '')}".lower()
    return "suspended" if "suspend" in text else "not_found"


def count_rows(body: dict[str, Any]) -> list[tuple[date, int]]:
    """(day, posts) per bucket of a counts page (granularity=day buckets start at midnight)."""
    out = []
    for b in data_list(body):
        start = ts(b.get("start"))
        if start is not None:
            out.append((start.date(), int(b.get("tweet_count", 0))))
    return out


def _in_range(post_id: int, ctx: dict[str, Any]) -> bool:
    # Gap-filling pages carry the bounds they were asked for; enforcing them here as well means
    # a server that ignored `since_id`/`until_id` costs reads, never duplicate rows.
    lo, hi = ctx.get("since_id"), ctx.get("until_id")
    return (lo is None or post_id > int(lo)) and (hi is None or post_id < int(hi))


class _Columns:
    """Column lists for one table, appended row by row, turned into Arrow once."""

    def __init__(self, table: str) -> None:
        self.schema = SCHEMAS[table]
        self.cols: dict[str, list[Any]] = {n: [] for n in self.schema.names}

    def add(self, row: dict[str, Any]) -> None:
        for name, col in self.cols.items():
            col.append(row.get(name))

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.cols, schema=self.schema)


def _post_row(t: dict[str, Any], observed_at: datetime, tag: Tagger) -> dict[str, Any]:
    m = t.get("public_metrics") or {}
    text = t.get("text")
    return {
        "post_id": t["id"], "network": NETWORK, "created_at": ts(t.get("created_at")),
        "kind": tweet_kind(t), "text": text, "lang": t.get("lang"),
        "likes": m.get("like_count"), "reposts": m.get("retweet_count"),
        "replies": m.get("reply_count"), "quotes": m.get("quote_count"),
        "impressions": m.get("impression_count"),
        "mentioned_handles": mentioned_handles(t), "topics": tag(text),
        "observed_at": observed_at,
    }


@dataclass
class _Profiles:
    """What the profile pages of a run said, by handle and by id."""

    by_name: dict[str, tuple[dict[str, Any], datetime]]
    name_err: dict[str, dict[str, Any]]
    by_id: dict[str, tuple[dict[str, Any], datetime]]
    id_err: dict[str, dict[str, Any]]
    id_handle: dict[str, str]  # known account id → panel handle, for rename detection
    seen: datetime | None


def _accounts(panel: Panel, p: _Profiles, errors: list[str]) -> _Columns:
    """One accounts row per panel account the profile pages answered for (errors: one line each)."""
    by_name, name_err, by_id, id_err = p.by_name, p.name_err, p.by_id, p.id_err
    acc = _Columns("accounts")
    handle_id = {h: i for i, h in p.id_handle.items()}
    for b in panel.brands:
        for a in b.accounts:
            h = a.handle.lower()
            arow: dict[str, Any] = {"brand_id": b.id, "network": NETWORK, "handle": a.handle,
                                    "collected_at": p.seen}
            user: dict[str, Any] | None = None
            if h in handle_id:  # the handle no longer resolved to its known account
                known = handle_id[h]
                arow["account_id"] = known
                if known in by_id:
                    user, arow["collected_at"] = by_id[known]
                    renamed = user["username"].lower() != h
                    arow["status"] = "renamed" if renamed else "ok"
                    if renamed:
                        errors.append(f"@{a.handle} ({b.id}) renamed to @{user['username']}: "
                                      f"history kept on account {known}; update the panel")
                elif known in id_err:
                    arow["status"] = user_error_status(id_err[known])
                    errors.append(f"@{a.handle} ({b.id}): {arow['status']} ({id_err[known].get('detail')})")
                else:
                    continue
            elif h in by_name:
                user, arow["collected_at"] = by_name[h]
                arow["status"] = "ok"
            elif h in name_err:
                arow["status"] = user_error_status(name_err[h])
                errors.append(f"@{a.handle} ({b.id}): {arow['status']} ({name_err[h].get('detail')})")
            else:
                continue  # no profile read for it this run (failure or stop, reported elsewhere)
            if user is not None:
                m = user.get("public_metrics") or {}
                arow.update(account_id=user["id"], handle=user["username"], name=user.get("name"),
                           followers=m.get("followers_count"), following=m.get("following_count"),
                           posts_count=m.get("tweet_count"), listed=m.get("listed_count"))
            acc.add(arow)
    return acc


def build_tables(
    panel: Panel,
    pages: Iterable[dict[str, Any]],
    prior_posts: dict[str, dict[str, Any]],
    tag: Tagger,
) -> tuple[dict[str, pa.Table], list[str]]:
    """The four collect tables of one run from its pages, plus one error line per data fault.

    `prior_posts` maps post_id → the latest lake row of recently collected posts; a refreshed
    post X reports as not found becomes a `deleted` row carrying that last observation.
    """
    errors: list[str] = []
    by_name: dict[str, tuple[dict[str, Any], datetime]] = {}
    name_err: dict[str, dict[str, Any]] = {}
    by_id: dict[str, tuple[dict[str, Any], datetime]] = {}
    id_err: dict[str, dict[str, Any]] = {}
    id_handle: dict[str, str] = {}  # known account id → panel handle, for rename detection
    posts: dict[str, dict[str, Any]] = {}
    mentions: dict[tuple[str, str], dict[str, Any]] = {}
    counts: dict[tuple[str, date], int] = {}
    lookbacks: dict[tuple[str, str], list[str | None]] = {}  # (brand, post) → [prev day, from]
    profiles_seen: datetime | None = None

    for page in pages:
        body = page.get("body")
        if not isinstance(body, dict):
            continue  # malformed: kept in raw/, reported by the collector
        ep, ctx = page["endpoint"], page.get("context") or {}
        seen = ts(page.get("observed_at")) or datetime(1970, 1, 1)
        if ep in USER_ENDPOINTS:
            profiles_seen = seen
        if ep == "users_by_username":
            for u in data_list(body):
                by_name[u["username"].lower()] = (u, seen)
            for e in body.get("errors") or ():
                if e.get("value") or e.get("resource_id"):
                    name_err[str(e.get("value") or e.get("resource_id")).lower()] = e
        elif ep == "users_by_id":
            id_handle.update(ctx.get("ids") or {})
            for u in data_list(body):
                by_id[u["id"]] = (u, seen)
            for e in body.get("errors") or ():
                if e.get("value") or e.get("resource_id"):
                    id_err[str(e.get("value") or e.get("resource_id"))] = e
        elif ep == TIMELINE:
            brand, account = ctx["brand_id"], ctx["account_id"]
            for t in data_list(body):
                if _in_range(int(t["id"]), ctx):
                    row = _post_row(t, seen, tag)
                    row.update(brand_id=brand, account_id=t.get("author_id") or account, deleted=False)
                    posts[t["id"]] = row
        elif ep == LOOKUP:
            for t in data_list(body):
                prev = prior_posts.get(t["id"])
                if prev is None:
                    continue
                row = _post_row(t, seen, tag)
                row.update(brand_id=prev["brand_id"], account_id=prev["account_id"], deleted=False)
                posts.setdefault(t["id"], row)
            for e in body.get("errors") or ():
                pid = str(e.get("resource_id") or e.get("value") or "")
                prev = prior_posts.get(pid)
                if prev is None or pid in posts:
                    continue
                if e.get("type") == NOT_FOUND and e.get("resource_type", "tweet") == "tweet":
                    posts[pid] = {**prev, "deleted": True, "observed_at": seen}
                    errors.append(f"post {pid} of {prev['brand_id']} deleted since last observed")
                else:
                    errors.append(f"post {pid} of {prev['brand_id']}: {e.get('title')}: {e.get('detail')}")
        elif ep in SEARCH_ENDPOINTS:
            brand = ctx["brand_id"]
            own = set(ctx.get("own_ids") or ())
            authors = {u["id"]: u for u in (body.get("includes") or {}).get("users") or ()}
            for t in data_list(body):
                author = t.get("author_id")
                if author in own or not _in_range(int(t["id"]), ctx):
                    continue
                u = authors.get(author) or {}
                row = _post_row(t, seen, tag)
                # Authors are expanded only when the panel asks (collection.author_profiles):
                # otherwise handle and followers stay null; the id is on every post.
                row.update(brand_id=brand, author_id=author, author_handle=u.get("username"),
                           author_followers=(u.get("public_metrics") or {}).get("followers_count"),
                           mentioned_ids=mentioned_ids(t), sample_weight=float(ctx.get("sample_weight", 1.0)))
                mentions[(brand, t["id"])] = row
        elif ep == LOOKBACK:
            for pid, v in (body.get("posts") or {}).items():
                lookbacks[(ctx["brand_id"], pid)] = v
        elif ep in COUNT_ENDPOINTS:
            if LOOKBACK in ctx:
                continue  # an author's counts (collect/lookback.py), not the brand's volume
            for day, n in count_rows(body):  # sums hourly buckets too; we ask for daily ones
                key = (ctx["brand_id"], day)
                counts[key] = counts.get(key, 0) + n

    for (brand_id, post_id), (last, since) in lookbacks.items():
        looked = mentions.get((brand_id, post_id))
        if looked is not None:
            looked.update(author_prev_day=date.fromisoformat(last) if last else None,
                          author_lookback_from=date.fromisoformat(since) if since else None)
    acc = _accounts(panel, _Profiles(by_name, name_err, by_id, id_err, id_handle, profiles_seen), errors)

    return _tables(acc, posts, mentions, counts), errors


def _tables(acc: _Columns, posts: dict[str, dict[str, Any]], mentions: dict[tuple[str, str], dict[str, Any]],
            counts: dict[tuple[str, date], int]) -> dict[str, pa.Table]:
    pc = _Columns("posts")
    for r in posts.values():
        pc.add(r)
    mc = _Columns("mentions")
    for r in mentions.values():
        mc.add(r)
    cc = _Columns("mention_counts")
    for (brand, day), n in counts.items():
        cc.add({"brand_id": brand, "network": NETWORK, "day": day, "mentions": n})
    return {
        "accounts": acc.table(),
        "posts": pc.table().sort_by([("brand_id", "ascending"), ("post_id", "ascending")]),
        "mentions": mc.table().sort_by([("brand_id", "ascending"), ("post_id", "ascending")]),
        "mention_counts": cc.table().sort_by([("brand_id", "ascending"), ("day", "ascending")]),
    }
