"""The API work of one collect run: profiles, timelines, refresh, counts, mentions, in that order.

`Run.run(prior)` reads through the `Fetcher` (every page archived before it is parsed), moves
the cursor state (`state.py`) and records, per brand and source, which days it read
completely (`reads.Reads`). It writes no table: `run_collect` does, from the archived pages.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import tweepy

from barometer.collect import state as cstate
from barometer.collect.budget import Budget
from barometer.collect.fetch import Fatal, Fetcher, Limits, Stop, StreamFailed
from barometer.collect.options import (
    RECENT_DAYS,
    RECENT_MARGIN,
    TWEET_FIELDS,
    USER_FIELDS,
    CollectOptions,
    midnight,
    snowflake_time,
)
from barometer.collect.parse import data_list, page_ids
from barometer.collect.plan import MentionPlan, plan_mentions, replan, sample_mentions, thin_refresh
from barometer.collect.reads import COMPLETE, NONE, PARTIAL, Reads
from barometer.config import Panel
from barometer.errors import ConfigError
from barometer.lake.store import Lake
from barometer.runs import StageSummary, utcnow

READ_SOURCES = ("posts", "counts", "mentions")


SPENT_KEY = "budget_spent_usd"  # in the state at D: the daily budget its invocations spent

class Run:
    def __init__(self, panel: Panel, dt: date, lake: Lake, client: tweepy.Client,
                 options: CollectOptions, summary: StageSummary) -> None:
        self.panel, self.dt, self.lake, self.client, self.o = panel, dt, lake, client, options
        col = panel.collection
        self.refresh_days = options.refresh_days if options.refresh_days is not None else col.refresh_days
        self.end = midnight(dt + timedelta(days=1))
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
        at = cstate.load_at(lake, panel.id, dt) if options.resume else None
        self.state = copy.deepcopy(at if at is not None else self.prior)  # what this run leaves for the next
        self.state.pop(SPENT_KEY, None)  # the day's budget spent so far: set by `record_spent`
        for k, v in cstate.empty().items():
            self.state.setdefault(k, v)
        self.errors: list[str] = []
        self.failed: set[str] = set()
        self.stopped: str | None = None
        self.done: set[str] = set()  # brands whose every step completed
        self.fatal = False
        self.reads = Reads()
        self.streams_done: set[tuple[str, str]] = set()  # (state table, id) read to the end
        self.out_of_reach: str | None = None  # the date is beyond recent search's reach
        self.f = Fetcher(
            client, lake, self.raw_prefix(summary.run_id), options.now,
            Limits(deadline=options.monotonic_deadline(),
                   max_post_reads=options.max_post_reads if options.max_post_reads is not None
                   else col.max_post_reads,
                   max_user_reads=options.max_user_reads if options.max_user_reads is not None
                   else col.max_user_reads,
                   max_wait=options.max_wait, retries=options.retries, backoff=options.backoff,
                   search_all_interval=options.search_all_interval,
                   # A daily budget (collect/plan.py) binds daily runs; a backfill has its own caps.
                   budget=Budget(col.daily_budget_usd, col.counts_request_usd,
                                 already=float((at or {}).get(SPENT_KEY) or 0.0))
                   if col.daily_budget_usd is not None and options.mode == "daily" else None),
            clock=options.clock)
        self.plan: MentionPlan | None = None

    def record_spent(self) -> None:
        """Leave in the date's state what this date's invocations spent of its daily budget."""
        if self.f.limits.budget is not None:
            self.state[SPENT_KEY] = round(self.f.limits.budget.spent(self.f.count), 6)

    def raw_prefix(self, run_id: str) -> str:
        return f"raw/panel={self.panel.id}/dt={self.dt.isoformat()}/{run_id}"

    @property
    def backfill(self) -> bool:
        return self.o.mode == "backfill" and self.o.since is not None

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

    def first_day(self, table: str, ident: str) -> date:
        """First day a stream is responsible for: where its last complete read ended."""
        if self.backfill and self.o.since:
            return self.o.since
        if table == "counted":
            counted = self.state["counted"].get(ident)
            return min(date.fromisoformat(counted) + timedelta(days=1), self.dt) if counted else self.dt
        cur = self.state[table].get(ident) or {}
        for k in ("until", "start"):
            if cur.get(k):
                return min(datetime.fromisoformat(cur[k]).date(), self.dt)
        return self.dt

    def read(self, brand: str, source: str, first: date, key: tuple[str, str] | None,
             fn: Callable[[], object]) -> None:
        """Run a read of days [first, D]; record the span it achieved (complete, partial, none)."""
        # A budgeted run plans on every brand's counts of this run's pages: counts are free, so
        # a resumed invocation counts again rather than plan on none (and read everything).
        recount = key is not None and key[0] == "counted" and self.f.limits.budget is not None
        if self.o.resume and key is not None and self.finished(key) and not recount:
            # An earlier invocation of this date read it to the end: its rows are stored.
            self.reads.add(brand, source, first, self.dt, COMPLETE)
            self.streams_done.add(key)
            return
        n = len(self.f.pages)
        try:
            fn()
        except (Stop, StreamFailed, Fatal) as e:
            status = PARTIAL if len(self.f.pages) > n else NONE
            self.reads.add(brand, source, first, self.dt, status, f"{source}: {e}")
            raise
        self.reads.add(brand, source, first, self.dt, COMPLETE)
        if key is not None:
            self.streams_done.add(key)

    def finished(self, key: tuple[str, str]) -> bool:
        """Whether the run date's checkpoint has this stream read to the end of D."""
        table, ident = key
        if table == "counted":
            return bool(self.state["counted"].get(ident) == self.dt.isoformat())
        cur = self.state[table].get(ident) or {}
        return bool(cur.get("until") == self.end.isoformat() and not cur.get("gap"))

    def aged(self, brand: str, source: str, first: date, reach: datetime) -> date:
        """Record the days before `reach` as unreadable; the first day left to read."""
        day = reach.date()
        why = f"{source}: before {reach:%Y-%m-%d %H:%M} UTC, out of recent search's 7-day reach"
        self.reads.add(brand, source, first, min(day - timedelta(days=1), self.dt), NONE, why)
        if reach.time() != dtime() and first <= day <= self.dt:
            self.reads.add(brand, source, day, day, PARTIAL, why)
        return max(first, day)

    def profiles(self) -> dict[str, str]:
        """panel handle (lower) → account id to read, for the accounts that can be read."""
        handles = [a.handle for b in self.brands for a in b.accounts]
        if self.o.resume and self.state.get("profiled") == self.dt.isoformat():
            # An earlier invocation of this date read every profile (its accounts rows are in the
            # lake): reading them again would bill each user once more per invocation.
            ids: dict[str, str] = self.state.get("accounts", {})
            return {h.lower(): ids[h.lower()] for h in handles if h.lower() in ids}
        resolved = self._read_profiles(handles)
        return resolved

    def _read_profiles(self, handles: list[str]) -> dict[str, str]:
        known: dict[str, str] = self.prior.get("accounts", {})
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
        if ok and not errs and len(resolved) == len({h.lower() for h in handles}):
            self.state["profiled"] = self.dt.isoformat()
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
        start = midnight(self.o.since) if self.backfill and self.o.since else midnight(self.dt)
        params = {"id": account_id, "max_results": self.o.page_size, "tweet_fields": TWEET_FIELDS}
        key = ("timelines", account_id)
        self.read(brand_id, "posts", self.first_day(*key), key, lambda: self.stream(
            "user_tweets", self.client.get_users_tweets, key, {"brand_id": brand_id, "account_id": account_id},
            params, start, not self.backfill))

    def brand_mentions(self, brand_id: str, query: str, own: list[str]) -> None:
        backfill = self.o.mode == "backfill"
        params: dict[str, Any] = {"query": query, "max_results": self.o.page_size, "tweet_fields": TWEET_FIELDS}
        if self.panel.collection.author_profiles:  # authors' profiles: billed as user reads
            params.update(expansions=["author_id"], user_fields=["public_metrics", "username"])
        ctx = {"brand_id": brand_id, "own_ids": own}
        key = ("mentions", brand_id)
        first = self.first_day(*key)
        if backfill and self.o.full_archive and self.o.since:
            # Full-archive search pages hold up to 500 posts: 5x fewer requests at 1 request/s.
            params["max_results"] = min(500, 5 * self.o.page_size)
            since_ = self.o.since
            self.read(brand_id, "mentions", first, key, lambda: self.stream(
                "search_all", self.client.search_all_tweets, key, ctx, params, midnight(since_), False))
            return
        if self.end <= self.recent_floor:
            # Nothing of this date is within recent search's reach any more: no request, the
            # stored rows stay, and the cursor is left as it is.
            self.reads.add(brand_id, "mentions", first, self.dt, NONE,
                           f"mentions: {self.dt} is out of recent search's 7-day reach")
            self.out_of_reach = (f"{self.dt} is out of recent search's 7-day reach at {self.o.now:%Y-%m-%d %H:%M} "
                                 "UTC: mentions and counts not read again; the stored rows are kept")
            return
        start = midnight(self.o.since) if backfill and self.o.since else midnight(self.dt)
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
        if midnight(first) < self.recent_floor:
            first = self.aged(brand_id, "mentions", first, self.recent_floor)
        self.read(brand_id, "mentions", first, key, lambda: self.stream(
            "search_recent", self.client.search_recent_tweets, key, ctx, params, start, not backfill))

    def brand_counts(self, brand_id: str, query: str) -> None:
        counted = self.state["counted"].get(brand_id)
        ctx = {"brand_id": brand_id}
        resp = self.first_day("counted", brand_id)
        if self.o.mode == "backfill" and self.o.full_archive and self.o.since:
            since_ = self.o.since

            def count_all() -> None:
                for _ in self.f.paginate("counts_all", self.client.get_all_tweets_count, ctx, query=query,
                                         granularity="day", start_time=midnight(since_), end_time=self.end):
                    pass

            self.read(brand_id, "counts", resp, ("counted", brand_id), count_all)
        else:
            first = self.o.since if self.o.mode == "backfill" and self.o.since else self.dt
            if counted and self.o.mode == "daily":
                first = min(first, date.fromisoformat(counted) + timedelta(days=1))
            if self.f.limits.budget is not None and self.o.mode == "daily":
                # The plan needs the volume of every day its mentions read will cover, a backlog
                # a stopped run left included (counts are free; the latest count of a day wins).
                first = min(first, self.first_day("mentions", brand_id))
            first = max(first, self.recent_day)
            if resp < self.recent_day:
                self.aged(brand_id, "counts", resp, midnight(self.recent_day))
            if first > self.dt:
                return
            self.read(brand_id, "counts", first, ("counted", brand_id), lambda: self.f.get(
                "counts_recent", self.client.get_recent_tweets_count, ctx, query=query,
                granularity="day", start_time=midnight(first), end_time=self.end))
        self.state["counted"][brand_id] = self.dt.isoformat()

    def refresh(self, prior: dict[str, dict[str, Any]]) -> None:
        if self.o.resume and self.state.get("refreshed") == self.dt.isoformat():
            return  # an earlier invocation of this date refreshed them
        n_errors = len(self.errors)
        self._refresh(prior)
        if not self.stopped and len(self.errors) == n_errors:
            self.state["refreshed"] = self.dt.isoformat()

    def _refresh(self, prior: dict[str, dict[str, Any]]) -> None:
        new = {t["id"] for p in self.f.pages if p["endpoint"] == "user_tweets" for t in data_list(p["body"])}
        wanted = {b.id for b in self.brands}
        since = self.o.now - timedelta(days=self.refresh_days)
        # Reposts are skipped: their public metrics are the original post's, not the brand's.
        ids = sorted((pid for pid, r in prior.items()
                      if r["brand_id"] in wanted and not r["deleted"] and r["kind"] != "repost"
                      and r["created_at"] is not None and r["created_at"] >= since and pid not in new),
                     key=int)
        budget = self.f.limits.budget
        ids = thin_refresh(ids, {i: prior[i]["created_at"] for i in ids}, self.o.now,
                           budget.usd if budget is not None else None)
        for i in range(0, len(ids), 100):
            chunk = ids[i:i + 100]
            body = self.guarded("refresh", None, self.f.get, "tweets_lookup", self.client.get_tweets,
                                {"refresh": len(chunk)}, ids=chunk, tweet_fields=TWEET_FIELDS)
            if body is None:
                brands = {prior[x]["brand_id"] for x in chunk}
                if not self.stopped:
                    self.failed.update(brands)
                why = f"posts: metrics not refreshed ({self.stopped or (self.errors[-1] if self.errors else '?')})"
                for b in brands:
                    self.reads.add(b, "posts", self.dt, self.dt, PARTIAL, why)

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
                    cur.setdefault("start", midnight(first).isoformat())
            self.state["counted"].setdefault(b.id, (first - timedelta(days=1)).isoformat())
        steps: Counter[str] = Counter()

        def step(what: str, brand: str, fn: Any, *args: Any) -> None:
            if not self.stopped:
                self.guarded(what, brand, fn, *args)
                if not self.stopped:
                    steps[brand] += 1

        for b in self.brands:
            for account_id in own[b.id]:
                if self.stopped:
                    self.reads.add(b.id, "posts", self.first_day("timelines", account_id), self.dt, NONE,
                                   f"posts: not read (run stopped: {self.stopped})")
                else:
                    self.guarded("posts", b.id, self.brand_posts, b.id, account_id)
        self.refresh(prior)
        if self.f.limits.budget is None:
            # Nothing to plan (a plan needs every brand's counts first): each brand's counts then
            # its mentions, so X's per-endpoint windows are spent together, not one after the
            # other (a 1,000-brand day: the counts' floor, not counts' windows + search's).
            for b in self.brands:
                step("counts", b.id, self.brand_counts, b.id, b.mention_query)
                step("mentions", b.id, self.brand_mentions, b.id, b.mention_query, own[b.id])
            self.done = {b for b, n in steps.items() if n == 2}
            self.unread(own)
            return
        for b in self.brands:
            step("counts", b.id, self.brand_counts, b.id, b.mention_query)
        self.plan = None if self.stopped else plan_mentions(self)
        for i, b in enumerate(self.brands):
            if self.plan is not None and i:  # the first brand's plan is `plan_mentions`'s own
                replan(self, self.plan, [x.id for x in self.brands[i:]])
            if self.plan is None or self.plan.full(b.id):
                step("mentions", b.id, self.brand_mentions, b.id, b.mention_query, own[b.id])
            else:  # a sample that fits the daily budget (collect/plan.py)
                step("mentions", b.id, sample_mentions, self, b.id, b.mention_query, own[b.id],
                     self.plan.alloc[b.id], self.plan.volumes[b.id])
        self.done = {b for b, n in steps.items() if n == 2}
        self.unread(own)

    def unread(self, own: dict[str, list[str]]) -> None:
        """Record as not read the sources of each brand this run never got to."""
        for b in self.brands:
            if own[b.id] and len(own[b.id]) < len(b.accounts):
                self.reads.add(b.id, "posts", self.dt, self.dt, NONE,
                               "posts: an account not readable (suspended, unknown, or its profile not read)")
            for source in READ_SOURCES:
                if self.reads.covered(b.id, source):
                    continue
                if source == "posts":
                    starts = [self.first_day("timelines", i) for i in own[b.id]]
                    first = min(starts) if starts else self.dt
                    why = f"run stopped: {self.stopped}" if self.stopped else "no readable account"
                else:
                    first = self.first_day("mentions" if source == "mentions" else "counted", b.id)
                    why = f"run stopped: {self.stopped}" if self.stopped else "not reached"
                self.reads.add(b.id, source, first, self.dt, NONE, f"{source}: not read ({why})")
