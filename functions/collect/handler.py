"""Lambda: collect a panel's X metrics for one run date into the lake (S3).

Event: the state machine input `{panel, date?, stages?, brands?}`. Returns the StageSummary.
Thin by design: settings, the X token, logs, traces and metrics here; the work in
`barometer.collect.run_collect`.

Cold start: importing this module (Lambda's init phase) loads Powertools, the typed event and
settings (plain dataclasses: no pydantic, no YAML) and nothing heavy. The first invocation
imports the summary model (`barometer.runs`: pydantic) and, if it runs the stage, the panel's
(`barometer.config`: pydantic, YAML).
The stage's library (tweepy, pyarrow, the lake), the boto3 Secrets Manager client and X-Ray's
patching of botocore and requests (which imports botocore) are loaded on the first invocation
that runs the stage, by `_stage()`, and kept in a module global for the warm invocations; that
first invocation pays for them (bench/README.md, section startup, reports both figures). A
request that skips the stage never loads them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from barometer.aws import runtime
from barometer.aws.events import RunRequest
from barometer.aws.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from barometer.collect import CollectOptions
    from barometer.runs import Stage, StageSummary

STAGE: Stage = "collect"
SERVICE = "barometer-collect"

logger = Logger(service=SERVICE)
# X-Ray patches only what this function calls: Secrets Manager and the X API (tweepy → requests). Powertools' default,
# patch_all, would also import and patch sqlite3, httplib... Patched by `_stage()`, before the stage's first call, not
# at init: with tracing active (as deployed), patching imports botocore (~150 ms) and requests.
PATCH_MODULES = ("botocore", "requests")
tracer = Tracer(service=SERVICE, auto_patch=False)
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE, service=SERVICE)
copy_config_to_registered_loggers(source_logger=logger, include={"barometer"})

SETTINGS = Settings.from_env(os.environ)  # once per cold start; the library never reads the environment


class _CollectStage:
    """What running the stage needs beyond the edge: imported/built once, on first use."""

    run_collect: Callable[..., StageSummary]
    make_client: Callable[..., Any]
    options: type[CollectOptions]
    run_clock: Callable[[date], datetime]
    secrets: SecretsProvider

    # not a dataclass: the tests load this file without registering it in sys.modules
    def __init__(self, run_collect: Callable[..., StageSummary], make_client: Callable[..., Any],
                 options: type[CollectOptions], run_clock: Callable[[date], datetime],
                 secrets: SecretsProvider) -> None:
        self.run_collect, self.make_client, self.options = run_collect, make_client, options
        self.run_clock, self.secrets = run_clock, secrets


_loaded: _CollectStage | None = None


def _stage() -> _CollectStage:
    """The collect library, X-Ray's patches and the Secrets Manager client: loaded on the first
    invocation that runs the stage (not at init, see the module doc), then cached for the warm
    invocations."""
    global _loaded
    if _loaded is None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider  # imports boto3

        from barometer.collect import CollectOptions, run_collect
        from barometer.collect.client import make_client
        from barometer.pipeline import run_clock

        tracer.patch(PATCH_MODULES)  # X-Ray (a no-op when tracing is disabled), before any client
        secrets = SecretsProvider(boto3_client=SETTINGS.boto3_client("secretsmanager"))
        _loaded = _CollectStage(run_collect=run_collect, make_client=make_client,
                                options=CollectOptions, run_clock=run_clock, secrets=secrets)
    return _loaded


def x_token() -> str:
    """The X bearer token from Secrets Manager, cached for `secret_max_age_seconds`. Never logged."""
    if not SETTINGS.x_token_secret_arn:
        if SETTINGS.simulated:
            return runtime.SIM_TOKEN
        raise runtime.StageError("X_TOKEN_SECRET_ARN is not set")
    value = _stage().secrets.get(SETTINGS.x_token_secret_arn, max_age=SETTINGS.secret_max_age_seconds)
    return runtime.bearer_token(value)  # type: ignore[arg-type]


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RunRequest.from_event(event)
    dt = request.run_date()
    if not request.wants(STAGE):
        return runtime.skipped(STAGE, request.panel, dt, metrics)
    logger.append_keys(panel=request.panel, dt=dt.isoformat(), stage=STAGE)
    tracer.put_annotation(key="panel", value=request.panel)

    stage = _stage()
    lake = SETTINGS.lake()
    panel = runtime.load_panel(lake, request.panel)
    # The simulator's clock for a run of D is D+1T05:00Z; the real API runs on the wall clock.
    now = stage.run_clock(dt) if SETTINGS.simulated else datetime.now(UTC).replace(tzinfo=None)
    # The deadline is wall-clock time, whatever the API's clock: this invocation's end, less a margin.
    options = stage.options(now=now, brands=request.brands,
                            deadline=runtime.deadline(context, SETTINGS.safety_margin_seconds))
    client = stage.make_client(x_token(), base_url=SETTINGS.x_api_base_url)
    run_id = runtime.new_run_id(STAGE, panel.id, dt)
    logger.set_correlation_id(run_id)  # every line of this run carries it
    logger.info("collect started", extra={"brands": request.brands or len(panel.brands),
                                          "deadline": str(options.deadline)})

    summary = stage.run_collect(panel, dt, lake, client, options, run_id=run_id)
    runtime.record_metrics(metrics, summary)
    logger.info("collect finished", extra=runtime.log_fields(summary))
    return runtime.result(summary)
