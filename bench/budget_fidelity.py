"""What a daily budget costs the index: budgeted replays against the full collection.

For a panel, the demo's schedule is replayed once up to the window (the backfills: full
collection, outside the daily budget), then the window's daily runs are replayed on a copy of
that lake for each budget (`collection.daily_budget_usd`; None = read everything), on the same
simulated world, and the run date is scored. Each budget's index is compared with the full
collection's:

- cost a day: the daily runs' `cost_usd` (max and mean), against the budget;
- max |leadership difference| over the brands (points of 0-100);
- Kendall's tau-b between the two leaderboards (by leadership);
- the same first and second brand;
- band coverage: the share of brands whose full-collection rank lies inside the band the
  budgeted run published (`rank_low` … `rank_high`, Monte Carlo with the sampling redrawn).

A budget below the panel's fixed reads is refused at load, as `barometer` refuses it; the row
says so with the minimum.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from barometer.clock import run_clock
from barometer.config import Demo, Panel, parse_panel
from barometer.errors import ConfigError
from barometer.lake.store import Lake
from barometer.pipeline import SIM_TOKEN, LocalRun, backfill_budgets, demo_plan, quiet

INVOCATIONS = 8  # the state machine's collect loop, at most
INVOCATION_S = 880  # a collect invocation's deadline (its Lambda timeout is 900 s)


@dataclass(frozen=True)
class Replay:
    """The schedule replayed: backfills (run date, since), then one daily run per window day."""

    backfills: list[tuple[date, date]]
    daily: list[date]
    run_date: date


def demo_replay(panel: Panel) -> Replay:
    plan = demo_plan(panel)
    return Replay(plan.backfills, plan.daily_dates, plan.run_date)


def short_replay(panel: Panel, run_date: date, window_days: int) -> Replay:
    """One backfill from the panel's first date to the window, then the window's daily runs
    (a panel scored with `growth_reference: previous` needs no reference year)."""
    start = run_date - timedelta(days=window_days - 1)
    assert panel.first_date is not None and panel.first_date < start
    return Replay([(start - timedelta(days=1), panel.first_date)],
                  [start + timedelta(days=i) for i in range(window_days)], run_date)


def with_budget(panel: Panel, budget: float | None) -> Panel:
    """The panel as its file would give it with `collection.daily_budget_usd: budget` (validated:
    a budget below the fixed reads raises ConfigError, as at load)."""
    data = panel.model_dump(mode="json", exclude={"names"})
    data["collection"]["daily_budget_usd"] = budget
    return parse_panel(data, f"<{panel.id} at budget {budget}>")


def kendall_tau_b(x: list[float], y: list[float]) -> float:
    """Kendall's tau-b of two paired lists (ties counted apart, as scipy's default)."""
    conc = disc = tx = ty = 0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif (dx > 0) == (dy > 0):
                conc += 1
            else:
                disc += 1
    denom = math.sqrt((conc + disc + tx) * (conc + disc + ty))
    return (conc - disc) / denom if denom else 1.0


def scores(lake: Lake, panel: Panel, dt: date) -> dict[str, dict[str, Any]]:
    """The run date's leaderboard of the panel's index network (`all` when several)."""
    rows = lake.read("scores", panel.id, dt, dt).to_pylist()
    nets = {r["network"] for r in rows}
    net = "all" if "all" in nets else min(nets)
    return {r["brand_id"]: r for r in rows if r["network"] == net}


def compare(full: dict[str, dict[str, Any]], got: dict[str, dict[str, Any]]) -> dict[str, Any]:
    brands = sorted(full)
    a = [full[b]["leadership"] for b in brands]
    g = [got[b]["leadership"] for b in brands]
    top = [sorted(brands, key=lambda b, s=s: s[b]["rank"])[:2] for s in (full, got)]  # type: ignore[misc]
    inside = [got[b]["rank_low"] <= full[b]["rank"] <= got[b]["rank_high"] for b in brands]
    return {"max_score_error": round(max(abs(x - y) for x, y in zip(a, g, strict=True)), 2),
            "kendall_tau": round(kendall_tau_b(a, g), 3),
            "same_top2": top[0] == top[1],
            "band_coverage": round(sum(inside) / len(inside), 3),
            "outside_band": [b for b, ok in zip(brands, inside, strict=True) if not ok]}


def fidelity(panel: Panel, replay: Replay, budgets: list[float | None], root: Path) -> dict[str, Any]:
    """Per budget (None first: the reference), the cost and the index against the full one."""
    shutil.rmtree(root, ignore_errors=True)
    base = root / "base"
    t0 = time.perf_counter()
    local = LocalRun(panel=panel, lake=Lake(str(base)), site_dir=root / "site", progress=quiet)
    with local.client(run_clock(replay.backfills[0][0])) as (client, set_now):
        for dt, since in replay.backfills:
            set_now(run_clock(dt))
            local.collect(client, dt, run_clock(dt), mode="backfill", since=since, full_archive=True,
                          **backfill_budgets(panel))
    out: dict[str, Any] = {"backfill_s": round(time.perf_counter() - t0, 1), "budgets": {}}
    full: dict[str, dict[str, Any]] | None = None
    for budget in [None, *[b for b in budgets if b is not None]]:
        key = "unlimited" if budget is None else f"{budget:g}"
        try:
            pb = with_budget(panel, budget)
        except ConfigError as e:
            out["budgets"][key] = {"refused": str(e).split(": ", 1)[-1]}
            continue
        t1 = time.perf_counter()
        lake = Lake(str(root / f"budget-{key}"))
        shutil.copytree(base, root / f"budget-{key}")
        run = LocalRun(panel=pb, lake=lake, site_dir=root / "site", progress=quiet)
        with simulated_time(pb, replay.daily[0]) as (client, clock, set_now):
            for dt in replay.daily:
                set_now(run_clock(dt))
                clock.advance_to(run_clock(dt).replace(tzinfo=UTC).timestamp())
                chained(run, client, clock, dt)
        score = run.score(replay.run_date)
        days = day_totals(run.summaries)
        costs, requests = [c for c, _, _ in days.values()], [r for _, r, _ in days.values()]
        row: dict[str, Any] = {
            "daily_runs": len(costs), "cost_max_usd": round(max(costs), 3),
            "cost_mean_usd": round(sum(costs) / len(costs), 3),
            "requests_mean": round(sum(requests) / len(requests), 1),
            "over_budget_runs": sum(c > budget + 1e-9 for c in costs) if budget is not None else 0,
            "sampled_runs": sum(sampled for _, _, sampled in days.values()),
            "invocations": sum(s.stage == "collect" for s in run.summaries),
            "statuses": sorted({s.status for s in run.summaries}),
            "score_status": score.status, "s": round(time.perf_counter() - t1, 1)}
        board = scores(lake, panel, replay.run_date)
        if full is None:
            full = board
        row.update(compare(full, board))
        out["budgets"][key] = row
    return out


@contextmanager
def simulated_time(panel: Panel, first: date) -> Iterator[tuple[Any, Any, Callable[[datetime], None]]]:
    """The X simulator and a tweepy client on a simulated clock shared with the collector: a
    sample's slices are many requests, and a wait for X's 15-minute window takes no time."""
    from barometer.collect.client import make_client
    from barometer.sim.api.limits import SimClock
    from barometer.sim.server import SimServer
    from barometer.sim.world import build_world

    now = run_clock(first)
    clock = SimClock(start=now.replace(tzinfo=UTC).timestamp())
    with SimServer(build_world(panel), bearer_token=SIM_TOKEN, now=now, clock=clock.time,
                   search_all_per_second=False) as srv:
        yield make_client(SIM_TOKEN, base_url=srv.url), clock, srv.set_now


def chained(run: LocalRun, client: Any, clock: Any, dt: date) -> None:
    """A day's collect as the state machine runs it: 15-minute invocations, each resumed at the
    time the last one reports (X's window reset), until no work is left."""
    for i in range(INVOCATIONS):
        s = run.collect(client, dt, run_clock(dt), mode="daily", clock=clock, resume=i > 0,
                        deadline=clock.monotonic() + INVOCATION_S)
        if not (s.details or {}).get("work_left"):
            return
        at = datetime.strptime(str(s.details["resume_after"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        clock.advance_to(at.timestamp())


def day_totals(summaries: list[Any]) -> dict[date, tuple[float, int, bool]]:
    """Per collect date: cost and requests over its invocations, and whether any sampled."""
    out: dict[date, tuple[float, int, bool]] = {}
    for s in summaries:
        if s.stage == "collect":
            c, r, sampled = out.get(s.dt, (0.0, 0, False))
            out[s.dt] = (c + s.cost_usd, r + s.api_requests, sampled or bool(s.sampled_brands))
    return out


def synthetic_panel(n_brands: int, run_date: date, window_days: int, seed: int) -> Panel:
    """A generated panel of n brands, scored against the previous window, replayed to run_date."""
    from barometer.sim.generate import build_panel

    p = build_panel(n_brands, f"budget-{n_brands}", window_days=window_days, growth_reference="previous",
                    first_date=run_date - timedelta(days=3 * window_days))
    return p.model_copy(update={"demo": Demo(run_date=run_date, seed=seed)})
