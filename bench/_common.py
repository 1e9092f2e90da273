"""Shared helpers of the benchmark scripts: measures, child processes, the cached lakes."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = ROOT / "build" / "bench"
if str(ROOT / "layers") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers"))

Result = dict[str, Any]


def measure(value: float | int | str | None, unit: str, target: float | None = None, op: str = "<=",
            note: str | None = None) -> dict[str, Any]:
    """One figure: value, unit, target (as text) and whether it is met (None: no target)."""
    met: bool | None = None
    if target is not None and isinstance(value, int | float):
        met = bool(value <= target) if op == "<=" else bool(value >= target) if op == ">=" else \
            bool(value == target)
    elif target is not None and value is None:
        met = False
    out: dict[str, Any] = {"value": value, "unit": unit,
                           "target": None if target is None else f"{op} {target:g}", "met": met}
    if note:
        out["note"] = note
    return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux: ru_maxrss is in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def args_parser(doc: str | None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    ap.add_argument("--scale", choices=["full", "tiny"], default="full",
                    help="full: the documented benchmark; tiny: a smoke run (tests)")
    ap.add_argument("--work", type=Path, default=WORK, help="cache and scratch folder (default: build/bench)")
    ap.add_argument("--json-out", type=Path, help="write the section's figures here as JSON")
    return ap


def emit(result: Result, path: Path | None) -> None:
    text = json.dumps(result, indent=2, default=str)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    else:
        print(text)


def child(args: list[str], timeout: float = 900, env: dict[str, str] | None = None) -> Result:
    """Run `python <args> --json-out F` in a fresh process; its JSON result (plus `child_wall_s`)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, *args, "--json-out", str(out)]
        full_env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "layers"), str(BENCH), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        full_env.update(env or {})
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=ROOT)
        wall = time.perf_counter() - t0
        if not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            raise RuntimeError(f"{' '.join(args[:2])} exited {proc.returncode}: " + " | ".join(tail))
        # A script that found a failure (a status, a disagreement) still reports its figures.
        res: Result = json.loads(out.read_text())
        res["child_wall_s"] = round(wall, 3)
        return res


def cached(work: Path, key: str, build: Callable[[Path], Any]) -> Path:
    """A folder `work/<key>` built once by `build(folder)`; a `.done` marker makes it reusable."""
    path = work / key
    done = path / ".done"
    if done.exists():
        return path
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    info = build(path)
    done.write_text(json.dumps(info, default=str))
    return path


def synth_lake(work: Path, **spec_kwargs: Any) -> tuple[Path, dict[str, Any]]:
    """The synthetic lake for these parameters, generated once and cached under `work`."""
    from barometer.lake.store import Lake
    from barometer.sim.generate import SynthSpec, generate

    spec = SynthSpec(**spec_kwargs)

    def build(path: Path) -> dict[str, Any]:
        res = generate(spec, Lake(str(path)), progress=lambda m: print(m, file=sys.stderr, flush=True))
        return {"rows": res.rows, "files": res.files, "seconds": round(res.seconds, 2),
                "panel": res.panel_path}

    path = cached(work, f"lake-{spec.key()}", build)
    return path, json.loads((path / ".done").read_text())


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
