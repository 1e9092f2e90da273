"""A panel outside pharma, run end to end with `barometer demo --panel FILE`: its site speaks its
sector only. Eight French retail banks (tests/fixtures/panels/banks-fr.yaml, `topics: banking`):
no pharma topic and no pharma wording anywhere on the built site, in French or in English."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import duckdb
import pytest

from barometer.cli import main
from barometer.topics import load_taxonomy

PANEL = Path(__file__).resolve().parents[1] / "fixtures" / "panels" / "banks-fr.yaml"
# Pharma vocabulary (accents folded, lower case, whole words): the 2018 world's wording and the
# pharma taxonomy's own topics.
PHARMA = re.compile(
    r"\b(pharma\w*|sante|patients?|medicaments?|medicines?|drugs?|laboratoires?|labos?|soignants?|"
    r"cancers?|tumeurs?|oncolog\w*|chimio\w*|diabet\w*|insuline|asthm\w*|vaccin\w*|vaccination|"
    r"essais? cliniques?|clinical trials?|therapies?|therapeutiques?|hopital|hopitaux|hospital\w*|"
    r"maladies?|diseases?|pathologies?|ansm|leem|plfss|depakine|levothyrox|mediator|"
    r"infirmi\w*|pharmacien\w*|sida|vih|hiv|alzheimer|hepatites?|sclerose|octobre rose|movember|"
    r"don d organes|mois sans tabac|health\w*|biotech\w*|e sante)\b")
SITE_FILES = (".html", ".xml", ".json", ".csv", ".svg", ".js", ".txt", ".webmanifest")


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9#@]+", " ", s)


@pytest.fixture(scope="module")
def banks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("banks")
    lake, site = root / "lake", root / "site"
    assert main(["demo", "--panel", str(PANEL), "--lake", str(lake), "--site", str(site)]) == 0
    return {"lake": lake, "site": site}


def test_no_pharma_word_anywhere_on_the_site(banks: dict[str, Path]) -> None:
    files = [p for p in banks["site"].rglob("*") if p.is_file() and p.suffix in SITE_FILES]
    assert len(files) > 20
    found: dict[str, set[str]] = {}
    for p in files:
        words = set(PHARMA.findall(_fold(p.read_text(encoding="utf-8", errors="ignore"))))
        if words:
            found[str(p.relative_to(banks["site"]))] = words
    assert not found, found


def test_topics_are_the_banking_taxonomy(banks: dict[str, Path]) -> None:
    con = duckdb.connect()
    lake = banks["lake"]
    topics = con.sql(f"select distinct topic, family from read_parquet('{lake}/topics/**/*.parquet')").fetchall()
    banking, pharma = load_taxonomy("banking"), load_taxonomy("pharma")
    assert topics and {t for t, _ in topics} <= set(banking.topics)
    assert {f for _, f in topics} <= set(banking.families) and None not in {f for _, f in topics}
    assert not {t for t, _ in topics} & set(pharma.topics)
    # Brand pages list banking topics by their names, in each language.
    fr = (banks["site"] / "marques" / "credit-mutuel" / "index.html").read_text(encoding="utf-8")
    en = (banks["site"] / "en" / "brands" / "credit-mutuel" / "index.html").read_text(encoding="utf-8")
    assert any(banking.name(t, "fr") in fr for t, _ in topics)
    assert any(banking.name(t, "en") in en for t, _ in topics)


def test_panel_name_per_language(banks: dict[str, Path]) -> None:
    fr = (banks["site"] / "index.html").read_text(encoding="utf-8")
    en = (banks["site"] / "en" / "index.html").read_text(encoding="utf-8")
    assert "Banques de détail en France" in fr and "Retail banks in France" not in fr
    assert "Retail banks in France" in en and "Banques de détail en France" not in en


def test_full_window_is_not_provisional_and_history_has_no_unexplained_jump(banks: dict[str, Path]) -> None:
    con = duckdb.connect()
    rows = con.sql(f"""select dt, brand_id, coverage, provisional, days_collected
        from read_parquet('{banks['lake']}/scores/**/*.parquet', hive_partitioning=true)""").fetchall()
    assert rows and not any(r[3] for r in rows) and {r[4] for r in rows} == {91}
    assert all(r[2] == 1.0 for r in rows)  # every weekly point has its growth reference
    html = (banks["site"] / "index.html").read_text(encoding="utf-8")
    assert "notice provisional" not in html
