"""`barometer run` reads Bluesky from a server of the user's choice (issue 14): `--bsky-url`, the
handle from `--bsky-handle` or $BLUESKY_HANDLE, the app password from $BLUESKY_APP_PASSWORD
only. Against real local servers (the X simulator and the Bluesky simulator, in-process, over
HTTP), no mocks: the login works, a refused one is one line; a missing password or handle, a
password on the command line, `--bsky-url` beside the embedded simulator, a bad URL: one line,
exit 2, before anything is read. The password never appears in stdout, stderr, the log records
or the lake."""

from __future__ import annotations

import gzip
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from _two_networks import two_network_spec

from barometer.cli import main
from barometer.lake.store import Lake, network_is
from barometer.pipeline import XSource, run_clock
from barometer.sim.bsky import BskySimServer
from barometer.sim.server import SimServer
from barometer.sim.world import build_world

D = date(2018, 4, 30)
SPEC: dict[str, Any] = two_network_spec("cli-bsky", "CLI Bluesky", D, x_only_brand=False)
HANDLE = "barometer-cli.bsky.social"
SECRET = "qzx7-wv3k-secr-et42"  # the app password the Bluesky simulator accepts
WRONG = "wrng-pass-neve-rlog"
ENV_KEYS = ("X_BEARER_TOKEN", "BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD", "BAROMETER_LAKE")


@dataclass
class Servers:
    x: SimServer
    bsky: BskySimServer
    panel_file: Path


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    from barometer.config import parse_panel

    panel_file = tmp_path_factory.mktemp("panel") / "cli-bsky.yaml"
    panel_file.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    world = build_world(parse_panel(SPEC))
    now = run_clock(D)
    with SimServer(world, "sim-token", now=now) as xs, \
            BskySimServer(world, now=now, handle=HANDLE, password=SECRET) as bs:
        yield Servers(xs, bs, panel_file)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ENV_KEYS:
        monkeypatch.delenv(k, raising=False)


def run_args(s: Servers, tmp: Path, *extra: str, x: bool = True, bsky: bool = True) -> list[str]:
    return ["run", "--panel", str(s.panel_file), "--date", D.isoformat(), "--stages", "collect",
            *(["--x-api-url", s.x.url] if x else []), *(["--bsky-url", s.bsky.url] if bsky else []),
            "--lake", str(tmp / "lake"), "--site", str(tmp / "site"), *extra]


def lake_text(root: Path) -> bytes:
    """Every byte the lake holds, readable: gzip objects decompressed, Parquet tables as text."""
    out = []
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".gz":
            out.append(gzip.decompress(p.read_bytes()))
        elif p.suffix == ".parquet":
            out.append(str(pq.read_table(p).to_pylist()).encode())
        else:
            out.append(p.read_bytes())
    return b"\n".join(out)


def logins(s: Servers) -> int:
    return int(s.bsky.stats["logins"])


