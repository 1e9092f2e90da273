"""The eight raw indicator values per brand for one run date, read from the lake.

Everything here is columnar: the lake is read with partition pruning on `dt` and a predicate
on `created_at`, only the columns needed are materialised, and every per-brand figure is a
numpy/pyarrow group-by. No Python loop runs over rows: the score stage must handle ~10M
mentions and ~1M posts for a year-long window in a few seconds and a few GB.

Rules (DESIGN.md, "The index"; docs/contracts.md, "Time conventions"):
- Window W = the `window_days` days ending on the run date D, inclusive; a post belongs to W
  when `created_at` ∈ [W.start 00:00, D+1 00:00) UTC.
- `posts` holds one row per observation: the latest (max `observed_at`, then max `dt`) among
  partitions dt ≤ D wins, per (brand_id, post_id); a post deleted in that observation is out.
  Partitions dt < W.start are pruned: a post is never collected before it is created.
- Missing data is never a zero: see `_availability`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from barometer.config import Panel, Scoring
from barometer.lake.store import Lake
from barometer.score.definitions import INDICATOR_IDS
from barometer.score.heap import retained_heap

DAMPING = 0.85
PAGERANK_TOL = 1e-12
PAGERANK_MAX_ITER = 10_000
# How far before the reference end a followers snapshot may be and still count for growth.
REFERENCE_TOLERANCE_DAYS = 7
# Threads of a PageRank step (numpy releases the GIL in its gathers and sums).
_THREADS = max(1, min(4, os.cpu_count() or 1))

Values = dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class Window:
    """The scoring window of a run date, and the end of its growth reference."""

    start: date
    end: date
    reference_end: date

    @classmethod
    def for_run(cls, dt: date, scoring: Scoring) -> Window:
        start = dt - timedelta(days=scoring.window_days - 1)
        # `previous`: the previous window ends the day before this one starts.
        yoy = scoring.growth_reference == "yoy"
        ref = _one_year_before(dt) if yoy else dt - timedelta(days=scoring.window_days)
        return cls(start, dt, ref)

    @property
    def ts_start(self) -> datetime:
        return datetime.combine(self.start, time())

    @property
    def ts_end(self) -> datetime:
        """Exclusive end: the start of the day after the run date."""
        return datetime.combine(self.end + timedelta(days=1), time())


def _one_year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February → 28 February of the previous year
        return d.replace(year=d.year - 1, day=28)


@dataclass
class WindowData:
    """The lake rows of one window, cleaned: what indicators and topic shares are made from."""

    panel: Panel
    window: Window
    brand_ids: list[str]  # sorted; the order of every per-brand array below
    # posts: latest observation per post, not deleted, created in W (reposts included,
    # flagged by `is_repost`); columns brand_idx, post_id, account_id, kind, interactions,
    # mentioned_handles, topics, and text when some topics are null.
    posts: pa.Table
    # mentions: one row per (brand, post) created in W whose author is not the brand.
    mentions: pa.Table
    accounts: pa.Table  # accounts rows of dt ∈ W, one per (brand, account, dt)
    reference_accounts: pa.Table  # accounts rows of dt ∈ [ref − 7 days, ref]
    has_posts_partition: bool
    has_mentions_partition: bool
    has_accounts: bool
    rows_read: dict[str, int] = field(default_factory=dict)
    # Per mentions row: its author id's code (equal ids, equal codes; null as "") and its
    # author's source key, an index into `mention_sources` (lower-case handles; -1: none).
    mention_author: np.ndarray | None = None
    mention_source: np.ndarray | None = None
    mention_sources: pa.Array | None = None
    # True when no post id occurs twice among the mentions rows: one row per post already.
    mentions_distinct_posts: bool = False


def _brand_index(col: pa.ChunkedArray | pa.Array, brand_ids: list[str]) -> np.ndarray:
    """Position of each row's brand in `brand_ids` (-1 when not in the panel)."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    if chunks and all(pa.types.is_dictionary(c.type) for c in chunks):
        # Read as dictionary: look each chunk's few distinct values up, not every row's.
        vs = pa.array(brand_ids, pa.string())
        parts = []
        for c in chunks:
            look = np.append(_np(pc.fill_null(pc.index_in(c.dictionary, value_set=vs), -1)), -1)
            parts.append(look[_np(pc.fill_null(c.indices, len(look) - 1))])
        return np.concatenate(parts)
    idx = pc.index_in(col, value_set=pa.array(brand_ids, pa.string()))
    return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _np(a: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow integer/boolean array without nulls as a numpy array (int64 for integers)."""
    x = a.to_numpy(zero_copy_only=False)
    return np.asarray(x, dtype=bool if x.dtype == bool else np.int64)


def _codes(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integer codes of a string column (equal strings, equal codes; nulls -1), in [-1, len).

    Ids on the networks are decimal integers: when every value is a canonical one (ASCII
    digits, no leading zero) and fits an int64, the codes are the dense ranks of the parsed
    integers, far cheaper than hashing the strings. Otherwise the strings are hashed.
    """
    ints = _canonical_ints(col)
    if ints is not None:
        return _dense(ints)
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    enc = pc.dictionary_encode(arr)
    return np.asarray(pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _canonical_ints(arr: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
    """The values as int64 when each is a canonical decimal integer (one string, one int)."""
    if len(arr) == 0 or arr.null_count or not pa.types.is_string(arr.type):
        return None
    # Lengths and first characters straight from the string buffers: 1 to 19 characters,
    # the first a digit and no leading zero. Arrow's cast then accepts only ASCII digits
    # after it (a sign or an "0x" prefix would be a first character), so a successful cast
    # means canonical decimal integers with exactly as many digits as the strings.
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for c in chunks:
        if len(c) == 0:
            continue
        offs = np.frombuffer(c.buffers()[1], dtype=np.int32)[c.offset:c.offset + len(c) + 1]
        data = np.frombuffer(c.buffers()[2], dtype=np.uint8)
        lengths = np.diff(offs)
        if int(lengths.min()) < 1 or int(lengths.max()) > 19:
            return None
        head = data[offs[:-1]]
        if ((head < 48) | (head > 57)).any() or ((head == 48) & (lengths > 1)).any():
            return None  # not a digit first, or "0…": a leading zero
    try:
        return _np(pc.cast(arr, pa.int64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _dense(x: np.ndarray) -> np.ndarray:
    """Dense ranks of integers (0 for the smallest value).

    One sort of (value, row) packed in an int64, not an argsort: the value's top bits above
    the row's. When the values span more bits than remain, distinct values may share their
    top bits; those few groups are re-sorted by the full value.
    """
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(x.min()), int(x.max())
    if hi - lo <= 4 * n + 1024:
        # Ids from a compact range: a presence table instead of a sort.
        present = np.zeros(hi - lo + 1, dtype=bool)
        off = x - lo
        present[off] = True
        rank = np.cumsum(present, dtype=np.int64)
        rank -= 1
        return rank[off]
    ib = max(1, (n - 1).bit_length())
    shift = max(0, (hi - lo).bit_length() - (63 - ib))
    if ib > 40:
        return _dense_argsort(x)
    packed = x - lo
    if shift:
        packed >>= shift
    packed <<= ib
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    order = packed & ((1 << ib) - 1)
    packed >>= ib  # the sorted (shifted) values
    step = np.empty(n, dtype=bool)
    step[0] = False
    if shift:
        xs = x[order]
        np.not_equal(xs[1:], xs[:-1], out=step[1:])
        bad = step[1:] & (packed[1:] == packed[:-1])
        if bad.any():
            # Groups of equal top bits holding several values: sort their rows by value.
            rows = np.flatnonzero(np.isin(packed, _unique(packed[1:][bad])))
            if len(rows) > n // 8:
                return _dense_argsort(x)
            o = np.argsort(xs[rows], kind="stable")
            order[rows] = order[rows][o]
            xs[rows] = xs[rows][o]
            np.not_equal(xs[1:], xs[:-1], out=step[1:])
        del xs, bad
    else:
        np.not_equal(packed[1:], packed[:-1], out=step[1:])
    del packed
    out = np.empty(n, dtype=np.int64)
    out[order] = np.cumsum(step.view(np.int8), dtype=np.int64)
    return out


def _dense_argsort(x: np.ndarray) -> np.ndarray:
    """Dense ranks of integers, by an argsort."""
    order = np.argsort(x)
    sx = x[order]
    step = np.empty(len(x), dtype=np.int64)
    step[:1] = 0
    np.not_equal(sx[1:], sx[:-1], out=step[1:], casting="unsafe")
    out = np.empty(len(x), dtype=np.int64)
    out[order] = np.cumsum(step)
    return out


def _unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique without its slow hash path for large int arrays)."""
    s = np.sort(x)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _ts_int(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamps (or dates) as int64, nulls first in sort order."""
    ints = pc.cast(col, pa.int64()) if not pa.types.is_date(col.type) else pc.cast(
        pc.cast(col, pa.date32()), pa.int32())
    return np.asarray(pc.fill_null(pc.cast(ints, pa.int64()), np.iinfo(np.int64).min)
                      .to_numpy(zero_copy_only=False), dtype=np.int64)


def _last_per_key(keys: np.ndarray, *order_by: np.ndarray) -> np.ndarray:
    """Row indices of the last row per key, ordering rows by `order_by` (last = greatest).

    np.lexsort is stable, so equal sort keys keep the lake's (deterministic) read order.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    sk = np.sort(keys)
    if not (sk[1:] == sk[:-1]).any():  # every key once: every row is its key's last
        return np.arange(len(keys), dtype=np.int64)
    order_by = _pack(order_by)
    n = len(keys)
    ib = max(1, (n - 1).bit_length())
    kspan = int(sk[-1]) - int(sk[0])
    del sk
    if len(order_by) == 1 and kspan.bit_length() + ib <= 63:
        return _last_per_key_packed(keys, order_by[0], ib)
    order = np.lexsort((*reversed(order_by), keys)) if order_by else np.argsort(keys, kind="stable")
    sk = keys[order]
    last = np.ones(len(sk), dtype=bool)
    last[:-1] = sk[1:] != sk[:-1]
    return np.sort(order[last])


def _last_per_key_packed(keys: np.ndarray, order_by: np.ndarray, ib: int) -> np.ndarray:
    """`_last_per_key` with one sort key, when (key − min, row) packs in an int64.

    One plain sort groups the rows by key (rows ascending within a group); the last row is
    then the greatest row among those holding the group's greatest `order_by`.
    """
    n = len(keys)
    packed = keys - keys.min()
    packed <<= ib
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    order = packed & ((1 << ib) - 1)
    packed >>= ib
    brk = np.empty(n, dtype=bool)
    brk[0] = True
    np.not_equal(packed[1:], packed[:-1], out=brk[1:])
    del packed
    starts = np.flatnonzero(brk)
    del brk
    ob = order_by[order]
    top = np.maximum.reduceat(ob, starts)
    top = np.repeat(top, np.diff(starts, append=n))
    pos = np.arange(n, dtype=np.int64)
    pos[ob != top] = -1
    del ob, top
    last = np.maximum.reduceat(pos, starts)
    return np.sort(order[last])


def _pack(cols: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Sort keys (most significant first) as one int64 key with the same order, when they fit."""
    if len(cols) < 2 or len(cols[0]) == 0:
        return cols
    los = [int(c.min()) for c in cols]
    bits = [(int(c.max()) - lo).bit_length() for c, lo in zip(cols, los, strict=True)]
    if sum(bits) > 62:
        return cols
    out = np.zeros(len(cols[0]), dtype=np.int64)
    for c, lo, b in zip(cols, los, bits, strict=True):
        out <<= b
        out |= c - lo
    return (out,)


def _has_partitions(lake: Lake, table: str, panel: str, w: Window) -> bool:
    return any(w.start <= d <= w.end for d in lake.partitions(table, panel))


def _created_in(w: Window) -> ds.Expression:
    return (ds.field("created_at") >= pa.scalar(w.ts_start, pa.timestamp("ms"))) & (
        ds.field("created_at") < pa.scalar(w.ts_end, pa.timestamp("ms")))


def _scan(lake: Lake, table: str, panel: str, start: date, end: date, columns: list[str],
          filter: ds.Expression, dictionary: list[str], list_dictionary: tuple[str, ...] = ()) -> pa.Table:
    """`lake.read`, with the `dictionary` string columns read as dictionary arrays, and the
    `list_dictionary` list-of-string columns as lists of dictionary arrays.

    A dictionary column costs one string per distinct value of a file, not one per row.
    """
    dset = lake.dataset(table)
    if not isinstance(dset, ds.FileSystemDataset):
        return lake.read(table, panel, start, end, columns=columns, filter=filter)
    where = ((ds.field("panel") == panel) & (ds.field("dt") >= pa.scalar(start, pa.date32()))
             & (ds.field("dt") <= pa.scalar(end, pa.date32())))
    schema = dset.schema
    dict_str = pa.dictionary(pa.int32(), pa.string())
    leaves = []
    for name in list_dictionary:
        i = schema.get_field_index(name)
        typ = schema.field(i).type
        if i >= 0 and pa.types.is_list(typ) and pa.types.is_string(typ.value_type):
            leaves.append(f"{name}.list.element")
            schema = schema.set(i, schema.field(i).with_type(pa.list_(pa.field("element", dict_str))))
    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=[*dictionary, *leaves]))
    for name in dictionary:
        i = schema.get_field_index(name)
        schema = schema.set(i, schema.field(i).with_type(dict_str))
    frags = [fmt.make_fragment(f.path, dset.filesystem, partition_expression=f.partition_expression)
             for f in dset.get_fragments(filter=where)]
    sub = ds.FileSystemDataset(frags, schema, fmt, dset.filesystem)
    return sub.to_table(columns=columns, filter=where & filter)


# Read as lists of dictionary arrays: few distinct handles per file, each decoded once.
_LIST_DICT = ("mentioned_handles",)


def _combined(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One array (a take from a column of many chunks is much slower than from one)."""
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks else pa.array([], col.type)
    return col


def _first_rows(codes: np.ndarray, k: int) -> np.ndarray:
    """Row index of each code's first occurrence (codes in [0, k), each present)."""
    first = np.empty(k, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    return first


def load_window(panel: Panel, dt: date, lake: Lake, scoring: Scoring | None = None,
                with_topics: bool = True) -> WindowData:
    """Read and clean the lake rows the indicators of (panel, dt) are computed from.

    `with_topics=False` leaves the `topics` columns out (the indicators never read them).
    """
    scoring = scoring or panel.scoring
    w = Window.for_run(dt, scoring)
    brand_ids = sorted(b.id for b in panel.brands)
    rows_read: dict[str, int] = {}

    # -- accounts ------------------------------------------------------------------------
    acc_cols = ["brand_id", "account_id", "handle", "followers", "collected_at", "dt"]
    accounts = _latest_accounts(lake.read("accounts", panel.id, w.start, w.end, columns=acc_cols), brand_ids)
    ref_start = w.reference_end - timedelta(days=REFERENCE_TOLERANCE_DAYS)
    reference = _latest_accounts(
        lake.read("accounts", panel.id, ref_start, w.reference_end, columns=acc_cols), brand_ids)
    rows_read["accounts"] = accounts.num_rows + reference.num_rows

    # -- posts -----------------------------------------------------------------------------
    post_cols = ["post_id", "brand_id", "account_id", "kind", "likes", "reposts", "replies", "quotes",
                 "mentioned_handles", *(["topics"] if with_topics else []), "deleted", "observed_at", "dt"]
    raw = _scan(lake, "posts", panel.id, w.start, w.end, post_cols, _created_in(w), ["brand_id"],
                _LIST_DICT)
    rows_read["posts"] = raw.num_rows
    bidx = _brand_index(raw["brand_id"], brand_ids)
    pcodes = _codes(raw["post_id"]) if len(bidx) else bidx
    # (brand, post) keys, compact: the brand index (≥ −1) above the post code.
    latest = _last_per_key((bidx + 1) * (int(pcodes.max()) + 2) + pcodes if len(bidx) else bidx,
                           _ts_int(raw["observed_at"]), _ts_int(raw["dt"]))
    bidx = bidx[latest]
    keep = (bidx >= 0) & ~_np(pc.fill_null(raw["deleted"].take(pa.array(latest, pa.int64())), False))
    kept = ["post_id", "account_id", "kind", "likes", "reposts", "replies", "quotes", "mentioned_handles",
            *(["topics"] if with_topics else [])]
    posts = raw.select(kept).take(pa.array(latest[keep], pa.int64()))
    del raw
    inter = pc.add(pc.add(pc.fill_null(posts["likes"], 0), pc.fill_null(posts["reposts"], 0)),
                   pc.add(pc.fill_null(posts["replies"], 0), pc.fill_null(posts["quotes"], 0)))
    posts = pa.table({
        "brand_idx": pa.array(bidx[keep]),
        "post_id": posts["post_id"],
        "account_id": posts["account_id"],
        "is_repost": pc.fill_null(pc.equal(posts["kind"], "repost"), False),
        "interactions": pc.cast(inter, pa.int64()),
        "mentioned_handles": posts["mentioned_handles"],
        **({"topics": posts["topics"]} if with_topics else {}),
    })

    # -- mentions --------------------------------------------------------------------------
    men_cols = ["post_id", "brand_id", "author_id", "author_handle", "mentioned_handles",
                *(["topics"] if with_topics else []), "observed_at", "dt"]
    mraw = _scan(lake, "mentions", panel.id, w.start, w.end, men_cols, _created_in(w), ["brand_id"],
                 _LIST_DICT)
    nm = mraw.num_rows
    rows_read["mentions"] = nm
    mb = _brand_index(mraw["brand_id"], brand_ids) if nm else np.zeros(0, np.int64)
    ints = _canonical_ints(mraw["post_id"]) if nm else None
    pcode = ints if ints is not None else (_codes(mraw["post_id"]) if nm else mb)
    # One row per (brand, post): the latest observation (its topics are the freshest). Only
    # the rows of a post id seen more than once need ordering.
    sp = np.sort(pcode)
    dup = sp[1:][sp[1:] == sp[:-1]]
    del sp
    distinct_posts = len(dup) == 0
    keep = mb >= 0
    if not distinct_posts:
        dupv = _unique(dup)
        pos = np.minimum(np.searchsorted(dupv, pcode), len(dupv) - 1)
        rows = np.flatnonzero(dupv[pos] == pcode)
        del pos
        sub = mraw.take(pa.array(rows, pa.int64()))
        dcode = _dense(pcode[rows])
        last = _last_per_key((mb[rows] + 1) * (int(dcode.max()) + 1) + dcode,
                             _ts_int(sub["observed_at"]), _ts_int(sub["dt"]))
        keep[rows] = False
        keep[rows[last]] = mb[rows[last]] >= 0
        del sub, rows, last, dcode
    # Authors: codes of their ids, and one source handle per distinct (id, handle).
    aid = mraw["author_id"]
    aid = pc.fill_null(aid, "") if aid.null_count else aid
    aints = _canonical_ints(aid) if nm else None
    acode = (_dense(aints) if aints is not None else _codes(aid)) if nm else mb
    k = int(acode.max()) + 1 if nm else 0
    first = _first_rows(acode, k)
    handle = _combined(mraw["author_handle"])
    rep = handle.take(pa.array(first, pa.int64()))
    same = pc.fill_null(pc.equal(handle, rep.take(pa.array(acode, pa.int64()))), False) if nm else None
    source = acode.copy()
    other = pa.array([], pa.string())
    if same is not None and not pc.all(same).as_py():
        # An id seen with several handles (a rename): those rows get their own source keys.
        odd = np.flatnonzero(~_np(same))
        enc = pc.dictionary_encode(handle.take(pa.array(odd, pa.int64())))
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        other = enc.dictionary
        source[odd] = _np(pc.fill_null(enc.indices, -k - 1)) + k
    del same
    sources = pc.utf8_lower(pa.concat_arrays([rep, other]))
    # The id of each code: canonical integers print back to the very strings they came from.
    rep_ids = pc.cast(pa.array(aints[first]), pa.string()) if aints is not None else \
        _combined(aid).take(pa.array(first, pa.int64()))
    del aints
    # A brand's own accounts mentioning it are not "others": drop by account id or handle.
    own = _own_mask(panel, mb, acode, rep_ids, source, sources, accounts, reference)
    keep &= ~own
    del own, first, rep, rep_ids, handle
    mraw = mraw.select(["post_id", "author_id", "author_handle", "mentioned_handles",
                        *(["topics"] if with_topics else [])])
    if not keep.all():
        mraw = mraw.filter(pa.array(keep))
    mentions = pa.table({
        "brand_idx": pa.array(mb[keep]),
        "post_id": mraw["post_id"],
        "post_code": pa.array(pcode[keep]),
        "author_id": mraw["author_id"],
        "author_handle": mraw["author_handle"],
        "mentioned_handles": mraw["mentioned_handles"],
        **({"topics": mraw["topics"]} if with_topics else {}),
    })
    acode, source = acode[keep], source[keep]
    del mraw, mb, pcode, keep

    return WindowData(
        panel=panel, window=w, brand_ids=brand_ids, posts=posts, mentions=mentions,
        accounts=accounts, reference_accounts=reference,
        has_posts_partition=_has_partitions(lake, "posts", panel.id, w),
        has_mentions_partition=_has_partitions(lake, "mentions", panel.id, w),
        has_accounts=accounts.num_rows > 0, rows_read=rows_read,
        mention_author=acode, mention_source=source, mention_sources=sources,
        mentions_distinct_posts=distinct_posts,
    )


def _latest_accounts(t: pa.Table, brand_ids: list[str]) -> pa.Table:
    """One accounts row per (brand, account, dt): the latest collection of that day."""
    bidx = _brand_index(t["brand_id"], brand_ids)
    acc = _codes(t["account_id"]) if t.num_rows else bidx
    day = _ts_int(t["dt"])
    key = (bidx * (1 << 20) + acc) * (1 << 24) + (day - day.min() if len(day) else day)
    idx = _last_per_key(key, _ts_int(t["collected_at"]))
    out = t.take(pa.array(idx, pa.int64()))
    bidx = bidx[idx]
    return out.append_column("brand_idx", pa.array(bidx)).filter(pa.array(bidx >= 0))


def _own_mask(panel: Panel, mb: np.ndarray, acode: np.ndarray, ids_by_code: pa.Array | pa.ChunkedArray,
              source: np.ndarray, sources: pa.Array, *accounts: pa.Table) -> np.ndarray:
    """Rows whose author is one of the mentioned brand's own accounts (by account id or handle).

    A row's author id is `ids_by_code[acode]`, its lower-cased handle `sources[source]`
    (-1: none); both are matched against the (brand, id) and (brand, lower-case handle) pairs
    of the panel and of the accounts tables, one lookup per distinct value.
    """
    ids: set[tuple[int, str]] = set()
    brand_of = {b: i for i, b in enumerate(sorted(b.id for b in panel.brands))}
    handles = {(brand_of[b.id], a.handle.lower()) for b in panel.brands for a in b.accounts}
    for t in accounts:
        if t.num_rows == 0:
            continue
        g = t.group_by(["brand_idx", "account_id", "handle"], use_threads=False).aggregate([])
        for bi, aid, h in zip(g["brand_idx"].to_pylist(), g["account_id"].to_pylist(),
                              g["handle"].to_pylist(), strict=True):
            if aid:
                ids.add((bi, aid))
            if h:
                handles.add((bi, h.lower()))
    own = np.zeros(len(mb), dtype=bool)
    for pairs, values_of, code in ((ids, ids_by_code, acode), (handles, sources, source)):
        if not pairs or len(mb) == 0:
            continue
        values = sorted({v for _, v in pairs})
        nv = len(values)
        slot_of = np.append(_np(pc.fill_null(pc.index_in(values_of, value_set=pa.array(values, pa.string())),
                                             -1)), -1)
        pos = slot_of[code]  # code -1 (no value) → the appended -1
        hit = np.flatnonzero(pos >= 0)
        if len(hit) == 0:
            continue
        slot = {v: i for i, v in enumerate(values)}
        own_keys = np.array(sorted(b * nv + slot[v] for b, v in pairs), dtype=np.int64)
        own[hit[np.isin(mb[hit] * nv + pos[hit], own_keys)]] = True
    return own


# -- indicators ---------------------------------------------------------------------------

def _followers_end(acc: pa.Table, n: int) -> np.ndarray:
    """Followers per brand: each account's latest snapshot in the table, summed (NaN: none)."""
    out = np.full(n, np.nan)
    if acc.num_rows == 0:
        return out
    f = acc.filter(pc.is_valid(acc["followers"]))
    if f.num_rows == 0:
        return out
    bidx = np.asarray(f["brand_idx"].to_numpy(), dtype=np.int64)
    key = bidx * (1 << 32) + _codes(f["account_id"])
    idx = _last_per_key(key, _ts_int(f["dt"]), _ts_int(f["collected_at"]))
    fol = np.asarray(f["followers"].to_numpy(zero_copy_only=False), dtype=np.float64)[idx]
    sums = np.bincount(bidx[idx], weights=fol, minlength=n)
    seen = np.bincount(bidx[idx], minlength=n) > 0
    out[seen] = sums[seen]
    return out


def _followers_mean(acc: pa.Table, n: int) -> np.ndarray:
    """Mean over the snapshot dates in W of the brand's followers (summed over its accounts)."""
    out = np.full(n, np.nan)
    f = acc.filter(pc.is_valid(acc["followers"])) if acc.num_rows else acc
    if f.num_rows == 0:
        return out
    bidx = np.asarray(f["brand_idx"].to_numpy(), dtype=np.int64)
    day = _ts_int(f["dt"])
    fol = np.asarray(f["followers"].to_numpy(zero_copy_only=False), dtype=np.float64)
    # Sum per (brand, date), then mean of those sums per brand.
    bd = bidx * (1 << 24) + (day - day.min())
    uniq, inv = np.unique(bd, return_inverse=True)
    per_day = np.bincount(inv, weights=fol)
    day_brand = uniq // (1 << 24)
    sums = np.bincount(day_brand, weights=per_day, minlength=n)
    counts = np.bincount(day_brand, minlength=n)
    ok = counts > 0
    out[ok] = sums[ok] / counts[ok]
    return out


def pagerank(src: np.ndarray, dst: np.ndarray, n: int, weights: np.ndarray | None = None,
             damping: float = DAMPING, tol: float = PAGERANK_TOL,
             max_iter: int = PAGERANK_MAX_ITER) -> np.ndarray:
    """Weighted PageRank by power iteration on an edge list (numpy only).

    Out-edges are weighted by their counts; the mass of dangling nodes (no out-edge) is spread
    uniformly, as is the teleport mass (1 − damping). Stops when the L1 change < `tol`.

    Nodes without in-edges all hold the same rank (the teleport and dangling share) at every
    step, so their out-edges' flow is precomputed once and scaled by that rank: each step only
    walks the edges whose source has in-edges. Those edges are kept sorted by target, so a
    step is a gather and a segmented sum (`np.add.reduceat`), split over threads by target
    ranges (numpy releases the GIL in both).
    """
    if n == 0:
        return np.zeros(0)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    out_w = np.bincount(src, minlength=n).astype(np.float64) if w is None else \
        np.bincount(src, weights=w, minlength=n)
    fed = np.zeros(n, dtype=bool)
    fed[dst] = True
    unfed = np.flatnonzero(~fed)
    n_unfed_dangling = int((out_w[unfed] == 0).sum())
    dangling = np.flatnonzero(fed & (out_w == 0))
    from_unfed = ~fed[src]
    # The flow of the unfed nodes' edges, per unit of their (common) rank.
    uw = 1.0 / out_w[src[from_unfed]] if w is None else w[from_unfed] / out_w[src[from_unfed]]
    unfed_flow = np.bincount(dst[from_unfed], weights=uw, minlength=n)
    del uw
    if from_unfed.any():
        keep = ~from_unfed
        src, dst = src[keep], dst[keep]
        if w is not None:
            w = w[keep]
        del keep
    del from_unfed
    # Merge parallel edges once, so each iteration touches each distinct edge once. The key
    # puts the target above the source: the merged edges come out sorted by target.
    if len(src):
        bits = max(1, (n - 1).bit_length())
        key = (dst << bits) | src
        if w is None:
            # Unit weights: a merged edge's weight is its count (exact in any order).
            key.sort()
            brk = np.empty(len(key), dtype=bool)
            brk[0] = True
            np.not_equal(key[1:], key[:-1], out=brk[1:])
            start = np.flatnonzero(brk)
            del brk
            w = np.diff(start, append=len(key)).astype(np.float64)
            uniq = key[start]
            del start
        else:
            uniq, inv = np.unique(key, return_inverse=True)
            w = np.bincount(inv, weights=w)
        del key
        dst, src = uniq >> bits, uniq & ((1 << bits) - 1)
        del uniq
    coef = w / out_w[src] if len(src) and w is not None else np.zeros(0)
    del w, out_w
    steps = _segments(src, dst, coef)
    del src, dst, coef
    pr = np.full(n, 1.0 / n)
    one_unfed = int(unfed[0]) if len(unfed) else -1
    with ThreadPoolExecutor(max(1, len(steps))) as pool:
        for _ in range(max_iter):
            c = pr[one_unfed] if one_unfed >= 0 else 0.0
            new = np.zeros(n)
            if len(steps) > 1:
                list(pool.map(lambda s, pr=pr: s.run(pr), steps))
            elif steps:
                steps[0].run(pr)
            for s in steps:
                new[s.targets] = s.sums
            if one_unfed >= 0:
                new += c * unfed_flow
            new *= damping
            new += (damping * (pr[dangling].sum() + n_unfed_dangling * c) + (1.0 - damping)) / n
            delta = np.abs(new - pr).sum()
            pr = new
            if delta < tol:
                break
    return pr


class _Segment:
    """Edges sorted by target, whose targets no other segment holds: one step's inflow per
    target is `sums` (at `targets`) after `run`, with preallocated buffers."""

    def __init__(self, src: np.ndarray, coef: np.ndarray, starts: np.ndarray, targets: np.ndarray):
        self.src, self.coef, self.starts, self.targets = src, coef, starts, targets
        self.buf = np.empty(len(src))
        self.sums = np.empty(len(starts))

    def run(self, pr: np.ndarray) -> None:
        np.take(pr, self.src, out=self.buf)
        np.multiply(self.buf, self.coef, out=self.buf)
        np.add.reduceat(self.buf, self.starts, out=self.sums)


# Edges per thread below which a PageRank step is not split.
_SPLIT_EDGES = 1 << 20


def _segments(src: np.ndarray, dst: np.ndarray, coef: np.ndarray) -> list[_Segment]:
    """The edges (sorted by target) cut into up to `_THREADS` segments at target boundaries."""
    if len(dst) == 0:
        return []
    brk = np.empty(len(dst), dtype=bool)
    brk[0] = True
    np.not_equal(dst[1:], dst[:-1], out=brk[1:])
    starts = np.flatnonzero(brk)
    del brk
    targets = dst[starts]
    parts = max(1, min(_THREADS, len(dst) // _SPLIT_EDGES))
    cuts = [0, *(int(np.searchsorted(starts, len(dst) * i // parts)) for i in range(1, parts)), len(starts)]
    segs = []
    for lo, hi in pairwise(cuts):
        if hi <= lo:
            continue
        a = int(starts[lo])
        z = int(starts[hi]) if hi < len(starts) else len(dst)
        segs.append(_Segment(src[a:z], coef[a:z], starts[lo:hi] - a, targets[lo:hi]))
    return segs


def _flatten(lists: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.ChunkedArray | pa.Array]:
    """(row of each element, the elements) of a list column."""
    lens = _np(pc.fill_null(pc.list_value_length(lists), 0))
    parents = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    return parents, pc.list_flatten(lists)


def _encode(arr: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(codes, distinct values) of a string or dictionary column: codes index the values,
    -1 for nulls. Dictionary chunks are unified, not decoded (some values may be unused)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    if chunks and all(pa.types.is_dictionary(c.type) for c in chunks):
        u = pa.chunked_array(chunks, chunks[0].type).unify_dictionaries()
        values = u.chunk(0).dictionary
        idx = np.concatenate([_np(pc.fill_null(c.indices, -1)) for c in u.chunks])
        return idx, values
    if any(pa.types.is_dictionary(c.type) for c in chunks):
        arr = pc.cast(arr, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    enc = pc.dictionary_encode(arr)
    return _np(pc.fill_null(enc.indices, -1)), enc.dictionary


def _centrality(data: WindowData) -> tuple[np.ndarray, int]:
    """PageRank of each brand (sum over its handles) in the window's interaction graph."""
    n = len(data.brand_ids)
    brand_of = {b: i for i, b in enumerate(data.brand_ids)}
    brand_handles: dict[str, int] = {}
    for b in data.panel.brands:
        for a in b.accounts:
            brand_handles[a.handle.lower()] = brand_of[b.id]
    # The handle of a post's author account: from the accounts table, else the brand's first.
    # The last row per account id wins (window rows last); empty ids and handles are skipped.
    ah = pa.concat_tables([t.select(["account_id", "handle"])
                           for t in (data.reference_accounts, data.accounts)])
    ah = ah.filter(pc.fill_null(pc.and_(pc.not_equal(ah["account_id"], ""), pc.not_equal(ah["handle"], "")),
                                False))
    last_acc = pa.array(_last_per_key(_codes(ah["account_id"])) if ah.num_rows else [], pa.int64())
    acc_ids = ah["account_id"].take(last_acc)
    acc_handles = pc.utf8_lower(ah["handle"].take(last_acc))
    first_handle = [data.panel.brand(b).accounts[0].handle.lower() for b in data.brand_ids]

    # Mentions: one edge set per distinct post (a post mentioning two brands is two rows).
    # Each edge is (row's source key → element's target code); the names of both are merged
    # into one node space below.
    m = data.mentions
    msrc = data.mention_source
    msources = data.mention_sources
    if msrc is None or msources is None:
        a_codes, a_names = _encode(pc.utf8_lower(m["author_handle"]).combine_chunks()
                                   if m.num_rows else pa.array([], pa.string()))
        msrc, msources = a_codes, a_names
    m_lists = m["mentioned_handles"]
    if m.num_rows and not data.mentions_distinct_posts:
        last = _last_per_key(np.asarray(m["post_code"].to_numpy(), dtype=np.int64))
        if len(last) < m.num_rows:
            m_lists = m_lists.take(pa.array(last, pa.int64()))
            msrc = msrc[last]
    m_par, m_flat = _flatten(m_lists) if m.num_rows else (np.zeros(0, np.int64), pa.array([], pa.string()))
    del m_lists
    m_src = msrc[m_par]
    del m_par
    m_tcode, m_tnames = _encode(m_flat)
    del m_flat

    p = data.posts
    if p.num_rows:
        # The author handle of each brand post, by a vectorised lookup of its account id.
        pos = pc.index_in(p["account_id"], value_set=acc_ids)
        by_account = acc_handles.take(pos)
        fallback = pa.array(first_handle, pa.string()).take(p["brand_idx"])
        post_author = pc.coalesce(by_account, fallback)
        if isinstance(post_author, pa.ChunkedArray):
            post_author = post_author.combine_chunks()
        p_acode, p_anames = _encode(post_author)
        p_par, p_flat = _flatten(p["mentioned_handles"])
        p_src = p_acode[p_par]
        p_tcode, p_tnames = _encode(p_flat)
        del post_author, p_par, p_flat
    else:
        p_src = p_tcode = np.zeros(0, np.int64)
        p_anames = p_tnames = pa.array([], pa.string())

    def targets(names: pa.Array) -> pa.Array:
        return pc.utf8_lower(pc.utf8_ltrim(names, characters="@"))

    # One node id space over every brand handle, the sources and the targets.
    bh = pa.array(sorted(brand_handles), pa.string())
    pieces = [bh, msources, targets(m_tnames), pc.utf8_lower(p_anames), targets(p_tnames)]
    merged, _ = _encode(pa.concat_arrays(pieces))
    offs = np.cumsum([0] + [len(x) for x in pieces])
    nb = len(bh)
    hcode = merged[:nb]

    def lookup(codes: np.ndarray, piece: int) -> np.ndarray:
        table = np.append(merged[offs[piece]:offs[piece + 1]], -1)
        return table[codes]  # code -1 (null) → the appended -1

    src = np.concatenate([lookup(m_src, 1), lookup(p_src, 3)])
    dst = np.concatenate([lookup(m_tcode, 2), lookup(p_tcode, 4)])
    del m_src, m_tcode, p_src, p_tcode
    ok = (src >= 0) & (dst >= 0) & (src != dst)
    src, dst = src[ok], dst[ok]
    del ok
    if len(src) == 0:
        return np.full(n, np.nan), 0
    # Nodes: the handles on a kept edge, plus every brand handle (a brand nobody mentions
    # still is a node, with the teleport share only). Renumbered densely, in code order.
    present = np.zeros(int(merged.max()) + 1, dtype=bool)
    present[hcode] = True
    present[src] = True
    present[dst] = True
    renum = np.cumsum(present, dtype=np.int64) - 1
    n_nodes = int(renum[-1]) + 1
    del present
    hnode, src, dst = renum[hcode], renum[src], renum[dst]
    del renum
    pr = pagerank(src, dst, n_nodes)
    out = np.zeros(n)
    owner = np.array([brand_handles[h] for h in bh.to_pylist()], dtype=np.int64)
    np.add.at(out, owner, pr[hnode])
    return out, len(src)


def compute_values(data: WindowData) -> tuple[Values, dict[str, object]]:
    """Raw indicator values per brand (None = missing) and a few figures for the run summary."""
    n = len(data.brand_ids)
    p = data.posts
    pb = np.asarray(p["brand_idx"].to_numpy(), dtype=np.int64) if p.num_rows else np.zeros(0, np.int64)
    orig = ~np.asarray(p["is_repost"].to_numpy(zero_copy_only=False), dtype=bool) if p.num_rows else \
        np.zeros(0, bool)
    inter = np.asarray(p["interactions"].to_numpy(zero_copy_only=False), dtype=np.float64) if p.num_rows \
        else np.zeros(0)
    volume = np.bincount(pb[orig], minlength=n).astype(np.float64)
    interactions = np.bincount(pb[orig], weights=inter[orig], minlength=n)

    m = data.mentions
    mb = np.asarray(m["brand_idx"].to_numpy(), dtype=np.int64) if m.num_rows else np.zeros(0, np.int64)
    # Rows are already one per (brand, post): mentions = rows; reach = distinct (brand, author).
    mentions = np.bincount(mb, minlength=n).astype(np.float64)
    reach = np.zeros(n)
    if m.num_rows:
        acode = data.mention_author
        if acode is None:
            aid = m["author_id"]
            acode = _codes(pc.fill_null(aid, "") if aid.null_count else aid)
        ak = mb * (1 << 40) + acode
        reach = np.bincount(_unique(ak) >> 40, minlength=n).astype(np.float64)

    end = _followers_end(data.accounts, n)
    ref = _followers_end(data.reference_accounts, n)
    mean_f = _followers_mean(data.accounts, n)
    central, edges = _centrality(data)

    observed = np.zeros(n, dtype=bool)
    if data.accounts.num_rows:
        observed[_unique(np.asarray(data.accounts["brand_idx"].to_numpy(), dtype=np.int64))] = True
    has_posts = observed & data.has_posts_partition
    has_posts |= np.bincount(pb, minlength=n) > 0
    has_mentions = observed & data.has_mentions_partition
    has_mentions |= mentions > 0

    values: Values = {}
    for i, b in enumerate(data.brand_ids):
        v: dict[str, float | None] = dict.fromkeys(INDICATOR_IDS)
        if not np.isnan(end[i]):
            v["community"] = float(end[i])
        if not np.isnan(end[i]) and not np.isnan(ref[i]) and ref[i] > 0:
            v["community_growth"] = float(end[i] / ref[i] - 1.0)
        if has_posts[i]:
            v["content_volume"] = float(volume[i])
            v["interactions"] = float(interactions[i])
            # No post or no audience: the rate is undefined, not zero.
            if volume[i] > 0 and not np.isnan(mean_f[i]) and mean_f[i] > 0:
                v["engagement_rate"] = float(interactions[i] / (volume[i] * mean_f[i]) * 100.0)
        if has_mentions[i]:
            v["mentions"] = float(mentions[i])
            v["mention_reach"] = float(reach[i])
        if (has_posts[i] or has_mentions[i]) and not np.isnan(central[i]):
            v["centrality"] = float(central[i])
        values[b] = v
    details: dict[str, object] = {
        "graph_edges": edges,
        "posts_in_window": int(orig.sum()),
        "mentions_in_window": int(m.num_rows),
        **{f"rows_read_{k}": v for k, v in data.rows_read.items()},
    }
    return values, details


def compute_indicators(panel: Panel, dt: date, lake: Lake, scoring: Scoring | None = None) -> Values:
    """The raw indicator values of every panel brand for run date `dt` (None = missing)."""
    with retained_heap():
        return compute_values(load_window(panel, dt, lake, scoring, with_topics=False))[0]
