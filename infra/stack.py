"""The one stack: access logs, lake, site, monitoring and the pipeline that ties them."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, DefaultStackSynthesizer, Stack, Tags
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.access import Access
from infra.constructs.lake import Lake
from infra.constructs.logs import AccessLogs
from infra.constructs.monitoring import Monitoring
from infra.constructs.nag import acknowledge, arn_ref
from infra.constructs.pipeline import Pipeline
from infra.constructs.site import Site


class OpinionBarometerStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs,
                         description="Opinion Barometer: X brand metrics → S3 lake → index → static site")
        self.config = config
        Tags.of(self).add("project", "opinion-barometer")
        Tags.of(self).add("stage", config.env_name)

        self.access_logs = AccessLogs(self, "AccessLogs")
        self.lake = Lake(self, "Lake", config=config, access_logs=self.access_logs.bucket)
        self.site = Site(self, "Site", config=config, access_logs=self.access_logs.bucket)
        self.monitoring = Monitoring(self, "Monitoring", config=config)
        self.pipeline = Pipeline(self, "Pipeline", config=config, lake=self.lake, site=self.site,
                                 alerts=self.monitoring.topic, alerts_key=self.monitoring.key)
        self.monitoring.watch(self.pipeline)
        self.access = Access(self, "Access", lake=self.lake, pipeline=self.pipeline)
        self._acknowledge_cdk_helpers()

        CfnOutput(self, "StateMachineArn", value=self.pipeline.state_machine.state_machine_arn)
        CfnOutput(self, "SiteUrl", value=self.site.url)
        CfnOutput(self, "DistributionId", value=self.site.distribution.distribution_id)
        CfnOutput(self, "DataBucketName", value=self.lake.bucket.bucket_name)
        CfnOutput(self, "SiteBucketName", value=self.site.bucket.bucket_name)
        CfnOutput(self, "GlueDatabase", value=self.lake.database_name)
        CfnOutput(self, "AthenaWorkGroup", value=self.lake.workgroup_name)
        CfnOutput(self, "XTokenSecretArn", value=self.pipeline.token_secret.secret_arn)
        CfnOutput(self, "BskySecretArn", value=self.pipeline.bsky_secret.secret_arn)
        CfnOutput(self, "AlertsTopicArn", value=self.monitoring.topic.topic_arn)
        CfnOutput(self, "OperatorsPolicyArn", value=self.access.operators.managed_policy_arn,
                  description="Attach to operators: start and follow runs, read the logs")
        CfnOutput(self, "AnalystsPolicyArn", value=self.access.analysts.managed_policy_arn,
                  description="Attach to analysts: query the history through the Athena workgroup")

    def _acknowledge_cdk_helpers(self) -> None:
        """The singleton function CDK adds at stack level for BucketDeployment (the panels)."""
        for child in self.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                acknowledge(child, "AwsSolutions-L1",
                            "CDK's BucketDeployment handler: its runtime is chosen by aws-cdk-lib.")
                acknowledge(child, "AwsSolutions-IAM5",
                            "CDK's BucketDeployment handler copies the panels from the CDK asset bucket "
                            "into the data bucket: object wildcards on those two buckets only.",
                            findings=("Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*",
                                      "Action::s3:Abort*", "Action::s3:DeleteObject*",
                                      f"Resource::{arn_ref(self.lake.bucket)}/*",
                                      f"Resource::arn:aws:s3:::cdk-{DefaultStackSynthesizer.DEFAULT_QUALIFIER}"
                                      f"-assets-<AWS::AccountId>-{self.config.region}/*"))
                acknowledge(child, "AwsSolutions-IAM4",
                            "CDK's BucketDeployment handler role: basic execution (its own logs) only.",
                            findings=("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                                      "AWSLambdaBasicExecutionRole",))
