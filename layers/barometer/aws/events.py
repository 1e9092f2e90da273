"""Typed events: the state machine's input, which is also what `barometer trigger` sends.

`{"panel": "pharma-fr", "date": "2018-04-30", "stages": ["collect", "score", "publish"],
"brands": ["sanofi"]}`; `date` is optional (yesterday in Europe/Paris), `stages` defaults
to all three, `brands` to the whole panel.

Standard library only (a frozen dataclass, not a pydantic model): the Lambda handlers import
it at cold start. The stage names come from `barometer.runs` (pydantic), imported when a
request is first built, i.e. on a handler's first invocation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import date as Date  # the dataclass has a field named `date`
from typing import TYPE_CHECKING, Any

from barometer.aws._coerce import EXTRA, REQUIRED, Invalid, as_date, as_list, as_str
from barometer.errors import ConfigError
from barometer.ids import ID_RE

if TYPE_CHECKING:
    from barometer.runs import Stage

DEFAULT_TZ = "Europe/Paris"


def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def _all_stages() -> list[Stage]:
    from barometer.runs import STAGES

    return list(STAGES)


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """One run of some stages of the pipeline for a panel and a date.

    Validated on construction (`ValueError`, naming the field); `parse` and `from_event` turn
    that into one ConfigError line."""

    panel: str
    date: Date | None = None
    stages: list[Stage] = field(default_factory=_all_stages)
    brands: list[str] | None = None
    # Collect only: continue the run date's checkpoint (the state machine's loop sets it on the
    # invocations after the first) instead of replaying the date from the cursors before it.
    resume: bool = False

    def __post_init__(self) -> None:
        # in field order, so that the first error reported is the first field's
        panel = as_str(self.panel, "panel")
        if not ID_RE.match(panel):
            raise Invalid("panel", f"bad panel id {panel!r} (lower-case letters, digits and -)")
        set_ = object.__setattr__  # frozen: normalised values are set once, here
        set_(self, "panel", panel)
        set_(self, "date", None if self.date is None else as_date(self.date, "date"))
        set_(self, "stages", self._stages(self.stages))
        set_(self, "brands", self._brands(self.brands))
        if not isinstance(self.resume, bool):
            raise Invalid("resume", "Input should be a valid boolean")

    @staticmethod
    def _stages(v: Any) -> list[Stage]:
        from barometer.runs import STAGES

        given = as_list(_split(v), "stages")
        # pipeline order, whatever order they were given in
        ordered = [s for s in STAGES if s in given] + [s for s in given if s not in STAGES]
        for i, s in enumerate(ordered):
            if s not in STAGES:
                raise Invalid(f"stages.{i}", "Input should be " + ", ".join(f"'{n}'" for n in STAGES[:-1])
                              + f" or '{STAGES[-1]}'")
        if not ordered:
            raise Invalid("stages", "List should have at least 1 item after validation, not 0")
        return ordered

    @staticmethod
    def _brands(v: Any) -> list[str] | None:
        v = _split(v)
        if not v:
            return None
        return [as_str(b, f"brands.{i}") for i, b in enumerate(as_list(v, "brands"))]

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def parse(cls, data: Mapping[str, Any], source: str = "event") -> RunRequest:
        """From a dict; errors become one ConfigError line naming the field."""
        data = dict(data)
        names = _FIELDS
        try:
            if "panel" not in data:
                raise Invalid("panel", REQUIRED)
            request = cls(**{k: v for k, v in data.items() if k in names})
            extra = next((k for k in data if k not in names), None)
            if extra is not None:
                raise Invalid(str(extra), EXTRA if isinstance(extra, str) else "Keys should be strings")
        except Invalid as e:
            raise ConfigError(f"{source}: {e}") from None
        return request

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> RunRequest:
        """From a Lambda event: the state input, possibly carrying earlier stages' results.

        Keys other than the request's own (e.g. a previous stage's summary that the state
        machine appended) are ignored; the request's keys are validated strictly.
        """
        if not isinstance(event, Mapping):
            raise ConfigError("event: (root): expected a JSON object {panel, date, stages, brands}")
        data = {k: v for k, v in event.items() if k in _FIELDS}
        return cls.parse(data)

    # -- use --------------------------------------------------------------------------------
    def run_date(self, now: datetime | None = None, tz: str = DEFAULT_TZ) -> Date:
        return self.date or yesterday(now, tz)

    def resolved(self, now: datetime | None = None, tz: str = DEFAULT_TZ) -> RunRequest:
        """The same request with its date filled in."""
        return replace(self, date=self.run_date(now, tz))

    def wants(self, stage: Stage) -> bool:
        return stage in self.stages

    def to_input(self) -> dict[str, Any]:
        """The state machine input (JSON-ready): absent brands and date are left out."""
        out: dict[str, Any] = {"panel": self.panel}
        if self.date is not None:
            out["date"] = self.date.isoformat()
        out["stages"] = list(self.stages)
        if self.brands is not None:
            out["brands"] = list(self.brands)
        if self.resume:
            out["resume"] = True
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_input(), separators=(",", ":"))


_FIELDS = frozenset(f.name for f in fields(RunRequest))
