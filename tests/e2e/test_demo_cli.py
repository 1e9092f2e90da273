"""The CLI on the demo lake: query prints a table, bad input is one line and a non-zero exit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from barometer.cli import main
from barometer.lake.store import Lake

TABLES = ("accounts", "posts", "mentions", "mention_counts", "indicators", "scores", "topics")


def test_demo_site_lists_seven_brands_sanofi_first(demo_run: dict[str, object]) -> None:
    html = (Path(str(demo_run["site"])) / "index.html").read_text(encoding="utf-8")
    names = ["Sanofi", "MSD France", "Pfizer France", "Novartis France", "Roche France",
             "AstraZeneca France", "GSK France"]
    pos = {n: html.find(n) for n in names}
    assert all(p > 0 for p in pos.values()), pos
    assert min(pos, key=lambda n: pos[n]) == "Sanofi"


def test_query_prints_a_table(demo_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["query", "--lake", str(demo_lake), "select brand_id, count(*) from posts group by 1 order by 1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "sanofi" in out and "gsk-france" in out
    assert len([line for line in out.splitlines() if "-france" in line or "sanofi" in line]) == 7


def test_bad_input_one_line_nonzero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: X\nbrands:\n  - {id: a, name: A, accounts: [{handle: 'no way'}], "
                   "mention_query: q}\n", encoding="utf-8")
    lake = tmp_path / "lake"
    proc = subprocess.run(
        [sys.executable, "-m", "barometer.cli", "run", "--panel", str(bad), "--date", "2018-04-30",
         "--lake", str(lake), "--site", str(tmp_path / "site")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "brands.0.accounts.0.handle" in proc.stderr and str(bad) in proc.stderr
    assert not lake.exists()  # nothing written


def test_rerunning_a_date_keeps_the_same_rows(demo_lake: Path, tmp_path: Path) -> None:
    copy = tmp_path / "lake"
    shutil.copytree(demo_lake, copy)
    lake = Lake(str(copy))
    d = date(2018, 4, 30)

    def snapshot() -> dict[str, pa.Table]:
        out = {}
        for t in TABLES:
            tab = lake.read(t, "pharma-fr", start=d, end=d)
            out[t] = tab.sort_by([(c, "ascending") for c in tab.column_names
                                  if not pa.types.is_list(tab.schema.field(c).type)])
        return out

    before = snapshot()
    rc = main(["run", "--panel", "pharma-fr", "--date", d.isoformat(), "--stages", "collect,score",
               "--simulate", "--lake", str(copy), "--site", str(tmp_path / "site")])
    assert rc == 0
    after = snapshot()
    for t in TABLES:
        assert after[t].num_rows == before[t].num_rows > 0, t
        assert after[t].equals(before[t]), t
