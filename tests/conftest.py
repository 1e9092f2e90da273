"""Shared fixtures. The demo lake is built once per test session (across xdist workers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
X_FIXTURES = SHARED / "fixtures" / "x-api"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def x_fixtures() -> Path:
    return X_FIXTURES


def sources_key() -> str:
    """A short hash of what the demo lake is made from: the library (code, templates, data)
    and the panels."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([*(REPO / "layers" / "barometer").rglob("*"), *(REPO / "panels").rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The whole local pipeline on the demo panel: {"lake": path, "site": path, "summaries": [...]}.

    Built once: xdist workers share it through a lock in the common temp folder, under a key
    that hashes the library, the panels and their data, so a change of code never reads a lake
    an older version built.
    """
    root = tmp_path_factory.getbasetemp().parent / f"demo-run-{sources_key()}"
    done = root / "done.json"
    with FileLock(str(root) + ".lock"):
        if not done.exists():
            import shutil

            shutil.rmtree(root, ignore_errors=True)  # a half-built lake from an interrupted run
            from barometer.config import resolve_panel
            from barometer.lake.store import Lake
            from barometer.pipeline import LocalRun, XSource, demo
            from barometer.progress import quiet

            root.mkdir(parents=True, exist_ok=True)
            local = LocalRun(panel=resolve_panel("pharma-fr"), lake=Lake(str(root / "lake")),
                             site_dir=root / "site", source=XSource(), progress=quiet)
            demo(local)
            done.write_text(json.dumps([s.model_dump(mode="json") for s in local.summaries]))
    return {"lake": root / "lake", "site": root / "site", "summaries": json.loads(done.read_text())}


@pytest.fixture(scope="session")
def demo_lake(demo_run: dict[str, object]) -> Path:
    return Path(str(demo_run["lake"]))
