"""`make bench` score section at a tiny scale: the library and the DuckDB reference agree.

20 brands × 30 days of synthetic lake; the three measurements run in their own processes, as
in the full benchmark. Every (brand, indicator) value must agree to a relative 1e-9.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from _bench import REPO, run_script


def test_score_bench_tiny_library_and_duckdb_agree(tmp_path: Path) -> None:
    res = run_script("bench_score.py", tmp_path, timeout=600)
    assert res["values_compared"]["value"] == 20 * 8
    assert res["values_disagreeing"]["value"] == 0, res["values_disagreeing"].get("note")
    assert res["max_rel_diff"]["met"] is True
    for k in ("wall_s", "duckdb_wall_s", "floor_wall_s", "peak_rss_mb", "ratio_to_duckdb", "ratio_to_floor"):
        v = res[k]["value"]
        assert isinstance(v, int | float) and v > 0, k
    assert res["lake_mentions"]["value"] == 30 * 400


def test_reference_matches_the_scorer_on_the_values_themselves(tmp_path: Path) -> None:
    """Not only no disagreement reported: every indicator is present and non-trivial."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from reference_duckdb import INDICATOR_IDS, RefParams, reference_indicators
    finally:
        sys.path.pop(0)
    from barometer.lake.store import Lake
    from barometer.score.indicators import compute_indicators
    from barometer.sim.generate import SynthSpec, generate

    lake = Lake(str(tmp_path / "lake"))
    spec = SynthSpec(brands=8, days=20, mentions_per_day=200, end_date=date(2024, 3, 1), seed=5)
    res = generate(spec, lake)
    panel = res.panel
    d = date(2024, 3, 1)
    lib = compute_indicators(panel, d, lake)
    ref = reference_indicators(RefParams(lake.root, panel.id, d, panel.scoring.window_days,
                                         panel.scoring.growth_reference),
                               {b.id: [a.handle for a in b.accounts] for b in panel.brands})
    for b in panel.brands:
        for i in INDICATOR_IDS:
            x, y = lib[b.id][i], ref[(b.id, i)]
            assert x is not None and y is not None, (b.id, i)
            assert x == pytest.approx(y, rel=1e-9, abs=0), (b.id, i)
    assert len({round(lib[b.id]["centrality"] or 0, 12) for b in panel.brands}) > 1
