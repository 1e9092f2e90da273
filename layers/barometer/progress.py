"""Progress lines for long work: one rewritten status line on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable

Progress = Callable[[str], None]


def stderr_progress(msg: str) -> None:
    end = "\r" if sys.stderr.isatty() and not msg.endswith("\n") else "\n"
    sys.stderr.write(f"\x1b[2K{msg}{end}" if end == "\r" else f"{msg.rstrip()}\n")
    sys.stderr.flush()


def quiet(_: str) -> None:
    pass
