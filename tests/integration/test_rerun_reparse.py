"""Issue 17, reproductions 2 and 4: `reparse` uses complete runs only; a crash between the table
writes and the state write never duplicates on the next run.

On copies of the demo lake, through the simulator; the lake is compared row by row.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

pytest.importorskip("barometer.sim.server")
pytest.register_assert_rewrite("_rerun")
pytest_plugins = ("_rerun",)
from _rerun import (  # noqa: E402
    APR20,
    APR20_ROWS,
    APR30,
    PANEL,
    TABLES,
    barometer,
    collect,
    completeness,
    copy_lake,
    keyset,
    no_duplicate,
    rows,
    serve,
    snapshot,
    truncate,
)

from barometer.collect import MANIFEST  # noqa: E402
from barometer.collect import state as cstate  # noqa: E402
from barometer.pipeline import run_clock  # noqa: E402

APR21 = APR20 + timedelta(days=1)


def _raw_runs(lake: Path) -> dict[str, list[str]]:
    base = lake / "raw" / f"panel={PANEL}" / f"dt={APR30}"
    return {d.name: sorted(p.name for p in d.iterdir()) for d in base.iterdir()} if base.is_dir() else {}


def test_reparse_skips_a_killed_run(demo_now: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = copy_lake(demo_now, tmp_path)
    before = snapshot(lake, APR30)
    assert len(before["mentions"]) == 319
    (original,) = _raw_runs(lake)
    exe = Path(sys.executable).parent / "barometer"
    env = {k: v for k, v in os.environ.items() if k != "X_BEARER_TOKEN"}
    # Every search answers after 2 s: the run is surely mid-way when its first search page is in.
    proc = subprocess.Popen([str(exe), "run", "--panel", PANEL, "--date", APR30.isoformat(), "--stages", "collect",
                             "--simulate", "--faults", "timeout@search_recent:100", "--lake", str(lake),
                             "--site", str(tmp_path / "site")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            killed = [r for r, names in _raw_runs(lake).items()
                      if r != original and any(n.endswith("-search_recent.json.gz") for n in names)]
            if killed:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the collect run never got to its first search page")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert MANIFEST not in _raw_runs(lake)[killed[0]] and MANIFEST in _raw_runs(lake)[original]
    assert snapshot(lake, APR30) == before  # killed before its table writes

    rc, out = barometer(capsys, "reparse", "--panel", PANEL, "--date", APR30.isoformat(), "--lake", str(lake))
    assert rc == 0, out
    assert f"skipped raw/panel={PANEL}/dt={APR30}/{killed[0]}: no manifest (the run did not finish)" in out
    assert f"from raw/panel={PANEL}/dt={APR30}/{original}" in out.replace(str(lake) + "/", "")
    after = snapshot(lake, APR30)
    assert len(after["mentions"]) == 319
    for t in TABLES:
        assert after[t] == before[t], t

    # A raw folder from before manifests: accepted when the date's runs rows name its run (it
    # finished); with no complete folder at all, reparse says so and writes nothing.
    (lake / "raw" / f"panel={PANEL}" / f"dt={APR30}" / original / MANIFEST).unlink()
    rc, out = barometer(capsys, "reparse", "--panel", PANEL, "--date", APR30.isoformat(), "--lake", str(lake))
    assert rc == 0 and f"{original}, no API call" in out, out
    assert snapshot(lake, APR30) == before
    runs = lake / "runs" / f"panel={PANEL}" / f"dt={APR30}"
    for p in runs.glob("collect*.parquet"):
        p.unlink()
    rc, out = barometer(capsys, "reparse", "--panel", PANEL, "--date", APR30.isoformat(), "--lake", str(lake))
    assert rc != 0 and "no complete raw collect run" in out and "2 without a manifest" in out, out
    assert snapshot(lake, APR30) == before


def test_crash_between_table_writes_and_state_write_never_duplicates(
        demo_now: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lake as it was before 2018-04-20's run; that run crashes right after its table writes
    (its cursors never saved); the 21st's run then starts from the 19th's cursors, reads the
    20th's 334 mentions and 7 counts again, and stores none of them twice."""
    lake = copy_lake(demo_now, tmp_path)
    want = {d: snapshot(lake, d) for d in (APR20, APR21)}
    truncate(lake, APR20)
    assert rows(lake, "mentions", APR20) == []

    def crash(*_: object) -> None:
        raise OSError("disk full")

    with serve(run_clock(APR20)) as srv:
        with monkeypatch.context() as m:
            m.setattr(cstate, "save", crash)
            with pytest.raises(OSError, match="disk full"):
                collect(srv, lake, APR20)
        assert not (lake / "state" / "collect" / f"panel={PANEL}" / f"dt={APR20}.json.gz").exists()
        assert {t: len(r) for t, r in snapshot(lake, APR20).items()} == APR20_ROWS
        s = collect(srv, lake, APR21)
    assert s.status == "ok", s.errors
    assert "mentions: 334 row(s) already stored under 2018-04-20 (a run that did not save its cursors) " \
           "not written again" in s.errors
    assert "mention_counts: 7 row(s) already stored under 2018-04-20 (a run that did not save its cursors) " \
           "not written again" in s.errors
    got = {d: snapshot(lake, d) for d in (APR20, APR21)}
    for d in (APR20, APR21):
        for t in ("mentions", "mention_counts", "accounts"):
            assert keyset(got[d][t], t) == keyset(want[d][t], t), (d, t)
    # Brand posts are stored per observation: the 21st's run observes the 20th's posts again,
    # read from the timeline instead of refreshed: the same rows as uninterrupted, plus the
    # 20th's reposts (never refreshed), each once in the partition.
    assert keyset(got[APR20]["posts"], "posts") == keyset(want[APR20]["posts"], "posts")
    uninterrupted = keyset(want[APR21]["posts"], "posts")
    extra = [r for r in got[APR21]["posts"] if (r["brand_id"], r["post_id"]) not in uninterrupted]
    assert uninterrupted <= keyset(got[APR21]["posts"], "posts")
    assert extra and {(r["kind"], r["created_at"].date()) for r in extra} == {("repost", APR20)}
    assert len(got[APR21]["posts"]) == len(keyset(got[APR21]["posts"], "posts"))
    assert len(got[APR21]["mentions"]) == len(want[APR21]["mentions"]) > 0
    assert not keyset(got[APR20]["mentions"], "mentions") & keyset(got[APR21]["mentions"], "mentions")
    no_duplicate(lake, "mentions")
    no_duplicate(lake, "mention_counts")
    # The 20th's days are complete: recorded by the 21st's run, which read them again.
    assert {s for (_, src, day), s in completeness(lake, APR21).items() if day == APR20 and src != "profiles"} \
        == {"complete"}
