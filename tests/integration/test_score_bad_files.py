"""The score stage refuses to score over files that break the lake contract (issue 17, item 6):
a stray text file or a Parquet file of another schema in a table folder stops it with the
file's path and a failed `runs` row; told to skip them, it scores and their rows count as
missing data."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_stage_runs_row import PANEL, D, build_lake, runs_rows

from barometer.lake.store import Lake
from barometer.lake.validate import LakeContractError
from barometer.score import run_score


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return build_lake(tmp_path / "lake")


def test_a_stray_file_stops_score_with_its_path(lake: Lake) -> None:
    stray = Path(lake.partition_path("mentions", PANEL.id, D)) / "README.txt"
    stray.write_text("notes about this day\n")
    with pytest.raises(LakeContractError) as e:
        run_score(PANEL, D, lake)
    assert str(stray) in str(e.value) and "--skip-bad-files" in str(e.value)
    assert not Path(lake.partition_path("scores", PANEL.id, D)).exists()  # nothing scored over it
    (row,) = [r for r in runs_rows(lake, PANEL.id, D) if r["stage"] == "score"]
    assert row["status"] == "failed" and "README.txt" in row["errors"][0]


def test_a_wrong_schema_is_refused_then_skipped_as_missing(lake: Lake) -> None:
    clean = run_score(PANEL, D, lake)
    assert clean.status in ("ok", "partial")
    before = {r["brand_id"]: r for r in lake.read("scores", PANEL.id, D, D).to_pylist()}

    # a valid Parquet file, but not a mentions table: a post id as a number, no brand
    alien = Path(lake.partition_path("mentions", PANEL.id, D)) / "alien.parquet"
    pq.write_table(pa.table({"post_id": [1, 2], "text": ["x", "y"]}), alien)
    with pytest.raises(LakeContractError, match=r"alien\.parquet"):
        run_score(PANEL, D, lake)

    skipped = run_score(PANEL, D, lake, skip_bad_files=True)
    assert skipped.status == "partial"
    assert any("alien.parquet" in e and "missing" in e for e in skipped.errors)
    after = {r["brand_id"]: r for r in lake.read("scores", PANEL.id, D, D).to_pylist()}
    assert {b: r["leadership"] for b, r in after.items()} == {b: r["leadership"] for b, r in before.items()}
