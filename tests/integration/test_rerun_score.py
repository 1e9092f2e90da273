"""Issue 17, reproductions 3 and 5: what was not read is missing data, never a published zero;
only the panel's current accounts count toward community.

Through the CLI and the simulator on a fresh lake and on copies of the demo lake (its
2018-04-30 scores: Sanofi's mentions 16,559, community 12,290, every brand complete).
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("barometer.sim.server")
pytest.register_assert_rewrite("_rerun")
pytest_plugins = ("_rerun",)
from _rerun import APR30, BRANDS, PANEL, completeness, copy_lake, rows, run  # noqa: E402

from barometer.config import resolve_panel  # noqa: E402
from barometer.lake.store import Lake  # noqa: E402
from barometer.publish import check_gate  # noqa: E402
from barometer.score import run_score  # noqa: E402

MENTION_INDICATORS = {"mentions", "mention_reach", "centrality"}


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)


def _indicators(lake: Path, dt: date = APR30) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["brand_id"], r["indicator"]): r for r in rows(lake, "indicators", dt)}


def _scores(lake: Path, dt: date = APR30) -> dict[str, dict[str, Any]]:
    return {r["brand_id"]: r for r in rows(lake, "scores", dt)}


def _rescore(lake: Path, panel_ref: str = PANEL) -> Any:
    return run_score(resolve_panel(panel_ref), APR30, Lake(str(lake)))


def test_demo_scores_are_complete(demo_now: Path) -> None:
    s = _scores(demo_now)
    assert sorted(s) == sorted(BRANDS)
    assert all(r["coverage"] == 1.0 and r["incomplete"] is False and r["days_incomplete"] == 0 for r in s.values())
    ind = _indicators(demo_now)
    assert (ind[("sanofi", "mentions")]["value"], ind[("sanofi", "community")]["value"]) == (16559.0, 12290.0)


def test_failed_collection_on_a_fresh_lake_is_missing_and_not_published(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake, site = tmp_path / "Z", tmp_path / "Zs"
    rc, out = run(capsys, lake, APR30, "--simulate", "--faults", "503@search_recent:100",
                  stages="collect,score,publish", site=site)
    assert rc == 3
    assert f"collect  {PANEL} {APR30} failed" in out and f"score    {PANEL} {APR30} partial" in out
    assert f"publish  {PANEL} {APR30} skipped" in out and "quality gate: coverage 0.500" in out, out
    assert not (site / "index.html").exists()
    # The lake: no mention row, mentions recorded as not read for every brand, the day's
    # other sources complete.
    assert rows(lake, "mentions", APR30) == []
    comp = completeness(lake, APR30)
    assert {(b, s) for (b, s, d), st in comp.items() if st != "complete"} == {(b, "mentions") for b in BRANDS}
    assert {st for (_, s, _), st in comp.items() if s == "mentions"} == {"none"}
    ind = _indicators(lake)
    for b in BRANDS:
        for i in MENTION_INDICATORS:
            assert ind[(b, i)]["value"] is None and ind[(b, i)]["missing"] is True, (b, i)  # not 0
        assert ind[(b, "content_volume")]["missing"] is False
    sc = _scores(lake)
    assert all(r["incomplete"] is True and r["days_incomplete"] == 1 for r in sc.values())
    # 3 of 8 indicators missing, growth too (no snapshot a year before on a fresh lake).
    assert {r["coverage"] for r in sc.values()} == {0.5}


def _drop(lake: Path, table: str, days: list[date]) -> int:
    n = 0
    for d in days:
        part = lake / table / f"panel={PANEL}" / f"dt={d}"
        n += len(rows(lake, table, d))
        shutil.rmtree(part)
    return n


def test_ten_deleted_days_of_mentions_are_missing_and_block_the_gate(demo_now: Path, tmp_path: Path) -> None:
    lake = copy_lake(demo_now, tmp_path)
    days = [APR30 - timedelta(days=i) for i in range(10)]
    assert _drop(lake, "mentions", days) > 0
    s = _rescore(lake)
    assert s.status == "partial"
    assert any(e.startswith("mentions: 7 brand(s) with days of mentions not read completely in "
                            "2017-11-01..2018-04-30 (astrazeneca-france 10,") for e in s.errors), s.errors
    ind, sc = _indicators(lake), _scores(lake)
    for b in BRANDS:
        assert {i for (bb, i), r in ind.items() if bb == b and r["missing"]} == MENTION_INDICATORS
        assert (sc[b]["incomplete"], sc[b]["days_incomplete"], sc[b]["coverage"]) == (True, 10, 0.625)
    assert ind[("sanofi", "mentions")]["value"] is None
    gate = check_gate(resolve_panel(PANEL), APR30, Lake(str(lake)))
    assert not gate.ok and gate.coverage == 0.625


def test_one_deleted_day_is_within_the_tolerance_with_a_warning(demo_now: Path, tmp_path: Path) -> None:
    lake = copy_lake(demo_now, tmp_path)
    day = date(2018, 4, 25)
    gone = sum(1 for r in rows(lake, "mentions", day) if r["brand_id"] == "sanofi")
    assert gone > 0
    _drop(lake, "mentions", [day])
    s = _rescore(lake)
    assert s.status == "partial"
    assert any(e.startswith("mentions: 7 brand(s) with days of mentions not read completely") for e in s.errors)
    assert _indicators(lake)[("sanofi", "mentions")]["value"] == 16559 - gone  # what was read, flagged
    sc = _scores(lake)
    assert all((r["incomplete"], r["days_incomplete"], r["coverage"]) == (False, 1, 1.0) for r in sc.values())


def test_deleted_last_day_of_accounts_warns_and_uses_the_day_before(demo_now: Path, tmp_path: Path) -> None:
    lake = copy_lake(demo_now, tmp_path)
    before = {r["brand_id"]: r["followers"] for r in rows(lake, "accounts", APR30 - timedelta(days=1))}
    assert _drop(lake, "accounts", [APR30]) == 7
    s = _rescore(lake)
    assert s.status == "partial"
    assert any(e.startswith("profiles: 7 brand(s) with days since a complete followers snapshot") for e in s.errors)
    ind = _indicators(lake)
    assert {b: ind[(b, "community")]["value"] for b in BRANDS} == {b: float(before[b]) for b in BRANDS}
    assert all(r["incomplete"] is False and r["coverage"] == 1.0 for r in _scores(lake).values())


def test_a_lake_from_before_the_completeness_table_scores_as_it_did(demo_now: Path, tmp_path: Path) -> None:
    lake = copy_lake(demo_now, tmp_path)
    want = _scores(lake)
    shutil.rmtree(lake / "completeness")
    s = _rescore(lake)
    assert s.status == "ok" and s.errors == []
    assert _scores(lake) == want


def test_a_replaced_account_no_longer_counts(demo_now: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The panel's Sanofi account changes (@sanofi → @SanofiFR, a different account): community is
    the new account's 12,290 followers, not 24,580 with the old one's last snapshot."""
    lake = copy_lake(demo_now, tmp_path)
    text = (Path(__file__).resolve().parents[2] / "panels" / f"{PANEL}.yaml").read_text(encoding="utf-8")
    assert "accounts: [{handle: sanofi}]" in text
    panel = tmp_path / "renamed.yaml"
    panel.write_text(text.replace("accounts: [{handle: sanofi}]", "accounts: [{handle: SanofiFR}]"), encoding="utf-8")
    growth = _indicators(lake)[("sanofi", "community_growth")]["value"]
    rc, out = run(capsys, lake, APR30, "--simulate", stages="collect,score", panel=str(panel))
    assert rc == 0, out
    acc = {(r["account_id"], r["handle"], r["dt"]) for r in Lake(str(lake)).read(
        "accounts", PANEL, APR30 - timedelta(days=1), APR30).to_pylist() if r["brand_id"] == "sanofi"}
    assert {(h, d) for _, h, d in acc} == {("sanofi", APR30 - timedelta(days=1)), ("SanofiFR", APR30)}
    assert len({a for a, _, _ in acc}) == 2  # two accounts: the old one's snapshot is the 29th's
    ind = _indicators(lake)
    assert ind[("sanofi", "community")]["value"] == 12290.0
    assert ind[("sanofi", "community_growth")]["value"] == growth  # the brand's growth, as before
