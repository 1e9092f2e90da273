"""Every saved query in queries/ runs unchanged (Athena SQL, transpiled by sqlglot) through
DuckDB with its parameters (the `?`s its `-- parameters:` comment names) and returns rows: on a
small lake written here, and on the demo lake; none for a panel the lake does not hold. No saved
query is pinned to the demo: no panel id, brand id or date in its text."""

from __future__ import annotations

import importlib.util
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.query import lake_tables, parameters, placeholders, query

REPO = Path(__file__).resolve().parents[2]
QUERIES = sorted((REPO / "queries").glob("*.sql"))
PANEL = "pharma-fr"
BRANDS = ("sanofi", "msd-france")
DATES = [date(2018, 4, 28), date(2018, 4, 29), date(2018, 4, 30)]
DEMO = {"panel": PANEL, "brand_id": "sanofi", "end_date": "2018-04-30"}


def sql_of(name: str) -> str:
    return (REPO / "queries" / f"{name}.sql").read_text(encoding="utf-8")


def params_for(sql: str, **values: str) -> dict[str, str]:
    """The demo's values (or `values`) for the parameters the query names."""
    names = {p.name for p in parameters(sql)}
    return {k: v for k, v in {**DEMO, **values}.items() if k in names}


def _rows(table: str, dt: date) -> list[dict[str, object]]:
    ts = datetime.combine(dt + timedelta(days=1), datetime.min.time()).replace(hour=5)
    w0, w1 = dt - timedelta(days=180), dt
    out: list[dict[str, object]] = []
    for i, b in enumerate(BRANDS):
        base = {"brand_id": b, "network": "x"}
        if table == "accounts":
            out.append({**base, "account_id": str(100 + i), "handle": b, "name": b, "status": "ok",
                        "followers": 12000 // (i + 1) + dt.day, "following": 300, "posts_count": 4000,
                        "listed": 50, "collected_at": ts})
        elif table == "posts":
            for k in range(3):
                out.append({**base, "post_id": f"{i}{k}", "account_id": str(100 + i),
                            "created_at": datetime(2018, 4, 20 + k, 9), "kind": "original",
                            "text": f"post {k} #cancer", "lang": "fr", "likes": 10 * k + dt.day,
                            "reposts": k, "replies": 1, "quotes": 0, "impressions": None,
                            "mentioned_handles": [], "topics": ["cancer"], "deleted": False,
                            "observed_at": ts})
        elif table == "mentions":
            out.append({**base, "post_id": f"m{i}{dt.day}", "author_id": "9", "author_handle": "someone",
                        "author_followers": 40, "created_at": datetime.combine(dt, datetime.min.time()),
                        "kind": "original", "text": f"@{b} prix", "lang": "fr", "likes": 1, "reposts": 0,
                        "replies": 0, "quotes": 0, "mentioned_handles": [b], "topics": ["prices"],
                        "observed_at": ts})
        elif table == "mention_counts":
            for back in range(3):
                out.append({**base, "day": dt - timedelta(days=back), "mentions": 80 - 30 * i + back})
        elif table == "indicators":
            out.append({**base, "indicator": "community", "attribute": "relational",
                        "value": 12000.0 / (i + 1),
                        "transformed": 9.4, "score": 100.0 - 100 * i, "weight": 1 / 24,
                        "contribution": 4.2, "missing": False, "window_start": w0, "window_end": w1})
        elif table == "scores":
            out.append({**base, "brand_name": b.title(), "leadership": 84.0 - 40 * i, "relational": 90.0,
                        "expression": 80.0, "engagement": 82.0, "rank": i + 1, "rank_low": i + 1,
                        "rank_high": i + 2, "rank_prev": i + 1, "coverage": 1.0, "window_start": w0,
                        "window_end": w1, "computed_at": ts})
        elif table == "topics":
            for source in ("posts", "mentions"):
                out.append({**base, "source": source, "topic": "cancer", "family": "pathologies",
                            "items": 12, "share": 0.4, "window_start": w0, "window_end": w1})
    if table == "runs":
        for stage in ("collect", "score", "publish"):
            out.append({"run_id": f"{PANEL}-{dt}-{stage}", "stage": stage, "panel": PANEL, "dt": dt,
                        "started_at": ts, "finished_at": ts + timedelta(seconds=42),
                        "status": "ok", "brands_ok": 2, "brands_failed": 0, "api_requests": 12,
                        "posts_read": 300, "users_read": 20, "cost_usd": 1.7, "errors": []})
    return out


