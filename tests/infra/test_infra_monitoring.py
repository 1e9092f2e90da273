"""Monitoring construct: encrypted SSL-only topic, alarms, dashboard."""

from __future__ import annotations

from aws_cdk.assertions import Match


def test_topic_is_encrypted_and_ssl_only(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    synth.template.has_resource_properties("AWS::SNS::TopicPolicy", {
        "PolicyDocument": Match.object_like({"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])})})
    synth.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_alarms_on_runs_and_each_function(synth) -> None:  # type: ignore[no-untyped-def]
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]
    by_metric: dict[str, int] = {}
    for a in alarms:
        by_metric[a["MetricName"]] = by_metric.get(a["MetricName"], 0) + 1
        assert a["AlarmActions"], "every alarm notifies the topic"
        assert a["TreatMissingData"] == "notBreaching"
    assert by_metric == {"ExecutionsFailed": 1, "ExecutionsTimedOut": 1, "Errors": 3, "Throttles": 3}


def test_dashboard(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    synth.template.has_resource_properties("AWS::CloudWatch::Dashboard", {
        "DashboardName": "opinion-barometer-prod-eu-west-3"})
