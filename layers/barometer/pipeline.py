"""The local pipeline: collect → score → publish in one process, on the embedded simulator or X.

The stages are the production library functions; only their clients differ (a simulator on
127.0.0.1 instead of api.twitter.com, a folder instead of S3).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# run_clock and the progress helpers live in neutral modules (the Lambda handlers and the
# simulator use them too); re-exported here for the callers that still import them from here.
from barometer.clock import RUN_HOUR_UTC, run_clock
from barometer.config import Panel
from barometer.errors import ConfigError
from barometer.lake.lease import hold
from barometer.lake.store import CachedLake, Lake
from barometer.progress import Progress, quiet, stderr_progress
from barometer.runs import STAGES, StageSummary

__all__ = ["RUN_HOUR_UTC", "DemoPlan", "LocalRun", "Progress", "XSource", "demo", "demo_plan", "quiet", "run",
           "run_clock", "stderr_progress"]

SIM_TOKEN = "sim-token"
# A backfill reads months at once: its read budget is its own, not the daily one (the panel's
# `collection.max_backfill_post_reads` / `max_backfill_user_reads`; this is their default).
BACKFILL_BUDGET = 1_000_000


def backfill_budgets(panel: Panel) -> dict[str, int]:
    """The collect options that give a backfill the panel's backfill read budgets."""
    c = panel.collection
    return {"max_post_reads": c.max_backfill_post_reads, "max_user_reads": c.max_backfill_user_reads}


def budget_hint(s: StageSummary, panel_file: str = "the panel file") -> str | None:
    """When a collect run stopped on a read budget: the panel key to raise, in one line."""
    if s.stage != "collect":
        return None
    why = " ".join([str(s.details.get("stopped") or ""), *s.errors])
    backfill = s.details.get("mode") == "backfill"
    for kind in ("post", "user"):
        if f"{kind} read budget reached" in why:
            key = f"collection.max_{'backfill_' if backfill else ''}{kind}_reads"
            return (f"the {'backfill' if backfill else 'daily'} {kind} read budget was reached: raise `{key}` "
                    f"in {panel_file}, then run the same command again (it resumes)")
    return None


@dataclass
class XSource:
    """Where the collector reads X from: the embedded simulator (default) or the real API; and,
    for a panel with Bluesky accounts, Bluesky. When X is embedded, Bluesky is the embedded
    simulator beside it (its own login); otherwise Bluesky is read from `bsky_url` (a Bluesky
    server, or `barometer sim serve --network bluesky`; None: bsky.social) as `bsky_handle`,
    with its app password. The secrets (`token`, `bsky_password`) stay out of the repr."""

    token: str | None = field(default=None, repr=False)  # a real bearer token: collect from api.twitter.com
    base_url: str | None = None  # an external simulator (`barometer sim serve`)
    faults: str | None = None  # fault spec for the embedded simulator
    bsky_url: str | None = None
    bsky_handle: str | None = None
    bsky_password: str | None = field(default=None, repr=False)

    @property
    def simulated(self) -> bool:
        return self.token is None or self.base_url is not None

    @property
    def embedded(self) -> bool:
        """X (and Bluesky beside it) from the in-process simulators (`LocalRun.embedded`)."""
        return self.simulated and not self.base_url

    @property
    def bsky_server(self) -> str:
        """The Bluesky server a run not on the embedded simulators reads."""
        return self.bsky_url or "https://bsky.social"  # atproto's own default


