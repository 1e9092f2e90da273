"""Issue 17, reproduction 1: a rerun that fails, stops or comes too late keeps a date's good data.

Each test reruns 2018-04-20 on a copy of the demo lake, through the CLI and the simulator (the
embedded one, or a served one whose clock is later), and compares the date's partitions row by
row before and after: 7 accounts, 42 posts, 334 mentions and 7 counts, unchanged.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

pytest.importorskip("barometer.sim.server")
pytest.register_assert_rewrite("_rerun")
pytest_plugins = ("_rerun",)
from _rerun import (  # noqa: E402
    APR20,
    APR20_ROWS,
    BRANDS,
    PANEL,
    TABLES,
    collect,
    completeness,
    copy_lake,
    keyset,
    no_duplicate,
    rows,
    run,
    serve,
    snapshot,
)

from barometer.pipeline import run_clock  # noqa: E402


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)


def _unchanged(lake: Path, before: dict[str, list[dict[str, object]]]) -> None:
    after = snapshot(lake, APR20)
    assert {t: len(after[t]) for t in TABLES} == APR20_ROWS
    for t in TABLES:
        assert keyset(after[t], t) == keyset(before[t], t), t
        assert after[t] == before[t], t  # row by row, values included
    # Still recorded as read completely: the stored rows are what the original run read.
    comp = completeness(lake, APR20)
    assert {s for s in comp.values()} == {"complete"}
    assert {(b, s) for b, s, _ in comp} == {(b, s) for b in BRANDS
                                            for s in ("profiles", "posts", "mentions", "counts")}


@pytest.mark.parametrize(("flags", "status"), [
    (("--faults", "cap"), "partial"),  # monthly cap: every post read refused
    (("--deadline", "0.001"), "partial"),  # no time left before the first request
])
def test_failed_or_stopped_rerun_keeps_the_date(demo_now: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                flags: tuple[str, ...], status: str) -> None:
    lake = copy_lake(demo_now, tmp_path)
    before = snapshot(lake, APR20)
    assert {t: len(before[t]) for t in TABLES} == APR20_ROWS
    total = no_duplicate(lake, "mentions")
    rc, out = run(capsys, lake, APR20, "--simulate", *flags)
    assert rc == 3 and f"collect  {PANEL} {APR20} {status}" in out, out
    assert "their stored rows are kept" in out
    _unchanged(lake, before)
    assert no_duplicate(lake, "mentions") == total


def test_rerun_where_every_request_fails_keeps_the_date(demo_now: Path, tmp_path: Path) -> None:
    """`--faults 500:100`: profiles, timelines, refresh, counts and search all fail (after their
    retries, quick here): the run is failed and the date's 7 accounts stay."""
    lake = copy_lake(demo_now, tmp_path)
    before = snapshot(lake, APR20)
    with serve(run_clock(APR20), "500:100") as srv:
        s = collect(srv, lake, APR20)
    assert s.status == "failed" and s.brands_failed == 7
    assert any(e.startswith("accounts of 2018-04-20: not read completely") for e in s.errors)
    _unchanged(lake, before)


def test_rerun_against_a_later_served_clock_keeps_mentions_and_the_snapshot(
        demo_now: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`barometer sim serve` (its clock: 2018-05-01 05:00, eleven days later) and `run --x-api-url`:
    recent search refuses 2018-04-20, and its 400 shows the server's clock, so the profiles read
    are known to be today's, not the 20th's."""
    lake = copy_lake(demo_now, tmp_path)
    before = snapshot(lake, APR20)
    with serve(run_clock(date(2018, 4, 30))) as srv:
        rc, out = run(capsys, lake, APR20, "--x-api-url", srv.url)
    assert rc == 3, out
    assert "must be on or after 2018-04-24T05:00Z" in out  # X's reason, kept in the error line
    assert f"accounts of {APR20} not written: profiles read at 2018-05-01 05:0" in out
    _unchanged(lake, before)


def test_rerun_beyond_recent_search_reach_keeps_the_stored_rows(demo_now: Path, tmp_path: Path) -> None:
    """The same rerun where the collector's clock is the API's (in production, the wall clock):
    no search or count is even asked for; the timelines are read again and only add what the
    partition lacks (nothing: the same 42 posts, their 04-21 observations kept)."""
    lake_dir = copy_lake(demo_now, tmp_path)
    before = snapshot(lake_dir, APR20)
    with serve(run_clock(date(2018, 4, 30))) as srv:
        s = collect(srv, lake_dir, APR20, now=run_clock(date(2018, 4, 30)))
        asked = {k for k, n in srv.stats["requests"].items() if n}
    assert s.status == "partial"
    assert any("out of recent search's 7-day reach" in e and "stored rows are kept" in e for e in s.errors)
    assert any(f"accounts of {APR20} not written" in e for e in s.errors)
    assert s.details["rows"] == {**APR20_ROWS, "completeness": 28}  # type: ignore[comparison-overlap]
    assert asked == {"users_by", "users_tweets"}  # profiles and timelines only: no search, no count
    _unchanged(lake_dir, before)
    # The next day's rerun after it reads from the same cursors: nothing twice.
    assert rows(lake_dir, "mentions", APR20 + timedelta(days=1))
    no_duplicate(lake_dir, "mentions")
