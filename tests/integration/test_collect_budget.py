"""Issue 13: collect within a budget, against the X simulator.

Mentions are read without author expansion (users billed: the profiles only); a daily budget
is never exceeded; when the mentions do not fit, each brand's sample carries 1/p.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from barometer.collect import CollectOptions, run_collect
from barometer.collect.client import make_client
from barometer.config import Panel
from barometer.lake.store import Lake

pytest.register_assert_rewrite("_collect_fixtures")
from _collect_fixtures import PANEL, TOKEN, D, clock, run_row, table  # noqa: E402

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
