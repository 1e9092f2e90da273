"""Stage runs: the typed summary every stage returns, and its row in the `runs` table.

Light on purpose (pydantic only): the Lambda handlers import it on their first invocation (not
at init, see `functions/*/handler.py`); pyarrow and the lake are imported by `record_run` only,
when a row is written.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

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
    # Stage-specific figures (rows written, pages published, site URL...).
    details: dict[str, object] = Field(default_factory=dict)

    @classmethod
    def start(cls, stage: Stage, panel: str, dt: date, run_id: str | None = None) -> StageSummary:
        return cls(run_id=run_id or new_run_id(stage, panel, dt), stage=stage, panel=panel, dt=dt,
                   started_at=utcnow())

    @property
    def cost_usd(self) -> float:
        return round(self.posts_read * PRICE_POST_READ + self.users_read * PRICE_USER_READ, 4)

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
        }


def record_run(lake: Lake, summary: StageSummary) -> None:
    """Write the run's row; one part per stage, so a rerun of the stage replaces its row."""
    import pyarrow as pa

    from barometer.lake.schemas import RUNS

    table = pa.Table.from_pylist([summary.to_row()], schema=RUNS)
    lake.write_partition("runs", summary.panel, summary.dt, table, part=summary.stage)
