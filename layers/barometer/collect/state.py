"""The collector's cursors, kept in the lake as one small JSON object per run date.

`state/collect/panel=<p>/dt=<D>.json.gz` holds what the run for D leaves for the next one:

- `accounts`: panel handle (lower-case) → stable account id, to detect renames;
- `timelines` (per account id) and `mentions` (per brand): `since_id`, the newest post id read,
  and `gap`, a range a stopped pagination left unread (`since_id`/`start_time` .. `until_id`,
  exclusive), filled first on the next run — so a checkpoint leaves no gap and no duplicate;
  `until`, the end_time of the last complete read (recent search cannot take a since_id
  older than 7 days: a quiet brand's search then resumes by time from there); `start`, where
  a stream that never got a page starts next time;
- `counted`: per brand, the last day whose mention count is in the lake.

A run for D starts from the latest state *before* D, never D's own: rerunning a date replays it
from the same cursors and replaces its partitions with the same rows. We keep this object rather
than recompute `max(post_id)` from the posts/mentions partitions because that read grows with the
lake (the demo replays 183 days), and because a max cannot express a gap.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from barometer.lake.store import Lake

PREFIX = "state/collect"


def _key(panel: str, dt: date) -> str:
    return f"{PREFIX}/panel={panel}/dt={dt.isoformat()}.json.gz"


def empty() -> dict[str, Any]:
    return {"version": 1, "accounts": {}, "timelines": {}, "mentions": {}, "counted": {}}


def load_before(lake: Lake, panel: str, dt: date) -> dict[str, Any]:
    """The state left by the latest run dated before `dt` (empty when none)."""
    best: date | None = None
    for key in lake.list_keys(f"{PREFIX}/panel={panel}"):
        name = key.rsplit("/", 1)[-1]
        if name.startswith("dt=") and name.endswith(".json.gz"):
            d = date.fromisoformat(name[3:13])
            if d < dt and (best is None or d > best):
                best = d
    if best is None:
        return empty()
    return _read(lake, _key(panel, best))


def load_at(lake: Lake, panel: str, dt: date) -> dict[str, Any] | None:
    key = _key(panel, dt)
    return _read(lake, key) if lake.exists(lake.path(key)) else None


def _read(lake: Lake, key: str) -> dict[str, Any]:
    """A state file; a corrupt one is named with how to recover: without it, the next run starts
    from the state before it and re-reads what was read since (merged by key: nothing doubles)."""
    from barometer.lake.contract import LakeContractError

    try:
        state: dict[str, Any] = lake.get_json_gz(key)
    except LakeContractError as e:
        where = lake.path(key)
        remove = f"rm {where}" if lake.local else f"aws s3 rm s3://{where}"
        raise LakeContractError(f"{e}; remove it (`{remove}`) and run again: the collector resumes from "
                                "the state before it, re-reading since then without duplicates",
                                e.bad_files) from None
    return state


def save(lake: Lake, panel: str, dt: date, state: dict[str, Any]) -> None:
    out = copy.deepcopy(state)
    out["dt"] = dt.isoformat()
    lake.put_json_gz(_key(panel, dt), out)


def merge_rerun(at: dict[str, Any], state: dict[str, Any], done: set[tuple[str, str]],
                mine: set[str] | None = None) -> dict[str, Any]:
    """The state to save for a date that already has one (`at`): a rerun's cursors replace the
    stored ones only for the streams it read to the end (`done`: (table, id) pairs) and, for a
    brand-subset run, only for its own ids (`mine`); every other stream keeps the stored entry, so
    a failed, stopped or late rerun never moves a cursor back (next run would read twice)."""
    out = copy.deepcopy(at)
    for k in ("timelines", "mentions", "counted"):
        merged = dict(out.get(k, {}))
        for ident, v in state.get(k, {}).items():
            if mine is not None and ident not in mine:
                continue
            if (k, ident) in done or ident not in merged:
                merged[ident] = v
        out[k] = merged
    out["accounts"] = {**out.get("accounts", {}), **state.get("accounts", {})}
    return out
