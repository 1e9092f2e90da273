"""The demo recovers every published figure of the 2018 barometer from the lake, exactly.

The figures are recomputed here with plain SQL over the Parquet files (DuckDB), independently
of the scorer, then compared with what the scorer wrote.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import pytest

W = ("2017-11-01", "2018-04-30")
REF = ("2016-11-01", "2017-04-30")
RUN = "2018-04-30"
REF_END = "2017-04-30"


@pytest.fixture(scope="module")
def db(demo_lake: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in ("accounts", "posts", "mentions", "scores", "indicators", "topics", "runs"):
        con.execute(
            f"create view {t} as select * from read_parquet('{demo_lake}/{t}/**/*.parquet', "
            "hive_partitioning=true, hive_types={'dt': DATE, 'panel': VARCHAR})"
        )
    # Latest observation of each brand post, as of the run date.
    con.execute(f"""
        create view latest_posts as
        select * exclude (rn) from (
          select *, row_number() over (partition by post_id order by observed_at desc) rn
          from posts where dt <= date '{RUN}') where rn = 1""")
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, object]:
    rel = con.sql(sql)
    return {r[0]: r[1] for r in rel.fetchall()}


def posts_in(con: duckdb.DuckDBPyConnection, start: str, end: str) -> dict[str, object]:
    return one(con, f"""select brand_id, count(*) from latest_posts
        where created_at >= timestamp '{start}' and created_at < timestamp '{end}' + interval 1 day
          and kind <> 'repost' and not coalesce(deleted, false) group by 1""")


def followers_at(con: duckdb.DuckDBPyConnection, day: str) -> dict[str, object]:
    return one(con, f"select brand_id, sum(followers) from accounts where dt = date '{day}' group by 1")


def test_posts_over_the_window(db: duckdb.DuckDBPyConnection) -> None:
    posts = posts_in(db, *W)
    assert len(posts) == 7
    assert posts["sanofi"] == 429
    assert sum(posts.values()) / 7 == 207  # type: ignore[arg-type]
    before = posts_in(db, *REF)
    assert round((posts["msd-france"] / before["msd-france"] - 1) * 100) == 98  # type: ignore[operator]


def test_mentions_and_interactions(db: duckdb.DuckDBPyConnection) -> None:
    mentions = one(db, f"""select brand_id, count(distinct post_id) from mentions
        where created_at >= timestamp '{W[0]}' and created_at < timestamp '{W[1]}' + interval 1 day
        group by 1""")
    assert mentions["sanofi"] == 16_559
    ordered = sorted(mentions, key=lambda b: -mentions[b])  # type: ignore[operator]
    assert ordered[:2] == ["sanofi", "msd-france"]
    ratio = mentions["sanofi"] / (sum(mentions.values()) / 7)  # type: ignore[operator,arg-type]
    assert 2.5 <= ratio <= 3.5
    inter = one(db, f"""select brand_id, sum(likes + reposts + replies + quotes) from latest_posts
        where created_at >= timestamp '{W[0]}' and created_at < timestamp '{W[1]}' + interval 1 day
          and kind <> 'repost' and not coalesce(deleted, false) group by 1""")
    assert inter["sanofi"] == 8_341


def test_followers_and_growth(db: duckdb.DuckDBPyConnection) -> None:
    end, ref = followers_at(db, RUN), followers_at(db, REF_END)
    mean = sum(end.values()) / 7  # type: ignore[arg-type]
    assert mean == 6_146
    assert round(end["sanofi"] / mean, 1) == 2.0  # type: ignore[operator]
    growth = {b: end[b] / ref[b] - 1 for b in end}  # type: ignore[operator]
    assert round(growth["msd-france"] * 100) == 313
    assert round(sum(growth.values()) / 7 * 100) == 62


def test_engagement_rate(db: duckdb.DuckDBPyConnection) -> None:
    er = one(db, f"""
        with p as (select brand_id, count(*) n, sum(likes + reposts + replies + quotes) i
                   from latest_posts
                   where created_at >= timestamp '{W[0]}' and created_at < timestamp '{W[1]}' + interval 1 day
                     and kind <> 'repost' and not coalesce(deleted, false) group by 1),
             f as (select brand_id, avg(f) mf from (select brand_id, dt, sum(followers) f from accounts
                   where dt between date '{W[0]}' and date '{W[1]}' group by 1, 2) group by 1)
        select p.brand_id, i / (n * mf) * 100 from p join f using (brand_id)""")
    assert round(sum(er.values()) / 7, 3) == 0.199  # type: ignore[arg-type]
    ind = one(db, f"""select brand_id, value from indicators
        where dt = date '{RUN}' and indicator = 'engagement_rate'""")
    for b, v in er.items():
        assert ind[b] == pytest.approx(v, rel=1e-12)


def test_ranking(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.sql(f"select brand_id, rank, leadership from scores where dt = date '{RUN}' order by rank").fetchall()
    assert [r[1] for r in rows] == list(range(1, 8))
    assert rows[0][0] == "sanofi" and round(rows[0][2]) == 84
    assert rows[1][0] == "msd-france"


def test_topics(db: duckdb.DuckDBPyConnection) -> None:
    fams = dict(db.sql(f"""select source, list(distinct family) from topics
        where dt = date '{RUN}' group by 1""").fetchall())
    assert {"pathologies", "innovation", "causes"} <= set(fams["posts"])
    assert {"industrie", "scandales"} <= set(fams["mentions"])
    top = db.sql(f"""select source, family from topics where dt = date '{RUN}'
        group by 1, 2 order by sum(items) desc""").fetchall()
    first = {}
    for src, fam in top:
        first.setdefault(src, fam)
    assert first["posts"] in {"pathologies", "innovation", "causes"}
    assert first["mentions"] in {"industrie", "scandales"}


def test_every_run_succeeded(db: duckdb.DuckDBPyConnection) -> None:
    bad = db.sql("select stage, dt, status, errors from runs where status not in ('ok')").fetchall()
    assert bad == []
    [(n,)] = db.sql("select count(*) from runs where stage = 'collect'").fetchall()
    # The reference year in one backfill per weekly score's growth reference (26), the months
    # up to the window in one more, then a daily run per day of the window.
    assert n == 26 + 1 + 181


def test_history_has_no_artificial_jump(db: duckdb.DuckDBPyConnection) -> None:
    """Every weekly point has its growth reference (a followers snapshot a year earlier), so
    every indicator is there all along: no point of the history rests on fewer indicators."""
    rows = db.sql("select dt, brand_id, coverage, leadership from scores order by brand_id, dt").fetchall()
    assert len({r[0] for r in rows}) == 26
    assert all(r[2] == 1.0 for r in rows)
    sanofi = [r[3] for r in rows if r[1] == "sanofi"]
    assert max(abs(a - b) for a, b in itertools.pairwise(sanofi)) < 3
    [(n,)] = db.sql(f"""select count(distinct dt) from accounts where dt between date '{REF[0]}'
        and date '{REF_END}'""").fetchall()
    assert n == 26
