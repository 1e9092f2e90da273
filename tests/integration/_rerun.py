"""Helpers for the rerun tests (issue 17): copies of the demo lake, the `barometer` CLI run
in-process, and each collect table's partition read back row by row."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from filelock import FileLock

from barometer.cli import main
from barometer.lake.store import Lake

PANEL = "pharma-fr"
TABLES = ("accounts", "posts", "mentions", "mention_counts")
KEYS = {"accounts": ("brand_id", "account_id"), "posts": ("brand_id", "post_id"),
        "mentions": ("brand_id", "post_id"), "mention_counts": ("brand_id", "day"),
        "completeness": ("brand_id", "source", "day")}
# The demo lake's rows of 2018-04-20, as the issue reports them.
APR20 = date(2018, 4, 20)
APR20_ROWS = {"accounts": 7, "posts": 42, "mentions": 334, "mention_counts": 7}
APR30 = date(2018, 4, 30)
BRANDS = ("astrazeneca-france", "gsk-france", "msd-france", "novartis-france", "pfizer-france",
          "roche-france", "sanofi")


REPO = Path(__file__).resolve().parents[2]


def _code_hash() -> str:
    h = hashlib.sha256()
    for p in sorted((REPO / "layers" / "barometer").rglob("*.py")):
        h.update(p.read_bytes())
    h.update((REPO / "panels" / f"{PANEL}.yaml").read_bytes())
    return h.hexdigest()[:12]


@pytest.fixture(scope="session")
def demo_now(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo lake built by the code under test (cached per version of the library's sources,
    shared by xdist workers): the rerun tests need its completeness rows and raw manifests."""
    root = tmp_path_factory.getbasetemp().parent / f"demo-rerun-{_code_hash()}"
    done = root / "done.json"
    with FileLock(str(root) + ".lock"):
        if not done.exists():
            from barometer.config import resolve_panel
            from barometer.pipeline import LocalRun, XSource, demo, quiet

            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            local = LocalRun(panel=resolve_panel(PANEL), lake=Lake(str(root / "lake")), site_dir=root / "site",
                             source=XSource(), progress=quiet)
            demo(local)
            done.write_text(json.dumps([s.status for s in local.summaries]))
    return root / "lake"


def copy_lake(demo_lake: Path, tmp_path: Path, name: str = "lake") -> Path:
    dst = tmp_path / name
    shutil.copytree(demo_lake, dst)
    return dst


def rows(lake: Path | Lake, table: str, dt: date) -> list[dict[str, Any]]:
    """The rows of one partition's data part, in file order."""
    lk = lake if isinstance(lake, Lake) else Lake(str(lake))
    path = f"{lk.partition_path(table, PANEL, dt)}/data.parquet"
    return pq.read_table(path, filesystem=lk.fs).to_pylist() if lk.exists(path) else []


def snapshot(lake: Path, dt: date) -> dict[str, list[dict[str, Any]]]:
    """Every collect table's rows of (pharma-fr, dt), sorted by key: comparable row by row."""
    return {t: sorted(rows(lake, t, dt), key=lambda r, t=t: tuple(str(r[k]) for k in KEYS[t])) for t in TABLES}


def keyset(rs: list[dict[str, Any]], table: str) -> set[tuple[Any, ...]]:
    return {tuple(r[k] for k in KEYS[table]) for r in rs}


def no_duplicate(lake: Path, table: str) -> int:
    """Rows of the whole table; fails when a key occurs in two rows (across partitions too)."""
    t = Lake(str(lake)).read(table, PANEL, columns=list(KEYS[table])).to_pylist()
    dup = [k for k, n in Counter(tuple(r[c] for c in KEYS[table]) for r in t).items() if n > 1]
    assert not dup, f"{table}: {len(dup)} key(s) stored twice, e.g. {dup[:3]}"
    return len(t)


def completeness(lake: Path, dt: date) -> dict[tuple[str, str, date], str]:
    return {(r["brand_id"], r["source"], r["day"]): r["status"] for r in rows(lake, "completeness", dt)}


def barometer(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`barometer ARGS` in-process: (exit code, stdout + stderr)."""
    capsys.readouterr()
    try:
        rc = main(list(args))
    except SystemExit as e:
        rc = int(e.code or 0)
    out = capsys.readouterr()
    return rc, out.out + out.err


def truncate(lake: Path, first: date) -> None:
    """Remove everything of the panel dated `first` or later: the lake as it was before that run."""
    for part in sorted(lake.glob(f"*/panel={PANEL}/dt=*")):
        if date.fromisoformat(part.name[3:13]) >= first:
            shutil.rmtree(part) if part.is_dir() else part.unlink()
    for state in sorted((lake / "state" / "collect" / f"panel={PANEL}").glob("dt=*.json.gz")):
        if date.fromisoformat(state.name[3:13]) >= first:
            state.unlink()


def serve(now: datetime, faults: str | None = None) -> Any:
    """The simulator of the demo panel's world, on 127.0.0.1, its clock at `now`."""
    from barometer.config import resolve_panel
    from barometer.pipeline import SIM_TOKEN
    from barometer.sim.faults import FaultPlan
    from barometer.sim.server import SimServer
    from barometer.sim.world import build_world

    return SimServer(build_world(resolve_panel(PANEL)), bearer_token=SIM_TOKEN, now=now, search_all_per_second=False,
                     faults=FaultPlan.parse(faults) if faults else None)


def collect(srv: Any, lake: Path, dt: date, now: datetime | None = None, **opts: Any) -> Any:
    """One collect run of `dt` through the library, against `srv` (clock set to `now`)."""
    from barometer.collect import CollectOptions, run_collect
    from barometer.collect.client import make_client
    from barometer.config import resolve_panel
    from barometer.pipeline import SIM_TOKEN, run_clock

    now = now or run_clock(dt)
    srv.set_now(now)
    return run_collect(resolve_panel(PANEL), dt, Lake(str(lake)), make_client(SIM_TOKEN, base_url=srv.url),
                       CollectOptions(now=now, search_all_interval=0.0, backoff=0.001, **opts))


def run(capsys: pytest.CaptureFixture[str], lake: Path, dt: date, *extra: str,
        stages: str = "collect", site: Path | None = None, panel: str = PANEL) -> tuple[int, str]:
    return barometer(capsys, "run", "--panel", panel, "--date", dt.isoformat(), "--stages", stages,
                     "--lake", str(lake), "--site", str(site or lake.parent / "site"), *extra)
