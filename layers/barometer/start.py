"""`barometer start`: a new panel, started over a period in one command, resumable.

    barometer start --panel panels/banks.yaml [--until 2025-06-30] [--since 2025-04-01]

1. **backfill** of the window (or from `--since`) up to the days the daily schedule can still
   read, in one run over X's full archive, under the panel's own backfill read budget
   (`collection.max_backfill_post_reads`, `max_backfill_user_reads`);
2. **daily runs** for the last days up to `--until` (recent search reads 7 days back), each as
   the schedule would have run it (on the simulator, at its own run clock, so each takes its
   followers snapshot);
3. **score** and **publish** `--until`.

Each step done is recorded in the lake (`state/start/<panel>.json`), so the same command run
again (after an interruption, a deadline, or a budget raised in the panel file) skips what is
done and goes on; a collect step stopped by its deadline or budget resumes from the
collector's own checkpoint. A collect stopped by a read budget says which panel key to raise.

A panel's growth reference (a year of followers snapshots, `growth_reference: yoy`) cannot be
backfilled from X: community growth enters the history a year after the start, and the site
marks and explains it (see `publish.history`). Until the window holds `scoring.min_window_days`
collected days, the leaderboard is provisional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from barometer.clock import readable_dates, run_clock, today
from barometer.errors import ConfigError
from barometer.lake.lease import hold
from barometer.pipeline import LocalRun, backfill_budgets, budget_hint, demo_run_date
from barometer.runs import StageSummary

# Recent search and counts reach 7 days back: the last days are collected as the daily
# schedule collects them (with a margin for the run of the 7th day back).
DAILY_DAYS = 6
STATE_KEY = "state/start/{panel}.json"


@dataclass(frozen=True)
class Step:
    kind: str  # backfill, daily, score, publish
    dt: date
    since: date | None = None  # backfill: first day

    @property
    def key(self) -> str:
        return f"{self.kind} {self.since.isoformat()}..{self.dt.isoformat()}" if self.since else \
            f"{self.kind} {self.dt.isoformat()}"

    def label(self) -> str:
        if self.kind == "backfill":
            return f"collect backfill {self.since} … {self.dt}"
        return f"{'collect daily' if self.kind == 'daily' else self.kind} {self.dt}"


@dataclass(frozen=True)
class StartPlan:
    since: date
    until: date
    steps: tuple[Step, ...]


def start_plan(window_days: int, until: date, since: date | None = None) -> StartPlan:
    """The steps that start a panel whose window ends on `until` (from `since`, default the
    first day of that window)."""
    since = since or until - timedelta(days=window_days - 1)
    if since > until:
        raise ConfigError(f"start: --since {since}: after --until {until}")
    n_daily = min(DAILY_DAYS, (until - since).days + 1)
    daily = [until - timedelta(days=k) for k in range(n_daily - 1, -1, -1)]
    steps = []
    if since < daily[0]:
        steps.append(Step("backfill", daily[0] - timedelta(days=1), since))
    steps += [Step("daily", d) for d in daily]
    steps += [Step("score", until), Step("publish", until)]
    return StartPlan(since, until, tuple(steps))


@dataclass
class StartReport:
    plan: StartPlan
    done: list[str] = field(default_factory=list)  # steps done by this invocation
    skipped: list[str] = field(default_factory=list)  # steps an earlier invocation did
    summaries: list[StageSummary] = field(default_factory=list)
    stopped: str | None = None  # why the start stopped before its end (run it again to resume)
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.stopped is None


def default_until(local: LocalRun, now: datetime | None = None) -> date:
    """The last full day: the simulated world's (demo run date, else yesterday UTC), or
    yesterday in the panel's time zone on X."""
    if local.source.simulated:
        return demo_run_date(local.panel, now)
    return today(local.panel.timezone, now) - timedelta(days=1)


