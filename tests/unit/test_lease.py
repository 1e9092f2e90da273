"""One run per panel at a time, on a file:// lake: the lease file on disk, read back after each
step; a crashed run (a process killed with SIGKILL) and concurrent runs (threads, processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from barometer.config import parse_panel
from barometer.errors import BarometerError
from barometer.lake.lease import (
    Clock,
    FileLeaseStore,
    Lease,
    LeaseBusy,
    LeaseInfo,
    LeaseLost,
    hold,
    lease_key,
    store_for,
    utcnow,
)
from barometer.lake.store import Lake

REPO = Path(__file__).resolve().parents[2]
PANEL = "p1"


def _on_disk(lake: Lake, panel: str = PANEL) -> dict[str, object] | None:
    path = Path(lake.path(lease_key(panel)))
    return json.loads(path.read_bytes()) if path.exists() else None


def _lease(lake: Lake, owner: str, ttl: float = 60.0, clock: Clock = utcnow) -> Lease:
    return Lease(store_for(lake, PANEL), PANEL, owner, ttl=ttl, clock=clock)


class _Clock:
    """A hand-moved clock: expiry tests must not depend on how busy the machine is."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(f"file://{tmp_path}/lake")


def test_lease_file_holds_owner_and_times(lake: Lake) -> None:
    a = _lease(lake, "run-a", ttl=90)
    info = a.acquire()
    stored = _on_disk(lake)
    assert stored is not None
    assert stored["owner"] == "run-a" and stored["panel"] == PANEL and stored["pid"] == os.getpid()
    acquired = datetime.fromisoformat(str(stored["acquired_at"]).removesuffix("Z"))
    expires = datetime.fromisoformat(str(stored["expires_at"]).removesuffix("Z"))
    assert (expires - acquired).total_seconds() == pytest.approx(90, abs=0.01)
    assert info.acquired_at == acquired and info.expires_at == expires
    assert Path(lake.path("state/leases/panel=p1.json")).is_file()
    a.release()
    assert _on_disk(lake) is None


def test_second_run_gets_lease_busy_naming_holder_and_expiry(lake: Lake) -> None:
    a = _lease(lake, "barometer run --panel p1 --date 2018-04-20")
    info = a.acquire()
    b = _lease(lake, "run-b")
    with pytest.raises(LeaseBusy) as e:
        b.acquire()
    msg = str(e.value)
    assert msg.startswith("panel p1 is busy: another run holds its lease (barometer run --panel p1 --date 2018-04-20")
    assert f"expires {info.expires_at:%Y-%m-%d %H:%M:%S} UTC" in msg
    assert lake.path("state/leases/panel=p1.json") in msg
    assert "\n" not in msg
    assert isinstance(e.value, BarometerError) and e.value.exit_code == 75
    assert e.value.holder is not None and e.value.holder.owner == a.owner
    assert _on_disk(lake)["owner"] == a.owner  # type: ignore[index]
    # another panel is independent
    other = Lease(store_for(lake, "p2"), "p2", "run-b")
    other.acquire()
    assert _on_disk(lake, "p2")["owner"] == "run-b"  # type: ignore[index]


def test_expired_lease_is_taken_over_and_old_owner_cannot_release(lake: Lake) -> None:
    clock = _Clock()
    a = _lease(lake, "run-a", ttl=30, clock=clock)
    a.acquire()
    clock.advance(29.999)
    with pytest.raises(LeaseBusy):
        _lease(lake, "run-b", clock=clock).acquire()
    clock.advance(0.001)  # expires_at itself counts as expired
    b = _lease(lake, "run-b", clock=clock)
    b.acquire()
    assert _on_disk(lake)["owner"] == "run-b"  # type: ignore[index]
    with pytest.raises(LeaseLost, match="run-a expired and was taken over before its release: now held by run-b"):
        a.release()
    assert _on_disk(lake)["owner"] == "run-b"  # type: ignore[index]
    with pytest.raises(LeaseLost):
        a.renew()
    assert _on_disk(lake)["owner"] == "run-b"  # type: ignore[index]


def test_release_by_non_owner_is_refused(lake: Lake) -> None:
    a = _lease(lake, "run-a")
    a.acquire()
    before = Path(lake.path(lease_key(PANEL))).read_bytes()
    b = _lease(lake, "run-b")
    with pytest.raises(LeaseLost,
                       match=r"^panel p1: run-b does not hold the lease, release refused; it is held by run-a"):
        b.release()
    assert Path(lake.path(lease_key(PANEL))).read_bytes() == before


