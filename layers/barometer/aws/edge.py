"""The one stage runner of the three Lambda handlers.

A handler owns its Powertools objects, what X-Ray patches, how to load its stage's library and
how to call it; everything else is here, once: parse the event, skip or run, load the panel,
set the correlation id, call the stage, record metrics, log, return the summary.

Imported at cold start, so standard library only (Powertools objects are passed in). The stage's
library is loaded by `Edge.loaded()` on the first invocation that runs the stage, X-Ray's patch
applied just before, and kept for the warm invocations; a request that skips the stage never
loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from barometer.aws import runtime
from barometer.aws.events import RunRequest

if TYPE_CHECKING:
    from barometer.aws.settings import Settings
    from barometer.config import Panel
    from barometer.lake.store import Lake
    from barometer.runs import Stage, StageSummary

Lib = TypeVar("Lib")


class _Logger(Protocol):
    def append_keys(self, **keys: Any) -> None: ...
    def set_correlation_id(self, value: str | None) -> None: ...
    def info(self, msg: object, *args: Any, **kwargs: Any) -> None: ...
    def inject_lambda_context(self, *args: Any, **kwargs: Any) -> Any: ...


class _Tracer(Protocol):
    def put_annotation(self, key: str, value: Any) -> Any: ...
    def patch(self, modules: tuple[str, ...]) -> None: ...
    def capture_lambda_handler(self, *args: Any, **kwargs: Any) -> Any: ...


class _Metrics(runtime.MetricsSink, Protocol):
    def log_metrics(self, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class StageCall:
    """What a handler's stage function receives: the request, resolved."""

    request: RunRequest
    dt: date
    panel: Panel
    lake: Lake
    run_id: str
    deadline: datetime  # this invocation's end, less the safety margin (UTC, naive)


class Edge(Generic[Lib]):
    """One function's edge. `load()` imports the stage's library (called once, on first use);
    `run(call, lib)` runs the stage with it and returns the summary."""

    @classmethod
    def build(cls, stage: Stage, settings: Settings, powertools: Any, *,
              load: Callable[[], Lib], run: Callable[[StageCall, Lib], StageSummary],
              patch: tuple[str, ...] = (), log_keys: tuple[str, ...] = ()) -> Edge[Lib]:
        """The edge of the function `barometer-<stage>`, with its settings (parsed once, at cold
        start) and its Powertools Logger, Tracer and Metrics made from `powertools`, the
        `aws_lambda_powertools` package the handler imports (the library never imports it).
        X-Ray patches only `patch`, on first use; the library's loggers log through the
        function's (JSON, correlation id)."""
        service = f"barometer-{stage}"
        logger = powertools.Logger(service=service)
        powertools.logging.utils.copy_config_to_registered_loggers(source_logger=logger, include={"barometer"})
        return cls(stage, settings=settings, logger=logger,
                   tracer=powertools.Tracer(service=service, auto_patch=False),
                   metrics=powertools.Metrics(namespace=runtime.METRICS_NAMESPACE, service=service),
                   load=load, run=run, patch=patch, log_keys=log_keys)

    def __init__(self, stage: Stage, *, settings: Settings, logger: _Logger, tracer: _Tracer,
                 metrics: _Metrics, load: Callable[[], Lib],
                 run: Callable[[StageCall, Lib], StageSummary], patch: tuple[str, ...] = (),
                 log_keys: tuple[str, ...] = ()) -> None:
        self.stage, self.settings = stage, settings
        self.logger, self.tracer, self.metrics = logger, tracer, metrics
        self._load, self._run, self.patch, self.log_keys = load, run, patch, log_keys
        self._lib: Lib | None = None
        self._s3: object = None

    @property
    def is_loaded(self) -> bool:
        return self._lib is not None

    def loaded(self) -> Lib:
        """The stage's library: imported (and X-Ray's patch applied) on first use, then kept."""
        if self._lib is None:
            # X-Ray patches only what the function calls, before any client exists; a no-op
            # when tracing is disabled.
            self.tracer.patch(self.patch)
            self._lib = self._load()
        return self._lib

    def _s3_client(self, lake: Lake) -> object:
        """The boto3 S3 client of the lease on an s3:// lake (built once); none for a local lake."""
        if lake.local:
            return None
        if self._s3 is None:
            self._s3 = self.settings.boto3_client("s3")
        return self._s3

    def handle(self, event: Mapping[str, Any], context: runtime.LambdaContextLike) -> dict[str, object]:
        request = RunRequest.from_event(event)
        dt = request.run_date()
        if not request.wants(self.stage):
            return runtime.skipped(self.stage, request.panel, dt, self.metrics)
        self.logger.append_keys(panel=request.panel, dt=dt.isoformat(), stage=self.stage)
        self.tracer.put_annotation(key="panel", value=request.panel)

        lib = self.loaded()
        lake = self.settings.lake()
        panel = runtime.load_panel(lake, request.panel)
        run_id = runtime.new_run_id(self.stage, panel.id, dt)
        self.logger.set_correlation_id(run_id)  # every line of this run carries it
        call = StageCall(request=request, dt=dt, panel=panel, lake=lake, run_id=run_id,
                         deadline=runtime.deadline(context, self.settings.safety_margin_seconds))
        self.logger.info(f"{self.stage} started", extra={"brands": request.brands or len(panel.brands),
                                                         "deadline": str(call.deadline)})
        # One run per panel at a time: a second execution's stage raises LeaseBusy, which the
        # state machine retries (and notifies when the retries run out).
        with runtime.stage_lease(lake, panel.id, run_id, context, self._s3_client(lake)):
            summary = self._run(call, lib)
        runtime.record_metrics(self.metrics, summary)
        self.logger.info(f"{self.stage} finished", extra={
            **runtime.log_fields(summary), **{k: summary.details.get(k) for k in self.log_keys}})
        return runtime.result(summary)

    def lambda_handler(self) -> Callable[[dict[str, Any], Any], dict[str, object]]:
        """`handle` wrapped in Powertools' logger context, tracer and metrics flush."""

        @self.logger.inject_lambda_context(log_event=False, clear_state=True)
        @self.tracer.capture_lambda_handler(capture_response=False)
        @self.metrics.log_metrics
        def handler(event: dict[str, Any], context: Any) -> dict[str, object]:
            return self.handle(event, context)

        return handler
