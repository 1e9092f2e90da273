"""The simulator speaks the panel's sector: every keyword it writes is tagged by the sector's
taxonomy in its family, and no sector but pharma ever writes pharma wording."""

from __future__ import annotations

import random
import re

import pytest

from barometer.config import parse_panel
from barometer.sim.sectors import PHARMA, from_taxonomy, sector_for, shipped_sector
from barometer.sim.texts import TextMaker
from barometer.topics import SHIPPED, load_taxonomy

OTHERS = [s for s in SHIPPED if s != "pharma"]
# Words only a pharma world would write (accents folded, lower case, whole words).
PHARMA_WORDS = re.compile(
    r"\b(pharma\w*|sante|patients?|medic\w*|laboratoires?|soignants?|cancers?|diabet\w*|asthme|"
    r"vaccin\w*|essais? cliniques?|therap\w*|hopital|hopitaux|maladies?|pathologies?|ansm|leem|"
    r"depakine|levothyrox|mediator|oncolog\w*|infirmi\w*|pharmacien\w*|sida|vih|alzheimer)\b")


def _fold(s: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()


def _panel(topics: str) -> object:
    return parse_panel({"id": "p", "name": "P", "topics": topics, "brands": [
        {"id": "a", "name": "Alpha", "accounts": [{"handle": "alpha"}], "mention_query": "alpha"}]})


@pytest.mark.parametrize("sector_id", SHIPPED)
def test_every_keyword_is_tagged_in_its_family(sector_id: str) -> None:
    sector = shipped_sector(sector_id)
    tax = load_taxonomy(sector_id)
    assert set(sector.families) <= set(tax.families), "sector families are the taxonomy's"
    if sector_id == "pharma":
        return  # the 2018 world's texts are pinned as they are (some keywords are untagged on purpose)
    for fam, kw in sector.keywords():
        fams = {tax.family(t) for t in tax.tag(kw)}
        assert fam in fams, f"{sector_id}: {kw!r} is tagged {tax.tag(kw)} (families {fams}), not in {fam}"


@pytest.mark.parametrize("sector_id", OTHERS)
def test_sector_texts_are_tagged_and_never_pharma(sector_id: str) -> None:
    sector = shipped_sector(sector_id)
    tax = load_taxonomy(sector_id)
    tm = TextMaker(random.Random(7), sector)
    texts = []
    for _ in range(400):
        texts += [tm.brand_post(), tm.brand_reply("someone"), tm.brand_quote(), tm.mention("@alpha"),
                  tm.mention("Alpha"), tm.mention_reply("alpha"), tm.noise()]
    untagged = [t.text for t in texts if not tax.tag(t.text)]
    assert not untagged, untagged[:5]
    # Brand posts are tagged in the family they were drawn from.
    for t in texts:
        assert t.family in {tax.family(x) for x in tax.tag(t.text)}, t
    words = {w for t in texts for w in PHARMA_WORDS.findall(_fold(t.text))}
    assert not words, f"{sector_id} writes pharma words: {sorted(words)}"
    every = " ".join(_fold(x) for x in (*sector.bios, *(n for _, n in sector.institutions),
                                          *(h for h, _ in sector.institutions),
                                          *(p for ps in sector.picks.values() for p in ps)))
    assert not PHARMA_WORDS.findall(every)


def test_panel_sector_follows_its_taxonomy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert sector_for(_panel("pharma")) is PHARMA
    assert sector_for(_panel("banking")).id == "banking"
    p = parse_panel({"id": "p", "name": "P", "brands": [
        {"id": "a", "name": "Alpha", "accounts": [{"handle": "alpha"}], "mention_query": "alpha"}]})
    assert p.topics == "corporate" and sector_for(p).id == "corporate"
    # A taxonomy of the panel's own: the simulator writes its keywords, and they are tagged.
    f = tmp_path / "wine.yaml"
    f.write_text("families:\n  vignoble:\n    name: {fr: Vignoble, en: Vineyard}\n    topics:\n"
                 "      vendanges: {name: {fr: Vendanges}, keywords: {fr: [vendanges, récolte], en: [harvest]}}\n"
                 "      cepages: {name: {fr: Cépages}, keywords: {fr: [cépage*, merlot], en: [grape variety]}}\n",
                 encoding="utf-8")
    own = parse_panel({"id": "p", "name": "P", "topics": str(f), "brands": [
        {"id": "a", "name": "Alpha", "accounts": [{"handle": "alpha"}], "mention_query": "alpha"}]})
    sector = sector_for(own)
    tax = load_taxonomy(own.topics)
    assert sector.keywords() == [("vignoble", "vendanges"), ("vignoble", "récolte"), ("vignoble", "merlot"),
                                 ("vignoble", "grape variety")]
    tm = TextMaker(random.Random(1), sector)
    for _ in range(50):
        t = tm.brand_post()
        assert tax.tag(t.text), t.text
    assert from_taxonomy(tax).families.keys() == {"vignoble"}


def test_pharma_texts_unchanged() -> None:
    """The pharma sector draws exactly as before the sectors existed (the demo's figures)."""
    tm = TextMaker(random.Random(2018))
    assert tm.sector.id == "pharma"
    texts = [tm.brand_post().text for _ in range(3)]
    again = TextMaker(random.Random(2018), PHARMA)
    assert [again.brand_post().text for _ in range(3)] == texts
