"""Collect within a budget: cost a day, and the index against the full collection's.

Budgeted replays (`budget_fidelity.py`) of the pharma panel over its demo window (181 daily
runs, the 2018 world) and of a 100-brand synthetic panel over a 7-day window, at $0.25, $0.50,
$1, $2 and unlimited (the 100 brands also at $5, $10 and $20: their profiles alone cost $1 a
day). Per budget: cost a day (max and mean of the daily runs), max |leadership difference|,
Kendall's tau-b, the same first and second brand, band coverage (full-collection ranks inside
the budgeted run's published bands). Targets (issue 13): full pharma ≤ $2.00 a day; at $0.50
every run ≤ $0.50, tau ≥ 0.9, max difference ≤ 5 points, same top two, coverage 1.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from _common import args_parser, emit, measure
from budget_fidelity import demo_replay, fidelity, short_replay, synthetic_panel

PHARMA_BUDGETS: list[float | None] = [0.25, 0.5, 1.0, 2.0, None]
SYNTH_BUDGETS: list[float | None] = [0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, None]
SYNTH_END = date(2025, 6, 30)
SCALES = {"full": {"pharma": True, "brands": 100, "window": 7},
          "tiny": {"pharma": False, "brands": 5, "window": 7}}


def table_rows(name: str, res: dict[str, Any]) -> dict[str, Any]:
    """One figure per budget and column, named `<panel>_<budget>_<column>`."""
    out: dict[str, Any] = {}
    for key, row in res["budgets"].items():
        tag = f"{name}_{key.replace('.', 'p')}"
        if "refused" in row:
            out[f"{tag}_refused"] = measure("refused", "", note=row["refused"])
            continue
        out[f"{tag}_cost_max_usd"] = measure(row["cost_max_usd"], "USD", None if key == "unlimited" else
                                             float(key), note=f"mean {row['cost_mean_usd']:.3f} over "
                                                              f"{row['daily_runs']} daily runs, "
                                                              f"{row['sampled_runs']} sampled")
        if key == "unlimited":
            continue
        out[f"{tag}_max_score_error"] = measure(row["max_score_error"], "points")
        out[f"{tag}_kendall_tau"] = measure(row["kendall_tau"], "τ")
        out[f"{tag}_band_coverage"] = measure(
            row["band_coverage"], "share",
            note=f"outside: {', '.join(row['outside_band'])}" if row["outside_band"] else None)
        out[f"{tag}_statuses"] = measure(",".join(row["statuses"]), "",
                                         note=f"score {row['score_status']}, same top two: {row['same_top2']}")
    return out


def targets(res: dict[str, Any]) -> dict[str, Any]:
    """Issue 13's targets on the pharma panel."""
    full, half = res["budgets"]["unlimited"], res["budgets"]["0.5"]
    return {
        "pharma_daily_cost_usd": measure(full["cost_mean_usd"], "USD", 2.0,
                                         note=f"mean of {full['daily_runs']} daily runs over the demo "
                                              f"window, max {full['cost_max_usd']:.3f}; no author expansion"),
        "pharma_at_0p5_every_run_within": measure(half["over_budget_runs"], "runs over", 0),
        "pharma_at_0p5_kendall_tau": measure(half["kendall_tau"], "τ", 0.9, ">="),
        "pharma_at_0p5_max_score_error": measure(half["max_score_error"], "points", 5.0),
        "pharma_at_0p5_same_top2": measure(int(half["same_top2"]), "", 1, "=="),
        "pharma_at_0p5_band_coverage": measure(half["band_coverage"], "share", 1.0, ">="),
    }


def main(argv: list[str] | None = None) -> int:
    args = args_parser(__doc__).parse_args(argv)
    scale = SCALES[args.scale]
    root = Path(args.work) / f"budget-{args.scale}"
    res: dict[str, Any] = {}
    if scale["pharma"]:
        from barometer.config import resolve_panel

        pharma = resolve_panel("pharma-fr")
        ph = fidelity(pharma, demo_replay(pharma), PHARMA_BUDGETS, root / "pharma")
        res.update(targets(ph))
        res.update(table_rows("pharma", ph))
    n, window = int(scale["brands"]), int(scale["window"])
    synth = synthetic_panel(n, SYNTH_END, window, seed=11)
    budgets = SYNTH_BUDGETS if scale["pharma"] else [0.5, None]
    sy = fidelity(synth, short_replay(synth, SYNTH_END, window), budgets, root / f"synth{n}")
    res.update(table_rows(f"synth{n}", sy))
    emit(res, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
