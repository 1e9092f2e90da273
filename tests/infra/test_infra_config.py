from __future__ import annotations

from datetime import date

import pytest

from infra.config import ConfigError, StageConfig
from infra.config import cdk_json_context as cdk_context


def _get(ctx: dict[str, object]):  # type: ignore[no-untyped-def]
    return ctx.get


def test_defaults_from_cdk_json() -> None:
    cfg = StageConfig.from_context(_get(cdk_context()))
    assert cfg.region == "eu-west-3"
    assert cfg.architecture == "arm64"
    assert cfg.schedule == "cron(0 6 * * ? *)"
    assert cfg.schedule_timezone == "Europe/Paris"
    assert "pharma-fr" in cfg.panels
    assert cfg.first_date == date(2016, 11, 1)  # the earliest panel first_date
    assert cfg.account is None  # account-agnostic


def test_overrides_on_the_command_line() -> None:
    ctx = {**cdk_context(), "barometer.alarm_email": "ops@example.com", "barometer.env_name": "dev",
           "barometer.panels": "pharma-fr"}
    cfg = StageConfig.from_context(_get(ctx))
    assert (cfg.alarm_email, cfg.env_name, cfg.panels) == ("ops@example.com", "dev", ("pharma-fr",))


@pytest.mark.parametrize("override, field", [
    ({"barometer.panels": "nope"}, "nope"),
    ({"barometer.schedule": "daily"}, "schedule"),
    ({"barometer.log_retention_days": 42}, "log_retention_days"),
    ({"barometer.athena_bytes_scanned_cutoff": 1000}, "athena_bytes_scanned_cutoff"),
    ({"barometer.site_domain": "baro.example.com"}, "site_certificate_arn"),
])
def test_bad_configuration_is_one_line(override: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as e:
        StageConfig.from_context(_get({**cdk_context(), **override}))
    assert "\n" not in str(e.value) and field in str(e.value)
