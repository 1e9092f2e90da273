"""Collection carried across invocations, executed: the shipped state machine in the ASL
interpreter, bridged to the real handlers (the harness and fixtures of
test_state_machine_exec.py), X on the simulator with its rate limits.

When collect stops for time with work left (X's 15-minute window spent, resetting past the
invocation's deadline), it says so (`details.work_left`, `details.resume_after` = the reset);
the state machine waits until then and invokes collect again on the date's checkpoint
(`resume`), until the day is complete or its deadline passes; score and publish run once after.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _moto import FakeContext
from test_state_machine_exec import (  # noqa: F401  (the fixtures, by their names)
    DATA,
    DT,
    MORNING_AFTER,
    PANEL,
    STAGES,
    Bridge,
    _drain,
    _lake,
    bridge,
    execute,
    world,
)

time_machine = pytest.importorskip("time_machine")

pytestmark = pytest.mark.xdist_group("state-machine")

LOOP = ["More to collect?", "Wait for the rate-limit reset", "Count collect invocations", "Resume collect"]
SEARCH_PER_WINDOW = 2  # recent search's per-app window, shrunk so that 7 brands need several


@pytest.fixture
def reference(world: dict[str, Any]) -> dict[str, Any]:
    """DT collected in one invocation without limits: what the loop must read, no more."""
    event = {"panel": PANEL, "date": DT.isoformat(), "stages": ["collect"]}
    world["sim"].api.limiter.reset()
    summary = world["handlers"]["collect"].handler(event, FakeContext("collect"))
    assert summary["status"] == "ok", summary
    mentions = _mention_ids(world)
    _forget(world)
    return {"summary": summary, "mentions": mentions}


def _forget(world: dict[str, Any]) -> None:
    """Delete DT's collected partitions and checkpoint: the next run of DT starts afresh."""
    s3 = world["s3"]
    prefixes = [f"{t}/panel={PANEL}/dt={DT.isoformat()}" for t in
                ("accounts", "posts", "mentions", "mention_counts", "completeness")]
    prefixes.append(f"state/collect/panel={PANEL}/dt={DT.isoformat()}")
    for prefix in prefixes:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=DATA, Prefix=prefix):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=DATA, Key=obj["Key"])


@pytest.fixture
def tight_search(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from barometer.sim.api import limits

    monkeypatch.setitem(limits.RATE_LIMITS, "search_recent", SEARCH_PER_WINDOW)
    world["sim"].api.limiter.reset()
    yield
    world["sim"].api.limiter.reset()


def _mention_ids(world: dict[str, Any]) -> list[str]:
    rows = _lake(world).read("mentions", PANEL, DT, DT).to_pylist()
    return sorted(f"{r['brand_id']}/{r['post_id']}" for r in rows)


def _collect_answers(bridge: Bridge) -> list[dict[str, Any]]:
    return [a["result"] for a in bridge.answers if a["state"] == "Collect"]


def test_collect_stopped_by_the_rate_limit_resumes_after_the_reset_until_complete(
        world: dict[str, Any], reference: dict[str, Any], tight_search: None, bridge: Bridge,
        tmp_path: Path) -> None:
    resets: list[str] = []

    def window_passes(answer: dict[str, Any]) -> None:
        # The Wait state takes no real time in the interpreter: the simulator's windows reset
        # as they would have by `resume_after`.
        details = answer.get("result", {}).get("details", {})
        if details.get("work_left"):
            resets.append(details["resume_after"])
            world["sim"].api.limiter.reset()

    bridge.after["Collect"] = window_passes
    # Each invocation has a minute: a window resetting later cannot be waited for inside it.
    bridge.contexts["collect"] = lambda: FakeContext("collect", remaining_ms=60_000)
    with time_machine.travel(MORNING_AFTER, tick=True):
        out = execute(world, {"panel": PANEL, "date": DT.isoformat()}, tmp_path)

    assert out["status"] == "SUCCEEDED", out
    answers = _collect_answers(bridge)
    n = len(answers)
    assert n >= 3, [a["details"].get("stopped") for a in answers]  # 7 brands' searches, 2 a window
    assert [a["status"] for a in answers] == ["partial"] * (n - 1) + ["ok"]
    assert [a["details"]["work_left"] for a in answers] == [True] * (n - 1) + [False]
    # the Wait state got the reported reset: the next 15-minute boundary, ISO 8601 UTC
    for reset in resets:
        at = datetime.strptime(reset, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert at.timestamp() % 900 == 0 and at > MORNING_AFTER
    # the loop, n - 1 times, then score and publish once
    invoked = [s for s in out["states"] if s in ("Collect", "Score", "Publish")]
    assert invoked == ["Collect"] * n + ["Score", "Publish"]
    assert out["states"].count("Wait for the rate-limit reset") == n - 1
    inputs = bridge.inputs("Collect")
    assert "resume" not in inputs[0] and all(i["resume"] is True for i in inputs[1:])
    assert {i["date"] for i in inputs[1:]} == {DT.isoformat()}  # pinned after the first
    assert out["output"]["plan"]["collect_invocations"] == n
    assert out["output"]["results"]["score"]["status"] == "ok"
    assert out["output"]["results"]["publish"]["status"] == "ok"
    # reads = the minimum: together, the invocations read the posts one complete run reads, and
    # the lake holds the same mentions
    assert sum(int(a["posts_read"]) for a in answers) == reference["summary"]["posts_read"]
    # the profiles (users) are read by the first invocation only, never billed again
    assert reference["summary"]["users_read"] == 7
    assert [int(a["users_read"]) for a in answers] == [7] + [0] * (n - 1)
    assert _mention_ids(world) == reference["mentions"]
    assert answers[-1]["brands_ok"] == 7
    assert _drain(world) == []


def test_past_the_days_deadline_collect_gives_up_and_score_runs_once(
        world: dict[str, Any], reference: dict[str, Any], tight_search: None, bridge: Bridge,
        tmp_path: Path) -> None:
    bridge.contexts["collect"] = lambda: FakeContext("collect", remaining_ms=60_000)
    late = datetime(2018, 5, 2, 4, 30, tzinfo=UTC)  # after D+2 04:00 UTC
    with time_machine.travel(late, tick=True):
        out = execute(world, {"panel": PANEL, "date": DT.isoformat()}, tmp_path)

    assert out["status"] == "SUCCEEDED", out
    (answer,) = _collect_answers(bridge)
    assert answer["status"] == "partial"
    assert answer["details"]["work_left"] is False and "deadline" in answer["details"]["gave_up"]
    assert "Wait for the rate-limit reset" not in out["states"]
    assert [s for s in out["states"] if s in ("Collect", "Score", "Publish")] == ["Collect", "Score", "Publish"]


def test_a_complete_collect_does_not_loop(world: dict[str, Any], bridge: Bridge, tmp_path: Path) -> None:
    world["sim"].api.limiter.reset()
    with time_machine.travel(MORNING_AFTER, tick=True):
        out = execute(world, {"panel": PANEL, "date": DT.isoformat(), "stages": ["collect"]}, tmp_path)

    assert out["status"] == "SUCCEEDED", out
    assert out["output"]["results"]["collect"]["details"]["work_left"] is False
    assert [s for s in out["states"] if s in LOOP] == ["More to collect?"]
    assert out["output"]["plan"]["collect_invocations"] == 1
    assert STAGES[0] == "collect"
