"""Collect stage: X API v2 (through tweepy) → raw pages → the lake's collect tables.

`run_collect(panel, dt, lake, client, options)` makes one run for date D (data up to
D+1T00:00Z):

1. profiles of the panel's accounts (`/2/users/by`, then `/2/users?ids=` for handles that no
   longer resolve to their known account: renamed, suspended or gone);
2. per brand: its accounts' new posts (`/2/users/:id/tweets` from the `since_id` cursor), the
   posts mentioning it (`/2/tweets/search/recent`, or `/all` in a full-archive backfill) and its
   daily mention counts (`/2/tweets/counts/...`);
3. fresh metrics for the posts of the last `refresh_days` already in the lake
   (`/2/tweets?ids=`, 100 a call), recording deleted ones;
4. the tables `accounts`, `posts`, `mentions`, `mention_counts` for (panel, D), written whole,
   the cursor state (see `state.py`) and the `runs` row.

Every page is archived under `raw/panel=<p>/dt=<D>/<run_id>/` before it is parsed, and the
tables are built from those pages only (`parse.build_tables`), so `reparse` rebuilds the same
rows from `raw/` without calling X.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import tweepy
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from barometer.collect import state as cstate
from barometer.collect.fetch import Fatal, Fetcher, Limits, Stop, StreamFailed
from barometer.collect.parse import Tagger, build_tables, data_list, page_ids
from barometer.config import Panel
from barometer.errors import ConfigError
from barometer.lake.store import Lake
from barometer.runs import StageSummary, record_run, utcnow

__all__ = ["COLLECT_TABLES", "CollectOptions", "run_collect"]

COLLECT_TABLES = ("accounts", "posts", "mentions", "mention_counts")
TWEET_FIELDS = ["created_at", "public_metrics", "lang", "entities", "referenced_tweets",
                "conversation_id", "author_id"]
USER_FIELDS = ["public_metrics", "created_at", "name", "username"]
# Recent search and counts only reach 7 days back; keep a margin so a slow run never asks for
# a start_time X has meanwhile rejected as too old.
RECENT_DAYS = 7
RECENT_MARGIN = timedelta(minutes=5)
X_EPOCH_MS = 1288834974657


class CollectOptions(BaseModel):
    """How one collect run behaves. Budgets and refresh age default to the panel's `collection`."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["daily", "backfill"] = "daily"
    since: date | None = None  # backfill: first day of the range
    # When API work must be over: a wall-clock datetime (UTC) or a time.monotonic() value.
    deadline: datetime | float | None = None
    max_post_reads: int | None = Field(default=None, ge=0)
    max_user_reads: int | None = Field(default=None, ge=0)
    refresh_days: int | None = Field(default=None, ge=0, le=30)
    full_archive: bool = False  # the /all endpoints may be used (X Pro access)
    now: datetime = Field(default_factory=utcnow)  # the run's UTC clock (the simulator's in the demo)
    brands: list[str] | None = None
    page_size: int = Field(default=100, ge=10, le=100)  # max_results per page (X's maximum: 100)
    max_wait: float = Field(default=900.0, ge=0)  # longest rate-limit sleep
    retries: int = Field(default=3, ge=1)
    backoff: float = Field(default=0.5, ge=0)  # first retry pause, doubled each try
    reserve: float = Field(default=1.0, ge=0)  # seconds kept before the deadline to write the lake
    # Seconds between full-archive search requests (X: 1/s); 0 for a simulator without that limit.
    # 1.05: requests leave 1 s apart but can reach X closer together; a 5 % margin keeps
    # them from arriving inside X's one-second window (each such 429 is a wasted request).
    search_all_interval: float = Field(default=1.05, ge=0)

    @field_validator("now")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v

    @model_validator(mode="after")
    def _since(self) -> CollectOptions:
        if self.mode == "backfill" and self.since is None:
            raise ValueError("backfill needs `since` (the first day of the range)")
        return self

    def monotonic_deadline(self) -> float | None:
        if self.deadline is None:
            return None
        if isinstance(self.deadline, datetime):
            d = self.deadline
            d = d.astimezone(UTC).replace(tzinfo=None) if d.tzinfo else d
            return time.monotonic() + (d - utcnow()).total_seconds() - self.reserve
        return float(self.deadline) - self.reserve


