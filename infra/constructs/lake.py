"""The lake: data bucket, Glue database and tables (from the Arrow schemas), Athena workgroup
with the saved queries, and the panels deployed to the bucket."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from barometer.lake.schemas import PARTITION_KEYS, SCHEMAS, glue_columns, glue_partition_keys
from barometer.query import parameters
from infra.config import StageConfig
from infra.constructs.common import log_group

PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
ATHENA_RESULTS_PREFIX = "athena-results/"
PANELS_PREFIX = "panels/"
RAW_PREFIX = "raw/"
GLUE_COMMENT_MAX = 255


def table_columns(table: str) -> list[dict[str, str]]:
    """Glue columns of a lake table: its Arrow schema minus the partition keys.

    A file may carry a partition key as a column too (`runs` has `panel` and `dt`); Athena
    rejects a table whose columns repeat a partition key, and the values are equal anyway.
    """
    keys = set(PARTITION_KEYS.names)
    return [c for c in glue_columns(table) if c["name"] not in keys]


def projection_parameters(location: str, first_date: str, panels: tuple[str, ...]) -> dict[str, str]:
    """Partition projection: `dt` is every day from the first date to NOW, `panel` the panel ids."""
    return {
        "projection.enabled": "true",
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy-MM-dd",
        "projection.dt.range": f"{first_date},NOW",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "DAYS",
        "projection.panel.type": "enum",
        "projection.panel.values": ",".join(panels),
        "storage.location.template": location + "panel=${panel}/dt=${dt}",
    }


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str
    sql: str
    parameters: tuple[str, ...] = ()  # one per `?`, in order (Athena's console asks for them so)


_META = re.compile(r"^--\s*(name|description|parameters)\s*:\s*(.+?)\s*$", re.IGNORECASE)
DESCRIPTION_MAX = 1024


def saved_queries(queries_dir: Path) -> list[SavedQuery]:
    """queries/*.sql, with `-- name:` / `-- description:` from their leading comments. A query's
    `?` placeholders are named by its `-- parameters:` comment (barometer.query.parameters): the
    description ends with them, in the order Athena's console asks for their values."""
    out = []
    for path in sorted(queries_dir.glob("*.sql")) if queries_dir.is_dir() else []:
        sql = path.read_text(encoding="utf-8")
        meta: dict[str, str] = {}
        comments: list[str] = []
        for line in sql.splitlines():
            if not line.strip():
                continue
            if not line.lstrip().startswith("--"):
                break
            m = _META.match(line.strip())
            if m:
                meta[m.group(1).lower()] = m.group(2)
            else:
                comments.append(line.strip().lstrip("-").strip())
        name = meta.get("name", path.stem)[:128]
        description = meta.get("description") or " ".join(c for c in comments if c) or name
        params = parameters(sql)
        if params:
            listed = ", ".join(p.name + (" (YYYY-MM-DD)" if p.type == "date" else "") for p in params)
            suffix = f" Parameters: {len(params)} values, in order, each in single quotes: {listed}."
            description = description[:DESCRIPTION_MAX - len(suffix)] + suffix
        out.append(SavedQuery(name=name, description=description[:DESCRIPTION_MAX], sql=sql.strip(),
                              parameters=tuple(p.name for p in params)))
    return out


class Lake(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, access_logs: s3.IBucket) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "DataBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="s3/data/",
            lifecycle_rules=[
                # No storage-class transition for raw/: its pages are gzipped JSON of ~4 KB (the
                # demo's largest: 70 KB), and S3 does not transition objects under 128 KB by
                # default; forced, each transition request would cost more than a year of
                # Standard storage for such a page (~100 KB a day for the pharma panel).
                s3.LifecycleRule(id="expire-athena-results", prefix=ATHENA_RESULTS_PREFIX,
                                 expiration=Duration.days(30)),
                s3.LifecycleRule(id="expire-replaced-versions",
                                 noncurrent_version_expiration=Duration.days(30),
                                 abort_incomplete_multipart_upload_after=Duration.days(7)),
            ],
            removal_policy=RemovalPolicy.RETAIN,  # the history is the product
        )
        self.uri = f"s3://{self.bucket.bucket_name}"

        # -- Glue: one database, one table per lake table, generated from the Arrow schemas
        self.database_name = f"opinion_barometer_{config.env_name.replace('-', '_')}"
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description="Opinion Barometer lake: Parquet, Hive partitions panel=/dt=, "
                "partition projection",
            ),
        )
        self.tables: dict[str, glue.CfnTable] = {}
        for table in SCHEMAS:
            location = f"s3://{self.bucket.bucket_name}/{table}/"
            cfn = glue.CfnTable(
                self,
                f"Table-{table}",
                catalog_id=Aws.ACCOUNT_ID,
                database_name=self.database_name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=table,
                    description=f"Lake table {table} (generated from barometer.lake.schemas)",
                    table_type="EXTERNAL_TABLE",
                    parameters={
                        "classification": "parquet",
                        "EXTERNAL": "TRUE",
                        "parquet.compression": "ZSTD",
                        **projection_parameters(location, config.first_date.isoformat(), config.panels),
                    },
                    partition_keys=[glue.CfnTable.ColumnProperty(name=k["name"], type=k["type"])
                                    for k in glue_partition_keys()],
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        columns=[glue.CfnTable.ColumnProperty(name=c["name"], type=c["type"],
                                                              comment=c["comment"][:GLUE_COMMENT_MAX] or None)
                                 for c in table_columns(table)],
                        location=location,
                        input_format=PARQUET_INPUT,
                        output_format=PARQUET_OUTPUT,
                        compressed=True,
                        serde_info=glue.CfnTable.SerdeInfoProperty(
                            serialization_library=PARQUET_SERDE, parameters={"serialization.format": "1"}),
                        stored_as_sub_directories=False,
                    ),
                ),
            )
            cfn.add_resource_dependency(self.database)
            # `${panel}`/`${dt}` are Athena's projection placeholders, not Fn::Sub variables.
            cfn.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E1029"]}})
            self.tables[table] = cfn

        # -- Athena: an enforced workgroup, results encrypted in the bucket, a scan cut-off
        self.workgroup_name = f"opinion-barometer-{config.env_name}"
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.workgroup_name,
            description="Opinion Barometer history queries (engine v3, enforced settings)",
            state="ENABLED",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=config.athena_bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.bucket.bucket_name}/{ATHENA_RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"),
                    expected_bucket_owner=Aws.ACCOUNT_ID,
                ),
            ),
        )
        self.queries: list[athena.CfnNamedQuery] = []
        for i, q in enumerate(saved_queries(config.queries_dir)):
            nq = athena.CfnNamedQuery(
                self, f"Query-{re.sub(r'[^A-Za-z0-9]', '-', q.name)}-{i}",
                database=self.database_name, query_string=q.sql, name=q.name,
                description=q.description, work_group=self.workgroup_name,
            )
            nq.add_resource_dependency(self.workgroup)
            nq.add_resource_dependency(self.database)
            self.queries.append(nq)

        # -- the panels, where the functions read them (panels/<id>.yaml)
        self.panels_deployment = s3deploy.BucketDeployment(
            self,
            "Panels",
            sources=[s3deploy.Source.asset(str(config.panels_dir), exclude=["*", "!*.yaml"])],
            destination_bucket=self.bucket,
            destination_key_prefix=PANELS_PREFIX,
            log_group=log_group(self, "PanelsDeploymentLogs", config),
        )

