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

if TYPE_CHECKING:
    from barometer.runs import StageSummary

SETTINGS = CollectSettings.from_env(os.environ)  # once per cold start; the library never reads it

def _load() -> SimpleNamespace:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider  # imports boto3

    from barometer.clock import run_clock
    from barometer.collect import CollectOptions, run_collect
    from barometer.collect.client import make_client

    secrets = SecretsProvider(boto3_client=SETTINGS.boto3_client("secretsmanager"))
    return SimpleNamespace(run_collect=run_collect, make_client=make_client, options=CollectOptions,
                           run_clock=run_clock, secrets=secrets)


def x_token(lib: SimpleNamespace) -> str:
    """The X bearer token from Secrets Manager, cached for `secret_max_age_seconds`. Never logged."""
    if not SETTINGS.x_token_secret_arn:
        return runtime.SIM_TOKEN  # CollectSettings requires the secret unless simulated
    value = lib.secrets.get(SETTINGS.x_token_secret_arn, max_age=SETTINGS.secret_max_age_seconds)
    return runtime.bearer_token(value)


def _run(call: StageCall, lib: SimpleNamespace) -> StageSummary:
    # The simulator's clock for a run of D is D+1T05:00Z; the real API runs on the wall clock.
    now = lib.run_clock(call.dt) if SETTINGS.simulated else datetime.now(UTC).replace(tzinfo=None)
    options = lib.options(now=now, brands=call.request.brands, deadline=call.deadline,
                          resume=call.request.resume)
    client = lib.make_client(x_token(lib), base_url=SETTINGS.x_api_base_url)
    return lib.run_collect(call.panel, call.dt, call.lake, client, options,  # type: ignore[no-any-return]
                           run_id=call.run_id)


# X-Ray patches only what this function calls: Secrets Manager and the X API (tweepy → requests).
edge = Edge.build("collect", SETTINGS, aws_lambda_powertools, load=_load, run=_run,
                  patch=("botocore", "requests"))
logger, tracer, metrics = edge.logger, edge.tracer, edge.metrics
handler = edge.lambda_handler()
