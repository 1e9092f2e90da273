"""The collect tables of one run date: reading what the lake holds, and committing a run's rows.

`commit` writes a run's rows (live, or rebuilt by `reparse`) so that a rerun is always safe:

- per table and brand, a brand the run read completely (see `reads.Reads`) has its rows of
  the partition replaced; a brand it could not read completely keeps its stored rows, merged
  by key with the new ones (latest observation wins): a failed, stopped or late rerun loses
  nothing;
- a run made after the day following the run date (late) writes no `accounts` rows, and adds
  to the other tables only the keys the partition lacks: a followers snapshot, like a post's
  metrics, belongs to the time it was observed and a later read never rewrites it;
- `mentions` and `mention_counts` rows already stored in the partitions of a run that never
  saved its cursors (a crash between the table writes and the state write) are not written
  again: the next run re-reads them, and they would be counted twice;
- the run's `completeness` rows are merged into the partition's, the best status of a key
  winning (stored rows a failed rerun kept are still complete).

Order of the writes: the four tables, then `completeness`, then (by the caller) the cursor
state and the `runs` row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from barometer.collect.reads import COMPLETE, NONE, PARTIAL, RANK, SOURCE_TABLE, Reads
from barometer.config import Panel
from barometer.lake.merge import combine, drop_keys, key_strings, latest_per_key
from barometer.lake.store import Lake

COLLECT_TABLES = ("accounts", "posts", "mentions", "mention_counts")
TABLE_SOURCE = {t: s for s, t in SOURCE_TABLE.items()}
# Key columns and observation time of each table's rows (accounts: see `_account_key`).
KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accounts": (("brand_id", "_account"), ("collected_at",)),
    "posts": (("brand_id", "post_id"), ("observed_at",)),
    "mentions": (("brand_id", "post_id"), ("observed_at",)),
    "mention_counts": (("brand_id", "day"), ()),
}
# Tables with one row per entity (not per observation): never stored twice across partitions.
ONCE = ("mentions", "mention_counts")
COMPLETENESS_KEYS = ("brand_id", "network", "source", "day")

def prior_posts(lake: Lake, panel: str, dt: date, days: int) -> dict[str, dict[str, Any]]:
    """Latest lake row per post among the posts partitions of the `days`+1 dates before `dt`.

    Posts young enough to refresh were first stored at a date ≥ their creation day, so this
    short range holds all of them; reading partitions by path avoids a dataset scan of the
    whole table on every run.
    """
    out: dict[str, dict[str, Any]] = {}
    for i in range(days + 1, 0, -1):  # oldest first: later observations overwrite earlier ones
        path = f"{lake.partition_path('posts', panel, dt - timedelta(days=i))}/data.parquet"
        for row in _partition_rows(lake, path):
            out[row["post_id"]] = row
    return out


# Rows of recently read partition files, keyed by path, size and mtime: consecutive daily runs
# in one process (the demo, a backfill loop) read each file once instead of refresh_days times.
_PART_CACHE: dict[tuple[str, int, int], list[dict[str, Any]]] = {}


def _partition_rows(lake: Lake, path: str) -> list[dict[str, Any]]:
    info = lake.fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        return []
    key = (path, info.size or 0, info.mtime_ns or 0)
    rows = _PART_CACHE.get(key)
    if rows is None or not lake.local:
        with lake.fs.open_input_file(path) as f:
            rows = pq.ParquetFile(f).read().to_pylist()
        if lake.local:  # S3 mtimes are coarse: cache only where a rewrite always changes the key
            if len(_PART_CACHE) > 256:
                _PART_CACHE.clear()
            _PART_CACHE[key] = rows
    return [dict(r) for r in rows]


def stored(lake: Lake, table: str, panel: str, dt: date) -> pa.Table | None:
    """The stored rows of one partition (its `data` part), or None."""
    path = f"{lake.partition_path(table, panel, dt)}/data.parquet"
    return pq.read_table(path, filesystem=lake.fs) if lake.exists(path) else None


def unsaved_dates(lake: Lake, panel: str, dt: date, prior: dict[str, Any]) -> list[date]:
    """Run dates whose `mentions`/`mention_counts` rows this run may read again.

    The run starts from the state of the latest run before `dt` (`prior`, dated `prior["dt"]`);
    a partition dated between the two was written by a run that never saved its state. When
    that state left a gap, the gap may have been partly read since (a rerun): its own date too.
    """
    since = prior.get("dt")
    if since is None:
        return []
    first = date.fromisoformat(since)
    gaps = any((v or {}).get("gap") for v in prior.get("mentions", {}).values())
    return sorted({d for t in ONCE for d in lake.partitions(t, panel)
                   if first < d < dt or (gaps and d == first)})


def profile_spans(panel: Panel, dt: date, accounts: pa.Table, reads: Reads, brands: Iterable[str],
                  late: str | None) -> None:
    """Record the `profiles` source: complete when every panel account of the brand has a row."""
    got: dict[str, int] = {}
    for b in accounts["brand_id"].to_pylist():
        got[b] = got.get(b, 0) + 1
    for b in brands:
        want = len(panel.brand(b).accounts)
        n = got.get(b, 0)
        if late:
            reads.add(b, "profiles", dt, dt, NONE, late)
        else:
            status = COMPLETE if n >= want else PARTIAL if n else NONE
            reads.add(b, "profiles", dt, dt, status, "profile not read")


def _account_key(t: pa.Table) -> pa.Table:
    handle = pc.utf8_lower(pc.fill_null(t["handle"], ""))
    return t.append_column("_account", pc.coalesce(t["account_id"], pc.binary_join_element_wise("@", handle, "")))


def _write_table(lake: Lake, panel: str, dt: date, name: str, new: pa.Table, replace: set[str],
                 keep_stored: bool) -> int:
    keys, order = KEYS[name]
    old = stored(lake, name, panel, dt)
    if name == "accounts":
        final = combine(_account_key(old) if old is not None else None, _account_key(new), replace, keys, order)
        final = final.drop_columns(["_account"])
    else:
        final = combine(old, new, replace, keys, order, keep_stored)
    lake.write_partition(name, panel, dt, final)
    return final.num_rows


def _drop_stored(lake: Lake, panel: str, name: str, new: pa.Table, dates: list[date]) -> tuple[pa.Table, int]:
    keys = KEYS[name][0]
    parts = [t for t in (stored(lake, name, panel, d) for d in dates) if t is not None and t.num_rows]
    if not parts:
        return new, 0
    have = pa.concat_arrays([key_strings(t, keys) for t in parts])
    return drop_keys(new, have, keys)


def write_completeness(lake: Lake, panel: str, dt: date, new: pa.Table) -> int:
    """Merge a run's completeness rows into the partition's: per key the best status, then the latest."""
    old = stored(lake, "completeness", panel, dt)
    both = new if old is None else pa.concat_tables([old.select(new.schema.names).cast(new.schema), new])
    ranked = both.append_column("_rank", pc.fill_null(
        pc.index_in(both["status"], value_set=pa.array(sorted(RANK, key=RANK.__getitem__))), -1))
    final = latest_per_key(ranked, COMPLETENESS_KEYS, ("_rank", "recorded_at")).drop_columns(["_rank"])
    lake.write_partition("completeness", panel, dt, final)
    return final.num_rows


def commit(lake: Lake, panel: Panel, dt: date, tables: dict[str, pa.Table], reads: Reads,
           brands: list[str], *, run_id: str, recorded_at: datetime, late: str | None = None,
           unsaved: list[date] | None = None, record: bool = True,
           merge: bool = False) -> tuple[dict[str, int], list[str]]:
    """Write a run's rows for (panel, dt) as the module doc says; returns rows per table and
    one line per thing kept or skipped. `record=False` leaves `completeness` alone (a reparse of
    a run from before that table: its reads are unknown). `merge=True` (a resumed invocation of
    the date, which read only what earlier ones left) replaces no rows: it merges them by key."""
    notes: list[str] = []
    profile_spans(panel, dt, tables["accounts"], reads, brands, late)
    complete = reads.complete()
    rows: dict[str, int] = {}
    for name in COLLECT_TABLES:
        new = tables[name]
        if name in ONCE and unsaved:
            new, n = _drop_stored(lake, panel.id, name, new, unsaved)
            if n:
                notes.append(f"{name}: {n} row(s) already stored under {', '.join(map(str, unsaved))} "
                             "(a run that did not save its cursors) not written again")
        if name == "accounts" and late:
            notes.append(f"accounts of {dt} not written: {late}; the stored snapshot is kept, and the "
                         "other tables only gain rows they lacked")
            old = stored(lake, name, panel.id, dt)
            rows[name] = old.num_rows if old is not None else 0
            continue
        replace = set() if merge else complete[TABLE_SOURCE[name]]
        rows[name] = _write_table(lake, panel.id, dt, name, new, replace, late is not None)
    for source, why in reads.incomplete().items():
        if why and not (source == "profiles" and late):
            names = sorted(why)
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            notes.append(f"{SOURCE_TABLE[source]} of {dt}: not read completely for {', '.join(names[:3])}{more} "
                         f"({why[names[0]]}): their stored rows are kept, the new ones merged by key")
    if record:
        rows["completeness"] = write_completeness(lake, panel.id, dt, reads.table(run_id, recorded_at))
    return rows, notes
