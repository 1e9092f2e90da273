"""Field checks for the Lambda edge's two models (`RunRequest`, `Settings`), standard library only.

Both are built at a handler's cold start (Lambda's init phase), where importing pydantic and
building its models cost more than the rest of the barometer's init. Their inputs are a JSON
event and environment strings, so a small strict set is enough: strings, lists, ISO dates,
and numbers or booleans written as text. Messages keep pydantic's wording, so the one-line
ConfigErrors (`event: date: ...`, `environment: SIMULATED: ...`) read as the panel file's do.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any


class Invalid(ValueError):
    """A field that does not validate: where (`stages.1`) and why."""

    def __init__(self, loc: str, msg: str) -> None:
        super().__init__(f"{loc}: {msg}")
        self.loc, self.msg = loc, msg


REQUIRED = "Field required"
EXTRA = "Extra inputs are not permitted"

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_str(v: Any, loc: str) -> str:
    if isinstance(v, str):
        return v
    raise Invalid(loc, "Input should be a valid string")


def as_bool(v: Any, loc: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise Invalid(loc, "Input should be a valid boolean, unable to interpret input")


def as_float(v: Any, loc: str) -> float:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    try:
        return float(as_str(v, loc).strip())
    except ValueError:
        raise Invalid(loc, "Input should be a valid number, unable to parse string as a number") from None


def as_int(v: Any, loc: str) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    try:
        return int(as_str(v, loc).strip())
    except ValueError:
        raise Invalid(loc, "Input should be a valid integer, unable to parse string as an integer") from None


def at_least_zero(v: float, loc: str) -> None:
    if not v >= 0:  # NaN fails too
        raise Invalid(loc, "Input should be greater than or equal to 0")


def as_list(v: Any, loc: str) -> list[Any]:
    if isinstance(v, list | tuple):
        return list(v)
    raise Invalid(loc, "Input should be a valid list")


def as_date(v: Any, loc: str) -> date:
    """A date (a datetime at midnight too), or its ISO text `YYYY-MM-DD`."""
    if isinstance(v, datetime):
        if v.time() != time(0):
            raise Invalid(loc, "Datetimes provided to dates should have zero time - e.g. be exact dates")
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str) and _ISO_DATE.fullmatch(v):
        try:
            return date.fromisoformat(v)
        except ValueError as e:  # 2018-04-31
            raise Invalid(loc, f"Input should be a valid date in the format YYYY-MM-DD, {e}") from None
    raise Invalid(loc, "Input should be a valid date in the format YYYY-MM-DD")
