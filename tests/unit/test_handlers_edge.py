"""The handlers' edge: typed events and settings, the token, deadline, metrics; and a handler
called in-process with its stage replaced, Secrets Manager mocked in-process (no network)."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from barometer.aws import runtime
from barometer.aws.events import RunRequest, yesterday
from barometer.aws.settings import Settings
from barometer.errors import ConfigError
from barometer.runs import StageSummary

REPO = Path(__file__).resolve().parents[2]


# -- events ----------------------------------------------------------------------------------
def test_run_request_defaults_and_order() -> None:
    r = RunRequest.parse({"panel": "pharma-fr", "stages": "publish, collect"})
    assert r.stages == ["collect", "publish"] and r.date is None and r.brands is None
    assert RunRequest.parse({"panel": "pharma-fr"}).stages == ["collect", "score", "publish"]
    assert r.to_input() == {"panel": "pharma-fr", "stages": ["collect", "publish"]}


def test_run_request_from_state_machine_event_ignores_results() -> None:
    event = {"panel": "pharma-fr", "date": None, "stages": ["collect", "score", "publish"], "brands": None,
             "results": {"collect": {"dt": "2018-04-30"}}, "plan": {"collect": True}}
    r = RunRequest.from_event(event)
    assert r.panel == "pharma-fr" and r.date is None


@pytest.mark.parametrize(("event", "message"), [
    ({"panel": "Pharma FR"}, "event: panel: bad panel id"),
    ({"panel": "pharma-fr", "stages": ["collect", "report"]}, "event: stages.1:"),
    ({"panel": "pharma-fr", "date": "30/04/2018"}, "event: date:"),
    ({"stages": ["collect"]}, "event: panel: Field required"),
])
def test_run_request_errors_are_one_line(event: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        RunRequest.from_event(event)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_default_date_is_yesterday_in_paris() -> None:
    # 23:30 UTC on April 30th is already May 1st in Paris (UTC+2): yesterday is April 30th
    assert yesterday(datetime(2018, 4, 30, 23, 30)) == date(2018, 4, 30)
    assert yesterday(datetime(2018, 4, 30, 21, 30)) == date(2018, 4, 29)
    r = RunRequest(panel="pharma-fr")
    assert r.resolved(datetime(2018, 5, 1, 5)).date == date(2018, 4, 30)


# -- settings ------------------------------------------------------------------------------------
def test_settings_from_environment() -> None:
    s = Settings.from_env({"LAKE_URI": "my-data-bucket", "SITE_BUCKET": "site", "SITE_PREFIX": "/b/",
                           "DISTRIBUTION_ID": "", "AWS_REGION": "eu-west-1", "SIMULATED": "true",
                           "UNRELATED": "x"})
    assert s.lake_uri == "s3://my-data-bucket" and s.site_prefix == "b" and s.distribution_id is None
    assert s.region == "eu-west-1" and s.simulated is True and s.x_api_base_url is None


def test_settings_error_names_the_variable() -> None:
    with pytest.raises(ConfigError) as e:
        Settings.from_env({"SITE_BUCKET": "site"})
    assert str(e.value) == "environment: LAKE_URI: Field required"
    with pytest.raises(ConfigError, match="SIMULATED"):
        Settings.from_env({"LAKE_URI": "s3://b", "SIMULATED": "perhaps"})


# -- runtime helpers ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    "tok-123", " tok-123\n", '{"bearer_token": "tok-123"}', b'{"token": "tok-123"}'])
def test_bearer_token_shapes(value: str | bytes) -> None:
    assert runtime.bearer_token(value) == "tok-123"


def test_bearer_token_empty_is_an_error_without_the_value() -> None:
    with pytest.raises(ConfigError, match="empty"):
        runtime.bearer_token('{"bearer_token": ""}')


class _Ctx:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def get_remaining_time_in_millis(self) -> int:
        return self.ms


def test_deadline_keeps_a_safety_margin() -> None:
    now = datetime(2018, 5, 1, 5)
    assert runtime.deadline(_Ctx(300_000), 20, now) == datetime(2018, 5, 1, 5, 4, 40)
    assert runtime.deadline(_Ctx(5_000), 20, now) == now


def test_metrics_per_stage() -> None:
    s = StageSummary.start("collect", "pharma-fr", date(2018, 4, 30))
    s.brands_ok, s.posts_read, s.users_read, s.api_requests = 7, 120, 9, 31
    assert runtime.metrics(s) == {"BrandsCollected": 7, "PostReads": 120, "UserReads": 9, "ApiRequests": 31}
    p = StageSummary.start("publish", "pharma-fr", date(2018, 4, 30))
    p.details = {"pages": 40}
    assert runtime.metrics(p) == {"PagesPublished": 40}
    out = runtime.result(s.finish())
    assert json.loads(json.dumps(out))["cost_usd"] == s.cost_usd


def test_panel_from_the_lake_then_the_package(tmp_path: Path) -> None:
    from barometer.lake.store import Lake

    lake = Lake(str(tmp_path))
    assert runtime.load_panel(lake, "pharma-fr").id == "pharma-fr"  # packaged panels/
    text = (REPO / "panels" / "pharma-fr.yaml").read_text(encoding="utf-8").replace(
        "name: Laboratoires pharmaceutiques en France", "name: Labos (from the bucket)")
    lake.put_bytes("panels/pharma-fr.yaml", text.encode())
    assert runtime.load_panel(lake, "pharma-fr").name == "Labos (from the bucket)"
    with pytest.raises(ConfigError, match="no-such-panel"):
        runtime.load_panel(lake, "no-such-panel")


# -- a handler, in-process ------------------------------------------------------------------------
def _load(stage: str) -> ModuleType:
    name = f"handler_{stage}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, REPO / "functions" / stage / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for h in logging.getLogger(module.logger.name).handlers:
        if isinstance(h, logging.StreamHandler):
            # Assign, not setStream: setStream flushes the old stream, which may be another
            # test's captured stdout, already closed.
            h.stream = sys.stdout
    return module


class _Context(_Ctx):
    function_name = "collect"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:collect"
    aws_request_id = "req-1"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "eu-west-3",
                 "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "OpinionBarometer",
                 "LAKE_URI": f"file://{tmp_path}", "SITE_BUCKET": "site"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    yield tmp_path
    # The handlers' loggers are process-wide (by service name) and `_load` points them at this
    # test's captured stdout, closed by now: point them back at the real one, without flushing
    # (setStream would), or the next test loading a handler flushes a closed file.
    for service in ("barometer-collect", "barometer-score", "barometer-publish"):
        for h in logging.getLogger(service).handlers:
            if isinstance(h, logging.StreamHandler):
                h.stream = sys.__stdout__


def test_handler_skips_a_stage_not_requested(env: Path) -> None:
    pytest.importorskip("barometer.collect")
    h = _load("collect")
    out = h.handler({"panel": "pharma-fr", "date": "2018-04-30", "stages": ["score"]}, _Context(60_000))
    assert out["status"] == "skipped" and out["stage"] == "collect" and out["dt"] == "2018-04-30"
    assert not any(env.iterdir())
    assert h._loaded is None  # a skipped stage never loads its library


def test_handlers_import_light_and_load_their_stage_once(env: Path) -> None:
    """Cold start (the handler module's import) pulls none of the heavy libraries; the stage's
    library is loaded on first use and kept for the warm invocations (checked in a fresh
    interpreter: this one has already imported them)."""
    code = (
        "import importlib.util, sys\n"
        "heavy = ('pyarrow', 'numpy', 'pandas', 'duckdb', 'tweepy', 'boto3', 'jinja2')\n"
        "for stage in ('collect', 'score', 'publish'):\n"
        "    spec = importlib.util.spec_from_file_location('h_' + stage, sys.argv[1] + '/' + stage + '/handler.py')\n"
        "    h = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(h)\n"
        "    loaded = [m for m in heavy if m in sys.modules]\n"
        "    assert not loaded, (stage, loaded)\n"
        "h._stage()\n"
        "assert 'pyarrow' in sys.modules and h._stage() is h._stage()\n"
    )
    import os
    import subprocess

    environ = {**os.environ, "PYTHONPATH": str(REPO / "layers")}
    proc = subprocess.run([sys.executable, "-c", code, str(REPO / "functions")], env=environ,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_collect_handler_token_is_cached_and_never_logged(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("barometer.collect")
    from moto import mock_aws

    token = "AAAA-real-looking-bearer-7c1e9b"
    with mock_aws():
        import boto3

        arn = boto3.client("secretsmanager", region_name="eu-west-3").create_secret(
            Name="x-token", SecretString=json.dumps({"bearer_token": token}))["ARN"]
        monkeypatch.setenv("X_TOKEN_SECRET_ARN", arn)
        h = _load("collect")
        seen: dict[str, Any] = {}

        def fake_client(bearer: str, base_url: str | None = None) -> object:
            seen["token"] = bearer
            return object()

        def fake_collect(panel: Any, dt: date, lake: Any, client: Any, options: Any,
                         run_id: str | None = None) -> StageSummary:
            seen["deadline"], seen["brands"] = options.deadline, options.brands
            logging.getLogger("barometer.collect").info("collecting %s", panel.id)
            s = StageSummary.start("collect", panel.id, dt, run_id=run_id)
            s.brands_ok, s.posts_read = 1, 10
            return s.finish("ok")

        # The stage's library is loaded lazily (on first use) and cached: replace it there.
        stage = h._stage()
        monkeypatch.setattr(stage, "make_client", fake_client)
        monkeypatch.setattr(stage, "run_collect", fake_collect)
        event = {"panel": "pharma-fr", "date": "2018-04-30", "stages": ["collect"], "brands": ["sanofi"]}
        before = datetime.now(UTC).replace(tzinfo=None)
        out = h.handler(event, _Context(120_000))
        # rotate the secret: the cached value is used until max_age
        boto3.client("secretsmanager", region_name="eu-west-3").put_secret_value(
            SecretId=arn, SecretString="rotated")
        h.handler(event, _Context(120_000))

    assert seen["token"] == token and seen["brands"] == ["sanofi"]
    assert 60 < (seen["deadline"] - before).total_seconds() <= 120 - 20 + 1
    assert out["status"] == "ok" and out["brands_ok"] == 1
    logs = capsys.readouterr().out
    assert token not in logs and "rotated" not in logs
    records = [json.loads(line) for line in logs.splitlines() if line.startswith('{"level"')]
    finished = [r for r in records if r["message"] == "collect finished"]
    assert finished[0]["correlation_id"] == out["run_id"] and finished[0]["service"] == "barometer-collect"
    started = [r for r in records if r["message"] == "collect started"]
    assert started[0]["correlation_id"] == out["run_id"]  # set before the stage runs
    assert '"BrandsCollected"' in logs and '"OpinionBarometer"' in logs
