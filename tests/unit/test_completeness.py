"""Completeness (issue 17): merging a partition by key, a run's reads, the cursor state of a
rerun, and how score reads the `completeness` table (no network; small file lakes)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from barometer.collect.reads import COMPLETE, NONE, PARTIAL, Reads
from barometer.collect.state import merge_rerun
from barometer.config import parse_panel
from barometer.lake.merge import combine, drop_keys, key_strings, latest_per_key
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.score.completeness import assess

D = date(2018, 4, 30)
T0, T1 = datetime(2018, 5, 1, 5), datetime(2018, 5, 2, 5)


def _posts(*rows: tuple[str, str, int, datetime]) -> pa.Table:
    return pa.table({"brand_id": [r[0] for r in rows], "post_id": [r[1] for r in rows],
                     "likes": [r[2] for r in rows], "observed_at": pa.array([r[3] for r in rows], pa.timestamp("ms"))})


def _as_set(t: pa.Table) -> set[tuple[object, ...]]:
    return set(zip(*(t[c].to_pylist() for c in t.column_names), strict=True))


def test_latest_per_key_keeps_the_last_observation_then_the_last_row() -> None:
    t = _posts(("a", "2", 1, T1), ("a", "1", 5, T0), ("a", "2", 9, T0), ("b", "1", 3, T0), ("a", "1", 6, T0))
    out = latest_per_key(t, ["brand_id", "post_id"], ["observed_at"])
    assert out.to_pylist() == [
        {"brand_id": "a", "post_id": "1", "likes": 6, "observed_at": T0},  # tie: the later row
        {"brand_id": "a", "post_id": "2", "likes": 1, "observed_at": T1},
        {"brand_id": "b", "post_id": "1", "likes": 3, "observed_at": T0},
    ]


def test_combine_replaces_complete_brands_and_merges_the_others() -> None:
    old = _posts(("a", "1", 1, T0), ("a", "2", 2, T0), ("b", "1", 3, T0), ("c", "1", 4, T0))
    new = _posts(("a", "1", 10, T1), ("b", "1", 30, T1), ("b", "9", 90, T1))
    keys, order = ["brand_id", "post_id"], ["observed_at"]
    # a read completely: its rows replaced (a/2 gone); b merged (b/1 newer wins, b/9 added); c kept.
    assert _as_set(combine(old, new, {"a"}, keys, order)) == {
        ("a", "1", 10, T1), ("b", "1", 30, T1), ("b", "9", 90, T1), ("c", "1", 4, T0)}
    # Nothing complete: every stored row stays, the newer observation of a key wins.
    assert _as_set(combine(old, new, set(), keys, order)) == {
        ("a", "1", 10, T1), ("a", "2", 2, T0), ("b", "1", 30, T1), ("b", "9", 90, T1), ("c", "1", 4, T0)}
    # A late run: stored rows always win, only new keys are added.
    assert _as_set(combine(old, new, {"a", "b"}, keys, order, keep_stored=True)) == {
        ("a", "1", 1, T0), ("a", "2", 2, T0), ("b", "1", 3, T0), ("b", "9", 90, T1), ("c", "1", 4, T0)}
    # Every brand complete and nothing else stored: the new table itself, untouched.
    assert combine(old.slice(0, 3), new, {"a", "b"}, keys, order) is new
    assert combine(None, new, set(), keys, order) is new


def test_drop_keys_removes_rows_stored_elsewhere() -> None:
    t = _posts(("a", "1", 1, T0), ("a", "2", 2, T0), ("b", "1", 3, T0))
    stored = key_strings(_posts(("a", "2", 0, T0), ("b", "1", 0, T0), ("z", "9", 0, T0)), ["brand_id", "post_id"])
    out, n = drop_keys(t, stored, ["brand_id", "post_id"])
    assert n == 2 and out["post_id"].to_pylist() == ["1"]


def test_reads_combine_spans_per_day() -> None:
    r = Reads()
    r.add("a", "posts", date(2018, 4, 28), D, COMPLETE)  # account 1
    r.add("a", "posts", D, D, NONE, "account 2: 503")  # account 2
    r.add("a", "mentions", date(2018, 4, 27), date(2018, 4, 28), NONE, "aged out")
    r.add("a", "mentions", date(2018, 4, 29), D, COMPLETE)
    r.add("b", "mentions", D, D, PARTIAL, "budget")
    days = r.days()
    assert days[("a", "posts")] == {date(2018, 4, 28): (COMPLETE, None), date(2018, 4, 29): (COMPLETE, None),
                                    D: (PARTIAL, "account 2: 503")}
    assert r.complete()["posts"] == set() and r.complete()["mentions"] == set()
    assert r.incomplete()["mentions"] == {"a": "aged out", "b": "budget"}
    t = r.table("run-1", T0)
    assert t.schema == SCHEMAS["completeness"] and t.num_rows == 3 + 4 + 1
    assert Reads.from_json(r.to_json()).days() == days


def test_merge_rerun_moves_only_the_streams_read_to_the_end() -> None:
    at = {"accounts": {"h": "1"}, "timelines": {"1": {"since_id": "50"}, "2": {"since_id": "60"}},
          "mentions": {"a": {"since_id": "70"}, "b": {"since_id": "80"}}, "counted": {"a": "2018-04-30"}}
    new = {"accounts": {"h": "1", "k": "3"}, "timelines": {"1": {"since_id": "55"}, "2": {"since_id": "40"}},
           "mentions": {"a": {"since_id": "40"}, "b": {"since_id": "90"}, "c": {"since_id": "1"}},
           "counted": {"a": "2018-04-29"}}
    out = merge_rerun(at, new, {("timelines", "1"), ("mentions", "b")})
    assert out["timelines"] == {"1": {"since_id": "55"}, "2": {"since_id": "60"}}
    assert out["mentions"] == {"a": {"since_id": "70"}, "b": {"since_id": "90"}, "c": {"since_id": "1"}}
    assert out["counted"] == {"a": "2018-04-30"} and out["accounts"] == {"h": "1", "k": "3"}
    assert merge_rerun(at, new, {("mentions", "b")}, mine={"a"})["mentions"]["b"] == {"since_id": "80"}


# -- score: reading completeness -------------------------------------------------------------
PANEL = parse_panel({"id": "p", "name": "P", "scoring": {"window_days": 20},
                     "brands": [{"id": "a", "name": "A", "accounts": [{"handle": "a_h"}], "mention_query": "a"},
                                {"id": "b", "name": "B", "accounts": [{"handle": "b_h"}], "mention_query": "b"}]})
START = D - timedelta(days=19)


def _part(lake: Lake, table: str, dt: date) -> None:
    lake.write_partition(table, PANEL.id, dt, SCHEMAS[table].empty_table())


def _comp(lake: Lake, dt: date, recs: list[tuple[str, str, date, str]]) -> None:
    rows = [{"brand_id": b, "network": "x", "source": s, "day": d, "status": st, "run_id": "r",
             "recorded_at": T0} for b, s, d, st in recs]
    lake.write_partition("completeness", PANEL.id, dt, pa.Table.from_pylist(rows, schema=SCHEMAS["completeness"]))


def _daily(lake: Lake, first: date, last: date, skip: tuple[tuple[str, str, date], ...] = ()) -> None:
    d = first
    while d <= last:
        for t in ("accounts", "posts", "mentions"):
            _part(lake, t, d)
        _comp(lake, d, [(b, s, d, "none" if (b, s, d) in skip else "complete")
                        for b in ("a", "b") for s in ("profiles", "posts", "mentions")])
        d += timedelta(days=1)


def test_assess_a_lake_without_the_table_is_complete(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    _part(lake, "mentions", START)
    g = assess(PANEL, lake, START, D, ["a", "b"])
    assert not g.incomplete.any() and g.warnings() == [] and list(g.days_incomplete) == [0, 0]


def test_assess_counts_days_not_complete_from_the_first_collected_day(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    first = D - timedelta(days=9)  # a fresh lake: 10 days collected of a 20-day window
    _daily(lake, first, D, skip=(("a", "mentions", D),))
    g = assess(PANEL, lake, START, D, ["a", "b"], tolerance=0.05)
    assert (g.start, g.expected, g.limit) == (first, 10, 0.5)
    assert list(g.missing["mentions"]) == [1, 0] and list(g.flagged["mentions"]) == [True, False]
    assert list(g.days_incomplete) == [1, 0] and list(g.incomplete) == [True, False]
    assert g.missing_indicators(0) == {"mentions", "mention_reach", "centrality"}
    vals = g.apply({"a": {"mentions": 5.0, "community": 1.0}, "b": {"mentions": 7.0}})
    assert vals == {"a": {"mentions": None, "community": 1.0, "mention_reach": None, "centrality": None},
                    "b": {"mentions": 7.0}}
    # The same day within a larger tolerance: the value stands, with a warning.
    g = assess(PANEL, lake, START, D, ["a", "b"], tolerance=0.2)
    assert not g.incomplete.any() and g.warnings()[0].startswith("mentions: 1 brand(s)")


def test_assess_a_deleted_data_partition_is_not_complete(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    _daily(lake, START, D)
    for d in (D, D - timedelta(days=1)):
        lake.delete_partition("mentions", PANEL.id, d)
    lake.delete_partition("accounts", PANEL.id, D)
    g = assess(PANEL, lake, START, D, ["a", "b"], tolerance=0.05)
    assert list(g.missing["mentions"]) == [2, 2] and g.flagged["mentions"].all()  # 2 > 1.0
    assert list(g.missing["profiles"]) == [1, 1] and not g.flagged["profiles"].any()  # the 29th's snapshot
    assert list(g.missing["posts"]) == [0, 0]


def test_assess_days_before_the_table_read_as_complete(tmp_path: Path) -> None:
    """A lake collected daily before the table existed, then one run with it: the earlier days
    are complete (their partitions stand for them); a day after without any row is not."""
    lake = Lake(str(tmp_path))
    d = START
    while d < D - timedelta(days=2):
        for t in ("accounts", "posts", "mentions"):
            _part(lake, t, d)
        d += timedelta(days=1)
    _daily(lake, D - timedelta(days=2), D - timedelta(days=2))  # the first run writing completeness
    g = assess(PANEL, lake, START, D, ["a", "b"], tolerance=0.05)
    assert (g.start, g.expected) == (START, 20)
    assert list(g.missing["posts"]) == [2, 2]  # the 29th and 30th: never collected
    assert list(g.missing["profiles"]) == [2, 2]
    assert np.array_equal(g.flagged["posts"], [True, True])


@pytest.mark.parametrize("status", ["partial", "none"])
def test_assess_the_best_status_of_a_day_wins_across_runs(tmp_path: Path, status: str) -> None:
    lake = Lake(str(tmp_path))
    _daily(lake, START, D, skip=(("a", "posts", D - timedelta(days=1)),))
    # The next run re-read the 29th (it filled the gap): complete, recorded under the 30th.
    _comp(lake, D, [("a", "posts", D - timedelta(days=1), "complete"), ("a", "posts", D, "complete"),
                    ("b", "posts", D, status)])
    g = assess(PANEL, lake, START, D, ["a", "b"])
    assert list(g.missing["posts"]) == [0, 1]
