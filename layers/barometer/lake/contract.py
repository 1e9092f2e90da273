"""What the lake check reports: a bad file, and the error that names bad files.

Apart from `barometer.lake.validate` so that the store can raise it too (a corrupt gzipped JSON
object) without importing the check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from barometer.errors import BarometerError

DEFAULT_HINT = ("move them out of the lake (or repair them), or score with skip_bad_files "
                "(`--skip-bad-files`) to leave them out: their rows then count as missing data")


@dataclass(frozen=True)
class BadFile:
    """A file of a table folder that breaks the lake contract."""

    table: str
    key: str  # relative to the lake's root, e.g. mentions/panel=p/dt=2018-04-20/data.parquet
    location: str  # where it is: the lake URI joined with the key
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


class LakeContractError(BarometerError):
    """A lake file that does not match the contract (corrupt, wrong schema, not Parquet); the
    message names it (them), `bad_files` lists them."""

    def __init__(self, message: str, bad_files: Iterable[BadFile] = ()) -> None:
        super().__init__(message)
        self.bad_files = tuple(bad_files)


def contract_message(bad: list[BadFile], hint: str = DEFAULT_HINT, shown: int = 5) -> str:
    """One line naming the bad files (the first `shown` of them) and what to do."""
    n = len(bad)
    files = "; ".join(str(b) for b in bad[:shown])
    more = f"; and {n - shown} more" if n > shown else ""
    noun = "file does" if n == 1 else "files do"
    return f"{n} lake {noun} not match the lake contract: {files}{more} — {hint}"
