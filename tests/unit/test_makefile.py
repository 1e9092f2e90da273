"""The day-to-day loop: `make help` lists every target, and every target sets up what it needs
(checked with `make -n`, which prints the commands without running them) on a bare clone and
right after `make demo`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAKEFILES = [REPO / "Makefile", *sorted((REPO / "mk").glob("*.mk"))]
VENV_CREATE = re.compile(r"-m venv \.venv$")
DEV_INSTALL = "pip install -q -e '.[dev,infra]'"
# Targets that set nothing up on purpose.
NO_SETUP = {"help", "clean", "chromium", "node", "setup"}

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _targets() -> list[str]:
    names: list[str] = []
    for mk in MAKEFILES:
        for line in mk.read_text(encoding="utf-8").splitlines():
            if line.startswith(".PHONY:"):
                names += line.split(":", 1)[1].split()
    return names


def _make(cwd: Path, *args: str) -> str:
    env = {**os.environ, "MAKEFLAGS": "", "MAKELEVEL": ""}
    proc = subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_help_lists_every_target() -> None:
    out = _make(REPO, "help")
    listed = re.findall(r"^  make (\S+)", out, flags=re.M)
    assert sorted(listed) == sorted(set(_targets()))
    for name in ("unit", "integration", "e2e", "infra-test", "lint", "synth", "demo", "test"):
        assert name in listed


def _clone(tmp_path: Path) -> Path:
    """The files make reads, without .venv or node_modules."""
    root = tmp_path / "clone"
    (root / "mk").mkdir(parents=True)
    for mk in MAKEFILES:
        shutil.copy(mk, root / mk.relative_to(REPO))
    for name in ("pyproject.toml", "package.json", "package-lock.json"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, root / name)
    return root


def _after_demo(root: Path) -> None:
    """What `make demo` leaves: a venv with the base install, its stamp newer than pyproject."""
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").touch()
    (root / ".venv" / ".stamp-base").touch()


@pytest.mark.parametrize("after_demo", [False, True], ids=["bare-clone", "after-demo"])
def test_every_target_sets_up_what_it_needs(tmp_path: Path, after_demo: bool) -> None:
    root = _clone(tmp_path)
    if after_demo:
        _after_demo(root)
    for target in sorted(set(_targets()) - NO_SETUP):
        lines = _make(root, "-n", target).splitlines()
        uses = [i for i, line in enumerate(lines) if ".venv/bin/" in line and "-m pip install" not in line]
        if not uses:
            continue
        first_use = uses[0]
        if not after_demo:
            assert any(VENV_CREATE.search(line) for line in lines[:first_use]), (target, lines)
        if target not in ("demo", "serve"):  # those need the base install only
            assert any(DEV_INSTALL in line for line in lines[:first_use]), (target, lines)


def test_suites_run_one_folder_each() -> None:
    for target, folder in (("unit", "tests/unit"), ("integration", "tests/integration"),
                           ("e2e", "tests/e2e"), ("infra-test", "tests/infra")):
        out = _make(REPO, "-n", "-o", ".venv/.stamp-dev", "-o", ".venv/.stamp-base", "-o", "node_modules/.stamp",
                    "-o", "layer", "-o", "chromium", target)
        runs = [line for line in out.splitlines() if "-m pytest" in line]
        assert runs and all(line.rstrip().endswith(folder) for line in runs), (target, out)
    out = _make(REPO, "-n", "-o", ".venv/.stamp-dev", "-o", ".venv/.stamp-base", "-o", "node_modules/.stamp",
                "-o", "chromium", "-o", "lint", "test")
    assert "-m pytest -q -n 2 --dist loadgroup" in out
