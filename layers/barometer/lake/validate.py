"""Files that do not match the lake contract, found and named before a stage reads them.

The contract (DESIGN.md): a table folder holds Parquet files only, in Hive partitions
`panel=<id>/dt=<YYYY-MM-DD>/<part>.parquet`, each with the columns of the table's Arrow schema
(`barometer.lake.schemas.SCHEMAS`). What breaks it, and what a reader would otherwise do:

| file | without this check |
|---|---|
| not Parquet (`README.txt`, a `.csv`) in a table folder | the whole table fails to read, no path |
| corrupt or truncated Parquet | ArrowInvalid or EOFError, no path |
| Parquet of another schema (another table's file, a column of another type) | read silently: wrong numbers |
| outside a `panel=/dt=` partition, or `dt=` not a date | read for every panel, or a crash |

```python
bad = check_tables(lake, ("accounts", "posts", "mentions", "mention_counts"), panel.id, start, end)
require_valid(lake, tables, panel.id, start, end)            # LakeContractError naming them
bad = require_valid(..., skip_bad_files=True)                 # or leave them out:
lake = without(lake, bad)                                     # reads skip them (missing data)
```

Schemas are checked leniently where a reader is: a file may lack a column that the schema gained
later (a lake written before `network` existed stays valid; readers fill it in), except the
table's key columns (`REQUIRED`); a column it has must be of the schema's type or one that casts
to it without loss (int32 → int64, string ↔ large_string or dictionary, timestamp of any unit,
list of strings); a column the schema does not have is a wrong schema. Files and folders whose
name starts with `.` or `_` (temporary files, markers) are ignored, as the lake's readers do.

Checking reads each file's footer only (one small ranged read; on S3, `workers` at once);
`deep=True` reads the whole file, which also finds a corrupt data page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING

import pyarrow.dataset as ds

from barometer.lake.contract import DEFAULT_HINT, BadFile, LakeContractError, contract_message
from barometer.lake.store import Lake

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["REQUIRED", "BadFile", "LakeContractError", "LakeWithout", "check_table", "check_tables", "compatible",
           "contract_message", "parquet_problem", "require_valid", "schema_problems", "without"]

# Columns a file of the table must have: they identify its rows. Other schema columns may be
# missing from files written before the column existed.
REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("brand_id", "account_id", "followers", "collected_at"),
    "posts": ("post_id", "brand_id", "created_at", "observed_at"),
    "mentions": ("post_id", "brand_id", "created_at", "observed_at"),
    "mention_counts": ("brand_id", "day", "mentions"),
    "indicators": ("brand_id", "indicator", "value"),
    "scores": ("brand_id", "leadership", "rank"),
    "topics": ("brand_id", "source", "topic", "items"),
    "runs": ("run_id", "stage", "status"),
}


def check_tables(lake: Lake, tables: Iterable[str], panel: str, start: date | None = None,
                 end: date | None = None, *, deep: bool = False, workers: int = 16) -> list[BadFile]:
    """Bad files of the tables that a read of (panel, start..end) would meet: files of the
    panel's partitions in the date range, and files outside any `panel=` folder (a reader of
    any panel meets those). Sorted by key."""
    found = [c for t in tables for c in _candidates(lake, t, panel, start, end)]
    checks = [(t, k, r) for t, k, r in found if r is None]
    bad = [BadFile(t, k, _location(lake, k), r) for t, k, r in found if r is not None]
    if checks:
        def one(item: tuple[str, str, str | None]) -> BadFile | None:
            t, k, _ = item
            reason = parquet_problem(lake, t, k, deep=deep)
            return BadFile(t, k, _location(lake, k), reason) if reason else None

        if lake.local or workers <= 1 or len(checks) == 1:
            results = [one(c) for c in checks]
        else:
            with ThreadPoolExecutor(max_workers=min(workers, len(checks))) as pool:
                results = list(pool.map(one, checks))
        bad += [b for b in results if b is not None]
    return sorted(bad, key=lambda b: b.key)


def check_table(lake: Lake, table: str, panel: str, start: date | None = None, end: date | None = None,
                *, deep: bool = False, workers: int = 16) -> list[BadFile]:
    """`check_tables` for one table."""
    return check_tables(lake, (table,), panel, start, end, deep=deep, workers=workers)


def require_valid(lake: Lake, tables: Iterable[str], panel: str, start: date | None = None,
                  end: date | None = None, *, skip_bad_files: bool = False, hint: str = DEFAULT_HINT,
                  deep: bool = False) -> list[BadFile]:
    """The bad files of `check_tables`; raises `LakeContractError` naming them unless
    `skip_bad_files` (the caller then leaves them out of its reads: `without(lake, bad)`)."""
    bad = check_tables(lake, tables, panel, start, end, deep=deep)
    if bad and not skip_bad_files:
        raise LakeContractError(contract_message(bad, hint), bad)
    return bad


class LakeWithout(Lake):
    """A view of a lake whose table reads (`read`, `dataset`) leave some files out: what they
    held is then missing data. Everything else is the lake's own."""

    def __init__(self, lake: Lake, keys: Iterable[str]) -> None:  # a copy of the lake, not a new one
        self.__dict__.update(vars(lake))
        self.excluded = frozenset(lake.path(k) for k in keys)

    def dataset(self, table: str, dictionary: tuple[str, ...] = ()) -> ds.Dataset:
        dset = super().dataset(table, dictionary)
        if not self.excluded or not isinstance(dset, ds.FileSystemDataset):
            return dset
        # Listing fragments opens no file; each keeps its partition expression (panel, dt).
        frags = [f for f in dset.get_fragments() if f.path not in self.excluded]
        return ds.FileSystemDataset(frags, dset.schema, dset.format, dset.filesystem)


