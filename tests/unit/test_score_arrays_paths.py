"""Every path of the columnar helpers (`barometer.score.arrays`) by value: the compact, sorted,
collision and argsort paths of `dense_ranks`, the packed, multi-key and fallback paths of
`last_per_key`, `first_rows`, `combined`, `flatten`, `ts_int` and dictionary encoding."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pytest

from barometer.score import arrays as ar


def i64(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=np.int64)


def reference_ranks(x: np.ndarray) -> list[int]:
    return np.unique(x, return_inverse=True)[1].ravel().tolist()


def test_to_numpy_keeps_booleans_and_widens_integers() -> None:
    b = ar.to_numpy(pa.array([True, False]))
    assert b.dtype == bool and b.tolist() == [True, False]
    n = ar.to_numpy(pa.chunked_array([pa.array([1, 2], pa.int32()), pa.array([3], pa.int32())]))
    assert n.dtype == np.int64 and n.tolist() == [1, 2, 3]


def test_codes_rank_canonical_ids_numerically_else_hash_in_first_seen_order() -> None:
    assert ar.codes(pa.array(["10", "9", "10", "100"])).tolist() == [1, 0, 1, 2]  # 9 < 10 < 100
    assert ar.codes(pa.array(["b", "a", "b", None])).tolist() == [0, 1, 0, -1]
    assert ar.codes(pa.array(["10", "09"])).tolist() == [0, 1]  # "09" is not canonical: hashed


def test_canonical_ints_reads_sliced_and_chunked_buffers() -> None:
    # A slice starts at an offset in the buffers: its first string is not the buffer's.
    assert ar.canonical_ints(pa.array(["x", "12", "3"])[1:]).tolist() == [12, 3]  # type: ignore[union-attr]
    assert ar.canonical_ints(pa.array(["12", "3", "x"])[:2]).tolist() == [12, 3]  # type: ignore[union-attr]
    assert ar.canonical_ints(pa.array(["1", "0x", "3"])[::1]) is None
    chunked = pa.chunked_array([pa.array([], pa.string()), pa.array(["5", "70"]), pa.array(["9"])])
    assert ar.canonical_ints(chunked).tolist() == [5, 70, 9]  # type: ignore[union-attr]
    assert ar.canonical_ints(pa.chunked_array([pa.array(["5"]), pa.array(["05"])])) is None
    # An empty chunk does not end the checks: the next chunk's "05" is still refused.
    assert ar.canonical_ints(pa.chunked_array([pa.array([], pa.string()), pa.array(["05", "1"])])) is None
    assert ar.canonical_ints(pa.array(["1" * 19])).tolist() == [int("1" * 19)]  # type: ignore[union-attr]
    assert ar.canonical_ints(pa.array([], pa.string())) is None
    assert ar.canonical_ints(pa.array([1, 2])) is None  # not strings
    assert ar.canonical_ints(pa.array(["0"])).tolist() == [0]  # type: ignore[union-attr]
    assert ar.canonical_ints(pa.array(["9", "/"])) is None  # "/" is just below "0"
    assert ar.canonical_ints(pa.array([":"])) is None  # ":" is just above "9"


def test_dense_ranks_compact_range_uses_a_presence_table() -> None:
    assert ar.dense_ranks(i64(5, 3, 5, 9)).tolist() == [1, 0, 1, 2]
    assert ar.dense_ranks(i64(-7)).tolist() == [0]
    assert ar.dense_ranks(i64()).tolist() == []
    # At the edge of "compact": hi − lo = 4n + 1024 (n = 2) and one more.
    assert ar.dense_ranks(i64(0, 1032)).tolist() == [0, 1]
    assert ar.dense_ranks(i64(1033, 0)).tolist() == [1, 0]


def test_dense_ranks_sorted_path_without_shift() -> None:
    x = i64(10**6, 0, 5, 10**6, -(10**9))
    assert ar.dense_ranks(x).tolist() == [3, 1, 2, 3, 0]


def _spread(n: int, group: list[int]) -> np.ndarray:
    """n values far apart over 62 bits (distinct top bits once shifted), then a few values
    sharing one value's top bits, in descending row order so row order ≠ value order."""
    base = [k << 55 for k in range(n - len(group))]
    return np.array(base + [(5 << 55) + g for g in group], dtype=np.int64)


