"""Runtime settings of the Lambda functions, parsed once from the environment at the edge.

Imported at cold start: standard library only (a frozen dataclass, not a pydantic model). The
lake (pyarrow) and boto3 are imported by the methods that build them, on a handler's first
invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Self

from barometer.aws._coerce import (
    EXTRA,
    REQUIRED,
    Invalid,
    as_bool,
    as_float,
    as_int,
    as_str,
    at_least_zero,
)
from barometer.errors import ConfigError

if TYPE_CHECKING:
    from barometer.lake.store import Lake, S3Options

# Environment variable → settings field. The CDK stack gives each function only the variables
# of its own settings class (tests/infra checks it).
ENV_VARS: dict[str, str] = {
    "LAKE_URI": "lake_uri",
    "SITE_BUCKET": "site_bucket",
    "SITE_PREFIX": "site_prefix",
    "SITE_URL": "site_url",
    "DISTRIBUTION_ID": "distribution_id",
    "X_TOKEN_SECRET_ARN": "x_token_secret_arn",
    "BSKY_SECRET_ARN": "bsky_secret_arn",
    "X_API_BASE_URL": "x_api_base_url",
    "AWS_ENDPOINT_URL": "aws_endpoint_url",
    "AWS_REGION": "region",
    "SIMULATED": "simulated",
    "SAFETY_MARGIN_SECONDS": "safety_margin_seconds",
    "SECRET_MAX_AGE_SECONDS": "secret_max_age_seconds",
}
# Accepted as well, for names other tools use.
ENV_ALIASES: dict[str, str] = {
    "AWS_DEFAULT_REGION": "region",
    "DATA_BUCKET": "lake_uri",
}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What every function needs to know about where it runs. Immutable; built once per cold
    start. The stage classes below add their own fields.

    Validated on construction, environment strings coerced (`SIMULATED=true`,
    `SAFETY_MARGIN_SECONDS=20`); a bad value raises `ValueError` naming the field, which
    `from_env` turns into one ConfigError line naming the variable.
    """

    lake_uri: str  # s3://<data bucket>[/prefix] (or file:// in tests)
    aws_endpoint_url: str | None = None  # a moto server in tests
    region: str = "eu-west-3"
    simulated: bool = False
    safety_margin_seconds: float = 20.0  # >= 0

    def __post_init__(self) -> None:
        for f in fields(self):  # in field order: the first error reported is the first field's
            # frozen: the normalised values are set once, here
            object.__setattr__(self, f.name, _COERCE[f.name](getattr(self, f.name), f.name))
        self._check()

    def _check(self) -> None:
        """Checks across fields (a stage's required settings)."""

    @classmethod
    def env_vars(cls) -> list[str]:
        """The environment variables this class reads (the stack sets only these)."""
        names = {f.name for f in fields(cls)}
        return [env for env, field in ENV_VARS.items() if field in names]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        """Settings from an environment mapping (the handler passes `os.environ`); variables of
        other stages are not read."""
        names = {f.name for f in fields(cls)}
        values: dict[str, str] = {}
        for name, field in ENV_ALIASES.items():
            if environ.get(name) and field in names:
                values[field] = environ[name]
        for name, field in ENV_VARS.items():
            if name in environ and field in names:
                values[field] = environ[name]
        try:
            return cls.parse(values)
        except Invalid as e:
            env = next((k for k, f in ENV_VARS.items() if f == e.loc), e.loc)
            raise ConfigError(f"environment: {env}: {e.msg}") from None

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> Self:
        """From field values, as `from_env` gathers them; raises `Invalid` (a ValueError)."""
        if "lake_uri" not in values:
            raise Invalid("lake_uri", REQUIRED)
        names = {f.name for f in fields(cls)}
        settings = cls(**{k: v for k, v in values.items() if k in names})
        extra = next((k for k in values if k not in names), None)
        if extra is not None:
            raise Invalid(str(extra), EXTRA)
        return settings

    # -- adapters built from the settings -------------------------------------------------
    def s3_options(self) -> S3Options:
        from barometer.lake.store import S3Options

        return S3Options(endpoint_url=self.aws_endpoint_url, region=self.region)

    def lake(self) -> Lake:
        from barometer.lake.store import Lake

        return Lake(self.lake_uri, s3=self.s3_options())

    def boto3_client(self, service: str, session: Any = None) -> Any:
        """A boto3 client for `service` in the configured region (and endpoint, for moto)."""
        import boto3

        factory = session or boto3
        return factory.client(service, region_name=self.region, endpoint_url=self.aws_endpoint_url)


@dataclass(frozen=True, kw_only=True)
class CollectSettings(Settings):
    """The collect function: the X token's secret (or the simulator)."""

    x_token_secret_arn: str | None = None
    # The Bluesky login (JSON handle + app password); None: Bluesky's search is not read.
    bsky_secret_arn: str | None = None
    x_api_base_url: str | None = None  # the X API simulator, instead of https://api.twitter.com
    secret_max_age_seconds: int = 300  # >= 0

    def _check(self) -> None:
        if not self.x_token_secret_arn and not self.simulated:
            raise Invalid("x_token_secret_arn", REQUIRED)


@dataclass(frozen=True, kw_only=True)
class ScoreSettings(Settings):
    """The score function reads and writes the lake only."""


@dataclass(frozen=True, kw_only=True)
class PublishSettings(Settings):
    """The publish function: the site bucket, its public URL, the distribution to invalidate."""

    site_bucket: str | None = None
    site_prefix: str = ""
    site_url: str | None = None  # public URL of the site (CloudFront), for summaries
    distribution_id: str | None = None  # CloudFront distribution to invalidate after publishing

    def _check(self) -> None:
        if not self.site_bucket:
            raise Invalid("site_bucket", REQUIRED)


# -- field by field, what pydantic's validators did --------------------------------------------
def _lake_uri(v: Any, loc: str) -> str:
    v = as_str(v, loc)
    if "://" not in v:
        # a bare bucket name, as CloudFormation outputs it
        v = f"s3://{v}"
    if not v.startswith(("s3://", "file://")):
        raise Invalid(loc, f"lake URI {v!r}: must be s3://bucket[/prefix] or file://path")
    return v.rstrip("/")


def _optional_str(v: Any, loc: str) -> str | None:
    """A blank value (`DISTRIBUTION_ID=""`) is no value."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    return as_str(v, loc)


def _prefix(v: Any, loc: str) -> str:
    return as_str(v, loc).strip("/")


def _seconds(v: Any, loc: str) -> float:
    seconds = as_float(v, loc)
    at_least_zero(seconds, loc)
    return seconds


def _whole_seconds(v: Any, loc: str) -> int:
    seconds = as_int(v, loc)
    at_least_zero(seconds, loc)
    return seconds


_COERCE: dict[str, Callable[[Any, str], Any]] = {
    "lake_uri": _lake_uri,
    "site_bucket": _optional_str,
    "site_prefix": _prefix,
    "site_url": _optional_str,
    "distribution_id": _optional_str,
    "x_token_secret_arn": _optional_str,
    "bsky_secret_arn": _optional_str,
    "x_api_base_url": _optional_str,
    "aws_endpoint_url": _optional_str,
    "region": as_str,
    "simulated": as_bool,
    "safety_margin_seconds": _seconds,
    "secret_max_age_seconds": _whole_seconds,
}