def without(lake: Lake, bad: Iterable[BadFile | str]) -> Lake:
    """The lake, reading its tables without these files (bad files, or keys relative to the
    root): how a stage told to skip bad files reads around them."""
    keys = [b.key if isinstance(b, BadFile) else b for b in bad]
    if isinstance(lake, LakeWithout):
        n = len(lake.root) + 1
        keys += [p[n:] for p in lake.excluded]
    return LakeWithout(lake, keys) if keys else lake


def _location(lake: Lake, key: str) -> str:
    return f"{lake.uri.rstrip('/')}/{key}"


def _ignored(name: str) -> bool:
    return name.startswith((".", "_"))


def _candidates(lake: Lake, table: str, panel: str, start: date | None,
                end: date | None) -> Iterator[tuple[str, str, str | None]]:
    """(table, key, reason) of the files a read of the panel meets: reason None for a Parquet
    file to open, else why it is bad without opening it."""
    import pyarrow.fs as pafs

    base = lake.path(table)
    if not lake.exists(base):
        return
    n = len(lake.root) + 1

    def listing(path: str, recursive: bool = False) -> list[pafs.FileInfo]:
        sel = pafs.FileSelector(path, recursive=recursive)
        return sorted(lake.fs.get_file_info(sel), key=lambda i: i.path)

    def files_under(path: str) -> Iterator[str]:
        for info in listing(path, recursive=True):
            rel = info.path[len(path) + 1:]
            if info.type == pafs.FileType.File and not any(_ignored(p) for p in rel.split("/")):
                yield info.path

    def file_reason(name: str) -> str | None:
        return None if name.endswith(".parquet") else "not a Parquet file (a table folder holds .parquet files only)"

    for top in listing(base):
        name = top.base_name
        if _ignored(name):
            continue
        if top.type == pafs.FileType.File:
            yield table, top.path[n:], file_reason(name) or "outside any panel=<id>/dt=<date> partition"
        elif name.startswith("panel="):
            if name != f"panel={panel}":
                continue  # another panel's partitions: a read of this panel never opens them
            for info in listing(top.path):
                sub = info.base_name
                if _ignored(sub):
                    continue
                if info.type == pafs.FileType.File:
                    yield table, info.path[n:], file_reason(sub) or "outside any dt=<date> partition"
                    continue
                try:
                    if not sub.startswith("dt="):
                        raise ValueError
                    d = date.fromisoformat(sub[3:])
                except ValueError:
                    for f in files_under(info.path):
                        yield table, f[n:], f"in folder {sub!r}, not a dt=<YYYY-MM-DD> partition"
                    continue
                if (start is not None and d < start) or (end is not None and d > end):
                    continue
                for f in files_under(info.path):
                    rel = f[len(info.path) + 1:]
                    reason = file_reason(f.rsplit("/", 1)[-1])
                    if reason is None and "/" in rel:
                        reason = "in a sub-folder of its dt= partition"
                    yield table, f[n:], reason
        else:
            for f in files_under(top.path):
                yield table, f[n:], file_reason(f.rsplit("/", 1)[-1]) or \
                    f"in folder {name!r}, not a panel=<id> partition"


def parquet_problem(lake: Lake, table: str, key: str, *, deep: bool = False) -> str | None:
    """Why the Parquet file `key` (relative to the lake root) does not fit `table`, or None."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with lake.fs.open_input_file(lake.path(key)) as f:
            pf = pq.ParquetFile(f)
            schema = pf.schema_arrow
            if deep:
                pf.read()
    except (OSError, ValueError, EOFError, pa.ArrowException) as e:
        msg = " ".join(str(e).split()) or type(e).__name__
        return f"not readable as Parquet ({msg})"
    problems = schema_problems(schema, table)
    return f"wrong schema for table {table}: {'; '.join(problems)}" if problems else None


def schema_problems(actual: pa.Schema, table: str) -> list[str]:
    """How a file's schema breaks the table's (empty when it fits; see the module doc)."""
    from barometer.lake.schemas import SCHEMAS

    expected = SCHEMAS[table]
    out = []
    extra = [n for n in actual.names if n not in expected.names]
    if extra:
        out.append(f"column(s) not in the schema: {', '.join(extra)}")
    missing = [n for n in REQUIRED.get(table, ()) if n not in actual.names]
    if missing:
        out.append(f"missing key column(s): {', '.join(missing)}")
    for field in expected:
        i = actual.get_field_index(field.name)
        if i >= 0 and not compatible(actual.field(i).type, field.type):
            out.append(f"column {field.name} is {actual.field(i).type}, expected {field.type}")
    return out


def compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type `actual` reads as `expected` without loss."""
    import pyarrow as pa

    t = pa.types
    if actual == expected:
        return True
    if t.is_dictionary(actual):
        return compatible(actual.value_type, expected)
    if t.is_string(expected) or t.is_large_string(expected):
        return t.is_string(actual) or t.is_large_string(actual)
    if t.is_integer(expected):
        return t.is_integer(actual) and actual.bit_width <= expected.bit_width and (
            t.is_signed_integer(actual) or actual.bit_width < expected.bit_width)
    if t.is_floating(expected):
        return t.is_floating(actual) and actual.bit_width <= expected.bit_width
    if t.is_timestamp(expected):
        return t.is_timestamp(actual) and actual.tz == expected.tz
    if t.is_date(expected):
        return t.is_date(actual)
    if t.is_list(expected) or t.is_large_list(expected):
        return (t.is_list(actual) or t.is_large_list(actual)) and compatible(actual.value_type,
                                                                             expected.value_type)
    return False
