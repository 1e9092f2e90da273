"""Pipeline construct: layer, functions, state machine, schedules, secret."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Capture, Match

from infra.state_machine import definition_json

SIZES = {"collect": (512, 900), "score": (3008, 600), "publish": (1024, 300)}


def _functions(synth) -> dict[str, dict]:  # type: ignore[no-untyped-def, type-arg]
    out = {}
    for res in synth.resources("AWS::Lambda::Function").values():
        desc = res["Properties"].get("Description", "")
        if desc.startswith("Opinion Barometer: "):
            out[desc.split(": ")[1].split()[0]] = res["Properties"]
    return out


def test_three_functions_sized_arm64_traced(synth) -> None:  # type: ignore[no-untyped-def]
    fns = _functions(synth)
    assert sorted(fns) == sorted(SIZES)
    for stage, (memory, timeout) in SIZES.items():
        p = fns[stage]
        assert (p["MemorySize"], p["Timeout"]) == (memory, timeout), stage
        assert p["Runtime"] == "python3.12" and p["Architectures"] == ["arm64"]
        assert p["Handler"] == "handler.handler"
        assert p["TracingConfig"] == {"Mode": "Active"}
        assert len(p["Layers"]) == (2 if stage == "collect" else 1)  # collect: + the Bluesky layer
        assert "LoggingConfig" in p  # its own log group, with retention


def test_each_function_gets_only_its_own_variables(synth) -> None:  # type: ignore[no-untyped-def]
    from barometer.aws.settings import CollectSettings, PublishSettings, ScoreSettings

    powertools = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}
    expected = {
        "collect": (CollectSettings, {"LAKE_URI", "X_TOKEN_SECRET_ARN", "BSKY_SECRET_ARN"}),
        "score": (ScoreSettings, {"LAKE_URI"}),
        "publish": (PublishSettings, {"LAKE_URI", "SITE_BUCKET", "SITE_URL", "DISTRIBUTION_ID"}),
    }
    fns = _functions(synth)
    for stage, (settings, given) in expected.items():
        variables = set(fns[stage]["Environment"]["Variables"])
        assert variables == given | powertools, stage
        assert variables - powertools <= set(settings.env_vars()), stage  # each one is read
        assert fns[stage]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "OpinionBarometer"


def test_layer_is_arm64_python312(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.has_resource_properties("AWS::Lambda::LayerVersion", {
        "CompatibleArchitectures": ["arm64"], "CompatibleRuntimes": ["python3.12"]})


def test_log_groups_have_retention(synth) -> None:  # type: ignore[no-untyped-def]
    groups = synth.resources("AWS::Logs::LogGroup")
    assert len(groups) >= 5  # three functions, the state machine, the panels deployment
    assert all(g["Properties"]["RetentionInDays"] == 90 for g in groups.values())


def test_only_collect_reads_the_token(synth) -> None:  # type: ignore[no-untyped-def]
    from barometer.aws.runtime import BSKY_SECRET_PLACEHOLDER, bluesky_login
    from barometer.errors import ConfigError

    secrets = {k: v["Properties"] for k, v in synth.resources("AWS::SecretsManager::Secret").items()}
    assert len(secrets) == 2  # the X token and the Bluesky login
    x = next(p for k, p in secrets.items() if "XTokenSecret" in k)
    bsky = next(p for k, p in secrets.items() if "BskySecret" in k)
    # no token nor password in the template: placeholders the collector recognises until set
    assert x["SecretString"].startswith("SET-ME: ") and "GenerateSecretString" not in x
    assert bsky["SecretString"] == BSKY_SECRET_PLACEHOLDER and "GenerateSecretString" not in bsky
    with pytest.raises(ConfigError, match="placeholder"):
        bluesky_login(bsky["SecretString"])
    readers = [p for p in synth.resources("AWS::IAM::Policy").values()
               if "secretsmanager:GetSecretValue" in json.dumps(p["Properties"]["PolicyDocument"])]
    assert len(readers) == 1  # one policy, the collect function's, reads both secrets
    assert "Collect" in readers[0]["Properties"]["Roles"][0]["Ref"]
    doc = json.dumps(readers[0]["Properties"]["PolicyDocument"])
    assert all(f'"Ref": "{k}"' in doc for k in secrets)


def test_stages_write_only_their_prefixes(synth) -> None:  # type: ignore[no-untyped-def]
    policies = {}
    for p in synth.resources("AWS::IAM::Policy").values():
        role = p["Properties"]["Roles"][0]["Ref"]
        for stage in SIZES:
            if role.startswith(f"Pipeline{stage.capitalize()}Function"):
                policies[stage] = json.dumps(p["Properties"]["PolicyDocument"])
    assert "/raw/*" in policies["collect"] and "/raw/*" not in policies["score"]
    assert "/scores/*" in policies["score"] and "/scores/*" not in policies["collect"]
    assert "/runs/*" in policies["publish"] and "/posts/*" not in policies["publish"]
    assert "/completeness/*" in policies["collect"] and "/completeness/*" not in policies["score"]
    for stage in SIZES:  # every stage takes the panel's lease
        assert "/state/leases/*" in policies[stage] or "/state/*" in policies[stage], stage
    assert "/state/*" not in policies["score"] and "/state/*" not in policies["publish"]


def test_state_machine_traced_and_logged(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.has_resource_properties("AWS::StepFunctions::StateMachine", {
        "TracingConfiguration": {"Enabled": True},
        "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
        "DefinitionString": Match.any_value(),
    })


def test_state_machine_definition(synth) -> None:  # type: ignore[no-untyped-def]
    asl = json.loads(definition_json(synth.json, {"collect": "arn:aws:lambda:eu-west-3:1:function:c"}))
    states = asl["States"]
    assert asl["StartAt"] == "Valid input?"
    # the stages in order, each skippable
    assert states["Plan stages"]["Parameters"]["collect.$"] == "States.ArrayContains($.stages, 'collect')"
    assert states["Collect?"]["Default"] == "Score?" and states["Score?"]["Default"] == "Publish?"
    assert states["Publish?"]["Default"] == "Done"
    assert states["Collect"]["Resource"] == "arn:aws:lambda:eu-west-3:1:function:c"
    for stage in ("Collect", "Score", "Publish"):
        task = states[stage]
        assert task["Type"] == "Task"
        retry = task["Retry"][0]
        assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
        assert retry["BackoffRate"] == 2 and retry["MaxAttempts"] >= 3
        assert task["Catch"][0] == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                    "Next": "Notify failure"}
    assert states["Notify failure"]["Resource"].endswith(":sns:publish")
    assert states["Notify failure"]["Next"] == "Run failed"
    assert states["Run failed"]["Type"] == "Fail"
    # defaults: stages all three, results collected per stage
    assert states["Defaults"]["Result"] == {"stages": ["collect", "score", "publish"], "brands": [], "results": {}}


def test_one_schedule_per_panel(synth) -> None:  # type: ignore[no-untyped-def]
    schedules = synth.resources("AWS::Scheduler::Schedule")
    assert len(schedules) == len(synth.config.panels)
    payload = Capture()
    synth.template.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 6 * * ? *)",
        "ScheduleExpressionTimezone": "Europe/Paris",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Target": Match.object_like({"Input": payload,
                                     "Arn": {"Ref": Match.string_like_regexp("StateMachine")}}),
    })
    assert json.loads(payload.as_string()) == {"panel": "pharma-fr",
                                               "stages": ["collect", "score", "publish"]}


def test_scheduler_role_may_only_start_the_state_machine(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": Match.object_like({"Statement": [Match.object_like({
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}})]})})
    synth.template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": [{"Action": "states:StartExecution", "Effect": "Allow",
                                          "Resource": {"Ref": Match.string_like_regexp("StateMachine")}}],
                           "Version": "2012-10-17"}})


def test_outputs_for_the_trigger(synth) -> None:  # type: ignore[no-untyped-def]
    outputs = synth.json["Outputs"]
    assert {"StateMachineArn", "SiteUrl", "DataBucketName", "XTokenSecretArn"} <= set(outputs)
