"""Who may do what: the operators' and analysts' managed policies, least privilege, evaluated on
concrete requests (the template's references rendered to one fake account)."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from barometer.lake.schemas import SCHEMAS

ACCOUNT, REGION, BUCKET = "123456789012", "eu-west-3", "the-data-bucket"


def _render(node: Any, synth: Any) -> Any:
    """References to concrete strings: the data bucket, the state machine, the log groups."""
    if isinstance(node, list):
        return [_render(n, synth) for n in node]
    if not isinstance(node, dict):
        return node
    if "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(str(_render(p, synth)) for p in parts)
    if "Ref" in node:
        ref = node["Ref"]
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                  "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/OpinionBarometer/1"}
        if ref in pseudo:
            return pseudo[ref]
        kind = synth.json["Resources"][ref]["Type"]
        if kind == "AWS::StepFunctions::StateMachine":
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:opinion-barometer-prod"
        return ref
    if "Fn::GetAtt" in node:
        logical, attr = node["Fn::GetAtt"]
        res = synth.json["Resources"][logical]
        if res["Type"] == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{BUCKET}"
        if res["Type"] == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{res['Properties']['LogGroupName']}:*"
        if res["Type"] == "AWS::StepFunctions::StateMachine" and attr == "Name":
            return "opinion-barometer-prod"
        return f"{logical}.{attr}"
    return {k: _render(v, synth) for k, v in node.items()}


def _policy(synth: Any, description_start: str) -> list[dict[str, Any]]:
    (policy,) = [p for p in synth.resources("AWS::IAM::ManagedPolicy").values()
                 if p["Properties"].get("Description", "").startswith(description_start)]
    return list(_render(policy["Properties"]["PolicyDocument"]["Statement"], synth))


def _allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    for st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if st["Effect"] == "Allow" and action in actions and any(fnmatch.fnmatchcase(resource, r)
                                                                   for r in resources):
            return True
    return False


@pytest.fixture(scope="module")
def operators(synth: Any) -> list[dict[str, Any]]:
    return _policy(synth, "Opinion Barometer operators")


@pytest.fixture(scope="module")
def analysts(synth: Any) -> list[dict[str, Any]]:
    return _policy(synth, "Opinion Barometer analysts")


def _no_star(statements: list[dict[str, Any]]) -> None:
    for st in statements:
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        assert "*" not in resources, st
        assert not any(a.endswith(":*") or a == "*" for a in
                       (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])), st


def test_operators_run_and_follow_this_state_machine_only(operators: list[dict[str, Any]]) -> None:
    _no_star(operators)
    sm = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:opinion-barometer-prod"
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:opinion-barometer-prod:pharma-fr-2018-04-30-x"
    assert _allows(operators, "states:StartExecution", sm)
    assert not _allows(operators, "states:StartExecution", sm.replace("-prod", "-staging"))
    assert _allows(operators, "states:DescribeExecution", execution)
    assert not _allows(operators, "states:DescribeExecution", execution.replace("-prod:", "-other:"))
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/opinion-barometer-prod-collect:*"
    assert _allows(operators, "logs:FilterLogEvents", group)
    assert not _allows(operators, "logs:FilterLogEvents",
                       f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/someone-else:*")
    assert not any(a.split(":")[0] in ("s3", "athena", "glue", "secretsmanager", "lambda")
                   for st in operators for a in st["Action"])


def test_analysts_query_through_the_workgroup_and_read_only_the_tables(analysts: list[dict[str, Any]]) -> None:
    _no_star(analysts)
    workgroup = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/opinion-barometer-prod"
    assert _allows(analysts, "athena:StartQueryExecution", workgroup)
    assert not _allows(analysts, "athena:StartQueryExecution", workgroup.replace("opinion-barometer-prod", "primary"))
    for table in SCHEMAS:
        key = f"arn:aws:s3:::{BUCKET}/{table}/panel=pharma-fr/dt=2018-04-30/part-0.parquet"
        assert _allows(analysts, "s3:GetObject", key), table
    for private in ("raw/panel=pharma-fr/dt=2018-04-30/run/00001-search_recent.json.gz",
                    "state/pharma-fr/cursors.json.gz", "panels/pharma-fr.yaml"):
        assert not _allows(analysts, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{private}"), private
    assert _allows(analysts, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/athena-results/q1.csv")
    assert not _allows(analysts, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/scores/x.parquet")
    assert _allows(analysts, "glue:GetTable",
                   f"arn:aws:glue:{REGION}:{ACCOUNT}:table/opinion_barometer_prod/scores")
    assert not _allows(analysts, "glue:GetTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/other_db/scores")
    assert not any(a.split(":")[0] in ("states", "lambda", "secretsmanager", "logs")
                   for st in analysts for a in st["Action"])


def test_the_policies_are_stack_outputs(synth: Any) -> None:
    outputs = synth.json["Outputs"]
    for name in ("OperatorsPolicyArn", "AnalystsPolicyArn"):
        ref = outputs[name]["Value"]["Ref"]
        assert synth.json["Resources"][ref]["Type"] == "AWS::IAM::ManagedPolicy"
