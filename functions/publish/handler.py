"""Lambda: publish a panel's static leaderboard site for one run date to the site bucket.

Event: the state machine input `{panel, date?, stages?, brands?}`. Returns the StageSummary.
The site goes to S3 (served by CloudFront): only changed files, then one CloudFront
invalidation of their paths; a run that fails the quality gate leaves the site untouched.
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
from barometer.publish import PublishOptions, SiteTarget, run_publish
from barometer.runs import Stage

STAGE: Stage = "publish"
PUBLISH_LOG_KEYS = ("pages", "uploaded", "unchanged", "invalidation_id", "reason")
SERVICE = "barometer-publish"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE, service=SERVICE)
copy_config_to_registered_loggers(source_logger=logger, include={"barometer"})

SETTINGS = Settings.from_env(os.environ)  # once per cold start; the library never reads the environment
_s3 = SETTINGS.boto3_client("s3")
_cloudfront = SETTINGS.boto3_client("cloudfront") if SETTINGS.distribution_id else None


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RunRequest.from_event(event)
    dt = request.run_date()
    if not request.wants(STAGE):
        return runtime.skipped(STAGE, request.panel, dt)
    if not SETTINGS.site_bucket:
        raise runtime.StageError("SITE_BUCKET is not set")
    logger.append_keys(panel=request.panel, dt=dt.isoformat(), stage=STAGE)
    tracer.put_annotation(key="panel", value=request.panel)

    lake = SETTINGS.lake()
    panel = runtime.load_panel(lake, request.panel)
    # Only changed files are uploaded (MD5 against the bucket); their paths are invalidated.
    target = SiteTarget.s3_bucket(SETTINGS.site_bucket, SETTINGS.site_prefix, client=_s3,
                                  cloudfront=_cloudfront,
                                  distribution_id=SETTINGS.distribution_id, site_url=SETTINGS.site_url)
    options = PublishOptions(simulated=SETTINGS.simulated, site_url=SETTINGS.site_url,
                             base_url=SETTINGS.site_url or "")
    logger.info("publish started", extra={"bucket": SETTINGS.site_bucket, "prefix": SETTINGS.site_prefix})

    summary = run_publish(panel, dt, lake, target, options)
    logger.set_correlation_id(summary.run_id)
    metrics.add_dimension(name="panel", value=panel.id)
    for name, value in runtime.metrics(summary).items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("publish finished", extra={
        **runtime.log_fields(summary),
        **{k: summary.details.get(k) for k in PUBLISH_LOG_KEYS}})
    return runtime.result(summary)