def test_renew_pushes_the_expiry(lake: Lake) -> None:
    clock = _Clock()
    a = _lease(lake, "run-a", ttl=50, clock=clock)
    first = a.acquire()
    clock.advance(30)
    renewed = a.renew()
    assert renewed.acquired_at == first.acquired_at
    assert renewed.expires_at == first.expires_at + timedelta(seconds=30)
    clock.advance(30)  # past the first expiry, not the renewed one
    with pytest.raises(LeaseBusy):
        _lease(lake, "run-b", clock=clock).acquire()
    clock.advance(20)
    _lease(lake, "run-b", clock=clock).acquire()
    assert _on_disk(lake)["owner"] == "run-b"  # type: ignore[index]


def test_unreadable_lease_counts_as_expired(lake: Lake) -> None:
    path = Path(lake.path(lease_key(PANEL)))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00not json")
    b = _lease(lake, "run-b")
    b.acquire()
    assert _on_disk(lake)["owner"] == "run-b"  # type: ignore[index]


def test_wait_until_the_holder_releases(lake: Lake) -> None:
    a = _lease(lake, "run-a")
    a.acquire()
    threading.Timer(0.5, a.release).start()
    t0 = time.monotonic()
    _lease(lake, "run-b").acquire(wait=10, poll=0.05)
    assert 0.4 < time.monotonic() - t0 < 5
    assert _on_disk(lake)["owner"] == "run-b"  # type: ignore[index]


def test_wait_gives_up_with_lease_busy(lake: Lake) -> None:
    _lease(lake, "run-a").acquire()
    t0 = time.monotonic()
    with pytest.raises(LeaseBusy, match=r"\(waited 0.3 s\)"):
        _lease(lake, "run-b").acquire(wait=0.3, poll=0.05)
    assert time.monotonic() - t0 >= 0.3


def test_concurrent_runs_exactly_one_wins(lake: Lake) -> None:
    n = 12
    barrier = threading.Barrier(n)
    results: dict[int, LeaseInfo | None] = {}

    def attempt(i: int) -> None:
        lease = _lease(lake, f"run-{i}")
        barrier.wait()
        results[i] = lease.try_acquire()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, holder in results.items() if holder is None]
    assert len(winners) == 1
    assert _on_disk(lake)["owner"] == f"run-{winners[0]}"  # type: ignore[index]
    assert {h.owner for h in results.values() if h is not None} == {f"run-{winners[0]}"}


def test_concurrent_takeover_of_an_expired_lease_exactly_one_wins(lake: Lake) -> None:
    _lease(lake, "crashed", ttl=0.1).acquire()
    time.sleep(0.2)
    n = 12
    barrier = threading.Barrier(n)
    results: dict[int, LeaseInfo | None] = {}

    def attempt(i: int) -> None:
        lease = _lease(lake, f"run-{i}")
        barrier.wait()
        results[i] = lease.try_acquire()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, holder in results.items() if holder is None]
    assert len(winners) == 1
    assert _on_disk(lake)["owner"] == f"run-{winners[0]}"  # type: ignore[index]


CRASH = """
import os, signal, sys
from barometer.lake.lease import Lease, store_for
from barometer.lake.store import Lake
lease = Lease(store_for(Lake(sys.argv[1]), "p1"), "p1", "crashing-run", ttl=float(sys.argv[2]))
lease.acquire()
print("held", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_run_blocks_until_its_lease_expires(lake: Lake) -> None:
    # a long ttl, and a later clock for the taker: a slow interpreter start cannot expire it early
    proc = subprocess.run([sys.executable, "-c", CRASH, lake.uri, "600"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "layers")}, timeout=60)
    assert proc.returncode == -signal.SIGKILL and proc.stdout == "held\n"
    stored = _on_disk(lake)
    assert stored is not None and stored["owner"] == "crashing-run" and stored["pid"] != os.getpid()
    with pytest.raises(LeaseBusy, match="crashing-run"):
        _lease(lake, "next-run").acquire()
    later = _Clock()
    later.now = utcnow() + timedelta(seconds=601)
    _lease(lake, "next-run", clock=later).acquire()  # taken over once expired
    assert _on_disk(lake)["owner"] == "next-run"  # type: ignore[index]


def test_processes_racing_exactly_one_wins(lake: Lake) -> None:
    script = """
