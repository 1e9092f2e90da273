"""`barometer reparse` rebuilds the Bluesky rows too (issue 14): a day of a two-network panel
collected on the embedded simulators (X and Bluesky, real HTTP, the production SDKs), its
Bluesky part deleted or corrupted, then rebuilt from `raw/bluesky/` alone: the same rows, row by
row; X's rows untouched; nothing twice on a second reparse. A Bluesky-only panel, a run stopped
by a 429 and a run whose login was refused replay as they ran; an archive that no longer
matches the state before the date is refused in one line and writes nothing."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from _two_networks import two_network_spec
from atproto import Client

from barometer.cli import main
from barometer.collect.bluesky import collect_bluesky
from barometer.collect.reparse import reparse
from barometer.config import parse_panel
from barometer.errors import BarometerError
from barometer.lake.store import Lake
from barometer.pipeline import LocalRun, quiet, run_clock
from barometer.runs import StageSummary
from barometer.sim.bsky import BskyFaultPlan, BskySimServer
from barometer.sim.world import build_world

D = date(2018, 4, 30)
SPEC: dict[str, Any] = two_network_spec("reparse-nets", "Reparse networks", D)
PANEL = parse_panel(SPEC)
BSKY_ONLY = PANEL.on_network("bluesky").model_copy(update={"id": "bsky-only"})
TABLES = ("accounts", "posts", "mentions", "mention_counts", "completeness")
NOW = datetime(2018, 5, 1, 5, 0)


def part(lake: Lake, table: str, name: str, panel: str = PANEL.id, dt: date = D) -> list[dict[str, Any]] | None:
    """The rows of one part file of a partition, in file order (None: no such file)."""
    path = f"{lake.partition_path(table, panel, dt)}/{name}.parquet"
    return pq.read_table(path, filesystem=lake.fs).to_pylist() if lake.exists(path) else None


def nets(s: StageSummary) -> dict[str, Any]:
    networks: dict[str, Any] = s.details["networks"]  # type: ignore[assignment]
    return networks


def parts(lake: Lake, name: str, panel: str = PANEL.id, dt: date = D) -> dict[str, Any]:
    return {t: part(lake, t, name, panel, dt) for t in TABLES}


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two daily runs (D-1, then D: its author feeds stop at the posts D-1 knew) on both networks."""
    root = tmp_path_factory.mktemp("two-nets")
    local = LocalRun(PANEL, Lake(str(root / "lake")), root / "site", progress=quiet)
    # One pair of simulators for both days, as `barometer demo` does: the session stored in the
    # lake names its server.
    with local.client(run_clock(D)) as (client, set_now):
        for dt in (D - timedelta(days=1), D):
            set_now(run_clock(dt))
            s = local.collect(client, dt, run_clock(dt), mode="daily")
            assert s.status == "ok", s.errors
    return root / "lake"


@pytest.fixture
def lake(collected: Path, tmp_path: Path) -> Lake:
    shutil.copytree(collected, tmp_path / "lake")
    return Lake(str(tmp_path / "lake"))


def _damage(lake: Lake) -> None:
    """Delete some of the date's Bluesky part files, corrupt the others."""
    for i, t in enumerate(TABLES):
        path = Path(lake.partition_path(t, PANEL.id, D)) / "bluesky.parquet"
        if i % 2:
            path.unlink()
        else:
            path.write_bytes(b"PAR1 not parquet at all")


def test_reparse_rebuilds_the_bluesky_rows_row_by_row(lake: Lake) -> None:
    bsky, x = parts(lake, "bluesky"), parts(lake, "data")
    assert all(bsky[t] for t in TABLES) and all(x[t] for t in TABLES)
    assert {r["network"] for t in TABLES for r in bsky[t] or ()} == {"bluesky"}
    assert {r["brand_id"] for r in bsky["accounts"] or ()} == {"sanofi", "gsk-france"}
    _damage(lake)
    s = reparse(PANEL, D, lake)
    assert s.status == "ok" and s.api_requests == 0, s.errors
    assert set(nets(s)) == {"x", "bluesky"}
    assert parts(lake, "bluesky") == bsky  # row by row, in the run's order
    assert parts(lake, "data") == x  # X's part: the same rows
    # A second reparse writes the same rows again: nothing twice.
    reparse(PANEL, D, lake)
    assert parts(lake, "bluesky") == bsky and parts(lake, "data") == x
    posts = lake.read("posts", PANEL.id, D, D).to_pylist()
    assert len({(p["network"], p["brand_id"], p["post_id"], p["observed_at"]) for p in posts}) == len(posts)
    # The other date is not touched.
    assert parts(lake, "bluesky", dt=D - timedelta(days=1))["posts"]


