"""The site of a panel on X and Bluesky (issue 14): downloads carry the `network` column with the
combined rows (`all`) and each network's; the leaderboard's intro names the networks (combined
on the leaderboard, one on its network's page), in French and in English; an X-only panel keeps
"sur X"; Bluesky posts link to Bluesky."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from _site_fixtures import make_site_lake

from barometer.config import parse_panel
from barometer.definitions import INDICATORS
from barometer.lake.store import Lake
from barometer.publish import PublishOptions, build_site, load_site_data
from barometer.publish.brand import BrandPages
from barometer.publish.i18n import networks_text, simulators_text

END = date(2026, 6, 30)
DATES = [END - timedelta(days=7), END]
PANEL = parse_panel({
    "id": "two-nets", "name": "Deux réseaux", "topics": "pharma",
    "scoring": {"window_days": 7, "min_coverage": 0.5},
    "brands": [
        {"id": "sanofi", "name": "Sanofi",
         "accounts": [{"network": "x", "handle": "sanofi"}, {"network": "bluesky", "handle": "sanofi.bsky.social"}],
         "mentions": {"x": "@sanofi", "bluesky": {"q": "sanofi"}}},
        {"id": "gsk-france", "name": "GSK France",
         "accounts": [{"network": "x", "handle": "GSK_FR"}, {"network": "bluesky", "handle": "gsk.bsky.social"}],
         "mentions": {"x": "@GSK_FR", "bluesky": {"q": "gsk"}}},
        {"id": "roche-france", "name": "Roche France", "accounts": [{"network": "x", "handle": "RocheFrance"}],
         "mentions": {"x": "@RocheFrance"}},
    ],
})
NETS = {"all": ["sanofi", "gsk-france", "roche-france"], "x": ["sanofi", "gsk-france", "roche-france"],
        "bluesky": ["sanofi", "gsk-france"]}  # Roche has no Bluesky account: no row there


def _two_network_lake(root: Path) -> Lake:
    lake = Lake(str(root))
    rng = np.random.default_rng(1)
    for k, dt in enumerate(DATES):
        ws = dt - timedelta(days=6)
        scores, inds, topics = [], [], []
        for net, brands in NETS.items():
            lead = rng.uniform(10, 90, len(brands))
            order = np.argsort(-lead, kind="stable")
            rank = np.empty(len(brands), int)
            rank[order] = np.arange(1, len(brands) + 1)
            for b, v, r in zip(brands, lead, rank, strict=True):
                scores.append({"brand_id": b, "network": net, "brand_name": b.title(), "leadership": float(v),
                               "relational": float(v), "expression": float(v), "engagement": float(v),
                               "rank": int(r), "rank_low": int(r), "rank_high": int(r),
                               "rank_prev": int(r) if k else None, "coverage": 1.0, "window_start": ws,
                               "window_end": dt, "computed_at": datetime.combine(dt, datetime.min.time()),
                               "days_incomplete": 0, "incomplete": False})
                for i in INDICATORS:
                    inds.append({"brand_id": b, "network": net, "indicator": i.id, "attribute": i.attribute,
                                 "value": 1.5, "transformed": 0.9, "score": float(v), "weight": 0.125,
                                 "contribution": float(v) / 8, "missing": False, "estimated": False,
                                 "std_error": None, "window_start": ws, "window_end": dt})
                topics.append({"brand_id": b, "network": net, "source": "posts", "topic": "cancer",
                               "family": "pathologies", "items": 3, "share": 0.5, "window_start": ws,
                               "window_end": dt})
        for table, rows in (("scores", scores), ("indicators", inds), ("topics", topics)):
            lake.write_partition(table, PANEL.id, dt, pa.Table.from_pylist(rows))
    return lake


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    lake = _two_network_lake(tmp_path_factory.mktemp("lake"))
    data = load_site_data(PANEL, END, lake)
    return build_site(data, PublishOptions(simulated=True)).files


def _csv(body: bytes, sep: str) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=sep))


def test_downloads_carry_every_network(site: dict[str, bytes]) -> None:
    for d in DATES:
        for suffix, sep in (("", ","), ("-fr", ";")):
            rows = _csv(site[f"downloads/{d}/scores{suffix}.csv"], sep)
            # the combined rows first, then each network in the panel's order; a brand once per network
            assert [r["network"] for r in rows] == ["all"] * 3 + ["x"] * 3 + ["bluesky"] * 2
            for net, brands in NETS.items():
                got = [r for r in rows if r["network"] == net]
                assert sorted(r["brand_id"] for r in got) == sorted(brands)
                assert [int(r["rank"]) for r in got] == list(range(1, len(brands) + 1))
            inds = _csv(site[f"downloads/{d}/indicators{suffix}.csv"], sep)
            assert {r["network"] for r in inds} == {"all", "x", "bluesky"}
            assert len(inds) == 8 * 8 and sum(r["network"] == "bluesky" for r in inds) == 2 * 8
            topics = _csv(site[f"downloads/{d}/topics{suffix}.csv"], sep)
            assert [r["network"] for r in topics] == ["all"] * 3 + ["x"] * 3 + ["bluesky"] * 2
        doc = json.loads(site[f"downloads/{d}/scores.json"])
        assert [r["network"] for r in doc] == ["all"] * 3 + ["x"] * 3 + ["bluesky"] * 2
    history = pq.read_table(io.BytesIO(site["downloads/history/scores.parquet"]))
    assert sorted(set(history["network"].to_pylist())) == ["all", "bluesky", "x"] and history.num_rows == 16


def test_workbook_sheets_carry_the_network(site: dict[str, bytes]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(io.BytesIO(site[f"downloads/{END}/edition.xlsx"]), read_only=True)
    for sheet, n in zip(wb.worksheets, (8, 64, 8), strict=True):
        rows = list(sheet.iter_rows(values_only=True))
        col = list(rows[0]).index("network")
        assert len(rows) == n + 1 and {r[col] for r in rows[1:]} == {"all", "x", "bluesky"}, sheet.title


def test_pages_show_a_brand_once(site: dict[str, bytes]) -> None:
    index = site["index.html"].decode()
    for b in NETS["all"]:
        assert index.count(f'href="marques/{b}/"') == 1, b


def test_intro_names_the_networks(site: dict[str, bytes]) -> None:
    fr, en = site["index.html"].decode(), site["en/index.html"].decode()
    assert "de 3\u00a0marques sur X et Bluesky réunis, calculé" in fr
    assert "of 3\u00a0brands on X and Bluesky combined, computed" in en
    assert "sur X," not in fr and "on X," not in en
    bsky = site["reseau/bluesky/index.html"].decode()
    assert '<p class="lede">Indice de leadership d&#39;opinion (0 à 100) de 2\u00a0marques sur Bluesky,' in bsky
    assert "of 3\u00a0brands on X, computed" in site["en/network/x/index.html"].decode()
    assert "la conversation sur X et Bluesky par rapport" in site["methodologie/index.html"].decode()
    assert "the conversation on X and Bluesky relative" in site["en/methodology/index.html"].decode()
    assert "(simulateurs des API X et Bluesky)" in fr and "(X and Bluesky API simulators)" in en
    # the data page says what the column holds
    assert "Colonne « network » : « all » pour les lignes de l&#39;indice sur X et Bluesky réunis" in \
        site["donnees/index.html"].decode()
    assert "Column &#34;network&#34;: &#34;all&#34; for the rows of the index on X and Bluesky combined" in \
        site["en/data/index.html"].decode()
    # every page's description says it too
    assert 'content="Indice de leadership d&#39;opinion (0 à 100) de 3\u00a0marques sur X et Bluesky réunis' \
        in site["donnees/index.html"].decode()


def test_x_only_panel_keeps_x(tmp_path: Path) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=2)
    files = build_site(load_site_data(panel, dates[-1], lake), PublishOptions(simulated=True)).files
    fr, en = files["index.html"].decode(), files["en/index.html"].decode()
    assert "de 7\u00a0marques sur X, calculé" in fr and "of 7\u00a0brands on X, computed" in en
    assert "réunis" not in fr and "combined" not in en
    assert "(simulateur de l&#39;API X)" in fr and "(an X API simulator)" in en
    assert "la conversation sur X par rapport" in files["methodologie/index.html"].decode()
    assert "network" not in files["en/data/index.html"].decode().split('class="lede">')[1].split("</p>")[0]
    rows = _csv(files[f"downloads/{dates[-1]}/scores.csv"], ",")
    assert {r["network"] for r in rows} == {"x"} and len(rows) == 7


def test_network_texts() -> None:
    assert networks_text("fr", ("x",)) == "X" and networks_text("en", ("x",), combined=True) == "X"
    assert networks_text("fr", ("x", "bluesky"), combined=True) == "X et Bluesky réunis"
    assert networks_text("en", ("x", "bluesky")) == "X and Bluesky"
    assert networks_text("en", ()) == "X"  # a panel without accounts: X, as before networks
    assert simulators_text("en", ("bluesky",)) == "a Bluesky API simulator"
    assert simulators_text("fr", ("bluesky",)) == "simulateur de l'API Bluesky"


def test_bluesky_posts_link_to_bluesky() -> None:
    uri = "at://did:plc:abc123/app.bsky.feed.post/3mpilun4qvcco"
    assert BrandPages.post_url("sanofi.bsky.social", uri, "bluesky") == \
        "https://bsky.app/profile/sanofi.bsky.social/post/3mpilun4qvcco"
    assert BrandPages.post_url(None, uri, "bluesky") == "https://bsky.app/profile/did:plc:abc123/post/3mpilun4qvcco"
    assert BrandPages.post_url("sanofi", "123", "x") == "https://x.com/sanofi/status/123"
