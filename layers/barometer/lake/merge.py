"""Merging a partition's stored rows with a run's new rows by key: nothing lost, nothing twice.

A run that read a brand's data completely replaces that brand's rows of the partition; a run
that could not (a fault, the budget, the deadline, data the API no longer serves) merges its
rows into the stored ones instead: one row per key, the latest observation winning and the
new row winning a tie. Rows of brands the run did not read are kept as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pyarrow as pa
import pyarrow.compute as pc

_POS = "__pos"
_SRC = "__src"


def _same_as_next(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Per row but the last: whether the next row holds the same value (null equals null)."""
    a, b = col[:-1], col[1:]
    eq = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    out = pc.or_(eq, both_null)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def latest_per_key(t: pa.Table, keys: Sequence[str], order: Sequence[str] = ()) -> pa.Table:
    """One row per `keys`: the last by (`order`..., row position). Rows come out sorted by key."""
    if t.num_rows == 0:
        return t
    t = t.append_column(_POS, pa.array(range(t.num_rows), pa.int64()))
    idx = pc.sort_indices(t, sort_keys=[(c, "ascending", "at_start") for c in (*keys, *order, _POS)])
    s = t.take(idx)
    if s.num_rows > 1:
        same = _same_as_next(s[keys[0]])
        for k in keys[1:]:
            same = pc.and_(same, _same_as_next(s[k]))
        last = pa.concat_arrays([pc.invert(same), pa.array([True])])
        s = s.filter(last)
    return s.drop_columns([_POS])


def combine(old: pa.Table | None, new: pa.Table, replace: Collection[str], keys: Sequence[str],
            order: Sequence[str] = (), keep_stored: bool = False) -> pa.Table:
    """The partition after a run: the brands in `replace` get the run's rows only; every other
    brand keeps its stored rows, merged by key with the run's (latest `order` wins, then the
    new row). `keep_stored`: a stored row always wins, the run only adds keys the partition
    lacks (a late run: its observations belong to another day), whatever `replace` says. `old`
    is cast to `new`'s schema."""
    if old is None or old.num_rows == 0:
        return new
    replace = set() if keep_stored else set(replace)
    brands = set(pc.unique(old["brand_id"]).to_pylist()) | set(pc.unique(new["brand_id"]).to_pylist())
    if brands <= replace:
        return new
    old = old.select(new.schema.names).cast(new.schema)
    kept = old.filter(pc.invert(pc.is_in(old["brand_id"], pa.array(sorted(replace), pa.string()))))
    src_old, src_new = (1, 0) if keep_stored else (0, 1)
    both = pa.concat_tables([kept.append_column(_SRC, pa.array([src_old] * kept.num_rows, pa.int8())),
                             new.append_column(_SRC, pa.array([src_new] * new.num_rows, pa.int8()))])
    return latest_per_key(both, keys, (() if keep_stored else tuple(order)) + (_SRC,)).drop_columns([_SRC])


def key_strings(t: pa.Table, keys: Sequence[str]) -> pa.Array:
    """One string per row joining its key columns (for set membership across tables)."""
    cols = [pc.cast(t[k], pa.string()) for k in keys]
    if not cols:
        raise ValueError("key_strings: no key column")
    joined = cols[0] if len(cols) == 1 else pc.binary_join_element_wise(*cols, "\x1f")
    out = pc.fill_null(joined, "")
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def drop_keys(t: pa.Table, stored: pa.Array, keys: Sequence[str]) -> tuple[pa.Table, int]:
    """`t` without the rows whose key is in `stored` (from `key_strings`), and how many went."""
    if t.num_rows == 0 or len(stored) == 0:
        return t, 0
    hit = pc.is_in(key_strings(t, keys), value_set=stored)
    n = pc.sum(hit).as_py() or 0
    return (t.filter(pc.invert(hit)), n) if n else (t, 0)
