"""`barometer reparse`: rebuild a date's collect tables from its archived raw pages, no API call.

The pages of the latest collect run for the date (its folder under `raw/panel=<p>/dt=<D>/`) go
through the same `parse.build_tables` as the live run, with the same prior lake rows, so a
reparse of an unchanged archive writes the same rows; after a parser fix it writes the fixed ones.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from barometer.collect import _tagger, prior_posts, write_tables
from barometer.collect.parse import build_tables
from barometer.config import Panel
from barometer.errors import BarometerError
from barometer.lake.store import Lake
from barometer.runs import StageSummary

MANIFEST = "run"  # the first object of each run folder: `00001-run.json.gz`


def latest_run(lake: Lake, panel: str, dt: date) -> tuple[str, list[str]]:
    """(run folder, its page keys in request order) of the latest collect run for the date."""
    runs: dict[str, list[str]] = {}
    for key in lake.list_keys(f"raw/panel={panel}/dt={dt.isoformat()}"):
        folder, _, name = key.rpartition("/")
        runs.setdefault(folder, []).append(name)
    started: dict[str, str] = {}
    for folder, names in runs.items():
        man = next((n for n in names if n.endswith(f"-{MANIFEST}.json.gz")), None)
        if man is not None:
            started[folder] = lake.get_json_gz(f"{folder}/{man}").get("started_at", "")
    if not started:
        raise BarometerError(f"no raw collect pages for panel {panel} on {dt} in {lake.uri}")
    folder = max(started, key=lambda f: (started[f], f))
    return folder, [f"{folder}/{n}" for n in sorted(runs[folder])]


def reparse(panel: Panel, dt: date, lake: Lake) -> StageSummary:
    """Rebuild `accounts`, `posts`, `mentions`, `mention_counts` for (panel, dt) from `raw/`."""
    summary = StageSummary.start("collect", panel.id, dt)
    folder, keys = latest_run(lake, panel.id, dt)
    manifest: dict[str, Any] = lake.get_json_gz(keys[0])
    pages = [p for p in (lake.get_json_gz(k) for k in keys[1:]) if p.get("endpoint") != MANIFEST]
    refresh_days = manifest.get("refresh_days", panel.collection.refresh_days)
    prior = prior_posts(lake, panel.id, dt, int(refresh_days))
    tables, errors = build_tables(panel, pages, prior, _tagger())
    rows = write_tables(lake, panel.id, dt, tables, manifest.get("brands"))
    malformed = sum(1 for p in pages if "body" not in p)
    if malformed:
        errors.append(f"{malformed} raw page(s) hold malformed JSON and were skipped")
    summary.errors = errors
    summary.details = {"rows": rows, "source": folder, "pages": len(pages), "reparse": True}
    # The runs row stays the original run's: a reparse makes no request and bills nothing.
    return summary.finish("ok")


def register(subparsers: Any) -> None:
    """Add `reparse --panel P --date D [--lake URI]` to the CLI."""
    p = subparsers.add_parser("reparse", help="rebuild a date's collect tables from raw/ (no API call)")
    p.add_argument("--panel", required=True, help="panel id or YAML file")
    p.add_argument("--date", required=True, type=date.fromisoformat, help="run date YYYY-MM-DD")
    try:  # the CLI's own --lake option (its default honours BAROMETER_LAKE, read at the edge)
        from barometer.cliargs import lake_arg as _lake_arg

        _lake_arg(p)
    except ImportError:  # pragma: no cover - the library used without its CLI
        p.add_argument("--lake", default="out/lake")
    p.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from barometer.config import resolve_panel

    panel = resolve_panel(args.panel)
    s = reparse(panel, args.date, Lake(args.lake))
    rows = ", ".join(f"{k} {v}" for k, v in s.details["rows"].items())  # type: ignore[attr-defined]
    print(f"reparse {panel.id} {args.date}: {rows} (from {s.details['source']}, no API call)")
    for e in s.errors:
        print(f"  {e}")
    return 0
