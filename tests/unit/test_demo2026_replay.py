"""What makes `barometer demo` fast without changing what it does (the 2026 panel on X and
Bluesky): its weekly scores read the collected tables from memory, the simulated worlds stay
out of the garbage collector's passes while they live, and an incremental Bluesky feed read
starts with a small page. Stages are faked here: only the replay's own plumbing runs."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from barometer.collect.bluesky.fetch import FIRST_INCREMENTAL_PAGE, PAGE, Reader
from barometer.config import resolve_panel
from barometer.lake.store import CachedLake, Lake
from barometer.pipeline import DemoPlan, LocalRun, _replay, _simulators
from barometer.progress import quiet
from barometer.runs import StageSummary

D = date(2026, 6, 30)
PLAN = DemoPlan(run_date=D, reference=date(2025, 6, 30), window_start=D - timedelta(days=2),
                first_date=date(2025, 6, 1), score_dates=(D - timedelta(days=1), D))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[LocalRun, list[tuple[str, Any]]]:
    """A LocalRun whose client and stages only record what they were called with."""
    seen: list[tuple[str, Any]] = []

    @contextmanager
    def client(self: LocalRun, now: datetime) -> Iterator[tuple[object, Any]]:
        seen.append(("client", gc.isenabled()))
        yield object(), lambda at: None

    def stage(name: str) -> Any:
        def run(self: LocalRun, *args: Any, **kwargs: Any) -> StageSummary:
            seen.append((name, (self.lake, gc.get_freeze_count() > 0, gc.isenabled())))
            return self._done(StageSummary.start(name, self.panel.id, D))  # type: ignore[arg-type]
        return run

    gc.unfreeze()  # the interpreter's own, if any: the replay's freeze is then all there is
    monkeypatch.setattr(LocalRun, "client", client)
    for name in ("collect", "score", "publish"):
        monkeypatch.setattr(LocalRun, name, stage(name))
    local = LocalRun(resolve_panel("pharma-fr-2026"), Lake(str(tmp_path / "lake")), tmp_path / "site",
                     progress=quiet)
    return local, seen


def test_the_replay_scores_through_the_cached_view(calls: tuple[LocalRun, list[tuple[str, Any]]]) -> None:
    local, seen = calls
    assert gc.get_freeze_count() == 0
    _replay(local, PLAN)
    scores = [lake for name, (lake, _, _) in (c for c in seen if c[0] != "client") if name == "score"]
    assert len(scores) == 2 and all(isinstance(lake, CachedLake) for lake in scores)
    assert scores[0] is scores[1] and scores[0].root == local.lake.root  # one cache for the series
    assert all(lake is local.lake for name, (lake, _, _) in (c for c in seen if c[0] in ("collect", "publish")))
    # Summaries: every stage's, in the run's own list (the score series' view shares it).
    assert [s.stage for s in local.summaries] == ["collect"] * (len(PLAN.backfills) + 3) + ["score"] * 2 + ["publish"]


def test_the_worlds_are_frozen_while_they_live(calls: tuple[LocalRun, list[tuple[str, Any]]]) -> None:
    local, seen = calls
    _replay(local, PLAN)
    assert ("client", False) in seen  # the worlds are built with the collector paused
    assert all(frozen and enabled for name, (_, frozen, enabled) in (c for c in seen if c[0] != "client")
               if name == "collect")
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_failed_replay_unfreezes_too(calls: tuple[LocalRun, list[tuple[str, Any]]],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    local, _ = calls

    def fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("publish failed")

    monkeypatch.setattr(LocalRun, "publish", fails)
    with pytest.raises(RuntimeError):
        _replay(local, PLAN)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_the_collector_state_is_restored(calls: tuple[LocalRun, list[tuple[str, Any]]]) -> None:
    local, _ = calls
    gc.disable()
    try:
        with _simulators(local, datetime(2026, 1, 1)):
            assert not gc.isenabled()  # it was off: it stays off
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
    with pytest.raises(ValueError), _simulators(local, datetime(2026, 1, 1)):
        raise ValueError
    gc.unfreeze()
    assert gc.isenabled()


class _Pages(Reader):
    """A Reader answering each feed request from a list of items, newest first."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(client=None, lake=None, raw_prefix="raw")  # type: ignore[arg-type]
        self.items = items
        self.asked: list[dict[str, Any]] = []

    def call(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(params)
        start = int(params.get("cursor", 0))
        end = start + params["limit"]
        return {"feed": self.items[start:end], **({"cursor": str(end)} if end < len(self.items) else {})}


def _item(i: int) -> dict[str, Any]:
    created = (datetime(2026, 6, 30) - timedelta(hours=i)).isoformat() + ".000Z"
    return {"post": {"uri": f"at://did:plc:a/app.bsky.feed.post/{i}", "record": {"createdAt": created}}}


@pytest.mark.parametrize("new", [0, 3, FIRST_INCREMENTAL_PAGE - 1, FIRST_INCREMENTAL_PAGE + 4])
def test_an_incremental_feed_read_starts_small(new: int) -> None:
    items = [_item(i) for i in range(300)]
    known = {items[new]["post"]["uri"]}
    r = _Pages(items)
    got = list(r.author_feed("did:plc:a", known, datetime(2026, 1, 1)))
    assert got == items[:new]  # the same items as with full pages
    assert [p["limit"] for p in r.asked] == [FIRST_INCREMENTAL_PAGE] + [PAGE] * (len(r.asked) - 1)
    assert len(r.asked) == (1 if new < FIRST_INCREMENTAL_PAGE else 2)


def test_a_first_feed_read_takes_full_pages() -> None:
    items = [_item(i) for i in range(250)]
    r = _Pages(items)
    got = list(r.author_feed("did:plc:a", set(), datetime(2026, 6, 20)))
    assert got == [it for it in items if it["post"]["record"]["createdAt"] >= "2026-06-20T00:00:00"]
    assert {p["limit"] for p in r.asked} == {PAGE}