def build_small_lake(root: Path) -> Lake:
    """Three run dates of two brands, every table written through Lake.write_partition."""
    lake = Lake(str(root))
    for dt in DATES:
        for table, schema in SCHEMAS.items():
            lake.write_partition(table, PANEL, dt, pa.Table.from_pylist(_rows(table, dt), schema=schema))
    return lake


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return build_small_lake(tmp_path_factory.mktemp("lake"))


DEMO_NEEDS = ("barometer.pipeline", "barometer.collect", "barometer.score", "barometer.publish",
              "barometer.sim.server", "barometer.sim.world", "barometer.sim.faults")


def _demo_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in DEMO_NEEDS)


@pytest.fixture(params=["small", "demo"])
def lake(request: pytest.FixtureRequest, small_lake: Lake) -> Lake:
    if request.param == "small":
        return small_lake
    if not _demo_available():
        pytest.skip(f"the demo pipeline is not in this tree yet (needs {', '.join(DEMO_NEEDS)})")
    return Lake(str(request.getfixturevalue("demo_lake")))


def test_there_are_saved_queries() -> None:
    names = {p.stem for p in QUERIES}
    assert {"leaderboard_latest", "brand_history", "indicator_trends", "mentions_daily", "top_posts",
            "topics_share", "runs_report", "collection_gaps"} <= names


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_saved_query_has_header(path: Path) -> None:
    sql = path.read_text(encoding="utf-8")
    lines = sql.splitlines()
    assert lines[0] == f"-- name: {path.stem}"
    assert lines[1].startswith("-- description: ") and len(lines[1]) > 30
    assert lake_tables(sql)
    # one name per `?`, in their order; only the parameters the demo values cover
    assert len(parameters(sql)) == placeholders(sql)
    assert {p.name for p in parameters(sql)} <= set(DEMO)
    if placeholders(sql):
        assert lines[2].startswith("-- parameters: ")


def test_most_saved_queries_take_parameters() -> None:
    takes = {p.stem for p in QUERIES if placeholders(p.read_text(encoding="utf-8"))}
    assert takes == {p.stem for p in QUERIES} - {"leaderboard_latest"}  # the latest run of every panel
    types = {p.name: p.type for q in QUERIES for p in parameters(q.read_text(encoding="utf-8"))}
    assert types == {"panel": "string", "brand_id": "string", "end_date": "date"}


