"""Columnar building blocks of the indicators: integer codes for id columns, dense ranks,
"latest row per key", list flattening and dictionary encoding, over numpy and pyarrow.

Ids on X are decimal integers: parsed once to int64 and ranked with sorts, they group far
faster than hashed strings; anything else (a non-canonical id) falls back to hashing.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def to_numpy(a: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow integer/boolean array without nulls as a numpy array (int64 for integers)."""
    x = a.to_numpy(zero_copy_only=False)
    return np.asarray(x, dtype=bool if x.dtype == bool else np.int64)


def codes(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integer codes of a string column (equal strings, equal codes; nulls -1), in [-1, len).

    Ids on the networks are decimal integers: when every value is a canonical one (ASCII
    digits, no leading zero) and fits an int64, the codes are the dense ranks of the parsed
    integers, far cheaper than hashing the strings. Otherwise the strings are hashed.
    """
    ints = canonical_ints(col)
    if ints is not None:
        return dense_ranks(ints)
    return encode(col)[0]


def canonical_ints(arr: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
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
        return to_numpy(pc.cast(arr, pa.int64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def dense_ranks(x: np.ndarray) -> np.ndarray:
    """Dense ranks of integers (0 for the smallest value).

    One sort of (value, row) packed in an int64, not an argsort: the value's top bits above
    the row's. When the values span more bits than remain, distinct values may share their
    top bits; those few groups are re-sorted by the full value.
    """
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(x.min()), int(x.max())
    if hi - lo > np.iinfo(np.int64).max:  # x − lo would overflow int64 (ids are ≥ 0: never)
        return dense_ranks_argsort(x)
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
        return dense_ranks_argsort(x)
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
            rows = np.flatnonzero(np.isin(packed, unique_sorted(packed[1:][bad])))
            if len(rows) > n // 8:
                return dense_ranks_argsort(x)
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


def dense_ranks_argsort(x: np.ndarray) -> np.ndarray:
    """Dense ranks of integers, by an argsort."""
    order = np.argsort(x)
    sx = x[order]
    step = np.empty(len(x), dtype=np.int64)
    step[:1] = 0
    np.not_equal(sx[1:], sx[:-1], out=step[1:], casting="unsafe")
    out = np.empty(len(x), dtype=np.int64)
    out[order] = np.cumsum(step)
    return out


def unique_sorted(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique without its slow hash path for large int arrays)."""
    s = np.sort(x)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def ts_int(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamps (or dates) as int64, nulls first in sort order."""
    ints = pc.cast(col, pa.int64()) if not pa.types.is_date(col.type) else pc.cast(
        pc.cast(col, pa.date32()), pa.int32())
    return np.asarray(pc.fill_null(pc.cast(ints, pa.int64()), np.iinfo(np.int64).min)
                      .to_numpy(zero_copy_only=False), dtype=np.int64)


def last_per_key(keys: np.ndarray, *order_by: np.ndarray) -> np.ndarray:
    """Row indices of the last row per key, ordering rows by `order_by` (last = greatest).

    np.lexsort is stable, so equal sort keys keep the lake's (deterministic) read order.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    sk = np.sort(keys)
    if not (sk[1:] == sk[:-1]).any():  # every key once: every row is its key's last
        return np.arange(len(keys), dtype=np.int64)
    order_by = pack(order_by)
    n = len(keys)
    ib = max(1, (n - 1).bit_length())
    kspan = int(sk[-1]) - int(sk[0])
    del sk
    if len(order_by) == 1 and kspan.bit_length() + ib <= 63:
        return last_per_key_packed(keys, order_by[0], ib)
    order = np.lexsort((*reversed(order_by), keys)) if order_by else np.argsort(keys, kind="stable")
    sk = keys[order]
    last = np.ones(len(sk), dtype=bool)
    last[:-1] = sk[1:] != sk[:-1]
    return np.sort(order[last])


def last_per_key_packed(keys: np.ndarray, order_by: np.ndarray, ib: int) -> np.ndarray:
    """`last_per_key` with one sort key, when (key − min, row) packs in an int64.

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


def pack(cols: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
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


def combined(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One array (a take from a column of many chunks is much slower than from one)."""
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks else pa.array([], col.type)
    return col


def first_rows(codes: np.ndarray, k: int) -> np.ndarray:
    """Row index of each code's first occurrence (codes in [0, k), each present)."""
    first = np.empty(k, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    return first


def flatten(lists: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.ChunkedArray | pa.Array]:
    """(row of each element, the elements) of a list column."""
    lens = to_numpy(pc.fill_null(pc.list_value_length(lists), 0))
    parents = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    return parents, pc.list_flatten(lists)


def encode(arr: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(codes, distinct values) of a string or dictionary column: codes index the values,
    -1 for nulls. Dictionary chunks are unified, not decoded (some values may be unused)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    if chunks and all(pa.types.is_dictionary(c.type) for c in chunks):
        u = pa.chunked_array(chunks, chunks[0].type).unify_dictionaries()
        values = u.chunk(0).dictionary
        idx = np.concatenate([to_numpy(pc.fill_null(c.indices, -1)) for c in u.chunks])
        return idx, values
    if any(pa.types.is_dictionary(c.type) for c in chunks):
        arr = pc.cast(arr, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    enc = pc.dictionary_encode(arr)
    return to_numpy(pc.fill_null(enc.indices, -1)), enc.dictionary

