"""Incremental builds: a published date's permanent files are rebuilt only when they would change.

Each published date owns two units:
- its **archive pages** (every language): they depend on the date's `scores` part files, the
  previous and next published dates (the pager), whether its downloads exist, the build
  version (this package's code, templates and static files) and the options shown on pages;
- its **downloads** (`scores`, `indicators`, `topics` as CSV and JSON): they depend on the
  date's part files of those tables and the build version.
Fingerprints of both (part files: path, size and mtime, from one listing per table) and the
units' keys are kept in `site-manifest.json` at the site root, uploaded last. A run rebuilds
the units that are new, changed, or whose files went missing from the target.

Downloads are the bulk of a site with a long history (1,000 brands × 365 dates ≈ 2,900 files,
about 3 GB), so a run converts at most `budget_bytes` of lake part files into downloads, newest
dates first (the run date's always); older dates follow on the next runs, and until then their
row on the data page says the files are being prepared. Every run is thus bounded in time and
memory, the first publication of a long history included.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

import barometer
from barometer.lake.store import Lake

UNIT_TABLES = ("scores", "indicators", "topics")
MANIFEST_VERSION = 2
DEFAULT_BUDGET_BYTES = 4 * 2**20  # lake part files converted into downloads per run


@cache
def build_version() -> str:
    """Hash of the publish package (code, templates, static files) and the library version."""
    h = hashlib.sha256(barometer.__version__.encode())
    here = Path(__file__).resolve().parent
    for p in sorted(here.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".j2", ".css", ".js", ".svg"):
            h.update(str(p.relative_to(here)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Source:
    fp: str  # hash of the part files' path, size and mtime
    size: int  # bytes of part files


def source_fingerprints(lake: Lake, panel: str, tables: tuple[str, ...] = UNIT_TABLES
                        ) -> dict[date, dict[str, Source]]:
    """Per date and table, a fingerprint of its part files (one listing per table)."""
    parts: dict[date, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    sizes: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for table in tables:
        base = lake.path(table, f"panel={panel}")
        if not lake.exists(base):
            continue
        for info in lake.fs.get_file_info(pafs.FileSelector(base, recursive=True)):
            if info.type != pafs.FileType.File or "/dt=" not in info.path:
                continue
            name = info.path.rsplit("/", 1)[-1]
            if name.startswith((".", "_")):
                continue
            day = info.path.split("/dt=", 1)[1].split("/", 1)[0]
            try:
                d = date.fromisoformat(day)
            except ValueError:
                continue
            mtime = info.mtime_ns if info.mtime_ns is not None else 0
            parts[d][table].append(f"{name}:{info.size}:{mtime}")
            sizes[d][table] += info.size or 0
    return {d: {t: Source(hashlib.sha256("\n".join(sorted(v)).encode()).hexdigest()[:16], sizes[d][t])
                for t, v in by_table.items()} for d, by_table in parts.items()}


def _h(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@dataclass
class Plan:
    """What a run builds: archive pages and downloads of which dates, with their fingerprints."""

    page_dates: set[date]
    data_dates: set[date]
    downloads: set[date]  # dates whose downloads exist after this run (built now or kept)
    pending: list[date]  # dates whose downloads wait for a later run (budget)
    page_fps: dict[date, str] = field(default_factory=dict)
    data_fps: dict[date, str] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)
    existing: set[str] = field(default_factory=set)  # keys the target holds before this run


def plan(dates: list[date], dt: date, sources: dict[date, dict[str, Source]], options_key: str,
         manifest: dict[str, Any], existing: dict[str, Any],
         budget_bytes: int = DEFAULT_BUDGET_BYTES) -> Plan:
    version = build_version()
    entries = manifest.get("dates", {})

    def kept(d: date, kind: str, fp: str) -> bool:
        e = entries.get(d.isoformat()) or {}
        return e.get(kind) == fp and all(k in existing for k in e.get(f"{kind}_keys", []))

    data_fps = {d: _h(version, *(f"{t}={sources.get(d, {}).get(t, Source('', 0)).fp}" for t in UNIT_TABLES))
                for d in dates}
    stale = sorted((d for d in dates if not kept(d, "data", data_fps[d])), reverse=True)
    data_dates: set[date] = set()
    spent = 0
    for d in stale:  # newest first; the run date always
        size = sum(s.size for s in sources.get(d, {}).values())
        if d != dt and data_dates and spent + size > budget_bytes:
            continue
        data_dates.add(d)
        spent += size
    pending = [d for d in stale if d not in data_dates]

    def has_old(d: date) -> bool:  # files of an earlier build, kept online until refreshed
        keys = (entries.get(d.isoformat()) or {}).get("data_keys") or []
        return bool(keys) and all(k in existing for k in keys)

    downloads = {d for d in dates if d not in pending or has_old(d)}
    page_fps = {}
    for i, d in enumerate(dates):
        prev = dates[i - 1].isoformat() if i > 0 else ""
        nxt = dates[i + 1].isoformat() if i + 1 < len(dates) else ""
        scores_fp = sources.get(d, {}).get("scores", Source("", 0)).fp
        page_fps[d] = _h(version, options_key, scores_fp, prev, nxt, str(d in downloads))
    page_dates = {d for d in dates if not kept(d, "page", page_fps[d])}
    return Plan(page_dates, data_dates, downloads, pending, page_fps, data_fps, manifest, set(existing))


def full_plan(dates: list[date]) -> Plan:
    """Build everything (no manifest): every date's archive pages and downloads."""
    return Plan(set(dates), set(dates), set(dates), [])


def read_manifest(raw: bytes | None) -> dict[str, Any]:
    empty: dict[str, Any] = {"version": MANIFEST_VERSION, "dates": {}}
    if not raw:
        return empty
    try:
        m = json.loads(raw)
    except ValueError:
        return empty
    if (not isinstance(m, dict) or m.get("version") != MANIFEST_VERSION
            or not isinstance(m.get("dates"), dict)):
        return empty
    return m


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, sort_keys=True, separators=(",", ":")) + "\n").encode()
