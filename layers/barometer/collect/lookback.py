"""Look-backs: when each author of a budgeted sample last mentioned the brand before (issue 13).

A sampled brand-day tells which authors mentioned the brand in the slices read, not whether an
author read today had already mentioned it earlier in the window. That is what the window's
reach (distinct authors) needs, and no estimator recovers it from a thin sample of heavy-tailed
activity (score/estimate.py: every one errs by a third or more below q = 0.2). X's counts do,
for free: `GET /2/tweets/counts/recent` (the last seven days), then `/counts/all` for older
days when those had none, on `(<brand query>) from:<author id>`, give the author's mentions of
the brand per day; two of X's 15-minute windows share the load. For the earliest sampled post
of each (author, day), the counts from `window_days − 1` days before its day up to the post
itself (exclusive) give `author_prev_day`: the author's last earlier mention of the brand (that
same day when they had one earlier that day), null when none in that look-back. The author's other sampled posts of
the day are preceded by that one: their `author_prev_day` is their own day.

Then the post is its author's first mention in a window W (starting at W₀) exactly when
`author_prev_day` is null or before W₀, and the window's reach is estimated without bias
(Horvitz-Thompson, score/estimate.py `reach_first_mentions`): every author has one first mention
in W, in the sample with the known probability p of its slice.

Counts pages are searched newest first (X pages counts/all backwards, 31 days a page): the
look-back stops at the first page with a mention. Look-backs never wait for X's counts window:
when it is spent (or the counts are not free, `collection.counts_request_usd` > 0), the rest of
the brand's posts are not looked back, and the scorer falls back to the sample-only estimator
for the windows holding that day, for every brand alike (score/sampled.py). Results are kept
in the date's state, so a resumed invocation does not ask again; each brand's complete set is
written as one `lookback` record (archived like a page, so `reparse` rebuilds the same rows).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from barometer.collect.fetch import StreamFailed
from barometer.collect.options import midnight
from barometer.collect.parse import LOOKBACK, SEARCH_ENDPOINTS, count_rows, data_list, ts

if TYPE_CHECKING:
    from barometer.collect.runner import Run

ENDPOINT = LOOKBACK  # the record's `endpoint` (not an X endpoint), and its counts pages' context key
STATE_KEY = "lookback"  # in the date's state: {"dt": D, "posts": {post_id: [prev, from]}}


def sampled_posts(pages: list[dict[str, Any]], brand_id: str, own: set[str]) -> list[tuple[str, str, datetime]]:
    """(post id, author id, created_at) of a brand's sampled mentions in these pages."""
    out: dict[str, tuple[str, str, datetime]] = {}
    for p in pages:
        ctx = p.get("context") or {}
        if p["endpoint"] not in SEARCH_ENDPOINTS or ctx.get("brand_id") != brand_id or "sample_p" not in ctx:
            continue
        for t in data_list(p["body"]):
            at, author = ts(t.get("created_at")), t.get("author_id")
            if at is not None and author and author not in own:
                out[t["id"]] = (t["id"], author, at)
    return sorted(out.values(), key=lambda x: (x[2], int(x[0])))


def firsts(posts: list[tuple[str, str, datetime]]) -> tuple[dict[str, tuple[str, datetime]], dict[str, str]]:
    """The earliest post of each (author, day) to look back from {post: (author, created_at)},
    and every other post → the earlier post of its author that day."""
    first: dict[tuple[str, date], str] = {}
    look: dict[str, tuple[str, datetime]] = {}
    later: dict[str, str] = {}
    for pid, author, at in posts:  # in time order
        key = (author, at.date())
        if key in first:
            later[pid] = first[key]
        else:
            first[key] = pid
            look[pid] = (author, at)
    return look, later


def last_day(bodies: list[dict[str, Any]]) -> date | None:
    """The latest day with a mention in counts pages (day buckets), None when all are zero."""
    days = [d for body in bodies for d, n in count_rows(body) if n > 0]
    return max(days) if days else None


