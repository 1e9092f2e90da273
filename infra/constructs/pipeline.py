"""The pipeline: dependency layer, the three stage functions, the state machine that chains
them, the daily schedules (one per panel), the X token secret and the Bluesky login secret."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Aws, Duration, RemovalPolicy, SecretValue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from barometer.aws.runtime import BSKY_SECRET_PLACEHOLDER, METRICS_NAMESPACE, X_TOKEN_PLACEHOLDER
from barometer.lake.lease import PREFIX as LEASE_PREFIX
from barometer.lake.schemas import SCHEMAS
from infra.assets import bluesky_layer_zip
from infra.config import StageConfig
from infra.constructs.common import log_group
from infra.constructs.lake import RAW_PREFIX, Lake
from infra.constructs.nag import acknowledge, arn_ref
from infra.constructs.site import Site

STAGES = ("collect", "score", "publish")
RUNTIME = lambda_.Runtime.PYTHON_3_12
SERVICE_NAME = "opinion-barometer"
# Errors worth retrying with backoff: Lambda throttling and transient service failures.
RETRYABLE = [
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
]


@dataclass(frozen=True)
class StageSpec:
    memory_mb: int
    timeout: Duration
    # Lake prefixes the stage writes (it reads the whole lake).
    writes: tuple[str, ...]


# The panel's lease (one run per panel at a time), which every stage takes.
LEASES_PREFIX = f"{LEASE_PREFIX}/"
SPECS: dict[str, StageSpec] = {
    # collect: API pages to raw/, the collector's cursors (and the lease), the collected tables
    "collect": StageSpec(512, Duration.minutes(15), (
        RAW_PREFIX, "state/", "accounts/", "posts/", "mentions/", "mention_counts/", "completeness/",
        "runs/")),
    # score: indicators, scores and topics (pyarrow + the Monte Carlo sensitivity draws)
    "score": StageSpec(3008, Duration.minutes(10), (
        "indicators/", "scores/", "topics/", "runs/", LEASES_PREFIX)),
    # publish: only its runs row in the lake; the site goes to the site bucket
    "publish": StageSpec(1024, Duration.minutes(5), ("runs/", LEASES_PREFIX)),
}
assert all(p.rstrip("/") in SCHEMAS or p in (RAW_PREFIX, "state/", LEASES_PREFIX)
           for s in SPECS.values() for p in s.writes)

# Collection may go on, one invocation per rate-limit window, until the day's deadline (D+2
# 04:00 UTC, ~23 h after the scheduled start: `barometer.collect.GIVE_UP`), then score and
# publish (up to 15 min each, plus waiting for another run's lease, ~41 min at most).
STATE_MACHINE_TIMEOUT = Duration.hours(25)
# A bound on collect invocations per execution (besides the collector's daily deadline): one per
# 15-minute window over a day.
MAX_COLLECT_INVOCATIONS = 96
# Defaults of a run request. `brands` is always present after the merge, so the shape checks
# read an existing path ([] means every brand, as an absent `brands` does).
DEFAULT_INPUT = {"stages": list(STAGES), "brands": [], "results": {}}


class Pipeline(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, lake: Lake, site: Site,
                 alerts: sns.ITopic, alerts_key: kms.IKey) -> None:
        super().__init__(scope, id)
        arch = lambda_.Architecture.ARM_64 if config.architecture == "arm64" else lambda_.Architecture.X86_64
        self.log_groups: list[logs.ILogGroup] = []
        self._secret_and_layer(config, arch)
        self._functions(config, arch, lake, site)
        self._state_machine(config, alerts, alerts_key)
        self._schedules(config)

    # ------------------------------------------------------------------------------------
    def _secret_and_layer(self, config: StageConfig, arch: lambda_.Architecture) -> None:
        # -- the X bearer token and the Bluesky login (JSON: handle + app password): the template
        # holds a placeholder, never a value (nor a random password, which the collector would
        # send and get a bare 401); the collector recognises it and says how to set the secret.
        self.token_secret = self._placeholder_secret(
            "XTokenSecret", "X API v2 bearer token of the collector (set with put-secret-value)",
            X_TOKEN_PLACEHOLDER, "An X API bearer token is issued in the X developer portal")
        self.bsky_secret = self._placeholder_secret(
            "BskySecret", "Bluesky handle and app password of the collector, JSON (set with put-secret-value)",
            BSKY_SECRET_PLACEHOLDER, "A Bluesky app password is created in the account's settings")

        # -- the dependency layer, built (and zipped) without Docker by layers/build_layer.py
        self.layer = lambda_.LayerVersion(
            self,
            "DepsLayer",
            code=lambda_.Code.from_asset(str(config.layer_zip)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[arch],
            description="barometer library + pinned runtime deps (pyarrow, numpy, tweepy, pydantic...)",
            removal_policy=RemovalPolicy.RETAIN,  # old versions stay for rollbacks
        )
        # -- the Bluesky SDK (atproto, cryptography, libipld, httpx...), collect's only: the
        # score and publish functions never import it (build_layer.build_bluesky)
        self.bluesky_layer = lambda_.LayerVersion(
            self,
            "BlueskyLayer",
            code=lambda_.Code.from_asset(str(bluesky_layer_zip(config))),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[arch],
            description="Bluesky SDK for the collect function (atproto and the deps the main layer lacks)",
            removal_policy=RemovalPolicy.RETAIN,  # old versions stay for rollbacks
        )

    def _functions(self, config: StageConfig, arch: lambda_.Architecture, lake: Lake, site: Site) -> None:
        """The three stage functions, each with only the variables its settings read."""
        common = {
            "LAKE_URI": lake.uri,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "LOG_LEVEL": "INFO",
        }
        own = {
            "collect": {"X_TOKEN_SECRET_ARN": self.token_secret.secret_arn,
                        "BSKY_SECRET_ARN": self.bsky_secret.secret_arn},
            "score": {},
            "publish": {"SITE_BUCKET": site.bucket.bucket_name, "SITE_URL": site.url,
                        "DISTRIBUTION_ID": site.distribution.distribution_id},
        }
        self.functions: dict[str, lambda_.Function] = {}
        for stage in STAGES:
            spec = SPECS[stage]
            code_dir = function_dir(config.functions_dir, stage)
            fn = lambda_.Function(
                self,
                f"{stage.capitalize()}Function",
                description=f"Opinion Barometer: {stage} stage",
                runtime=RUNTIME,
                architecture=arch,
                function_name=f"{config.name_prefix}-{stage}",
                handler="handler.handler",
                code=lambda_.Code.from_asset(str(code_dir), exclude=["__pycache__", "*.pyc", "tests"]),
                layers=[self.layer, self.bluesky_layer] if stage == "collect" else [self.layer],
                memory_size=spec.memory_mb,
                timeout=spec.timeout,
                environment={**common, **own[stage]},
                tracing=lambda_.Tracing.ACTIVE,
                log_group=self._log_group(log_group(self, f"{stage.capitalize()}Logs", config,
                                                    name=f"/aws/lambda/{config.name_prefix}-{stage}")),
                # Step Functions retries on its side; an async retry would run a stage twice.
                retry_attempts=0,
            )
            lake.bucket.grant_read(fn)
            for prefix in spec.writes:
                lake.bucket.grant_put(fn, f"{prefix}*")
                lake.bucket.grant_delete(fn, f"{prefix}*")
            self.functions[stage] = fn
            self._acknowledge_function(fn, lake, site, stage)
        self.token_secret.grant_read(self.functions["collect"])
        self.bsky_secret.grant_read(self.functions["collect"])
        site.grant_publish(self.functions["publish"])

    def _state_machine(self, config: StageConfig, alerts: sns.ITopic, alerts_key: kms.IKey) -> None:
        """collect → score → publish, each stage optional."""
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment="Opinion Barometer run: {panel, date?, stages?, brands?} → collect → score → publish",
            definition_body=sfn.DefinitionBody.from_chainable(self._definition(alerts)),
            timeout=STATE_MACHINE_TIMEOUT,
            tracing_enabled=True,
            state_machine_name=config.name_prefix,
            logs=sfn.LogOptions(destination=self._log_group(log_group(
                self, "StateMachineLogs", config, name=f"/aws/vendedlogs/states/{config.name_prefix}")),
                                level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        # The alerts topic is encrypted with a customer key: publishing needs the key too, or
        # "Notify failure" fails and the run's message is lost.
        alerts_key.grant(self.state_machine, "kms:Decrypt", "kms:GenerateDataKey*")
        acknowledge(self.state_machine, "AwsSolutions-IAM5",
                    "Step Functions' X-Ray and log-delivery permissions have no resource-level "
                    "scoping; the Lambda invoke permissions are on the functions and their versions; "
                    "kms:GenerateDataKey* (plain, without-plaintext, pair) is on the alerts key only.",
                    findings=("Resource::*", "Action::kms:GenerateDataKey*",
                              *(f"Resource::{arn_ref(self.functions[s])}:*" for s in STAGES)))

    def _schedules(self, config: StageConfig) -> None:
        """The daily schedules, one per panel."""
        self.schedule_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}),
            description="EventBridge Scheduler: start the Opinion Barometer state machine",
        )
        self.state_machine.grant_start_execution(self.schedule_role)
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        for panel in config.panels:
            self.schedules[panel] = scheduler.CfnSchedule(
                self,
                f"Schedule-{panel}",
                description=f"Daily Opinion Barometer run of panel {panel}",
                schedule_expression=config.schedule,
                schedule_expression_timezone=config.schedule_timezone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state="ENABLED" if config.schedule_enabled else "DISABLED",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=self.state_machine.state_machine_arn,
                    role_arn=self.schedule_role.role_arn,
                    input=json.dumps({"panel": panel, "stages": list(STAGES)}),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=3600, maximum_retry_attempts=3),
                ),
            )

    def _placeholder_secret(self, id: str, description: str, placeholder: str,
                            issued: str) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(self, id, description=description,
                                       secret_string_value=SecretValue.unsafe_plain_text(placeholder),
                                       removal_policy=RemovalPolicy.DESTROY)
        acknowledge(secret, "AwsSolutions-SMG4",
                    f"{issued}; there is no API to rotate it automatically. Rotate by hand with "
                    "put-secret-value.")
        return secret

    def _log_group(self, group: logs.ILogGroup) -> logs.ILogGroup:
        self.log_groups.append(group)
        return group

    def _acknowledge_function(self, fn: lambda_.Function, lake: Lake, site: Site, stage: str) -> None:
        acknowledge(fn, "AwsSolutions-L1",
                    "Python 3.12 on purpose: the layer's binary wheels (pyarrow, numpy, pydantic-core) "
                    "are built and tested for cp312; the runtime moves with the layer, not alone.")
        acknowledge(fn, "AwsSolutions-IAM4",
                    "AWSLambdaBasicExecutionRole only allows writing the function's own logs.",
                    findings=("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                              "AWSLambdaBasicExecutionRole",))
        bucket = arn_ref(lake.bucket)
        findings = ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                    "Action::s3:DeleteObject*", "Action::s3:Abort*", f"Resource::{bucket}/*",
                    "Resource::*"]
        findings += [f"Resource::{bucket}/{p}*" for p in SPECS[stage].writes]
        if stage == "publish":
            findings += [f"Resource::{arn_ref(site.bucket)}/*"]
        acknowledge(fn, "AwsSolutions-IAM5",
                    "Object-level S3 actions need the objects' wildcard (reads: the whole lake; "
                    "writes: only the stage's own table prefixes); X-Ray's PutTraceSegments has no "
                    "resource scoping.", findings=tuple(findings))

    def _definition(self, alerts: sns.ITopic) -> sfn.IChainable:
        def notify(id: str, subject: str) -> tasks.SnsPublish:
            return tasks.SnsPublish(
                self, id, topic=alerts, subject=subject,
                message=sfn.TaskInput.from_object({
                    "execution.$": "$$.Execution.Id", "state_machine.$": "$$.StateMachine.Id",
                    "input.$": "$$.Execution.Input", "state.$": "$"}),
                result_path=sfn.JsonPath.DISCARD,
            )

        # Bad input is notified too: a scheduled or triggered run that never starts must not
        # fail silently.
        bad_notify = notify("Notify bad input", "Opinion Barometer run refused: bad input")
        bad = sfn.Fail(self, "Bad input", error="BadInput",
                       cause="The input needs a string `panel`; `date` a string; `stages` and "
                             "`brands` lists of strings (optional)")
        bad_notify.add_catch(bad, errors=["States.ALL"], result_path="$.notify_error")
        bad_notify.next(bad)
        valid = sfn.Choice(self, "Valid input?")
        defaults = sfn.Pass(self, "Defaults", result=sfn.Result.from_object(DEFAULT_INPUT),
                            result_path="$.defaults")
        merge = sfn.Pass(self, "Merge defaults", parameters={
            "args.$": "States.JsonMerge($.defaults, $$.Execution.Input, false)"}, output_path="$.args")
        # After the merge every key is present, so each rule below reads an existing path
        # (a type test on a missing path is a runtime error), and rules are tried in order.
        shape = sfn.Choice(self, "Valid shape?")
        plan = sfn.Pass(self, "Plan stages", parameters={
            **{f"{s}.$": f"States.ArrayContains($.stages, '{s}')" for s in STAGES},
            "collect_invocations": 1}, result_path="$.plan")
        failure = notify("Notify failure", "Opinion Barometer run failed")
        failed = sfn.Fail(self, "Run failed", error="StageFailed",
                          cause="A stage failed; see the execution history and the notification")
        failure.add_catch(failed, errors=["States.ALL"], result_path="$.notify_error")
        failure.next(failed)
        done = sfn.Succeed(self, "Done")

        has_panel = sfn.Condition.and_(sfn.Condition.is_present("$.panel"),
                                       sfn.Condition.is_string("$.panel"))
        valid.when(has_panel, defaults).otherwise(bad_notify)
        defaults.next(merge).next(shape)
        cond = sfn.Condition
        # Rules are tried in order: each type test reads a path an earlier rule proved present.
        for rule in (cond.is_string("$.stages"),  # "collect,score": ArrayContains would fail
                     cond.not_(cond.is_present("$.stages[0]")),  # [], a number, an object
                     cond.not_(cond.is_string("$.stages[0]")),
                     cond.is_string("$.brands"), cond.is_numeric("$.brands"),
                     cond.is_boolean("$.brands")):
            shape.when(rule, bad_notify)
        date = sfn.Choice(self, "Valid date?")
        date.when(cond.is_string("$.date"), plan).otherwise(bad_notify)
        shape.when(cond.is_present("$.date"), date)
        shape.otherwise(plan)

        following: sfn.IChainable = done
        for stage in reversed(STAGES):
            title = stage.capitalize()
            run = tasks.LambdaInvoke(
                self, f"{title}", lambda_function=self.functions[stage],
                # No `payload`: the task then passes the whole state ({panel, date?, stages,
                # brands?} plus the earlier stages' results, which RunRequest.from_event
                # ignores). `payload=TaskInput.from_json_path_at("$")` with
                # payload_response_only renders `"Parameters": "$"`, a string that hands the
                # function "$" (aws/aws-cdk#34260); tests/infra pins that Parameters is absent.
                payload_response_only=True,
                retry_on_service_exceptions=False,
                result_path=f"$.results.{stage}",
            )
            run.add_retry(errors=RETRYABLE, interval=Duration.seconds(5), max_attempts=5, backoff_rate=2.0,
                          jitter_strategy=sfn.JitterType.FULL, max_delay=Duration.minutes(2))
            # Another execution holds the panel's lease (one run per panel at a time): wait for
            # it (60 s, then x1.5 each time: ~41 min in all) before giving up with a notification.
            run.add_retry(errors=["LeaseBusy"], interval=Duration.seconds(60), max_attempts=8,
                          backoff_rate=1.5, max_delay=Duration.minutes(10))
            run.add_catch(failure, errors=["States.ALL"], result_path="$.error")
            pin = sfn.Pass(self, f"{title} date", input_path=f"$.results.{stage}.dt", result_path="$.date")
            check = sfn.Choice(self, f"{title} ok?")
            status = f"$.results.{stage}.status"
            check.when(sfn.Condition.and_(sfn.Condition.is_present(status),
                                          sfn.Condition.string_equals(status, "failed")), failure)
            check.when(sfn.Condition.is_present(f"$.results.{stage}.dt"), pin)
            check.otherwise(following)
            pin.next(self._collect_loop(run, following) if stage == "collect" else following)
            run.next(check)
            want = sfn.Choice(self, f"{title}?")
            want.when(sfn.Condition.boolean_equals(f"$.plan.{stage}", True), run).otherwise(following)
            following = want
        plan.next(following)
        return valid


    def _collect_loop(self, run: tasks.LambdaInvoke, following: sfn.IChainable) -> sfn.IChainable:
        """Collection carried across invocations: while collect reports work left (it stopped
        for time: its invocation's deadline, or rate-limit windows resetting past it), wait until
        the reported reset and invoke it again on the date's checkpoint (`resume`), up to
        MAX_COLLECT_INVOCATIONS; then the following stages run once."""
        cond = sfn.Condition
        work_left = "$.results.collect.details.work_left"
        more = sfn.Choice(self, "More to collect?")
        wait = sfn.Wait(self, "Wait for the rate-limit reset", time=sfn.WaitTime.timestamp_path(
            "$.results.collect.details.resume_after"))
        count = sfn.Pass(self, "Count collect invocations", parameters={
            "score.$": "$.plan.score", "publish.$": "$.plan.publish", "collect.$": "$.plan.collect",
            "collect_invocations.$": "States.MathAdd($.plan.collect_invocations, 1)"}, result_path="$.plan")
        resume = sfn.Pass(self, "Resume collect", result=sfn.Result.from_boolean(True), result_path="$.resume")
        more.when(cond.and_(cond.is_present(work_left), cond.boolean_equals(work_left, True),
                            cond.is_present("$.results.collect.details.resume_after"),
                            cond.number_less_than("$.plan.collect_invocations", MAX_COLLECT_INVOCATIONS)),
                  wait)
        more.otherwise(following)
        wait.next(count).next(resume).next(run)
        return more


def function_dir(functions_dir: Path, stage: str) -> Path:
    path = functions_dir / stage
    if not (path / "handler.py").is_file():
        raise FileNotFoundError(f"{path}/handler.py is missing: the {stage} function has no code")
    return path