@dataclass
class LocalRun:
    panel: Panel
    lake: Lake
    site_dir: Path
    source: XSource = field(default_factory=XSource)
    progress: Progress = stderr_progress
    summaries: list[StageSummary] = field(default_factory=list)
    skip_bad_files: bool = False  # score around files that break the lake contract
    bluesky: object | None = None  # the collect.BlueskySource of the open `client` context

    @property
    def embedded(self) -> bool:
        """Collecting from the in-process simulator (no token, no external simulator URL)."""
        return self.source.simulated and not self.source.base_url

    @contextmanager
    def client(self, now: datetime) -> Iterator[tuple[object, Callable[[datetime], None]]]:
        """A tweepy client and a clock setter (a no-op against the real API)."""
        from barometer.collect.client import make_client

        if not self.embedded:
            token = self.source.token or SIM_TOKEN
            self.bluesky = self._bluesky(self.source.bsky_url)
            yield make_client(token, base_url=self.source.base_url), lambda _now: None
            return
        from barometer.sim.faults import FaultPlan
        from barometer.sim.server import SimServer
        from barometer.sim.world import build_world

        world = build_world(self.panel)
        faults = FaultPlan.parse(self.source.faults) if self.source.faults else None
        # The embedded simulator skips full-archive search's 1 request/s pacing (and the
        # collector with it): a replay of months must take seconds. Other limits stay.
        with SimServer(world, bearer_token=SIM_TOKEN, now=now, faults=faults,
                       search_all_per_second=False) as srv:
            if "bluesky" not in self.panel.networks:
                yield make_client(SIM_TOKEN, base_url=srv.url), srv.set_now
                return
            from barometer.sim.bsky import BskySimServer

            # The Bluesky simulator beside X's, on the same world (its Bluesky side).
            with BskySimServer(world, now=now) as bsrv:
                self.bluesky = self._bluesky(bsrv.url, bsrv.handle, bsrv.password)

                def set_now(at: datetime) -> None:
                    srv.set_now(at)
                    bsrv.set_now(at)
                yield make_client(SIM_TOKEN, base_url=srv.url), set_now

    def _bluesky(self, url: str | None, handle: str | None = None, password: str | None = None) -> object | None:
        """The Bluesky source of a panel with Bluesky accounts (None otherwise)."""
        if "bluesky" not in self.panel.networks:
            return None
        from barometer.collect.networks import BlueskySource, bluesky_client

        return BlueskySource(bluesky_client(url), handle or self.source.bsky_handle,
                             password or self.source.bsky_password)

    def collect(self, client: object, dt: date, now: datetime, **opts: object) -> StageSummary:
        from barometer.collect import CollectOptions, run_collect

        if self.embedded:
            opts.setdefault("search_all_interval", 0.0)
        options = CollectOptions(now=now, **opts)  # type: ignore[arg-type]
        s = run_collect(self.panel, dt, self.lake, client, options, bluesky=self.bluesky)  # type: ignore[arg-type]
        return self._done(s)

    def score(self, dt: date) -> StageSummary:
        from barometer.score import run_score

        return self._done(run_score(self.panel, dt, self.lake, skip_bad_files=self.skip_bad_files))

    def publish(self, dt: date) -> StageSummary:
        from barometer.publish import PublishOptions, SiteTarget, run_publish

        target = SiteTarget.local(self.site_dir)
        options = PublishOptions(simulated=self.source.simulated)
        return self._done(run_publish(self.panel, dt, self.lake, target, options))

    def _done(self, s: StageSummary) -> StageSummary:
        self.summaries.append(s)
        return s


def run(local: LocalRun, dt: date, stages: list[str], *, mode: str = "daily",
        since: date | None = None, deadline_s: float | None = None,
        lease_wait: float = 0.0) -> list[StageSummary]:
    """`barometer run`: the requested stages for one date, holding the panel's lease (one run
    per panel at a time: `LeaseBusy` after waiting up to `lease_wait` s for another run)."""
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ConfigError(f"--stages: unknown stage {unknown[0]!r} (choose from {', '.join(STAGES)})")
    out = []
    owner = f"barometer run --panel {local.panel.id} --date {dt} --stages {','.join(stages)}"
    with hold(local.lake, local.panel.id, owner, wait=lease_wait):
        if "collect" in stages:
            now = run_clock(dt) if local.source.simulated else datetime.now(UTC).replace(tzinfo=None)
            opts: dict[str, object] = {"mode": mode}
            if since:
                opts["since"] = since
                opts["full_archive"] = True
            if mode == "backfill":
                opts.update(backfill_budgets(local.panel))
            if deadline_s:
                opts["deadline"] = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=deadline_s)
            with local.client(now) as (client, _):
                local.progress(f"collect {local.panel.id} {dt}")
                out.append(local.collect(client, dt, now, **opts))
        if "score" in stages:
            local.progress(f"score {local.panel.id} {dt}")
            out.append(local.score(dt))
        if "publish" in stages:
            local.progress(f"publish {local.panel.id} {dt}")
            out.append(local.publish(dt))
    return out


@dataclass(frozen=True)
class DemoPlan:
    """The replay of a panel's schedule that `barometer demo` performs."""

    run_date: date
    reference: date  # end of the growth reference (one year earlier)
    window_start: date
    first_date: date
    score_dates: tuple[date, ...]
    # The growth references of the score dates (a year before each, yoy): the reference-year
    # backfill ends a run on each, so every weekly point has its followers snapshot and its
    # community growth (no indicator appears only on the last point of the history).
    references: tuple[date, ...] = ()

    @property
    def backfills(self) -> list[tuple[date, date]]:
        """(run date, since) of the backfills: the reference year in runs ending on each growth
        reference (the last one is `reference`), then the months up to the window."""
        out, since = [], self.first_date
        for r in (*[r for r in self.references if self.first_date <= r < self.reference], self.reference):
            out.append((r, since))
            since = r + timedelta(days=1)
        out.append((self.window_start - timedelta(days=1), self.reference + timedelta(days=1)))
        return out

    @property
    def daily_dates(self) -> list[date]:
        n = (self.run_date - self.window_start).days + 1
        return [self.window_start + timedelta(days=i) for i in range(n)]