def snowflake_time(post_id: str) -> datetime:
    """When a post was created, from its id (X ids are snowflakes: ms since X's epoch << 22)."""
    return datetime(1970, 1, 1) + timedelta(milliseconds=(int(post_id) >> 22) + X_EPOCH_MS)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, dtime())


_TAG_CACHE: dict[str | None, list[str]] = {}


def _tagger() -> Tagger:
    """The shipped taxonomy's tagger, memoised on the text.

    One compiled taxonomy per process (Taxonomy.load caches it); refreshed posts come back
    with the same text run after run, so most of a daily run's texts were tagged before.
    """
    from barometer.topics import Taxonomy

    tag = Taxonomy.load().tag
    cache = _TAG_CACHE

    def cached(text: str | None) -> list[str]:
        hit = cache.get(text)
        if hit is None:
            if len(cache) > 100_000:
                cache.clear()
            hit = cache[text] = tag(text)
        return list(hit)

    return cached


# -- lake helpers shared with reparse -------------------------------------------------------
def prior_posts(lake: Lake, panel: str, dt: date, days: int) -> dict[str, dict[str, Any]]:
    """Latest lake row per post among the posts partitions of the `days`+1 dates before `dt`.

    Posts young enough to refresh were first stored at a date ≥ their creation day, so this
    short range holds all of them; reading partitions by path avoids a dataset scan of the
    whole table on every run.
    """
    out: dict[str, dict[str, Any]] = {}
    for i in range(days + 1, 0, -1):  # oldest first: later observations overwrite earlier ones
        path = f"{lake.partition_path('posts', panel, dt - timedelta(days=i))}/data.parquet"
        for row in _partition_rows(lake, path):
            out[row["post_id"]] = row
    return out


# Rows of recently read partition files, keyed by path, size and mtime: consecutive daily runs
# in one process (the demo, a backfill loop) read each file once instead of refresh_days times.
_PART_CACHE: dict[tuple[str, int, int], list[dict[str, Any]]] = {}


def _partition_rows(lake: Lake, path: str) -> list[dict[str, Any]]:
    info = lake.fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        return []
    key = (path, info.size or 0, info.mtime_ns or 0)
    rows = _PART_CACHE.get(key)
    if rows is None or not lake.local:
        with lake.fs.open_input_file(path) as f:
            rows = pq.ParquetFile(f).read().to_pylist()
        if lake.local:  # S3 mtimes are coarse: cache only where a rewrite always changes the key
            if len(_PART_CACHE) > 256:
                _PART_CACHE.clear()
            _PART_CACHE[key] = rows
    return [dict(r) for r in rows]


def write_tables(lake: Lake, panel: str, dt: date, tables: dict[str, pa.Table],
                 brands: list[str] | None) -> dict[str, int]:
    """Write the four tables for (panel, dt); a brand-subset run keeps the other brands' rows."""
    rows = {}
    for name in COLLECT_TABLES:
        t = tables[name]
        if brands is not None:
            path = f"{lake.partition_path(name, panel, dt)}/data.parquet"
            if lake.exists(path):
                old = pq.read_table(path, filesystem=lake.fs)
                keep = pc.invert(pc.is_in(old["brand_id"], pa.array(brands, pa.string())))
                t = pa.concat_tables([old.filter(keep), t.select(old.schema.names).cast(old.schema)])
        lake.write_partition(name, panel, dt, t)
        rows[name] = t.num_rows
    return rows


