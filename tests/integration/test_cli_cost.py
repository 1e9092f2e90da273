"""`barometer cost` on the embedded simulator: full and budgeted estimates, the plan, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from barometer.cli import main

REPO = Path(__file__).resolve().parents[2]


def _panel(tmp_path: Path, budget: float) -> Path:
    text = (REPO / "panels" / "pharma-fr.yaml").read_text(encoding="utf-8")
    text = text.replace("collection:\n", f"collection:\n  daily_budget_usd: {budget}\n", 1)
    path = tmp_path / "budget.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_cost_full_and_at_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--panel", "pharma-fr", "--lake", str(tmp_path / "lake")]) == 0
    out = capsys.readouterr().out
    assert "Full collection: $" in out and "No collection.daily_budget_usd" in out
    assert "sanofi:" in out and "(all:" in out and "sample" not in out
    assert main(["cost", "--panel", str(_panel(tmp_path, 0.5)), "--days", "3", "--lake", str(tmp_path / "lake")]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("At the budget ($0.50)"))
    assert float(line.split(": $")[1].split(" ")[0]) <= 0.50
    assert "sample p=" in out
    assert not (tmp_path / "lake").exists() or not any((tmp_path / "lake").rglob("*.parquet"))  # nothing written


def test_cost_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--panel", "pharma-fr", "--days", "9"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--days 9" in err
    assert main(["cost", "--panel", "no-such-panel"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
