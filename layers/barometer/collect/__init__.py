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
4. the raw folder's manifest (written last there: the run's pages are complete), then the
   tables `accounts`, `posts`, `mentions`, `mention_counts` and `completeness` for (panel, D)
   (see `tables.commit`: a brand's rows are replaced only for what the run read completely),
   the cursor state (see `state.py`) and the `runs` row, in that order.

Every page is archived under `raw/panel=<p>/dt=<D>/<run_id>/` before it is parsed, and the
tables are built from those pages only (`parse.build_tables`), so `reparse` rebuilds the same
rows from `raw/` without calling X. Modules: `options` (CollectOptions), `runner` (the API
work), `reads` (completeness), `tables` (lake reads and the commit), `fetch`, `parse`, `state`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import tweepy

from barometer.collect import state as cstate
from barometer.collect.networks import BlueskySource, collect_bluesky_part, combined_status, one_line, x_details
from barometer.collect.options import (
    SNAPSHOT_GRACE,
    X_EPOCH_MS,
    CollectOptions,
    midnight,
    snowflake_time,
)
from barometer.collect.parse import build_tables
from barometer.collect.runner import Run
from barometer.collect.tables import COLLECT_TABLES, commit, prior_posts, unsaved_dates
from barometer.config import Panel
from barometer.lake.store import Lake
from barometer.runs import StageSummary, recorded, utcnow
from barometer.topics import panel_tagger

__all__ = ["COLLECT_TABLES", "MANIFEST", "X_EPOCH_MS", "BlueskySource", "CollectOptions", "prior_posts",
           "run_collect", "snowflake_time"]

MANIFEST = "manifest.json.gz"  # written last in a run's raw folder: its pages are complete
# A day's collection gives up at D+2 04:00 UTC: an hour before the next scheduled run (D+1's,
# at 06:00/07:00 Paris), so score and publish of D finish before it starts.
GIVE_UP = timedelta(hours=4)


def late_reason(r: Run) -> str | None:
    """Why this run's profiles are not the run date's snapshot (read too late), or None."""
    seen = max(r.o.now, r.f.server_now or r.o.now)
    due = midnight(r.dt + timedelta(days=1)) + SNAPSHOT_GRACE
    if seen < due:
        return None
    return f"profiles read at {seen:%Y-%m-%d %H:%M} UTC, after {due:%Y-%m-%d %H:%M}: not {r.dt}'s snapshot"


def run_collect(panel: Panel, dt: date, lake: Lake, client: tweepy.Client,
                options: CollectOptions, run_id: str | None = None,
                bluesky: BlueskySource | None = None) -> StageSummary:
    """Collect date `dt` for `panel` into `lake` (see the module doc); returns the run summary.

    Every network of the panel is read in this one stage (`collect.networks`): X through
    `client` on `panel.on_network("x")`, Bluesky through `bluesky` when the panel has accounts
    there; a network that fails makes the run partial and the others' rows are still written.
    The `runs` row is written whatever happens (`runs.recorded`): a run that raises leaves a
    `failed` row naming the error."""
    nets = panel.networks
    with recorded(lake, StageSummary.start("collect", panel.id, dt, run_id=run_id)) as summary:
        if nets in ((), ("x",)):  # an X-only panel: one network, its errors raise as before
            _collect_x(panel, dt, lake, client, options, summary)
            return summary
        per: dict[str, dict[str, Any]] = {}
        if "x" in nets:
            xp = panel.on_network("x")
            ids = {b.id for b in xp.brands}
            xo = options if options.brands is None else options.model_copy(
                update={"brands": [b for b in options.brands if b in ids]})
            if xo.brands != []:
                try:
                    _collect_x(xp, dt, lake, client, xo, summary)
                except Exception as e:  # the other networks are still read and written
                    summary.errors.append(one_line("x", e))
                    summary.status = "failed"
                summary.errors = [e if e.startswith("x: ") else f"x: {e}" for e in summary.errors]
                per["x"] = x_details(summary)
        if "bluesky" in nets:
            per["bluesky"] = collect_bluesky_part(panel, summary, lake, bluesky, options)
        summary.details = {**summary.details, "networks": per, "cost_usd": summary.cost_usd}
        summary.finish(combined_status([d["status"] for d in per.values()]))
    return summary


def _collect_x(panel: Panel, dt: date, lake: Lake, client: tweepy.Client, options: CollectOptions,
               summary: StageSummary) -> None:
    """X's part of the stage: the run, its raw manifest, its tables, its state, its summary."""
    r = Run(panel, dt, lake, client, options, summary)
    prior = prior_posts(lake, panel.id, dt, r.refresh_days)
    r.run(prior)
    late = late_reason(r)
    unsaved = unsaved_dates(lake, panel.id, dt, r.prior)
    brands = [b.id for b in r.brands]
    lake.put_json_gz(f"{r.raw_prefix(summary.run_id)}/{MANIFEST}", {
        "endpoint": "manifest", "run_id": summary.run_id, "dt": dt.isoformat(),
        "finished_at": utcnow().isoformat(), "pages": r.f.seq, "mode": options.mode, "brands": options.brands,
        "refresh_days": r.refresh_days, "late": late, "unsaved": [d.isoformat() for d in unsaved],
        "stopped": r.stopped, "reads": r.reads.to_json()})
    tables, data_errors = build_tables(panel, r.f.pages, prior, panel_tagger(panel))
    rows, notes = commit(lake, panel, dt, tables, r.reads, brands, run_id=summary.run_id,
                         recorded_at=options.now, late=late, unsaved=unsaved, merge=options.resume)
    _save_state(lake, panel, dt, r, options)
    _finish(summary, r, rows, [*notes, *data_errors], options)


def _save_state(lake: Lake, panel: Panel, dt: date, r: Run, options: CollectOptions) -> None:
    """Save the cursors for D; a rerun moves only those of the streams it read to the end (and,
    for a brand subset, of its own brands)."""
    at = cstate.load_at(lake, panel.id, dt)
    r.record_spent()
    state = r.state
    if at is not None and not options.resume:  # a resumed run started from `at` itself
        mine = None
        if options.brands is not None:
            acc = state["accounts"]
            mine = {acc[a.handle.lower()] for b in r.brands for a in b.accounts if a.handle.lower() in acc}
            mine |= {b.id for b in r.brands}  # timelines are keyed by account id, mentions and counts by brand
        state = cstate.merge_rerun(at, state, r.streams_done, mine)
    cstate.save(lake, panel.id, dt, state)


def resume_details(r: Run, options: CollectOptions) -> dict[str, Any]:
    """`work_left`: the run stopped for time (its deadline, or a rate-limit window resetting past
    it) with streams unread, and the day's deadline (`options.give_up_at`) allows another
    invocation; `resume_after`: when (UTC, ISO 8601 with Z, the Wait state's TimestampPath) the
    next one can start, the window's reported reset. The state machine loops on them."""
    at = r.f.resume_at
    if r.fatal or not r.stopped or at is None:
        return {"work_left": False}
    after = datetime.fromtimestamp(max(at, r.f.clock.time()), UTC).replace(tzinfo=None)
    give_up = options.give_up_at or (midnight(r.dt + timedelta(days=2)) + GIVE_UP)
    if after >= give_up:
        return {"work_left": False, "gave_up": f"the next invocation ({after:%Y-%m-%d %H:%M} UTC) "
                                                f"would start after the day's deadline ({give_up:%Y-%m-%d %H:%M} UTC)"}
    return {"work_left": True, "resume_after": after.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _finish(summary: StageSummary, r: Run, rows: dict[str, int], notes: list[str],
            options: CollectOptions) -> None:
    c = r.f.count
    summary.api_requests, summary.posts_read, summary.users_read = c.requests, c.posts, c.users
    _budget(summary, r)
    summary.errors = [*c.errors, *r.errors, *([r.out_of_reach] if r.out_of_reach else []), *notes]
    summary.brands_failed = len(r.failed)
    summary.brands_ok = len(r.done - r.failed)
    details: dict[str, Any] = {"rows": rows, "mode": options.mode, "pages": r.f.seq - 1,
                               "stopped": r.stopped, "cost_usd": summary.cost_usd}
    details.update(resume_details(r, options))
    summary.details = details
    if r.fatal or (r.failed and len(r.failed) == len(r.brands)):
        status: Literal["ok", "partial", "failed"] = "failed"
    elif r.stopped or r.failed or r.out_of_reach:
        status = "partial"
    else:
        status = "ok"
    summary.finish(status)


def _budget(summary: StageSummary, r: Run) -> None:
    """The run's budget, its priced requests and the brands it sampled (issue 13), said in its errors."""
    b = r.f.limits.budget
    if b is None:
        return
    summary.budget_usd = b.usd
    summary.other_usd = b.counts_requests * b.counts_usd
    summary.sampled_brands = r.plan.sampled if r.plan is not None else []
    if summary.sampled_brands:
        r.errors.append(f"daily budget ${b.usd:.2f}: mentions sampled for {len(summary.sampled_brands)} brand(s) "
                        f"({', '.join(summary.sampled_brands)}); their reach, centrality and topics are estimates")