def test_reparse_cli_one_network(lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    panel_file = tmp_path / "panel.yaml"
    panel_file.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    bsky, x = parts(lake, "bluesky"), parts(lake, "data")
    x_mtime = (Path(lake.partition_path("posts", PANEL.id, D)) / "data.parquet").stat().st_mtime_ns
    _damage(lake)
    rc = main(["reparse", "--panel", str(panel_file), "--date", D.isoformat(), "--network", "bluesky",
               "--lake", lake.uri])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.splitlines()[0].startswith(f"reparse {PANEL.id} {D} bluesky: accounts 2, posts ")
    assert f"(from raw/bluesky/panel={PANEL.id}/dt={D}, no API call)" in out and " x: " not in out
    assert parts(lake, "bluesky") == bsky and parts(lake, "data") == x
    assert (Path(lake.partition_path("posts", PANEL.id, D)) / "data.parquet").stat().st_mtime_ns == x_mtime
    # Both networks by default: one line each.
    rc = main(["reparse", "--panel", str(panel_file), "--date", D.isoformat(), "--lake", lake.uri])
    lines = capsys.readouterr().out.splitlines()
    assert rc == 0 and [ln.split(":")[0] for ln in lines[:2]] == [
        f"reparse {PANEL.id} {D} x", f"reparse {PANEL.id} {D} bluesky"], lines
    assert parts(lake, "bluesky") == bsky and parts(lake, "data") == x


def test_missing_bluesky_archive_one_line_x_still_rebuilt(lake: Lake) -> None:
    x = parts(lake, "data")
    raw = Path(lake.root) / "raw" / "bluesky" / f"panel={PANEL.id}" / f"dt={D}"
    (raw / "_manifest.json.gz").unlink()  # a run killed before its manifest
    for t in ("posts", "mentions"):
        (Path(lake.partition_path(t, PANEL.id, D)) / "data.parquet").unlink()
    s = reparse(PANEL, D, lake)
    assert s.status == "partial"
    assert [e for e in s.errors if e.startswith("bluesky: ")] == [
        f"bluesky: no complete raw Bluesky collect run for panel {PANEL.id} on {D} in {lake.uri} "
        f"(no raw/bluesky/panel={PANEL.id}/dt={D}/_manifest.json.gz)"]
    assert parts(lake, "data") == x
    with pytest.raises(BarometerError, match="no complete raw Bluesky collect run"):
        reparse(PANEL, D, lake, ["bluesky"])


def test_archive_that_no_longer_matches_is_refused(lake: Lake) -> None:
    bsky = parts(lake, "bluesky")
    raw = Path(lake.root) / "raw" / "bluesky" / f"panel={PANEL.id}" / f"dt={D}"
    page = sorted(raw.glob("*-app.bsky.feed.getAuthorFeed.json.gz"))[0]
    body = json.loads(gzip.decompress(page.read_bytes()))
    body["params"]["actor"] = "did:plc:someoneelse"
    page.write_bytes(gzip.compress(json.dumps(body).encode()))
    _damage(lake)
    with pytest.raises(BarometerError) as e:
        reparse(PANEL, D, lake, ["bluesky"])
    assert "\n" not in str(e.value) and str(e.value).startswith(f"bluesky: raw/bluesky/panel={PANEL.id}/dt={D}/")
    assert "holds app.bsky.feed.getAuthorFeed with other parameters: " in str(e.value)
    assert str(e.value).endswith("collect the date again")
    # Nothing written: the damage stays as it was.
    assert (Path(lake.partition_path("accounts", PANEL.id, D)) / "bluesky.parquet").read_bytes().startswith(b"PAR1 not")
    assert part(lake, "posts", "bluesky") is None and bsky["posts"]


@pytest.fixture(scope="module")
def srv() -> Iterator[BskySimServer]:
    with BskySimServer(build_world(PANEL), now=NOW) as s:
        yield s


@pytest.mark.parametrize("case", ["ok", "stopped", "refused"])
def test_bluesky_only_panel_replays_as_it_ran(srv: BskySimServer, tmp_path: Path, case: str) -> None:
    """No X at all; a run stopped by a 429 on its first search, and one whose login was refused,
    are replayed to the same rows (the same completeness, the same missing mentions)."""
    lake = Lake(str(tmp_path / "lake"))
    password = "wrong-pass-word0" if case == "refused" else srv.password
    collect_bluesky(BSKY_ONLY, D - timedelta(days=1), lake, Client(srv.url), srv.handle, password, now=NOW)
    srv.set_faults(BskyFaultPlan.parse("429@search_posts:1" if case == "stopped" else None))
    try:
        r = collect_bluesky(BSKY_ONLY, D, lake, Client(srv.url), srv.handle, password, now=NOW)
    finally:
        srv.set_faults(None)
    assert r.status == ("ok" if case == "ok" else "partial"), r.errors
    before = parts(lake, "bluesky", BSKY_ONLY.id)
    assert before["accounts"] and before["completeness"]
    if case == "refused":
        assert {c["status"] for c in before["completeness"] or () if c["source"] == "mentions"} == {"none"}
    shutil.rmtree(Path(lake.root) / "posts" / f"panel={BSKY_ONLY.id}" / f"dt={D}")
    for t in TABLES:
        (Path(lake.partition_path(t, BSKY_ONLY.id, D)) / "bluesky.parquet").unlink(missing_ok=True)
    s = reparse(BSKY_ONLY, D, lake)
    assert s.status == "ok" and set(nets(s)) == {"bluesky"}
    assert parts(lake, "bluesky", BSKY_ONLY.id) == before
    assert all(part(lake, t, "data", BSKY_ONLY.id) is None for t in TABLES)  # no X part appears


def test_a_page_gone_from_the_archive_is_one_line(lake: Lake, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    raw = Path(lake.root) / "raw" / "bluesky" / f"panel={PANEL.id}" / f"dt={D}"
    sorted(raw.glob("*-app.bsky.feed.searchPosts.json.gz"))[-1].unlink()
    x = parts(lake, "data")
    s = reparse(PANEL, D, lake)
    assert s.status == "partial" and parts(lake, "data") == x
    [line] = [e for e in s.errors if e.startswith("bluesky: ")]
    assert line.startswith(f"bluesky: a raw page of raw/bluesky/panel={PANEL.id}/dt={D} cannot be read (")
    panel_file = tmp_path / "panel.yaml"
    panel_file.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    rc = main(["reparse", "--panel", str(panel_file), "--date", D.isoformat(), "--lake", lake.uri])
    out = capsys.readouterr().out.splitlines()
    assert rc == 3 and out[0].startswith(f"reparse {PANEL.id} {D} x: accounts 3, ") and len(out) == 2, out
    assert out[1] == f"  {line}"
