"""Lambda: score a panel for one run date (the opinion leadership index) from the lake.

Event: the state machine input `{panel, date?, stages?, brands?}` (`brands` is ignored: the
index normalises across the whole panel). Returns the StageSummary.

Cold start: importing this module (Lambda's init phase) loads Powertools, the typed event and
settings (plain dataclasses: no pydantic, no YAML) and nothing heavy. The first invocation
imports the summary model (`barometer.runs`: pydantic) and, if it runs the stage, the panel's
(`barometer.config`: pydantic, YAML).
The scorer (`barometer.score`: pyarrow, numpy, the lake) and X-Ray's patching of botocore
(which imports it) are loaded on the first invocation that runs the stage, by `_stage()`, and
kept in a module global for the warm invocations; that first invocation pays for them
(bench/README.md, section startup, reports both figures). A request that skips the stage
never loads them.
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
    from barometer.runs import Stage, StageSummary

STAGE: Stage = "score"
SERVICE = "barometer-score"

logger = Logger(service=SERVICE)
# X-Ray patches only what this function calls: AWS SDK calls (the lake is read by pyarrow's
# C++ S3 client). Powertools' default, patch_all, would also import and patch sqlite3,
# httplib... Patched by `_stage()`, before the stage's first call, not at init: with tracing
# active (as deployed), patching imports botocore (~150 ms).
PATCH_MODULES = ("botocore",)
tracer = Tracer(service=SERVICE, auto_patch=False)
metrics = Metrics(namespace=runtime.METRICS_NAMESPACE, service=SERVICE)
copy_config_to_registered_loggers(source_logger=logger, include={"barometer"})

SETTINGS = Settings.from_env(os.environ)  # once per cold start; the library never reads the environment


class _ScoreStage:
    """What running the stage needs beyond the edge: imported once, on first use."""

    run_score: Callable[..., StageSummary]

    # not a dataclass: the tests load this file without registering it in sys.modules
    def __init__(self, run_score: Callable[..., StageSummary]) -> None:
        self.run_score = run_score


_loaded: _ScoreStage | None = None


def _stage() -> _ScoreStage:
    """The scorer (and X-Ray's patch): imported on the first invocation that runs the stage (not
    at init, see the module doc), then cached for the warm invocations."""
    global _loaded
    if _loaded is None:
        from barometer.score import run_score

        tracer.patch(PATCH_MODULES)  # X-Ray (a no-op when tracing is disabled), before the stage runs
        _loaded = _ScoreStage(run_score=run_score)
    return _loaded


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
    run_id = runtime.new_run_id(STAGE, panel.id, dt)
    logger.set_correlation_id(run_id)  # every line of this run carries it
    logger.info("score started", extra={"brands": len(panel.brands)})

    summary = stage.run_score(panel, dt, lake, run_id=run_id)
    runtime.record_metrics(metrics, summary)
    logger.info("score finished", extra=runtime.log_fields(summary))
    return runtime.result(summary)
