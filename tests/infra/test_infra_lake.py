"""Lake construct: data bucket, Glue tables from the Arrow schemas, Athena, panels."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Capture, Match

from barometer.lake.schemas import PARTITION_KEYS, SCHEMAS, glue_type
from barometer.query import parameters, placeholders
from infra.constructs.lake import saved_queries


def test_data_bucket_is_private_encrypted_versioned(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.has_resource_properties("AWS::S3::Bucket", Match.object_like({
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": Match.array_with([
            Match.object_like({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}})])},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "LoggingConfiguration": {"DestinationBucketName": Match.any_value(), "LogFilePrefix": "s3/data/"},
        "LifecycleConfiguration": {"Rules": Match.array_with([
            Match.object_like({"NoncurrentVersionExpiration": {"NoncurrentDays": 30}}),
        ])},
    }))


def test_no_transition_that_could_never_apply(synth) -> None:  # type: ignore[no-untyped-def]
    """raw/ pages are far under S3's 128 KB minimum for transitions: a transition rule on them
    would be dead configuration (and forced, it would cost more than it saves)."""
    for bucket in synth.resources("AWS::S3::Bucket").values():
        for rule in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", []):
            assert "Transitions" not in rule, rule


def test_every_bucket_denies_plain_http(synth) -> None:  # type: ignore[no-untyped-def]
    buckets = synth.resources("AWS::S3::Bucket")
    policies = synth.resources("AWS::S3::BucketPolicy")
    assert len(policies) == len(buckets) == 3  # data, site, access logs
    synth.template.all_resources_properties("AWS::S3::BucketPolicy", {
        "PolicyDocument": Match.object_like({"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])})})


def test_glue_tables_equal_the_arrow_schemas(synth) -> None:  # type: ignore[no-untyped-def]
    tables = {t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"]
              for t in synth.resources("AWS::Glue::Table").values()}
    assert sorted(tables) == sorted(SCHEMAS)
    keys = [(f.name, glue_type(f.type)) for f in PARTITION_KEYS]
    for name, schema in SCHEMAS.items():
        t = tables[name]
        assert [(k["Name"], k["Type"]) for k in t["PartitionKeys"]] == keys
        assert keys == [("panel", "string"), ("dt", "date")]
        columns = [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]]
        # every Arrow field, in order, except the partition keys a file may repeat (runs)
        expected = [(f.name, glue_type(f.type)) for f in schema if f.name not in PARTITION_KEYS.names]
        assert columns == expected, name
        comments = [c.get("Comment") for c in t["StorageDescriptor"]["Columns"]]
        assert all(comments), f"{name}: every column is documented"


def test_glue_tables_are_parquet_with_partition_projection(synth) -> None:  # type: ignore[no-untyped-def]
    location = Capture()
    template = Capture()
    synth.template.has_resource_properties("AWS::Glue::Table", {
        "TableInput": Match.object_like({
            "Name": "scores",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": Match.object_like({
                "classification": "parquet",
                "projection.enabled": "true",
                "projection.dt.type": "date",
                "projection.dt.format": "yyyy-MM-dd",
                "projection.dt.range": "2016-11-01,NOW",
                "projection.dt.interval": "1",
                "projection.dt.interval.unit": "DAYS",
                "projection.panel.type": "enum",
                "projection.panel.values": ",".join(synth.config.panels),
                "storage.location.template": template,
            }),
            "StorageDescriptor": Match.object_like({
                "Location": location,
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "SerdeInfo": Match.object_like({
                    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}),
            }),
        }),
    })
    joined = "".join(p if isinstance(p, str) else "<bucket>" for p in template.as_object()["Fn::Join"][1])
    assert joined == "s3://<bucket>/scores/panel=${panel}/dt=${dt}"
    assert "".join(p if isinstance(p, str) else "<bucket>"
                   for p in location.as_object()["Fn::Join"][1]) == "s3://<bucket>/scores/"


def test_athena_workgroup_is_enforced_encrypted_and_capped(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.has_resource_properties("AWS::Athena::WorkGroup", {
        "Name": "opinion-barometer-prod",
        "WorkGroupConfiguration": Match.object_like({
            "EnforceWorkGroupConfiguration": True,
            "BytesScannedCutoffPerQuery": synth.config.athena_bytes_scanned_cutoff,
            "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
            "ResultConfiguration": Match.object_like({
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
                "OutputLocation": Match.object_like({"Fn::Join": Match.array_with([
                    Match.array_with(["/athena-results/"])])}),
            }),
        }),
    })


def test_saved_queries_are_named_queries(synth) -> None:  # type: ignore[no-untyped-def]
    queries = saved_queries(synth.config.queries_dir)
    named = synth.resources("AWS::Athena::NamedQuery")
    assert sorted(q["Properties"]["Name"] for q in named.values()) == sorted(q.name for q in queries)
    for q in named.values():
        assert q["Properties"]["WorkGroup"] == "opinion-barometer-prod"
        assert q["Properties"]["Database"] == "opinion_barometer_prod"


def test_named_queries_carry_the_parameterised_sql(synth) -> None:  # type: ignore[no-untyped-def]
    """Each named query is its file's SQL, `?` placeholders included (Athena's console asks for
    their values when it runs one), and its description lists them in order."""
    files = {p.stem: p.read_text(encoding="utf-8") for p in synth.config.queries_dir.glob("*.sql")}
    named = {q["Properties"]["Name"]: q["Properties"] for q in synth.resources("AWS::Athena::NamedQuery").values()}
    assert set(named) == set(files)
    with_params = 0
    for name, props in named.items():
        sql = files[name]
        assert props["QueryString"] == sql.strip()
        params = parameters(sql)
        assert len(params) == placeholders(sql) == placeholders(props["QueryString"])
        if params:
            with_params += 1
            assert "?" in props["QueryString"] and "pharma-fr" not in props["QueryString"]
            assert props["Description"].endswith(
                f"Parameters: {len(params)} values, in order, each in single quotes: "
                + ", ".join(p.name + (" (YYYY-MM-DD)" if p.type == "date" else "") for p in params) + ".")
            assert len(props["Description"]) <= 1024
    assert with_params == len(files) - 1  # all but leaderboard_latest


def test_saved_query_parameters_in_the_description(tmp_path: Path) -> None:
    (tmp_path / "h.sql").write_text(
        "-- name: h\n-- description: " + "x" * 1100 + "\n-- parameters: panel (string), end_date (date), end_date\n"
        "SELECT * FROM scores WHERE panel = ? AND dt BETWEEN CAST(? AS date) AND CAST(? AS date)\n")
    [q] = saved_queries(tmp_path)
    assert q.parameters == ("panel", "end_date", "end_date")
    assert len(q.description) == 1024 and q.description.startswith("xxx")
    assert q.description.endswith(
        "Parameters: 3 values, in order, each in single quotes: panel, end_date (YYYY-MM-DD), end_date (YYYY-MM-DD).")


def test_saved_query_metadata_from_comments(tmp_path: Path) -> None:
    (tmp_path / "b.sql").write_text("-- name: Leaderboard\n-- description: Latest ranks\nSELECT 1\n")
    (tmp_path / "a_history.sql").write_text("-- Weekly history of a brand\nSELECT 2\n")
    got = saved_queries(tmp_path)
    assert [(q.name, q.description) for q in got] == [
        ("a_history", "Weekly history of a brand"), ("Leaderboard", "Latest ranks")]
    assert got[1].sql.endswith("SELECT 1")


def test_panels_deployed_under_panels_prefix(synth) -> None:  # type: ignore[no-untyped-def]
    synth.template.has_resource_properties("Custom::CDKBucketDeployment", Match.object_like({
        "DestinationBucketKeyPrefix": "panels/", "Prune": True}))
