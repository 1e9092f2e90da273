"""History queries: the same Athena (Trino) SQL in AWS and locally.

Locally DuckDB runs in-process over the lake; each lake table is a view under its Athena name
(`scores`, `posts`...; `barometer.scores` works too), with the Hive partitions `panel` and `dt`
as columns. SQL is written in Athena's dialect and transpiled by sqlglot. A `file://` lake is
read by DuckDB directly; an `s3://` lake through a pyarrow dataset on pyarrow's S3 filesystem
(DuckDB has no httpfs extension here). Locally a query is one SELECT (read-only) and DuckDB
may touch no file outside the lake (`enable_external_access = false`, the lake as its only
`allowed_directories`, configuration locked).

    barometer query "SELECT * FROM scores ORDER BY dt DESC LIMIT 7" [--lake out/lake] [--csv]
    barometer query --file queries/leaderboard_latest.sql --athena [--workgroup W --database D]
    barometer query --file queries/brand_history.sql --param panel=pharma-fr --param brand_id=sanofi \
        --param end_date=2018-04-30

Parameters: a query takes values through positional `?` placeholders (Athena's execution
parameters), named by a header comment listing them in the order of the `?`s, a name repeated
where the same value fills several (`-- parameters: panel (string), end_date (date), end_date`).
Athena puts each execution parameter into the SQL as a literal, so `athena_query` passes them
quoted ('pharma-fr', '2018-04-30'; the SQL casts a date: `CAST(? AS date)`); DuckDB binds the
same values as a prepared statement, by name (the k-th distinct parameter is `$p<k>`), so
sqlglot may reorder a function's arguments and a value fills every `?` of its name.
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from barometer.cliargs import DEFAULT_LAKE, LAKE_ENV, LAKE_HELP, default_lake
from barometer.errors import BarometerError
from barometer.lake.schemas import PARTITION_KEYS, SCHEMAS, TABLES
from barometer.lake.store import Lake, S3Options

__all__ = ["DEFAULT_LAKE", "Parameter", "athena_parameters", "athena_query", "bind", "connect",
           "duckdb_statement", "lake_tables", "named_placeholders", "parameters", "placeholders", "query", "to_duckdb"]
# The stack's names for env_name "prod"; `--athena` reads the actual ones from the stack outputs.
GLUE_DATABASE = "opinion_barometer_prod"
DEFAULT_WORKGROUP = "opinion-barometer-prod"
HIVE_TYPES = "{'panel': 'VARCHAR', 'dt': 'DATE'}"


class QueryError(BarometerError):
    """Bad SQL or a failed query: one line, exit 2."""

    exit_code = 2


# -- SQL ------------------------------------------------------------------------------------
@contextmanager
def _sqlglot_quiet() -> Iterator[None]:
    """sqlglot logs a warning line for SQL it falls back on (`SHOW`, `CALL`…): the error we
    raise for it is the one line the user sees."""
    log = logging.getLogger("sqlglot")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _parse(sql: str) -> Any:
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        with _sqlglot_quiet():
            trees = [t for t in sqlglot.parse(sql, read="trino") if t is not None]
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        where = f" (line {first.get('line')}, col {first.get('col')})" if first.get("line") else ""
        raise QueryError(f"SQL syntax error{where}: {first.get('description') or e}") from None
    if len(trees) != 1:
        raise QueryError(f"expected one SQL statement, got {len(trees)}")
    return trees[0]


def read_only(tree: Any) -> Any:
    """`tree` if it is one query that only reads (SELECT, WITH … SELECT, UNION…), else QueryError:
    no COPY, INSERT, CREATE, SET, ATTACH, PRAGMA, SELECT … INTO."""
    from sqlglot import exp

    if isinstance(tree, exp.Query) and tree.find(exp.Into) is None:
        return tree
    kind = "SELECT … INTO" if isinstance(tree, exp.Query) else str(
        tree.this if isinstance(tree, exp.Command) else tree.key).split()[0].upper()
    raise QueryError(f"only a read-only query (SELECT, WITH … SELECT) runs here, not {kind}")


def lake_tables(sql: str) -> list[str]:
    """The lake tables a query reads."""
    from sqlglot import exp

    tree = _parse(sql)
    return sorted({t.name for t in tree.find_all(exp.Table) if t.name in SCHEMAS})


def to_duckdb(sql: str) -> str:
    """Athena SQL → DuckDB SQL, lake tables unqualified (`barometer.scores` → `scores`).
    Only a read-only query is accepted (`read_only`)."""
    from sqlglot import exp

    tree = read_only(_parse(sql))
    for t in tree.find_all(exp.Table):
        if t.name in SCHEMAS and t.args.get("db") is not None:
            t.set("db", None)
            t.set("catalog", None)
    # Trino's date_add on a DATE is a DATE; DuckDB's `date + INTERVAL` is a TIMESTAMP, and
    # comparing the `dt` partition column with a timestamp disables partition pruning.
    for node in list(tree.find_all(exp.DateAdd, exp.DateSub)):
        arg = node.this
        if isinstance(arg, exp.Cast) and arg.to.is_type(exp.DataType.Type.DATE):
            node.replace(exp.cast(node.copy(), exp.DataType.Type.DATE))
    return str(tree.sql(dialect="duckdb"))


# -- parameters ---------------------------------------------------------------------------------
PARAMETER_TYPES = ("string", "date")
_PARAMETERS_LINE = re.compile(r"^--\s*parameters\s*:(.*)$", re.IGNORECASE)
_PARAMETER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\s*\(\s*([A-Za-z]+)\s*(?:,[^()]*)?\))?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Parameter:
    """A named query parameter: `string` or `date` (YYYY-MM-DD; the SQL casts it)."""

    name: str
    type: str


def parameters(sql: str) -> list[Parameter]:
    """The `-- parameters:` line of the SQL's leading comments: one entry per `?` placeholder,
    in their order. An entry is `name (type)`, or just `name` for a name already typed (the same
    value fills that `?` too); a note may follow the type: `end_date (date, YYYY-MM-DD)`.
    No such line: no parameters."""
    for line in sql.splitlines():
        text = line.strip()
        if not text:
            continue
        if not text.startswith("--"):
            break
        m = _PARAMETERS_LINE.match(text)
        if m:
            return _parse_parameters(m.group(1))
    return []


def _parse_parameters(text: str) -> list[Parameter]:
    items = [i.strip() for i in re.split(r",(?![^()]*\))", text)]
    types: dict[str, str] = {}
    out: list[Parameter] = []
    for item in items:
        m = _PARAMETER.match(item)
        if not m:
            raise QueryError(f"-- parameters: cannot read {item!r} (expected name (type), type one of "
                             f"{', '.join(PARAMETER_TYPES)})")
        name, kind = m.group(1), (m.group(2) or "").lower() or types.get(m.group(1))
        if kind is None:
            raise QueryError(f"-- parameters: {name} has no type (name (type) at its first mention)")
        if kind not in PARAMETER_TYPES:
            raise QueryError(f"-- parameters: {name}: unknown type {kind!r} (one of {', '.join(PARAMETER_TYPES)})")
        if types.setdefault(name, kind) != kind:
            raise QueryError(f"-- parameters: {name} is both {types[name]} and {kind}")
        out.append(Parameter(name, kind))
    return out


def _placeholder_tokens(sql: str) -> list[Any]:
    """The `?` placeholder tokens of the SQL, in order (not those in strings or comments)."""
    from sqlglot.dialects.trino import Trino
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = Trino().tokenize(sql)
    except TokenError as e:
        raise QueryError(f"SQL syntax error: {str(e).splitlines()[0]}") from None
    return [t for t in tokens if t.token_type == TokenType.PLACEHOLDER]


def placeholders(sql: str) -> int:
    """How many `?` placeholders the SQL has."""
    return len(_placeholder_tokens(sql))


def named_placeholders(sql: str, names: Sequence[str]) -> str:
    """The SQL with its `?`s, in order, turned into named placeholders (`:p0`; DuckDB's `$p0`):
    a value then binds by name, wherever a transpiled function puts its argument, and once for
    every `?` it fills. `names` are plain identifiers, not SQL keywords."""
    tokens = _placeholder_tokens(sql)
    if len(tokens) != len(names):
        raise QueryError(f"{len(names)} parameter names for {len(tokens)} ? placeholders")
    for token, name in reversed(list(zip(tokens, names, strict=True))):
        sql = f"{sql[:token.start]}:{name}{sql[token.end + 1:]}"
    return sql


def duckdb_statement(sql: str, bound: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str] | None]:
    """The DuckDB SQL and its named values for Athena SQL with bound parameters: the k-th
    distinct parameter is `$p<k>` (a name that cannot clash with a keyword)."""
    if not bound:
        return to_duckdb(sql), None
    values = dict(bound)
    keys = {name: f"p{i}" for i, name in enumerate(values)}
    return (to_duckdb(named_placeholders(sql, [keys[name] for name, _ in bound])),
            {keys[name]: v for name, v in values.items()})


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` strings (the CLI's `--param`) → {name: value}; a name given twice is an error."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise QueryError(f"--param expects NAME=VALUE, got {pair!r}")
        if name in out:
            raise QueryError(f"parameter {name} given twice")
        out[name] = value
    return out


def bind(sql: str, values: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(name, value) for each of the SQL's `?` placeholders, in order, from named values: each
    parameter of its `-- parameters:` comment given once (a date as YYYY-MM-DD), nothing else.
    QueryError (one line, exit 2) for a missing, unknown or malformed parameter."""
    given = dict(values or {})
    params = parameters(sql)
    count = placeholders(sql)
    if count != len(params):
        if not params:
            raise QueryError(f"the SQL has {count} ? placeholder{'s' if count != 1 else ''} but no "
                             "`-- parameters:` comment naming them")
        raise QueryError(f"the `-- parameters:` comment names {len(params)} placeholders, "
                         f"the SQL has {count} ?")
    names = list(dict.fromkeys(p.name for p in params))
    takes = f"this query takes {', '.join(names)}" if names else "this query takes no parameters"
    unknown = [n for n in given if n not in names]
    if unknown:
        raise QueryError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: {takes}")
    missing = [n for n in names if n not in given]
    if missing:
        raise QueryError(f"missing parameter{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                         f"{takes} (--param NAME=VALUE)")
    for p in params:
        if p.type == "date":
            v = given[p.name]
            try:
                if not _ISO_DATE.match(v):
                    raise ValueError
                given[p.name] = date.fromisoformat(v).isoformat()
            except ValueError:
                raise QueryError(f"parameter {p.name}: not a date (YYYY-MM-DD): {v!r}") from None
    return [(p.name, given[p.name]) for p in params]


def athena_parameters(bound: Sequence[tuple[str, str]]) -> list[str]:
    """Athena's ExecutionParameters for bound values: Athena inserts each into the SQL as it is,
    so a value goes as a quoted string literal (a quote doubled); the SQL casts dates."""
    return [_sql_string(v) for _, v in bound]


# -- local engine -------------------------------------------------------------------------------
def dataset(lake: Lake, table: str) -> ds.Dataset:
    """A pyarrow dataset of a lake table with its partition columns (files may carry them too,
    as `runs` does: the file's own column wins)."""
    schema = SCHEMAS[table]
    keys = [f for f in PARTITION_KEYS if f.name not in schema.names]
    full = pa.schema(list(schema) + keys)
    base = lake.path(table)
    if not lake.exists(base):
        return ds.dataset(full.empty_table())
    return ds.dataset(
        base, schema=full, format="parquet", filesystem=lake.fs,
        partitioning=ds.partitioning(pa.schema(keys), flavor="hive") if keys else None,
        ignore_prefixes=[".", "_"],
    )


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(lake: Lake, tables: Iterable[str] = TABLES, by_name: bool = False) -> Any:
    """An in-memory DuckDB connection with the lake tables as views, confined to the lake: no
    file outside it can be read or written (an s3:// lake: no file at all, its tables are
    registered Arrow datasets), and the configuration is locked so SQL cannot lift that.
    `by_name`: a local table's files are matched by column name (`union_by_name`), so files
    written before a column existed (`network`...) read it as null; it reads every file's
    footer to bind, pruned or not, so it is the fallback, not the default."""
    import duckdb

    con = duckdb.connect()
    # DuckDB reads a small Parquet file whole to find its footer, then reads the columns it
    # needs again; remote files go through its file cache, so the second read is served from
    # memory, local ones do not unless asked. A `scores` file is a few KB (one run of a
    # panel): without the cache a 30-day history read each kept file about 1.5 times.
    con.execute("SET cache_local_files = true")
    if lake.local:
        con.execute(f"SET allowed_directories = [{_sql_string(lake.root.rstrip('/') + '/')}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    for table in tables:
        has_files = any(k.endswith(".parquet") for k in lake.list_keys(table))
        if lake.local and has_files:
            glob = _sql_string(f"{lake.path(table)}/**/*.parquet")
            con.execute(
                f'CREATE VIEW "{table}" AS SELECT * FROM read_parquet({glob}, hive_partitioning = true, '
                f"hive_types = {HIVE_TYPES}{', union_by_name = true' if by_name else ''})"
            )
        else:
            con.register(table, dataset(lake, table))
    return con


def query(sql: str, lake: Lake, engine: str = "duckdb", params: Mapping[str, str] | None = None) -> pa.Table:
    """Run one Athena-dialect SELECT on the lake, in-process; the result as an Arrow table.
    `params`: the values of its named parameters (see `bind`), bound as a prepared statement."""
    if engine != "duckdb":
        raise QueryError(f"engine {engine!r}: only duckdb runs locally (use athena_query in AWS)")
    import duckdb

    local_sql, values = duckdb_statement(sql, bind(sql, params))
    if not lake.exists(lake.root):
        raise QueryError(f"{lake.uri}: no lake there (build one with `barometer demo`, or pass --lake "
                         f"or set {LAKE_ENV})")
    tables = lake_tables(sql)
    try:
        return _execute(lake, tables, local_sql, values, by_name=False)
    except duckdb.Error as e:
        # Files written before a column existed (a lake older than `network`): DuckDB binds the
        # first file's columns and refuses a file that lacks one. Then again, by column name.
        text = str(e)
        if not lake.local or not ("schema mismatch" in text or ("Binder Error" in text and "not found" in text)):
            raise QueryError(f"query failed: {text.splitlines()[0]}") from None
    try:
        return _execute(lake, tables, local_sql, values, by_name=True)
    except duckdb.Error as e:
        raise QueryError(f"query failed: {str(e).splitlines()[0]}") from None


def _execute(lake: Lake, tables: list[str], sql: str, values: dict[str, str] | None, by_name: bool) -> pa.Table:
    con = connect(lake, tables, by_name=by_name)
    try:
        return con.sql(sql, params=values).to_arrow_table()
    finally:
        con.close()


# -- Athena ---------------------------------------------------------------------------------
@dataclass
class AthenaResult:
    query_execution_id: str
    state: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    bytes_scanned: int = 0
    output_location: str | None = None


def athena_query(
    sql: str,
    athena: Any,
    workgroup: str,
    database: str = GLUE_DATABASE,
    wait: bool = True,
    poll: float = 1.0,
    timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
    params: Mapping[str, str] | None = None,
) -> AthenaResult:
    """Run `sql` in an Athena workgroup (StartQueryExecution), wait, page through the results.

    `athena` is a boto3 Athena client; `params` the values of the SQL's named parameters (see
    `bind`), sent as ExecutionParameters. Values come back as Athena returns them: strings.
    """
    request: dict[str, Any] = {"QueryString": sql, "WorkGroup": workgroup,
                               "QueryExecutionContext": {"Database": database}}
    bound = bind(sql, params)
    if bound:
        request["ExecutionParameters"] = athena_parameters(bound)
    qid = athena.start_query_execution(**request)["QueryExecutionId"]
    waited = 0.0
    while True:
        q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        state = q["Status"]["State"]
        if not wait or state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if waited >= timeout:
            raise QueryError(f"Athena query {qid}: still {state} after {timeout:.0f} s")
        sleep(poll)
        waited += poll
    result = AthenaResult(
        query_execution_id=qid, state=state,
        bytes_scanned=int(q.get("Statistics", {}).get("DataScannedInBytes", 0) or 0),
        output_location=q.get("ResultConfiguration", {}).get("OutputLocation"),
    )
    if state in ("FAILED", "CANCELLED"):
        reason = q["Status"].get("StateChangeReason") or state.lower()
        raise QueryError(f"Athena query {qid} {state.lower()}: {reason.splitlines()[0]}")
    if state != "SUCCEEDED":
        return result
    first = True
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        rs = page["ResultSet"]
        if first:
            result.columns = [c["Name"] for c in rs.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
        rows = [[d.get("VarCharValue") for d in r.get("Data", [])] for r in rs.get("Rows", [])]
        if first and rows and rows[0] == result.columns:
            rows = rows[1:]  # a SELECT's first row repeats the column names
        first = False
        result.rows.extend(rows)
    return result


# -- printing ----------------------------------------------------------------------------------
def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".") if abs(v) < 1e15 else f"{v:g}"
    if isinstance(v, datetime | date):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_cell(x) for x in v) + "]"
    return str(v)


def _numeric(values: Sequence[Any]) -> bool:
    present = [v for v in values if v is not None and v != ""]
    if not present:
        return False
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return True
    try:
        [float(v) for v in present]
    except (TypeError, ValueError):
        return False
    return all(isinstance(v, str) for v in present)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An aligned text table (numbers right-aligned) with a row count."""
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    right = [_numeric([r[i] for r in rows]) for i in range(len(columns))]

    def line(vals: Sequence[str]) -> str:
        padded = (v.rjust(w) if r else v.ljust(w) for v, w, r in zip(vals, widths, right, strict=True))
        return "  ".join(padded).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def write_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: Any) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if v is None else (_cell(v) if isinstance(v, list | tuple) else v) for v in r])


def table_rows(table: pa.Table) -> tuple[list[str], list[list[Any]]]:
    cols = table.column_names
    return cols, [[row[c] for c in cols] for row in table.to_pylist()]


# -- CLI ---------------------------------------------------------------------------------------
def register(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "query", help="query the history (Athena SQL; DuckDB locally, or --athena)",
        description="Run one Athena (Trino) SQL query: locally with DuckDB over the lake, or in Athena. "
                    "A query's `?` placeholders are named by its `-- parameters:` comment; give each "
                    "with --param NAME=VALUE.",
    )
    p.add_argument("sql", nargs="?", help="the SQL (or use --file)")
    p.add_argument("--file", type=Path, help="a .sql file, e.g. queries/leaderboard_latest.sql")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter the query's `-- parameters:` comment names, e.g. panel=pharma-fr, "
                        "end_date=2018-04-30 (repeat for each)")
    p.add_argument("--lake", default=default_lake(), help=LAKE_HELP)
    p.add_argument("--csv", action="store_true", help="CSV on stdout instead of a text table")
    p.add_argument("--athena", action="store_true", help="run in Athena instead of locally")
    p.add_argument("--workgroup", default=None,
                   help="Athena workgroup (default: the stack's AthenaWorkGroup output)")
    p.add_argument("--database", default=None,
                   help="Glue database (default: the stack's GlueDatabase output)")
    p.add_argument("--stack", default="OpinionBarometer",
                   help="CloudFormation stack (default OpinionBarometer)")
    p.add_argument("--region", default=None, help="AWS region (default: your AWS configuration)")
    p.add_argument("--endpoint-url", default=None, help=argparse.SUPPRESS)  # a moto server, in tests
    p.set_defaults(func=run_cli)
    return p


def run_cli(args: argparse.Namespace, session: Any = None) -> int:
    try:
        if bool(args.sql) == bool(args.file):
            raise QueryError("give the SQL either as an argument or with --file, not both")
        if args.file:
            try:
                sql = args.file.read_text(encoding="utf-8")
            except OSError as e:
                raise QueryError(f"{args.file}: cannot read ({e.strerror})") from None
            except UnicodeDecodeError as e:
                raise QueryError(f"{args.file}: not UTF-8 text (byte {e.start}): a .sql file is expected") from None
        else:
            sql = args.sql
        params = parse_assignments(args.param)
        bind(sql, params)  # a missing or unknown parameter: before any AWS call or lake read
        if args.athena:
            from barometer.aws.trigger import INSTALL_AWS, NO_CREDENTIALS

            try:
                import boto3
            except ImportError:
                raise QueryError(f"query --athena needs boto3, which this environment lacks: {INSTALL_AWS}") from None
            factory = session or boto3.session.Session(region_name=args.region)
            if session is None and factory.get_credentials() is None:
                raise QueryError(f"query --athena: {NO_CREDENTIALS}")
            if session is None and factory.region_name is None:
                raise QueryError("query --athena: no AWS region: pass --region, or set AWS_REGION")
            kw = {"endpoint_url": args.endpoint_url} if args.endpoint_url else {}
            workgroup, database = args.workgroup, args.database
            if not (workgroup and database):
                from barometer.aws.trigger import stack_outputs

                outputs = stack_outputs(factory.client("cloudformation", **kw), args.stack)
                workgroup = workgroup or outputs.get("AthenaWorkGroup", DEFAULT_WORKGROUP)
                database = database or outputs.get("GlueDatabase", GLUE_DATABASE)
            res = athena_query(sql, factory.client("athena", **kw), workgroup, database, params=params)
            columns, rows = res.columns, list(res.rows)
            note = f"({res.bytes_scanned / 1e6:.1f} MB scanned, query {res.query_execution_id})"
        else:
            s3 = S3Options(endpoint_url=args.endpoint_url) if args.endpoint_url else None
            if args.region and s3 is None:
                s3 = S3Options(region=args.region)
            columns, rows = table_rows(query(sql, Lake(args.lake, s3=s3), params=params))
            note = None
    except BarometerError as e:
        print(f"barometer: error: {e}", file=sys.stderr)
        return e.exit_code
    except Exception as e:  # AWS client errors, lake I/O: one line, never a traceback
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"barometer: error: {msg}", file=sys.stderr)
        return 1
    if args.csv:
        write_csv(columns, rows, sys.stdout)
    else:
        print(format_table(columns, rows))
        if note:
            print(note, file=sys.stderr)
    return 0
