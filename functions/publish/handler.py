"""Lambda: publish the static site of a panel for one run date to the site bucket.

Event: the state machine input `{panel, date?, stages?, brands?}`. Returns the StageSummary.
The edge is `barometer.aws.edge`; this module holds the publish function's own: X-Ray's patch,
the S3 and CloudFront clients, and the call to `barometer.publish.run_publish` (Jinja2,
pyarrow: loaded on the first invocation that publishes). Only changed files are uploaded (MD5
against the bucket); their paths are invalidated.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import TYPE_CHECKING

import aws_lambda_powertools
import aws_lambda_powertools.logging.utils

from barometer.aws.edge import Edge, StageCall
from barometer.aws.settings import PublishSettings

if TYPE_CHECKING:
    from barometer.runs import StageSummary

SETTINGS = PublishSettings.from_env(os.environ)  # once per cold start; the library never reads it

def _load() -> SimpleNamespace:
    from barometer.publish import PublishOptions, SiteTarget, run_publish

    return SimpleNamespace(
        run_publish=run_publish, options=PublishOptions, target=SiteTarget,
        s3=SETTINGS.boto3_client("s3"),
        cloudfront=SETTINGS.boto3_client("cloudfront") if SETTINGS.distribution_id else None)


def _run(call: StageCall, lib: SimpleNamespace) -> StageSummary:
    assert SETTINGS.site_bucket  # PublishSettings requires it
    target = lib.target.s3_bucket(SETTINGS.site_bucket, SETTINGS.site_prefix, client=lib.s3,
                                  cloudfront=lib.cloudfront, distribution_id=SETTINGS.distribution_id,
                                  site_url=SETTINGS.site_url)
    options = lib.options(simulated=SETTINGS.simulated, site_url=SETTINGS.site_url,
                          base_url=SETTINGS.site_url or "")
    return lib.run_publish(call.panel, call.dt, call.lake, target, options,  # type: ignore[no-any-return]
                           run_id=call.run_id)


# X-Ray patches only what this function calls: S3 and CloudFront (boto3).
edge = Edge.build("publish", SETTINGS, aws_lambda_powertools, load=_load, run=_run,
                  patch=("botocore",), log_keys=("pages", "uploaded", "unchanged", "invalidation_id", "reason"))
logger, tracer, metrics = edge.logger, edge.tracer, edge.metrics
handler = edge.lambda_handler()
