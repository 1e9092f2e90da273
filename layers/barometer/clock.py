"""The run clock: when a run for date D reads, and which dates a run can read at all.

Neutral ground: the local runner, the Lambda handlers, the CLI and the simulator all use it,
and it imports nothing above the panel model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from barometer.config import Panel

# The scheduled run for date D starts at 06:00 Europe/Paris on D+1; the simulator's clock is
# set to that moment so a replay sees exactly what a daily run would have seen.
RUN_HOUR_UTC = 5
# The first day X holds posts for (2006-03-21): no date before it can be read.
X_FIRST_DAY = date(2006, 3, 21)


def run_clock(dt: date) -> datetime:
    """The (naive UTC) moment the scheduled run for `dt` reads: D+1 05:00 UTC."""
    return datetime(dt.year, dt.month, dt.day, RUN_HOUR_UTC) + timedelta(days=1)


def today(timezone: str, now: datetime | None = None) -> date:
    """Today's date in a panel's time zone (UTC when the zone is unknown to this machine)."""
    now = now or datetime.now(UTC)
    try:
        return now.astimezone(ZoneInfo(timezone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(UTC).date()


@dataclass(frozen=True)
class DateRange:
    """The dates a run of a panel can read, with why each end is where it is."""

    first: date
    last: date
    first_why: str
    last_why: str

    def check(self, flag: str, d: date) -> str | None:
        """The one-line refusal for `flag d` outside the range (None when inside). Every
        command words it the same way."""
        if d > self.last:
            return f"{flag} {d.isoformat()}: after {self.last.isoformat()}, {self.last_why}"
        if d < self.first:
            return f"{flag} {d.isoformat()}: before {self.first.isoformat()}, {self.first_why}"
        return None


def readable_dates(panel: Panel, *, simulated: bool, now: datetime | None = None) -> DateRange:
    """Dates a run of `panel` can read: from the panel's first date (else X's first day) to
    the run clock's today, or on the simulator to the simulated world's last day (the panel's
    demo run date, as `sim.world.build_world` builds it; today UTC without a demo)."""
    if panel.first_date is not None:
        first, first_why = panel.first_date, f"the first date of panel {panel.id}"
    else:
        first, first_why = X_FIRST_DAY, "the first day X holds posts for"
    if simulated and panel.demo is not None:
        last, last_why = panel.demo.run_date, f"the last day of the simulated world of panel {panel.id}"
    elif simulated:
        last, last_why = (now or datetime.now(UTC)).astimezone(UTC).date(), "today (UTC) on the simulator"
    else:
        last, last_why = today(panel.timezone, now), f"today in {panel.timezone}"
    return DateRange(first=first, last=last, first_why=first_why, last_why=last_why)
