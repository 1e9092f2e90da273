"""The publish quality gate counts brands flagged incomplete by score (issue 17)."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from barometer.publish.data import coverage_gate


def _scores(incomplete: list[bool], coverage: float = 1.0) -> pa.Table:
    n = len(incomplete)
    return pa.table({"brand_id": [f"b{i}" for i in range(n)], "coverage": [coverage] * n,
                     "incomplete": incomplete})


def test_a_few_flagged_brands_pass_more_fail_naming_them() -> None:
    # 8 brands, min_coverage 0.75: a quarter (2) may be flagged, not 3
    assert coverage_gate(_scores([True, True] + [False] * 6), 0.75).ok
    gate = coverage_gate(_scores([True, True, True] + [False] * 5), 0.75, "p", date(2018, 4, 30))
    assert not gate.ok
    assert gate.reason == "3 of 8 brands have incomplete data (b0, b1, b2), more than min_coverage 0.750 allows"


def test_no_flag_tolerated_at_full_coverage() -> None:
    assert not coverage_gate(_scores([False] * 6 + [True]), 1.0).ok
    assert coverage_gate(_scores([False] * 7), 1.0).ok


def test_a_lake_before_the_flag_still_gates_on_coverage() -> None:
    table = pa.table({"brand_id": ["a", "b"], "coverage": [0.5, 0.5]})
    assert not coverage_gate(table, 0.75).ok
    assert coverage_gate(table, 0.5).ok
