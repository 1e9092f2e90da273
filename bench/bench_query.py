"""Partition pruning: bytes a 30-day brand-history query reads from a lake holding 2 years.

The lake: 730 days of a 50-brand synthetic panel (`barometer sim generate`) plus 730 dates of
`scores`/`indicators`/`topics`. Two queries, each run by DuckDB in this process:
- `queries/brand_history.sql` (the saved Athena query, transpiled by `barometer.query`) on `scores`;
- a 30-day daily mentions/reach history of one brand on `mentions`, the largest table.

Bytes read = the increase of this process's `rchar` (/proc/self/io: every byte returned by
read/pread, page-cache hits included) across the query, i.e. what DuckDB really fetched from
the Parquet files (footers and the projected column chunks of the partitions it opened). It is
divided by the table's total Parquet bytes. The query runs once before (imports), and the
measured run includes everything `barometer.query.query` does (a new connection, so a cold
cache, views, binding). `barometer.query` turns on DuckDB's file cache for local files (as it
always is for remote ones): DuckDB reads a small file whole to find its footer, and the cache
serves the column reads that follow. The `*_plain_read_pct` figures run the same SQL on a
plain `read_parquet` view without it (each small file read about 1.5 times). The files of the
partitions the dt filter keeps (pyarrow's `get_fragments(filter=...)`) are reported too: the
upper bound without column projection, i.e. what Athena's partition projection alone would
limit a scan to.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from _common import ROOT, args_parser, cached, emit, measure, synth_lake

SCALES = {"full": {"brands": 50, "days": 730, "mentions_per_day": 3000},
          "tiny": {"brands": 5, "days": 60, "mentions_per_day": 100}}
END = date(2025, 6, 30)
TARGET_PCT = 5.0


def rchar() -> int:
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/self/io")


def table_bytes(lake_dir: Path, table: str) -> int:
    return sum(f.stat().st_size for f in (lake_dir / table).rglob("*.parquet"))


def pruned_bytes(lake_dir: Path, table: str, start: date, end: date) -> int:
    import pyarrow as pa
    import pyarrow.dataset as ds

    from barometer.lake.store import Lake

    flt = (ds.field("dt") >= pa.scalar(start, pa.date32())) & (ds.field("dt") <= pa.scalar(end, pa.date32()))
    frags = Lake(str(lake_dir)).dataset(table).get_fragments(filter=flt)
    return sum(Path(f.path).stat().st_size for f in frags)  # type: ignore[attr-defined]


def run_query(sql: str, lake_dir: Path, params: dict[str, str]) -> tuple[int, int]:
    from barometer.lake.store import Lake
    from barometer.query import query

    lake = Lake(str(lake_dir))
    query(sql, lake, params=params)  # imports (sqlglot dialects, DuckDB) done outside the measurement
    before = rchar()
    out = query(sql, lake, params=params)
    return rchar() - before, out.num_rows


def run_plain(sql: str, lake_dir: Path, table: str, params: dict[str, str]) -> tuple[int, int]:
    """The same SQL on a plain `read_parquet` view (hive partitions, DuckDB's defaults), its
    parameters bound as `barometer.query` binds them."""
    import duckdb

    from barometer.query import bind, duckdb_statement

    sql, values = duckdb_statement(sql, bind(sql, params))
    con = duckdb.connect()
    glob = (lake_dir / table / "**" / "*.parquet").as_posix()
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true, "
                "hive_types = {'dt': DATE})")
    con.sql(sql, params=values).fetchall()
    before = rchar()
    rows = len(con.sql(sql, params=values).fetchall())
    return rchar() - before, rows


def main(argv: list[str] | None = None) -> int:
    args = args_parser(__doc__).parse_args(argv)
    scale = SCALES[args.scale]
    base, _ = synth_lake(args.work, **scale, end_date=END, reference_year=False, panel_id="synth")

    def build(path: Path) -> dict[str, Any]:
        import shutil

        from bench_publish import write_scores

        shutil.copytree(base, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".done"))
        return write_scores(path, scale["brands"], scale["days"])

    lake_dir = cached(args.work, f"query-{base.name}", build)  # rebuilt when the base lake changes
    start = END - timedelta(days=29)
    history = (ROOT / "queries" / "brand_history.sql").read_text(encoding="utf-8")
    history_params = {"panel": "synth", "brand_id": "b00003", "end_date": END.isoformat()}
    mentions_sql = f"""
        SELECT dt, count(*) AS mentions, count(DISTINCT author_id) AS authors
        FROM mentions
        WHERE panel = 'synth' AND brand_id = 'b00003'
          AND dt BETWEEN DATE '{start.isoformat()}' AND DATE '{END.isoformat()}'
        GROUP BY dt ORDER BY dt"""
    res: dict[str, Any] = {}
    queries = (("brand_history", "scores", history, history_params),
               ("mentions_history", "mentions", mentions_sql, {}))
    for name, table, sql, params in queries:
        read, rows = run_query(sql, lake_dir, params)
        total = table_bytes(lake_dir, table)
        pruned = pruned_bytes(lake_dir, table, start, END)
        res[f"{name}_read_pct"] = measure(round(100 * read / total, 2), "%", TARGET_PCT,
                                          note=f"{read:,} of {total:,} bytes of `{table}`, {rows} rows")
        plain, _ = run_plain(sql, lake_dir, table, params)
        res[f"{name}_plain_read_pct"] = measure(round(100 * plain / total, 2), "%",
                                                note=f"{plain:,} bytes, plain read_parquet view")
        res[f"{name}_partitions_pct"] = measure(round(100 * pruned / total, 2), "%",
                                                note="files of the partitions the dt filter keeps")
    res["history_days"] = measure(scale["days"], "days")
    emit(res, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
