"""Running one `make bench` script at tiny scale, as `make bench` runs it (its own process,
`--json-out`): shared by the bench smoke tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def run_script(name: str, work: Path, *extra: str, timeout: float = 900) -> dict[str, Any]:
    out = work / f"{name}.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / name), "--scale", "tiny", "--work", str(work),
                           "--json-out", str(out), *extra], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(out.read_text())
    return result
