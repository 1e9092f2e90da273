"""`barometer explain`: why a brand scores what it scores, from the lake's scoring tables.

It reads the `indicators` and `scores` partitions a score run wrote (it does not rescore), so
what it prints is exactly what was published for that date.
"""

from __future__ import annotations

import argparse
import math
from datetime import date

from barometer.config import Panel, resolve_panel
from barometer.definitions import ATTRIBUTES, INDICATORS
from barometer.errors import BarometerError, ConfigError
from barometer.lake.store import Lake

DEFAULT_LAKE = "file://./lake"


def _fmt(v: float | None, digits: int = 2) -> str:
    if v is None or math.isnan(v):
        return "—"
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}" if abs(v) >= 0.01 else f"{v:.3g}"


def _t(fr: bool, fr_text: str, en_text: str) -> str:
    return fr_text if fr else en_text


def _score_date(panel: Panel, lake: Lake, dt: date | None) -> date:
    dates = lake.partitions("scores", panel.id)
    if dt is None:
        if not dates:
            raise BarometerError(f"explain: no scores for panel {panel.id} in {lake.uri} (run score first)")
        return dates[-1]
    if dt not in dates:
        raise BarometerError(f"explain: no scores for panel {panel.id} on {dt} in {lake.uri}")
    return dt


def explain(panel: Panel, dt: date | None, lake: Lake, brand_id: str, lang: str = "en") -> str:
    """A text table decomposing a brand's leadership score for a run date (latest if None)."""
    brand = panel.brand(brand_id)
    d = _score_date(panel, lake, dt)
    scores = [r for r in lake.read("scores", panel.id, d, d).to_pylist() if r["brand_id"] == brand_id]
    if not scores:
        raise BarometerError(f"explain: brand {brand_id} has no score on {d}")
    s = scores[0]
    rows = {r["indicator"]: r for r in lake.read("indicators", panel.id, d, d).to_pylist()
            if r["brand_id"] == brand_id}
    n_brands = lake.read("scores", panel.id, d, d, columns=["brand_id"]).num_rows
    fr = lang == "fr"
    head = (f"{brand.name} — {panel.name} — {d}"
            f"  ({'fenêtre' if fr else 'window'} {s['window_start']} … {s['window_end']})")
    lines = [head, ""]
    cols = ("indicateur" if fr else "indicator", "valeur" if fr else "raw value",
            "transformée" if fr else "transformed", "score", "poids" if fr else "weight",
            "contribution")
    table: list[tuple[str, ...]] = []
    for a in ATTRIBUTES:
        for ind in (i for i in INDICATORS if i.attribute == a.id):
            r = rows.get(ind.id, {})
            name = ind.name_fr if fr else ind.name_en
            raw = _t(fr, "manquant", "missing") if r.get("missing", True) else _fmt(r.get("value"))
            table.append((
                f"  {name}", raw,
                _fmt(r.get("transformed"), 3), _fmt(r.get("score"), 1),
                f"{(r.get('weight') or 0) * 100:.1f} %", _fmt(r.get("contribution") or 0.0, 2),
            ))
        table.append((f"{a.name_fr if fr else a.name_en}", "", "", _fmt(s[a.id], 1), "", ""))
    widths = [max(len(c), *(len(row[i]) for row in table)) for i, c in enumerate(cols)]
    fmt = "  ".join([f"{{:<{widths[0]}}}"] + [f"{{:>{w}}}" for w in widths[1:]])
    lines.append(fmt.format(*cols))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(fmt.format(*row) for row in table)
    lines.append("")
    lead = "Leadership d'opinion" if fr else "Opinion leadership"
    lines.append(f"{lead}: {_fmt(s['leadership'], 1)} / 100"
                 f"   ({'somme des contributions' if fr else 'sum of contributions'}: "
                 f"{_fmt(sum((r.get('contribution') or 0.0) for r in rows.values()), 1)})")
    band = f"{s['rank_low']}–{s['rank_high']}" if s["rank_low"] is not None else "—"
    prev = f", {'rang précédent' if fr else 'previous rank'} {s['rank_prev']}" if s["rank_prev"] else ""
    lines.append(f"{'Rang' if fr else 'Rank'}: {s['rank']} / {n_brands}"
                 f"   ({'bande de sensibilité 5–95 %' if fr else 'sensitivity band 5–95 %'}: {band}{prev})")
    lines.append(f"{'Couverture' if fr else 'Coverage'}: {s['coverage'] * 100:.0f} %"
                 f"   ({panel.scoring.normalisation}, {panel.scoring.aggregation})")
    return "\n".join(lines)


def _cmd(args: argparse.Namespace) -> int:
    try:
        panel = resolve_panel(args.panel)
        dt = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        raise ConfigError(f"explain: --date {args.date!r} is not a date (YYYY-MM-DD)") from None
    print(explain(panel, dt, Lake(args.lake), args.brand, lang=args.lang))
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add the `explain` command to the CLI (`args.func(args) -> int`)."""
    p = subparsers.add_parser("explain", help="decompose a brand's score: indicators, weights, contributions")
    p.add_argument("--panel", required=True, help="panel id or YAML path")
    p.add_argument("--brand", required=True, help="brand id")
    p.add_argument("--date", default=None, help="run date YYYY-MM-DD (default: the latest scored)")
    p.add_argument("--lake", default=DEFAULT_LAKE, help=f"lake URI (default {DEFAULT_LAKE})")
    p.add_argument("--lang", choices=("fr", "en"), default="en", help="language of the table")
    p.set_defaults(func=_cmd)
    return p
