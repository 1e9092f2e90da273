"""Lambda: publish a panel's static leaderboard site for one run date to the site bucket.

Event: the state machine input `{panel, date?, stages?, brands?}`. Returns the StageSummary.
The site goes to S3 (served by CloudFront): only changed files, then one CloudFront
invalidation of their paths; a run that fails the quality gate leaves the site untouched.

Cold start: importing this module (Lambda's init phase) loads Powertools, the typed event and
settings (plain dataclasses: no pydantic, no YAML) and nothing heavy. The first invocation
imports the summary model (`barometer.runs`: pydantic) and, if it runs the stage, the panel's
(`barometer.config`: pydantic, YAML).
The site builder (`barometer.publish`: pyarrow, the templates, the lake), the boto3 S3 and
CloudFront clients and X-Ray's patching of botocore (which imports it) are loaded on the first
invocation that runs the stage, by `_stage()`, and kept in a module global for the warm
invocations; that first invocation pays for them (bench/README.md, section startup, reports
both figures). A request that skips the stage never loads them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from barometer.aws import runtime
from barometer.aws.events import RunRequest
from barometer.aws.settings import Settings

if TYPE_CHECKING:
    from barometer.publish import PublishOptions, SiteTarget
    from barometer.runs import Stage, StageSummary

STAGE: Stage = "publish"
PUBLISH_LOG_KEYS = ("pages", "uploaded", "unchanged", "invalidation_id", "reason")
SERVICE = "barometer-publish"

logger = Logger(service=SERVICE)
# X-Ray patches only what this function calls: S3 and CloudFront (boto3). Powertools' default,
# patch_all, would also import and patch sqlite3, httplib... Patched by `_stage()`, before the
# stage's first call, not at init: with tracing active (as deployed), patching imports botocore
# (~150 ms).
PATCH_MODULES = ("botocore",)
tracer = Tracer(service=SERVICE, auto_patch=False)
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE, service=SERVICE)
copy_config_to_registered_loggers(source_logger=logger, include={"barometer"})

SETTINGS = Settings.from_env(os.environ)  # once per cold start; the library never reads the environment


class _PublishStage:
    """What running the stage needs beyond the edge: imported/built once, on first use."""

    run_publish: Callable[..., StageSummary]
    options: type[PublishOptions]
    target: type[SiteTarget]
    s3: Any
    cloudfront: Any

    # not a dataclass: the tests load this file without registering it in sys.modules
    def __init__(self, run_publish: Callable[..., StageSummary], options: type[PublishOptions],
                 target: type[SiteTarget], s3: Any, cloudfront: Any) -> None:
        self.run_publish, self.options, self.target = run_publish, options, target
        self.s3, self.cloudfront = s3, cloudfront


_loaded: _PublishStage | None = None


def _stage() -> _PublishStage:
    """The site builder, X-Ray's patch and the S3/CloudFront clients: loaded on the first
    invocation that runs the stage (not at init, see the module doc), then cached for the warm
    invocations."""
    global _loaded
    if _loaded is None:
        from barometer.publish import PublishOptions, SiteTarget, run_publish

        tracer.patch(PATCH_MODULES)  # X-Ray (a no-op when tracing is disabled), before any client
        _loaded = _PublishStage(
            run_publish=run_publish, options=PublishOptions, target=SiteTarget,
            s3=SETTINGS.boto3_client("s3"),
            cloudfront=SETTINGS.boto3_client("cloudfront") if SETTINGS.distribution_id else None)
    return _loaded


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RunRequest.from_event(event)
    dt = request.run_date()
    if not request.wants(STAGE):
        return runtime.skipped(STAGE, request.panel, dt, metrics)
    if not SETTINGS.site_bucket:
        raise runtime.StageError("SITE_BUCKET is not set")
    logger.append_keys(panel=request.panel, dt=dt.isoformat(), stage=STAGE)
    tracer.put_annotation(key="panel", value=request.panel)

    stage = _stage()
    lake = SETTINGS.lake()
    panel = runtime.load_panel(lake, request.panel)
    # Only changed files are uploaded (MD5 against the bucket); their paths are invalidated.
    target = stage.target.s3_bucket(SETTINGS.site_bucket, SETTINGS.site_prefix, client=stage.s3,
                                    cloudfront=stage.cloudfront, distribution_id=SETTINGS.distribution_id,
                                    site_url=SETTINGS.site_url)
    options = stage.options(simulated=SETTINGS.simulated, site_url=SETTINGS.site_url,
                            base_url=SETTINGS.site_url or "")
    run_id = runtime.new_run_id(STAGE, panel.id, dt)
    logger.set_correlation_id(run_id)  # every line of this run carries it
    logger.info("publish started", extra={"bucket": SETTINGS.site_bucket, "prefix": SETTINGS.site_prefix})

    summary = stage.run_publish(panel, dt, lake, target, options, run_id=run_id)
    runtime.record_metrics(metrics, summary)
    logger.info("publish finished", extra={
        **runtime.log_fields(summary),
        **{k: summary.details.get(k) for k in PUBLISH_LOG_KEYS}})
    return runtime.result(summary)