def test_dense_ranks_collision_path_re_sorts_groups_sharing_top_bits() -> None:
    # 64 rows: 6 bits of row, the 62-bit span shifted right by 5 bits; 5 << 55 and 5 << 55 + 3,
    # 2, 1 share their top bits. 4 rows ≤ 64 // 8: the group is re-sorted by value.
    x = _spread(64, [3, 2, 1])
    x[-1] = (1 << 62) - 1  # widen the span to 62 bits
    assert ar.dense_ranks(x).tolist() == reference_ranks(x)
    assert len(set(ar.dense_ranks(x).tolist())) == 64


def test_dense_ranks_collision_path_falls_back_to_argsort_for_many_collisions() -> None:
    x = _spread(64, list(range(20, 0, -1)))
    x[0] = -(1 << 61)
    assert ar.dense_ranks(x).tolist() == reference_ranks(x)


def test_dense_ranks_collisions_of_equal_values_stay_equal() -> None:
    x = _spread(64, [7, 3, 7, 3])
    x[-1] = (1 << 62) - 1
    r = ar.dense_ranks(x)
    assert r.tolist() == reference_ranks(x)
    assert r[-4] == r[-2] and r[-3] != r[-4]


def test_dense_ranks_argsort_and_unique_sorted() -> None:
    assert ar.dense_ranks_argsort(i64(30, 10, 30, 20)).tolist() == [2, 0, 2, 1]
    assert ar.dense_ranks_argsort(i64(4)).tolist() == [0]
    assert ar.unique_sorted(i64(3, 1, 3, 2)).tolist() == [1, 2, 3]
    assert ar.unique_sorted(i64(8)).tolist() == [8]
    assert ar.unique_sorted(i64(3, 3)).tolist() == [3] and ar.unique_sorted(i64(2, 1)).tolist() == [1, 2]
    assert ar.unique_sorted(i64()).tolist() == []


def test_ts_int_timestamps_and_dates_nulls_first() -> None:
    low = np.iinfo(np.int64).min
    ts = pa.array([datetime(1970, 1, 1, 0, 0, 1), None], pa.timestamp("us"))
    assert ar.ts_int(ts).tolist() == [1_000_000, low]
    assert ar.ts_int(pa.array([date(1970, 1, 3), None], pa.date32())).tolist() == [2, low]
    assert ar.ts_int(pa.array([date(1970, 1, 2)], pa.date64())).tolist() == [1]  # days, not ms
    chunked = pa.chunked_array([pa.array([datetime(1970, 1, 1, 0, 0, 2)], pa.timestamp("ms")),
                                pa.array([None, datetime(1970, 1, 1)], pa.timestamp("ms"))])
    assert ar.ts_int(chunked).tolist() == [2000, low, 0]


def last_reference(keys: np.ndarray, *order_by: np.ndarray) -> list[int]:
    """Per key, the row with the greatest (order_by..., row): the last of equal sort keys."""
    best: dict[int, tuple[tuple[int, ...], int]] = {}
    for r, k in enumerate(keys.tolist()):
        cand = (tuple(int(c[r]) for c in order_by), r)
        if k not in best or cand >= best[k]:
            best[k] = cand
    return sorted(r for _, r in best.values())


def test_last_per_key_trivial_cases() -> None:
    assert ar.last_per_key(i64()).tolist() == []
    assert ar.last_per_key(i64(3, 1, 2), i64(0, 0, 0)).tolist() == [0, 1, 2]  # every key once


def test_last_per_key_without_sort_keys_takes_the_last_row_read() -> None:
    assert ar.last_per_key(i64(1, 2, 1, 2, 1)).tolist() == [3, 4]


def test_last_per_key_one_sort_key_packed_and_unpacked() -> None:
    keys, ts = i64(7, 3, 7, 3, 7), i64(5, 9, 8, 2, 8)
    # 7: rows 2 and 4 hold the greatest ts (8): the later row wins. 3: row 1 (ts 9).
    assert ar.last_per_key(keys, ts).tolist() == [1, 4]
    # Keys too far apart to pack with the row: the lexsort path gives the same answer.
    wide = i64(1 << 62, 0, 1 << 62, 0, 1 << 62)
    assert ar.last_per_key(wide, ts).tolist() == [1, 4]