def demo_run_date(panel: Panel, now: datetime | None = None) -> date:
    """The date `barometer demo` replays up to: the panel's `demo.run_date`, else yesterday (UTC),
    the last full day of the simulated world `sim.world.build_world` builds without one."""
    if panel.demo is not None:
        return panel.demo.run_date
    return (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=1)


def _year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def demo_plan(panel: Panel, now: datetime | None = None) -> DemoPlan:
    d = demo_run_date(panel, now)
    ref = _year_before(d)
    start = d - timedelta(days=panel.scoring.window_days - 1)
    first = panel.first_date or (ref - timedelta(days=panel.scoring.window_days))
    # Weekly scores over the window give the site its history; the run date is the last.
    weekly = tuple(sorted({d - timedelta(days=7 * k) for k in range((d - start).days // 7 + 1)}))
    refs = tuple(sorted({_year_before(s) for s in weekly})) if panel.scoring.growth_reference == "yoy" else ()
    return DemoPlan(run_date=d, reference=ref, window_start=start, first_date=first, score_dates=weekly,
                    references=refs)


def demo(local: LocalRun) -> DemoPlan:
    """Replay the panel's schedule on the simulator: backfills, daily runs, scores, publish.

    1. the reference year in backfills ending on the growth reference of each weekly score
       (their profile snapshots are the references; the last one ends on the run date's),
    2. a backfill of the months between the reference and the window,
    3. one daily run per day of the window (the production daily code path),
    4. weekly scores over the window, then the site for the run date.
    """
    plan = demo_plan(local.panel)
    with hold(local.lake, local.panel.id, f"barometer demo --panel {local.panel.id}"):
        _replay(local, plan)
    return plan


def _replay(local: LocalRun, plan: DemoPlan) -> None:
    t0 = time.perf_counter()
    try:
        _collects(local, plan)
        _scores(local, plan)
        local.progress(f"publish {plan.run_date}")
        local.publish(plan.run_date)
    finally:
        gc.unfreeze()  # the simulated worlds (see _simulators)
    local.progress(f"done in {time.perf_counter() - t0:.1f} s\n")


def _collects(local: LocalRun, plan: DemoPlan) -> None:
    """The backfills, then a daily run per day of the window, on the simulators."""
    with _simulators(local, run_clock(plan.reference)) as (client, set_now):
        backfills = plan.backfills
        for i, (dt, since) in enumerate(backfills, 1):
            set_now(run_clock(dt))
            local.progress(f"collect backfill {since} … {dt} [{i}/{len(backfills)}]")
            local.collect(client, dt, run_clock(dt), mode="backfill", since=since, full_archive=True,
                          **backfill_budgets(local.panel))
        days = plan.daily_dates
        for i, dt in enumerate(days, 1):
            set_now(run_clock(dt))
            local.progress(f"collect daily {dt} [{i}/{len(days)}]")
            local.collect(client, dt, run_clock(dt), mode="daily")


@contextmanager
def _simulators(local: LocalRun, now: datetime) -> Iterator[tuple[object, Callable[[datetime], None]]]:
    """`local.client(now)`, with its simulated worlds out of the garbage collector's way: about
    a million Python objects that live through the replay, built with the collector paused, then
    frozen (`_replay` unfreezes them), or each of its full passes walks them all (seconds over
    a replay)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        with local.client(now) as (client, set_now):
            gc.freeze()
            if enabled:
                gc.enable()
            yield client, set_now
    finally:
        if enabled:
            gc.enable()


def _scores(local: LocalRun, plan: DemoPlan) -> None:
    """The weekly scores of the window. They read the same collected files (each once per
    network) and write none: each is read once, into memory (`CachedLake`)."""
    from barometer.score.networks import COLLECTED

    scoring = replace(local, lake=CachedLake(local.lake, COLLECTED))  # the same run: its summaries are local's
    for i, dt in enumerate(plan.score_dates, 1):
        local.progress(f"score {dt} [{i}/{len(plan.score_dates)}]")
        scoring.score(dt)