import sys, time
from barometer.lake.lease import Lease, store_for
from barometer.lake.store import Lake
lease = Lease(store_for(Lake(sys.argv[1]), "p1"), "p1", sys.argv[2], ttl=60)
start = float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))
print("won" if lease.try_acquire() is None else "lost", flush=True)
"""
    start = time.time() + 2.0
    env = {**os.environ, "PYTHONPATH": str(REPO / "layers")}
    procs = [subprocess.Popen([sys.executable, "-c", script, lake.uri, f"proc-{i}", str(start)],
                              stdout=subprocess.PIPE, text=True, env=env) for i in range(6)]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(outs) == ["lost"] * 5 + ["won"]
    assert _on_disk(lake)["owner"] == f"proc-{outs.index('won')}"  # type: ignore[index]


def test_hold_renews_while_the_block_runs_and_releases_after(lake: Lake) -> None:
    with hold(lake, PANEL, "long-run", ttl=1.5) as lease:
        assert lease.held
        time.sleep(3.5)  # over 2 ttls: still held thanks to the heartbeat
        with pytest.raises(LeaseBusy, match="long-run"):
            _lease(lake, "other").acquire()
        stored = _on_disk(lake)
        assert stored is not None and stored["owner"] == "long-run"
    assert _on_disk(lake) is None


def test_hold_releases_when_the_block_raises(lake: Lake) -> None:
    with pytest.raises(RuntimeError, match="boom"), hold(lake, PANEL, "failing-run"):
        raise RuntimeError("boom")
    assert _on_disk(lake) is None


def test_hold_reports_a_lease_lost_while_stalled(lake: Lake) -> None:
    with pytest.raises(LeaseLost, match="stalled-run expired and was taken over"), \
            hold(lake, PANEL, "stalled-run", ttl=0.2, heartbeat=False):
        time.sleep(0.3)
        _lease(lake, "newer-run").acquire()
    assert _on_disk(lake)["owner"] == "newer-run"  # type: ignore[index]


def test_hold_busy_runs_nothing(lake: Lake) -> None:
    _lease(lake, "first").acquire()
    ran = []
    with pytest.raises(LeaseBusy), hold(lake, PANEL, "second"):
        ran.append(1)
    assert ran == []
    assert _on_disk(lake)["owner"] == "first"  # type: ignore[index]


def test_file_store_is_chosen_for_a_local_lake(lake: Lake) -> None:
    store = store_for(lake, PANEL)
    assert isinstance(store, FileLeaseStore) and store.where == lake.path("state/leases/panel=p1.json")


def test_ttl_must_be_positive(lake: Lake) -> None:
    with pytest.raises(ValueError, match="positive"):
        _lease(lake, "x", ttl=0)


# -- the local runner -------------------------------------------------------------------------
RUN_PANEL = parse_panel({"id": "p1", "name": "P1", "brands": [
    {"id": "alpha", "name": "Alpha", "accounts": [{"handle": "alpha"}], "mention_query": "alpha"}]})


def test_local_run_refuses_while_another_run_holds_the_panel(lake: Lake, tmp_path: Path) -> None:
    from barometer.pipeline import LocalRun, quiet, run

    _lease(lake, "barometer run --panel p1 --date 2018-04-19 --stages collect").acquire()
    local = LocalRun(panel=RUN_PANEL, lake=lake, site_dir=tmp_path / "site", progress=quiet)
    with pytest.raises(LeaseBusy, match=r"^panel p1 is busy: another run holds its lease \(barometer run "
                                        r"--panel p1 --date 2018-04-19 --stages collect"):
        run(local, date(2018, 4, 20), ["score"])
    assert local.summaries == []
    assert not Path(lake.path("runs")).exists()  # the stage never started: no runs row


def test_local_run_holds_the_lease_during_its_stages_and_releases_it(lake: Lake, tmp_path: Path) -> None:
    from barometer.pipeline import LocalRun, quiet, run

    seen: list[dict[str, object] | None] = []
    local = LocalRun(panel=RUN_PANEL, lake=lake, site_dir=tmp_path / "site", progress=quiet)
    local.progress = lambda _msg: seen.append(_on_disk(lake))
    with pytest.raises(BarometerError, match="no data for panel p1"):  # an empty lake: score fails
        run(local, date(2018, 4, 20), ["score"])
    assert [s["owner"] for s in seen if s] == ["barometer run --panel p1 --date 2018-04-20 --stages score"]
    assert _on_disk(lake) is None  # released although the stage failed
