"""Lambda: collect a panel's X metrics for one run date into the lake (S3).

Event: the state machine input `{panel, date?, stages?, brands?}`. Returns the StageSummary.
The edge (event, skip, panel, correlation id, metrics, logs) is `barometer.aws.edge`; this
module holds what is the collect function's own: X-Ray's patches, the X token, and the call to
`barometer.collect.run_collect`. Cold start loads Powertools and the standard-library edge only;
the first invocation that runs the stage loads tweepy, pyarrow and boto3 (bench: startup).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

import aws_lambda_powertools
import aws_lambda_powertools.logging.utils

from barometer.aws import runtime
from barometer.aws.edge import Edge, StageCall
from barometer.aws.settings import CollectSettings
from barometer.errors import ConfigError

if TYPE_CHECKING:
    from barometer.runs import StageSummary

SETTINGS = CollectSettings.from_env(os.environ)  # once per cold start; the library never reads it

def _load() -> SimpleNamespace:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider  # imports boto3

    from barometer.clock import run_clock
    from barometer.collect import CollectOptions, run_collect
    from barometer.collect.client import make_client
    from barometer.collect.networks import BlueskySource, bluesky_client

    secrets = SecretsProvider(boto3_client=SETTINGS.boto3_client("secretsmanager"))
    return SimpleNamespace(run_collect=run_collect, make_client=make_client, options=CollectOptions,
                           run_clock=run_clock, secrets=secrets, bluesky_source=BlueskySource,
                           bluesky_client=bluesky_client)


def x_token(lib: SimpleNamespace) -> str:
    """The X bearer token from Secrets Manager, cached for `secret_max_age_seconds`. Never logged."""
    if not SETTINGS.x_token_secret_arn:
        return runtime.SIM_TOKEN  # CollectSettings requires the secret unless simulated
    value = lib.secrets.get(SETTINGS.x_token_secret_arn, max_age=SETTINGS.secret_max_age_seconds)
    return runtime.bearer_token(value)


def bluesky(lib: SimpleNamespace, call: StageCall) -> object | None:
    """Where to read the panel's Bluesky accounts (None: the panel has none). The login is the
    Bluesky secret's (handle + app password, cached like the token); while it holds the
    placeholder, or without a secret, search is not read and the run says why in one line."""
    if "bluesky" not in call.panel.networks:
        return None
    login: tuple[str | None, str | None] = (None, None)
    note = None
    if SETTINGS.bsky_secret_arn:
        value = lib.secrets.get(SETTINGS.bsky_secret_arn, max_age=SETTINGS.secret_max_age_seconds)
        try:
            login = runtime.bluesky_login(value)
        except ConfigError as e:
            note = f"bluesky: {e}"
    return lib.bluesky_source(lib.bluesky_client(), *login, note=note)


def _run(call: StageCall, lib: SimpleNamespace) -> StageSummary:
    # The simulator's clock for a run of D is D+1T05:00Z; the real API runs on the wall clock.
    now = lib.run_clock(call.dt) if SETTINGS.simulated else datetime.now(UTC).replace(tzinfo=None)
    options = lib.options(now=now, brands=call.request.brands, deadline=call.deadline,
                          resume=call.request.resume)
    client = lib.make_client(x_token(lib), base_url=SETTINGS.x_api_base_url)
    return lib.run_collect(call.panel, call.dt, call.lake, client, options,  # type: ignore[no-any-return]
                           run_id=call.run_id, bluesky=bluesky(lib, call))


# X-Ray patches only what this function calls: Secrets Manager and the X API (tweepy → requests).
edge = Edge.build("collect", SETTINGS, aws_lambda_powertools, load=_load, run=_run,
                  patch=("botocore", "requests"))
logger, tracer, metrics = edge.logger, edge.tracer, edge.metrics
handler = edge.lambda_handler()
