"""Files that do not match the lake contract are named with their path: not Parquet, corrupt or
truncated Parquet, Parquet of another schema, files outside a partition; a corrupt gzipped JSON
object (a collector state file, a raw page) too. A lake written before a column existed stays
valid. On a file:// lake, and on S3 (moto server) for the listing and footer reads."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _moto import REGION, client, create_bucket, moto_server
from test_stage_runs_row import PANEL, D, build_lake

from barometer.collect import state as cstate
from barometer.errors import BarometerError
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake, S3Options
from barometer.lake.validate import (
    BadFile,
    LakeContractError,
    check_table,
    check_tables,
    compatible,
    require_valid,
    schema_problems,
    without,
)
from barometer.score import compute

COLLECTED = ("accounts", "posts", "mentions", "mention_counts")


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return build_lake(tmp_path / "lake")


def _part(lake: Lake, table: str, dt: date = D, name: str = "data.parquet") -> Path:
    return Path(lake.partition_path(table, PANEL.id, dt)) / name


def _reasons(bad: list[BadFile]) -> list[tuple[str, str]]:
    return [(b.key, b.reason) for b in bad]


def test_a_lake_written_by_the_stages_is_valid(lake: Lake) -> None:
    assert check_tables(lake, SCHEMAS, PANEL.id) == []
    assert require_valid(lake, COLLECTED, PANEL.id, date(2017, 1, 1), D) == []


def test_stray_text_file_in_a_table_folder_is_named(lake: Lake) -> None:
    Path(lake.path("mentions", "README.txt")).write_text("what this folder holds\n")
    _part(lake, "posts", name="notes.txt").write_text("x")
    bad = check_tables(lake, COLLECTED, PANEL.id)
    assert _reasons(bad) == [
        ("mentions/README.txt", "not a Parquet file (a table folder holds .parquet files only)"),
        (f"posts/panel={PANEL.id}/dt={D}/notes.txt",
         "not a Parquet file (a table folder holds .parquet files only)"),
    ]
    assert bad[0].location == f"{lake.uri}/mentions/README.txt"
    with pytest.raises(LakeContractError) as e:
        require_valid(lake, COLLECTED, PANEL.id)
    msg = str(e.value)
    assert msg.startswith(f"2 lake files do not match the lake contract: {lake.uri}/mentions/README.txt: not a Parquet")
    assert "--skip-bad-files" in msg and "\n" not in msg
    assert isinstance(e.value, BarometerError) and [b.key for b in e.value.bad_files] == [b.key for b in bad]


def test_truncated_and_corrupt_parquet_are_named(lake: Lake) -> None:
    good = _part(lake, "mentions").read_bytes()
    _part(lake, "mentions").write_bytes(good[: len(good) // 2])  # truncated: no footer
    _part(lake, "posts", name="empty.parquet").write_bytes(b"")
    bad = check_tables(lake, COLLECTED, PANEL.id)
    assert [b.key for b in bad] == [f"mentions/panel={PANEL.id}/dt={D}/data.parquet",
                                    f"posts/panel={PANEL.id}/dt={D}/empty.parquet"]
    assert all(b.reason.startswith("not readable as Parquet (") for b in bad)


def test_corrupt_data_page_is_found_by_a_deep_check(lake: Lake) -> None:
    path = _part(lake, "mentions")
    raw = bytearray(path.read_bytes())
    footer_len = int.from_bytes(raw[-8:-4], "little")
    for i in range(8, len(raw) - footer_len - 8):  # scramble the data pages, keep the footer
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))
    assert check_table(lake, "mentions", PANEL.id) == []  # the footer alone looks fine
    deep = check_table(lake, "mentions", PANEL.id, deep=True)
    assert [b.key for b in deep] == [f"mentions/panel={PANEL.id}/dt={D}/data.parquet"]
    assert deep[0].reason.startswith("not readable as Parquet (")


def test_parquet_of_another_table_is_a_wrong_schema(lake: Lake) -> None:
    # a posts file dropped into a mentions partition: valid Parquet, read silently otherwise
    posts = pq.read_table(_part(lake, "posts"))
    pq.write_table(posts, _part(lake, "mentions", name="extra.parquet"))
    bad = check_table(lake, "mentions", PANEL.id)
    assert _reasons(bad) == [(
        f"mentions/panel={PANEL.id}/dt={D}/extra.parquet",
        "wrong schema for table mentions: column(s) not in the schema: account_id, impressions, deleted",
    )]


def test_a_column_of_another_type_is_a_wrong_schema(lake: Lake) -> None:
    t = pq.read_table(_part(lake, "mention_counts"))
    i = t.schema.get_field_index("mentions")
    t = t.set_column(i, "mentions", pa.array([str(v) for v in t["mentions"].to_pylist()]))
    pq.write_table(t, _part(lake, "mention_counts"))
    bad = check_table(lake, "mention_counts", PANEL.id)
    assert _reasons(bad) == [(f"mention_counts/panel={PANEL.id}/dt={D}/data.parquet",
                              "wrong schema for table mention_counts: column mentions is string, expected int64")]


def test_a_file_missing_a_key_column_is_a_wrong_schema(lake: Lake) -> None:
    t = pq.read_table(_part(lake, "mentions")).drop_columns(["post_id"])
    pq.write_table(t, _part(lake, "mentions"))
    assert _reasons(check_table(lake, "mentions", PANEL.id)) == [(
        f"mentions/panel={PANEL.id}/dt={D}/data.parquet",
        "wrong schema for table mentions: missing key column(s): post_id")]


def test_a_lake_written_before_a_column_existed_stays_valid(lake: Lake) -> None:
    for table in COLLECTED:  # files without `network` (read as x) nor other later columns
        t = pq.read_table(_part(lake, table)).drop_columns(["network"])
        pq.write_table(t, _part(lake, table))
    t = pq.read_table(_part(lake, "posts")).drop_columns(["deleted", "impressions"])
    pq.write_table(t, _part(lake, "posts"))
    assert check_tables(lake, COLLECTED, PANEL.id) == []


def test_types_that_read_without_loss_are_compatible() -> None:
    assert compatible(pa.int32(), pa.int64()) and compatible(pa.uint32(), pa.int64())
    assert not compatible(pa.uint64(), pa.int64()) and not compatible(pa.float64(), pa.int64())
    assert compatible(pa.large_string(), pa.string())
    assert compatible(pa.dictionary(pa.int32(), pa.string()), pa.string())
    assert compatible(pa.timestamp("us"), pa.timestamp("ms")) and not compatible(pa.timestamp("ms", "UTC"),
                                                                                  pa.timestamp("ms"))
    assert compatible(pa.list_(pa.field("item", pa.string())), pa.list_(pa.string()))
    assert compatible(pa.large_list(pa.large_string()), pa.list_(pa.string()))
    assert not compatible(pa.list_(pa.int64()), pa.list_(pa.string()))
    assert compatible(pa.date64(), pa.date32()) and not compatible(pa.string(), pa.date32())
    assert schema_problems(SCHEMAS["runs"], "runs") == []


def test_files_outside_the_partitions_are_named(lake: Lake) -> None:
    pq.write_table(pq.read_table(_part(lake, "mentions")), lake.path("mentions", "loose.parquet"))
    Path(lake.path("mentions", f"panel={PANEL.id}", "dt=latest")).mkdir()
    pq.write_table(pq.read_table(_part(lake, "mentions")), lake.path("mentions", f"panel={PANEL.id}", "dt=latest",
                                                                     "data.parquet"))
    pq.write_table(pq.read_table(_part(lake, "mentions")), lake.path("mentions", f"panel={PANEL.id}", "x.parquet"))
    Path(lake.path("mentions", "backup")).mkdir()
    Path(lake.path("mentions", "backup", "old.parquet")).write_bytes(_part(lake, "mentions").read_bytes())
    assert _reasons(check_table(lake, "mentions", PANEL.id)) == [
        ("mentions/backup/old.parquet", "in folder 'backup', not a panel=<id> partition"),
        ("mentions/loose.parquet", "outside any panel=<id>/dt=<date> partition"),
        (f"mentions/panel={PANEL.id}/dt=latest/data.parquet", "in folder 'dt=latest', not a dt=<YYYY-MM-DD> partition"),
        (f"mentions/panel={PANEL.id}/x.parquet", "outside any dt=<date> partition"),
    ]


def test_what_a_read_of_the_panel_never_meets_is_not_checked(lake: Lake) -> None:
    # another panel's partitions, dates outside the range, hidden and temporary files
    other = Path(lake.path("mentions", "panel=other", f"dt={D}"))
    other.mkdir(parents=True)
    (other / "README.txt").write_text("x")
    old = _part(lake, "mentions", dt=date(2017, 1, 1), name="bad.parquet")
    old.parent.mkdir(parents=True)
    old.write_bytes(b"not parquet")
    _part(lake, "mentions", name=".tmp-0123").write_bytes(b"half a file")
    Path(lake.path("mentions", "_SUCCESS")).write_text("")
    assert check_table(lake, "mentions", PANEL.id, start=date(2018, 1, 1)) == []
    assert [b.key for b in check_table(lake, "mentions", PANEL.id)] == [
        f"mentions/panel={PANEL.id}/dt=2017-01-01/bad.parquet"]
    assert check_table(lake, "mentions", PANEL.id, end=date(2016, 12, 31)) == []


def test_skip_bad_files_returns_them_instead_of_raising(lake: Lake) -> None:
    Path(lake.path("mentions", "README.txt")).write_text("x")
    bad = require_valid(lake, COLLECTED, PANEL.id, skip_bad_files=True)
    assert [b.location for b in bad] == [f"{lake.uri}/mentions/README.txt"]


def test_reads_without_the_bad_files_score_them_as_missing(lake: Lake) -> None:
    """Skipped files count as missing: the score equals the one of a lake without them."""
    clean = compute(PANEL, D, lake)
    Path(lake.path("mentions", "README.txt")).write_text("x")
    posts = pq.read_table(_part(lake, "posts"))
    pq.write_table(posts, _part(lake, "mentions", name="extra.parquet"))  # another table's rows
    with pytest.raises(Exception, match=r"README\.txt"):  # pyarrow's own error
        compute(PANEL, D, lake)
    bad = require_valid(lake, COLLECTED, PANEL.id, skip_bad_files=True)
    assert len(bad) == 2
    view = without(lake, bad)
    assert sorted(view.read("mentions", PANEL.id)["post_id"].to_pylist()) == ["m1", "m2", "m3", "m4"]
    skipped = compute(PANEL, D, view)
    assert skipped.result.brand_ids == clean.result.brand_ids
    assert skipped.result.leadership.tolist() == clean.result.leadership.tolist()
    # leaving out a partition's own file leaves that partition's rows out
    mentions_file = f"mentions/panel={PANEL.id}/dt={D}/data.parquet"
    assert without(view, [mentions_file]).read("mentions", PANEL.id).num_rows == 0
    assert without(lake, []) is lake


def test_missing_table_has_no_bad_files(tmp_path: Path) -> None:
    assert check_tables(Lake(str(tmp_path / "none")), COLLECTED, PANEL.id) == []


def test_many_bad_files_are_summed_up_in_one_line(lake: Lake) -> None:
    for i in range(8):
        Path(lake.path("mentions", f"note{i}.txt")).write_text("x")
    with pytest.raises(LakeContractError) as e:
        require_valid(lake, ("mentions",), PANEL.id)
    msg = str(e.value)
    assert msg.startswith("8 lake files do not match the lake contract: ") and "; and 3 more — " in msg
    assert "note4.txt" in msg and "note5.txt" not in msg and len(e.value.bad_files) == 8


# -- gzipped JSON objects: state files and raw pages ---------------------------------------------------
def test_corrupt_state_file_is_named(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    key = f"state/collect/panel={PANEL.id}/dt=2018-04-29.json.gz"
    lake.put_bytes(key, b"\x1f\x8b\x08\x00 not gzip")
    with pytest.raises(LakeContractError) as e:
        cstate.load_before(lake, PANEL.id, D)
    assert str(e.value).startswith(f"{lake.uri}/{key}: not gzipped JSON (")
    lake.put_bytes(key, gzip.compress(b"{not json"))
    with pytest.raises(LakeContractError, match=r"dt=2018-04-29\.json\.gz: not gzipped JSON \(JSONDecodeError: "):
        cstate.load_before(lake, PANEL.id, D)
    # the message says how to recover, and it works: without the file, the state before it is read
    with pytest.raises(LakeContractError) as e2:
        cstate.load_before(lake, PANEL.id, D)
    assert f"(`rm {lake.path(key)}`) and run again" in str(e2.value)
    earlier = f"state/collect/panel={PANEL.id}/dt=2018-04-28.json.gz"
    cstate.save(lake, PANEL.id, date(2018, 4, 28), {**cstate.empty(), "counted": {"alpha": "2018-04-28"}})
    Path(lake.path(key)).unlink()
    assert lake.exists(lake.path(earlier))
    assert cstate.load_before(lake, PANEL.id, D)["counted"] == {"alpha": "2018-04-28"}


def test_truncated_raw_page_is_named(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    key = f"raw/panel={PANEL.id}/dt={D}/run-1/00002-search_recent.json.gz"
    body = gzip.compress(b'{"endpoint": "search_recent", "body": {"data": []}}')
    lake.put_bytes(key, body[: len(body) - 6])
    with pytest.raises(LakeContractError, match=r"00002-search_recent\.json\.gz: not gzipped JSON \(EOFError: "):
        lake.get_json_gz(key)


# -- on S3 --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def s3_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, Any]]:
    with moto_server() as url:
        s3 = client("s3", url)
        create_bucket(s3, "bad-files-lake")
        local = build_lake(tmp_path_factory.mktemp("src") / "lake")
        for f in Path(local.root).rglob("*.parquet"):
            s3.put_object(Bucket="bad-files-lake", Key=f"l/{f.relative_to(local.root)}", Body=f.read_bytes())
        yield Lake("s3://bad-files-lake/l", s3=S3Options(endpoint_url=url, region=REGION, access_key="testing",
                                                         secret_key="testing")), s3


def test_bad_files_on_s3_are_named_with_their_s3_path(s3_lake: tuple[Lake, Any]) -> None:
    lake, s3 = s3_lake
    assert check_tables(lake, COLLECTED, PANEL.id) == []
    s3.put_object(Bucket="bad-files-lake", Key="l/mentions/README.txt", Body=b"x")
    s3.put_object(Bucket="bad-files-lake", Key=f"l/posts/panel={PANEL.id}/dt={D}/cut.parquet", Body=b"PAR1xx")
    bad = check_tables(lake, COLLECTED, PANEL.id)
    assert [(b.location, b.reason.split(" (")[0]) for b in bad] == [
        ("s3://bad-files-lake/l/mentions/README.txt", "not a Parquet file"),
        (f"s3://bad-files-lake/l/posts/panel={PANEL.id}/dt={D}/cut.parquet", "not readable as Parquet"),
    ]
