"""`CachedLake`: a series of scores reads each collected file once, and gets exactly what the
files give: the same rows in the same order, in the same chunks with the same dictionaries
(what the scorer computes from dictionary chunks depends on them, down to the last bit).

The lake is small and handmade: two networks (X's part and Bluesky's part of each partition),
posts created before the window, files whose footer statistics rule a network filter out, a
panel of its own beside another panel's files.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from barometer.config import parse_panel
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import CachedLake, Lake, network_is
from barometer.score import compute_all, indicators_table, run_score
from barometer.score.networks import COLLECTED, NetworkLake

PANEL = parse_panel({
    "id": "cache-panel", "name": "Cache",
    "scoring": {"window_days": 7, "growth_reference": "previous", "sensitivity_draws": 20},
    "brands": [
        {"id": "alpha", "name": "Alpha",
         "accounts": [{"network": "x", "handle": "alpha"}, {"network": "bluesky", "handle": "alpha.bsky.social"}],
         "mentions": {"x": "alpha", "bluesky": {"q": "alpha"}}},
        {"id": "beta", "name": "Beta", "accounts": [{"handle": "beta"}], "mention_query": "beta"},
    ],
})
START = date(2026, 4, 1)
DAYS = 14
DICT = ("brand_id", "mentioned_handles")


def _at(d: date, hour: int = 5) -> datetime:
    return datetime(d.year, d.month, d.day, hour)


def _write(lake: Lake, table: str, dt: date, rows: list[dict], part: str = "data", panel: str = PANEL.id) -> None:
    schema = SCHEMAS[table]
    lake.write_partition(table, panel, dt, pa.Table.from_pylist(
        [{n: r.get(n) for n in schema.names} for r in rows], schema=schema), part=part)


def _day(lake: Lake, i: int) -> None:
    d = START + timedelta(days=i)
    _write(lake, "accounts", d, [
        {"brand_id": "alpha", "network": "x", "account_id": "1", "handle": "alpha", "status": "ok",
         "followers": 100 + i, "collected_at": _at(d)},
        {"brand_id": "beta", "network": "x", "account_id": "2", "handle": "beta", "status": "ok",
         "followers": 300 - i, "collected_at": _at(d)}])
    _write(lake, "accounts", d, [
        {"brand_id": "alpha", "network": "bluesky", "account_id": "did:plc:a", "handle": "alpha.bsky.social",
         "status": "ok", "followers": 40 + 2 * i, "collected_at": _at(d)}], part="bluesky")
    # A day's posts, and the refresh of the posts of the three days before (some created
    # before a window: a file partly in it).
    posts = [{"post_id": str(1000 + 10 * j + k), "brand_id": ("alpha", "beta")[k % 2], "network": "x",
              "account_id": ("1", "2")[k % 2], "created_at": _at(START + timedelta(days=j), 9 + k),
              "kind": "repost" if k == 2 else "original", "text": f"post {j} {k} cancer",
              "likes": j + k + i, "reposts": k, "replies": 0, "quotes": 0,
              "mentioned_handles": [["beta"], ["alpha", "gamma"], []][k], "observed_at": _at(d, 6)}
             for j in range(max(0, i - 3), i + 1) for k in range(3)]
    _write(lake, "posts", d, posts)
    _write(lake, "posts", d, [
        {"post_id": f"at://did:plc:a/app.bsky.feed.post/{j}", "brand_id": "alpha", "network": "bluesky",
         "account_id": "did:plc:a", "created_at": _at(START + timedelta(days=j), 11), "kind": "original",
         "text": "diabète", "likes": 2 * j + i, "mentioned_handles": ["beta"], "observed_at": _at(d, 6)}
        for j in range(max(0, i - 2), i + 1)], part="bluesky")
    _write(lake, "mentions", d, [
        {"post_id": str(5000 + 10 * i + k), "brand_id": ("alpha", "beta")[k % 2], "network": "x",
         "author_id": str(700 + (i * k) % 5), "author_handle": f"fan{(i * k) % 5}", "author_followers": 3,
         "created_at": _at(d, 10 + k), "kind": "original", "text": "vaccin", "likes": k,
         "mentioned_handles": [["alpha"], ["beta", "alpha"], ["beta"]][k], "topics": ["vaccination"],
         "observed_at": _at(d, 6)} for k in range(3)])
    if i % 3:  # some days without a Bluesky mention: files of the date range with no row left
        _write(lake, "mentions", d, [
            {"post_id": f"at://did:plc:u{i}/app.bsky.feed.post/m", "brand_id": "alpha", "network": "bluesky",
             "author_id": f"did:plc:u{i % 4}", "author_handle": f"u{i % 4}.bsky.social", "created_at": _at(d, 12),
             "kind": "original", "text": "alpha cancer", "mentioned_handles": ["alpha.bsky.social"],
             "observed_at": _at(d, 6)}], part="bluesky")
    _write(lake, "mention_counts", d, [{"brand_id": b, "network": "x", "day": d, "mentions": 3 + i}
                                       for b in ("alpha", "beta")])
    _write(lake, "completeness", d, [
        {"brand_id": b, "network": "x", "source": s, "day": d, "status": "complete", "recorded_at": _at(d)}
        for b in ("alpha", "beta") for s in ("profiles", "posts", "mentions", "counts")])


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(str(tmp_path / "lake"))
    for i in range(DAYS):
        _day(lake, i)
    # Another panel's files: never read for this one.
    _write(lake, "posts", START, [{"post_id": "9", "brand_id": "alpha", "network": "x",
                                   "created_at": _at(START), "observed_at": _at(START)}], panel="other")
    return lake


def same_chunks(a: pa.Table, b: pa.Table) -> None:
    """Equal schemas, and each column in the same chunks, with the same dictionaries."""
    assert a.schema == b.schema
    for name in a.column_names:
        ca, cb = a[name], b[name]
        assert [len(c) for c in ca.chunks] == [len(c) for c in cb.chunks], name
        for x, y in zip(ca.chunks, cb.chunks, strict=True):
            assert x.equals(y), name
            for dx, dy in zip(_dictionaries(x), _dictionaries(y), strict=True):
                assert dx.equals(dy), name


def _dictionaries(arr: pa.Array) -> list[pa.Array]:
    if pa.types.is_dictionary(arr.type):
        return [arr.dictionary]
    if pa.types.is_list(arr.type):
        return _dictionaries(arr.values)
    return []


def _created(lo: date, hi: date) -> ds.Expression:
    return (ds.field("created_at") >= pa.scalar(_at(lo, 0), pa.timestamp("ms"))) & (
        ds.field("created_at") < pa.scalar(_at(hi + timedelta(days=1), 0), pa.timestamp("ms")))


READS = [
    ("posts", START + timedelta(days=5), START + timedelta(days=11), None, None, DICT),
    ("posts", START + timedelta(days=5), START + timedelta(days=11), ["post_id", "brand_id", "mentioned_handles"],
     _created(START + timedelta(days=5), START + timedelta(days=11)), DICT),
    ("posts", START + timedelta(days=5), START + timedelta(days=11), ["brand_id", "likes", "dt"],
     _created(START + timedelta(days=5), START + timedelta(days=11)) & network_is("bluesky"), DICT),
    ("posts", START + timedelta(days=5), START + timedelta(days=11), ["brand_id", "mentioned_handles", "network"],
     network_is("x"), DICT),
    ("mentions", START + timedelta(days=2), START + timedelta(days=9), ["post_id", "brand_id", "mentioned_handles"],
     _created(START + timedelta(days=2), START + timedelta(days=9)) & network_is("bluesky"), DICT),
    ("mentions", START, None, ["post_id", "text", "observed_at", "dt"],
     ds.field("post_id").isin(["5011", "5012", "at://did:plc:u4/app.bsky.feed.post/m"]), ()),
    ("mention_counts", START + timedelta(days=3), START + timedelta(days=3), ["day"], None, ()),
    ("completeness", None, START + timedelta(days=6), ["brand_id", "source", "day", "status", "dt"],
     (ds.field("day") >= pa.scalar(START + timedelta(days=1), pa.date32())), ()),
    ("accounts", START + timedelta(days=20), START + timedelta(days=30), None, None, ()),  # nothing in range
    # A filter naming a partition field: the files are read, as a Lake reads them.
    ("posts", None, None, ["post_id", "brand_id"], ds.field("dt") >= pa.scalar(START, pa.date32()), DICT),
]


@pytest.mark.parametrize("table, start, end, columns, flt, dictionary", READS)
def test_reads_are_the_files_reads(lake: Lake, table: str, start: date | None, end: date | None,
                                   columns: list[str] | None, flt: ds.Expression | None,
                                   dictionary: tuple[str, ...]) -> None:
    cached = CachedLake(lake, COLLECTED)
    for _ in range(2):  # the first read loads the table, the second reads memory only
        same_chunks(cached.read(table, PANEL.id, start, end, columns, flt, dictionary),
                    lake.read(table, PANEL.id, start, end, columns, flt, dictionary))


def test_each_file_is_read_once(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = CachedLake(lake, COLLECTED)
    net = NetworkLake(cached, "bluesky")
    scans: list[str] = []
    dataset = Lake.dataset

    def counted(self: Lake, table: str, dictionary: tuple[str, ...] = ()) -> ds.Dataset:
        scans.append(table)
        return dataset(self, table, dictionary)

    monkeypatch.setattr(Lake, "dataset", counted)
    for d in range(7, DAYS):
        end = START + timedelta(days=d)
        net.read("posts", PANEL.id, end - timedelta(days=6), end, ["brand_id"], _created(end - timedelta(days=6), end),
                 DICT)
        cached.read("posts", PANEL.id, end - timedelta(days=6), end, ["brand_id"], None, DICT)
    assert scans == ["posts"]
    assert cached.partitions("posts", PANEL.id) == lake.partitions("posts", PANEL.id)


def test_a_write_through_the_view_is_read_back(lake: Lake) -> None:
    cached = CachedLake(lake, COLLECTED)
    d = START + timedelta(days=DAYS)
    assert cached.read("mention_counts", PANEL.id, d, d).num_rows == 0
    cached.memo["derived"] = True
    _write(cached, "mention_counts", d, [{"brand_id": "alpha", "network": "x", "day": d, "mentions": 1}])
    assert cached.read("mention_counts", PANEL.id, d, d).num_rows == 1
    assert d in cached.partitions("mention_counts", PANEL.id)
    assert cached.memo == {}


def test_a_file_that_does_not_read_is_met_as_a_lake_meets_it(lake: Lake) -> None:
    bad = Path(lake.root) / "mentions" / f"panel={PANEL.id}" / f"dt={START.isoformat()}" / "data.parquet"
    bad.write_bytes(b"PAR1 truncated")
    cached = CachedLake(lake, COLLECTED)
    late = START + timedelta(days=5)
    same_chunks(cached.read("mentions", PANEL.id, late, None, ["post_id"]),
                lake.read("mentions", PANEL.id, late, None, ["post_id"]))
    with pytest.raises((pa.ArrowInvalid, OSError)):
        cached.read("mentions", PANEL.id, START, START, ["post_id"])


def test_scores_over_the_view_are_the_scores_over_the_files(lake: Lake, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(lake.root, tmp_path / "copy")
    plain, cached = Lake(str(tmp_path / "copy")), CachedLake(lake, COLLECTED)
    for d in (START + timedelta(days=k) for k in (7, 10, 13)):
        a, b = compute_all(PANEL, d, cached), compute_all(PANEL, d, plain)
        assert [r.network for r in a] == [r.network for r in b] == ["all", "x", "bluesky"]
        for ra, rb in zip(a, b, strict=True):
            assert indicators_table(ra).equals(indicators_table(rb))
            assert ra.topics.equals(rb.topics)
        run_score(PANEL, d, cached)
        run_score(PANEL, d, plain)
    for t in ("indicators", "scores", "topics"):
        assert cached.read(t, PANEL.id).drop_columns(["computed_at"] if t == "scores" else []).equals(
            plain.read(t, PANEL.id).drop_columns(["computed_at"] if t == "scores" else []))
