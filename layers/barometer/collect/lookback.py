"""Look-backs: when each author of a budgeted sample last mentioned the brand before (issue 13).

A sampled brand-day tells which authors mentioned the brand in the slices read, not whether an
author read today had already mentioned it earlier in the window. That is what the window's
reach (distinct authors) needs, and no estimator recovers it from a thin sample of heavy-tailed
activity (score/estimate.py: every one errs by a third or more below q = 0.2). X's counts do,
for free: `GET /2/tweets/counts/all` on `(<brand query>) from:<author id>` gives the author's
mentions of the brand per day. For the earliest sampled post of each (author, day), the counts
from `window_days − 1` days before its day up to the post itself (exclusive) give
`author_prev_day`: the author's last earlier mention of the brand (that same day when they had
one earlier that day), null when none in that look-back. The author's other sampled posts of
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


def spent_window(run: Run) -> bool:
    """Whether X's last counts/all answer said its 15-minute window has no request left."""
    for p in reversed(run.f.pages):
        if p["endpoint"] == "counts_all":
            left = (p.get("rate") or {}).get("x-rate-limit-remaining")
            return left is not None and int(left) <= 0
    return False


def _stopped(run: Run, brand_id: str) -> None:
    # Never wait for the counts window (mentions come first): the brand keeps its sample-only
    # estimate for the windows holding this day, and the run says so.
    run.errors.append(f"{brand_id}: mention look-backs stopped: X's counts/all window is spent; the reach "
                      "of windows holding this day is estimated from the sample alone")


def look_back(run: Run, brand_id: str, query: str, own: list[str]) -> None:
    """Look back from the brand's sampled posts of this run; record the result when complete."""
    if run.panel.collection.counts_request_usd > 0:
        return  # look-backs are free only while counts are (see module doc)
    window = run.panel.scoring.window_days
    look, later = firsts(sampled_posts(run.f.pages, brand_id, set(own)))
    done = cached(run)
    for pid, (author, at) in look.items():
        if pid in done:
            continue
        if spent_window(run):
            return _stopped(run, brand_id)
        start = lookback_from(at.date(), window)
        ctx = {"brand_id": brand_id, ENDPOINT: pid}
        bodies = []
        pages = run.f.paginate("counts_all", run.client.get_all_tweets_count, ctx,
                               query=f"({query}) from:{author}", granularity="day",
                               start_time=midnight(start), end_time=at)
        try:
            for body in pages:
                bodies.append(body)
                if last_day([body]) is not None:
                    break  # pages come newest first: the first mention found is the latest
                if spent_window(run) and (body.get("meta") or {}).get("next_token"):
                    return _stopped(run, brand_id)
        except StreamFailed as e:
            # No full-archive access (403), a fault X kept giving: no look-back this run, the
            # mentions already read stand.
            run.errors.append(f"{brand_id}: mention look-backs not made: {e}")
            return
        prev = last_day(bodies)
        done[pid] = [prev.isoformat() if prev else None, start.isoformat()]
    result = {pid: done[pid] for pid in look}
    for pid, earlier in later.items():
        result[pid] = [look[earlier][1].date().isoformat(), done[earlier][1]]
    record = {"endpoint": ENDPOINT, "context": {"brand_id": brand_id}, "observed_at": run.f.observed_at,
              "body": {"posts": result}}
    run.f.archive(ENDPOINT, record)
    run.f.pages.append(record)
