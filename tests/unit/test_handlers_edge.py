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
from barometer.aws.settings import CollectSettings, PublishSettings, ScoreSettings, Settings
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


@pytest.mark.parametrize(("event", "message"), [
    ({"panel": 5}, "event: panel: Input should be a valid string"),
    ({"panel": "pharma-fr", "date": "2018-04-31"},
     "event: date: Input should be a valid date in the format YYYY-MM-DD, day is out of range for month"),
    ({"panel": "pharma-fr", "date": "30/04/2018"},
     "event: date: Input should be a valid date in the format YYYY-MM-DD"),
    ({"panel": "pharma-fr", "date": 1525046400}, "event: date: Input should be a valid date in the format YYYY-MM-DD"),
    ({"panel": "pharma-fr", "date": datetime(2018, 4, 30, 1)},
     "event: date: Datetimes provided to dates should have zero time - e.g. be exact dates"),
    ({"panel": "pharma-fr", "date": []}, "event: date: Input should be a valid date in the format YYYY-MM-DD"),
    ({"panel": "pharma-fr", "stages": "report, collect"},
     "event: stages.1: Input should be 'collect', 'score' or 'publish'"),
    ({"panel": "pharma-fr", "stages": " , "},
     "event: stages: List should have at least 1 item after validation, not 0"),
    ({"panel": "pharma-fr", "stages": None}, "event: stages: Input should be a valid list"),
    ({"panel": "pharma-fr", "brands": [1]}, "event: brands.0: Input should be a valid string"),
    ({"panel": "pharma-fr", "brands": {"a": 1}}, "event: brands: Input should be a valid list"),
])
def test_run_request_messages(event: dict[str, Any], message: str) -> None:
    """One line naming the field, in pydantic's wording (the edge models are dataclasses, for the cold start)."""
    with pytest.raises(ConfigError) as e:
        RunRequest.from_event(event)
    assert str(e.value) == message


def test_run_request_coercions() -> None:
    r = RunRequest.parse({"panel": "pharma-fr", "date": "2018-04-30", "stages": ["publish", "score"],
                          "brands": "sanofi, , bayer"})
    assert r.date == date(2018, 4, 30) and r.stages == ["score", "publish"] and r.brands == ["sanofi", "bayer"]
    assert RunRequest.parse({"panel": "pharma-fr", "date": datetime(2018, 4, 30), "brands": []}).brands is None
    assert r.to_json() == ('{"panel":"pharma-fr","date":"2018-04-30","stages":["score","publish"],'
                           '"brands":["sanofi","bayer"]}')
    with pytest.raises(ConfigError, match=r"^trigger: extra: Extra inputs are not permitted$"):
        RunRequest.parse({"panel": "pharma-fr", "extra": 1}, source="trigger")
    with pytest.raises(ValueError, match="bad panel id"):  # built directly: validated too
        RunRequest(panel="Pharma FR")
    with pytest.raises(AttributeError):
        r.panel = "other"  # type: ignore[misc]


def test_default_date_is_yesterday_in_paris() -> None:
    # 23:30 UTC on April 30th is already May 1st in Paris (UTC+2): yesterday is April 30th
    assert yesterday(datetime(2018, 4, 30, 23, 30)) == date(2018, 4, 30)
    assert yesterday(datetime(2018, 4, 30, 21, 30)) == date(2018, 4, 29)
    r = RunRequest(panel="pharma-fr")
    assert r.resolved(datetime(2018, 5, 1, 5)).date == date(2018, 4, 30)


# -- settings ------------------------------------------------------------------------------------
def test_settings_from_environment() -> None:
    environ = {"LAKE_URI": "my-data-bucket", "SITE_BUCKET": "site", "SITE_PREFIX": "/b/",
               "DISTRIBUTION_ID": "", "AWS_REGION": "eu-west-1", "SIMULATED": "true", "UNRELATED": "x"}
    s = PublishSettings.from_env(environ)
    assert s.lake_uri == "s3://my-data-bucket" and s.site_prefix == "b" and s.distribution_id is None
    assert s.region == "eu-west-1" and s.simulated is True
    c = CollectSettings.from_env(environ)  # reads only its own variables
    assert c.x_api_base_url is None and not hasattr(c, "site_bucket")


