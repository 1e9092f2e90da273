"""`make bench`: every benchmark section in its own process; a table and bench/results.json.

    .venv/bin/python bench/run.py [--scale full|tiny] [--only score,query] [--out bench/results.json]

Sections (one script each, see bench/README.md): score, startup, query, collect, budget,
publish, package. The synthetic lakes are generated once into build/bench/ and reused while their
parameters are unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, WORK, child

SECTIONS = ("score", "startup", "query", "collect", "budget", "publish", "package")
TIMEOUT_S = {"score": 900, "collect": 900, "budget": 1800, "publish": 600, "package": 1200}


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:,.2f}".rstrip("0").rstrip(".")
    if isinstance(v, int):
        return f"{v:,}"
    return "—" if v is None else str(v)


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = [("section", "measure", "value", "unit", "target", "met")]
    for section, measures in results.items():
        for name, m in measures.items():
            if not isinstance(m, dict):
                continue
            met = {True: "yes", False: "NO", None: ""}[m.get("met")]
            rows.append((section, name, fmt(m.get("value")), m.get("unit") or "", m.get("target") or "", met))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = ["  ".join(c.rjust(w) if i == 2 else c.ljust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["full", "tiny"], default="full")
    ap.add_argument("--only", help="comma-separated sections (default: all)")
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--out", type=Path, default=BENCH / "results.json")
    args = ap.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",")] if args.only else list(SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        print(f"bench: unknown section {unknown[0]!r} (choose from {', '.join(SECTIONS)})", file=sys.stderr)
        return 2
    results: dict[str, dict[str, Any]] = {}
    if args.out.exists() and args.only:
        results = json.loads(args.out.read_text())  # refresh only the sections asked for
    elif args.out.exists():  # sections other tools write (`make mutation`: tests) are kept
        results = {k: v for k, v in json.loads(args.out.read_text()).items() if k not in (*SECTIONS, "_meta")}
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    failed = []
    for s in sections:
        print(f"bench: {s} ...", file=sys.stderr, flush=True)
        t = time.perf_counter()
        try:
            res = child([str(BENCH / f"bench_{s}.py"), "--scale", args.scale, "--work", str(args.work)],
                        timeout=TIMEOUT_S.get(s, 600))
            res.pop("child_wall_s", None)
        except Exception as e:  # one section failing must not hide the others
            failed.append(s)
            res = {"error": {"value": None, "unit": "", "target": None, "met": False,
                             "note": str(e)[:500]}}
        res["section_s"] = {"value": round(time.perf_counter() - t, 1), "unit": "s", "target": None,
                            "met": None}
        results[s] = res
        print(f"bench: {s} done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    # Issue 13 names its figures in the collect section; the budget section computes them (its
    # replays take the longest) with the whole cost-fidelity table, and they are quoted here.
    budget, collect = results.get("budget") or {}, results.get("collect")
    if collect is not None:
        collect.update({k: v for k, v in budget.items() if k.startswith(("pharma_daily_cost", "pharma_at_0p5"))})
    results["_meta"] = {
        "scale": args.scale, "total_s": round(time.perf_counter() - t0, 1), "cpus": os.cpu_count(),
        "load_average_at_start": round(load, 2), "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False) + "\n")
    print(table({k: v for k, v in results.items() if not k.startswith("_")}))
    print(f"\n{len(sections)} sections in {results['_meta']['total_s']:.0f} s "
          f"(load average at start {load:.1f} on {os.cpu_count()} CPUs) -> {args.out}")
    missed = [f"{s}.{n}" for s, ms in results.items() if not s.startswith("_")
              for n, m in ms.items() if isinstance(m, dict) and m.get("met") is False]
    if missed:
        print(f"targets not met: {', '.join(missed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
