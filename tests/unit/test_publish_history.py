"""Honest history: indicators entering or leaving a brand's index are found, marked on its chart
and explained; a provisional leaderboard gets its banner."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
from markupsafe import Markup

from barometer.config import parse_panel
from barometer.definitions import INDICATORS
from barometer.lake.store import Lake
from barometer.publish.history import Change, history_marks, indicator_changes, provisional_note

DATES = [date(2018, 4, 16), date(2018, 4, 23), date(2018, 4, 30)]
IDS = [i.id for i in INDICATORS]


def _lake(tmp_path: Path) -> tuple[Lake, pa.Table]:
    lake = Lake(str(tmp_path / "lake"))
    scores = []
    for k, dt in enumerate(DATES):
        # alpha: growth enters on the last date; beta: mentions leave on the second, come back on the last.
        missing = {"alpha": {"community_growth"} if k < 2 else set(),
                   "beta": {"mentions"} if k == 1 else set()}
        rows = []
        for b in ("alpha", "beta"):
            for i in IDS:
                rows.append({"brand_id": b, "indicator": i, "missing": i in missing[b], "value": 1.0})
        lake.write_partition("indicators", "p", dt, pa.Table.from_pylist(rows).append_column(
            "window_start", pa.array([dt - timedelta(days=9)] * len(rows), pa.date32())).append_column(
            "window_end", pa.array([dt] * len(rows), pa.date32())).append_column(
            "attribute", pa.array(["x"] * len(rows))).append_column(
            "transformed", pa.array([1.0] * len(rows))).append_column(
            "score", pa.array([50.0] * len(rows))).append_column(
            "weight", pa.array([1.0] * len(rows))).append_column(
            "contribution", pa.array([1.0] * len(rows))).append_column(
            "estimated", pa.array([False] * len(rows))).append_column(
            "std_error", pa.nulls(len(rows), pa.float64())))
        for b in ("alpha", "beta"):
            scores.append({"brand_id": b, "dt": dt, "coverage": 1 - len(missing[b]) / len(IDS)})
    return lake, pa.Table.from_pylist(scores, schema=pa.schema(
        [("brand_id", pa.string()), ("dt", pa.date32()), ("coverage", pa.float64())]))


def test_changes_found_marked_and_explained(tmp_path: Path) -> None:
    lake, scores = _lake(tmp_path)
    changes = indicator_changes(lake, "p", scores, DATES)
    assert changes == {
        "alpha": [Change(DATES[2], "community_growth", True)],
        "beta": [Change(DATES[1], "mentions", False), Change(DATES[2], "mentions", True)],
    }
    builder = SimpleNamespace(d=SimpleNamespace(history_changes=changes, dates=DATES))
    svg = Markup('<svg class="chart"><title>t</title></svg>')
    fr = str(history_marks(svg, builder, "fr", "alpha"))
    assert fr.count('class="mark"') == 1 and 'x1="624.0"' in fr
    assert "Repères sur la courbe" in fr and "30 avril 2018" in fr
    assert "« Croissance de la communauté » entre dans l&#x27;indice" in fr and "un an de relevés" in fr
    en = str(history_marks(svg, builder, "en", "beta"))
    assert en.count('class="mark"') == 2 and "“Mentions” leaves the index" in en and "“Mentions” enters" in en
    assert history_marks(svg, builder, "en", "gamma") == svg  # nothing to mark


def test_no_change_no_read(tmp_path: Path) -> None:
    flat = pa.table({"brand_id": ["a", "a"], "dt": pa.array(DATES[:2], pa.date32()), "coverage": [1.0, 1.0]})
    assert indicator_changes(Lake(str(tmp_path / "none")), "p", flat, DATES[:2]) == {}


def test_provisional_banner() -> None:
    panel = parse_panel({"id": "p", "name": "P", "scoring": {"window_days": 91, "min_window_days": 60}, "brands": [
        {"id": "a", "name": "A", "accounts": [{"handle": "a"}], "mention_query": "a"}]})
    assert provisional_note([{"provisional": False, "days_collected": 91}], panel, "fr") is None
    assert provisional_note([{"days_collected": None}], panel, "fr") is None  # a lake before the flag
    note = provisional_note([{"provisional": True, "days_collected": 1}], panel, "en")
    assert note is not None and note["title"] == "Provisional leaderboard"
    assert "rests on 1 day of collected data out of its 91-day window" in note["text"] and "at least 60" in note["text"]
    fr = provisional_note([{"provisional": True, "days_collected": 12}], panel, "fr")
    assert fr is not None and "12 jours de données collectées sur les 91 jours" in fr["text"]
