"""One collect stage over every network of a panel (issue 14): X, then Bluesky.

`run_collect` reads X on `panel.on_network("x")` and Bluesky on `panel.on_network("bluesky")`
when the panel has accounts there, in one stage with one `runs` row. A network that fails
makes the run partial and the others' rows are still written (each network writes its own
part of a partition: X the main one, Bluesky `bluesky.parquet`). The row's
`details.networks` holds each network's status, requests and cost; its errors are one line
each, a network's own prefixed with its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from barometer.collect.bluesky import BlueskyResult, collect_bluesky
from barometer.collect.options import CollectOptions
from barometer.config import Panel
from barometer.lake.store import Lake
from barometer.runs import StageSummary

Status = Literal["ok", "partial", "failed"]


@dataclass
class BlueskySource:
    """Where the collector reads Bluesky from: an `atproto.Client` (on bsky.social, or on the
    simulator's URL) and the app-password login (None: search is refused, one error line)."""

    client: Any
    login: str | None = None
    password: str | None = None
    note: str | None = None  # why there is no login (the secret's placeholder...), said in the run's errors


def one_line(network: str, e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{network}: {type(e).__name__}{': ' + text if text else ''}"


def x_details(summary: StageSummary) -> dict[str, Any]:
    return {"status": summary.status, "api_requests": summary.api_requests, "posts_read": summary.posts_read,
            "users_read": summary.users_read, "cost_usd": summary.cost_usd, "brands_ok": summary.brands_ok,
            "brands_failed": summary.brands_failed}


def collect_bluesky_part(panel: Panel, summary: StageSummary, lake: Lake, source: BlueskySource | None,
                         options: CollectOptions) -> dict[str, Any]:
    """The Bluesky half of the stage, folded into `summary`; returns its `details.networks` entry."""
    if source is None:
        summary.errors.append("bluesky: no client configured; the panel's Bluesky accounts were not read")
        return {"status": "failed", "api_requests": 0, "cost_usd": 0.0}
    if source.note:
        summary.errors.append(source.note)
    if options.brands is not None:
        panel = panel.model_copy(update={"brands": [b for b in panel.brands if b.id in set(options.brands)]})
    deadline = options.monotonic_deadline()
    try:
        res = collect_bluesky(panel, summary.dt, lake, source.client, source.login, source.password,
                              deadline=deadline, now=options.now)
    except Exception as e:  # a network that fails leaves the others' rows written
        res = BlueskyResult(status="failed", errors=[one_line("bluesky", e)])
    summary.errors.extend(res.errors)
    summary.api_requests += res.requests
    # Bluesky's reads are free: its cost is 0 (rate limits only).
    return {"status": res.status, "api_requests": res.requests, "logins": res.logins, "cost_usd": 0.0,
            "brands_ok": res.brands_ok, "brands_failed": res.brands_failed}


def combined_status(statuses: list[str]) -> Status:
    """All networks failed: failed; any not ok: partial; else ok (skipped networks are ignored)."""
    ran = [s for s in statuses if s != "skipped"]
    if ran and all(s == "failed" for s in ran):
        return "failed"
    return "ok" if all(s == "ok" for s in ran) else "partial"




def bluesky_client(base_url: str | None = None) -> Any:
    """An `atproto.Client` on `base_url` (the simulator's), else on bsky.social."""
    from atproto import Client  # imported when a panel has Bluesky accounts only

    return Client(base_url) if base_url else Client()


__all__ = ["BlueskySource", "bluesky_client", "collect_bluesky_part", "combined_status", "one_line", "x_details"]
