"""Issue 13: collect within a budget, against the X simulator.

Mentions are read without author expansion (users billed: the profiles only); a daily budget
is never exceeded; when the mentions do not fit, each brand's sample carries 1/p.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

import pytest

from barometer.collect import CollectOptions, run_collect
from barometer.collect.client import make_client
from barometer.config import Panel
from barometer.lake.store import Lake

pytest.register_assert_rewrite("_collect_fixtures")
from _collect_fixtures import PANEL, TOKEN, D, clock, faults, run_row, table  # noqa: E402

pytest_plugins = ("_collect_fixtures",)


def budgeted(usd: float | None, **more: Any) -> Panel:
    col = PANEL.collection.model_copy(update={"daily_budget_usd": usd, **more})
    return PANEL.model_copy(update={"collection": col})


def run(sim: Any, lake: Lake, panel: Panel, dt: Any) -> Any:
    sim.set_now(clock(dt))
    client = make_client(TOKEN, base_url=sim.url, timeout=5)
    return run_collect(panel, dt, lake, client, CollectOptions(now=clock(dt), backoff=0.01))


def test_mentions_without_author_expansion(sim: Any, lake: Lake) -> None:
    s = run(sim, lake, PANEL, D)
    assert s.users_read == 3  # the three brands' profiles, no mention author
    men = table(lake, "mentions")
    assert men and all(r["author_handle"] is None and r["author_followers"] is None for r in men)
    assert all(r["author_id"] for r in men)
    assert all(r["sample_weight"] == 1.0 for r in men)
    assert all(len(r["mentioned_ids"]) == len(r["mentioned_handles"]) for r in men)
    assert run_row(lake, D)["budget_usd"] is None


def test_author_profiles_when_asked(sim: Any, lake: Lake) -> None:
    run(sim, lake, budgeted(None, author_profiles=True), D)
    men = table(lake, "mentions")
    assert men and all(r["author_handle"] for r in men)


def test_budget_never_exceeded_and_sample_weighted(sim: Any, lake: Lake, tmp_path: Any) -> None:
    full = run(sim, Lake(f"file://{tmp_path}/full"), PANEL, D)
    n_full = len(table(Lake(f"file://{tmp_path}/full"), "mentions"))
    assert n_full > 60
    budget = round(full.cost_usd - 0.6 * n_full * 0.005, 2)
    for i in range(3):
        dt = D + timedelta(days=i)
        s = run(sim, lake, budgeted(budget), dt)
        row = run_row(lake, dt)
        assert row["cost_usd"] <= budget, (row["cost_usd"], budget)
        assert row["budget_usd"] == budget
        # Planned with X's smallest page and the sample's spread aside: no brand meets the hard stop.
        assert row["status"] == "ok" and not any("could pass it" in e for e in s.errors), s.errors
        if i == 0:
            assert row["sampled_brands"], s.errors
            assert any("daily budget" in e for e in s.errors)
    men = table(lake, "mentions")
    sampled = [r for r in men if r["sample_weight"] > 1]
    assert sampled and all(r["sample_weight"] >= 1 for r in men)


def test_budget_below_fixed_reads_refused() -> None:
    from barometer.config import parse_panel
    from barometer.errors import ConfigError

    raw = PANEL.model_dump(mode="json", exclude={"names"})
    for bad in (0, -1, 0.02):
        raw["collection"]["daily_budget_usd"] = bad
        with pytest.raises(ConfigError, match=r"daily_budget_usd.*minimum that works is 0.03"):
            parse_panel(raw)


def test_budget_holds_across_the_invocations_of_a_day(sim: Any, lake: Lake, tmp_path: Any) -> None:
    """A day stopped by X's rate-limit window resumes in a new invocation (the state machine):
    the daily budget is the day's, not each invocation's."""
    import time

    from barometer.collect.runner import SPENT_KEY
    from barometer.collect.state import load_at

    full = run(sim, Lake(f"file://{tmp_path}/full"), PANEL, D)
    budget = round(full.cost_usd - 0.6 * len(table(Lake(f"file://{tmp_path}/full"), "mentions")) * 0.005, 2)
    panel = budgeted(budget)
    client = make_client(TOKEN, base_url=sim.url, timeout=5)
    sim.set_now(clock(D))
    sim.set_faults(faults("429@search_recent:1"))
    first = run_collect(panel, D, lake, client, CollectOptions(now=clock(D), backoff=0.01,
                                                               deadline=time.monotonic() + 2.5))
    assert first.status == "partial" and any("checkpointed" in e for e in first.errors), first.errors
    assert first.cost_usd > 0
    state = load_at(lake, PANEL.id, D)
    assert state is not None and state[SPENT_KEY] == pytest.approx(first.cost_usd)
    sim.set_faults(faults(""))
    second = run_collect(panel, D, lake, client, CollectOptions(now=clock(D), backoff=0.01, resume=True))
    assert second.status == "ok", (first.cost_usd, second.cost_usd, budget, first.errors, second.errors)
    assert first.cost_usd + second.cost_usd <= budget + 1e-9, (first.cost_usd, second.cost_usd, budget)
    assert load_at(lake, PANEL.id, D)[SPENT_KEY] == pytest.approx(first.cost_usd + second.cost_usd)  # type: ignore[index]


def _mentions_brand(post: Any, handle: str, word: str) -> bool:
    """`(@Handle OR word) -is:retweet`, matched here apart from the simulator's query engine."""
    import re

    from barometer.sim.query import fold

    tokens = set(re.findall(r"[@#]?\w+", fold(post.text)))
    return post.kind != "repost" and bool({f"@{handle.lower()}", word, f"@{word}", f"#{word}"} & tokens)


