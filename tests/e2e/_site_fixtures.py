"""Hand-made lakes and helpers for the site tests, the screenshots and the publish benchmark.

```python
panel, lake, dates = make_site_lake(tmp_path / "lake")            # 7 brands (one hostile), 4 dates
site = publish_local(panel, lake, dates[-1], tmp_path / "site")   # run_publish to a folder
with serve(site) as url: ...                                      # http.server on 127.0.0.1
panel, lake, dates = make_site_lake(root, brands=1000, days=365, posts=False)   # benchmark size
```
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from barometer.config import Panel, parse_panel
from barometer.definitions import INDICATORS
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.publish.screenshots import CHROMIUM, CHROMIUM_ARGS, serve

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "HOSTILE_HANDLE", "HOSTILE_NAME", "HOSTILE_POST", "axe_path",
           "make_panel", "make_site_lake", "publish_local", "serve"]

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_POST = "Attention <img src=x onerror=\"alert(2)\"> & <b>gras</b> 'quoted' <script>alert(3)</script>"
HOSTILE_HANDLE = 'evil"><script>alert(4)</script>'

PHARMA = (
    ("sanofi", "Sanofi", "sanofi"),
    ("msd-france", "MSD France", "MSDFrance"),
    ("pfizer-france", "Pfizer France", "Pfizer_France"),
    ("novartis-france", "Novartis France", "NovartisFrance"),
    ("roche-france", "Roche France", "RocheFrance"),
    ("hostile", HOSTILE_NAME, "hostile_brand"),
    ("gsk-france", "GSK France", "GSK_FR"),
)

TOPICS = (("cancer", "pathologies"), ("diabete", "pathologies"), ("innovation", "innovation"),
          ("reglementation", "industrie"))



def make_panel(brands: int | None = None, min_coverage: float = 0.75, panel_id: str = "site-test") -> Panel:
    if brands is None or brands <= len(PHARMA):
        chosen = PHARMA[: brands or len(PHARMA)]
    else:
        chosen = PHARMA + tuple((f"brand-{i:04d}", f"Brand {i:04d}", f"brand_{i:04d}")
                                for i in range(len(PHARMA), brands))
    return parse_panel({
        "id": panel_id, "name": "Baromètre de test", "language": "fr", "topics": "pharma",  # TOPICS are pharma's
        "scoring": {"window_days": 30, "min_coverage": min_coverage, "sensitivity_draws": 100},
        "brands": [{"id": b, "name": n, "accounts": [{"handle": h}], "mention_query": f"@{h}"}
                   for b, n, h in chosen],
    })


def _ranks(values: np.ndarray, ids: list[str]) -> np.ndarray:
    order = sorted(range(len(ids)), key=lambda i: (-values[i], ids[i]))
    ranks = np.empty(len(ids), dtype=np.int64)
    ranks[order] = np.arange(1, len(ids) + 1)
    return ranks


def make_site_lake(root: str | Path, brands: int | None = None, days: int = 4, end: date = date(2018, 4, 30),
                   seed: int = 7, posts: bool = True, coverage: dict[date, float] | None = None,
                   panel: Panel | None = None, step_days: int = 7) -> tuple[Panel, Lake, list[date]]:
    """A lake with `scores`, `indicators`, `topics` for `days` dates ending on `end` (every
    `step_days` days),
    `posts` and `accounts` for the last date. `coverage` overrides a date's coverage (all brands)."""
    panel = panel or make_panel(brands)
    lake = Lake(str(root))
    rng = np.random.default_rng(seed)
    ids = [b.id for b in panel.brands]
    names = [b.name for b in panel.brands]
    nb = len(ids)
    dates = [end - timedelta(days=step_days * (days - 1 - i)) for i in range(days)]
    base = rng.uniform(20, 80, nb)
    if ids[0] == "sanofi":
        base[0] = 90.0
    prev_rank: np.ndarray | None = None
    n_ind = len(INDICATORS)
    for dt in dates:
        ws, we = dt - timedelta(days=panel.scoring.window_days - 1), dt
        attrs = np.clip(base[:, None] + rng.normal(0, 6, (nb, 3)), 0, 100)
        lead = attrs.mean(axis=1)
        rank = _ranks(lead, ids)
        spread = rng.integers(0, 2, nb)
        cov = np.full(nb, (coverage or {}).get(dt, 1.0))
        computed = datetime.combine(dt + timedelta(days=1), datetime.min.time()) + timedelta(hours=5)
        scores = pa.table({
            "brand_id": ids, "brand_name": names, "leadership": lead, "relational": attrs[:, 0],
            "expression": attrs[:, 1], "engagement": attrs[:, 2], "rank": rank,
            "rank_low": np.maximum(1, rank - spread), "rank_high": np.minimum(nb, rank + spread),
            "rank_prev": pa.array(prev_rank if prev_rank is not None else [None] * nb, pa.int64()),
            "coverage": cov, "window_start": [ws] * nb, "window_end": [we] * nb,
            "computed_at": [computed] * nb, "days_incomplete": [0] * nb, "incomplete": [False] * nb,
        })
        lake.write_partition("scores", panel.id, dt, scores)
        prev_rank = rank
        # indicators: brand-major, indicator order of the definitions
        ind_scores = np.clip(np.repeat(attrs, [3, 3, 2], axis=1) + rng.normal(0, 5, (nb, n_ind)), 0, 100)
        values = rng.uniform(1, 10_000, (nb, n_ind))
        values[:, 1] = rng.uniform(-0.2, 3.2, nb)  # growth
        values[:, 2] = rng.uniform(0.001, 0.2, nb)  # centrality
        values[:, 7] = rng.uniform(0.05, 0.4, nb)  # engagement rate (%)
        weight = np.tile(np.array([1 / 9] * 6 + [1 / 6] * 2), nb)
        inds = pa.table({
            "brand_id": np.repeat(ids, n_ind), "indicator": [i.id for i in INDICATORS] * nb,
            "attribute": [i.attribute for i in INDICATORS] * nb, "value": values.ravel(),
            "transformed": np.log1p(np.abs(values.ravel())), "score": ind_scores.ravel(), "weight": weight,
            "contribution": ind_scores.ravel() * weight, "missing": [False] * (nb * n_ind),
            "estimated": [False] * (nb * n_ind), "std_error": pa.nulls(nb * n_ind, pa.float64()),
            "window_start": [ws] * (nb * n_ind), "window_end": [we] * (nb * n_ind),
        })
        lake.write_partition("indicators", panel.id, dt, inds)
        nt = len(TOPICS)
        rows = nb * nt * 2
        items = rng.integers(0, 60, rows)
        topics = pa.table({
            "brand_id": np.repeat(ids, nt * 2), "source": (["posts"] * nt + ["mentions"] * nt) * nb,
            "topic": [t for t, _ in TOPICS] * 2 * nb, "family": [f for _, f in TOPICS] * 2 * nb,
            "items": items, "share": items / 100.0, "window_start": [ws] * rows, "window_end": [we] * rows,
        })
        lake.write_partition("topics", panel.id, dt, topics)
    if posts:
        _write_posts(lake, panel, dates[-1], rng)
    return panel, lake, dates


