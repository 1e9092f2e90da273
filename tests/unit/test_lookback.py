"""Issue 13: the look-back reach estimate (collect/lookback.py, estimate.reach_first_mentions).

Pinned by hand-computed values; its unbiasedness checked on a simulated heavy-tailed population
where the sample-only estimators err by a third (score/estimate.py's table).
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np

from barometer.collect.lookback import firsts, last_day, lookback_from, sampled_posts
from barometer.collect.parse import build_tables
from barometer.config import parse_panel
from barometer.score.estimate import (
    NONE_BEFORE,
    NOT_LOOKED,
    first_mentions,
    first_mentions_se,
    reach_first_mentions,
    reach_sgt,
)
from barometer.sim.query import SearchIndex
from barometer.sim.world import Post

W0 = 100  # the window's first day, as days since 1970


def test_first_mentions_estimate_by_hand() -> None:
    # a: a row read in full (counted once, its sampled row too); b: sampled, no earlier mention;
    # c: sampled, last earlier mention the day before the window; d: an earlier mention inside
    # the window (not its first); e: sampled at p = 1/2, no earlier mention.
    author = np.array([0, 0, 1, 2, 3, 4])
    weight = np.array([1.0, 4.0, 4.0, 4.0, 4.0, 2.0])
    prev = np.array([NONE_BEFORE, NONE_BEFORE, NONE_BEFORE, W0 - 1, W0, NONE_BEFORE])
    start = np.array([NOT_LOOKED, 0, 0, 0, 0, 0])
    rows = first_mentions(author, weight, prev, start, W0)
    assert rows is not None and rows.tolist() == [False, False, True, True, False, True]
    est, se = reach_first_mentions(author, weight, prev, start, W0)  # type: ignore[misc]
    assert est == 1 + 4 + 4 + 2  # 11
    assert se == math.sqrt(4 * 3 + 4 * 3 + 2 * 1)  # Σ (1 − p)/p² = Σ w (w − 1)


def test_not_looked_back_far_enough_gives_none() -> None:
    author, weight = np.array([0, 1]), np.array([4.0, 4.0])
    prev = np.array([NONE_BEFORE, NONE_BEFORE])
    assert reach_first_mentions(author, weight, prev, np.array([0, NOT_LOOKED]), W0) is None
    assert reach_first_mentions(author, weight, prev, np.array([0, W0 + 1]), W0) is None
    assert reach_first_mentions(author, weight, prev, np.array([0, W0]), W0) == (8.0, math.sqrt(24))


def test_unbiased_where_sample_only_estimators_are_not() -> None:
    """180 days, 3,000 authors of lognormal activity; each day read in 30-minute slices at
    p = 0.1. The look-back estimate's mean over 200 draws is within 1 % of the truth; SGT, from
    the same samples, is off by more than 25 %."""
    rng = np.random.default_rng(5)
    days, n_auth, slices, p = 180, 3000, 48, 0.1
    k = np.ceil(rng.lognormal(0.0, 1.2, n_auth)).astype(int)
    author = np.repeat(np.arange(n_auth), k)
    t = np.sort(rng.integers(0, days * slices, len(author)))  # slice index over the window
    rng.shuffle(author)
    order = np.lexsort((t, author))
    first = np.zeros(len(author), dtype=bool)
    first[order[np.r_[True, author[order][1:] != author[order][:-1]]]] = True
    prev = np.full(len(author), NONE_BEFORE)
    prev[~first] = W0  # inside the window: not a first mention
    start = np.zeros(len(author), dtype=np.int64)
    ht, sgt = [], []
    for _ in range(200):
        chosen = rng.random(days * slices) < p
        keep = chosen[t]
        w = np.full(keep.sum(), 1 / p)
        got = reach_first_mentions(author[keep], w, prev[keep], start[keep], W0)
        assert got is not None
        ht.append(got[0])
        _, codes = np.unique(author[keep], return_inverse=True)
        sgt.append(reach_sgt(codes, w)[0])
    assert abs(np.mean(ht) / n_auth - 1) < 0.01, np.mean(ht)
    assert np.mean(sgt) / n_auth - 1 < -0.25, np.mean(sgt)
    # Its spread is the slices': (1 − p)/p Σ_s F_s², F_s the first mentions in slice s. Rows of
    # one slice come together, so the scorer's standard error redraws slices (score/sampled.py).
    f = np.bincount(t[first], minlength=days * slices).astype(float)
    assert 0.85 < np.std(ht) / math.sqrt((1 - p) / p * (f * f).sum()) < 1.15


def _post(pid: int, author: str, at: str) -> dict[str, object]:
    return {"id": str(pid), "author_id": author, "created_at": at, "text": "@alpha"}


def test_firsts_and_last_day() -> None:
    pages = [{"endpoint": "search_recent", "context": {"brand_id": "a", "sample_p": 0.5},
              "body": {"data": [_post(3, "u1", "2018-03-20T10:00:00.000Z"),
                                _post(1, "u1", "2018-03-20T08:00:00.000Z"),
                                _post(2, "u2", "2018-03-20T09:00:00.000Z"),
                                _post(4, "own", "2018-03-20T09:00:00.000Z")]}},
             {"endpoint": "search_recent", "context": {"brand_id": "b", "sample_p": 0.5},
              "body": {"data": [_post(5, "u3", "2018-03-20T09:00:00.000Z")]}},
             {"endpoint": "search_recent", "context": {"brand_id": "a"},  # read in full: no look-back
              "body": {"data": [_post(6, "u4", "2018-03-19T09:00:00.000Z")]}}]
    posts = sampled_posts(pages, "a", {"own"})
    assert [p[0] for p in posts] == ["1", "2", "3"]
    look, later = firsts(posts)
    assert look == {"1": ("u1", datetime(2018, 3, 20, 8)), "2": ("u2", datetime(2018, 3, 20, 9))}
    assert later == {"3": "1"}
    body = {"data": [{"start": "2018-03-18T00:00:00.000Z", "end": "2018-03-19T00:00:00.000Z", "tweet_count": 2},
                     {"start": "2018-03-19T00:00:00.000Z", "end": "2018-03-20T00:00:00.000Z", "tweet_count": 0},
                     {"start": "2018-03-20T00:00:00.000Z", "end": "2018-03-20T08:00:00.000Z", "tweet_count": 0}]}
    assert last_day([body]) == date(2018, 3, 18)
    assert last_day([{"data": []}]) is None
    assert lookback_from(date(2018, 3, 20), 182) == date(2017, 9, 20)


def test_lookback_record_fills_the_rows_and_its_counts_are_not_volumes() -> None:
    panel = parse_panel({"id": "t", "name": "T", "brands": [
        {"id": "a", "name": "A", "accounts": [{"handle": "alpha"}], "mention_query": "@alpha"}]})
    ctx = {"brand_id": "a", "own_ids": [], "sample_weight": 2.0, "sample_p": 0.5}
    pages = [
        {"endpoint": "search_recent", "context": ctx, "observed_at": "2018-03-21T05:00:00",
         "body": {"data": [_post(1, "u1", "2018-03-20T08:00:00.000Z"), _post(2, "u2", "2018-03-20T09:00:00.000Z")]}},
        {"endpoint": "counts_all", "context": {"brand_id": "a", "lookback": "1"}, "observed_at": "2018-03-21T05:00:00",
         "body": {"data": [{"start": "2018-03-18T00:00:00.000Z", "end": "2018-03-19T00:00:00.000Z",
                            "tweet_count": 3}]}},
        {"endpoint": "lookback", "context": {"brand_id": "a"}, "observed_at": "2018-03-21T05:00:00",
         "body": {"posts": {"1": ["2018-03-18", "2017-09-20"], "2": [None, "2017-09-20"]}}},
    ]
    tables, errors = build_tables(panel, pages, {}, lambda _t: [])
    assert not errors
    rows = {r["post_id"]: r for r in tables["mentions"].to_pylist()}
    assert rows["1"]["author_prev_day"] == date(2018, 3, 18)
    assert rows["2"]["author_prev_day"] is None
    assert {r["author_lookback_from"] for r in rows.values()} == {date(2017, 9, 20)}
    assert tables["mention_counts"].num_rows == 0  # the author's counts are not the brand's volume


def test_simulator_from_takes_a_user_id_or_a_handle() -> None:
    posts = [Post(ts=1_521_504_000_000 + i, author_id=a, text=t, kind="original", family="test", id=i)
             for i, (a, t) in enumerate([("11", "hello @alpha"), ("12", "@alpha again"), ("11", "nothing")])]
    idx = SearchIndex(posts, {"11": "Jo_Doe", "12": "Other"})
    assert idx.positions("@alpha from:11") == [0]
    assert idx.positions("@alpha from:jo_doe") == [0]
    assert idx.positions("from:11") == [0, 2]
    assert idx.positions("@alpha -from:11") == [1]
    assert idx.positions("@alpha from:99") == []


def test_standard_error_by_slice_when_first_mentions_cluster() -> None:
    """A day read at p = 1/24 (2 of its 48 slices): 4 first mentions in one drawn slice, none in
    the other. By slice: 48² (1 − 1/24) / 2 · s², s² = var([4, 0]) = 8 → 8,832; by row:
    4 · 24 · 23 = 2,208. The larger is published."""
    day = 17_600 * 86_400_000
    ms = np.array([day + 60_000 * i for i in range(4)])  # all in slice 0
    w = np.full(4, 24.0)
    assert first_mentions_se(w, ms) == math.sqrt(8832)
    # spread over both drawn slices (2 and 2): s² = 0, the by-row figure stands
    ms2 = np.array([day, day + 60_000, day + 5 * 1_800_000, day + 5 * 1_800_000 + 1])
    assert first_mentions_se(w, ms2) == math.sqrt(2208)
    assert first_mentions_se(w) == math.sqrt(2208)
