"""What the three handlers share, with no Powertools and no `os.environ`: the panel, the
deadline, the X token's shape and the metrics a stage summary yields.

Imported at cold start, so standard library only. What the functions below need is imported
by them, on a handler's first invocation: the panel models and YAML (`barometer.config`:
pydantic, yaml) by `load_panel`, the summary model (`barometer.runs`: pydantic) by
`skipped`; the lake (pyarrow) only as a type, a `Lake` is passed in by the handler, built on
its first invocation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from barometer.errors import BarometerError, ConfigError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from barometer.config import Panel
    from barometer.lake.lease import Lease
    from barometer.lake.store import Lake
    from barometer.runs import Stage, StageSummary

PANELS_PREFIX = "panels"
METRICS_NAMESPACE = "OpinionBarometer"
SIM_TOKEN = "sim-token"  # the X simulator's token (SIMULATED=true with no secret)
# What the stack puts in the X token secret: recognised, so a run before the secret is set
# says how to set it instead of sending X a wrong token (401).
X_TOKEN_PLACEHOLDER = "SET-ME: aws secretsmanager put-secret-value --secret-id <arn> --secret-string <token>"
# The Bluesky login (JSON: the account's handle and an app password), placeholder included.
BSKY_SECRET_PLACEHOLDER = ('{"handle": "SET-ME", "app_password": "SET-ME: aws secretsmanager put-secret-value '
                           '--secret-id <arn> --secret-string {\\"handle\\": ..., \\"app_password\\": ...}"}')


class StageError(BarometerError):
    """A handler that cannot run its stage (missing setting): the state machine's catch sees it.

    A stage that ran and failed is not an exception: its summary says `status: failed` (its
    `runs` row is written) and the state machine's "<Stage> ok?" choice stops the run."""


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def load_panel(lake: Lake, panel_id: str) -> Panel:
    """The panel `panels/<id>.yaml` from the data bucket (deployed by the stack), else the
    packaged panels/ folder."""
    import yaml

    from barometer.config import parse_panel, resolve_panel

    key = f"{PANELS_PREFIX}/{panel_id}.yaml"
    if lake.exists(lake.path(key)):
        source = f"{lake.uri}/{key}"
        try:
            data = yaml.safe_load(lake.get_bytes(key).decode("utf-8"))
        except yaml.YAMLError:
            raise ConfigError(f"{source}: not valid YAML") from None
        panel = parse_panel(data, source)
    else:
        panel = resolve_panel(panel_id)
    if panel.id != panel_id:
        raise ConfigError(f"panel {panel_id!r}: its file declares id {panel.id!r}")
    return panel


def deadline(context: LambdaContextLike | None, margin_seconds: float,
             now: datetime | None = None, default_seconds: float = 900) -> datetime:
    """UTC (naive, like the lake's timestamps) time by which a stage must have returned."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else default_seconds
    return now + timedelta(seconds=max(0.0, remaining - margin_seconds))


def bearer_token(secret_value: str | bytes | dict[str, object]) -> str:
    """The X bearer token from the secret's value: the token itself, or JSON holding it
    under `bearer_token` (or `token`)."""
    value: object = secret_value
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ConfigError("X token secret: not valid JSON") from None
        else:
            value = text
    if isinstance(value, dict):
        value = value.get("bearer_token") or value.get("token")
    if not isinstance(value, str) or not value or value == X_TOKEN_PLACEHOLDER:
        state = "holds the stack's placeholder" if value == X_TOKEN_PLACEHOLDER else "is empty"
        raise ConfigError(f"X token secret {state}: set it with `aws secretsmanager put-secret-value "
                          "--secret-id <XTokenSecretArn> --secret-string <bearer token>`")
    return value


def bluesky_login(secret_value: str | bytes | dict[str, object]) -> tuple[str, str]:
    """(handle, app password) from the Bluesky secret's JSON (`handle`, `app_password`); a
    ConfigError in one line (no secret in it) while it holds the placeholder or is malformed."""
    value: object = secret_value
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError("Bluesky secret: not valid JSON") from None
    how = ("set it with `aws secretsmanager put-secret-value --secret-id <BskySecretArn> --secret-string "
           "'{\"handle\": \"<handle>\", \"app_password\": \"<app password>\"}'`")
    if not isinstance(value, dict):
        raise ConfigError(f"Bluesky secret: not a JSON object: {how}")
    handle, password = value.get("handle"), value.get("app_password") or value.get("password")
    if not isinstance(handle, str) or not isinstance(password, str) or not handle or not password:
        raise ConfigError(f"Bluesky secret is incomplete (handle and app_password): {how}")
    if handle.startswith("SET-ME") or password.startswith("SET-ME"):
        raise ConfigError(f"Bluesky secret holds the stack's placeholder: {how}")
    return handle, password


def metrics(summary: StageSummary) -> dict[str, float]:
    """CloudWatch metrics (namespace OpinionBarometer) for a stage's summary."""
    if summary.stage == "collect":
        return {
            "BrandsCollected": summary.brands_ok,
            "PostReads": summary.posts_read,
            "UserReads": summary.users_read,
            "ApiRequests": summary.api_requests,
        }
    if summary.stage == "score":
        return {"BrandsScored": summary.brands_ok}
    pages = summary.details.get("pages", 0)  # absent when the quality gate skipped publishing
    return {"PagesPublished": pages if isinstance(pages, int | float) else 0}


