"""Tiny-scale smoke runs of every `make bench` script, so none can rot.

Each script runs as `make bench` runs it (its own process, `--json-out`) on a small synthetic
lake; the tests check the shape of the figures, not their size.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _bench import REPO, run_script


def well_formed(res: dict[str, Any]) -> None:
    assert res
    for name, m in res.items():
        assert set(m) >= {"value", "unit", "target", "met"}, name
        if m["target"] is not None and m["value"] is not None:
            assert isinstance(m["met"], bool), name


def test_startup(tmp_path: Path) -> None:
    res = run_script("bench_startup.py", tmp_path)
    well_formed(res)
    stages = sorted(p.parent.name for p in (REPO / "functions").glob("*/handler.py"))
    assert sorted(k.removesuffix("_import_ms") for k in res) == stages
    assert all(m["value"] is not None and m["value"] > 0 for m in res.values()), res


def test_query(tmp_path: Path) -> None:
    res = run_script("bench_query.py", tmp_path)
    well_formed(res)
    for q in ("brand_history", "mentions_history"):
        assert res[f"{q}_read_pct"]["value"] > 0
        # 30 of 60 days: the kept partitions are about half of the table.
        assert 40 < res[f"{q}_partitions_pct"]["value"] < 60


def test_publish(tmp_path: Path) -> None:
    res = run_script("bench_publish.py", tmp_path)
    well_formed(res)
    assert res["status"]["value"] == "ok"
    assert res["brands"]["value"] == 20 and res["dates"]["value"] == 30
    assert 0 < res["leaderboard_gzip_kb"]["value"] < 100


def test_collect(tmp_path: Path) -> None:
    res = run_script("bench_collect.py", tmp_path)
    well_formed(res)
    for mode in ("daily", "backfill"):
        assert res[f"{mode}_status"]["value"] == "ok"
        assert res[f"{mode}_requests"]["value"] > 0
        assert res[f"{mode}_post_reads_ratio"]["value"] is not None


def test_budget(tmp_path: Path) -> None:
    res = run_script("bench_budget.py", tmp_path)
    well_formed(res)
    # The 5-brand panel: the full replay is the reference (no sample), the $0.50 one is sampled
    # and never over its budget.
    assert "mean" in res["synth5_unlimited_cost_max_usd"]["note"]
    assert res["synth5_unlimited_cost_max_usd"]["value"] > 0.5
    assert res["synth5_0p5_cost_max_usd"]["value"] <= 0.5 and res["synth5_0p5_cost_max_usd"]["met"] is True
    assert -1 <= res["synth5_0p5_kendall_tau"]["value"] <= 1
    assert 0 <= res["synth5_0p5_band_coverage"]["value"] <= 1


@pytest.mark.slow
def test_package(tmp_path: Path) -> None:
    res = run_script("bench_package.py", tmp_path, timeout=1800)
    well_formed(res)
    assert 0 < res["total_unzipped_mb"]["value"] < 250


def test_run_py_table_and_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--scale", "tiny",
                           "--only", "startup", "--work", str(tmp_path), "--out", str(out)],
                          capture_output=True, text=True,
                          timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "section" in proc.stdout and "startup" in proc.stdout and "target" in proc.stdout
    res = json.loads(out.read_text())
    assert set(res) == {"startup", "_meta"}
    assert res["startup"]["section_s"]["unit"] == "s"
