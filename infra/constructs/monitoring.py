"""Monitoring: the alerts topic, alarms on the state machine and the functions, a dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.pipeline import STAGES, Pipeline


class Monitoring(Construct):
    """Create it before the pipeline (the state machine notifies its topic), then `watch`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        # A customer-managed key: CloudWatch alarms cannot publish to a topic encrypted with
        # the AWS-managed aws/sns key.
        self.key = kms.Key(self, "AlertsKey", description="Opinion Barometer alerts topic",
                           enable_key_rotation=True)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" is this key
        ))
        self.topic = sns.Topic(self, "Alerts", display_name="Opinion Barometer alerts",
                               master_key=self.key, enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(config.alarm_email))
        self.alarms: list[cw.Alarm] = []

    def _alarm(self, id: str, metric: cw.IMetric, description: str) -> cw.Alarm:
        alarm = cw.Alarm(
            self, id, metric=metric, threshold=1, evaluation_periods=1, datapoints_to_alarm=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING, alarm_description=description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm

    def watch(self, pipeline: Pipeline) -> None:
        period = Duration.minutes(5)
        sm = pipeline.state_machine
        self._alarm("ExecutionsFailed", sm.metric_failed(period=period, statistic="Sum"),
                    "A barometer run (state machine execution) failed")
        self._alarm("ExecutionsTimedOut", sm.metric_timed_out(period=period, statistic="Sum"),
                    "A barometer run (state machine execution) timed out")
        for stage in STAGES:
            fn = pipeline.functions[stage]
            title = stage.capitalize()
            self._alarm(f"{title}Errors", fn.metric_errors(period=period, statistic="Sum"),
                        f"The {stage} function raised errors")
            self._alarm(f"{title}Throttles", fn.metric_throttles(period=period, statistic="Sum"),
                        f"The {stage} function was throttled")

        self.dashboard = cw.Dashboard(self, "Dashboard",
                                      dashboard_name=self.config.global_prefix)
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Runs", width=12, left=[
                sm.metric_started(period=Duration.hours(1), statistic="Sum"),
                sm.metric_succeeded(period=Duration.hours(1), statistic="Sum"),
                sm.metric_failed(period=Duration.hours(1), statistic="Sum"),
                sm.metric_timed_out(period=Duration.hours(1), statistic="Sum"),
            ]),
            cw.AlarmStatusWidget(title="Alarms", width=12, alarms=list(self.alarms)),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Function duration (p95, ms)", width=8, left=[
                pipeline.functions[s].metric_duration(statistic="p95", period=Duration.hours(1))
                for s in STAGES]),
            cw.GraphWidget(title="Function errors", width=8, left=[
                pipeline.functions[s].metric_errors(statistic="Sum", period=Duration.hours(1))
                for s in STAGES]),
            cw.GraphWidget(title="Function throttles", width=8, left=[
                pipeline.functions[s].metric_throttles(statistic="Sum", period=Duration.hours(1))
                for s in STAGES]),
        )
