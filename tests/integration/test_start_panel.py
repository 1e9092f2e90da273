"""A new panel on the simulator: `barometer start` (backfill, daily runs, score, publish; resumable,
a backfill budget naming the key to raise) and a one-day run, marked provisional (or withheld)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from barometer.cli import main
from barometer.config import load_panel
from barometer.lake.store import Lake
from barometer.pipeline import LocalRun, XSource, quiet, run
from barometer.start import STATE_KEY, start, start_plan

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "panels" / "banks-fr.yaml"
END = date(2024, 6, 30)


def _panel_file(tmp_path: Path, **scoring: Any) -> Path:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data["id"] = "banks-small"
    data["brands"] = data["brands"][:3]
    data["scoring"] = {"window_days": 28, "sensitivity_draws": 50, **scoring}
    p = tmp_path / "banks-small.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def _local(panel_file: Path, root: Path) -> LocalRun:
    return LocalRun(panel=load_panel(panel_file), lake=Lake(str(root / "lake")), site_dir=root / "site",
                    source=XSource(), progress=quiet)


def _scores(lake: Path) -> list[tuple[Any, ...]]:
    return duckdb.sql(f"""select dt, brand_id, provisional, days_collected
        from read_parquet('{lake}/scores/**/*.parquet', hive_partitioning=true) order by dt, brand_id""").fetchall()


def test_start_plan() -> None:
    p = start_plan(28, END)
    assert [s.key for s in p.steps] == [
        "backfill 2024-06-03..2024-06-24", *[f"daily 2024-06-{d}" for d in range(25, 31)],
        "score 2024-06-30", "publish 2024-06-30"]
    assert [s.kind for s in start_plan(28, END, since=END).steps] == ["daily", "score", "publish"]


def test_one_day_run_is_provisional(tmp_path: Path) -> None:
    panel_file = _panel_file(tmp_path)
    local = _local(panel_file, tmp_path)
    out = run(local, END, ["collect", "score", "publish"])
    assert [s.status for s in out][1:] == ["ok", "ok"]
    rows = _scores(tmp_path / "lake")
    assert rows and all(r[2] is True and 1 <= r[3] < 28 for r in rows)
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    en = (tmp_path / "site" / "en" / "index.html").read_text(encoding="utf-8")
    days = rows[0][3]
    assert "Classement provisoire" in html and f"repose sur {days} jour" in html
    assert "de données collectées sur les 28 jours" in html
    assert "Provisional leaderboard" in en and f"rests on {days} day" in en
    assert "of collected data out of its 28-day window" in en


def test_one_day_run_withheld(tmp_path: Path) -> None:
    panel_file = _panel_file(tmp_path, provisional="withhold", min_window_days=14)
    local = _local(panel_file, tmp_path)
    out = run(local, END, ["collect", "score", "publish"])
    assert out[-1].status == "skipped" and "provisional" in out[-1].errors[0]
    assert "scoring.min_window_days 14" in out[-1].errors[0]
    assert not (tmp_path / "site" / "index.html").exists()


def test_start_runs_resumes_and_names_the_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    panel_file = _panel_file(tmp_path)
    data = yaml.safe_load(panel_file.read_text(encoding="utf-8"))
    data["collection"] = {"max_backfill_post_reads": 50}
    panel_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    args = ["start", "--panel", str(panel_file), "--lake", str(tmp_path / "lake"), "--site", str(tmp_path / "site")]
    # The backfill stops on its budget: one line names the panel key to raise, exit 3.
    assert main(args) == 3
    out = capsys.readouterr().out
    assert "raise `collection.max_backfill_post_reads`" in out and str(panel_file) in out
    assert not (tmp_path / "site" / "index.html").exists()
    # Raised: the same command goes on and finishes; the window is full, not provisional.
    data["collection"] = {"max_backfill_post_reads": 1_000_000}
    panel_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Site:" in out and "Provisional" not in out
    rows = _scores(tmp_path / "lake")
    assert {r[0] for r in rows} == {END} and not any(r[2] for r in rows) and {r[3] for r in rows} == {28}
    assert "notice provisional" not in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    # Once more: every step is done, nothing runs again.
    report = start(_local(panel_file, tmp_path), END)
    assert report.complete and report.done == [] and len(report.skipped) == 9 and report.summaries == []
    assert Lake(str(tmp_path / "lake")).exists(str(tmp_path / "lake" / STATE_KEY.format(panel="banks-small")))
