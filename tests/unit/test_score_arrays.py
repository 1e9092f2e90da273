"""The scorer's columnar helpers (`barometer.score.arrays`) and PageRank against plain references."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometer.score import arrays as ar
from barometer.score.pagerank import DAMPING, pagerank


@pytest.mark.parametrize(("values", "ints"), [
    (["12", "3", "0"], [12, 3, 0]),
    (["1876543210987654321"], [1876543210987654321]),
    (["007"], None), (["-12"], None), (["0x1F"], None), (["+1"], None), (["1 2"], None), ([""], None),
    (["12345678901234567890"], None),  # 20 digits: not an int64
    (["9223372036854775808"], None),  # int64 max + 1
    (["1", None], None),
])
def test_canonical_ints_accepts_only_canonical_decimal_ids(values: list[str | None], ints: list[int] | None) -> None:
    got = ar.canonical_ints(pa.array(values, pa.string()))
    assert (got is None) if ints is None else (got is not None and got.tolist() == ints)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**62).map(str), st.sampled_from(["007", "x", "a b"]), st.none()),
                min_size=1, max_size=60))
def test_codes_are_equal_exactly_for_equal_strings(values: list[str | None]) -> None:
    codes = ar.codes(pa.chunked_array([pa.array(values[:3], pa.string()), pa.array(values[3:], pa.string())]))
    for i, a in enumerate(values):
        assert (codes[i] == -1) == (a is None)
        for j, b in enumerate(values):
            if a is not None and b is not None:
                assert (codes[i] == codes[j]) == (a == b)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=200))
def test_dense_ranks_match_numpy_unique(values: list[int]) -> None:
    x = np.array(values, dtype=np.int64)
    assert ar.dense_ranks(x).tolist() == np.unique(x, return_inverse=True)[1].ravel().tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=80))
def test_last_per_key_picks_the_greatest_then_the_last_row(rows: list[tuple[int, int]]) -> None:
    keys = np.array([k for k, _ in rows], dtype=np.int64)
    ts = np.array([t for _, t in rows], dtype=np.int64)
    want = {}
    for i, (k, t) in enumerate(rows):
        if k not in want or t >= rows[want[k]][1]:
            want[k] = i
    assert sorted(ar.last_per_key(keys, ts).tolist()) == sorted(want.values())


def dense_pagerank(edges: list[tuple[int, int]], n: int, iters: int = 500) -> np.ndarray:
    m = np.zeros((n, n))
    for s, d in edges:
        m[s, d] += 1
    out = m.sum(axis=1)
    pr = np.full(n, 1 / n)
    for _ in range(iters):
        dangling = pr[out == 0].sum()
        flow = np.where(out > 0, pr / np.where(out > 0, out, 1), 0) @ m
        pr = DAMPING * (flow + dangling / n) + (1 - DAMPING) / n
    return pr


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40))))
def test_pagerank_matches_a_dense_power_iteration(graph: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = graph
    src = np.array([s for s, _ in edges], dtype=np.int64)
    dst = np.array([d for _, d in edges], dtype=np.int64)
    got = pagerank(src, dst, n)
    assert np.allclose(got, dense_pagerank(edges, n), rtol=1e-9, atol=1e-12)
    assert abs(got.sum() - 1) < 1e-9
