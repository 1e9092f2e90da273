"""One way to run and record a stage (`barometer.runs.recorded`): whatever a stage raises, its
`runs` row is written (status failed, the error's one line) and the error goes on; every run of a
date keeps its own row (and cost); when even the row cannot be written, the error says so.

Rows are read from the part files on disk, one per stage (`runs/panel=<p>/dt=<D>/<stage>.parquet`).
Collect runs against the X simulator (the collector's fixtures), score and publish on a small
handmade lake."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from barometer.config import parse_panel
from barometer.errors import BarometerError
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.lake.validate import LakeContractError
from barometer.publish import PublishOptions, SiteTarget, run_publish
from barometer.runs import RunNotRecorded, StageSummary, record_run, recorded
from barometer.score import run_score

# The simulator fixtures (sim, world) and the collect helper, as test_collect_sim takes them.
pytest.register_assert_rewrite("_collect_fixtures")
from _collect_fixtures import PANEL as COLLECT_PANEL  # noqa: E402
from _collect_fixtures import D as COLLECT_D  # noqa: E402
from _collect_fixtures import collect  # noqa: E402

pytest_plugins = ("_collect_fixtures",)

REPO = Path(__file__).resolve().parents[2]
D = date(2018, 4, 30)
PANEL = parse_panel({
    "id": "rows-test", "name": "Rows test",
    "scoring": {"window_days": 10, "growth_reference": "yoy", "sensitivity_draws": 50},
    "brands": [
        {"id": "alpha", "name": "Alpha", "accounts": [{"handle": "alpha"}], "mention_query": "alpha"},
        {"id": "beta", "name": "Beta", "accounts": [{"handle": "beta"}], "mention_query": "beta"},
    ],
})


def runs_rows(lake: Lake, panel: str, dt: date) -> list[dict[str, Any]]:
    """Every row of the date's `runs` partition, from its files on disk, by start time."""
    folder = Path(lake.partition_path("runs", panel, dt))
    if not folder.exists():
        return []
    rows = [r for f in sorted(folder.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    return sorted(rows, key=lambda r: r["started_at"])


def _write(lake: Lake, table: str, dt: date, rows: list[dict[str, Any]]) -> None:
    schema = SCHEMAS[table]
    lake.write_partition(table, PANEL.id, dt, pa.Table.from_pylist(
        [{n: r.get(n) for n in schema.names} for r in rows], schema=schema))


def build_lake(root: Path) -> Lake:
    """Two brands with followers a year apart, posts and mentions in the window."""
    lake = Lake(str(root))
    ts = datetime.fromisoformat
    for dt, at, f in ((date(2017, 4, 29), "2017-04-30T05:00", (100, 300)), (D, "2018-05-01T05:00", (150, 330))):
        _write(lake, "accounts", dt, [
            {"brand_id": b, "network": "x", "account_id": f"{b}-1", "handle": b, "status": "ok",
             "followers": n, "collected_at": ts(at)} for b, n in zip(("alpha", "beta"), f, strict=True)])
    _write(lake, "posts", D, [
        {"post_id": f"p{i}", "brand_id": b, "network": "x", "account_id": f"{b}-1", "kind": "original",
         "created_at": ts(f"2018-04-2{i}T10:00"), "text": "", "likes": 3 * i, "reposts": 1, "replies": 0,
         "quotes": 0, "mentioned_handles": ["beta" if b == "alpha" else "alpha"], "observed_at": ts("2018-05-01T05:00")}
        for i, b in enumerate(("alpha", "beta", "alpha"), 1)])
    _write(lake, "mentions", D, [
        {"post_id": f"m{i}", "brand_id": b, "network": "x", "author_id": f"u{i}", "author_handle": f"fan{i}",
         "author_followers": 10, "created_at": ts(f"2018-04-2{i}T08:00"), "kind": "original", "text": "",
         "likes": 0, "reposts": 0, "replies": 0, "quotes": 0, "mentioned_handles": [b],
         "observed_at": ts("2018-05-01T05:00")}
        for i, b in enumerate(("alpha", "alpha", "beta", "alpha"), 1)])
    _write(lake, "mention_counts", D, [
        {"brand_id": b, "network": "x", "day": date(2018, 4, 25), "mentions": n}
        for b, n in (("alpha", 3), ("beta", 1))])
    return lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return build_lake(tmp_path / "lake")


def _boom(*_a: Any, **_k: Any) -> Any:
    raise RuntimeError("boom: an unexpected failure")


def _one_failed_row(lake: Lake, panel: str, dt: date, stage: str) -> dict[str, Any]:
    rows = runs_rows(lake, panel, dt)
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["stage"] == stage and row["status"] == "failed"
    assert row["finished_at"] is not None and row["finished_at"] >= row["started_at"]
    return row


# -- a failure inside each stage leaves exactly one failed row -------------------------------------
def test_collect_unexpected_exception_leaves_one_failed_row(sim: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake(str(tmp_path / "lake"))
    monkeypatch.setattr("barometer.collect.build_tables", _boom)
    with pytest.raises(RuntimeError, match="boom"):
        collect(sim, lake, COLLECT_D)
    row = _one_failed_row(lake, COLLECT_PANEL.id, COLLECT_D, "collect")
    assert row["errors"] == ["RuntimeError: boom: an unexpected failure"]


def test_score_unexpected_exception_leaves_one_failed_row(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("barometer.score.previous_ranks", _boom)
    with pytest.raises(RuntimeError, match="boom"):
        run_score(PANEL, D, lake)
    assert _one_failed_row(lake, PANEL.id, D, "score")["errors"] == ["RuntimeError: boom: an unexpected failure"]


def test_score_barometer_error_leaves_one_failed_row(tmp_path: Path) -> None:
    empty = Lake(str(tmp_path / "empty"))
    with pytest.raises(BarometerError, match="no data for panel rows-test") as e:
        run_score(PANEL, D, empty)
    assert _one_failed_row(empty, PANEL.id, D, "score")["errors"] == [str(e.value)]


def test_publish_unexpected_exception_leaves_one_failed_row(lake: Lake, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("barometer.publish.check_gate", _boom)
    with pytest.raises(RuntimeError, match="boom"):
        run_publish(PANEL, D, lake, SiteTarget.local(tmp_path / "site"), PublishOptions(simulated=True))
    assert _one_failed_row(lake, PANEL.id, D, "publish")["errors"] == ["RuntimeError: boom: an unexpected failure"]


def test_publish_to_an_unwritable_site_leaves_one_failed_row(lake: Lake, tmp_path: Path) -> None:
    score = run_score(PANEL, D, lake)
    assert score.status == "ok"
    site = tmp_path / "site"
    site.write_text("a file where the site folder should be")
    with pytest.raises(OSError):
        run_publish(PANEL, D, lake, SiteTarget.local(site), PublishOptions(simulated=True))
    rows = runs_rows(lake, PANEL.id, D)
    assert [(r["stage"], r["status"]) for r in rows] == [("score", "ok"), ("publish", "failed")]
    assert rows[1]["errors"][0].split(":")[0] in ("FileExistsError", "NotADirectoryError", "OSError")


def test_collect_with_a_corrupt_state_file_names_it_and_leaves_one_failed_row(sim: Any, tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    key = f"state/collect/panel={COLLECT_PANEL.id}/dt=2018-03-19.json.gz"
    lake.put_bytes(key, b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(LakeContractError) as e:
        collect(sim, lake, COLLECT_D)
    assert str(e.value).startswith(f"{lake.uri}/{key}: not gzipped JSON")
    row = _one_failed_row(lake, COLLECT_PANEL.id, COLLECT_D, "collect")
    assert row["errors"] == [str(e.value)]


def test_score_over_a_stray_file_leaves_one_failed_row(lake: Lake) -> None:
    Path(lake.path("mentions", "README.txt")).write_text("notes about this folder\n")
    with pytest.raises(Exception):  # noqa: B017  (what pyarrow raises on a non-Parquet file)
        run_score(PANEL, D, lake)
    row = _one_failed_row(lake, PANEL.id, D, "score")
    assert "README.txt" in row["errors"][0]


def test_a_failed_write_still_records_the_row(lake: Lake) -> None:
    # The scores partition's folder is a file: the stage's write fails, its runs row does not.
    blocker = Path(lake.partition_path("scores", PANEL.id, D))
    blocker.parent.mkdir(parents=True)
    blocker.write_text("")
    with pytest.raises(OSError):
        run_score(PANEL, D, lake)
    assert _one_failed_row(lake, PANEL.id, D, "score")["errors"][0].startswith(
        ("FileExistsError", "NotADirectoryError", "OSError"))


# -- one row per run ----------------------------------------------------------------------------
def test_two_score_runs_of_a_date_leave_two_rows(lake: Lake) -> None:
    a = run_score(PANEL, D, lake)
    b = run_score(PANEL, D, lake)
    rows = runs_rows(lake, PANEL.id, D)
    assert [(r["run_id"], r["stage"], r["status"]) for r in rows] == [
        (a.run_id, "score", "ok"), (b.run_id, "score", "ok")]


def test_two_collect_runs_of_a_date_both_keep_their_cost(sim: Any, tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    first = collect(sim, lake, COLLECT_D)
    second = collect(sim, lake, COLLECT_D)
    assert first.cost_usd > 0 and second.cost_usd > 0
    rows = runs_rows(lake, COLLECT_PANEL.id, COLLECT_D)
    assert [(r["run_id"], r["posts_read"], r["users_read"], r["cost_usd"]) for r in rows] == [
        (s.run_id, s.posts_read, s.users_read, s.cost_usd) for s in (first, second)]
    assert sum(r["cost_usd"] for r in rows) == pytest.approx(first.cost_usd + second.cost_usd)


def test_the_same_run_recorded_again_replaces_its_own_row(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    other = StageSummary.start("collect", PANEL.id, D).finish("ok")
    record_run(lake, other)
    s = StageSummary.start("collect", PANEL.id, D)
    s.posts_read = 10
    record_run(lake, s.finish("partial"))
    s.posts_read = 25
    record_run(lake, s.finish("ok"))
    rows = runs_rows(lake, PANEL.id, D)
    assert [(r["run_id"], r["status"], r["posts_read"]) for r in rows] == [
        (other.run_id, "ok", 0), (s.run_id, "ok", 25)]
    assert [p.name for p in Path(lake.partition_path("runs", PANEL.id, D)).iterdir()] == ["collect.parquet"]


def test_an_unreadable_runs_part_is_kept_and_the_row_goes_beside_it(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    part = Path(lake.partition_path("runs", PANEL.id, D)) / "score.parquet"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PAR1 truncated")
    s = StageSummary.start("score", PANEL.id, D).finish("ok")
    record_run(lake, s)
    assert part.read_bytes() == b"PAR1 truncated"
    beside = sorted(p.name for p in part.parent.iterdir() if p != part)
    assert len(beside) == 1 and beside[0].startswith("score-")
    assert pq.read_table(part.parent / beside[0]).column("run_id").to_pylist() == [s.run_id]


# -- the context manager itself ----------------------------------------------------------------------
def test_recorded_keeps_the_status_the_body_set(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    with recorded(lake, StageSummary.start("publish", PANEL.id, D)) as s:
        s.finish("skipped")
    with recorded(lake, StageSummary.start("publish", PANEL.id, D)) as t:
        pass
    assert [(r["run_id"], r["status"]) for r in runs_rows(lake, PANEL.id, D)] == [
        (s.run_id, "skipped"), (t.run_id, "ok")]


def test_recorded_writes_one_line_errors(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    with pytest.raises(ValueError), recorded(lake, StageSummary.start("score", PANEL.id, D)):
        raise ValueError("first line\nsecond line\n\tthird")
    with pytest.raises(KeyboardInterrupt), recorded(lake, StageSummary.start("score", PANEL.id, D)):
        raise KeyboardInterrupt
    with pytest.raises(KeyError), recorded(lake, StageSummary.start("score", PANEL.id, D)):
        raise KeyError("x" * 2000)
    rows = runs_rows(lake, PANEL.id, D)
    assert [r["status"] for r in rows] == ["failed"] * 3
    assert rows[0]["errors"] == ["ValueError: first line second line third"]
    assert rows[1]["errors"] == ["interrupted (KeyboardInterrupt)"]
    assert len(rows[2]["errors"][0]) == 500 and rows[2]["errors"][0].startswith("KeyError: 'xxx")


DISK_FULL = """
import resource, signal, sys
from datetime import date
sys.path.insert(0, sys.argv[2])
from test_stage_runs_row import PANEL, D
from barometer.errors import BarometerError
from barometer.lake.store import Lake
from barometer.score import run_score
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # every write of a byte fails, as on a full disk
try:
    run_score(PANEL, D, Lake(sys.argv[1]))
except BarometerError as e:
    print(type(e).__name__, e)
"""


def test_when_the_row_cannot_be_written_the_error_says_so(lake: Lake) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "layers")}
    proc = subprocess.run([sys.executable, "-c", DISK_FULL, lake.uri, str(Path(__file__).parent)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    assert out.startswith(f"RunNotRecorded score rows-test {D} failed (OSError: ")
    assert f"and its runs row could not be written to {lake.uri}: OSError: " in out
    assert "File too large" in out
    assert runs_rows(lake, PANEL.id, D) == []
    assert issubclass(RunNotRecorded, BarometerError)