def test_settings_per_stage_require_their_own() -> None:
    with pytest.raises(ConfigError) as e:
        CollectSettings.from_env({"LAKE_URI": "b"})
    assert str(e.value) == "environment: X_TOKEN_SECRET_ARN: Field required"
    assert CollectSettings.from_env({"LAKE_URI": "b", "SIMULATED": "true"}).x_token_secret_arn is None
    with pytest.raises(ConfigError) as e:
        PublishSettings.from_env({"LAKE_URI": "b", "SITE_URL": "https://x/"})
    assert str(e.value) == "environment: SITE_BUCKET: Field required"
    assert ScoreSettings.env_vars() == ["LAKE_URI", "AWS_ENDPOINT_URL", "AWS_REGION", "SIMULATED",
                                        "SAFETY_MARGIN_SECONDS"]
    assert set(CollectSettings.env_vars()) - set(ScoreSettings.env_vars()) == {
        "X_TOKEN_SECRET_ARN", "BSKY_SECRET_ARN", "X_API_BASE_URL", "SECRET_MAX_AGE_SECONDS"}
    assert set(PublishSettings.env_vars()) - set(ScoreSettings.env_vars()) == {
        "SITE_BUCKET", "SITE_PREFIX", "SITE_URL", "DISTRIBUTION_ID"}


def test_settings_error_names_the_variable() -> None:
    with pytest.raises(ConfigError) as e:
        Settings.from_env({"SITE_BUCKET": "site"})
    assert str(e.value) == "environment: LAKE_URI: Field required"
    with pytest.raises(ConfigError, match="SIMULATED"):
        Settings.from_env({"LAKE_URI": "s3://b", "SIMULATED": "perhaps"})


@pytest.mark.parametrize(("environ", "message"), [
    ({"LAKE_URI": "http://x"}, "environment: LAKE_URI: lake URI 'http://x': must be s3://bucket[/prefix] or file://path"),
    ({"LAKE_URI": "b", "SIMULATED": "perhaps"},
     "environment: SIMULATED: Input should be a valid boolean, unable to interpret input"),
    ({"LAKE_URI": "b", "SAFETY_MARGIN_SECONDS": "-1"},
     "environment: SAFETY_MARGIN_SECONDS: Input should be greater than or equal to 0"),
    ({"LAKE_URI": "b", "SAFETY_MARGIN_SECONDS": "abc"},
     "environment: SAFETY_MARGIN_SECONDS: Input should be a valid number, unable to parse string as a number"),
    ({"LAKE_URI": "b", "SECRET_MAX_AGE_SECONDS": "10.5"},
     "environment: SECRET_MAX_AGE_SECONDS: Input should be a valid integer, unable to parse string as an integer"),
])
def test_settings_messages(environ: dict[str, str], message: str) -> None:
    """One line naming the variable, in pydantic's wording (Settings is a dataclass, for the cold start)."""
    with pytest.raises(ConfigError) as e:
        CollectSettings.from_env(environ)
    assert str(e.value) == message


