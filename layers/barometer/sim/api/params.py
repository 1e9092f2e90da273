"""Query-string parsing and validation, with X's own 400 messages for every refusal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from barometer.sim.api.fields import ALLOWED, TWEET_FIELDS, USER_FIELDS
from barometer.sim.api.problems import invalid
from barometer.sim.model import to_ms

_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})$"
)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def parse_params(endpoint: str, query: str) -> dict[str, str]:
    """The endpoint's parameters, last value wins; any parameter it does not take is a 400."""
    raw = parse_qs(query, keep_blank_values=True)
    allowed = ALLOWED[endpoint]
    for k in raw:
        if k not in allowed:
            raise invalid(f"The query parameter [{k}] is not one of [{','.join(allowed)}]", {k: raw[k]})
    return {k: v[-1] for k, v in raw.items()}


# -- times -------------------------------------------------------------------------------------
def iso(ms: int) -> str:
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(name: str, value: str) -> int:
    m = _TIME.match(value)
    if not m:
        raise invalid(
            f"Invalid '{name}':'{value}'. '{name}' must be a valid RFC 3339 date-time", {name: [value]}
        )
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        t = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=UTC)
    except ValueError:
        raise invalid(f"Invalid '{name}':'{value}'.", {name: [value]}) from None
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        hh, mm = int(tz[1:3]), int(tz[-2:])
        t -= sign * timedelta(hours=hh, minutes=mm)
    return to_ms(t) + (int((frac or "0").ljust(3, "0")[:3]))


# -- pagination tokens -------------------------------------------------------------------------
def _b36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if not n:
            return out


def make_token(direction: str, post_id: int) -> str:
    # Opaque to clients, stateless here: the page boundary id, base-36 (X's tokens look alike).
    return direction + _b36(post_id ^ 0x5A5A5A5A5A)


def read_token(name: str, token: str, direction: str) -> int:
    try:
        if not token.startswith(direction):
            raise ValueError
        return int(token[1:], 36) ^ 0x5A5A5A5A5A
    except ValueError:
        raise invalid(f"The `{name}` query parameter value [{token}] is not valid", {name: [token]}) from None


# -- single parameters -------------------------------------------------------------------------
def check_ids(raw: str, ids: list[str]) -> None:
    for i in ids:
        if not i.isdigit() or len(i) > 19:
            raise invalid(f"The `ids` query parameter value [{i}] does not match ^[0-9]{{1,19}}$", {"ids": [raw]})


def list_param(params: dict[str, str], name: str, allowed: frozenset[str]) -> set[str]:
    val = params.get(name)
    if val is None:
        return set()
    items = [x for x in val.split(",")]
    for x in items:
        if x not in allowed:
            raise invalid(
                f"The `{name}` query parameter value [{x}] is not one of [{','.join(sorted(allowed))}]",
                {name: [val]},
            )
    return set(items)


def requested_fields(params: dict[str, str], expansions: frozenset[str]) -> tuple[set[str], set[str], set[str]]:
    """(tweet fields, user fields, expansions) asked for, each checked against X's vocabulary."""
    return (
        list_param(params, "tweet.fields", TWEET_FIELDS),
        list_param(params, "user.fields", USER_FIELDS),
        list_param(params, "expansions", expansions),
    )


def csv_param(params: dict[str, str], name: str) -> tuple[str, list[str]]:
    """A comma-separated list parameter of 1 to 100 values, with X's own error messages."""
    raw = params.get(name)
    if not raw:
        raise invalid(f"The `{name}` query parameter can not be empty", {name: [raw or ""]})
    values = raw.split(",")
    if len(values) > 100:
        raise invalid(
            f"The number of values in the `{name}` query parameter list [{len(values)}] is not "
            "between 1 and 100",
            {name: [raw]},
        )
    return raw, values


def max_results(params: dict[str, str], lo: int, hi: int, default: int) -> int:
    raw = params.get("max_results")
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise invalid(
            f"The `max_results` query parameter value [{raw}] is not between {lo} and {hi}",
            {"max_results": [raw]},
        )
    return int(raw)


def id_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise invalid(
            f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$", {name: [raw]}
        )
    return int(raw)


def query_param(params: dict[str, str], full: bool) -> str:
    """The search query: 512 characters on recent search, 1,024 on the full archive."""
    q = params.get("query")
    if not q:
        raise invalid("The `query` query parameter can not be empty", {"query": [q or ""]})
    cap = 1024 if full else 512
    if len(q) > cap:
        raise invalid(
            f"The `query` query parameter value [{q}] is not between 1 and {cap} characters",
            {"query": [q]},
        )
    return q
