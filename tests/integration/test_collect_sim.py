"""The collector against the X simulator (a real HTTP server on 127.0.0.1, through tweepy).

Each fault test asserts the lake afterwards: row counts, no duplicate, run status and the
error line naming the fault.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from barometer.collect import MANIFEST
from barometer.collect.parse import billed, billed_ids
from barometer.collect.reparse import reparse
from barometer.lake.store import Lake

# Helpers and fixtures (sim, lake, world) live beside this module (conftest.py is not ours);
# registered for assert rewriting before the import, as pytest_plugins below loads it too.
pytest.register_assert_rewrite("_collect_fixtures")
from _collect_fixtures import (  # noqa: E402
    PANEL,
    D,
    FaultPlan,
    clock,
    collect,
    ids,
    run_row,
    run_rows,
    table,
    truth_posts,
)

pytest_plugins = ("_collect_fixtures",)

D1, D2 = D + timedelta(days=1), D + timedelta(days=2)
BRANDS = [b.id for b in PANEL.brands]


def no_dupes(rows: list[dict[str, Any]], *key: str) -> None:
    c = Counter(tuple(r[k] for k in key) for r in rows)
    assert not [k for k, n in c.items() if n > 1]


def post_ids(lake: Lake) -> list[str]:
    return sorted({r["post_id"] for r in table(lake, "posts")})


def same_as_uninterrupted(sim: Any, lake: Lake, tmp_path: Any) -> None:
    """After the resume on D1, the lake holds what two uninterrupted runs (D, D1) collect: no
    gap, no duplicate."""
    ref = Lake(f"file://{tmp_path}/ref")
    collect(sim, ref, D)
    collect(sim, ref, D1)
    assert mention_ids(lake) == mention_ids(ref)
    no_dupes(table(lake, "mentions"), "brand_id", "post_id")
    assert post_ids(lake) == post_ids(ref)


def mention_ids(lake: Lake) -> list[tuple[str, str]]:
    return sorted((r["brand_id"], r["post_id"]) for r in table(lake, "mentions"))


def test_daily_run_writes_the_tables(sim: Any, lake: Lake, world: Any) -> None:
    s = collect(sim, lake, D)
    assert s.status == "ok", s.errors
    acc = table(lake, "accounts", D)
    assert sorted(r["brand_id"] for r in acc) == BRANDS
    for r in acc:
        u = world.user_by_handle(r["handle"])
        assert r["status"] == "ok" and r["account_id"] == u.id
        assert r["followers"] == world.followers_at(u.id, clock(D))
    posts = table(lake, "posts", D)
    for b in BRANDS:
        assert ids(posts, brand_id=b) == truth_posts(world, b, D, clock(D))
    assert posts and all(r["observed_at"] == clock(D) and r["deleted"] is False for r in posts)
    mentions = table(lake, "mentions", D)
    counts = {(r["brand_id"], r["day"]): r["mentions"] for r in table(lake, "mention_counts", D)}
    assert set(counts) == {(b, D) for b in BRANDS}
    for b in BRANDS:
        got = [r for r in mentions if r["brand_id"] == b]
        # Authors are not expanded (issue 13): the id on every row, no handle.
        assert got and all(r["created_at"].date() == D and r["author_id"] and r["author_handle"] is None
                           for r in got)
        assert len(got) <= counts[(b, D)]  # counts include the brand's own posts matching its query
    no_dupes(posts, "post_id")
    no_dupes(mentions, "brand_id", "post_id")
    row = run_row(lake, D)
    assert (row["status"], row["brands_ok"], row["api_requests"]) == ("ok", 3, s.api_requests)
    # Every page was archived before parsing, and the reads billed are what the pages returned.
    pages = [lake.get_json_gz(k) for k in lake.list_keys(f"raw/panel={PANEL.id}/dt={D}")
             if not k.endswith(MANIFEST)][1:]
    assert len(pages) == s.details["pages"]
    # X bills a post or user once a day however many pages return it: distinct ids.
    post_ids = {i for p in pages for i in billed_ids(p["endpoint"], p["body"])[0]}
    user_ids = {i for p in pages for i in billed_ids(p["endpoint"], p["body"])[1]}
    per_page = sum(billed(p["endpoint"], p["body"])[1] for p in pages)
    assert s.posts_read == len(post_ids) >= len(posts) + len({r["post_id"] for r in mentions}) - len(
        {r["post_id"] for r in mentions} & {r["post_id"] for r in posts})
    assert s.users_read == len(user_ids) >= 3
    assert per_page == len(user_ids) == 3  # the profiles only: mentions' authors are not expanded
    assert row["cost_usd"] == s.cost_usd > 0


def test_incremental_day_reads_only_new_posts_and_refreshes_young_ones(sim: Any, lake: Lake,
                                                                       world: Any) -> None:
    collect(sim, lake, D)
    s = collect(sim, lake, D1)
    assert s.status == "ok", s.errors
    posts = table(lake, "posts", D1)
    day1 = truth_posts(world, "alpha", D1, clock(D1))
    new = [r for r in posts if r["created_at"].date() == D1]
    assert ids(new, brand_id="alpha") == day1
    # Refreshed: D's posts (reposts excluded) observed again with the metrics of D1's clock.
    old_d = [r for r in table(lake, "posts", D) if r["kind"] != "repost"]
    refreshed = {r["post_id"]: r for r in posts if r["created_at"].date() == D}
    assert sorted(refreshed) == sorted(r["post_id"] for r in old_d)
    grew = [p for p in old_d if refreshed[p["post_id"]]["likes"] >= p["likes"]]
    assert len(grew) == len(old_d)
    # The timeline pages of D1 hold no post of D: the cursor worked.
    assert all(r["observed_at"] == clock(D1) for r in posts)
    no_dupes(posts, "post_id")
    # No mention read twice across the two days.
    no_dupes(table(lake, "mentions"), "brand_id", "post_id")


def test_rerun_same_date_gives_identical_rows(sim: Any, lake: Lake) -> None:
    collect(sim, lake, D)
    collect(sim, lake, D1)
    first = {t: table(lake, t, D1) for t in ("accounts", "posts", "mentions", "mention_counts")}
    s = collect(sim, lake, D1)
    assert s.status == "ok"
    for t, rows in first.items():
        assert table(lake, t, D1) == rows, t
    no_dupes(table(lake, "mentions"), "brand_id", "post_id")
    assert [r["status"] for r in run_rows(lake, D1)] == ["ok", "ok"]  # one row per run


def test_deleted_post_is_recorded_not_dropped(sim: Any, lake: Lake) -> None:
    collect(sim, lake, D)
    gone = ids([r for r in table(lake, "posts", D) if r["kind"] != "repost"])[:2]
    assert gone
    s = collect(sim, lake, D2, fault=FaultPlan(delete_ids=[int(x) for x in gone]))
    posts = table(lake, "posts", D2)
    deleted = [r for r in posts if r["deleted"]]
    assert deleted, s.errors
    before = {r["post_id"]: r for r in table(lake, "posts", D)}
    for r in deleted:
        prev = before[r["post_id"]]
        assert (r["likes"], r["reposts"], r["text"]) == (prev["likes"], prev["reposts"], prev["text"])
        assert r["observed_at"] == clock(D2)
    assert sorted(r["post_id"] for r in deleted) == gone
    assert sum("deleted" in e for e in s.errors) == len(deleted)
    assert run_row(lake, D2)["status"] == "ok"


def test_429_with_short_reset_waits_and_completes(sim: Any, lake: Lake, tmp_path: Any) -> None:
    t0 = time.monotonic()
    s = collect(sim, lake, D, fault="429@search_recent:1")
    assert s.status == "ok", s.errors
    assert any("429" in e and "waited" in e for e in s.errors)
    assert time.monotonic() - t0 < 15
    ref = Lake(f"file://{tmp_path}/ref")
    collect(sim, ref, D)
    assert mention_ids(lake) == mention_ids(ref)


def test_429_past_deadline_checkpoints_then_resumes_without_gap_or_duplicate(sim: Any, lake: Lake,
                                                                             tmp_path: Any) -> None:
    s = collect(sim, lake, D, fault="429@search_recent:1", deadline=time.monotonic() + 2.5)
    assert s.status == "partial", s.errors
    assert any("429" in e and "deadline" in e for e in s.errors)
    assert run_row(lake, D)["status"] == "partial"
    s2 = collect(sim, lake, D1)
    assert s2.status == "ok", s2.errors
    same_as_uninterrupted(sim, lake, tmp_path)


def test_monthly_cap_stops_cleanly_without_sleeping(sim: Any, lake: Lake) -> None:
    t0 = time.monotonic()
    s = collect(sim, lake, D, fault="cap")
    assert time.monotonic() - t0 < 3
    assert s.status == "partial"
    assert any("cap" in e for e in s.errors)
    assert len(table(lake, "accounts", D)) == 3  # profiles are not post reads
    assert table(lake, "posts", D) == []
    assert run_row(lake, D)["status"] == "partial"


def test_server_errors_are_retried(sim: Any, lake: Lake, tmp_path: Any) -> None:
    s = collect(sim, lake, D, fault="503@users_tweets:2,500@search_recent:1")
    assert s.status == "ok", s.errors
    ref = Lake(f"file://{tmp_path}/ref")
    r = collect(sim, ref, D)
    assert s.api_requests == r.api_requests + 3
    assert ids(table(lake, "posts", D)) == ids(table(ref, "posts", D))
    assert mention_ids(lake) == mention_ids(ref)


def test_connection_resets_then_failed_brand_others_collected(sim: Any, lake: Lake, world: Any) -> None:
    s = collect(sim, lake, D, fault="reset@users_tweets:3")
    assert s.status == "partial"
    assert s.brands_failed == 1 and s.brands_ok == 2
    assert any("alpha" in e and "connection" in e for e in s.errors)
    posts = table(lake, "posts", D)
    for b in ("beta", "gamma"):
        assert ids(posts, brand_id=b) == truth_posts(world, b, D, clock(D))
    assert ids(posts, brand_id="alpha") == []
    # The failed timeline did not move its cursor: the next run reads D's posts too.
    s2 = collect(sim, lake, D1)
    assert s2.status == "ok"
    alpha = table(lake, "posts", D1)
    assert ids(alpha, brand_id="alpha") == sorted(truth_posts(world, "alpha", D, clock(D1))
                                                  + truth_posts(world, "alpha", D1, clock(D1)))


def test_timeouts_then_failed_brand(sim: Any, lake: Lake) -> None:
    t0 = time.monotonic()
    s = collect(sim, lake, D, fault="timeout@search_recent:3")
    assert time.monotonic() - t0 < 10
    assert s.status == "partial" and s.brands_failed == 1
    assert any("timeout" in e for e in s.errors)
    assert {r["brand_id"] for r in table(lake, "mentions", D)} == {"beta", "gamma"}


def test_malformed_json_is_kept_raw_and_fails_the_brand(sim: Any, lake: Lake) -> None:
    s = collect(sim, lake, D, fault="malformed@search_recent:1")
    assert s.status == "partial" and s.brands_failed == 1
    assert any("malformed" in e for e in s.errors)
    keys = list(lake.list_keys(f"raw/panel={PANEL.id}/dt={D}"))
    bad = [lake.get_json_gz(k) for k in keys if k.endswith("search_recent.json.gz")]
    assert any("body_text" in p and "body" not in p for p in bad)
    assert {r["brand_id"] for r in table(lake, "mentions", D)} == {"beta", "gamma"}


def test_suspended_and_unknown_handles(sim: Any, lake: Lake) -> None:
    s = collect(sim, lake, D, fault="suspended=AlphaFR,unknown=BetaFR")
    acc = {r["brand_id"]: r for r in table(lake, "accounts", D)}
    assert (acc["alpha"]["status"], acc["beta"]["status"], acc["gamma"]["status"]) == (
        "suspended", "not_found", "ok")
    assert any("AlphaFR" in e and "suspended" in e for e in s.errors)
    assert any("BetaFR" in e and "not_found" in e for e in s.errors)
    assert {r["brand_id"] for r in table(lake, "posts", D)} == {"gamma"}
    assert {r["brand_id"] for r in table(lake, "mentions", D)} == set(BRANDS)  # mentions still read


def test_renamed_handle_keeps_history_on_account_id(sim: Any, lake: Lake, world: Any) -> None:
    collect(sim, lake, D)
    s = collect(sim, lake, D1, fault="rename=AlphaFR>AlphaNew")
    # Whatever the id lookup gives, the account's posts keep flowing from its known id.
    new = [r for r in table(lake, "posts", D1) if r["created_at"].date() == D1]
    assert ids(new, brand_id="alpha") == truth_posts(world, "alpha", D1, clock(D1))
    acc = {r["brand_id"]: r for r in table(lake, "accounts", D1)}
    before = {r["brand_id"]: r for r in table(lake, "accounts", D)}
    assert acc["alpha"]["status"] == "renamed" and acc["alpha"]["handle"] == "AlphaNew"
    assert acc["alpha"]["account_id"] == before["alpha"]["account_id"]
    assert any("renamed" in e and "AlphaNew" in e for e in s.errors)
    assert s.status == "ok"


def test_budget_stop_mid_stream_then_resume_without_gap_or_duplicate(sim: Any, lake: Lake,
                                                                     tmp_path: Any) -> None:
    # Small pages so the budget cuts alpha's mention search after a few pages, mid-stream.
    s = collect(sim, lake, D, max_post_reads=25, page_size=10)
    assert s.status == "partial" and any("budget" in e for e in s.errors)
    assert 25 <= s.posts_read <= 35
    assert 0 < len(table(lake, "mentions", D)) < 40
    collect(sim, lake, D1, page_size=10)
    same_as_uninterrupted(sim, lake, tmp_path)


def test_backfill_with_full_archive(sim: Any, lake: Lake, world: Any) -> None:
    since = D - timedelta(days=2)
    s = collect(sim, lake, D, mode="backfill", since=since, full_archive=True)
    assert s.status == "ok", s.errors
    posts = table(lake, "posts", D)
    for b in BRANDS:
        want = sorted(x for d in range(3) for x in truth_posts(world, b, since + timedelta(days=d), clock(D)))
        assert ids(posts, brand_id=b) == want
    days = {(r["brand_id"], r["day"]) for r in table(lake, "mention_counts", D)}
    assert days == {(b, since + timedelta(days=d)) for b in BRANDS for d in range(3)}
    assert {r["created_at"].date() for r in table(lake, "mentions", D)} == {d for _, d in days}
    # The next daily run continues from the backfill's cursors.
    s2 = collect(sim, lake, D1)
    assert s2.status == "ok"
    assert {r["created_at"].date() for r in table(lake, "mentions", D1)} == {D1}
    no_dupes(table(lake, "mentions"), "brand_id", "post_id")


def test_reparse_from_raw_equals_the_original_tables(sim: Any, lake: Lake) -> None:
    collect(sim, lake, D)
    collect(sim, lake, D1, fault="delete=1")
    original = {t: table(lake, t, D1) for t in ("accounts", "posts", "mentions", "mention_counts")}
    for t in original:
        lake.delete_partition(t, PANEL.id, D1)
    s = reparse(PANEL, D1, lake)
    assert s.api_requests == 0
    for t, rows in original.items():
        assert table(lake, t, D1) == rows, t


def test_brand_subset_rerun_keeps_the_other_brands(sim: Any, lake: Lake) -> None:
    collect(sim, lake, D)
    full = {t: table(lake, t, D) for t in ("accounts", "posts", "mentions", "mention_counts")}
    s = collect(sim, lake, D, brands=["alpha"])
    assert s.status == "ok" and s.brands_ok == 1
    for t, rows in full.items():
        key = "day" if t == "mention_counts" else "handle" if t == "accounts" else "post_id"
        got = sorted(table(lake, t, D), key=lambda r: (r["brand_id"], str(r[key])))
        assert got == sorted(rows, key=lambda r: (r["brand_id"], str(r[key]))), t


def test_cursor_older_than_recent_search_reach(sim: Any, lake: Lake, world: Any) -> None:
    collect(sim, lake, D)
    later = D + timedelta(days=9)  # eight missed days: recent search reaches back 7
    s = collect(sim, lake, later)
    assert s.status == "ok", s.errors
    assert sum("out of recent search's reach" in e for e in s.errors) == len(BRANDS)
    floor = clock(later) - timedelta(days=7)
    assert min(r["created_at"] for r in table(lake, "mentions", later)) >= floor
    # The timelines have no such limit: every post of the missed days is read.
    got = ids([r for r in table(lake, "posts", later) if r["created_at"].date() > D], brand_id="alpha")
    days = [D + timedelta(days=d) for d in range(1, 10)]
    want = sorted(x for day in days for x in truth_posts(world, "alpha", day, clock(later)))
    assert got == want
    no_dupes(table(lake, "mentions"), "brand_id", "post_id")
