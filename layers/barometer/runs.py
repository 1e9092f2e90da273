"""Stage runs: the typed summary every stage returns, and its row in the `runs` table.

One way to run and record a stage, for collect, score and publish alike:

```python
with recorded(lake, StageSummary.start("score", panel.id, dt, run_id)) as summary:
    ...  # the stage's work; it sets summary.status (and counts) as it goes
return summary
```
The block writes the run's `runs` row whatever happens: when the body returns, with the status
the body set (`ok` by default); when it raises (any exception, a `BarometerError` or not, even
Ctrl-C), with status `failed` and the error's one-line message in `errors`, then re-raises.
When the row itself cannot be written (disk full, S3 refused), the error says so
(`RunNotRecorded`, which names both failures).

One row per run: each stage's rows of a date are kept in `runs/panel=<p>/dt=<D>/<stage>.parquet`
and a row is merged into that file by `run_id` (a new run adds its row, the same run writing
again replaces its own), so two runs of the same date both leave their row and their cost.
Runs of one panel are serialised by its lease (`barometer.lake.lease`), so the read-merge-write
of that small file never races.

Light on purpose (pydantic only): the Lambda handlers import it on their first invocation (not
at init, see `functions/*/handler.py`); pyarrow and the lake are imported by `record_run` only,
when a row is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from barometer.errors import BarometerError

if TYPE_CHECKING:
    from barometer.lake.store import Lake

Stage = Literal["collect", "score", "publish"]
Status = Literal["ok", "partial", "failed", "skipped"]
STAGES: tuple[Stage, ...] = ("collect", "score", "publish")

# X pay-per-use prices (USD) per resource read.
PRICE_POST_READ = 0.005
PRICE_USER_READ = 0.010


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_run_id(stage: str, panel: str, dt: date) -> str:
    return f"{panel}-{dt.isoformat()}-{stage}-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


class StageSummary(BaseModel):
    """What a stage did: returned by handlers and the CLI, stored in the `runs` table."""

    run_id: str
    stage: Stage
    panel: str
    dt: date
    started_at: datetime
    finished_at: datetime | None = None
    status: Status = "ok"
    brands_ok: int = 0
    brands_failed: int = 0
    api_requests: int = 0
    posts_read: int = 0
    users_read: int = 0
    errors: list[str] = Field(default_factory=list)
    # Collect within a budget (issue 13): the budget (None: read everything), the brands whose
    # mentions were sampled to fit it, and billed requests priced apart (counts, if priced).
    budget_usd: float | None = None
    sampled_brands: list[str] = Field(default_factory=list)
    other_usd: float = 0.0
    # Stage-specific figures (rows written, pages published, site URL...).
    details: dict[str, object] = Field(default_factory=dict)

    @classmethod
    def start(cls, stage: Stage, panel: str, dt: date, run_id: str | None = None) -> StageSummary:
        return cls(run_id=run_id or new_run_id(stage, panel, dt), stage=stage, panel=panel, dt=dt,
                   started_at=utcnow())

    @property
    def cost_usd(self) -> float:
        return round(self.posts_read * PRICE_POST_READ + self.users_read * PRICE_USER_READ + self.other_usd, 4)

    def finish(self, status: Status | None = None) -> StageSummary:
        self.finished_at = utcnow()
        if status is not None:
            self.status = status
        return self

    def to_row(self) -> dict[str, object]:
        return {
            "run_id": self.run_id, "stage": self.stage, "panel": self.panel, "dt": self.dt,
            "started_at": self.started_at, "finished_at": self.finished_at or utcnow(),
            "status": self.status, "brands_ok": self.brands_ok, "brands_failed": self.brands_failed,
            "api_requests": self.api_requests, "posts_read": self.posts_read,
            "users_read": self.users_read, "cost_usd": self.cost_usd, "errors": list(self.errors),
            "budget_usd": self.budget_usd, "sampled_brands": list(self.sampled_brands),
        }


class RunNotRecorded(BarometerError):
    """A stage's `runs` row could not be written (disk full, storage refused): says why, and
    what the stage itself did or met."""


# An error line in the runs table is one line, this long at most.
MAX_ERROR_CHARS = 500


def one_line(error: BaseException) -> str:
    """The error's message on one line: a `BarometerError`'s message as is (it is written for
    users), else `<Type>: <message>`."""
    text = " ".join(str(error).split())
    if isinstance(error, KeyboardInterrupt):
        text = "interrupted (KeyboardInterrupt)"
    elif not isinstance(error, BarometerError) or not text:
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


@contextmanager
def recorded(lake: Lake, summary: StageSummary) -> Iterator[StageSummary]:
    """Run a stage's body and write its `runs` row, whatever happens (see the module doc)."""
    try:
        yield summary
    except BaseException as e:
        summary.errors.append(one_line(e))
        summary.finish("failed")
        try:
            record_run(lake, summary)
        except Exception as w:
            raise RunNotRecorded(
                f"{summary.stage} {summary.panel} {summary.dt} failed ({one_line(e)}) and its runs row "
                f"could not be written to {lake.uri}: {one_line(w)}") from e
        raise
    if summary.finished_at is None:
        summary.finish()
    try:
        record_run(lake, summary)
    except Exception as w:
        raise RunNotRecorded(
            f"{summary.stage} {summary.panel} {summary.dt} finished {summary.status} but its runs row "
            f"could not be written to {lake.uri}: {one_line(w)}") from w


def record_run(lake: Lake, summary: StageSummary) -> None:
    """Merge the run's row into its stage's part of the date's `runs` partition, by `run_id`:
    the rows of the other runs of that stage and date stay (see the module doc)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from barometer.lake.schemas import RUNS

    row = pa.Table.from_pylist([summary.to_row()], schema=RUNS)
    key = f"{lake.partition_path('runs', summary.panel, summary.dt)}/{summary.stage}.parquet"
    part: str = summary.stage
    if lake.exists(key):
        try:
            with lake.fs.open_input_file(key) as f:
                held = pq.read_table(f)
            held = held.select(RUNS.names).cast(RUNS)
        except (OSError, ValueError, KeyError, pa.ArrowException):
            # An unreadable part is not overwritten (it holds other runs' rows): this run's row
            # goes to a part of its own, and the bad file is left for the lake check to name.
            part = f"{summary.stage}-{_safe(summary.run_id)}"
        else:
            mask = pa.array([r != summary.run_id for r in held["run_id"].to_pylist()], pa.bool_())
            row = pa.concat_tables([held.filter(mask), row]).sort_by([("started_at", "ascending")])
    lake.write_partition("runs", summary.panel, summary.dt, row, part=part)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in name)
