"""Weighted PageRank by power iteration on an edge list, numpy only (the `centrality` indicator)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

DAMPING = 0.85
PAGERANK_TOL = 1e-12
PAGERANK_MAX_ITER = 10_000
# Threads of a PageRank step (numpy releases the GIL in its gathers and sums).
_THREADS = max(1, min(4, os.cpu_count() or 1))


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

