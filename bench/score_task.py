"""One score-stage measurement in its own process: the library, the DuckDB reference or the floor.

    python bench/score_task.py --impl lib|duckdb|floor --lake DIR --date YYYY-MM-DD [--values-out F]

Reports the computation's wall time (imports excluded, the same for the three) and the
process's peak RSS; `--values-out` writes the indicator values (Parquet) for the comparison.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from _common import peak_rss_mb

from barometer.config import load_panel
from barometer.lake.store import Lake


def run_lib(lake: Path, panel_path: Path, dt: date) -> dict[tuple[str, str], float | None]:
    from barometer.score.indicators import compute_indicators

    panel = load_panel(panel_path)
    values = compute_indicators(panel, dt, Lake(str(lake)))
    return {(b, i): v for b, vs in values.items() for i, v in vs.items()}


def run_duckdb(lake: Path, panel_path: Path, dt: date) -> dict[tuple[str, str], float | None]:
    from reference_duckdb import RefParams, reference_indicators

    panel = load_panel(panel_path)
    p = RefParams(str(lake), panel.id, dt, panel.scoring.window_days, panel.scoring.growth_reference)
    return reference_indicators(p, {b.id: [a.handle for a in b.accounts] for b in panel.brands})


# The columns the eight indicators need, per table (what the scorer projects too).
FLOOR_COLUMNS = {
    "accounts": ["brand_id", "account_id", "handle", "followers", "collected_at", "dt"],
    "posts": ["post_id", "brand_id", "account_id", "kind", "likes", "reposts", "replies", "quotes",
              "mentioned_handles", "deleted", "observed_at", "dt"],
    "mentions": ["post_id", "brand_id", "author_id", "author_handle", "mentioned_handles", "observed_at",
                 "dt"],
}


def run_floor(lake: Path, panel_path: Path, dt: date) -> int:
    """Read only what the indicators need: projected columns, dt pruning, created_at predicate."""
    panel = load_panel(panel_path)
    lk = Lake(str(lake))
    ws = dt - timedelta(days=panel.scoring.window_days - 1)
    try:
        ref = dt.replace(year=dt.year - 1)
    except ValueError:
        ref = dt.replace(year=dt.year - 1, day=28)
    t0 = pa.scalar(ws, pa.date32()).cast(pa.timestamp("ms"))
    t1 = pa.scalar(dt + timedelta(days=1), pa.date32()).cast(pa.timestamp("ms"))
    in_w = ((ds.field("panel") == panel.id) & (ds.field("dt") >= pa.scalar(ws, pa.date32()))
            & (ds.field("dt") <= pa.scalar(dt, pa.date32())))
    created = (ds.field("created_at") >= t0) & (ds.field("created_at") < t1)
    rows = 0
    rows += lk.dataset("accounts").to_table(columns=FLOOR_COLUMNS["accounts"], filter=in_w).num_rows
    ref_f = ((ds.field("panel") == panel.id)
             & (ds.field("dt") >= pa.scalar(ref - timedelta(days=7), pa.date32()))
             & (ds.field("dt") <= pa.scalar(ref, pa.date32())))
    rows += lk.dataset("accounts").to_table(columns=FLOOR_COLUMNS["accounts"], filter=ref_f).num_rows
    for table in ("posts", "mentions"):
        rows += lk.dataset(table).to_table(columns=FLOOR_COLUMNS[table], filter=in_w & created).num_rows
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--impl", choices=["lib", "duckdb", "floor"], required=True)
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--panel", type=Path, help="panel YAML (default: <lake>/panels/synth.yaml)")
    ap.add_argument("--date", type=date.fromisoformat, required=True)
    ap.add_argument("--values-out", type=Path)
    ap.add_argument("--json-out", type=Path, required=True)
    args = ap.parse_args(argv)
    panel_path = args.panel or args.lake / "panels" / "synth.yaml"
    out: dict[str, Any] = {"impl": args.impl}
    t0 = time.perf_counter()
    if args.impl == "floor":
        out["rows"] = run_floor(args.lake, panel_path, args.date)
        values = None
    else:
        values = (run_lib if args.impl == "lib" else run_duckdb)(args.lake, panel_path, args.date)
    out["wall_s"] = round(time.perf_counter() - t0, 3)
    out["peak_rss_mb"] = peak_rss_mb()
    if values is not None and args.values_out:
        keys = sorted(values)
        table = pa.table({"brand_id": [k[0] for k in keys], "indicator": [k[1] for k in keys],
                          "value": pa.array([values[k] for k in keys], pa.float64())})
        pq.write_table(table, args.values_out)
        out["values"] = len(keys)
    args.json_out.write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