def _write_posts(lake: Lake, panel: Panel, dt: date, rng: np.random.Generator) -> None:
    acc_rows, post_rows = [], []
    observed = datetime.combine(dt + timedelta(days=1), datetime.min.time()) + timedelta(hours=5)
    for bi, b in enumerate(panel.brands):
        account_id = str(1000 + bi)
        handle = HOSTILE_HANDLE if b.id == "hostile" else b.accounts[0].handle
        acc_rows.append({"brand_id": b.id, "network": "x", "account_id": account_id, "handle": handle,
                         "name": b.name, "status": "ok", "followers": int(rng.integers(1000, 20000)),
                         "following": 100, "posts_count": 1000, "listed": 10, "collected_at": observed})
        for j in range(7):
            text = (HOSTILE_POST if b.id == "hostile" and j == 0
                    else f"Publication {j} de {b.name} sur le #cancer")
            post_rows.append({
                "post_id": str(10**15 + bi * 100 + j), "brand_id": b.id, "network": "x",
                "account_id": account_id, "created_at": observed - timedelta(days=j + 1, hours=3),
                "kind": "repost" if j == 6 else "original", "text": text, "lang": "fr",
                "likes": int(1000 if b.id == "hostile" and j == 0 else rng.integers(0, 50)),
                "reposts": int(rng.integers(0, 20)), "replies": int(rng.integers(0, 5)),
                "quotes": int(rng.integers(0, 3)), "impressions": None, "mentioned_handles": [],
                "topics": ["cancer"], "deleted": False, "observed_at": observed,
            })
    lake.write_partition("accounts", panel.id, dt, pa.Table.from_pylist(acc_rows, schema=SCHEMAS["accounts"]))
    lake.write_partition("posts", panel.id, dt, pa.Table.from_pylist(post_rows, schema=SCHEMAS["posts"]))


def publish_local(panel: Panel, lake: Lake, dt: date, site_dir: str | Path, simulated: bool = True) -> Path:
    from barometer.publish import PublishOptions, SiteTarget, run_publish

    summary = run_publish(panel, dt, lake, SiteTarget.local(site_dir), PublishOptions(simulated=simulated))
    assert summary.status == "ok", summary
    return Path(site_dir)


def axe_path() -> Path | None:
    """node_modules/axe-core/axe.min.js from the repository root, when installed."""
    root = Path(__file__).resolve().parents[2]
    p = root / "node_modules" / "axe-core" / "axe.min.js"
    return p if p.exists() else None
