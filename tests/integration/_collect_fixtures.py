"""Fixtures for the collector's integration tests: a small simulated world served by a real
SimServer on 127.0.0.1, a fresh file:// lake, and helpers to run and read collect runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from barometer.collect import CollectOptions, run_collect
from barometer.collect.client import make_client
from barometer.config import Panel, parse_panel
from barometer.lake.store import Lake
from barometer.runs import StageSummary

sim_world = pytest.importorskip("barometer.sim.world")
sim_server = pytest.importorskip("barometer.sim.server")
from barometer.sim.faults import FaultPlan  # noqa: E402

TOKEN = "sim-token"
END = date(2018, 3, 31)
D = date(2018, 3, 20)  # the first collected date in the tests
CLIENT_TIMEOUT = 1.0  # below the simulator's injected delay (FAULT_DELAY), so timeouts are real ones
FAULT_DELAY = 1.5

PANEL: Panel = parse_panel({
    "id": "collect-test", "name": "Collect test", "first_date": "2018-01-01",
    "scoring": {"window_days": 30},
    "brands": [
        {"id": "alpha", "name": "Alpha", "accounts": [{"handle": "AlphaFR"}],
         "mention_query": "(@AlphaFR OR alpha) -is:retweet"},
        {"id": "beta", "name": "Beta", "accounts": [{"handle": "BetaFR"}],
         "mention_query": "(@BetaFR OR beta) -is:retweet"},
        {"id": "gamma", "name": "Gamma", "accounts": [{"handle": "GammaFR"}],
         "mention_query": "(@GammaFR OR gamma) -is:retweet"},
    ],
})


def clock(dt: date) -> datetime:
    """The scheduled run time for date D: D+1T05:00Z (as the pipeline sets it)."""
    return datetime(dt.year, dt.month, dt.day, 5) + timedelta(days=1)


@pytest.fixture(scope="session")
def world() -> Any:
    return sim_world.build_world(PANEL, seed=7, end=END)


@pytest.fixture(scope="session")
def sim(world: Any) -> Iterator[Any]:
    # One server for the session: its search index is built on first use. Each run sets the
    # clock and replaces the fault plan, so tests do not leak into each other.
    with sim_server.SimServer(world, bearer_token=TOKEN, now=clock(D)) as srv:
        # Warm the simulator's lazily built search index, so that the collector's short client
        # timeout (there to make injected timeouts quick) never fires on a cold first search.
        warm = make_client(TOKEN, base_url=srv.url, timeout=30)
        for b in PANEL.brands:
            warm.get_recent_tweets_count(b.mention_query, end_time=clock(D) - timedelta(hours=1))
        yield srv


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(f"file://{tmp_path}/lake")


def faults(spec: str, timeout_seconds: float = FAULT_DELAY) -> FaultPlan:
    return FaultPlan.parse(spec, timeout_seconds=timeout_seconds)


def collect(sim: Any, lake: Lake, dt: date, *, fault: str | FaultPlan | None = None, client: Any = None,
            **opts: Any) -> StageSummary:
    """One run for `dt` at its scheduled clock, optionally with faults injected for that run."""
    sim.set_now(clock(dt))
    sim.set_faults(faults(fault) if isinstance(fault, str) else fault or FaultPlan())
    client = client or make_client(TOKEN, base_url=sim.url, timeout=CLIENT_TIMEOUT)
    options = CollectOptions(now=clock(dt), backoff=0.01, **opts)
    return run_collect(PANEL, dt, lake, client, options)


def table(lake: Lake, name: str, dt: date | None = None) -> list[dict[str, Any]]:
    """Rows of one partition (or all partitions) of a collect table, without panel/dt."""
    if dt is not None:
        path = f"{lake.partition_path(name, PANEL.id, dt)}/data.parquet"
        return pq.read_table(path, filesystem=lake.fs).to_pylist() if lake.exists(path) else []
    return [{k: v for k, v in r.items() if k != "panel"} for r in lake.read(name, PANEL.id).to_pylist()]


def ids(rows: list[dict[str, Any]], **where: Any) -> list[str]:
    return sorted(r["post_id"] for r in rows if all(r[k] == v for k, v in where.items()))


def run_rows(lake: Lake, dt: date) -> list[dict[str, Any]]:
    """The collect rows of the `runs` table for a date, one per run, oldest first."""
    path = f"{lake.partition_path('runs', PANEL.id, dt)}/collect.parquet"
    rows = pq.read_table(path, filesystem=lake.fs).to_pylist()
    assert len({r["run_id"] for r in rows}) == len(rows)
    return sorted(rows, key=lambda r: r["started_at"])


def run_row(lake: Lake, dt: date) -> dict[str, Any]:
    """The collect row of the date's latest run."""
    return run_rows(lake, dt)[-1]


def truth_posts(world: Any, brand: str, day: date, now: datetime) -> list[str]:
    """Ids of the brand's posts created on `day` and still visible at `now` (world ground truth)."""
    now_ms = int((now - datetime(1970, 1, 1)).total_seconds() * 1000)  # naive UTC
    return sorted(str(p.id) for p in world.brand_posts(brand)
                  if p.created_at.date() == day and world.visible(p, now_ms))
