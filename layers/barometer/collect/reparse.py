"""`barometer reparse`: rebuild a date's collect tables from its archived raw pages, no API call.

The pages of the latest *complete* collect run for the date (its folder under
`raw/panel=<p>/dt=<D>/`, whose manifest, written last, says its pages are all there) go through
the same `parse.build_tables` as the live run, with the same prior lake rows, and are committed
the same way (`tables.commit`, with the run's completeness from its manifest), so a reparse of
an unchanged archive writes the same rows; after a parser fix it writes the fixed ones. A
folder without a manifest is a run killed mid-way and is skipped. Folders written before
manifests existed count as complete when a `runs` row of the date names them (a run that
finished, and did not fail).
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import Any

import pyarrow.parquet as pq

from barometer.collect import MANIFEST
from barometer.collect.parse import build_tables
from barometer.collect.reads import COMPLETE, SOURCES, Reads
from barometer.collect.tables import commit, prior_posts
from barometer.config import Panel
from barometer.errors import BarometerError
from barometer.lake.store import Lake
from barometer.runs import StageSummary
from barometer.topics import panel_tagger

START = "run"  # the first object of each run folder: `00001-run.json.gz`


def _finished_runs(lake: Lake, panel: str, dt: date) -> set[str]:
    """The run ids of the date's collect rows in `runs` that did not fail (runs that got to their end)."""
    path = f"{lake.partition_path('runs', panel, dt)}/collect.parquet"
    if not lake.exists(path):
        return set()
    t = pq.read_table(path, filesystem=lake.fs, columns=["run_id", "status"]).to_pylist()
    return {r["run_id"] for r in t if r["status"] != "failed"}


def latest_run(lake: Lake, panel: str, dt: date) -> tuple[str, list[str], dict[str, Any] | None, list[str]]:
    """(run folder, its page keys in request order, its manifest or None for a legacy folder,
    the folders skipped as incomplete) of the latest complete collect run for the date."""
    runs: dict[str, list[str]] = {}
    for key in lake.list_keys(f"raw/panel={panel}/dt={dt.isoformat()}"):
        folder, _, name = key.rpartition("/")
        runs.setdefault(folder, []).append(name)
    finished = _finished_runs(lake, panel, dt)
    started: dict[str, str] = {}
    manifests: dict[str, dict[str, Any] | None] = {}
    skipped: list[str] = []
    for folder, names in runs.items():
        start = next((n for n in names if n.endswith(f"-{START}.json.gz")), None)
        if start is None:
            continue
        if MANIFEST in names:
            manifests[folder] = lake.get_json_gz(f"{folder}/{MANIFEST}")
        elif folder.rsplit("/", 1)[-1] in finished:
            manifests[folder] = None  # written before manifests existed, by a run that finished
        else:
            skipped.append(folder)
            continue
        started[folder] = lake.get_json_gz(f"{folder}/{start}").get("started_at", "")
    if not started:
        why = f" ({len(skipped)} without a manifest: runs that did not finish)" if skipped else ""
        raise BarometerError(f"no complete raw collect run for panel {panel} on {dt} in {lake.uri}{why}")
    folder = max(started, key=lambda f: (started[f], f))
    pages = [f"{folder}/{n}" for n in sorted(runs[folder]) if n != MANIFEST]
    return folder, pages, manifests[folder], sorted(skipped)


def _legacy_reads(panel: Panel, dt: date, brands: list[str]) -> Reads:
    """A legacy folder's run is taken as complete: its rows replace the stored ones, as they did."""
    reads = Reads()
    for b in brands:
        for source in SOURCES[1:]:
            reads.add(b, source, dt, dt, COMPLETE)
    return reads


def reparse(panel: Panel, dt: date, lake: Lake) -> StageSummary:
    """Rebuild `accounts`, `posts`, `mentions`, `mention_counts` for (panel, dt) from `raw/`."""
    summary = StageSummary.start("collect", panel.id, dt)
    folder, keys, manifest, skipped = latest_run(lake, panel.id, dt)
    start: dict[str, Any] = lake.get_json_gz(keys[0])
    pages = [p for p in (lake.get_json_gz(k) for k in keys[1:]) if p.get("endpoint") != START]
    refresh_days = start.get("refresh_days", panel.collection.refresh_days)
    prior = prior_posts(lake, panel.id, dt, int(refresh_days))
    tables, errors = build_tables(panel, pages, prior, panel_tagger(panel))
    subset = start.get("brands")
    brands = [b.id for b in panel.brands if subset is None or b.id in subset]
    if manifest is None:
        reads, late, unsaved, run_id = _legacy_reads(panel, dt, brands), None, [], folder.rsplit("/", 1)[-1]
    else:
        reads = Reads.from_json(manifest.get("reads") or [])
        late, run_id = manifest.get("late"), manifest.get("run_id") or folder.rsplit("/", 1)[-1]
        unsaved = [date.fromisoformat(d) for d in manifest.get("unsaved") or ()]
    at = datetime.fromisoformat(start["now"]) if start.get("now") else summary.started_at
    rows, notes = commit(lake, panel, dt, tables, reads, brands, run_id=run_id, recorded_at=at, late=late,
                         unsaved=unsaved, record=manifest is not None)
    malformed = sum(1 for p in pages if "body" not in p)
    if malformed:
        errors.append(f"{malformed} raw page(s) hold malformed JSON and were skipped")
    summary.errors = [*(f"skipped {f}: no manifest (the run did not finish)" for f in skipped), *notes, *errors]
    summary.details = {"rows": rows, "source": folder, "pages": len(pages), "reparse": True,
                       "skipped": skipped}
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
