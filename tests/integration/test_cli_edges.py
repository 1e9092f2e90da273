"""`barometer run` against a server that accepts connections and never answers: the HTTP read
timeout and the run's deadline end it (partial, exit 3) instead of hanging."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts every connection, reads nothing, answers nothing."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


def test_a_server_that_never_answers_does_not_hang_a_run(silent_server: str, tmp_path: Path) -> None:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "barometer.cli", "run", "--panel", "pharma-fr", "--date", "2018-04-30",
         "--stages", "collect", "--x-api-url", silent_server, "--deadline", "2",
         "--lake", str(tmp_path / "lake"), "--site", str(tmp_path / "site")],
        capture_output=True, text=True, timeout=120,
    )
    took = time.monotonic() - t0
    assert proc.returncode == 3, proc.stderr
    assert "collect  pharma-fr 2018-04-30 partial" in proc.stdout
    assert "timeout" in proc.stdout and "deadline" in proc.stdout
    assert "Traceback" not in proc.stderr
    # one read timeout (10 s) past the 2 s deadline, then the run stops: no retry, no next request
    assert took < 40, took
