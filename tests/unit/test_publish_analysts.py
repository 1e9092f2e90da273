"""The analysts' site (issue 16): downloads that open (CSV for French Excel, XLSX, Parquet), the
Atom feed, share cards on every page, badges, plural rules, handles, run times, ranks."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from posixpath import normpath
from urllib.parse import urljoin

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from _site_fixtures import HOSTILE_NAME, make_site_lake

from barometer.lake.schemas import SCHEMAS
from barometer.publish import PublishOptions, SiteTarget, build_site, load_site_data, run_publish
from barometer.publish.i18n import Fmt
from barometer.publish.raster import png_size

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    panel, lake, dates = make_site_lake(tmp_path_factory.mktemp("lake"), days=6)
    data = load_site_data(panel, dates[-1], lake)
    return {"files": build_site(data, PublishOptions(simulated=True)).files, "lake": lake, "panel": panel,
            "dates": dates}


def files_of(built: dict[str, object]) -> dict[str, bytes]:
    return built["files"]  # type: ignore[return-value]


def test_french_csv_opens_in_excel_and_reads_back(built: dict[str, object]) -> None:
    files = files_of(built)
    lake, panel, dates = built["lake"], built["panel"], built["dates"]
    d = dates[-1]  # type: ignore[index]
    body = files[f"downloads/{d}/scores-fr.csv"]
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads the accents right
    text = body.decode("utf-8-sig")
    head = text.splitlines()[0].split(";")
    assert head[0] == "brand_id" and {"brand_name", "leadership", "rank"} <= set(head)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    want = lake.read("scores", panel.id, d, d).to_pylist()  # type: ignore[attr-defined]
    assert len(rows) == len(want)
    by_id = {r["brand_id"]: r for r in rows}
    for w in want:
        got = by_id[w["brand_id"]]
        assert got["brand_name"] == w["brand_name"]  # the hostile name too, as text
        assert re.fullmatch(r"-?\d+,\d{2}", got["leadership"]), got["leadership"]  # decimal comma, rounded
        assert float(got["leadership"].replace(",", ".")) == pytest.approx(w["leadership"], abs=0.005)
        assert int(got["rank"]) == w["rank"]
    assert HOSTILE_NAME in {r["brand_name"] for r in rows}
    # the indicators: no float shows more digits than its rounding
    ind = files[f"downloads/{d}/indicators-fr.csv"].decode("utf-8-sig")
    assert "0.30000000000000004" not in ind and not re.search(r"\d,\d{5,}", ind)


def test_english_csv_uses_commas_and_points(built: dict[str, object]) -> None:
    files = files_of(built)
    d = built["dates"][-1]  # type: ignore[index]
    text = files[f"downloads/{d}/scores.csv"].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(re.fullmatch(r"-?\d+\.\d{2}", r["leadership"]) for r in rows)
    # a text that starts like a formula is made inert
    from barometer.publish.vector import excel_csv

    out = excel_csv(pa.table({"name": ["=HYPERLINK(1)", "a;b", 'q"t'], "v": [0.1 + 0.2, -1.5, None]}), ";", ",")
    assert out.decode("utf-8-sig").splitlines() == ["name;v", "\"'=HYPERLINK(1)\";0,3000", '"a;b";-1,5000',
                                                    '"q""t";']


def test_edition_workbook_and_history_open_in_analysts_tools(built: dict[str, object]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    files = files_of(built)
    dates = built["dates"]
    d = dates[-1]  # type: ignore[index]
    wb = openpyxl.load_workbook(io.BytesIO(files[f"downloads/{d}/edition.xlsx"]), read_only=True)
    assert wb.sheetnames == ["scores", "indicators", "topics"]
    rows = list(wb["scores"].iter_rows(values_only=True))
    head = rows[0]
    assert head[0] == "brand_id" and len(rows) == 1 + 7
    assert HOSTILE_NAME in [r[head.index("brand_name")] for r in rows[1:]]
    assert isinstance(rows[1][head.index("leadership")], float)
    assert rows[1][head.index("dt")] == datetime(d.year, d.month, d.day)
    assert len(list(wb["indicators"].iter_rows())) == 1 + 7 * 8
    hist = pq.read_table(io.BytesIO(files["downloads/history/scores.parquet"]))
    assert sorted(set(hist["dt"].to_pylist())) == dates and hist.num_rows == 7 * len(dates)  # type: ignore[arg-type]
    wide = list(csv.reader(io.StringIO(files["downloads/history/ranks-fr.csv"].decode("utf-8-sig")), delimiter=";"))
    assert wide[0][:2] == ["brand_id", "brand_name"] and wide[0][2:] == [x.isoformat() for x in dates]  # type: ignore[attr-defined]
    assert wide[1][0] == "sanofi" and wide[1][-1] == "1"


def test_brand_json_feeds_the_compare_page(built: dict[str, object]) -> None:
    doc = json.loads(files_of(built)["downloads/brands/sanofi.json"])
    assert doc["rank"] == 1 and doc["slug"] == "sanofi" and set(doc["indicators"]) and doc["handles"] == ["sanofi"]
    assert len(doc["history"]["dates"]) == len(doc["history"]["leadership"]) == len(doc["history"]["rank"]) == 6


def test_atom_feed_is_valid_atom(built: dict[str, object]) -> None:
    files = files_of(built)
    for key, lang in (("feed.xml", "fr"), ("en/feed.xml", "en")):
        root = ET.fromstring(files[key])
        # RFC 4287: atom:feed has exactly one id, title and updated, an author (here the feed's),
        # and each entry exactly one id, title, updated, and an alternate link (no content src)
        assert root.tag == f"{ATOM}feed" and root.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
        for tag in ("id", "title", "updated"):
            assert len(root.findall(f"{ATOM}{tag}")) == 1, tag
        assert root.find(f"{ATOM}author/{ATOM}name") is not None
        assert root.find(f"{ATOM}link[@rel='self']") is not None
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) == 6
        ids = set()
        for e in entries:
            for tag in ("id", "title", "updated"):
                assert len(e.findall(f"{ATOM}{tag}")) == 1, tag
            eid = e.findtext(f"{ATOM}id") or ""
            assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", eid)
            ids.add(eid)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e.findtext(f"{ATOM}updated") or "")
            link = e.find(f"{ATOM}link[@rel='alternate']")
            assert link is not None and link.get("href")
            target = normpath(urljoin(key, link.get("href") or ""))
            assert target.rstrip("/") + "/index.html" in files, target  # the archive page exists
        assert len(ids) == len(entries)
        feedparser = pytest.importorskip("feedparser")
        parsed = feedparser.parse(files[key])
        assert parsed.bozo == 0 and parsed.version == "atom10" and len(parsed.entries) == 6
        assert "Sanofi" in parsed.entries[0].content[0].value


def test_every_page_has_share_tags_and_a_1200x630_image(built: dict[str, object]) -> None:
    files = files_of(built)
    pages = [k for k in files if k.endswith("index.html")]
    assert len(pages) > 40
    for key in pages:
        html = files[key].decode()
        meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html))
        for name in ("og:title", "og:description", "og:url", "og:image", "og:locale", "twitter:card",
                     "twitter:image"):
            assert meta.get(name), (key, name)
        assert meta["twitter:card"] == "summary_large_image"
        image = normpath(urljoin(key, meta["og:image"]))
        assert image in files, (key, image)
        assert png_size(files[image]) == (1200, 630), image
        assert re.search(r'<link rel="canonical" href="[^"]+">', html), key
        langs = re.findall(r'<link rel="alternate" hreflang="([^"]+)"', html)
        assert langs == ["fr", "en", "x-default"], key
        assert 'type="application/atom+xml"' in html
    assert files["marques/sanofi/index.html"].decode().count('content="../../share/sanofi.png"') == 2
    assert files["en/brands/sanofi/index.html"].decode().count('content="../../../share/sanofi.png"') == 2


def test_absolute_share_links_when_the_site_url_is_known(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=2, posts=False)
    files = build_site(load_site_data(panel, dates[-1], lake),
                       PublishOptions(base_url="https://barometre.example/")).files
    html = files["en/brands/sanofi/index.html"].decode()
    assert '<link rel="canonical" href="https://barometre.example/en/brands/sanofi/">' in html
    assert '<link rel="alternate" hreflang="fr" href="https://barometre.example/marques/sanofi/">' in html
    assert 'content="https://barometre.example/share/sanofi.png"' in html
    assert "&lt;a href=&quot;https://barometre.example/en/brands/sanofi/&quot;&gt;" in html  # the embed snippet
    assert '<link rel="self" type="application/atom+xml" href="https://barometre.example/feed.xml"/>' in \
        files["feed.xml"].decode()


def test_badge_per_brand_with_its_snippet(built: dict[str, object]) -> None:
    files = files_of(built)
    svg = files["share/hostile.svg"].decode()
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and "<script>" not in svg and "&lt;script&gt;" in svg
    html = files["en/brands/sanofi/index.html"].decode()
    assert '<img class="badge" src="../../../share/sanofi.svg"' in html
    assert "#1 · " in files["share/sanofi.svg"].decode() and 'alt="Sanofi: #1 of 7 in the' in html
    assert "&lt;img src=&quot;/share/sanofi.svg&quot;" in html


def test_share_cards_are_drawn_again_only_when_they_change(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=3, posts=False)
    site = tmp_path / "site"
    first = run_publish(panel, dates[-2], lake, SiteTarget.local(site), PublishOptions())
    assert first.details["share_images"]["drawn"] == 2 + 7  # a leaderboard card per language, one a brand
    assert 0 < first.details["share_images"]["ms_per_image"] < 50
    again = run_publish(panel, dates[-2], lake, SiteTarget.local(site), PublishOptions())
    assert again.details["share_images"] == {"drawn": 0, "kept": 9, "seconds": again.details["share_images"][
        "seconds"], "ms_per_image": 0.0}
    (site / "share" / "sanofi.png").unlink()  # a missing card is drawn again
    again = run_publish(panel, dates[-2], lake, SiteTarget.local(site), PublishOptions())
    assert again.details["share_images"]["drawn"] == 1
    nxt = run_publish(panel, dates[-1], lake, SiteTarget.local(site), PublishOptions())  # a new edition
    assert nxt.details["share_images"]["drawn"] == 9


def test_plural_rules() -> None:
    fr, en = Fmt("fr"), Fmt("en")
    assert [fr.count(n, "réponse|réponses") for n in (0, 1, 2)] == ["0\xa0réponse", "1\xa0réponse", "2\xa0réponses"]
    assert [en.count(n, "reply|replies") for n in (0, 1, 2)] == ["0\xa0replies", "1\xa0reply", "2\xa0replies"]
    assert fr.plural(1.5, "point|points") == "point" and en.plural(1.5, "point|points") == "points"


def test_posts_counts_read_right_and_simulated_posts_link_nowhere(built: dict[str, object]) -> None:
    html = files_of(built)["marques/sanofi/index.html"].decode()
    assert "1 réponses" not in html and "1 citations" not in html and "1 reposts" not in html
    assert "x.com" not in html and "Publication simulée du" in html
    en = files_of(built)["en/brands/sanofi/index.html"].decode()
    assert "1 replies" not in en and "1 quotes" not in en


def test_every_handle_of_a_brand_is_shown(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=2)
    acc = lake.read("accounts", panel.id, dates[-1], dates[-1])
    extra = acc.filter(pa.compute.equal(acc["brand_id"], "sanofi")).to_pylist()[0]
    extra.update(account_id="999", handle="sanofi_fr")
    rows = [r for r in acc.to_pylist()] + [extra]
    lake.write_partition("accounts", panel.id, dates[-1], pa.Table.from_pylist(
        [{k: r.get(k) for k in SCHEMAS["accounts"].names} for r in rows], schema=SCHEMAS["accounts"]))
    files = build_site(load_site_data(panel, dates[-1], lake), PublishOptions(simulated=True)).files
    html = files["marques/sanofi/index.html"].decode()
    assert "@sanofi · @sanofi_fr" in html
    assert json.loads(files["downloads/brands/sanofi.json"])["handles"] == ["sanofi", "sanofi_fr"]


def test_run_times_on_the_runs_own_clock(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=2, posts=False)
    d = dates[-1]
    wall = datetime(2026, 11, 30, 20, 15)  # a replay today of the run of 2018-04-30
    runs = [{"run_id": f"r-{s}", "stage": s, "started_at": wall + timedelta(seconds=i * 90),
             "finished_at": wall + timedelta(seconds=i * 90 + 75), "status": "ok", "brands_ok": 7, "brands_failed": 0,
             "api_requests": 1, "posts_read": 1, "users_read": 1, "cost_usd": 0.0, "errors": []}
            for i, s in enumerate(("collect", "score"))]
    lake.write_partition("runs", panel.id, d, pa.Table.from_pylist(
        [{k: r.get(k) for k in SCHEMAS["runs"].names} for r in runs], schema=SCHEMAS["runs"]))
    sim = build_site(load_site_data(panel, d, lake), PublishOptions(simulated=True)).files
    html = sim["donnees/index.html"].decode()
    # the scheduled run of D reads at D+1 05:00 UTC: 07:00 in Paris (summer time)
    assert "<td>2018-05-01 07:00</td><td>2018-05-01 07:01</td><td>1 min 15 s</td>" in html
    assert "<td>2018-05-01 07:01</td><td>2018-05-01 07:02</td>" in html and "2026" not in html
    assert "Début (Europe/Paris)" in html
    real = build_site(load_site_data(panel, d, lake), PublishOptions(simulated=False)).files
    assert "<td>2026-11-30 21:15</td>" in real["donnees/index.html"].decode()  # wall clock, Paris time


def test_changes_against_the_previous_run_and_a_period_earlier(built: dict[str, object]) -> None:
    html = files_of(built)["en/brands/sanofi/index.html"].decode()
    assert "Compared with" in html and "the previous run (23 April 2018)" in html
    assert "(30\xa0days earlier)" in html  # the panel's window
    assert re.search(r'<td class="(up|dn|eq)">[+−±]\d+\.\d\xa0points?</td>', html)
    ranking = files_of(built)["en/indicators/engagement_rate/index.html"].decode()
    assert ranking.count("<tr><td>") == 7 and "Engagement rate" in ranking
