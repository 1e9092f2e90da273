"""Typed stage configuration of the CDK app, read from cdk.json context.

Everything the stack needs is here, resolved before any construct is created: the synth
reads no environment, calls no AWS API and needs no account (account-agnostic template).

Context: the `barometer` object in cdk.json; any field can be overridden on the command
line with `-c barometer.<field>=<value>` (for example `-c barometer.alarm_email=ops@x.fr`).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROOT = Path(__file__).resolve().parents[1]
CONTEXT_KEY = "barometer"

# Log retention periods offered (days → the name of aws_logs.RetentionDays).
LOG_RETENTION = {7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS",
                 180: "SIX_MONTHS", 365: "ONE_YEAR", 731: "TWO_YEARS", 1827: "FIVE_YEARS"}
ATHENA_MIN_CUTOFF = 10 * 2**20  # Athena's minimum bytes-scanned cut-off: 10 MB


class ConfigError(ValueError):
    """A stage configuration that does not validate (one line)."""


def cdk_json_context(root: Path = ROOT) -> dict[str, Any]:
    """The `context` of cdk.json (what the CDK CLI passes to the app), for in-process synths."""
    return dict(json.loads((root / "cdk.json").read_text(encoding="utf-8"))["context"])


def panel_ids(panels_dir: Path) -> list[str]:
    return sorted(str(yaml.safe_load(p.read_text(encoding="utf-8"))["id"]) for p in panels_dir.glob("*.yaml"))


def panels_first_date(panels_dir: Path) -> date | None:
    dates = []
    for p in panels_dir.glob("*.yaml"):
        d = yaml.safe_load(p.read_text(encoding="utf-8")).get("first_date")
        if d:
            dates.append(d if isinstance(d, date) else date.fromisoformat(str(d)))
    return min(dates) if dates else None


class StageConfig(BaseModel):
    """One deployment (stage) of the barometer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env_name: str = Field(default="prod", pattern=r"^[a-z][a-z0-9-]{0,19}$")
    region: str = Field(default="eu-west-3", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    # None keeps the template account-agnostic (deploy to whatever account the CLI uses).
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    architecture: Literal["arm64", "x86_64"] = "arm64"
    schedule: str = "cron(0 6 * * ? *)"
    schedule_timezone: str = "Europe/Paris"
    schedule_enabled: bool = True
    # Panel ids; empty means every panels/*.yaml.
    panels: tuple[str, ...] = ()
    alarm_email: str | None = None
    # A custom domain for the site (optional): its ACM certificate must be in us-east-1.
    site_domain: str | None = None
    site_certificate_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/.+$")
    athena_bytes_scanned_cutoff: int = Field(default=1024**3, ge=ATHENA_MIN_CUTOFF)
    # First date of the `dt` partition projection; default: the earliest panel first_date.
    first_date: date
    log_retention_days: int = 90
    # Where the assets are; defaults are the repository's folders (filled in from `root`).
    root: Path = ROOT
    layer_dir: Path
    functions_dir: Path
    queries_dir: Path
    panels_dir: Path

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        root = Path(data.get("root") or ROOT)
        defaults = {"layer_dir": "build/layer", "functions_dir": "functions", "queries_dir": "queries",
                    "panels_dir": "panels"}
        for key, rel in defaults.items():
            data[key] = root / (data.get(key) or rel)  # relative paths are relative to root
        panels_dir = Path(data["panels_dir"])
        known = panel_ids(panels_dir) if panels_dir.is_dir() else []
        panels = data.get("panels")
        if isinstance(panels, str):
            panels = [p for p in panels.split(",") if p]
        if not panels:
            panels = known
        unknown = sorted(set(panels) - set(known))
        if unknown:
            raise ValueError(f"panels {unknown} have no file in {panels_dir}")
        if not panels:
            raise ValueError(f"no panel: {panels_dir} has no *.yaml")
        data["panels"] = tuple(panels)
        if not data.get("first_date"):
            data["first_date"] = panels_first_date(panels_dir) or date(2020, 1, 1)
        return data

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        if not re.match(r"^(cron|rate|at)\(.+\)$", v):
            raise ValueError(f"bad schedule expression {v!r} (cron(...), rate(...) or at(...))")
        return v

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if v not in LOG_RETENTION:
            raise ValueError(f"log retention {v} days: choose one of {sorted(LOG_RETENTION)}")
        return v

    @model_validator(mode="after")
    def _domain(self) -> StageConfig:
        if bool(self.site_domain) != bool(self.site_certificate_arn):
            raise ValueError("site_domain and site_certificate_arn go together")
        return self

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v):
            raise ValueError(f"bad alarm e-mail {v!r}")
        return v

    @property
    def layer_zip(self) -> Path:
        """The layer asset that layers/build_layer.py writes next to layer_dir."""
        return self.layer_dir.parent / f"{self.layer_dir.name}.zip"

    @property
    def stack_name(self) -> str:
        """`OpinionBarometer` for prod (the name the first deployments have), else
        `OpinionBarometer-<env>`: staging never updates, or renames, production's stack."""
        return "OpinionBarometer" if self.env_name == "prod" else f"OpinionBarometer-{self.env_name}"

    @property
    def name_prefix(self) -> str:
        """Prefix of the resources named by us (functions, log groups, state machine)."""
        return f"opinion-barometer-{self.env_name}"

    @property
    def global_prefix(self) -> str:
        """Prefix of account-wide names (CloudFront policies, dashboards): with the region, so a
        second region's stack does not collide."""
        return f"opinion-barometer-{self.env_name}-{self.region}"

    @property
    def log_retention_name(self) -> str:
        return LOG_RETENTION[self.log_retention_days]

    @classmethod
    def from_context(cls, get: Any) -> StageConfig:
        """Build from CDK context; `get(key)` is `app.node.try_get_context`."""
        raw = get(CONTEXT_KEY) or {}
        if isinstance(raw, str):
            raw = json.loads(raw)
        data: dict[str, Any] = dict(raw)
        for name in cls.model_fields:
            override = get(f"{CONTEXT_KEY}.{name}")
            if override is not None:
                data[name] = override
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "(root)"
            raise ConfigError(f"cdk.json context {CONTEXT_KEY}: {loc}: {first['msg']}") from None
