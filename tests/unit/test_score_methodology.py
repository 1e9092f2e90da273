"""The committed methodology is the generated one; both languages cover every indicator."""

from __future__ import annotations

from pathlib import Path

from barometer.config import Scoring
from barometer.score.definitions import INDICATORS
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
