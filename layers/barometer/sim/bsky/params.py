"""Query parameters checked against the lexicons, with the XRPC server's 400 messages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import parse_qs

from barometer.sim.bsky.errors import invalid

DID_RE = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
HANDLE_RE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
AT_URI_RE = re.compile(r"^at://(?P<repo>[^/?#]+)(?:/(?P<collection>[a-zA-Z0-9.-]+)(?:/(?P<rkey>[A-Za-z0-9._:~-]+))?)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class Params:
    """The query string of one request: every value of each parameter, in order."""

    def __init__(self, query: str) -> None:
        # Unknown parameters are ignored, as the XRPC server does (lexicons may grow).
        self.raw = parse_qs(query, keep_blank_values=True)

    def one(self, name: str, *, required: bool = False) -> str | None:
        vals = self.raw.get(name)
        if not vals:
            if required:
                raise invalid(f'Error: Params must have the property "{name}"')
            return None
        return vals[-1]

    def many(self, name: str, *, required: bool = False, max_length: int | None = None) -> list[str]:
        vals = self.raw.get(name, [])
        if required and not vals:
            raise invalid(f'Error: Params must have the property "{name}"')
        if max_length is not None and len(vals) > max_length:
            raise invalid(f"Error: {name} must not have more than {max_length} elements")
        return vals

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        v = self.one(name)
        if v is None:
            return default
        try:
            n = int(v)
        except ValueError:
            raise invalid(f"Error: {name} must be an integer") from None
        if n < lo:
            raise invalid(f"Error: {name} can not be less than {lo}")
        if n > hi:
            raise invalid(f"Error: {name} can not be greater than {hi}")
        return n

    def boolean(self, name: str, default: bool) -> bool:
        v = self.one(name)
        if v is None:
            return default
        if v not in ("true", "false"):
            raise invalid(f"Error: {name} must be a boolean")
        return v == "true"

    def identifier(self, name: str, *, required: bool = False) -> str | None:
        v = self.one(name, required=required)
        if v is not None:
            check_identifier(name, v)
        return v


def check_identifier(name: str, v: str) -> None:
    if not (DID_RE.match(v) or (HANDLE_RE.match(v) and len(v) <= 253)):
        raise invalid(f"Error: {name} must be a valid did or a handle")


def check_handle(name: str, v: str) -> None:
    if not (HANDLE_RE.match(v) and len(v) <= 253):
        raise invalid(f"Error: {name} must be a valid handle")


def split_at_uri(name: str, v: str) -> tuple[str, str, str]:
    """(repo, collection, rkey) of an AT-URI; a 400 when it is not one."""
    m = AT_URI_RE.match(v)
    if not m or not m.group("rkey"):
        raise invalid(f"Error: {name} must be a valid at-uri")
    return m.group("repo"), m.group("collection"), m.group("rkey")


def parse_when(name: str, v: str) -> int:
    """searchPosts' since/until: an ISO date-time or a date (YYYY-MM-DD) → epoch ms."""
    try:
        if len(v) == 10:
            d = date.fromisoformat(v)
            t = datetime(d.year, d.month, d.day, tzinfo=UTC)
        elif _DATETIME.match(v):
            t = datetime.fromisoformat(v.replace("Z", "+00:00"))
        else:
            raise ValueError
    except ValueError:
        raise invalid(f"Error: {name} must be a datetime or a date (YYYY-MM-DD)") from None
    return int(t.timestamp() * 1000)
