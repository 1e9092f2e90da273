"""Query module without a lake on S3 or Athena: transpiling, parameters (the `-- parameters:`
comment, binding, quoting for Athena), printing, the CLI's errors, and athena_query against a fake
Athena client (pagination, header row, failures) and moto's (ExecutionParameters)."""

from __future__ import annotations

import argparse
import io
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.query import (
    Parameter,
    QueryError,
    athena_parameters,
    athena_query,
    bind,
    duckdb_statement,
    format_table,
    lake_tables,
    named_placeholders,
    parameters,
    parse_assignments,
    placeholders,
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


def test_athena_query_sends_execution_parameters_quoted() -> None:
    athena = FakeAthena()
    sql = PARAM_SQL
    athena_query(sql, athena, "wg", "db", sleep=lambda _: None,
                 params={"end_date": "2018-04-30", "panel": "it's-fr"})
    assert athena.started["QueryString"] == sql
    assert athena.started["ExecutionParameters"] == ["'it''s-fr'", "'2018-04-30'", "'2018-04-30'"]
    with pytest.raises(QueryError, match="missing parameter end_date"):
        athena_query(sql, FakeAthena(), "wg", "db", params={"panel": "pharma-fr"})


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


# -- parameters ---------------------------------------------------------------------------------
PARAM_SQL = """-- name: counts
-- description: mentions of a panel over the 2 days ending on end_date
-- parameters: panel (string), end_date (date, YYYY-MM-DD), end_date
SELECT brand_id, day, mentions  -- '?' in a comment is no placeholder
FROM mention_counts
WHERE panel = ? AND brand_id <> '?'
    AND dt BETWEEN date_add('day', -1, CAST(? AS date)) AND CAST(? AS date)
"""


def test_parameters_from_the_header_comment() -> None:
    assert parameters(PARAM_SQL) == [Parameter("panel", "string"), Parameter("end_date", "date"),
                                     Parameter("end_date", "date")]
    assert placeholders(PARAM_SQL) == 3
    assert parameters("SELECT 1") == [] and placeholders("SELECT 1") == 0
    # only the leading comments count
    assert parameters("SELECT 1\n-- parameters: panel (string)\n") == []
    assert parameters("-- parameters: x (STRING), d (date), x\nSELECT 1") == [
        Parameter("x", "string"), Parameter("d", "date"), Parameter("x", "string")]


@pytest.mark.parametrize(("line", "error"), [
    ("panel (text)", "panel: unknown type 'text'"),
    ("panel", "panel has no type"),
    ("panel (string), panel (date)", "panel is both string and date"),
    ("panel string", "cannot read 'panel string'"),
    ("", "cannot read ''"),
])
def test_a_bad_parameters_comment_is_one_line(line: str, error: str) -> None:
    with pytest.raises(QueryError, match=re.escape(error)):
        parameters(f"-- parameters: {line}\nSELECT 1")


def test_bind_names_every_placeholder_in_order() -> None:
    assert bind(PARAM_SQL, {"end_date": "2018-04-30", "panel": "pharma-fr"}) == [
        ("panel", "pharma-fr"), ("end_date", "2018-04-30"), ("end_date", "2018-04-30")]
    assert bind("SELECT 1") == [] and bind("SELECT 1", {}) == []


@pytest.mark.parametrize(("values", "error"), [
    ({"panel": "pharma-fr"}, "missing parameter end_date: this query takes panel, end_date (--param NAME=VALUE)"),
    ({}, "missing parameters panel, end_date: this query takes panel, end_date (--param NAME=VALUE)"),
    ({"panel": "p", "end_date": "2018-04-30", "brand": "x"},
     "unknown parameter brand: this query takes panel, end_date"),
    ({"panel": "p", "end_date": "30/04/2018"}, "parameter end_date: not a date (YYYY-MM-DD): '30/04/2018'"),
    ({"panel": "p", "end_date": "20180430"}, "parameter end_date: not a date (YYYY-MM-DD): '20180430'"),
    ({"panel": "p", "end_date": "2018-02-30"}, "parameter end_date: not a date (YYYY-MM-DD): '2018-02-30'"),
])
def test_bind_refuses_in_one_line(values: dict[str, str], error: str) -> None:
    with pytest.raises(QueryError) as e:
        bind(PARAM_SQL, values)
    assert str(e.value) == error and e.value.exit_code == 2


def test_bind_checks_the_comment_against_the_sql() -> None:
    with pytest.raises(QueryError, match="unknown parameter panel: this query takes no parameters"):
        bind("SELECT 1", {"panel": "x"})
    with pytest.raises(QueryError, match=r"the SQL has 1 \? placeholder but no `-- parameters:` comment"):
        bind("SELECT * FROM scores WHERE panel = ?", {"panel": "x"})
    with pytest.raises(QueryError, match=r"names 2 placeholders, the SQL has 1 \?"):
        bind("-- parameters: panel (string), panel\nSELECT * FROM scores WHERE panel = ?", {"panel": "x"})


def test_athena_parameters_are_quoted_literals() -> None:
    assert athena_parameters([("panel", "pharma-fr"), ("brand_id", "l'oreal"), ("end_date", "2018-04-30")]) == [
        "'pharma-fr'", "'l''oreal'", "'2018-04-30'"]


def test_named_placeholders_bind_by_name_whatever_the_transpiled_order() -> None:
    """Trino's date_add(unit, n, d) is DuckDB's `d + INTERVAL n`: the `?`s swap places."""
    sql = "SELECT * FROM scores WHERE dt = date_add('day', CAST(? AS integer), CAST(? AS date)) AND x = '?'"
    assert to_duckdb(sql).index("CAST(? AS DATE)") < to_duckdb(sql).index("CAST(? AS INT)")
    named = named_placeholders(sql, ["days", "end_date"])
    assert named.endswith("CAST(:days AS integer), CAST(:end_date AS date)) AND x = '?'")
    assert "CAST($end_date AS DATE) + INTERVAL (CAST($days AS INT)) DAY" in to_duckdb(named)
    with pytest.raises(QueryError):
        named_placeholders(sql, ["days"])
    # DuckDB names: one per distinct parameter, never a keyword
    local, values = duckdb_statement(PARAM_SQL, [("from", "p"), ("select", "2018-04-30"), ("select", "2018-04-30")])
    assert "panel = $p0" in local and local.count("$p1") == 2 and values == {"p0": "p", "p1": "2018-04-30"}
    assert duckdb_statement("SELECT 1", []) == ("SELECT 1", None)


def test_query_binds_parameters_locally(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    for k, dt in enumerate((date(2018, 4, 28), date(2018, 4, 29), date(2018, 4, 30))):
        rows = [{"brand_id": "sanofi", "network": "x", "day": dt, "mentions": k}]
        lake.write_partition("mention_counts", "pharma-fr", dt,
                             pa.Table.from_pylist(rows, schema=SCHEMAS["mention_counts"]))
    t = query(PARAM_SQL, lake, params={"panel": "pharma-fr", "end_date": "2018-04-30"})
    assert sorted(r["mentions"] for r in t.to_pylist()) == [1, 2]
    assert query(PARAM_SQL, lake, params={"panel": "pharma-fr", "end_date": "2018-04-28"}).num_rows == 1
    assert query(PARAM_SQL, lake, params={"panel": "x' OR '1'='1", "end_date": "2018-04-30"}).num_rows == 0
    with pytest.raises(QueryError, match="missing parameter"):
        query(PARAM_SQL, lake)


def test_a_parameterised_history_reads_only_its_partitions(tmp_path: Path) -> None:
    """Bound values prune partitions as literals do: the 9 kept days' files, not the 40."""
    lake = Lake(str(tmp_path))
    for k in range(40):
        dt = date(2018, 3, 1) + timedelta(days=k)
        rows = [{"brand_id": f"b{i}", "brand_name": f"B {i}", "leadership": 50.0 + i, "rank": i + 1}
                for i in range(7)]
        lake.write_partition("scores", "pharma-fr", dt, pa.Table.from_pylist(rows, schema=SCHEMAS["scores"]))
    sql = ("-- parameters: brand_id (string), end_date (date), end_date\n"
           "SELECT dt, leadership FROM scores WHERE brand_id = ? "
           "AND dt BETWEEN date_add('day', -8, CAST(? AS date)) AND CAST(? AS date)")
    params = {"brand_id": "b3", "end_date": "2018-04-09"}
    query(sql, lake, params=params)  # imports outside the measure
    before = _rchar()
    assert query(sql, lake, params=params).num_rows == 9
    read = _rchar() - before
    files = list((tmp_path / "scores").rglob("*.parquet"))
    assert read < 0.4 * sum(f.stat().st_size for f in files), read  # 9 + 1 of 40 files, ~25 %


def test_parse_assignments() -> None:
    assert parse_assignments(["panel=pharma-fr", "q=a=b", "empty="]) == {"panel": "pharma-fr", "q": "a=b", "empty": ""}
    with pytest.raises(QueryError, match="--param expects NAME=VALUE, got 'panel'"):
        parse_assignments(["panel"])
    with pytest.raises(QueryError, match="parameter panel given twice"):
        parse_assignments(["panel=a", "panel=b"])


def test_cli_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = Lake(str(tmp_path / "lake"))
    rows = [{"brand_id": "sanofi", "network": "x", "day": date(2018, 4, 29), "mentions": 5}]
    lake.write_partition("mention_counts", "pharma-fr", date(2018, 4, 30),
                         pa.Table.from_pylist(rows, schema=SCHEMAS["mention_counts"]))
    f = tmp_path / "counts.sql"
    f.write_text(PARAM_SQL, encoding="utf-8")
    base = ["query", "--file", str(f), "--lake", lake.uri, "--csv"]
    args = _args([*base, "--param", "end_date=2018-04-30", "--param", "panel=pharma-fr"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == "brand_id,day,mentions\nsanofi,2018-04-29,5\n"
    for extra, error in [
        (["--param", "panel=pharma-fr"], "missing parameter end_date: this query takes panel, end_date"),
        (["--param", "panel=p", "--param", "end_date=2018-04-30", "--param", "brand_id=s"],
         "unknown parameter brand_id: this query takes panel, end_date"),
        (["--param", "panel"], "--param expects NAME=VALUE, got 'panel'"),
        (["--param", "panel=p", "--param", "end_date=tomorrow"], "parameter end_date: not a date"),
    ]:
        args = _args([*base, *extra])
        assert args.func(args) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"barometer: error: {error}") and err.count("\n") == 1
    # a query without parameters is unchanged, and takes none
    args = _args(["query", "SELECT count(*) AS n FROM mention_counts", "--lake", lake.uri, "--csv"])
    assert args.func(args) == 0 and capsys.readouterr().out == "n\n1\n"
    args = _args(["query", "SELECT 1", "--lake", lake.uri, "--param", "panel=x"])
    assert args.func(args) == 2
    assert capsys.readouterr().err == "barometer: error: unknown parameter panel: this query takes no parameters\n"


def test_cli_refuses_a_missing_parameter_before_calling_aws(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    args = _args(["query", PARAM_SQL, "--athena", "--param", "panel=pharma-fr"])
    assert args.func(args) == 2
    assert capsys.readouterr().err.startswith("barometer: error: missing parameter end_date")


def test_cli_athena_passes_execution_parameters(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """moto's Athena keeps the request's ExecutionParameters: read them back from the execution."""
    import boto3
    from moto import mock_aws

    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-3"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        session = boto3.session.Session(region_name="eu-west-3")
        args = _args(["query", PARAM_SQL, "--athena", "--workgroup", "primary", "--database", "db",
                      "--param", "panel=pharma-fr", "--param", "end_date=2018-04-30"])
        assert args.func(args, session=session) == 0
        athena = session.client("athena")
        [qid] = athena.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        assert q["Query"] == PARAM_SQL
        assert q["ExecutionParameters"] == ["'pharma-fr'", "'2018-04-30'", "'2018-04-30'"]
        assert q["QueryExecutionContext"]["Database"] == "db"
        # a query without parameters sends none
        args = _args(["query", "SELECT 1", "--athena", "--workgroup", "primary", "--database", "db"])
        assert args.func(args, session=session) == 0
        ids = athena.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
        other = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids if i != qid]
        assert [o.get("ExecutionParameters") for o in other] == [None]
    capsys.readouterr()
