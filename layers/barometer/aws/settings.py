"""Runtime settings of the Lambda functions, parsed once from the environment at the edge.

Imported at cold start: pydantic only. The lake (pyarrow) and boto3 are imported by the
methods that build them, on a handler's first invocation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from barometer.errors import ConfigError

if TYPE_CHECKING:
    from barometer.lake.store import Lake, S3Options

# Environment variable → Settings field. The CDK stack sets these on the three functions.
ENV_VARS: dict[str, str] = {
    "LAKE_URI": "lake_uri",
    "SITE_BUCKET": "site_bucket",
    "SITE_PREFIX": "site_prefix",
    "SITE_URL": "site_url",
    "DISTRIBUTION_ID": "distribution_id",
    "X_TOKEN_SECRET_ARN": "x_token_secret_arn",
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


class Settings(BaseModel):
    """What a handler needs to know about where it runs. Immutable; built once per cold start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lake_uri: str = Field(description="s3://<data bucket>[/prefix] (or file:// in tests)")
    site_bucket: str | None = None
    site_prefix: str = ""
    site_url: str | None = None  # public URL of the site (CloudFront), for summaries
    distribution_id: str | None = None  # CloudFront distribution to invalidate after publishing
    x_token_secret_arn: str | None = None
    x_api_base_url: str | None = None  # the X API simulator, instead of https://api.twitter.com
    aws_endpoint_url: str | None = None  # a moto server in tests
    region: str = "eu-west-3"
    simulated: bool = False
    safety_margin_seconds: float = Field(default=20.0, ge=0)
    secret_max_age_seconds: int = Field(default=300, ge=0)

    @field_validator("lake_uri")
    @classmethod
    def _lake(cls, v: str) -> str:
        if "://" not in v:
            # a bare bucket name, as CloudFormation outputs it
            v = f"s3://{v}"
        if not v.startswith(("s3://", "file://")):
            raise ValueError(f"lake URI {v!r}: must be s3://bucket[/prefix] or file://path")
        return v.rstrip("/")

    @field_validator("site_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        return v.strip("/")

    @field_validator(
        "site_bucket", "site_url", "distribution_id", "x_token_secret_arn", "x_api_base_url",
        "aws_endpoint_url", mode="before",
    )
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from an environment mapping (the handler passes `os.environ`)."""
        values: dict[str, str] = {}
        for name, field in ENV_ALIASES.items():
            if environ.get(name):
                values[field] = environ[name]
        for name, field in ENV_VARS.items():
            if name in environ:
                values[field] = environ[name]
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            first = e.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            env = next((k for k, f in ENV_VARS.items() if f == field), field)
            msg = first["msg"].removeprefix("Value error, ")
            raise ConfigError(f"environment: {env}: {msg}") from None

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
