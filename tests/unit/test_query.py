"""Query module without a lake on S3 or Athena: transpiling, printing, the CLI's errors, and
athena_query against a fake Athena client (pagination, header row, failures)."""

from __future__ import annotations

import argparse
import io
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.query import (
    QueryError,
    athena_query,
    format_table,
    lake_tables,
    query,
    register,
    to_duckdb,
    write_csv,
)


def test_glue_database_qualifier_is_dropped_and_dialect_transpiled() -> None:
    sql = ("SELECT date_add('day', -1, dt) AS d, cardinality(errors) "
           "FROM barometer.runs r JOIN scores s ON true")
    out = to_duckdb(sql)
    assert "barometer." not in out and "FROM runs" in out and "ARRAY_LENGTH" in out.upper()
    assert lake_tables(sql) == ["runs", "scores"]


def test_syntax_error_is_one_line() -> None:
    with pytest.raises(QueryError) as e:
        to_duckdb("SELECT FROM WHERE (")
    assert "\n" not in str(e.value) and e.value.exit_code == 2
    with pytest.raises(QueryError, match="one SQL statement"):
        to_duckdb("SELECT 1; SELECT 2")


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(str(tmp_path))
    rows = [{"brand_id": "sanofi", "network": "x", "day": date(2018, 4, 29), "mentions": 5}]
    lake.write_partition("mention_counts", "pharma-fr", date(2018, 4, 30),
                         pa.Table.from_pylist(rows, schema=SCHEMAS["mention_counts"]))
    return lake


def test_query_local_lake_with_partitions(lake: Lake) -> None:
    t = query("SELECT panel, dt, brand_id, mentions FROM barometer.mention_counts", lake)
    assert t.to_pylist() == [
        {"panel": "pharma-fr", "dt": date(2018, 4, 30), "brand_id": "sanofi", "mentions": 5}]
    # a table with no file yet is an empty view with the table's columns
    assert query("SELECT count(*) AS n, max(leadership) AS m FROM scores", lake).to_pylist() == [
        {"n": 0, "m": None}]


def _rchar() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))


def test_a_history_query_reads_each_small_partition_file_once(tmp_path: Path) -> None:
    """A `scores` file is a few KB: DuckDB reads it whole for its footer, and with its file cache
    on (as `barometer.query` sets it) the column reads come from that read, not the disk."""
    lake = Lake(str(tmp_path))
    for k in range(40):
        dt = date(2018, 3, 1) + timedelta(days=k)
        rows = [{"brand_id": f"b{i}", "brand_name": f"B {i}", "leadership": 50.0 + i, "rank": i + 1}
                for i in range(7)]
        lake.write_partition("scores", "pharma-fr", dt, pa.Table.from_pylist(rows, schema=SCHEMAS["scores"]))
    kept = [f for f in (tmp_path / "scores").rglob("*.parquet")
            if "2018-04-01" <= f.parent.name.removeprefix("dt=") <= "2018-04-09"]
    sql = ("SELECT dt, leadership FROM scores WHERE brand_id = 'b3' "
           "AND dt BETWEEN DATE '2018-04-01' AND DATE '2018-04-09'")
    query(sql, lake)  # imports outside the measure
    before = _rchar()
    assert query(sql, lake).num_rows == 9
    read = _rchar() - before
    largest = max(f.stat().st_size for f in (tmp_path / "scores").rglob("*.parquet"))
    # the 9 kept files once, plus one file DuckDB opens to bind the view's schema
    assert read <= 1.1 * (sum(f.stat().st_size for f in kept) + largest), read


def test_unknown_column_is_a_query_error(lake: Lake) -> None:
    with pytest.raises(QueryError, match="query failed"):
        query("SELECT nope FROM mention_counts", lake)


