"""Who may do what: two managed policies to attach to people (IAM users, roles or IAM Identity
Center permission sets), least privilege on this stack's resources only.

- operators: start, follow and stop runs of this state machine; read the functions' and the
  state machine's logs; read the stack's outputs (where `barometer trigger` finds the ARN).
- analysts: query the lake through this Athena workgroup only: the Glue catalog of this
  database, the lake's tables (not `raw/` API pages, not `state/` cursors, not the panels),
  and their own query results.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from barometer.lake.schemas import SCHEMAS
from infra.constructs.lake import ATHENA_RESULTS_PREFIX, Lake
from infra.constructs.nag import acknowledge, arn_ref
from infra.constructs.pipeline import Pipeline


class Access(Construct):
    def __init__(self, scope: Construct, id: str, *, lake: Lake, pipeline: Pipeline) -> None:
        super().__init__(scope, id)
        self.operators = iam.ManagedPolicy(
            self, "Operators", description="Opinion Barometer operators: run the pipeline, read its logs",
            statements=self._operator_statements(pipeline))
        self.analysts = iam.ManagedPolicy(
            self, "Analysts", description="Opinion Barometer analysts: query the lake's history in Athena",
            statements=self._analyst_statements(lake))
        # Executions, log streams, table objects and query results are created at run time:
        # their ARNs can only be named by a wildcard under this stack's own resources. cdk-nag
        # renders those wildcards with tokens; the synth prints any finding not acknowledged.
        region = "arn:<AWS::Partition>:{}:<AWS::Region>:<AWS::AccountId>"
        acknowledge(self.operators, "AwsSolutions-IAM5",
                    "Wildcards only under this state machine's executions and these log groups' streams.",
                    findings=(f"Resource::{region.format('states')}:execution:"
                              f"{arn_ref(pipeline.state_machine, 'Name')}:*",
                              *(f"Resource::{arn_ref(g)}:*" for g in pipeline.log_groups)))
        bucket = arn_ref(lake.bucket)
        acknowledge(self.analysts, "AwsSolutions-IAM5",
                    "Wildcards only under the lake's table prefixes (never raw/ or state/), the "
                    "workgroup's results prefix and this Glue database's tables.",
                    findings=(*(f"Resource::{bucket}/{t}/*" for t in SCHEMAS),
                              f"Resource::{bucket}/{ATHENA_RESULTS_PREFIX}*",
                              f"Resource::{region.format('glue')}:table/{lake.database_name}/*"))

    @staticmethod
    def _operator_statements(pipeline: Pipeline) -> list[iam.PolicyStatement]:
        sm = pipeline.state_machine
        executions = (f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:execution:"
                      f"{sm.state_machine_name}:*")
        groups = [g.log_group_arn for g in pipeline.log_groups]
        return [
            iam.PolicyStatement(sid="RunThePipeline", actions=[
                "states:StartExecution", "states:ListExecutions", "states:DescribeStateMachine"],
                resources=[sm.state_machine_arn]),
            iam.PolicyStatement(sid="FollowRuns", actions=[
                "states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"],
                resources=[executions]),
            iam.PolicyStatement(sid="ReadLogs", actions=[
                "logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams", "logs:StartLiveTail"],
                resources=[*groups, *(f"{g}:*" for g in groups)]),
            iam.PolicyStatement(sid="ReadStackOutputs", actions=["cloudformation:DescribeStacks"],
                                resources=[Stack.of(sm).stack_id]),
        ]

    @staticmethod
    def _analyst_statements(lake: Lake) -> list[iam.PolicyStatement]:
        bucket = lake.bucket
        catalog = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        workgroup = f"arn:{Aws.PARTITION}:athena:{Aws.REGION}:{Aws.ACCOUNT_ID}:workgroup/{lake.workgroup_name}"
        readable = [f"{t}/" for t in SCHEMAS]
        return [
            iam.PolicyStatement(sid="QueryInThisWorkgroup", actions=[
                "athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
                "athena:GetQueryResults", "athena:GetWorkGroup", "athena:ListNamedQueries",
                "athena:GetNamedQuery", "athena:BatchGetNamedQuery", "athena:ListQueryExecutions",
                "athena:CreatePreparedStatement", "athena:GetPreparedStatement",
                "athena:DeletePreparedStatement"],
                resources=[workgroup]),
            iam.PolicyStatement(sid="ReadThisCatalog", actions=[
                "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
                "glue:GetPartitions"],
                resources=[f"{catalog}:catalog", f"{catalog}:database/{lake.database_name}",
                           f"{catalog}:table/{lake.database_name}/*"]),
            iam.PolicyStatement(sid="ListTheTables", actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                                conditions={"StringLike": {"s3:prefix": [*readable, *(f"{p}*" for p in readable),
                                                                         f"{ATHENA_RESULTS_PREFIX}*"]}}),
            iam.PolicyStatement(sid="LocateTheBucket", actions=["s3:GetBucketLocation"],
                                resources=[bucket.bucket_arn]),
            iam.PolicyStatement(sid="ReadTheTables", actions=["s3:GetObject"],
                                resources=[bucket.arn_for_objects(f"{p}*") for p in readable]),
            iam.PolicyStatement(sid="OwnQueryResults", actions=[
                "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=[bucket.arn_for_objects(f"{ATHENA_RESULTS_PREFIX}*")]),
        ]
