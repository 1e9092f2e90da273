"""`barometer trigger` against Step Functions on a moto server, with the state machine created
from the synthesized CDK definition."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from _moto import CREDENTIALS, REGION, client, moto_server, synthesized_definition

from barometer.aws.events import RunRequest
from barometer.aws.trigger import register, trigger

pytest.importorskip("aws_cdk")

ROLE = "arn:aws:iam::123456789012:role/OpinionBarometer-StateMachineRole"


@pytest.fixture(scope="module")
def definition() -> str:
    return synthesized_definition()


@pytest.fixture(scope="module")
def aws() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def machine(aws: str, definition: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for k, v in {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(k, v)
    sfn = client("stepfunctions", aws)
    arn = sfn.create_state_machine(name="OpinionBarometerStateMachine", definition=definition,
                                   roleArn=ROLE)["stateMachineArn"]
    yield {"sfn": sfn, "arn": arn, "endpoint": aws}
    sfn.delete_state_machine(stateMachineArn=arn)


def test_definition_is_the_pipeline(definition: str) -> None:
    states = json.loads(definition)["States"]
    assert {"Collect", "Score", "Publish"} <= set(states)
    assert all(":lambda:" in json.dumps(states[s]) for s in ("Collect", "Score", "Publish"))


def test_trigger_starts_an_execution_with_the_request(machine: dict[str, Any]) -> None:
    sfn = machine["sfn"]
    request = RunRequest(panel="pharma-fr", date=date(2018, 4, 30), stages=["collect", "score"],
                         brands=["sanofi", "msd-france"])
    outcome = trigger(sfn, machine["arn"], request)

    assert outcome.status == "RUNNING" and outcome.ok
    assert outcome.name.startswith("pharma-fr-2018-04-30-cs-")
    described = sfn.describe_execution(executionArn=outcome.execution_arn)
    assert json.loads(described["input"]) == request.to_input() == {
        "panel": "pharma-fr", "date": "2018-04-30", "stages": ["collect", "score"],
        "brands": ["sanofi", "msd-france"]}
    assert described["stateMachineArn"] == machine["arn"]
    # a second trigger of the same request is a new execution (names carry a short uuid)
    again = trigger(sfn, machine["arn"], request)
    assert again.execution_arn != outcome.execution_arn


def test_trigger_wait_follows_until_the_end(machine: dict[str, Any]) -> None:
    sfn = machine["sfn"]
    seen: list[str] = []

    def stop_it(_: float) -> None:  # moto never finishes an execution on its own: end it
        for e in sfn.list_executions(stateMachineArn=machine["arn"], statusFilter="RUNNING")["executions"]:
            sfn.stop_execution(executionArn=e["executionArn"], error="Test", cause="stopped by the test")

    outcome = trigger(sfn, machine["arn"], RunRequest(panel="pharma-fr", date=date(2018, 4, 30)),
                      wait=True, poll=0.01, sleep=stop_it, on_status=seen.append)
    assert outcome.status == "ABORTED" and not outcome.ok
    assert seen == ["RUNNING", "ABORTED"]


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="barometer")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_finds_the_state_machine_in_the_stack_outputs(
        machine: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    cfn = client("cloudformation", machine["endpoint"])
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"StateMachineArn": {"Value": machine["arn"]},
                    "SiteUrl": {"Value": "https://d111111abcdef8.cloudfront.net/"}},
    }
    cfn.create_stack(StackName="OpinionBarometer", TemplateBody=json.dumps(template))
    try:
        args = _cli(["trigger", "--panel", "pharma-fr", "--date", "2018-04-30", "--stages", "publish",
                     "--endpoint-url", machine["endpoint"], "--region", REGION])
        assert args.func(args) == 0
    finally:
        cfn.delete_stack(StackName="OpinionBarometer")
    out = capsys.readouterr().out
    assert "RUNNING" in out and "https://d111111abcdef8.cloudfront.net/" in out
    execs = machine["sfn"].list_executions(stateMachineArn=machine["arn"])["executions"]
    inputs = [json.loads(machine["sfn"].describe_execution(executionArn=e["executionArn"])["input"])
              for e in execs]
    assert {"panel": "pharma-fr", "date": "2018-04-30", "stages": ["publish"]} in inputs


def test_cli_errors_are_one_line(machine: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    args = _cli(["trigger", "--panel", "Not A Panel", "--state-machine-arn", machine["arn"],
                 "--endpoint-url", machine["endpoint"], "--region", REGION])
    assert args.func(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("barometer: error: trigger: panel: bad panel id") and "\n" not in err

    args = _cli(["trigger", "--panel", "pharma-fr", "--stack", "NoSuchStack",
                 "--endpoint-url", machine["endpoint"], "--region", REGION])
    assert args.func(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("barometer: error: ") and "NoSuchStack" in err and "\n" not in err


def test_cli_takes_the_region_from_the_state_machine_arn(
        machine: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    # no region anywhere but in the ARN
    for k in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert machine["arn"].split(":")[3] == REGION
    args = _cli(["trigger", "--panel", "pharma-fr", "--date", "2018-04-30", "--brands", "sanofi",
                 "--state-machine-arn", machine["arn"], "--endpoint-url", machine["endpoint"]])
    assert args.func(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "RUNNING" in out and f"https://{REGION}.console.aws.amazon.com/" in out


def test_cli_checks_brands_before_calling_aws(machine: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    sfn = machine["sfn"]
    args = _cli(["trigger", "--panel", "pharma-fr", "--date", "2018-04-30", "--brands", "sanofi,acme",
                 "--state-machine-arn", machine["arn"], "--endpoint-url", machine["endpoint"], "--region", REGION])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("barometer: error: trigger: --brands: panel pharma-fr has no brand 'acme'")
    assert sfn.list_executions(stateMachineArn=machine["arn"])["executions"] == []
