"""Inline SVG charts: well-formed, titled, escaped, values mapped onto the axes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import numpy as np

from barometer.publish import charts

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_line_chart_structure_and_accessible_name() -> None:
    dates = [date(2018, 4, 1) + timedelta(days=7 * i) for i in range(5)]
    svg = charts.line_chart(dates, {"leadership": [10, 20, 30, 40, 50], "relational": [0, 100, None, 50, 50]},
                            title="Histoire de <script>alert(1)</script>", desc="a & b", lang="fr",
                            chart_id="c1")
    root = parse(str(svg))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-t c1-d"
    assert root.findtext(f"{NS}title") == "Histoire de <script>alert(1)</script>"  # escaped in markup
    assert "<script>" not in str(svg)
    assert root.findtext(f"{NS}desc") == "a & b"
    lines = root.findall(f"{NS}polyline")
    assert len(lines) == 2  # series without values draw nothing
    pts = [tuple(map(float, p.split(","))) for p in lines[0].get("points", "").split()]
    assert len(pts) == 5
    assert pts[0][0] == charts.LEFT and pts[-1][0] == charts.RIGHT
    assert pts[0][1] == round(charts.BOTTOM - 0.1 * (charts.BOTTOM - charts.TOP), 1)
    assert len(lines[1].get("points", "").split()) == 4  # the missing value is skipped
    # x labels are dates in the page language
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert "1 avr. 2018" in labels and "100" in labels


def test_series_points_vectorised_matches_rows() -> None:
    x = charts.x_positions([date(2018, 1, 1), date(2018, 1, 2), date(2018, 1, 4)])
    m = np.array([[0.0, 50.0, 100.0], [np.nan, np.nan, np.nan], [25.0, np.nan, 75.0]])
    pts = charts.series_points(x, m)
    assert pts[1] == ""
    assert pts[0].split()[1].split(",")[1] == f"{charts.BOTTOM - 0.5 * (charts.BOTTOM - charts.TOP):.1f}"
    assert len(pts[2].split()) == 2
    assert charts.last_points(x, m)[1] is None
    y75 = round(charts.BOTTOM - 0.75 * (charts.BOTTOM - charts.TOP), 1)
    assert charts.last_points(x, m)[2] == (charts.RIGHT, y75)


def test_single_date_chart_has_markers() -> None:
    svg = str(charts.line_chart([date(2018, 4, 30)], {"leadership": [84.0]}, "t", "d", "en"))
    root = parse(svg)
    assert len(root.findall(f"{NS}circle")) == 1
    assert "30 Apr 2018" in svg