def test_last_per_key_several_sort_keys_in_order_of_significance() -> None:
    # Production passes two: (day, observed_at). Row order deliberately disagrees with both.
    keys = i64(1, 1, 1, 2, 2, 2)
    day = i64(5, 6, 6, 9, 9, 8)
    seen = i64(99, 10, 20, 30, 10, 99)
    assert ar.last_per_key(keys, day, seen).tolist() == [2, 3]  # day 6 beats 5 whatever seen
    assert ar.last_per_key(keys, day, seen).tolist() == last_reference(keys, day, seen)
    # Reversed significance: seen first.
    assert ar.last_per_key(keys, seen, day).tolist() == [0, 5]
    # Sort keys too wide to pack into one int64 (2 × 40 bits): lexsort over both.
    big = 1 << 40
    assert ar.last_per_key(keys, day * big, seen * big).tolist() == [2, 3]
    assert ar.last_per_key(keys, seen * big, day * big).tolist() == [0, 5]
    # Equal (day, seen): the later row.
    assert ar.last_per_key(i64(4, 4, 4), i64(1, 1, 0), i64(2, 2, 9)).tolist() == [1]


@pytest.mark.parametrize("seed", range(5))
def test_last_per_key_matches_the_reference_on_random_rows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    keys = rng.integers(0, 30, n) * (1 << (40 if seed % 2 else 0))
    a, b = rng.integers(0, 4, n), rng.integers(-3, 3, n) * (1 << (50 if seed > 2 else 0))
    assert ar.last_per_key(keys, a, b).tolist() == last_reference(keys, a, b)
    assert ar.last_per_key(keys, a).tolist() == last_reference(keys, a)


def test_pack_keeps_the_order_of_several_keys() -> None:
    a, b = i64(2, 1, 2, 1, 3), i64(-5, 7, 4, -2, 0)
    (packed,) = ar.pack((a, b))
    assert np.lexsort((b, a)).tolist() == np.argsort(packed, kind="stable").tolist()
    assert len(set(packed.tolist())) == 5
    c = i64(1, 1, 1, 1, 1)  # a zero-bit key keeps the others' order
    (p3,) = ar.pack((a, c, b))
    assert p3.tolist() == packed.tolist()
    wide = (a << 40, b << 40)
    assert ar.pack(wide) is wide  # 2 × 43 bits: left as they are
    one = (a,)
    assert ar.pack(one) is one
    empty = (i64(), i64())
    assert ar.pack(empty) is empty


def test_combined_makes_one_array() -> None:
    col = pa.chunked_array([pa.array(["a", "b"]), pa.array(["c"])])
    out = ar.combined(col)
    assert isinstance(out, pa.Array) and out.to_pylist() == ["a", "b", "c"]
    empty = ar.combined(pa.chunked_array([], pa.int64()))
    assert isinstance(empty, pa.Array) and len(empty) == 0 and empty.type == pa.int64()
    arr = pa.array([1])
    assert ar.combined(arr) is arr


def test_first_rows() -> None:
    assert ar.first_rows(i64(2, 0, 2, 1, 0), 3).tolist() == [1, 3, 0]
    assert ar.first_rows(i64(0), 1).tolist() == [0]


def test_flatten_lists_with_nulls_and_empties() -> None:
    lists = pa.array([[1, 2], None, [], [3]], pa.list_(pa.int64()))
    parents, values = ar.flatten(lists)
    assert parents.tolist() == [0, 0, 3] and values.to_pylist() == [1, 2, 3]


def test_encode_unifies_dictionary_chunks_without_decoding() -> None:
    c1 = pa.DictionaryArray.from_arrays(pa.array([0, 1, None], pa.int32()), pa.array(["a", "b"]))
    c2 = pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int32()), pa.array(["b", "c"]))
    idx, values = ar.encode(pa.chunked_array([c1, c2]))
    assert [None if i < 0 else values[i].as_py() for i in idx] == ["a", "b", None, "c", "b"]
    assert values.to_pylist() == ["a", "b", "c"] and idx.tolist() == [0, 1, -1, 2, 1]
    # One dictionary array (not chunked) too.
    idx, values = ar.encode(c2)
    assert idx.tolist() == [1, 0] and values.to_pylist() == ["b", "c"]


