"""Every text from data is escaped on every page type: a hostile brand name, post text and handle."""

from __future__ import annotations

import csv
import io
import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from _site_fixtures import HOSTILE_HANDLE, HOSTILE_NAME, HOSTILE_POST, make_site_lake

from barometer.publish import PublishOptions, build_site, load_site_data
from barometer.publish.vector import html_escape

ESCAPED_NAME = "&lt;script&gt;alert(1)&lt;/script&gt;"


class Scan(HTMLParser):
    """Collects script elements, event-handler attributes and the text content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.imgs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag == "img":
            self.imgs.append(dict(attrs))
        self.handlers += [k for k, _ in attrs if k.startswith("on")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    panel, lake, dates = make_site_lake(tmp_path_factory.mktemp("lake"))
    return build_site(load_site_data(panel, dates[-1], lake), PublishOptions(simulated=True)).files


PAGES = {
    "leaderboard": ["index.html", "en/index.html"],
    "brand": ["marques/hostile/index.html", "en/brands/hostile/index.html"],
    "archive": ["archives/2018-04-30/index.html", "en/archives/2018-04-09/index.html"],
    "methodology": ["methodologie/index.html", "en/methodology/index.html"],
    "data": ["donnees/index.html", "en/data/index.html"],
    "archive index": ["archives/index.html", "en/archives/index.html"],
}


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_no_script_from_data_on_any_page_type(site: dict[str, bytes], kind: str) -> None:
    for key in PAGES[kind]:
        html = site[key].decode()
        scan = Scan()
        scan.feed(html)
        # The only script is the site's own content-hashed asset, loaded by src.
        assert all((s.get("src") or "").startswith(("assets/", "../assets/")) for s in scan.scripts), key
        assert len(scan.scripts) <= 1
        assert scan.handlers == [], key
        assert "<script>alert" not in html and "<img src=x" not in html, key
        # the only images are the site's own (a brand's badge)
        assert all((i.get("src") or "").endswith("share/hostile.svg") for i in scan.imgs), key
        assert "alert(2)" not in html or "&lt;img src=x onerror=" in html


@pytest.mark.parametrize("key", ["index.html", "en/index.html", "marques/hostile/index.html",
                                 "en/brands/hostile/index.html", "archives/2018-04-23/index.html",
                                 "en/archives/2018-04-30/index.html"])
def test_hostile_name_shows_as_text(site: dict[str, bytes], key: str) -> None:
    html = site[key].decode()
    assert ESCAPED_NAME in html
    scan = Scan()
    scan.feed(html)
    assert HOSTILE_NAME in "".join(scan.text)  # the reader sees the name, as text


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    panel, lake, dates = make_site_lake(tmp_path_factory.mktemp("lake"))
    return build_site(load_site_data(panel, dates[-1], lake), PublishOptions(simulated=False)).files


def test_hostile_post_text_and_handle_are_text(site: dict[str, bytes], real_site: dict[str, bytes]) -> None:
    for files in (site, real_site):
        for key in ("marques/hostile/index.html", "en/brands/hostile/index.html"):
            html = files[key].decode()
            scan = Scan()
            scan.feed(html)
            text = "".join(scan.text)
            assert HOSTILE_POST in text
            assert "@" + HOSTILE_HANDLE in text
            assert 'onerror="alert(2)"' not in html
    for key in ("marques/hostile/index.html", "en/brands/hostile/index.html"):
        # real data: the post link keeps the handle inside the URL path, percent-encoded
        html = real_site[key].decode()
        assert "https://x.com/evil%22%3E%3Cscript%3Ealert%284%29%3C%2Fscript%3E/status/" in html
        assert 'href="https://x.com/evil%22%3E%3Cscript%3Ealert%284%29%3C%2Fscript%3E"' in html  # profile
        # simulated data: no link to statuses or profiles that do not exist on X
        assert "x.com/" not in site[key].decode()


def test_downloads_keep_the_raw_text(site: dict[str, bytes]) -> None:
    rows = json.loads(site["downloads/2018-04-30/scores.json"])
    assert HOSTILE_NAME in {r["brand_name"] for r in rows}
    reader = csv.DictReader(io.StringIO(site["downloads/2018-04-30/scores.csv"].decode("utf-8-sig")))
    assert HOSTILE_NAME in {r["brand_name"] for r in reader}


def test_vectorised_escape_matches_markupsafe() -> None:
    import pyarrow as pa
    from markupsafe import escape

    texts = [HOSTILE_NAME, HOSTILE_POST, HOSTILE_HANDLE, "a & b < c > d \"e\" 'f'", "&amp;", "", "é€"]
    assert html_escape(pa.array(texts)).to_pylist() == [str(escape(t)) for t in texts]
    assert html_escape(pa.array([None], pa.string())).to_pylist() == [""]