def _load(local: LocalRun) -> dict[str, object]:
    key = STATE_KEY.format(panel=local.panel.id)
    if not local.lake.exists(local.lake.path(key)):
        return {}
    try:
        data = json.loads(local.lake.get_bytes(key))
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(local: LocalRun, done: list[str], plan: StartPlan) -> None:
    body = {"panel": local.panel.id, "since": plan.since.isoformat(), "until": plan.until.isoformat(),
            "done": done, "updated_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")}
    local.lake.put_bytes(STATE_KEY.format(panel=local.panel.id), json.dumps(body, indent=1).encode())


def start(local: LocalRun, until: date | None = None, since: date | None = None,
          deadline_s: float | None = None, panel_file: str = "the panel file") -> StartReport:
    """Run (or resume) the start of `local.panel` up to `until`; see the module docstring."""
    panel = local.panel
    until = until or default_until(local)
    dates = readable_dates(panel, simulated=local.source.simulated)
    for flag, d in (("--until", until), ("--since", since)):
        refusal = dates.check(flag, d) if d is not None else None
        if refusal:
            raise ConfigError(f"start: {refusal}")
    plan = start_plan(panel.scoring.window_days, until, since)
    state = _load(local)
    stored = state.get("done")
    done = [str(k) for k in stored] if isinstance(stored, list) else []
    report = StartReport(plan)
    todo = [s for s in plan.steps if s.key not in done]
    report.skipped = [s.key for s in plan.steps if s.key in done]
    if report.skipped:
        local.progress(f"resuming: {len(report.skipped)} of {len(plan.steps)} steps already done")
    owner = f"barometer start --panel {panel.id} --until {until}"
    with hold(local.lake, panel.id, owner):
        collects = [s for s in todo if s.kind in ("backfill", "daily")]
        if collects:
            first = run_clock(collects[0].dt)
            with local.client(first) as (client, set_now):
                for i, step in enumerate(collects, 1):
                    now = run_clock(step.dt) if local.source.simulated else \
                        datetime.now(UTC).replace(tzinfo=None)
                    set_now(now)
                    local.progress(f"{step.label()} [{i}/{len(collects)}]")
                    opts: dict[str, object] = {"mode": "daily"}
                    if step.kind == "backfill":
                        opts = {"mode": "backfill", "since": step.since, "full_archive": True,
                                **backfill_budgets(panel)}
                    if deadline_s:
                        opts["deadline"] = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=deadline_s)
                    s = local.collect(client, step.dt, now, **opts)
                    report.summaries.append(s)
                    stop = _stopped(s, panel_file)
                    if stop:
                        report.stopped = f"{step.key}: {stop}"
                        break
                    if s.status != "ok":  # read what the API serves; the rest is missing data
                        report.warnings.extend(f"{step.key}: {e}" for e in s.errors)
                    done.append(step.key)
                    report.done.append(step.key)
                    _save(local, done, plan)
        if report.stopped is None:
            for step in (s for s in todo if s.kind in ("score", "publish")):
                local.progress(f"{step.label()}")
                s = local.score(step.dt) if step.kind == "score" else local.publish(step.dt)
                report.summaries.append(s)
                if s.status == "failed":
                    report.stopped = f"{step.key}: {'; '.join(s.errors) or 'failed'}"
                    break
                if s.status != "ok":
                    report.warnings.extend(f"{step.key}: {e}" for e in s.errors)
                done.append(step.key)
                report.done.append(step.key)
                _save(local, done, plan)
    return report


def _stopped(s: StageSummary, panel_file: str) -> str | None:
    """Why a collect step must be run again before the start goes on (None: it may go on)."""
    hint = budget_hint(s, panel_file)
    if hint:
        return hint
    if s.status == "failed":
        return "; ".join(s.errors[:2]) or "collect failed"
    stopped = s.details.get("stopped")
    if stopped:  # a deadline or a rate limit: the collector checkpointed, the next run resumes
        return f"stopped ({stopped}): run the same command again to resume"
    return None
