"""`GET /2/usage/tweets` and the monthly usage cap it reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from barometer.sim.api.params import list_param
from barometer.sim.api.problems import invalid
from barometer.sim.api.state import ApiState

_USAGE_FIELDS = frozenset(
    {
        "cap_reset_day",
        "daily_client_app_usage",
        "daily_project_usage",
        "project_cap",
        "project_id",
        "project_usage",
    }
)


def cap_reset_days(now_ms: int) -> int:
    """Days until the cap resets: the first of next month (simulated time), at least one."""
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    nxt = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
    return max(1, (nxt - now).days)


def usage_tweets(state: ApiState, params: dict[str, str]) -> dict[str, Any]:
    raw = params.get("days", "7")
    if not raw.isdigit() or not 1 <= int(raw) <= 90:
        raise invalid(
            f"The `days` query parameter value [{raw}] is not between 1 and 90", {"days": [raw]}
        )
    fields = list_param(params, "usage.fields", _USAGE_FIELDS)
    # Under a `cap` fault the project shows as used up, whatever was actually read.
    capped = any(f.kind == "cap" for f in state.faults.faults)
    used = sum(state.stats.usage.values())
    data: dict[str, Any] = {
        "cap_reset_day": cap_reset_days(state.now_ms),
        "project_cap": state.project_cap,
        "project_id": "1500000000000000000",
        "project_usage": state.project_cap if capped else used,
    }
    if "daily_project_usage" in fields or "daily_client_app_usage" in fields:
        now = datetime.fromtimestamp(state.now_ms / 1000, tz=UTC).date()
        days = [now - timedelta(days=i) for i in range(int(raw) - 1, -1, -1)]
        usage = [
            {"date": f"{d.isoformat()}T00:00:00.000Z", "usage": state.stats.usage.get(d.isoformat(), 0)}
            for d in days
        ]
        if "daily_project_usage" in fields:
            data["daily_project_usage"] = {"project_id": 1500000000, "usage": usage}
        if "daily_client_app_usage" in fields:
            data["daily_client_app_usage"] = [
                {"client_app_id": "29000000", "usage": usage, "usage_result_count": len(usage)}
            ]
    return {"data": data}
