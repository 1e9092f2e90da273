"""Lambda: collect a panel's X metrics for one run date into the lake (S3).

Event: the state machine input `{panel, date?, stages?, brands?}`. Returns the StageSummary.
Thin by design: settings, the X token, logs, traces and metrics here; the work in
`barometer.collect.run_collect`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from barometer.aws import runtime
from barometer.aws.events import RunRequest
from barometer.aws.settings import Settings
from barometer.collect import CollectOptions, run_collect
from barometer.collect.client import make_client
from barometer.pipeline import run_clock
from barometer.runs import Stage

STAGE: Stage = "collect"
SERVICE = "barometer-collect"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE, service=SERVICE)
copy_config_to_registered_loggers(source_logger=logger, include={"barometer"})

SETTINGS = Settings.from_env(os.environ)  # once per cold start; the library never reads the environment
_secrets = parameters.SecretsProvider(boto3_client=SETTINGS.boto3_client("secretsmanager"))


def x_token() -> str:
    """The X bearer token from Secrets Manager, cached for `secret_max_age_seconds`. Never logged."""
    if not SETTINGS.x_token_secret_arn:
        if SETTINGS.simulated:
            return runtime.SIM_TOKEN
        raise runtime.StageError("X_TOKEN_SECRET_ARN is not set")
    value = _secrets.get(SETTINGS.x_token_secret_arn, max_age=SETTINGS.secret_max_age_seconds)
    return runtime.bearer_token(value)  # type: ignore[arg-type]


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RunRequest.from_event(event)
    dt = request.run_date()
    if not request.wants(STAGE):
        return runtime.skipped(STAGE, request.panel, dt)
    logger.append_keys(panel=request.panel, dt=dt.isoformat(), stage=STAGE)
    tracer.put_annotation(key="panel", value=request.panel)

    lake = SETTINGS.lake()
    panel = runtime.load_panel(lake, request.panel)
    # The simulator's clock for a run of D is D+1T05:00Z; the real API runs on the wall clock.
    now = run_clock(dt) if SETTINGS.simulated else datetime.now(UTC).replace(tzinfo=None)
    # The deadline is wall-clock time, whatever the API's clock: this invocation's end, less a margin.
    options = CollectOptions(now=now, brands=request.brands,
                             deadline=runtime.deadline(context, SETTINGS.safety_margin_seconds))
    client = make_client(x_token(), base_url=SETTINGS.x_api_base_url)
    logger.info("collect started", extra={"brands": request.brands or len(panel.brands),
                                          "deadline": str(options.deadline)})

    summary = run_collect(panel, dt, lake, client, options)
    logger.set_correlation_id(summary.run_id)
    metrics.add_dimension(name="panel", value=panel.id)
    for name, value in runtime.metrics(summary).items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("collect finished", extra=runtime.log_fields(summary))
    return runtime.result(summary)
