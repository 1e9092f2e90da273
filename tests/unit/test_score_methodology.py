"""The committed methodology is the generated one; both languages cover every indicator."""

from __future__ import annotations

from pathlib import Path

from barometer.config import Scoring
from barometer.definitions import INDICATORS
from barometer.score.methodology import document, methodology_markdown, methodology_sections

DOC = Path(__file__).resolve().parents[2] / "docs" / "methodology.md"


def test_committed_file_is_generated() -> None:
    assert DOC.read_text(encoding="utf-8") == document(), (
        "docs/methodology.md is stale: run `python -m barometer.score.methodology docs/methodology.md`")


def test_sections_cover_indicators() -> None:
    for lang in ("fr", "en"):
        secs = methodology_sections(lang)
        table = next(s for s in secs if s.id == "indicators").table
        assert [r[1].split("`")[1] for r in table[1:]] == [i.id for i in INDICATORS]
    md = methodology_markdown("en", Scoring(window_days=90, aggregation="geometric"))
    assert "90-day window" in md and "Aggregation in use: `geometric`" in md


def test_sampling_section_from_the_code_definitions() -> None:
    from barometer.config import SAMPLE_FLOOR, SAMPLE_SLICE_MINUTES
    from barometer.score.sampled import REPLICATES

    for lang in ("fr", "en"):
        sec = next(s for s in methodology_sections(lang) if s.id == "sampling")
        text = " ".join(sec.paragraphs)
        assert f"{SAMPLE_SLICE_MINUTES} minutes" in text or f"{SAMPLE_SLICE_MINUTES}-minute" in text
        assert f"{SAMPLE_FLOOR} par marque" in text or f"{SAMPLE_FLOOR} per brand" in text
        assert "1/p" in text and "Good-Toulmin" in text and "q = 0.2" in text and f"j mod {REPLICATES}" in text
        assert len(sec.table) == 8 and sec.table[0][-1] == "SGT"  # estimate.py's measurement