def _panel_literals() -> set[str]:
    out: set[str] = set()
    for f in (REPO / "panels").glob("*.yaml"):
        panel = yaml.safe_load(f.read_text(encoding="utf-8"))
        out |= {panel["id"]} | {b["id"] for b in panel["brands"]}
    return out


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_saved_query_is_not_pinned_to_the_demo(path: Path) -> None:
    """Its panel, brands and dates are parameters: no panel or brand id, no date in the text."""
    sql = path.read_text(encoding="utf-8")
    ids = _panel_literals()
    assert {"pharma-fr", "sanofi"} <= ids
    assert not [i for i in ids if i in sql]
    assert not re.search(r"\d{4}-\d{2}-\d{2}", sql) and "DATE '" not in sql.upper()


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_placeholders_only_in_where_clauses(path: Path) -> None:
    """Athena takes execution parameters in WHERE clauses only (its documented limitation)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(path.read_text(encoding="utf-8"), read="trino")
    found = list(tree.find_all(exp.Placeholder))
    assert len(found) == placeholders(path.read_text(encoding="utf-8"))
    assert all(p.find_ancestor(exp.Where) is not None for p in found)


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_saved_query_returns_rows(path: Path, lake: Lake) -> None:
    sql = path.read_text(encoding="utf-8")
    result = query(sql, lake, params=params_for(sql))
    assert result.num_rows >= 1, f"{path.name} returned no rows"


@pytest.mark.parametrize("path", [p for p in QUERIES if p.stem != "leaderboard_latest"], ids=lambda p: p.stem)
def test_saved_query_of_another_panel_returns_nothing(path: Path, lake: Lake) -> None:
    sql = path.read_text(encoding="utf-8")
    assert query(sql, lake, params=params_for(sql, panel="no-such-panel")).num_rows == 0


def test_brand_history_is_the_window_ending_on_end_date(small_lake: Lake) -> None:
    sql = sql_of("brand_history")
    rows = query(sql, small_lake, params=params_for(sql, end_date="2018-04-29")).to_pylist()
    assert [(r["dt"], r["rank"]) for r in rows] == [(date(2018, 4, 28), 1), (date(2018, 4, 29), 1)]
    rows = query(sql, small_lake, params=params_for(sql, brand_id="msd-france")).to_pylist()
    assert [r["rank"] for r in rows] == [2, 2, 2]


def test_collection_gaps_takes_the_latest_collect_run_of_a_date(tmp_path: Path) -> None:
    """Runs keep one row per run: a date collected again has several collect runs, the latest
    (by started_at) gives the day's status, and the day is still one row."""
    lake = build_small_lake(tmp_path / "lake")

    def collect(dt: date, hour: int, status: str) -> dict[str, object]:
        start = datetime.combine(dt + timedelta(days=1), datetime.min.time()).replace(hour=hour)
        return {"run_id": f"{PANEL}-{dt}-collect-{hour}", "stage": "collect", "panel": PANEL, "dt": dt,
                "started_at": start, "finished_at": start + timedelta(seconds=42), "status": status,
                "brands_ok": 2, "brands_failed": 0, "api_requests": 12, "posts_read": 300, "users_read": 20,
                "cost_usd": 1.7, "errors": []}

    # 04-29: failed first (hour 3), rerun ok (hour 9, after the first part's 05:00 run too);
    # 04-30: ok at 05:00, then a failed rerun: the latest says the day is a gap
    lake.write_partition("runs", PANEL, date(2018, 4, 29), pa.Table.from_pylist(
        [collect(date(2018, 4, 29), 3, "failed"), collect(date(2018, 4, 29), 9, "ok")],
        schema=SCHEMAS["runs"]), part="reruns")
    lake.write_partition("runs", PANEL, date(2018, 4, 30), pa.Table.from_pylist(
        [collect(date(2018, 4, 30), 7, "partial")], schema=SCHEMAS["runs"]), part="reruns")
    sql = sql_of("collection_gaps")
    rows = query(sql, lake, params=params_for(sql)).to_pylist()
    assert len(rows) == 30 and len({r["dt"] for r in rows}) == 30
    status = {r["dt"]: (r["collect_status"], r["gap"]) for r in rows}
    assert status[date(2018, 4, 28)] == ("ok", False)
    assert status[date(2018, 4, 29)] == ("ok", False)
    assert status[date(2018, 4, 30)] == ("partial", True)
    assert status[date(2018, 4, 1)] == ("no run", True)
    assert {r["brands_expected"] for r in rows} == {2}


def test_latest_observation_wins(small_lake: Lake) -> None:
    sql = sql_of("mentions_daily")
    t = query(sql, small_lake, params=params_for(sql)).to_pylist()
    by_key = {(r["day"], r["brand_id"]): r["mentions"] for r in t}
    # 2018-04-28 is counted by the runs of the 28th (80), 29th (81) and 30th (82): the last wins.
    assert by_key[(date(2018, 4, 28), "sanofi")] == 82
    assert len(by_key) == len(t)  # one row per day and brand, never one per observation


def test_top_posts_one_row_per_post(small_lake: Lake) -> None:
    sql = sql_of("top_posts")
    rows = query(sql, small_lake, params=params_for(sql)).to_pylist()
    assert len({r["post_id"] for r in rows}) == len(rows) == 6
    assert rows[0]["likes"] == 20 + 30  # the latest observation (dt 2018-04-30) of the best post


def test_leaderboard_is_the_latest_run(small_lake: Lake) -> None:
    sql = sql_of("leaderboard_latest")
    rows = query(sql, small_lake).to_pylist()
    assert [(r["dt"], r["rank"], r["brand_id"]) for r in rows] == [
        (date(2018, 4, 30), 1, "sanofi"), (date(2018, 4, 30), 2, "msd-france")]
