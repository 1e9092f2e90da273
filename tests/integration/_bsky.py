"""Fixtures and helpers for the Bluesky simulator's contract tests.

`CheckedClient` is the real `atproto.Client` with one addition: every response it receives
(successes and errors) is checked as it arrives — a success against the endpoint's output in
the official lexicons (`../shared/fixtures/bsky-lexicons`, read only) and, again, by the SDK's
models in strict mode with string formats checked; an error must be an XRPC error document.
A response that fails raises AssertionError, which no `pytest.raises(<SDK error>)` swallows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from _lexicons import Lexicons
from atproto import Client, models
from atproto_client.exceptions import RequestErrorBase
from atproto_client.models.common import XrpcError
from atproto_client.models.utils import get_or_create
from conftest_sim import _pharma_world

from barometer.sim.bsky import DEFAULT_HANDLE, DEFAULT_PASSWORD, BskySimServer, BskyWorld, build_bsky_world

LEXICONS_DIR = Path(__file__).parents[2].parent / "shared" / "fixtures" / "bsky-lexicons"
NOW = datetime(2018, 5, 1, 5, 0, tzinfo=UTC)
HANDLE, PASSWORD = DEFAULT_HANDLE, DEFAULT_PASSWORD


@cache
def lexicons() -> Lexicons:
    return Lexicons(LEXICONS_DIR)


@cache
def pharma_bsky() -> BskyWorld:
    return build_bsky_world(_pharma_world())


def _camel(nsid: str) -> str:
    return "".join(part[0].upper() + part[1:] for part in nsid.split("."))


def response_model(nsid: str) -> Any:
    """The SDK model of an endpoint's output (its `Response`, or the def its output refers to)."""
    main, _ = lexicons().resolve(nsid + "#main")
    schema = main["output"]["schema"]
    if schema["type"] == "ref":
        lex, _, name = schema["ref"].partition("#")
        return getattr(getattr(models, _camel(lex)), name[0].upper() + name[1:])
    return getattr(models, _camel(nsid)).Response


def check_body(nsid: str, status: int, body: Any) -> None:
    """A response of `nsid` as the contract wants it (AssertionError otherwise)."""
    if status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), str), (nsid, status, body)
        assert isinstance(body.get("message", ""), str), (nsid, status, body)
        assert get_or_create(body, XrpcError, strict=True) is not None
        return
    errs = lexicons().output_errors(nsid, body)
    assert not errs, f"{nsid}: {len(errs)} lexicon errors, first: {errs[:5]}"
    parsed = get_or_create(body, response_model(nsid), strict=True, strict_string_format=True)
    assert parsed is not None


class CheckedClient(Client):
    """`atproto.Client` checking every response against the lexicons and the SDK's models."""

    def __init__(self, base_url: str, *, check: bool = True, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.check = check
        self.seen: list[tuple[str, int]] = []  # (nsid, status) of every response

    def _invoke(self, invoke_type: Any, **kwargs: Any) -> Any:
        nsid = str(kwargs.get("url", "")).rsplit("/xrpc/", 1)[-1]
        try:
            resp = super()._invoke(invoke_type, **kwargs)
        except RequestErrorBase as e:
            if e.response is not None:
                self.seen.append((nsid, e.response.status_code))
                content = e.response.content
                # The SDK keeps an error's body parsed as its XrpcError model.
                body = (
                    {"error": content.error, "message": content.message} if isinstance(content, XrpcError) else content
                )
                if self.check:
                    check_body(nsid, e.response.status_code, body)
            raise
        self.seen.append((nsid, resp.status_code))
        if self.check:
            check_body(nsid, resp.status_code, resp.content)
        return resp


def logged_in(srv: BskySimServer, **kwargs: Any) -> CheckedClient:
    c = CheckedClient(srv.url, **kwargs)
    c.login(srv.handle, srv.password)
    return c


@cache
def _http() -> httpx.Client:
    return httpx.Client(timeout=10)  # one pool: a new client per request costs ~0.1 s


def raw(srv: BskySimServer, nsid: str, params: Any = None, token: str | None = None) -> httpx.Response:
    """A GET outside the SDK (for what the SDK's own models refuse to send)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return _http().get(f"{srv.url}/xrpc/{nsid}", params=params, headers=headers)


def checked_raw(srv: BskySimServer, nsid: str, params: Any = None, token: str | None = None) -> httpx.Response:
    r = raw(srv, nsid, params, token)
    check_body(nsid, r.status_code, r.json())
    return r


@pytest.fixture(scope="session")
def bsky_world() -> BskyWorld:
    return pharma_bsky()


@pytest.fixture(scope="module")
def bsky_server(bsky_world: BskyWorld) -> Iterator[BskySimServer]:
    """A server shared by a module's read-only tests (no faults, rate limits on)."""
    with BskySimServer(bsky_world, now=NOW) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(bsky_server: BskySimServer) -> CheckedClient:
    return logged_in(bsky_server)
