"""The lake: partitions replace whole, reads are typed and pruned by date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from barometer.errors import ConfigError
from barometer.lake.schemas import SCHEMAS, glue_columns
from barometer.lake.store import Lake


def _counts(day: date, n: int) -> pa.Table:
    return pa.Table.from_pylist(
        [{"brand_id": f"b{i}", "network": "x", "day": day, "mentions": i} for i in range(n)],
        schema=SCHEMAS["mention_counts"],
    )


def test_rewrite_replaces_partition(tmp_path: Path) -> None:
    lake = Lake(f"file://{tmp_path}")
    d1, d2 = date(2018, 1, 1), date(2018, 1, 2)
    lake.write_partition("mention_counts", "p", d1, _counts(d1, 3))
    lake.write_partition("mention_counts", "p", d2, _counts(d2, 2))
    lake.write_partition("mention_counts", "p", d1, _counts(d1, 4))  # rerun of d1
    t = lake.read("mention_counts", "p")
    assert t.num_rows == 6
    assert lake.read("mention_counts", "p", start=d2).num_rows == 2
    assert lake.read("mention_counts", "p", end=d1).column("dt").to_pylist() == [d1] * 4
    assert lake.partitions("mention_counts", "p") == [d1, d2]
    # no temporary files are left behind
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]


def test_write_casts_to_schema_and_rejects_missing_columns(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    bad = pa.table({"brand_id": ["a"]})
    with pytest.raises(KeyError):
        lake.write_partition("mention_counts", "p", date(2018, 1, 1), bad)
    assert lake.read("mention_counts").num_rows == 0
    assert lake.read("accounts").schema.field("collected_at").type == pa.timestamp("ms")


def test_raw_roundtrip_and_listing(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    lake.put_json_gz("raw/panel=p/dt=2018-01-01/r1/00001-users.json.gz", {"data": [{"id": "1"}]})
    keys = list(lake.list_keys("raw/panel=p"))
    assert keys == ["raw/panel=p/dt=2018-01-01/r1/00001-users.json.gz"]
    assert lake.get_json_gz(keys[0]) == {"data": [{"id": "1"}]}


def test_bad_uri() -> None:
    with pytest.raises(ConfigError, match="scheme must be"):
        Lake("ftp://x/y")


def test_glue_columns_follow_arrow_types() -> None:
    cols = {c["name"]: c["type"] for c in glue_columns("posts")}
    assert cols["mentioned_handles"] == "array<string>"
    assert cols["created_at"] == "timestamp"
    assert cols["likes"] == "bigint"
