"""Lake I/O on a local folder (`file://`) or S3 (`s3://`), through pyarrow's filesystems.

Layout: `<root>/<table>/panel=<id>/dt=<YYYY-MM-DD>/<part>.parquet`. Each part file is written
whole and atomically (a local rename, or a single S3 PUT/multipart completion), so a rerun of
a date replaces that date's rows instead of adding to them, and a reader never sees half a file.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import uuid
import zlib
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from barometer.errors import ConfigError
from barometer.lake.contract import LakeContractError
from barometer.lake.schemas import PARTITION_KEYS, SCHEMAS

_DICT_STR = pa.dictionary(pa.int32(), pa.string())
_EPOCH = date(1970, 1, 1)
# A filter naming a partition field: a read of the files prunes files with it (CachedLake).
_PARTITION_FIELD = re.compile(r"\b(dt|panel)\b")
# Columns a table gained after it had writers: a writer that omits them writes nulls (as old
# partitions read), instead of failing.
_LATER: dict[str, tuple[str, ...]] = {"scores": ("days_collected", "provisional"),
                                       "mentions": ("author_prev_day", "author_lookback_from")}


@dataclass(frozen=True)
class S3Options:
    endpoint_url: str | None = None  # e.g. a moto server, http://127.0.0.1:5000
    region: str = "eu-west-3"
    access_key: str | None = None
    secret_key: str | None = None


def filesystem_for(uri: str, s3: S3Options | None = None) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem and root path for a lake URI (file://, plain path or s3://)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        path = os.path.abspath(parsed.path if parsed.scheme else uri)
        return pafs.LocalFileSystem(), path
    if parsed.scheme == "s3":
        opts = s3 or S3Options()
        kwargs: dict[str, Any] = {"region": opts.region}
        if opts.endpoint_url:
            ep = urlparse(opts.endpoint_url)
            kwargs.update(endpoint_override=ep.netloc, scheme=ep.scheme or "https")
        if opts.access_key:
            kwargs.update(access_key=opts.access_key, secret_key=opts.secret_key)
        return pafs.S3FileSystem(**kwargs), f"{parsed.netloc}{parsed.path}".rstrip("/")
    raise ConfigError(f"lake URI {uri!r}: scheme must be file:// or s3://")


def with_network(t: pa.Table) -> pa.Table:
    """`t` with its `network` column's nulls read as `x` (files written before the column
    existed: every such row came from X)."""
    i = t.schema.get_field_index("network")
    if i < 0 or t.column(i).null_count == 0:
        return t
    col = t.column(i)
    if pa.types.is_dictionary(col.type):
        col = col.cast(pa.string())
    return t.set_column(i, t.schema.field(i).with_type(pa.string()), col.fill_null("x"))


def _where(filter: ds.Expression | None, panel: str | None = None, start: date | None = None,
           end: date | None = None) -> ds.Expression | None:
    """`filter`, and the rows of `panel` with `dt` in [start, end] (each bound when given)."""
    expr = filter
    for cond in (
        ds.field("panel") == panel if panel is not None else None,
        ds.field("dt") >= pa.scalar(start, pa.date32()) if start is not None else None,
        ds.field("dt") <= pa.scalar(end, pa.date32()) if end is not None else None,
    ):
        if cond is not None:
            expr = cond if expr is None else expr & cond
    return expr


def network_is(network: str) -> ds.Expression:
    """A dataset filter on `network` that counts a missing value (older files) as `x`."""
    f = ds.field("network")
    return (f == network) | f.is_null() if network == "x" else f == network


class Lake:
    """Typed read/write access to the lake tables and the raw archive."""

    def __init__(self, uri: str, s3: S3Options | None = None) -> None:
        self.uri = uri
        self.fs, self.root = filesystem_for(uri, s3)
        self.local = isinstance(self.fs, pafs.LocalFileSystem)

    # -- paths -------------------------------------------------------------------------
    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def partition_path(self, table: str, panel: str, dt: date) -> str:
        return self.path(table, f"panel={panel}", f"dt={dt.isoformat()}")

    # -- tables ------------------------------------------------------------------------
    def write_partition(
        self, table: str, panel: str, dt: date, data: pa.Table, part: str = "data"
    ) -> str:
        """Replace one part of a partition with `data` (cast to the table's schema)."""
        schema = SCHEMAS[table]
        if "network" in schema.names and "network" not in data.column_names:
            data = data.append_column("network", pa.array(["x"] * data.num_rows, pa.string()))  # X-only writers
        for name in _LATER.get(table, ()):  # added after writers of the table existed: null if omitted
            if name not in data.column_names:
                data = data.append_column(name, pa.nulls(data.num_rows, schema.field(name).type))
        data = data.select(schema.names).cast(schema)
        key = f"{self.partition_path(table, panel, dt)}/{part}.parquet"
        self._write_atomic(key, lambda sink: pq.write_table(data, sink, compression="zstd"))
        return key

    def read(
        self,
        table: str,
        panel: str | None = None,
        start: date | None = None,
        end: date | None = None,
        columns: list[str] | None = None,
        filter: ds.Expression | None = None,
        dictionary: tuple[str, ...] = (),
    ) -> pa.Table:
        """Rows of a table, with `panel` and `dt` columns, restricted to a date range;
        `dictionary` columns as in `dataset`."""
        dset = self.dataset(table, dictionary)
        return with_network(dset.to_table(columns=columns, filter=_where(filter, panel, start, end)))

    def dataset(self, table: str, dictionary: tuple[str, ...] = ()) -> ds.Dataset:
        """The table as a pyarrow dataset. The `dictionary` columns (strings, or lists of
        strings) are read as dictionary arrays: one string per distinct value of a file, not
        one per row."""
        schema = SCHEMAS[table]
        full = pa.schema(list(schema) + list(PARTITION_KEYS))
        leaves = []
        for name in dictionary:
            i = full.get_field_index(name)
            typ = full.field(i).type
            if pa.types.is_list(typ) and pa.types.is_string(typ.value_type):
                leaves.append(f"{name}.list.element")
                full = full.set(i, full.field(i).with_type(pa.list_(pa.field("element", _DICT_STR))))
            elif pa.types.is_string(typ):
                leaves.append(name)
                full = full.set(i, full.field(i).with_type(_DICT_STR))
            else:
                raise ValueError(f"{table}.{name}: only string or list-of-string columns read as dictionaries")
        base = self.path(table)
        if not self.exists(base):
            return ds.dataset(full.empty_table())
        fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=leaves)) \
            if leaves else "parquet"
        return ds.dataset(
            base,
            schema=full,
            format=fmt,
            filesystem=self.fs,
            partitioning=ds.partitioning(PARTITION_KEYS, flavor="hive"),
            exclude_invalid_files=False,
            ignore_prefixes=[".", "_"],
        )

    def partitions(self, table: str, panel: str) -> list[date]:
        """Dates that have a partition for this table and panel, ascending."""
        base = self.path(table, f"panel={panel}")
        if not self.exists(base):
            return []
        out = []
        for info in self.fs.get_file_info(pafs.FileSelector(base)):
            name = info.base_name
            if info.type == pafs.FileType.Directory and name.startswith("dt="):
                out.append(date.fromisoformat(name[3:]))
        return sorted(out)

    def delete_partition(self, table: str, panel: str, dt: date) -> None:
        p = self.partition_path(table, panel, dt)
        if self.exists(p):
            self.fs.delete_dir(p)

    # -- raw objects -------------------------------------------------------------------
    def put_json_gz(self, key: str, obj: Any) -> str:
        body = gzip.compress(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(), 6)
        return self.put_bytes(key, body)

    def get_json_gz(self, key: str) -> Any:
        body = self.get_bytes(key)
        try:
            return json.loads(gzip.decompress(body))
        except (OSError, EOFError, ValueError, zlib.error) as e:  # BadGzipFile, truncated, not JSON
            raise LakeContractError(f"{self.uri.rstrip('/')}/{key}: not gzipped JSON ({type(e).__name__}: {e})") from e

    def put_bytes(self, key: str, body: bytes) -> str:
        full = self.path(key)
        self._write_atomic(full, lambda sink: sink.write(body))
        return full

    def get_bytes(self, key: str) -> bytes:
        with self.fs.open_input_stream(self.path(key), compression=None) as f:
            return f.read()

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Keys (relative to the root) of the files under a prefix, sorted."""
        base = self.path(prefix)
        if not self.exists(base):
            return iter(())
        infos = self.fs.get_file_info(pafs.FileSelector(base, recursive=True))
        n = len(self.root) + 1
        return iter(sorted(i.path[n:] for i in infos if i.type == pafs.FileType.File))

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def _write_atomic(self, key: str, write: Any) -> None:
        parent = key.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        if not self.local:
            # An S3 object appears whole when its PUT (or multipart upload) completes.
            with self.fs.open_output_stream(key, compression=None) as sink:
                write(sink)
            return
        tmp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        try:
            with self.fs.open_output_stream(tmp, compression=None) as sink:
                write(sink)
            os.replace(tmp, key)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


@dataclass
class _Loaded:
    """A table of the panel in memory, as `CachedLake` serves it."""

    chunks: pa.Table  # one chunk per file, as a read of the files gives
    flat: pa.Table  # the same rows in one chunk: a scan of it costs one batch, not one per file
    days: np.ndarray  # each file's `dt` in days since 1970-01-01 (-1: not in a dt= folder)
    files: list[ds.ParquetFileFragment]  # the files, in chunk order, their footers read
    schema: pa.Schema  # the dataset's
    _pieces: dict[str, tuple[list[pa.Array], list[pa.Array]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lengths = np.array([len(c) for c in self.chunks.column(0).chunks], dtype=np.int64)
        self.edges = np.cumsum([0, *self.lengths])

    def pieces(self, name: str) -> tuple[list[pa.Array], list[pa.Array]]:
        """A column's chunks, and each emptied (an empty chunk keeps its file's dictionary)."""
        if name not in self._pieces:
            chunks = self.chunks.column(name).chunks
            self._pieces[name] = (chunks, [c.slice(0, 0) for c in chunks])
        return self._pieces[name]

    def rows(self, names: list[str], expr: ds.Expression, start: date | None, end: date | None) -> pa.Table:
        """The rows of `expr` as a read of the files gives them: a chunk per file of the date
        range, the file's rows that pass (its whole chunk when all do; an empty one when none
        does: its file's dictionaries if it was read, empty ones if its footer's statistics
        ruled it out)."""
        keep = pc.fill_null(ds.dataset(self.flat).to_table(columns={"k": expr}).column("k").combine_chunks(), False)
        mask = np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)
        n = len(self.lengths)
        hits = np.add.reduceat(np.append(mask, False), self.edges[:-1]) if n else np.zeros(0, np.int64)
        hits[self.lengths == 0] = 0  # reduceat gives an empty slice its first element
        scanned = np.ones(n, dtype=bool)  # a read of the files skips those out of the date range
        if start is not None:
            scanned &= (self.days < 0) | (self.days >= (start - _EPOCH).days)
        if end is not None:
            scanned &= (self.days < 0) | (self.days <= (end - _EPOCH).days)
        sel = np.flatnonzero(scanned | (hits > 0)).tolist()
        part = {i: keep.slice(int(self.edges[i]), int(self.lengths[i])) for i in sel if 0 < hits[i] < self.lengths[i]}
        pruned: set[int] = set()
        if any(_has_dictionary(self.chunks.schema.field(c).type) for c in names):
            pruned = {i for i in sel if hits[i] == 0
                      and self.files[i].subset(expr, schema=self.schema).num_row_groups == 0}
        out = []
        for c in names:
            chunks, emptied = self.pieces(c)
            typ = self.chunks.schema.field(c).type
            none = pa.array([], typ)
            out.append(pa.chunked_array([
                chunks[i].filter(part[i]) if i in part else none if i in pruned else
                emptied[i] if not hits[i] else chunks[i] for i in sel], typ))
        return pa.Table.from_arrays(out, schema=pa.schema([self.chunks.schema.field(c) for c in names]))


def _has_dictionary(t: pa.DataType) -> bool:
    return pa.types.is_dictionary(t) or any(_has_dictionary(t.field(i).type) for i in range(t.num_fields))


class CachedLake(Lake):
    """A view of a lake whose reads of some tables come from memory: a series of stages that
    read those tables and write none of them (the demo's weekly scores, each reading the
    collected tables once per network) reads each file once instead of once per read.

    The first read of a (table, panel, dictionary) loads the panel's whole table, one chunk per
    file. A read evaluates its filter (the dataset expression a read of the files applies) on a
    one-chunk copy, then takes the rows from the per-file chunks as a read of the files returns
    them: the same rows in the same order, in the same chunks (an empty one for a file of the
    date range that has no row left) with the same dictionaries, so that what is computed from
    them is bit for bit the same. Partition listings of those tables are kept too, and so is
    `memo`: what a caller derived from them (e.g. that every file passed the lake contract).
    A write or delete of one of those tables through this view forgets all of it. A table that
    does not load (a file that does not read, one of several batches) and a filter on `dt` or
    `panel` read the files, as `Lake` does. Everything else is the lake's own: a copy of the
    lake, not a new one.
    """

    def __init__(self, lake: Lake, tables: Iterable[str]) -> None:
        self.__dict__.update(vars(lake))
        self.cached = frozenset(tables)
        self.memo: dict[Hashable, Any] = {}
        self._loaded: dict[tuple[str, str | None, tuple[str, ...]], _Loaded | None] = {}
        self._parts: dict[tuple[str, str], list[date]] = {}

    def read(
        self,
        table: str,
        panel: str | None = None,
        start: date | None = None,
        end: date | None = None,
        columns: list[str] | None = None,
        filter: ds.Expression | None = None,
        dictionary: tuple[str, ...] = (),
    ) -> pa.Table:
        own = table in self.cached and (filter is None or not _PARTITION_FIELD.search(str(filter)))
        loaded = self._load(table, panel, dictionary) if own else None
        if loaded is None:
            return super().read(table, panel, start, end, columns, filter, dictionary)
        names = columns if columns is not None else loaded.chunks.column_names
        expr = _where(filter, None, start, end)  # the panel's rows only already
        if expr is None:
            return with_network(loaded.chunks.select(names))
        return with_network(loaded.rows(names, expr, start, end))

    def _load(self, table: str, panel: str | None, dictionary: tuple[str, ...]) -> _Loaded | None:
        key = (table, panel, tuple(dictionary))
        if key not in self._loaded:
            self._loaded[key] = self._load_files(table, panel, dictionary)
        return self._loaded[key]

    def _load_files(self, table: str, panel: str | None, dictionary: tuple[str, ...]) -> _Loaded | None:
        dset = self.dataset(table, dictionary)
        where = _where(None, panel)
        try:
            frags = list(dset.get_fragments(filter=where)) if where is not None else list(dset.get_fragments())
            chunks = dset.to_table(filter=where)
            for f in frags:
                f.ensure_complete_metadata()
        except (pa.ArrowException, OSError, ValueError, AttributeError):
            return None  # a file that does not read: each read meets it (or not) alone
        if chunks.num_columns == 0 or chunks.column(0).num_chunks != len(frags):
            return None  # a file of several batches: chunks are not files
        dts = [ds.get_partition_keys(f.partition_expression).get("dt") for f in frags]
        days = np.array([(d - _EPOCH).days if isinstance(d, date) else -1 for d in dts], dtype=np.int64)
        return _Loaded(chunks, chunks.combine_chunks(), days, frags, dset.schema)

    def partitions(self, table: str, panel: str) -> list[date]:
        if table not in self.cached:
            return super().partitions(table, panel)
        if (table, panel) not in self._parts:
            self._parts[table, panel] = super().partitions(table, panel)
        return list(self._parts[table, panel])

    def write_partition(self, table: str, panel: str, dt: date, data: pa.Table, part: str = "data") -> str:
        self._forget(table)
        return super().write_partition(table, panel, dt, data, part)

    def delete_partition(self, table: str, panel: str, dt: date) -> None:
        self._forget(table)
        super().delete_partition(table, panel, dt)

    def _forget(self, table: str) -> None:
        if table in self.cached:
            self._loaded.clear()
            self._parts.clear()
            self.memo.clear()
