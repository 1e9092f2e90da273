"""The built site in Debian's headless Chromium (Playwright): every page type loads with no failed and
no external request, the language switch works, the leaderboard order is the `scores` order, axe-core
finds no serious or critical violation, and a phone-width viewport has no horizontal scroll."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from _site_fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HOSTILE_NAME,
    axe_path,
    make_site_lake,
    publish_local,
    serve,
)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")

REPO = Path(__file__).resolve().parents[2]

PAGE_TYPES = {
    "leaderboard-fr": "",
    "leaderboard-en": "en/",
    "brand-fr": "marques/hostile/",
    "brand-en": "en/brands/sanofi/",
    "methodology-fr": "methodologie/",
    "methodology-en": "en/methodology/",
    "data-fr": "donnees/",
    "data-en": "en/data/",
    "archives-fr": "archives/",
    "archive-day-fr": "archives/2018-04-23/",
    "archive-day-en": "en/archives/2018-04-30/",
    "indicators-fr": "indicateurs/",
    "indicators-en": "en/indicators/",
    "indicator-fr": "indicateurs/engagement_rate/",
    "indicator-en": "en/indicators/community/",
    "compare-fr": "comparer/",
    "compare-en": "en/compare/?b=hostile,gsk-france,sanofi",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("site")
    panel, lake, dates = make_site_lake(tmp / "lake")
    site = publish_local(panel, lake, dates[-1], tmp / "site")
    return {"site": site, "lake": lake, "panel": panel, "dates": dates}


@pytest.fixture(scope="module")
def base(built: dict[str, Any]) -> Iterator[str]:
    with serve(built["site"]) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield b
        b.close()


@pytest.fixture(scope="module")
def axe() -> Path:
    p = axe_path()
    if p is None:
        subprocess.run(["npm", "install", "--no-save", "axe-core"], cwd=REPO, check=True, capture_output=True)
        p = axe_path()
    assert p is not None, "axe-core not installed (npm install)"
    return p


class Tracker:
    def __init__(self, base: str) -> None:
        self.host = urlparse(base).netloc
        self.failed: list[str] = []
        self.external: list[str] = []
        self.bad_status: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("requestfailed", lambda r: self.failed.append(r.url))
        page.on("request", self._request)
        page.on("response", self._response)

    def _response(self, r: Any) -> None:
        if r.status >= 400:
            self.bad_status.append(f"{r.status} {r.url}")

    def _request(self, r: Any) -> None:
        u = urlparse(r.url)
        if u.scheme in ("data", "about", "blob"):
            return
        if u.netloc != self.host:
            self.external.append(r.url)


@pytest.mark.parametrize("kind", sorted(PAGE_TYPES))
def test_page_loads_without_failed_or_external_requests_and_passes_axe(
        browser: Any, base: str, axe: Path, kind: str) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    tracker = Tracker(base)
    tracker.attach(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    dialogs: list[str] = []

    def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    resp = page.goto(base + PAGE_TYPES[kind], wait_until="networkidle")
    assert resp is not None and resp.status == 200
    assert tracker.failed == [] and tracker.external == [] and tracker.bad_status == []
    assert errors == [] and dialogs == []  # no script from data ever runs
    assert page.locator("main h1").count() == 1
    assert page.locator("header nav").count() == 1 and page.locator("footer").count() == 1
    lang = page.get_attribute("html", "lang")
    assert lang == ("en" if kind.endswith("-en") else "fr")
    updated = page.locator("footer .updated").inner_text()
    assert updated.startswith("Last updated" if lang == "en" else "Mis à jour le")
    page.add_script_tag(path=str(axe))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], [n["html"][:120] for n in v["nodes"][:3]])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []
    # phone widths: no horizontal scroll of the page (wide tables scroll inside their region)
    for w in (360, 390):
        page.set_viewport_size({"width": w, "height": 844})
        page.wait_for_timeout(50)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (w, width)
    ctx.close()


def test_language_switch_goes_to_the_same_page(browser: Any, base: str) -> None:
    page = browser.new_page()
    pairs = [("", "en/"), ("marques/sanofi/", "en/brands/sanofi/"), ("en/methodology/", "methodologie/"),
             ("archives/2018-04-16/", "en/archives/2018-04-16/")]
    for start, other in pairs:
        page.goto(base + start)
        here = page.get_attribute("html", "lang")
        page.click("a[data-switch]")
        page.wait_for_load_state()
        assert page.url == base + other
        assert page.get_attribute("html", "lang") != here
        page.click("a[data-switch]")
        page.wait_for_load_state()
        assert page.url == base + start
    page.close()


def test_leaderboard_order_matches_scores(browser: Any, base: str, built: dict[str, Any]) -> None:
    lake, panel, dt = built["lake"], built["panel"], built["dates"][-1]
    scores = lake.read("scores", panel.id, dt, dt).sort_by([("rank", "ascending")])
    want_names = scores["brand_name"].to_pylist()
    want_ranks = [str(r) for r in scores["rank"].to_pylist()]
    page = browser.new_page()
    page.goto(base)
    names = page.locator("table.lb tbody th[scope=row]").all_inner_texts()
    ranks = page.locator("table.lb tbody tr td:first-child").all_inner_texts()
    assert names == want_names and ranks == want_ranks
    assert HOSTILE_NAME in names  # shown as text
    # the optional script sorts by a column (and back), without changing the data
    page.click("table.lb thead th:nth-child(4) button")
    asc = page.locator("table.lb tbody th[scope=row]").all_inner_texts()
    lead = dict(zip(scores["brand_name"].to_pylist(), scores["leadership"].to_pylist(), strict=True))
    assert asc == sorted(want_names, key=lambda n: lead[n])
    assert page.get_attribute("table.lb thead th:nth-child(4)", "aria-sort") == "ascending"
    page.close()


def test_readable_without_javascript(browser: Any, base: str, built: dict[str, Any]) -> None:
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(base + "marques/sanofi/")
    assert page.locator("svg.chart title").count() == 2  # the history and the rank over time
    assert page.locator("svg.chart polyline").count() == 4 + 1
    page.click("details summary")
    rows = page.locator("#hist-caption + thead + tbody tr").count()
    assert rows == len(built["dates"])
    page.goto(base)
    assert page.locator("table.lb tbody tr").count() == 7
    # the compare page shows its default pair (the first two of the ranking) without script
    page.goto(base + "comparer/?b=hostile,gsk-france")
    heads = page.locator("table.cmp thead th a").all_inner_texts()
    assert heads == ["Sanofi", "MSD France"] and page.locator("#compare svg.chart polyline").count() == 2
    ctx.close()


def test_archive_matches_that_dates_scores(browser: Any, base: str, built: dict[str, Any]) -> None:
    lake, panel, d = built["lake"], built["panel"], built["dates"][0]
    scores = lake.read("scores", panel.id, d, d)
    scores = scores.sort_by([("rank", "ascending")])
    page = browser.new_page()
    page.goto(base + f"archives/{d.isoformat()}/")
    assert page.locator("table.lb tbody th[scope=row]").all_inner_texts() == scores["brand_name"].to_pylist()
    # the day's downloads are there and parse
    href = page.get_attribute("a[href$='scores.json']", "href")
    assert href is not None
    body = page.request.get(page.url + href).json()
    assert [r["brand_id"] for r in sorted(body, key=lambda r: r["rank"])] == scores["brand_id"].to_pylist()
    assert pc.all(pc.equal(scores["dt"], pa.scalar(d, pa.date32()))).as_py()
    page.close()


def test_compare_takes_its_brands_from_the_query(browser: Any, base: str) -> None:
    page = browser.new_page()
    page.goto(base + "en/compare/?b=hostile,gsk-france,sanofi", wait_until="networkidle")
    page.wait_for_function("document.querySelectorAll('table.cmp thead th').length === 4")
    assert page.locator("table.cmp thead th a").all_inner_texts() == [HOSTILE_NAME, "GSK France", "Sanofi"]
    assert page.locator("#compare svg.chart polyline").count() == 3
    assert page.locator("table.cmp tbody tr").count() == 2 + 3 + 8  # index, rank, attributes, indicators
    assert page.locator("form.pick select").nth(0).input_value() == "hostile"
    page.close()


WIDTHS = (360, 390, 480, 600, 700, 900, 1280)


@pytest.mark.parametrize("path", ["", "marques/sanofi/", "comparer/"])
def test_chart_labels_are_at_least_11px_at_every_width(browser: Any, base: str, path: str) -> None:
    page = browser.new_page()
    page.goto(base + path)
    for w in WIDTHS:
        page.set_viewport_size({"width": w, "height": 900})
        page.wait_for_timeout(30)
        sizes = page.evaluate("""() => Array.from(document.querySelectorAll('svg.chart .axes text'))
            .filter(t => t.getClientRects().length)
            .map(t => parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a)""")
        assert sizes and min(sizes) >= 11, (w, min(sizes))
    page.close()


def test_methodology_tables_wrap_at_desktop_width(browser: Any, base: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for path in ("methodologie/", "en/methodology/"):
        page.goto(base + path)
        over = page.evaluate("""() => Array.from(document.querySelectorAll('.scroll'))
            .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.querySelector('caption').textContent)""")
        assert over == [], path
    page.close()


def test_phone_leaderboard_keeps_rank_brand_and_leadership_in_view(browser: Any, base: str) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 800})
    page.goto(base)
    cells = "table.lb tbody tr:first-child > :is(td:nth-child(1), th, td:nth-child(4))"

    def in_view() -> bool:
        boxes = [page.locator(cells).nth(i).bounding_box() for i in range(3)]
        return all(b is not None and b["x"] >= 0 and b["x"] + b["width"] <= 360 + 0.5 for b in boxes)

    assert in_view()
    page.evaluate("document.querySelector('table.lb').closest('.scroll').scrollLeft = 10000")
    page.wait_for_timeout(30)
    assert page.evaluate("document.querySelector('table.lb').closest('.scroll').scrollLeft") > 0
    assert in_view()  # still there once the rest has scrolled
    page.close()


def test_print_gives_a_two_page_edition(browser: Any, base: str) -> None:
    page = browser.new_page()
    for path in ("", "en/"):
        page.goto(base + path)
        pdf = page.pdf(format="A4")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 1 <= pages <= 2, (path, pages)
    page.close()
