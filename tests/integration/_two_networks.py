"""The two-network test panel several integration tests share: Sanofi and GSK France on X and
Bluesky (GSK without a Bluesky query), and optionally Roche France on X only (a brand missing
from a network), scored over 7 days against the previous window."""

from __future__ import annotations

from datetime import date
from typing import Any

BRANDS: list[dict[str, Any]] = [
    {"id": "sanofi", "name": "Sanofi",
     "accounts": [{"network": "x", "handle": "sanofi"}, {"network": "bluesky", "handle": "sanofi.bsky.social"}],
     "mentions": {"x": "(@sanofi OR sanofi) -is:retweet", "bluesky": {"q": "sanofi"}}},
    {"id": "gsk-france", "name": "GSK France",
     "accounts": [{"network": "x", "handle": "GSK_FR"}, {"network": "bluesky", "handle": "gsk-france.bsky.social"}],
     "mentions": {"x": '(@GSK_FR OR "GSK France") -is:retweet'}},
]
X_ONLY = {"id": "roche-france", "name": "Roche France", "accounts": [{"network": "x", "handle": "RocheFrance"}],
          "mentions": {"x": '(@RocheFrance OR "Roche France") -is:retweet'}}


def two_network_spec(panel_id: str, name: str, run_date: date, *, x_only_brand: bool = True,
                     **scoring: Any) -> dict[str, Any]:
    """The panel file's data (a fresh copy: callers may change it)."""
    return {
        "id": panel_id, "name": name, "topics": "pharma", "demo": {"run_date": run_date.isoformat()},
        "scoring": {"window_days": 7, "growth_reference": "previous", **scoring},
        "brands": [dict(b) for b in BRANDS] + ([dict(X_ONLY)] if x_only_brand else []),
    }
