"""Lambda: score a panel for one run date (the opinion leadership index) from the lake.

Event: the state machine input `{panel, date?, stages?, brands?}` (`brands` is ignored: the
index normalises across the whole panel). Returns the StageSummary.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from barometer.aws import runtime
from barometer.aws.events import RunRequest
from barometer.aws.settings import Settings
from barometer.runs import Stage
from barometer.score import run_score

STAGE: Stage = "score"
SERVICE = "barometer-score"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE, service=SERVICE)
copy_config_to_registered_loggers(source_logger=logger, include={"barometer"})

SETTINGS = Settings.from_env(os.environ)  # once per cold start; the library never reads the environment


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
    logger.info("score started", extra={"brands": len(panel.brands)})

    summary = run_score(panel, dt, lake)
    logger.set_correlation_id(summary.run_id)
    metrics.add_dimension(name="panel", value=panel.id)
    for name, value in runtime.metrics(summary).items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("score finished", extra=runtime.log_fields(summary))
    return runtime.result(summary)
