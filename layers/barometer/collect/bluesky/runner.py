"""One Bluesky collection of a panel for a run date: rows, completeness and a summary.

Writes its rows as the `bluesky` part of each partition (`<table>/panel=/dt=/bluesky.parquet`):
a rerun replaces that part, so nothing is ever duplicated, and X's part is untouched — a network
that fails leaves the other's rows written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from barometer.collect.bluesky import parse
from barometer.collect.bluesky.fetch import Reader, Stop
from barometer.collect.bluesky.session import LoginRefused, open_client
from barometer.config import Panel
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake

PART = "bluesky"
STATE = "state/bluesky"


@dataclass
class BlueskyResult:
    status: str = "ok"  # ok, partial, failed, skipped
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    logins: int = 0
    brands_ok: int = 0
    brands_failed: int = 0

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)


def _state_key(panel: str, dt: date) -> str:
    return f"{STATE}/panel={panel}/dt={dt.isoformat()}.json.gz"


def _state_before(lake: Lake, panel: str, dt: date) -> dict[str, Any]:
    keys = [k for k in lake.list_keys(f"{STATE}/panel={panel}") if "/dt=" in k]
    before = [k for k in keys if k.rsplit("dt=", 1)[1][:10] < dt.isoformat()]
    return lake.get_json_gz(before[-1]) if before else {"feeds": {}}


def collect_bluesky(panel: Panel, dt: date, lake: Lake, client: Any, login: str | None = None,
                    password: str | None = None, deadline: float | None = None,
                    now: datetime | None = None) -> BlueskyResult:
    """Read the panel's Bluesky accounts and mentions for run date `dt` and write their rows."""
    res = BlueskyResult()
    bp = panel.on_network("bluesky")
    if not bp.brands:
        res.status = "skipped"
        return res
    at = now or datetime.combine(dt + timedelta(days=1), datetime.min.time())
    day0 = datetime.combine(dt, datetime.min.time())
    reader = Reader(client, lake, f"raw/bluesky/panel={panel.id}/dt={dt.isoformat()}", deadline)
    state = _state_before(lake, panel.id, dt)
    new_state: dict[str, Any] = {"feeds": dict(state.get("feeds", {}))}
    try:
        res.logins = open_client(client, lake, panel.id, login, password)
        authed = True
    except LoginRefused as e:
        res.errors.append(str(e))
        authed = False
    try:
        _run(bp, dt, res, reader, state, new_state, authed, day0, at)
    except Stop as e:
        res.errors.append(f"bluesky: stopped early ({e}); the next run resumes")
        res.status = "partial"
    except Exception as e:
        res.errors.append(f"bluesky: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        res.status = "failed" if not res.rows else "partial"
    res.requests = reader.requests
    if res.errors and res.status == "ok":
        res.status = "partial"
    _write(lake, panel.id, dt, res)
    lake.put_json_gz(_state_key(panel.id, dt), new_state)
    # What `barometer reparse` needs to replay the pages: the run's clock and whether it logged in.
    lake.put_json_gz(f"{reader.raw_prefix}/_manifest.json.gz", {"pages": reader.pages, "status": res.status,
                                                                  "now": at.isoformat(), "authed": authed})
    return res


def _run(bp: Panel, dt: date, res: BlueskyResult, reader: Reader, state: dict[str, Any],
         new_state: dict[str, Any], authed: bool, day0: datetime, at: datetime) -> None:
    handles = {a.handle: b.id for b in bp.brands for a in b.accounts}
    profiles = {p["handle"].lower(): p for p in reader.profiles(sorted(handles))}
    profiles.update({p["did"]: p for p in list(profiles.values())})
    names: dict[str, str] = {p["did"]: p["handle"] for p in profiles.values()}
    dids: dict[str, list[str]] = {}
    failed: set[str] = set()
    for h, brand in handles.items():
        p = profiles.get(h)
        if p is None:
            res.errors.append(f"bluesky: {brand}: handle @{h} does not resolve")
            failed.add(brand)
            continue
        res.add("accounts", parse.account_row(brand, p, at))
        dids.setdefault(brand, []).append(p["did"])
        _completeness(res, brand, "profiles", dt, "complete")
    window0 = day0 - timedelta(days=bp.scoring.window_days - 1)
    refresh0 = day0 - timedelta(days=bp.collection.refresh_days)
    for brand, ds in dids.items():
        for did in ds:
            feed = new_state["feeds"].setdefault(did, {"known": [], "young": {}})
            known = set(feed["known"])
            since = window0 if not known else refresh0
            for item in reader.author_feed(did, known, since):
                row = parse.post_row(item["post"], names, at, repost=bool(item.get("reason")))
                row.update(brand_id=brand, account_id=did)
                res.add("posts", row)
                if not item.get("reason"):
                    feed["young"][row["post_id"]] = row["created_at"].isoformat()
            seen = {r["post_id"] for r in res.rows.get("posts", []) if r["account_id"] == did}
            young = [u for u, c in feed["young"].items() if c >= refresh0.isoformat() and u not in seen]
            for view in reader.posts(sorted(young)):
                row = parse.post_row(view, names, at)
                row.update(brand_id=brand, account_id=did)
                res.add("posts", row)
            feed["young"] = {u: c for u, c in feed["young"].items() if c >= refresh0.isoformat()}
            feed["known"] = sorted(feed["young"])
        _completeness(res, brand, "posts", dt, "complete")
    for b in bp.brands:
        if b.id in failed and not dids.get(b.id):
            res.brands_failed += 1
            continue
        if not authed:
            _completeness(res, b.id, "mentions", dt, "none", "bluesky login refused")
            res.brands_failed += 1
            continue
        _mentions(b, dt, res, reader, names, dids.get(b.id, []), day0, at)
        res.brands_ok += 1


def _mentions(b: Any, dt: date, res: BlueskyResult, reader: Reader, names: dict[str, str],
              own: list[str], day0: datetime, at: datetime) -> None:
    q = b.bluesky_query
    searches: list[dict[str, Any]] = []
    if q is None or q.mentions:
        searches += [{"q": "*", "mentions": a.handle} for a in b.accounts_on("bluesky")]
    if q is not None and q.q:
        searches.append({"q": q.q, **({"lang": q.lang} if q.lang else {})})
    seen: set[str] = set()
    for params in searches:
        for view in reader.search(params, day0, day0 + timedelta(days=1)):
            author = (view.get("author") or {}).get("did")
            if view["uri"] in seen or author in own:
                continue
            seen.add(view["uri"])
            row = parse.post_row(view, names, at)
            row["brand_id"] = b.id
            res.add("mentions", row)
    res.add("mention_counts", {"brand_id": b.id, "network": parse.NETWORK, "day": dt, "mentions": len(seen)})
    _completeness(res, b.id, "mentions", dt, "complete")
    _completeness(res, b.id, "counts", dt, "complete")


def _completeness(res: BlueskyResult, brand: str, source: str, day: date, status: str,
                  reason: str | None = None) -> None:
    res.add("completeness", {"brand_id": brand, "network": parse.NETWORK, "source": source, "day": day,
                             "status": status, "run_id": None, "reason": reason,
                             "recorded_at": datetime.combine(day + timedelta(days=1), datetime.min.time())})


def _write(lake: Lake, panel: str, dt: date, res: BlueskyResult) -> None:
    for table, rows in res.rows.items():
        schema = SCHEMAS[table]
        full = [{n: r.get(n) for n in schema.names} for r in rows]
        lake.write_partition(table, panel, dt, pa.Table.from_pylist(full, schema=schema), part=PART)