def test_run_logs_in_to_the_given_server(servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", SECRET)
    before = logins(servers)
    rc = main(run_args(servers, tmp_path, "--bsky-handle", HANDLE))
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert out.startswith(f"collect  {SPEC['id']} {D} ok"), out
    assert logins(servers) == before + 1
    lake = Lake(str(tmp_path / "lake"))
    acc = lake.read("accounts", SPEC["id"], filter=network_is("bluesky")).to_pylist()
    assert sorted(a["handle"] for a in acc) == ["gsk-france.bsky.social", "sanofi.bsky.social"]
    assert lake.read("mentions", SPEC["id"], filter=network_is("bluesky")).num_rows > 0  # search: logged in
    assert lake.read("accounts", SPEC["id"], filter=network_is("x")).num_rows == 2
    for where in (out, err, caplog.text):
        assert SECRET not in where
    assert SECRET.encode() not in lake_text(tmp_path / "lake")
    # The handle from $BLUESKY_HANDLE works the same; the session kept in the lake: no new login.
    monkeypatch.setenv("BLUESKY_HANDLE", HANDLE)
    assert main(run_args(servers, tmp_path)) == 0
    assert logins(servers) == before + 1
    assert SECRET not in "".join(capsys.readouterr()) + caplog.text


def test_refused_password_one_line_never_echoed(servers: Servers, tmp_path: Path) -> None:
    """In a process of its own: everything it writes to stdout and stderr is searched."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(BLUESKY_HANDLE=HANDLE, BLUESKY_APP_PASSWORD=WRONG)
    exe = Path(sys.executable).parent / "barometer"
    p = subprocess.run([str(exe), *run_args(servers, tmp_path)], env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 3, p.stdout + p.stderr
    refused = [ln for ln in p.stdout.splitlines() if "login refused" in ln]
    assert refused == [f"         ! bluesky: login refused for {HANDLE} (HTTP 401): app password refused or expired"]
    assert WRONG not in p.stdout + p.stderr
    assert WRONG.encode() not in lake_text(tmp_path / "lake")
    lake = Lake(str(tmp_path / "lake"))
    assert lake.read("accounts", SPEC["id"], filter=network_is("bluesky")).num_rows == 2  # profiles still read
    assert lake.read("mentions", SPEC["id"], filter=network_is("x")).num_rows > 0  # X untouched by it


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    try:
        rc = main(argv)
    except SystemExit as e:  # a usage error: argparse exits
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("barometer: error: "), err
    return lines[0]


def test_missing_password_or_handle_one_line_nothing_read(servers: Servers, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    requests = dict(servers.bsky.stats["requests"])
    monkeypatch.setenv("BLUESKY_HANDLE", HANDLE)
    line = _one_line_exit_2(capsys, run_args(servers, tmp_path))
    assert line == (f"barometer: error: run: panel {SPEC['id']} reads Bluesky from {servers.bsky.url} as {HANDLE}: "
                    "set $BLUESKY_APP_PASSWORD to its app password (read from the environment only)")
    monkeypatch.delenv("BLUESKY_HANDLE")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", SECRET)
    line = _one_line_exit_2(capsys, run_args(servers, tmp_path))
    assert "give the account to log in as (--bsky-handle or $BLUESKY_HANDLE)" in line and SECRET not in line
    assert not (tmp_path / "lake").exists()  # refused before anything is written
    assert dict(servers.bsky.stats["requests"]) == requests  # no request made
    # `start` takes the same login.
    monkeypatch.delenv("BLUESKY_APP_PASSWORD")
    line = _one_line_exit_2(capsys, ["start", "--panel", str(servers.panel_file), "--x-api-url", servers.x.url,
                                     "--bsky-handle", HANDLE, "--lake", str(tmp_path / "lake")])
    assert line.startswith("barometer: error: start: ") and "$BLUESKY_APP_PASSWORD" in line


def test_real_x_reads_bluesky_from_bsky_social_by_default(servers: Servers, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", "a-real-looking-token")
    monkeypatch.setenv("BLUESKY_HANDLE", HANDLE)
    line = _one_line_exit_2(capsys, run_args(servers, tmp_path, x=False, bsky=False))
    assert f"reads Bluesky from https://bsky.social as {HANDLE}: set $BLUESKY_APP_PASSWORD" in line
    assert "a-real-looking-token" not in line
    # --simulate: the embedded simulators, Bluesky's own login; nothing asked.
    assert main(run_args(servers, tmp_path, "--simulate", "--stages", "collect", x=False, bsky=False)) == 0
    capsys.readouterr()


@pytest.mark.parametrize("flag", ["--bsky-password", "--bsky-app-password", "--bsky-password="])
def test_password_on_the_command_line_refused_not_echoed(servers: Servers, tmp_path: Path, flag: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv = run_args(servers, tmp_path, *([flag + SECRET] if flag.endswith("=") else [flag, SECRET]))
    line = _one_line_exit_2(capsys, argv)
    assert "read from $BLUESKY_APP_PASSWORD only, never from the command line" in line and SECRET not in line


def test_bsky_url_beside_the_embedded_simulator_or_malformed(servers: Servers, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_line_exit_2(capsys, run_args(servers, tmp_path, x=False))
    assert "--bsky-url: X is read from the embedded simulator" in line
    line = _one_line_exit_2(capsys, run_args(servers, tmp_path, "--bsky-url", "ftp://example.org", bsky=False))
    assert "not a server URL" in line


def test_the_source_never_shows_its_secrets() -> None:
    s = XSource(token="tok-123", bsky_url="http://127.0.0.1:9", bsky_handle=HANDLE, bsky_password=SECRET)
    assert SECRET not in repr(s) and "tok-123" not in repr(s) and HANDLE in repr(s)
    assert XSource().bsky_server == "https://bsky.social" and s.bsky_server == "http://127.0.0.1:9"
