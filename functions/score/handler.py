"""Lambda: score a panel for one run date (the opinion leadership index) from the lake.

Event: the state machine input `{panel, date?, stages?, brands?}` (`brands` is ignored: the
index normalises across the whole panel). Returns the StageSummary. The edge is
`barometer.aws.edge`; this module holds the score function's own: its settings, X-Ray's patch
and the call to `barometer.score.run_score` (pyarrow, numpy: loaded on the first invocation
that scores).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import aws_lambda_powertools
import aws_lambda_powertools.logging.utils

from barometer.aws.edge import Edge, StageCall
from barometer.aws.settings import ScoreSettings

if TYPE_CHECKING:
    from barometer.runs import StageSummary

SETTINGS = ScoreSettings.from_env(os.environ)  # once per cold start; the library never reads it


def _load() -> Callable[..., StageSummary]:
    from barometer.score import run_score

    return run_score


def _run(call: StageCall, run_score: Callable[..., StageSummary]) -> StageSummary:
    return run_score(call.panel, call.dt, call.lake, run_id=call.run_id)


# X-Ray patches only AWS SDK calls (the lake is read by pyarrow's own C++ S3 client).
edge = Edge.build("score", SETTINGS, aws_lambda_powertools, load=_load, run=_run,
                  patch=("botocore",))
logger, tracer, metrics = edge.logger, edge.tracer, edge.metrics
handler = edge.lambda_handler()
