"""What ships, checked on the template: each finding of the "product as deployed" audit pinned
(the state machine's tasks, notifications, the token secret, log group names, stack names)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from barometer.aws.runtime import X_TOKEN_PLACEHOLDER, bearer_token
from barometer.errors import ConfigError
from infra.state_machine import definition_json

STAGES = ("collect", "score", "publish")


def _states(synth: Any) -> dict[str, dict[str, Any]]:
    return dict(json.loads(definition_json(synth.json))["States"])


def _functions(synth: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    out = {}
    for logical_id, res in synth.resources("AWS::Lambda::Function").items():
        desc = res["Properties"].get("Description", "")
        if desc.startswith("Opinion Barometer: "):
            out[desc.split(": ")[1].split()[0]] = (logical_id, res["Properties"])
    return out


def test_every_task_parameters_is_an_object_or_absent(synth: Any) -> None:
    tasks = {name: s for name, s in _states(synth).items() if s["Type"] == "Task"}
    assert {"Collect", "Score", "Publish", "Notify failure", "Notify bad input"} <= set(tasks)
    for name, task in tasks.items():
        assert isinstance(task.get("Parameters", {}), dict), f"{name}: Parameters {task['Parameters']!r}"
    for stage in ("Collect", "Score", "Publish"):  # a function gets the state as is
        assert "Parameters" not in tasks[stage] and tasks[stage]["Resource"].startswith("arn:aws:lambda:")


def test_the_state_machine_may_publish_to_its_encrypted_topic(synth: Any) -> None:
    (topic,) = synth.resources("AWS::SNS::Topic").values()
    key_ref = topic["Properties"]["KmsMasterKeyId"]
    key_id = key_ref["Fn::GetAtt"][0]
    (machine,) = synth.resources("AWS::StepFunctions::StateMachine").values()
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [st for pol in synth.resources("AWS::IAM::Policy").values()
                  if {"Ref": role_id} in pol["Properties"]["Roles"]
                  for st in pol["Properties"]["PolicyDocument"]["Statement"]]
    kms = [st for st in statements if any(str(a).startswith("kms:") for a in _list(st["Action"]))]
    assert kms, "the state machine role has no kms: permission"
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= {a for st in kms for a in _list(st["Action"])}
    assert all(st["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]} for st in kms)
    # the key policy delegates to IAM in this account (so the role's grant is enough)
    key = synth.json["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    assert any(st["Action"] == "kms:*" and "AWS" in st["Principal"] for st in key)


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def test_the_token_secret_starts_with_a_placeholder_the_collector_recognises(synth: Any) -> None:
    secrets = synth.resources("AWS::SecretsManager::Secret")
    (props,) = [v["Properties"] for k, v in secrets.items() if "XTokenSecret" in k]  # beside BskySecret
    assert "GenerateSecretString" not in props  # a random password would go to X as a token
    assert props["SecretString"] == X_TOKEN_PLACEHOLDER
    with pytest.raises(ConfigError, match=r"placeholder.*put-secret-value --secret-id"):
        bearer_token(props["SecretString"])
    with pytest.raises(ConfigError, match=r"is empty.*put-secret-value"):
        bearer_token('{"bearer_token": ""}')
    assert bearer_token('{"bearer_token": "AAAA"}') == "AAAA"


def test_log_groups_are_where_the_readme_says(synth: Any) -> None:
    prefix = synth.config.name_prefix
    assert prefix == "opinion-barometer-prod"
    groups = {g["Properties"].get("LogGroupName"): logical for logical, g in
              synth.resources("AWS::Logs::LogGroup").items()}
    for stage, (_, fn) in _functions(synth).items():
        assert fn["FunctionName"] == f"{prefix}-{stage}"
        group = fn["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[f"/aws/lambda/{prefix}-{stage}"] == group
    (machine,) = synth.resources("AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"]["StateMachineName"] == prefix
    dest = machine["Properties"]["LoggingConfiguration"]["Destinations"][0]
    group = dest["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert groups[f"/aws/vendedlogs/states/{prefix}"] == group


def test_the_readme_log_commands_name_these_groups(synth: Any) -> None:
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for stage in STAGES:
        assert f"aws logs tail /aws/lambda/opinion-barometer-prod-{stage}" in readme
    assert "aws logs tail /aws/vendedlogs/states/opinion-barometer-prod" in readme


def test_stack_and_global_names_carry_the_environment_and_region(layer_dir: Any) -> None:
    import aws_cdk as cdk

    from infra.app import build_app
    from infra.config import cdk_json_context

    ctx = cdk_json_context()
    ctx["barometer.layer_dir"] = str(layer_dir)
    ctx["barometer.env_name"] = "staging"
    ctx["barometer.region"] = "eu-west-1"
    app, stack = build_app(cdk.App(context=ctx), nag=False)
    assert stack.stack_name == "OpinionBarometer-staging"
    template = app.synth().get_stack_by_name(stack.stack_name).template
    names = json.dumps(template)
    assert "opinion-barometer-staging-collect" in names
    dashboards = [r["Properties"]["DashboardName"] for r in template["Resources"].values()
                  if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert dashboards == ["opinion-barometer-staging-eu-west-1"]
    # CloudFront names are account-wide
    resources = template["Resources"].values()
    cloudfront = [r["Properties"]["ResponseHeadersPolicyConfig"]["Name"] for r in resources
                  if r["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"]
    cloudfront += [r["Properties"]["OriginAccessControlConfig"]["Name"] for r in resources
                   if r["Type"] == "AWS::CloudFront::OriginAccessControl"]
    cloudfront += [r["Properties"]["Name"] for r in resources if r["Type"] == "AWS::CloudFront::Function"]
    assert sorted(cloudfront) == ["opinion-barometer-staging-eu-west-1-security-headers",
                                  "opinion-barometer-staging-eu-west-1-site",
                                  "opinion-barometer-staging-eu-west-1-viewer-request"]


def test_prod_keeps_its_stack_name(synth: Any) -> None:
    assert synth.stack.stack_name == "OpinionBarometer"


def test_shape_checks_guard_the_plan(synth: Any) -> None:
    states = _states(synth)
    assert states["Merge defaults"]["Next"] == "Valid shape?"
    shape = states["Valid shape?"]
    assert shape["Default"] == "Plan stages"
    assert {"Variable": "$.stages", "IsString": True, "Next": "Notify bad input"} in shape["Choices"]
    assert states["Notify bad input"]["Next"] == "Bad input"
    synth.template.has_resource_properties("AWS::StepFunctions::StateMachine", {
        "DefinitionString": Match.any_value()})