def lookback_from(day: date, window_days: int) -> date:
    """The first day whose mentions can precede `day` in a window holding it."""
    return day - timedelta(days=window_days - 1)


def cached(run: Run) -> dict[str, list[str | None]]:
    st = run.state.get(STATE_KEY)
    if not isinstance(st, dict) or st.get("dt") != run.dt.isoformat():
        st = run.state[STATE_KEY] = {"dt": run.dt.isoformat(), "posts": {}}
    posts: dict[str, list[str | None]] = st["posts"]
    return posts


def spent_window(run: Run, endpoint: str) -> bool:
    """Whether X's last answer of `endpoint` said its 15-minute window has no request left to
    spare: counts/recent keeps one a brand, for the plan of an invocation resuming the day."""
    keep = len(run.brands) if endpoint == "counts_recent" else 0
    for p in reversed(run.f.pages):
        if p["endpoint"] == endpoint:
            left = (p.get("rate") or {}).get("x-rate-limit-remaining")
            return left is not None and int(left) <= keep
    return False


class _Halt(Exception):
    """This run's look-backs stop: X's counts window is spent, or X refused them."""


def _latest(run: Run, endpoint: str, ctx: dict[str, Any], query: str, start: datetime,
            end: datetime) -> date | None:
    """The latest day with a post matching `query` in [start, end): pages newest first, stopping
    at the first with one. Never waits for X's window (mentions come first)."""
    if start >= end:
        return None
    if spent_window(run, endpoint):
        raise _Halt(f"X's {endpoint.replace('_', '/')} window is spent")
    params = {"query": query, "granularity": "day", "start_time": start, "end_time": end}
    # counts/recent answers its seven days in one page; counts/all pages backwards, 31 days a page.
    try:
        pages = (run.f.paginate(endpoint, run.client.get_all_tweets_count, ctx, **params) if endpoint == "counts_all"
                 else iter([run.f.get(endpoint, run.client.get_recent_tweets_count, ctx, **params)]))
        for body in pages:
            found = last_day([body])
            if found is not None:
                return found
            if (body.get("meta") or {}).get("next_token") and spent_window(run, endpoint):
                raise _Halt(f"X's {endpoint.replace('_', '/')} window is spent")
    except StreamFailed as e:  # no full-archive access (403), a fault X kept giving
        raise _Halt(str(e)) from None
    return None


def look_back(run: Run, brand_id: str, query: str, own: list[str]) -> None:
    """Look back from the brand's sampled posts of this run; record the result when complete.

    The days recent search still reaches are asked of `counts/recent` first, the older ones of
    `counts/all` only when those had none: two of X's 15-minute windows share the load."""
    if run.panel.collection.counts_request_usd > 0:
        return  # look-backs are free only while counts are (see module doc)
    window = run.panel.scoring.window_days
    look, later = firsts(sampled_posts(run.f.pages, brand_id, set(own)))
    done = cached(run)
    try:
        for pid, (author, at) in look.items():
            if pid in done:
                continue
            start = midnight(lookback_from(at.date(), window))
            ctx, q = {"brand_id": brand_id, ENDPOINT: pid}, f"({query}) from:{author}"
            split = min(max(start, run.recent_floor), at)
            prev = _latest(run, "counts_recent", ctx, q, split, at) or _latest(run, "counts_all", ctx, q, start, split)
            done[pid] = [prev.isoformat() if prev else None, start.date().isoformat()]
    except _Halt as e:
        # The brand keeps its sample-only estimate for the windows holding this day; the run says so.
        run.errors.append(f"{brand_id}: mention look-backs stopped ({e}); the reach of windows holding this "
                          "day is estimated from the sample alone")
        return
    result = {pid: done[pid] for pid in look}
    for pid, earlier in later.items():
        result[pid] = [look[earlier][1].date().isoformat(), done[earlier][1]]
    record = {"endpoint": ENDPOINT, "context": {"brand_id": brand_id}, "observed_at": run.f.observed_at,
              "body": {"posts": result}}
    run.f.archive(ENDPOINT, record)
    run.f.pages.append(record)