# -- the run ----------------------------------------------------------------------------------
class _Run:
    def __init__(self, panel: Panel, dt: date, lake: Lake, client: tweepy.Client,
                 options: CollectOptions, summary: StageSummary) -> None:
        self.panel, self.dt, self.lake, self.client, self.o = panel, dt, lake, client, options
        col = panel.collection
        self.refresh_days = options.refresh_days if options.refresh_days is not None else col.refresh_days
        self.end = _midnight(dt + timedelta(days=1))
        floor = options.now - timedelta(days=RECENT_DAYS) + RECENT_MARGIN
        self.recent_floor = floor  # earliest start_time recent search accepts
        self.recent_day = (floor + timedelta(days=1)).date() if floor.time() != dtime() else floor.date()
        wanted = options.brands
        if wanted is not None:
            unknown = [b for b in wanted if b not in {x.id for x in panel.brands}]
            if unknown:
                raise ConfigError(f"panel {panel.id}: no brand {unknown[0]!r}")
        self.brands = [b for b in panel.brands if wanted is None or b.id in wanted]
        self.prior = cstate.load_before(lake, panel.id, dt)
        self.state = copy.deepcopy(self.prior)  # what this run leaves for the next
        for k, v in cstate.empty().items():
            self.state.setdefault(k, v)
        self.errors: list[str] = []
        self.failed: set[str] = set()
        self.stopped: str | None = None
        self.done: set[str] = set()  # brands whose every step completed
        self.fatal = False
        self.f = Fetcher(
            client, lake, f"raw/panel={panel.id}/dt={dt.isoformat()}/{summary.run_id}", options.now,
            Limits(deadline=options.monotonic_deadline(),
                   max_post_reads=options.max_post_reads if options.max_post_reads is not None
                   else col.max_post_reads,
                   max_user_reads=options.max_user_reads if options.max_user_reads is not None
                   else col.max_user_reads,
                   max_wait=options.max_wait, retries=options.retries, backoff=options.backoff,
                   search_all_interval=options.search_all_interval))

    # -- steps ---------------------------------------------------------------------------
    def guarded(self, what: str, brand: str | None, step: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one step; StreamFailed fails the brand, Stop ends the API work, Fatal fails the run."""
        if self.stopped:
            return None
        try:
            return step(*args, **kwargs)
        except StreamFailed as e:
            self.errors.append(f"{brand or 'panel'}: {what}: {e}")
            if brand:
                self.failed.add(brand)
        except Stop as e:
            self.stopped = f"{brand or 'panel'}: {what}: {e}"
            self.errors.append(self.stopped)
        except Fatal as e:
            self.stopped = str(e)
            self.fatal = True
            self.errors.append(str(e))
        return None

    def profiles(self) -> dict[str, str]:
        """panel handle (lower) → account id to read, for the accounts that can be read."""
        known: dict[str, str] = self.prior.get("accounts", {})
        handles = [a.handle for b in self.brands for a in b.accounts]
        found: dict[str, str] = {}  # handle lower → id returned for it
        errs: set[str] = set()
        ok = True
        for i in range(0, len(handles), 100):
            chunk = handles[i:i + 100]
            body = self.guarded("profiles", None, self.f.get, "users_by_username", self.client.get_users,
                                {"handles": chunk}, usernames=chunk, user_fields=USER_FIELDS)
            if body is None:
                ok = False
                continue
            for u in data_list(body):
                found[u["username"].lower()] = u["id"]
            for e in body.get("errors") or ():
                errs.add(str(e.get("value") or e.get("resource_id") or "").lower())
        resolved: dict[str, str] = {}
        lookup: dict[str, str] = {}  # known id → handle, for handles that lost their account
        for h in (x.lower() for x in handles):
            k = known.get(h)
            if h in found and (k is None or k == found[h]):
                resolved[h] = found[h]
            elif k is not None and (h in found or h in errs or ok):
                lookup[k] = h
            elif k is not None:
                resolved[h] = k  # the profile call failed: still read posts from the known id
        ids = sorted(lookup)
        for i in range(0, len(ids), 100):
            chunk = ids[i:i + 100]
            body = self.guarded("profiles", None, self.f.get, "users_by_id", self.client.get_users,
                                {"ids": {k: lookup[k] for k in chunk}}, ids=chunk, user_fields=USER_FIELDS)
            if body is None:  # lookup failed: keep reading posts from the known ids
                resolved.update((lookup[k], k) for k in chunk)
            for u in data_list(body or {}):
                resolved[lookup[u["id"]]] = u["id"]
        self.state["accounts"] = {**known, **resolved}
        return resolved

    def stream(self, endpoint: str, method: Any, key: tuple[str, str], ctx: dict[str, Any],
               params: dict[str, Any], start: datetime | None, use_cursor: bool) -> None:
        """Read a newest-first stream: fill the previous run's gap, then what is new since the cursor.

        If the pagination stops midway, the unread older part becomes the gap (bounded by the
        oldest id read) and the cursor still advances to the newest id read: the next run
        reads exactly the rest, never a post twice.
        """
        table, ident = key
        cur = self.state[table].setdefault(ident, {"since_id": None, "gap": None})
        gap = cur.get("gap")
        if gap:
            g_start = datetime.fromisoformat(gap["start_time"]) if gap.get("start_time") else None
            if endpoint == "search_recent" and (g_start is None or g_start < self.recent_floor):
                g_start = self.recent_floor
            bounds = {"since_id": gap.get("since_id"), "until_id": gap["until_id"]}
            _, oldest, err = self._drain(endpoint, method, {**ctx, **bounds},
                                         {**params, **bounds, "start_time": g_start})
            if err is not None:
                if oldest is not None:
                    gap["until_id"] = str(oldest)
                raise err
            cur["gap"] = None
        since = cur.get("since_id") if use_cursor else None
        p = {**params, "end_time": self.end}
        if since:
            p["since_id"] = since
            if endpoint == "search_recent":
                p["start_time"] = self.recent_floor
        elif start is not None:
            if use_cursor and cur.get("start"):
                # A first read that failed before any page: start where it meant to.
                start = min(start, datetime.fromisoformat(cur["start"]))
                if endpoint == "search_recent":
                    start = max(start, self.recent_floor)
            p["start_time"] = start
        newest, oldest, err = self._drain(endpoint, method, {**ctx, "since_id": since}, p)
        if err is None:
            cur["until"] = self.end.isoformat()  # everything up to here is read
        if err is None or newest is not None:
            cur.pop("start", None)
        elif not since and p.get("start_time"):
            cur["start"] = p["start_time"].isoformat()
        if newest is not None:
            if err is not None and oldest is not None:
                st = p.get("start_time")
                cur["gap"] = {"since_id": since, "until_id": str(oldest),
                              "start_time": st.isoformat() if st and not since else None}
            high = cur.get("since_id")
            # A backfill of an older range must not move the cursor back.
            if high is None or newest > int(high):
                cur["since_id"] = str(newest)
        if err is not None:
            raise err

    def _drain(self, endpoint: str, method: Any, ctx: dict[str, Any],
               params: dict[str, Any]) -> tuple[int | None, int | None, Exception | None]:
        newest = oldest = None
        try:
            for body in self.f.paginate(endpoint, method, ctx, **params):
                ids = page_ids(body)
                if ids:
                    newest = max(ids) if newest is None else max(newest, *ids)
                    oldest = min(ids) if oldest is None else min(oldest, *ids)
        except (Stop, StreamFailed, Fatal) as e:
            return newest, oldest, e
        return newest, oldest, None

    def brand_posts(self, brand_id: str, account_id: str) -> None:
        backfill = self.o.mode == "backfill"
        start = _midnight(self.o.since) if backfill and self.o.since else _midnight(self.dt)
        params = {"id": account_id, "max_results": self.o.page_size, "tweet_fields": TWEET_FIELDS}
        self.stream("user_tweets", self.client.get_users_tweets, ("timelines", account_id),
                    {"brand_id": brand_id, "account_id": account_id}, params, start, not backfill)

    def brand_mentions(self, brand_id: str, query: str, own: list[str]) -> None:
        backfill = self.o.mode == "backfill"
        params = {"query": query, "max_results": self.o.page_size, "expansions": ["author_id"],
                  "user_fields": ["public_metrics", "username"], "tweet_fields": TWEET_FIELDS}
        ctx = {"brand_id": brand_id, "own_ids": own}
        if backfill and self.o.full_archive and self.o.since:
            # Full-archive search pages hold up to 500 posts: 5x fewer requests at 1 request/s.
            params["max_results"] = min(500, 5 * self.o.page_size)
            self.stream("search_all", self.client.search_all_tweets, ("mentions", brand_id), ctx, params,
                        _midnight(self.o.since), False)
            return
        start = _midnight(self.o.since) if backfill and self.o.since else _midnight(self.dt)
        cur = self.state["mentions"].get(brand_id) or {}
        since = cur.get("since_id")
        if not backfill and since and snowflake_time(since) < self.recent_floor:
            # Recent search rejects a since_id older than 7 days (a quiet brand's cursor ages):
            # continue from the end of the last complete read instead, by time.
            until = datetime.fromisoformat(cur["until"]) if cur.get("until") else None
            if until is None or until < self.recent_floor:
                self.errors.append(f"{brand_id}: mentions before {self.recent_floor:%Y-%m-%d %H:%M} are "
                                   "out of recent search's reach (last read too old); not collected")
            cur["since_id"] = None
            cur["start"] = max(until or self.recent_floor, self.recent_floor).isoformat()
            if cur.get("gap"):
                cur["gap"] = None
                self.errors.append(f"{brand_id}: an unread range of mentions aged out of recent search")
        if start < self.recent_floor:
            if backfill:
                self.errors.append(f"{brand_id}: mentions before {self.recent_floor:%Y-%m-%d} need "
                                   "full-archive access; collected from there")
            start = self.recent_floor
        self.stream("search_recent", self.client.search_recent_tweets, ("mentions", brand_id), ctx,
                    params, start, not backfill)

    def brand_counts(self, brand_id: str, query: str) -> None:
        counted = self.state["counted"].get(brand_id)
        ctx = {"brand_id": brand_id}
        if self.o.mode == "backfill" and self.o.full_archive and self.o.since:
            for _ in self.f.paginate("counts_all", self.client.get_all_tweets_count, ctx, query=query,
                                     granularity="day", start_time=_midnight(self.o.since),
                                     end_time=self.end):
                pass
        else:
            first = self.o.since if self.o.mode == "backfill" and self.o.since else self.dt
            if counted and self.o.mode == "daily":
                first = min(first, date.fromisoformat(counted) + timedelta(days=1))
            first = max(first, self.recent_day)
            if first > self.dt:
                return
            self.f.get("counts_recent", self.client.get_recent_tweets_count, ctx, query=query,
                       granularity="day", start_time=_midnight(first), end_time=self.end)
        self.state["counted"][brand_id] = self.dt.isoformat()

    def refresh(self, prior: dict[str, dict[str, Any]]) -> None:
        new = {t["id"] for p in self.f.pages if p["endpoint"] == "user_tweets" for t in data_list(p["body"])}
        wanted = {b.id for b in self.brands}
        since = self.o.now - timedelta(days=self.refresh_days)
        # Reposts are skipped: their public metrics are the original post's, not the brand's.
        ids = sorted((pid for pid, r in prior.items()
                      if r["brand_id"] in wanted and not r["deleted"] and r["kind"] != "repost"
                      and r["created_at"] is not None and r["created_at"] >= since and pid not in new),
                     key=int)
        for i in range(0, len(ids), 100):
            chunk = ids[i:i + 100]
            body = self.guarded("refresh", None, self.f.get, "tweets_lookup", self.client.get_tweets,
                                {"refresh": len(chunk)}, ids=chunk, tweet_fields=TWEET_FIELDS)
            if body is None and not self.stopped:
                self.failed.update(prior[x]["brand_id"] for x in chunk)

    # -- whole run -------------------------------------------------------------------------
    def run(self, prior: dict[str, dict[str, Any]]) -> None:
        """Phases in order of value per read, so a budget or deadline stop loses the least:
        profiles, brand posts, their refresh, daily counts (not billed), then mentions (the
        bulk of the reads)."""
        self.f.archive("run", {"endpoint": "run", "started_at": utcnow().isoformat(), "mode": self.o.mode,
                               "since": self.o.since.isoformat() if self.o.since else None,
                               "now": self.o.now.isoformat(), "brands": self.o.brands,
                               "refresh_days": self.refresh_days})
        resolved = self.profiles()
        first = self.o.since if self.o.mode == "backfill" and self.o.since else self.dt
        own: dict[str, list[str]] = {}
        for b in self.brands:
            own[b.id] = [resolved[a.handle.lower()] for a in b.accounts if a.handle.lower() in resolved]
            # Where each stream of this brand starts if this run never gets to it (a stop before):
            # the next run picks up from there instead of from its own date.
            for table, ident in [*(("timelines", i) for i in own[b.id]), ("mentions", b.id)]:
                cur = self.state[table].setdefault(ident, {"since_id": None, "gap": None})
                if not cur.get("since_id"):
                    cur.setdefault("start", _midnight(first).isoformat())
            self.state["counted"].setdefault(b.id, (first - timedelta(days=1)).isoformat())
        steps: Counter[str] = Counter()

        def step(what: str, brand: str, fn: Any, *args: Any) -> None:
            if not self.stopped:
                self.guarded(what, brand, fn, *args)
                if not self.stopped:
                    steps[brand] += 1

        for b in self.brands:
            for account_id in own[b.id]:
                self.guarded("posts", b.id, self.brand_posts, b.id, account_id)
        if not self.stopped:
            self.refresh(prior)
        for b in self.brands:
            step("counts", b.id, self.brand_counts, b.id, b.mention_query)
        for b in self.brands:
            step("mentions", b.id, self.brand_mentions, b.id, b.mention_query, own[b.id])
        self.done = {b for b, n in steps.items() if n == 2}


def run_collect(panel: Panel, dt: date, lake: Lake, client: tweepy.Client,
                options: CollectOptions, run_id: str | None = None) -> StageSummary:
    """Collect date `dt` for `panel` into `lake` (see the module doc); returns the run summary."""
    summary = StageSummary.start("collect", panel.id, dt, run_id=run_id)
    r = _Run(panel, dt, lake, client, options, summary)
    prior = prior_posts(lake, panel.id, dt, r.refresh_days)
    r.run(prior)
    tables, data_errors = build_tables(panel, r.f.pages, prior, _tagger())
    brands = [b.id for b in r.brands] if options.brands is not None else None
    rows = write_tables(lake, panel.id, dt, tables, brands)
    state = r.state
    if brands is not None:
        # A subset run only moves its brands' cursors; the other brands keep D's own state.
        at = cstate.load_at(lake, panel.id, dt)
        if at is not None:
            acc = state["accounts"]
            mine = {acc[a.handle.lower()] for b in r.brands for a in b.accounts if a.handle.lower() in acc}
            mine |= set(brands)  # timelines are keyed by account id, mentions and counts by brand
            for k in ("timelines", "mentions", "counted"):
                at[k] = {i: v for i, v in at.get(k, {}).items() if i not in mine} | {
                    i: v for i, v in state[k].items() if i in mine}
            at["accounts"] = {**at.get("accounts", {}), **state["accounts"]}
            state = at
    cstate.save(lake, panel.id, dt, state)

    c = r.f.count
    summary.api_requests, summary.posts_read, summary.users_read = c.requests, c.posts, c.users
    summary.errors = [*c.errors, *r.errors, *data_errors]
    summary.brands_failed = len(r.failed)
    summary.brands_ok = len(r.done - r.failed)
    summary.details = {"rows": rows, "mode": options.mode, "pages": r.f.seq - 1,
                       "stopped": r.stopped, "cost_usd": summary.cost_usd}
    if r.fatal or (r.failed and len(r.failed) == len(r.brands)):
        status: Literal["ok", "partial", "failed"] = "failed"
    elif r.stopped or r.failed:
        status = "partial"
    else:
        status = "ok"
    summary.finish(status)
    record_run(lake, summary)
    return summary
