"""The time range and id bounds search and counts share: recent endpoints see the last 7 days,
full-archive ones everything since X's first post."""

from __future__ import annotations

from datetime import UTC, datetime

from barometer.sim.api.params import id_param, iso, parse_time
from barometer.sim.api.problems import invalid
from barometer.sim.model import DAY_MS, min_id_at, snowflake_ms, to_ms


def time_range(now: int, params: dict[str, str], full: bool) -> tuple[int, int]:
    """(start, end) in epoch ms, with X's defaults and X's refusals."""
    end = parse_time("end_time", params["end_time"]) if "end_time" in params else now - 30_000
    if end > now - 10_000:
        raise invalid(
            "Invalid 'end_time':'{}'. 'end_time' must be a minimum of 10 seconds prior to the "
            "request time.".format(params.get("end_time")),
            {"end_time": [params.get("end_time", "")]},
        )
    if full:
        start = (
            parse_time("start_time", params["start_time"])
            if "start_time" in params
            else end - 30 * DAY_MS
        )
        if start < to_ms(datetime(2006, 3, 21, tzinfo=UTC)):
            raise invalid(
                f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be on or after "
                "2006-03-21T00:00Z",
                {"start_time": [params["start_time"]]},
            )
    else:
        floor = now - 7 * DAY_MS
        start = parse_time("start_time", params["start_time"]) if "start_time" in params else floor
        if start < floor:
            raise invalid(
                f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be on or after "
                f"{iso(floor)[:16]}Z",
                {"start_time": [params["start_time"]]},
            )
    if start >= end:
        raise invalid(
            f"Invalid 'start_time':'{params.get('start_time', iso(start))}'. 'start_time' must be "
            "before 'end_time'",
            {"start_time": [params.get("start_time", iso(start))]},
        )
    return start, end


def id_bounds(now: int, params: dict[str, str], full: bool) -> tuple[int, int]:
    """[lo, hi) post ids: the time range narrowed by since_id / until_id."""
    start, end = time_range(now, params, full)
    lo, hi = min_id_at(start), min_id_at(end)
    since = id_param(params, "since_id")
    until = id_param(params, "until_id")
    if since is not None:
        if not full and snowflake_ms(since) < now - 7 * DAY_MS:
            raise invalid(
                f"Invalid 'since_id':'{since}'. 'since_id' must be a tweet id created after "
                f"{iso(now - 7 * DAY_MS)[:16]}Z",
                {"since_id": [str(since)]},
            )
        lo = max(lo, since + 1)
    if until is not None:
        hi = min(hi, until)
    return lo, hi
