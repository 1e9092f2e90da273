"""Lake I/O on a local folder (`file://`) or S3 (`s3://`), through pyarrow's filesystems.

Layout: `<root>/<table>/panel=<id>/dt=<YYYY-MM-DD>/<part>.parquet`. Each part file is written
whole and atomically (a local rename, or a single S3 PUT/multipart completion), so a rerun of
a date replaces that date's rows instead of adding to them, and a reader never sees half a file.
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from barometer.errors import ConfigError
from barometer.lake.contract import LakeContractError
from barometer.lake.schemas import PARTITION_KEYS, SCHEMAS

_DICT_STR = pa.dictionary(pa.int32(), pa.string())
# Columns a table gained after it had writers: a writer that omits them writes nulls (as old
# partitions read), instead of failing.
_LATER: dict[str, tuple[str, ...]] = {"scores": ("days_collected", "provisional")}


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
        expr = filter
        for cond in (
            ds.field("panel") == panel if panel is not None else None,
            ds.field("dt") >= pa.scalar(start, pa.date32()) if start is not None else None,
            ds.field("dt") <= pa.scalar(end, pa.date32()) if end is not None else None,
        ):
            if cond is not None:
                expr = cond if expr is None else expr & cond
        return with_network(dset.to_table(columns=columns, filter=expr))

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
