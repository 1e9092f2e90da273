"""`barometer reparse`: rebuild a date's collect tables from its archived raw pages, no API call.

The pages of the latest *complete* collect run for the date (its folder under
`raw/panel=<p>/dt=<D>/`, whose manifest, written last, says its pages are all there) go through
the same `parse.build_tables` as the live run, with the same prior lake rows, and are committed
the same way (`tables.commit`, with the run's completeness from its manifest), so a reparse of
an unchanged archive writes the same rows; after a parser fix it writes the fixed ones. A
folder without a manifest is a run killed mid-way and is skipped. Folders written before
manifests existed count as complete when a `runs` row of the date names them (a run that
finished, and did not fail).

Bluesky (a panel with Bluesky accounts): the collector archives its pages under
`raw/bluesky/panel=<p>/dt=<D>/` and writes their manifest last (with the run's clock and whether
it logged in). Reparse replays `bluesky.runner`'s own loop on those pages, in request order,
from the Bluesky state before the date (each request must be the archived one), and writes the
rows as the partitions' `bluesky` part, as the run did: X's part is left alone. A rerun of the
date's collection replaces the archive, so the latest finished run is the one replayed.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pyarrow.parquet as pq

from barometer.collect import MANIFEST
from barometer.collect.bluesky import runner as bsky
from barometer.collect.bluesky.fetch import Reader, Stop
from barometer.collect.parse import build_tables
from barometer.collect.reads import COMPLETE, SOURCES, Reads
from barometer.collect.tables import COLLECT_TABLES, commit, prior_posts
from barometer.config import Panel
from barometer.errors import BarometerError, ConfigError
from barometer.lake.store import Lake
from barometer.runs import StageSummary
from barometer.topics import panel_tagger

START = "run"  # the first object of each run folder: `00001-run.json.gz`
BSKY_MANIFEST = "_manifest.json.gz"  # written last under raw/bluesky/panel=<p>/dt=<D>/ by `bluesky.runner`


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


def _reparse_x(panel: Panel, dt: date, lake: Lake, summary: StageSummary) -> dict[str, Any]:
    """X's part: the latest complete run folder through `build_tables` and `commit`, as the live run."""
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
    summary.errors += [*(f"skipped {f}: no manifest (the run did not finish)" for f in skipped), *notes, *errors]
    return {"rows": rows, "source": folder, "pages": len(pages), "skipped": skipped}