def test_settings_coercions() -> None:
    environ = {"DATA_BUCKET": "data", "AWS_DEFAULT_REGION": "us-east-1", "SIMULATED": "Off",
               "SAFETY_MARGIN_SECONDS": " 5.5 ", "SECRET_MAX_AGE_SECONDS": "1000", "SITE_URL": " ",
               "SITE_BUCKET": "site", "X_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:x"}
    s = CollectSettings.from_env(environ)
    assert s.lake_uri == "s3://data" and s.region == "us-east-1" and s.simulated is False
    assert s.safety_margin_seconds == 5.5 and s.secret_max_age_seconds == 1000
    assert PublishSettings.from_env(environ).site_url is None
    assert CollectSettings.from_env({"LAKE_URI": "file:///tmp/lake/", "SECRET_MAX_AGE_SECONDS": "10",
                                     "SIMULATED": "1"}) == CollectSettings(
        lake_uri="file:///tmp/lake", secret_max_age_seconds=10, simulated=True)
    assert hash(s) == hash(CollectSettings.from_env({
        "DATA_BUCKET": "data", "AWS_REGION": "us-east-1", "SAFETY_MARGIN_SECONDS": "5.5",
        "SECRET_MAX_AGE_SECONDS": "1000", "X_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:x"}))


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
                 "LAKE_URI": f"file://{tmp_path}", "SITE_BUCKET": "site",
                 "X_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:eu-west-3:000000000000:secret:x"}.items():
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


def test_handler_skips_a_stage_not_requested(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("barometer.collect")
    h = _load("collect")
    out = h.handler({"panel": "pharma-fr", "date": "2018-04-30", "stages": ["score"]}, _Context(60_000))
    assert out["status"] == "skipped" and out["stage"] == "collect" and out["dt"] == "2018-04-30"
    assert not any(env.iterdir())
    assert not h.edge.is_loaded  # a skipped stage never loads its library
    # The skip is counted (Powertools' EMF line on stdout), with no panel dimension.
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["Name"] for e in emf for d in e["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]] == ["StagesSkipped"]
    assert all("panel" not in e for e in emf)


def test_handlers_import_light_and_load_their_stage_once(env: Path) -> None:
    """Cold start (the handler module's import) pulls none of the heavy libraries, nor pydantic
    and YAML, nor (tracing active, as deployed) botocore for X-Ray's patch; the stage's library
    is loaded on first use, X-Ray's patch applied, and kept for the warm invocations (checked in
    a fresh interpreter: this one has already imported them)."""
    code = (
        "import importlib.util, sys\n"
        "heavy = ('pyarrow', 'numpy', 'pandas', 'duckdb', 'tweepy', 'boto3', 'botocore.client', 'requests',\n"
        "         'jinja2', 'pydantic', 'yaml', 'barometer.config', 'barometer.runs')\n"
        "for stage in ('collect', 'score', 'publish'):\n"
        "    spec = importlib.util.spec_from_file_location('h_' + stage, sys.argv[1] + '/' + stage + '/handler.py')\n"
        "    h = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(h)\n"
        "    loaded = [m for m in heavy if m in sys.modules]\n"
        "    assert not loaded, (stage, loaded)\n"
        "    assert not h.tracer.disabled\n"
        "h.edge.loaded()\n"
        "assert 'pyarrow' in sys.modules and h.edge.loaded() is h.edge.loaded()\n"
        "from aws_xray_sdk.core.patcher import _PATCHED_MODULES\n"
        "assert 'botocore' in _PATCHED_MODULES, _PATCHED_MODULES\n"
    )
    import os
    import subprocess

    # Tracing active, as in Lambda (AWS_LAMBDA_FUNCTION_NAME: no X-Ray sampling client).
    environ = {**os.environ, "PYTHONPATH": str(REPO / "layers"), "LAMBDA_TASK_ROOT": str(REPO / "functions"),
               "AWS_LAMBDA_FUNCTION_NAME": "test"}
    environ.pop("POWERTOOLS_TRACE_DISABLED", None)
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
                         run_id: str | None = None, bluesky: Any = None) -> StageSummary:
            seen["deadline"], seen["brands"] = options.deadline, options.brands
            assert bluesky is None  # an X-only panel: no Bluesky source
            logging.getLogger("barometer.collect").info("collecting %s", panel.id)
            s = StageSummary.start("collect", panel.id, dt, run_id=run_id)
            s.brands_ok, s.posts_read = 1, 10
            return s.finish("ok")

        # The stage's library is loaded lazily (on first use) and cached: replace it there.
        stage = h.edge.loaded()
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