@pytest.mark.parametrize(("dt", "window_days"), [(D, 30), (date(2018, 2, 10), 182)])
def test_sampled_rows_carry_the_authors_last_earlier_mention(sim: Any, world: Any, lake: Lake, tmp_path: Any,
                                                               dt: date, window_days: int) -> None:
    """Every sampled row's `author_prev_day` is the world's truth: the author's latest mention of
    the brand before the row, back to `author_lookback_from` (window − 1 days before its day).
    182 days: more than one counts page back, where authors are asked in OR-groups first."""
    from barometer.collect.reparse import reparse

    full = run(sim, Lake(f"file://{tmp_path}/full"), PANEL, dt)
    budget = round(full.cost_usd - 0.6 * len(table(Lake(f"file://{tmp_path}/full"), "mentions")) * 0.005, 2)
    panel = budgeted(budget)
    panel = panel.model_copy(update={"scoring": panel.scoring.model_copy(update={"window_days": window_days})})
    s = run(sim, lake, panel, dt)
    assert s.status == "ok", s.errors
    men = table(lake, "mentions")
    sampled = [r for r in men if r["sample_weight"] > 1]
    assert len(sampled) > 10
    assert all(r["author_lookback_from"] is None and r["author_prev_day"] is None
               for r in men if r["sample_weight"] == 1)
    now_ms = int(clock(dt).replace(tzinfo=UTC).timestamp() * 1000)
    handles = {b.id: (b.accounts[0].handle, b.id) for b in PANEL.brands}
    by_author: dict[str, list[Any]] = {}
    for p in world.posts:
        by_author.setdefault(p.author_id, []).append(p)
    prevs = []
    for r in sampled:
        at = r["created_at"].replace(tzinfo=None)
        start = at.date() - timedelta(days=window_days - 1)
        assert r["author_lookback_from"] == start
        prior = [p.created_at.date() for p in by_author[r["author_id"]]
                 if _mentions_brand(p, *handles[r["brand_id"]]) and p.created_at.replace(tzinfo=None) < at
                 and p.created_at.date() >= start and world.visible(p, now_ms)]
        want = max(prior) if prior else None
        assert r["author_prev_day"] == want, (r["post_id"], r["author_id"], r["author_prev_day"], want)
        prevs.append(want)
    assert None in prevs and any(prevs)  # both kinds were checked
    if window_days > 31:  # a look-back of several counts pages (31 days each), newest first
        assert any(p is None or (r["created_at"].date() - p).days > 31
                   for r, p in zip(sampled, prevs, strict=True))
        pages = [lake.get_json_gz(k) for k in lake.list_keys(f"raw/panel={PANEL.id}/dt={dt}") if "counts_all" in k]
        assert any(p["params"].get("next_token") or p["params"].get("pagination_token") for p in pages)
    # The authors' counts are not the brands' volumes; reparse rebuilds the very same rows.
    assert table(lake, "mention_counts", dt) == table(Lake(f"file://{tmp_path}/full"), "mention_counts", dt)
    before = sorted((r["post_id"], r["author_prev_day"], r["author_lookback_from"]) for r in men)
    reparse(panel, dt, lake)
    assert sorted((r["post_id"], r["author_prev_day"], r["author_lookback_from"])
                  for r in table(lake, "mentions")) == before


def test_lookbacks_never_wait_for_the_counts_window(world: Any, lake: Lake, tmp_path: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With X's counts/all window nearly spent, the look-backs stop (said in the run's errors),
    the mentions are all read, and the rows not looked back say so (null author_lookback_from)."""
    from barometer.sim import server as sim_server
    from barometer.sim.api import limits

    monkeypatch.setitem(limits.RATE_LIMITS, "counts_all", 3)
    with sim_server.SimServer(world, bearer_token=TOKEN, now=clock(D)) as srv:
        full = run(srv, Lake(f"file://{tmp_path}/full"), PANEL, D)
        n_full = len(table(Lake(f"file://{tmp_path}/full"), "mentions"))
        s = run(srv, lake, budgeted(round(full.cost_usd - 0.6 * n_full * 0.005, 2)), D)
        assert srv.stats["requests"]["counts_all"] == 3, srv.stats["requests"]
    assert s.status == "ok", s.errors
    assert any("look-backs stopped" in e for e in s.errors), s.errors
    sampled = [r for r in table(lake, "mentions") if r["sample_weight"] > 1]
    assert sampled and any(r["author_lookback_from"] is None for r in sampled)
    assert {r["brand_id"] for r in sampled} == set(run_row(lake, D)["sampled_brands"])