def test_format_table_and_csv() -> None:
    rows = [["sanofi", 84.0, ["cancer", "asthma"]], ["msd", 7.25, []]]
    text = format_table(["brand", "score", "topics"], rows)
    lines = text.splitlines()
    assert lines[0].split() == ["brand", "score", "topics"]
    assert lines[2].startswith("sanofi     84  [cancer, asthma]")
    assert lines[3].startswith("msd      7.25  []") and lines[-1] == "(2 rows)"
    buf = io.StringIO()
    write_csv(["a", "b"], [[1, None], ["x,y", ["p", "q"]]], buf)
    assert buf.getvalue() == 'a,b\n1,\n"x,y","[p, q]"\n'


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="barometer")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_prints_a_table_or_csv(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(["query", "SELECT brand_id, mentions FROM mention_counts", "--lake", lake.uri])
    assert args.func(args) == 0
    assert "sanofi" in capsys.readouterr().out
    args = _args(["query", "SELECT brand_id, mentions FROM mention_counts", "--lake", lake.uri, "--csv"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == "brand_id,mentions\nsanofi,5\n"


def test_cli_sql_error_exit_2_one_line(lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(["query", "SELECT nope FROM mention_counts", "--lake", lake.uri])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("barometer: error: query failed:") and err.count("\n") == 1
    args = _args(["query", "--file", "no/such.sql", "--lake", lake.uri])
    assert args.func(args) == 2


class FakeAthena:
    """StartQueryExecution → QUEUED, RUNNING, SUCCEEDED; results in two pages."""

    def __init__(self, final: str = "SUCCEEDED") -> None:
        self.states = ["QUEUED", "RUNNING", final]
        self.started: dict[str, Any] = {}

    def start_query_execution(self, **kw: Any) -> dict[str, Any]:
        self.started = kw
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        status: dict[str, Any] = {"State": state}
        if state == "FAILED":
            status["StateChangeReason"] = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved\nmore"
        return {"QueryExecution": {"Status": status, "Statistics": {"DataScannedInBytes": 2048}}}

    def get_paginator(self, name: str) -> Any:
        assert name == "get_query_results"
        meta = {"ColumnInfo": [{"Name": "brand_id"}, {"Name": "rank"}]}

        def row(*v: str | None) -> dict[str, Any]:
            return {"Data": [{"VarCharValue": x} if x is not None else {} for x in v]}

        class P:
            def paginate(self, **kw: Any) -> list[dict[str, Any]]:
                pages = [[row("brand_id", "rank"), row("sanofi", "1")], [row("msd-france", None)]]
                return [{"ResultSet": {"ResultSetMetadata": meta, "Rows": rows}} for rows in pages]

        return P()


def test_athena_query_waits_and_pages() -> None:
    athena = FakeAthena()
    sleeps: list[float] = []
    res = athena_query("SELECT brand_id, rank FROM scores", athena, "wg", "db", sleep=sleeps.append)
    assert athena.started == {"QueryString": "SELECT brand_id, rank FROM scores", "WorkGroup": "wg",
                              "QueryExecutionContext": {"Database": "db"}}
    assert res.state == "SUCCEEDED" and res.columns == ["brand_id", "rank"] and len(sleeps) == 2
    assert res.rows == [["sanofi", "1"], ["msd-france", None]] and res.bytes_scanned == 2048


def test_athena_failure_is_one_line() -> None:
    with pytest.raises(QueryError) as e:
        athena_query("SELECT nope FROM scores", FakeAthena("FAILED"), "wg", "db", sleep=lambda _: None)
    assert str(e.value) == (
        "Athena query q-1 failed: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved")


# -- read-only, confined to the lake ----------------------------------------------------------
@pytest.mark.parametrize(("sql", "kind"), [
    ("COPY (SELECT 1) TO '{out}'", "COPY"),
    ("COPY mention_counts TO '{lake}/copied.parquet'", "COPY"),
    ("INSERT INTO mention_counts SELECT * FROM mention_counts", "INSERT"),
    ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ("SELECT * INTO t FROM mention_counts", "SELECT … INTO"),
    ("SET enable_external_access = true", "SET"),
    ("SHOW TABLES", "SHOW"),
])
def test_only_a_select_runs(lake: Lake, tmp_path: Path, sql: str, kind: str) -> None:
    out = tmp_path.parent / "outside.csv"
    with pytest.raises(QueryError) as e:
        query(sql.format(out=out, lake=lake.root), lake)
    assert str(e.value) == f"only a read-only query (SELECT, WITH … SELECT) runs here, not {kind}"
    assert e.value.exit_code == 2
    assert not out.exists() and not (tmp_path / "copied.parquet").exists()


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('{outside}')",
    "SELECT * FROM read_parquet('{lake}/../outside/*.parquet')",
])
def test_duckdb_reads_nothing_outside_the_lake(lake: Lake, tmp_path: Path, sql: str) -> None:
    outside = tmp_path.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("secret", encoding="utf-8")
    with pytest.raises(QueryError, match="Permission Error") as e:
        query(sql.format(outside=outside / "secret.txt", lake=lake.root), lake)
    assert "secret" not in str(e.value).split("Cannot access file")[0]


def test_the_connection_itself_is_confined(lake: Lake, tmp_path: Path) -> None:
    """Below the SQL check: DuckDB writes no file, in the lake or out, and cannot be reconfigured."""
    import duckdb

    from barometer.query import connect

    con = connect(lake, ["mention_counts"])
    try:
        assert con.execute("SELECT count(*) FROM mention_counts").fetchall() == [(1,)]
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.execute(f"COPY (SELECT 1) TO '{tmp_path.parent / 'out.csv'}'")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error):
            con.execute(f"ATTACH '{tmp_path.parent / 'x.db'}'")
    finally:
        con.close()
    assert not (tmp_path.parent / "out.csv").exists() and not (tmp_path.parent / "x.db").exists()


def test_missing_lake_is_an_error_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-lake"
    with pytest.raises(QueryError, match=f"^{missing}: no lake there"):
        query("SELECT count(*) FROM scores", Lake(str(missing)))
    args = _args(["query", "SELECT count(*) FROM scores", "--lake", str(missing)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"barometer: error: {missing}: no lake there") and err.count("\n") == 1
    assert not missing.exists()


def test_binary_sql_file_is_named(lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "q.sql"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    args = _args(["query", "--file", str(f), "--lake", lake.uri])
    assert args.func(args) == 2
    assert capsys.readouterr().err == f"barometer: error: {f}: not UTF-8 text (byte 0): a .sql file is expected\n"


def test_athena_without_boto3_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as in the `make demo` environment
    args = _args(["query", "SELECT 1", "--athena"])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("barometer: error: query --athena needs boto3") and "pip install -e '.[aws]'" in err
    assert err.count("\n") == 1


def test_athena_without_credentials_or_region_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
              "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    args = _args(["query", "SELECT 1", "--athena", "--region", "eu-west-3"])
    assert args.func(args) == 2
    assert capsys.readouterr().err.startswith("barometer: error: query --athena: no AWS credentials found")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    args = _args(["query", "SELECT 1", "--athena"])
    assert args.func(args) == 2
    assert capsys.readouterr().err == ("barometer: error: query --athena: no AWS region: pass --region, "
                                       "or set AWS_REGION\n")
