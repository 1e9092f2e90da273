"""Estimated indicators on the site (issue 13): "≈" before the value, "± std_error", a legend line."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from _site_fixtures import make_site_lake

from barometer.publish import PublishOptions, SiteTarget, run_publish


def _estimate(lake: object, panel_id: str, dt: object, brand: str, indicator: str, se: float) -> None:
    t = lake.read("indicators", panel_id, dt, dt)  # type: ignore[attr-defined]
    hit = pc.and_(pc.equal(t["brand_id"], brand), pc.equal(t["indicator"], indicator))
    t = t.set_column(t.schema.get_field_index("estimated"), "estimated", pc.fill_null(hit, False))
    se_col = pc.if_else(hit, pa.scalar(se), pa.scalar(None, pa.float64()))
    t = t.set_column(t.schema.get_field_index("std_error"), "std_error", se_col)
    lake.write_partition("indicators", panel_id, dt, t.drop_columns(["panel", "dt"]))  # type: ignore[attr-defined]


def test_estimated_value_marked_with_its_error_and_a_legend(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=2, posts=False)
    _estimate(lake, panel.id, dates[-1], "sanofi", "mention_reach", 12.0)
    site = tmp_path / "site"
    assert run_publish(panel, dates[-1], lake, SiteTarget.local(site), PublishOptions()).status == "ok"
    fr = (site / "marques" / "sanofi" / "index.html").read_text()
    en = (site / "en" / "brands" / "sanofi" / "index.html").read_text()
    assert fr.count('<abbr title="estimée">≈</abbr>') == 1 and "± 12" in fr
    assert en.count('<abbr title="estimated">≈</abbr>') == 1 and "± 12" in en
    assert "≈ : valeur estimée à partir d'un échantillon des mentions" in fr.replace("&#x27;", "'")
    assert "≈: value estimated from a sample of the mentions" in en
    page = (site / "en" / "indicators" / "mention_reach" / "index.html").read_text()
    assert "≈</abbr>" in page and "legend-est" in page
    # A brand whose values are all exact: no mark, no legend.
    other = next(p for p in (site / "en" / "brands").iterdir() if p.name != "sanofi")
    text = (other / "index.html").read_text()
    assert "≈</abbr>" not in text and "legend-est" not in text
    assert "legend-est" not in (site / "en" / "indicators" / "community" / "index.html").read_text()
