"""Typed events: the state machine's input, which is also what `barometer trigger` sends.

`{"panel": "pharma-fr", "date": "2018-04-30", "stages": ["collect", "score", "publish"],
"brands": ["sanofi"]}`; `date` is optional (yesterday in Europe/Paris), `stages` defaults
to all three, `brands` to the whole panel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import date as Date  # the model has a field named `date`
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from barometer.config import ID_RE
from barometer.errors import ConfigError
from barometer.runs import STAGES, Stage

DEFAULT_TZ = "Europe/Paris"


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # a runtime without tzdata: Paris is UTC+1 or +2, 00:00-02:00 differ
        return UTC


def yesterday(now: datetime | None = None, tz: str = DEFAULT_TZ) -> date:
    """The default run date: the day before today in `tz` (a run happens after its day ends)."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(_zone(tz)).date() - timedelta(days=1)


def _split(v: Any) -> Any:
    if isinstance(v, str):
        return [s.strip() for s in v.split(",") if s.strip()]
    return v


class RunRequest(BaseModel):
    """One run of some stages of the pipeline for a panel and a date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    panel: str
    date: Date | None = None
    stages: list[Stage] = Field(default_factory=lambda: list(STAGES), min_length=1)
    brands: list[str] | None = None

    @field_validator("panel")
    @classmethod
    def _panel(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"bad panel id {v!r} (lower-case letters, digits and -)")
        return v

    @field_validator("stages", mode="before")
    @classmethod
    def _stages(cls, v: Any) -> Any:
        v = _split(v)
        if isinstance(v, list):
            seen = set(v)
            # pipeline order, whatever order they were given in
            return [s for s in STAGES if s in seen] + [s for s in v if s not in STAGES]
        return v

    @field_validator("brands", mode="before")
    @classmethod
    def _brands(cls, v: Any) -> Any:
        v = _split(v)
        return v or None

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def parse(cls, data: Mapping[str, Any], source: str = "event") -> RunRequest:
        """From a dict; errors become one ConfigError line naming the field."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "(root)"
            raise ConfigError(f"{source}: {loc}: {first['msg'].removeprefix('Value error, ')}") from None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> RunRequest:
        """From a Lambda event: the state input, possibly carrying earlier stages' results.

        Keys other than the request's own (e.g. a previous stage's summary that the state
        machine appended) are ignored; the request's keys are validated strictly.
        """
        if not isinstance(event, Mapping):
            raise ConfigError("event: (root): expected a JSON object {panel, date, stages, brands}")
        data = {k: v for k, v in event.items() if k in cls.model_fields}
        return cls.parse(data)

    # -- use --------------------------------------------------------------------------------
    def run_date(self, now: datetime | None = None, tz: str = DEFAULT_TZ) -> Date:
        return self.date or yesterday(now, tz)

    def resolved(self, now: datetime | None = None, tz: str = DEFAULT_TZ) -> RunRequest:
        """The same request with its date filled in."""
        return self.model_copy(update={"date": self.run_date(now, tz)})

    def wants(self, stage: Stage) -> bool:
        return stage in self.stages

    def to_input(self) -> dict[str, Any]:
        """The state machine input (JSON-ready): absent brands and date are left out."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self) -> str:
        return json.dumps(self.to_input(), separators=(",", ":"))
