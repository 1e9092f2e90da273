"""Fixtures and helpers for the X simulator's integration tests.

Import what you need from test modules (`from conftest_sim import ...`); pytest registers
imported fixtures. A shared `tests/conftest.py` may re-export them for other suites.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import tweepy
from openapi_schema_validator import OAS30Validator

from barometer.config import resolve_panel
from barometer.sim.server import SimServer
from barometer.sim.world import World, build_world

SPEC_DIR = Path(__file__).parents[2].parent / "shared" / "fixtures" / "x-api"
SIM_NOW = datetime(2018, 5, 1, 5, 0, tzinfo=UTC)
TOKEN = "sim-token"


class RewriteHost(requests.adapters.HTTPAdapter):
    """Sends what tweepy addresses to https://api.twitter.com to the simulator instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base = urlsplit(base_url)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        request.url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, ""))
        return super().send(request, **kwargs)


def sim_client(base_url: str, token: str = TOKEN, **kwargs: Any) -> tweepy.Client:
    client = tweepy.Client(bearer_token=token, **kwargs)
    client.session.mount("https://api.twitter.com", RewriteHost(base_url))
    return client


@cache
def _pharma_world() -> World:
    return build_world(resolve_panel("pharma-fr"))


@pytest.fixture(scope="session")
def sim_world() -> World:
    return _pharma_world()


@pytest.fixture(scope="module")
def sim_server(sim_world: World) -> Iterator[SimServer]:
    # The per-second search/all limit is X's, but would make pagination tests sleep.
    with SimServer(sim_world, TOKEN, now=SIM_NOW, search_all_per_second=False) as srv:
        yield srv


@cache
def openapi_spec() -> dict[str, Any]:
    return json.loads((SPEC_DIR / "openapi.json").read_text(encoding="utf-8"))


def validate(doc: Any, schema_name: str) -> None:
    """Validate `doc` against components.schemas[schema_name] of the official spec.

    Problem documents are also checked against the subtype their `type` selects (the
    validator does not follow OpenAPI discriminators by itself).
    """
    spec = openapi_spec()
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    OAS30Validator(root).validate(doc)
    problems = [doc] if schema_name == "Problem" else doc.get("errors", []) if isinstance(doc, dict) else []
    mapping = spec["components"]["schemas"]["Problem"]["discriminator"]["mapping"]
    for p in problems:
        if isinstance(p, dict) and p.get("type") in mapping:
            sub = {"$ref": mapping[p["type"]], "components": spec["components"]}
            OAS30Validator(sub).validate(p)
