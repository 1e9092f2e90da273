"""PageRank by value: hand-worked graphs, the convergence rule (iterations counted), weights,
the empty graph, and the threaded step split over target ranges."""

from __future__ import annotations

import numpy as np
import pytest

from barometer.score import pagerank as pr_mod
from barometer.score.pagerank import DAMPING, PAGERANK_TOL, pagerank


def arr(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=np.int64)


def dense(edges: list[tuple[int, int]], n: int, weights: list[float] | None = None, damping: float = DAMPING,
          tol: float = PAGERANK_TOL, max_iter: int = 100_000) -> tuple[np.ndarray, int, list[float]]:
    """Reference power iteration: (ranks, iterations run, the L1 change of each iteration)."""
    m = np.zeros((n, n))
    for (s, d), w in zip(edges, weights or [1.0] * len(edges), strict=True):
        m[s, d] += w
    out = m.sum(axis=1)
    p = np.full(n, 1 / n)
    deltas = []
    for it in range(1, max_iter + 1):
        flow = np.where(out > 0, p / np.where(out > 0, out, 1), 0) @ m
        new = damping * (flow + p[out == 0].sum() / n) + (1 - damping) / n
        deltas.append(float(np.abs(new - p).sum()))
        p = new
        if deltas[-1] < tol:
            return p, it, deltas
    return p, max_iter, deltas


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts PageRank iterations: each one runs every edge segment once (one segment here)."""
    calls: list[int] = []
    run = pr_mod._Segment.run

    def counted(self: pr_mod._Segment, pr: np.ndarray) -> None:
        calls.append(1)
        run(self, pr)

    monkeypatch.setattr(pr_mod._Segment, "run", counted)
    return calls


def test_documented_constants() -> None:
    # The methodology states both (a test checks the page is generated from them).
    assert (DAMPING, PAGERANK_TOL) == (0.85, 1e-12)


def test_empty_graphs() -> None:
    assert pagerank(arr(), arr(), 0).shape == (0,)
    # Nodes without any edge: all dangling, the teleport and dangling mass spread evenly.
    np.testing.assert_allclose(pagerank(arr(), arr(), 4), [0.25] * 4, rtol=0, atol=1e-15)


def test_two_nodes_by_hand() -> None:
    # 0 → 1; node 1 is dangling. p0 = 0.15/2 + 0.85·p1/2 and p1 = p0 + 0.85·p0... solved:
    # p0 = (0.15 + 0.85 p1)/2, p1 = 0.85 p0 + (0.15 + 0.85 p1)/2 → p1 = 1.85 p0, p0 = 1/2.85.
    got = pagerank(arr(0), arr(1), 2)
    np.testing.assert_allclose(got, [1 / 2.85, 1.85 / 2.85], rtol=1e-12)


def test_a_cycle_converges_in_one_iteration(steps: list[int]) -> None:
    # The uniform start is already the fixed point of a cycle: one iteration, change 0.
    got = pagerank(arr(0, 1, 2), arr(1, 2, 0), 3)
    np.testing.assert_allclose(got, [1 / 3] * 3, rtol=1e-15)
    assert len(steps) == 1


def test_max_iter_caps_the_iterations_when_the_change_never_falls_below_tol(steps: list[int]) -> None:
    pagerank(arr(0, 1, 2), arr(1, 2, 0), 3, tol=0.0, max_iter=7)  # a change of 0 is not < 0
    assert len(steps) == 7


def test_stops_at_the_first_change_below_tol(steps: list[int]) -> None:
    edges = [(0, 1), (1, 2), (2, 0), (2, 1), (1, 0), (3, 0), (0, 3)]
    src, dst = arr(*(s for s, _ in edges)), arr(*(d for _, d in edges))
    _, _, deltas = dense(edges, 4, tol=0.0, max_iter=40)
    for k in (2, 5, 12, 30):
        # tol between the changes of iterations k − 1 and k (every earlier change is above it,
        # by a margin far beyond rounding): PageRank must run exactly k iterations.
        tol = (deltas[k - 1] * deltas[k - 2]) ** 0.5
        assert deltas[k - 1] < tol * 0.99 and min(deltas[:k - 1]) > tol * 1.01
        want, iters, _ = dense(edges, 4, tol=tol)
        assert iters == k
        steps.clear()
        got = pagerank(src, dst, 4, tol=tol)
        assert len(steps) == k, tol
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    steps.clear()
    pagerank(src, dst, 4)  # the default tolerance, 1e-12
    assert len(steps) == dense(edges, 4)[1] > 30


def test_weights_count_like_parallel_edges_and_damping_is_a_parameter() -> None:
    edges = [(0, 1), (0, 2), (1, 2), (2, 0), (3, 1)]
    src, dst = arr(*(s for s, _ in edges)), arr(*(d for _, d in edges))
    w = np.array([3.0, 1.0, 2.0, 0.5, 1.0])
    want, _, _ = dense(edges, 4, list(w))
    np.testing.assert_allclose(pagerank(src, dst, 4, weights=w), want, rtol=1e-10)
    # Integer weight 3 on 0 → 1 is three parallel 0 → 1 edges.
    par = [(0, 1), (0, 1), (0, 1), (0, 2), (1, 2), (1, 2), (2, 0), (3, 1)]
    w2 = [1.0, 1.0, 1.0, 1.0, 2.0 / 2, 2.0 / 2, 0.5, 1.0]
    got = pagerank(arr(*(s for s, _ in par)), arr(*(d for _, d in par)), 4, weights=np.array(w2))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(pagerank(src, dst, 4, damping=0.5), dense(edges, 4, damping=0.5)[0], rtol=1e-10)
    np.testing.assert_allclose(pagerank(src, dst, 4, damping=0.0), [0.25] * 4, rtol=1e-15)


def test_unfed_sources_by_hand() -> None:
    # 0 and 1 have no in-edge (their rank is the teleport + dangling share), both point at 2,
    # which points at 3 (dangling). With c the common share of 0 and 1:
    # p0 = p1 = c = 0.15/4 + 0.85·p3/4; p2 = c + 0.85·(c + c); p3 = c + 0.85·p2.
    got = pagerank(arr(0, 1, 2), arr(2, 2, 3), 4)
    c = got[0]
    assert got[1] == c
    np.testing.assert_allclose(got[2], c + 0.85 * 2 * c, rtol=1e-12)
    np.testing.assert_allclose(got[3], c + 0.85 * got[2], rtol=1e-12)
    np.testing.assert_allclose(c, 0.15 / 4 + 0.85 * got[3] / 4, rtol=1e-12)
    np.testing.assert_allclose(got.sum(), 1.0, rtol=1e-12)


def test_unfed_weighted_sources_and_fed_dangling_nodes() -> None:
    # Unfed 0 splits 1:3 between 1 and 2; 1 → 2; 2 dangling; 3 isolated (unfed and dangling).
    edges = [(0, 1), (0, 2), (1, 2)]
    w = [1.0, 3.0, 2.0]
    want, _, _ = dense(edges, 4, w)
    got = pagerank(arr(0, 0, 1), arr(1, 2, 2), 4, weights=np.array(w))
    np.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.parametrize("threads", [2, 3, 4])
def test_the_step_split_over_threads_gives_the_same_ranks(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    rng = np.random.default_rng(7)
    n, m = 40, 300
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    edges = list(zip(src.tolist(), dst.tolist(), strict=True))
    want, _, _ = dense(edges, n)
    one = pagerank(src, dst, n)
    monkeypatch.setattr(pr_mod, "_THREADS", threads)
    monkeypatch.setattr(pr_mod, "_SPLIT_EDGES", 16)  # split small graphs too
    segs = pr_mod._segments(np.sort(dst), np.sort(dst), np.ones(m))
    assert len(segs) == threads
    # Segments partition the targets: none shared, none lost, in order.
    targets = np.concatenate([s.targets for s in segs])
    assert targets.tolist() == sorted(set(dst.tolist()))
    assert sum(len(s.src) for s in segs) == m
    got = pagerank(src, dst, n)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(got, one, rtol=1e-12)


def test_segments_of_no_edges_and_one_segment_by_default() -> None:
    assert pr_mod._segments(arr(), arr(), np.zeros(0)) == []
    dst = arr(0, 0, 1, 3, 3, 3)
    (seg,) = pr_mod._segments(arr(5, 6, 7, 8, 9, 4), dst, np.arange(6, dtype=float))
    assert seg.targets.tolist() == [0, 1, 3] and seg.starts.tolist() == [0, 2, 3]
    seg.run(np.arange(10, dtype=float))  # inflow = Σ pr[src] × coef per target
    assert seg.sums.tolist() == [5 * 0 + 6 * 1, 7 * 2, 8 * 3 + 9 * 4 + 4 * 5]


def test_fewer_parts_than_threads_when_the_graph_is_small(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    n, m = 30, 250
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    want = pagerank(src, dst, n)
    monkeypatch.setattr(pr_mod, "_THREADS", 4)
    monkeypatch.setattr(pr_mod, "_SPLIT_EDGES", 100)  # 250 edges → 2 parts (not 2.5)
    dsts = np.sort(dst)
    assert len(pr_mod._segments(dsts, dsts, np.ones(m))) == 2
    np.testing.assert_allclose(pagerank(src, dst, n), want, rtol=1e-12)


def test_a_target_holding_most_edges_leaves_empty_cuts_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    # 200 distinct edges into node 0, one into each other node: the cuts at 100 and 200 edges
    # both fall inside node 0's run; that empty part is skipped, not the end of the split.
    edges = [(i, 0) for i in range(1, 201)] + [(0, i) for i in range(1, 201)]
    src, dst = arr(*(s for s, _ in edges)), arr(*(d for _, d in edges))
    monkeypatch.setattr(pr_mod, "_THREADS", 4)
    monkeypatch.setattr(pr_mod, "_SPLIT_EDGES", 1)
    segs = pr_mod._segments(np.sort(dst), np.sort(dst), np.ones(400))
    assert [len(s.targets) for s in segs] == [1, 100, 100]
    np.testing.assert_allclose(pagerank(src, dst, 201), dense(edges, 201)[0], rtol=1e-10)