def test_encode_strings_chunked_and_empty() -> None:
    idx, values = ar.encode(pa.array(["x", None, "y", "x"]))
    assert idx.tolist() == [0, -1, 1, 0] and values.to_pylist() == ["x", "y"]
    idx, values = ar.encode(pa.chunked_array([pa.array(["y", "y"]), pa.array(["z", "y"])]))
    assert idx.tolist() == [0, 0, 1, 0] and values.to_pylist() == ["y", "z"]
    idx, values = ar.encode(pa.chunked_array([], pa.string()))
    assert idx.tolist() == [] and len(values) == 0


def test_dense_ranks_of_a_span_beyond_int64() -> None:
    # max − min = 2**63 does not fit an int64 (x − min would wrap): ranked by an argsort.
    x = i64(1 << 62, -(1 << 62), 0, 1 << 62)
    assert ar.dense_ranks(x).tolist() == [2, 0, 1, 2]
    big = np.iinfo(np.int64)
    assert ar.dense_ranks(i64(big.max, big.min)).tolist() == [1, 0]


@pytest.mark.parametrize(("seed", "n"), [(0, 50), (1, 200), (2, 3000), (3, 70)])
def test_dense_ranks_of_large_values_with_repeats(seed: int, n: int) -> None:
    # Ids spread over the whole int64 range (signed, like any integers), each drawn several times.
    rng = np.random.default_rng(seed)
    pool = rng.integers(-(1 << 62), 1 << 62, max(2, n // 4), dtype=np.int64)
    x = rng.choice(pool, n)
    assert ar.dense_ranks(x).tolist() == reference_ranks(x)
    pos = np.abs(x)  # ids are non-negative: the same over [0, 2**62)
    assert ar.dense_ranks(pos).tolist() == reference_ranks(pos)


def test_dense_ranks_repeats_after_the_first_value_with_shifted_keys() -> None:
    x = i64(1 << 61, 5, 1 << 61, 7, 7, 5, -(1 << 61))
    assert ar.dense_ranks(x).tolist() == [3, 1, 3, 2, 2, 1, 0]


def test_last_per_key_with_keys_too_wide_to_pack() -> None:
    # Keys spanning 2**62 (63 bits) with negatives: the key span alone rules out packing.
    keys = i64(-(1 << 61), 1 << 61, -(1 << 61), 1 << 61, 0)
    ts = i64(3, 1, 2, 4, 0)
    assert ar.last_per_key(keys, ts).tolist() == [0, 3, 4]
    keys = i64(-(1 << 62), 1 << 61, 1 << 61, 1 << 61)  # the span is set by the smallest key
    assert ar.last_per_key(keys, i64(0, 5, 9, 1)).tolist() == [0, 2]
    # A key span of 2**62 (63 bits) + 2 bits of row: packing would wrap 2**62 onto 0, so the
    # span is measured from the smallest to the greatest key, whatever sits in between.
    keys = i64(0, 1 << 62, 0)
    assert ar.last_per_key(keys, i64(1, 0, 0)).tolist() == [0, 1]
    assert ar.last_per_key(keys, i64(0, 0, 0)).tolist() == [1, 2]
    keys = i64(0, 1 << 62, 1 << 62)
    assert ar.last_per_key(keys, i64(0, 1, 0)).tolist() == [0, 1]


def test_pack_packs_up_to_62_bits_and_one_row() -> None:
    (one,) = ar.pack((i64(4), i64(9)))  # one row: one key too
    assert one.tolist() == [0]
    a, b = i64(0, (1 << 31) - 1), i64((1 << 31) - 1, 0)  # 31 + 31 bits: packed
    (p,) = ar.pack((a, b))
    assert p.tolist() == [(1 << 31) - 1, ((1 << 31) - 1) << 31]
    wide = (i64(0, (1 << 32) - 1), b)  # 32 + 31 bits: left as they are
    assert ar.pack(wide) is wide