class MetricsSink(Protocol):
    """The part of Powertools' `Metrics` a handler passes in (flushed by its decorator)."""

    def add_dimension(self, name: str, value: str) -> None: ...

    def add_metric(self, name: str, unit: str, value: float) -> None: ...


def record_metrics(sink: MetricsSink, summary: StageSummary) -> None:
    """Add a finished stage's metrics, dimension `panel`; a skipped stage counts `StagesSkipped`
    (dimension `service` only), so a re-run of other stages never flushes empty metrics."""
    if summary.status == "skipped":
        sink.add_metric(name="StagesSkipped", unit="Count", value=1)
        return
    sink.add_dimension(name="panel", value=summary.panel)
    for name, value in metrics(summary).items():
        sink.add_metric(name=name, unit="Count", value=value)


def result(summary: StageSummary, extra: dict[str, object] | None = None) -> dict[str, object]:
    """The handler's return value: the summary, JSON-ready. The state machine keeps it under
    `$.results.<stage>`, checks its `status` and pins the next stages' date to its `dt`."""
    out = summary.model_dump(mode="json")
    out["cost_usd"] = summary.cost_usd
    if extra:
        out.update(extra)
    return out


def log_fields(summary: StageSummary) -> dict[str, object]:
    """What a handler logs about a finished stage (no token, no texts)."""
    return {
        "run_id": summary.run_id, "status": summary.status, "brands_ok": summary.brands_ok,
        "brands_failed": summary.brands_failed, "api_requests": summary.api_requests,
        "posts_read": summary.posts_read, "users_read": summary.users_read,
        "cost_usd": summary.cost_usd, "errors": summary.errors[:10],
    }


def new_run_id(stage: Stage, panel: str, dt: date) -> str:
    """`barometer.runs.new_run_id`, for the handlers: `barometer.runs` (pydantic) is imported on
    the first invocation, not at init."""
    from barometer import runs

    return runs.new_run_id(stage, panel, dt)


def skipped(stage: Stage, panel: str, dt: date, sink: MetricsSink) -> dict[str, object]:
    """What a handler returns when the request does not include its stage (nothing written)."""
    from barometer.runs import StageSummary

    summary = StageSummary.start(stage, panel, dt).finish("skipped")
    record_metrics(sink, summary)
    return result(summary)


# A stage's lease outlives the function's time left by this much: a function killed at its
# timeout blocks its panel for no longer than that, and a stage that ends in time releases it.
LEASE_MARGIN_S = 60.0


def stage_lease(lake: Lake, panel_id: str, run_id: str, context: LambdaContextLike | None,
                s3_client: object, default_seconds: float = 900) -> AbstractContextManager[Lease]:
    """The panel's lease around one stage in Lambda (one run per panel at a time):

        with runtime.stage_lease(lake, panel.id, run_id, context, s3_client):
            summary = run_score(panel, dt, lake, run_id=run_id)

    Taken with an S3 conditional write (`If-None-Match`) through the handler's boto3 S3 client,
    for the function's remaining time plus `LEASE_MARGIN_S`; released when the block ends. When
    another execution holds it, raises `LeaseBusy` at once (its message names the holder and the
    expiry): the state machine retries the stage on that error name."""
    from barometer.lake.lease import hold

    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else default_seconds
    return hold(lake, panel_id, owner=run_id, ttl=max(1.0, remaining) + LEASE_MARGIN_S, wait=0.0,
                s3_client=s3_client, heartbeat=False)