class _Replay(Reader):
    """A Bluesky `Reader` answering from a run's archived pages, in request order, with no client:
    each request must be the one the run made (same endpoint, same parameters); past the last
    page the replay stops where the run stopped (its deadline, a 429, an error)."""

    def __init__(self, lake: Lake, prefix: str, pages: list[tuple[str, dict[str, Any]]]) -> None:
        super().__init__(client=None, lake=lake, raw_prefix=prefix)
        self.archived = pages

    def call(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.requests >= len(self.archived):
            raise Stop("end of the archived pages")
        key, page = self.archived[self.requests]
        if page.get("endpoint") != endpoint or page.get("params") != params:
            held = page.get("endpoint")
            what = f"{endpoint} with other parameters" if held == endpoint else f"{held}, not {endpoint}"
            raise BarometerError(f"bluesky: {key} holds {what}: the panel or the Bluesky state before the date "
                                 "changed since the run; collect the date again")
        self.requests += 1
        self.pages.append(key)
        return dict(page.get("page") or {})


def bluesky_run(lake: Lake, panel: str, dt: date) -> tuple[str, list[str], dict[str, Any]]:
    """(raw prefix, page keys in request order, manifest) of the date's Bluesky collection: its
    manifest is written last, after the rows and the state, so it marks a run that finished."""
    prefix = f"raw/{bsky.PART}/panel={panel}/dt={dt.isoformat()}"
    key = f"{prefix}/{BSKY_MANIFEST}"
    if not lake.exists(lake.path(key)):
        raise BarometerError(f"no complete raw Bluesky collect run for panel {panel} on {dt} in {lake.uri}"
                             f" (no {key})")
    manifest: dict[str, Any] = lake.get_json_gz(key)
    if not manifest.get("now"):
        raise BarometerError(f"{key}: written before reparse could replay it (no run clock): collect the date again")
    return prefix, list(manifest.get("pages") or []), manifest


def _reparse_bluesky(panel: Panel, dt: date, lake: Lake) -> dict[str, Any]:
    """Bluesky's part: the run replayed on its archived pages (`bluesky.runner`'s own loop, the
    state before the date as the run read it), its rows written as the partitions' `bluesky` part."""
    prefix, keys, manifest = bluesky_run(lake, panel.id, dt)
    try:
        pages = [(k, lake.get_json_gz(k)) for k in keys]
    except OSError as e:  # a page its manifest lists is gone (a corrupt one is a LakeContractError)
        raise BarometerError(f"bluesky: a raw page of {prefix} cannot be read ({type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''}); collect the date again") from None
    bp = panel.on_network("bluesky")
    asked = next((set(p["params"].get("actors") or ()) for _, p in pages
                  if p.get("endpoint") == "app.bsky.actor.getProfiles"), set())
    # A run over a brand subset asked for those brands' profiles only.
    brands = [b for b in bp.brands if any(a.handle in asked for a in b.accounts)]
    bp = bp.model_copy(update={"brands": brands})
    state = bsky._state_before(lake, panel.id, dt)
    res, reader = bsky.BlueskyResult(), _Replay(lake, prefix, pages)
    day0 = datetime.combine(dt, datetime.min.time())
    at = datetime.fromisoformat(manifest["now"])
    with contextlib.suppress(Stop):  # past the archived pages: the run stopped there too
        bsky._run(bp, dt, res, reader, state, {"feeds": dict(state.get("feeds", {}))},
                  bool(manifest.get("authed")), day0, at)
    if reader.requests < len(pages):
        raise BarometerError(f"bluesky: the replay of {prefix} used {reader.requests} of its {len(pages)} pages: "
                             "the Bluesky state before the date changed since the run; collect the date again")
    bsky._write(lake, panel.id, dt, res)
    rows = {t: len(res.rows[t]) for t in (*COLLECT_TABLES, "completeness") if t in res.rows}
    return {"rows": rows, "source": prefix, "pages": len(pages), "skipped": []}


def _networks(panel: Panel, only: Sequence[str] | None) -> list[str]:
    nets = list(panel.networks) or ["x"]
    for n in only or ():
        if n not in nets:
            raise ConfigError(f"reparse: panel {panel.id} has no account on {n} (its networks: {', '.join(nets)})")
    return [n for n in nets if only is None or n in only]


def reparse(panel: Panel, dt: date, lake: Lake, networks: Sequence[str] | None = None) -> StageSummary:
    """Rebuild the collect tables of (panel, dt) from `raw/`, for every network of the panel (or
    `networks`): X's `accounts`, `posts`, `mentions`, `mention_counts` and `completeness`, and the
    same tables' `bluesky` part. A network whose archive cannot be replayed is one error line, the
    others are still rebuilt; on a panel of one network, its error is raised."""
    summary = StageSummary.start("collect", panel.id, dt)
    nets = _networks(panel, networks)
    multi = len(panel.networks) > 1
    done: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for net in nets:
        before = len(summary.errors)
        try:
            if net == "x":
                done[net] = _reparse_x(panel.on_network("x") if multi else panel, dt, lake, summary)
            else:
                done[net] = _reparse_bluesky(panel, dt, lake)
        except BarometerError as e:
            if len(nets) == 1:
                raise
            summary.errors.append(str(e))
            failed.append(net)
        if multi:  # a network's own lines, prefixed with its name as the live run's are
            own = summary.errors[before:]
            summary.errors[before:] = [e if e.startswith(f"{net}: ") else f"{net}: {e}" for e in own]
    if not done:
        raise BarometerError(" ".join(e for e in summary.errors if e.startswith(tuple(f"{n}: " for n in failed))))
    summary.details = {**done.get("x", next(iter(done.values()))), "reparse": True, "networks": done}
    # The runs row stays the original run's: a reparse makes no request and bills nothing.
    return summary.finish("partial" if failed else "ok")


def register(subparsers: Any) -> None:
    """Add `reparse --panel P --date D [--network N] [--lake URI]` to the CLI."""
    p = subparsers.add_parser("reparse", help="rebuild a date's collect tables from raw/ (no API call)")
    p.add_argument("--panel", required=True, help="panel id or YAML file")
    p.add_argument("--date", required=True, type=date.fromisoformat, help="run date YYYY-MM-DD")
    p.add_argument("--network", choices=("x", "bluesky"), action="append",
                   help="rebuild this network's rows only (repeatable; default: every network of the panel)")
    try:  # the CLI's own --lake option (its default honours BAROMETER_LAKE, read at the edge)
        from barometer.cliargs import lake_arg as _lake_arg

        _lake_arg(p)
    except ImportError:  # pragma: no cover - the library used without its CLI
        p.add_argument("--lake", default="out/lake")
    p.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from barometer.config import resolve_panel

    panel = resolve_panel(args.panel)
    s = reparse(panel, args.date, Lake(args.lake), args.network)
    nets: dict[str, dict[str, Any]] = s.details["networks"]  # type: ignore[assignment]
    for net, d in nets.items():
        rows = ", ".join(f"{k} {v}" for k, v in d["rows"].items())
        label = f" {net}" if len(panel.networks) > 1 else ""
        print(f"reparse {panel.id} {args.date}{label}: {rows} (from {d['source']}, no API call)")
    for e in s.errors:
        print(f"  {e}")
    return 0 if s.status == "ok" else 3
