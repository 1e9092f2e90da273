"""The build's shortcuts give the bytes of the plain way: the forked build and its shared-memory
handover, texts made once per distinct value, CSV files cut from one formatting of every date,
the top posts found from candidates."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from _site_fixtures import make_site_lake

from barometer.lake.store import Lake
from barometer.publish import PublishOptions, build_site, load_site_data
from barometer.publish import build as build_mod
from barometer.publish.data import _top_posts
from barometer.publish.vector import (
    DISTINCT_MIN_ROWS,
    _scaled,
    _scaled_text,
    by_value,
    excel_csv,
    excel_csv_groups,
    fixed,
    group_bounds,
    json_values,
)


def test_forked_build_gives_the_serial_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    panel, lake, dates = make_site_lake(tmp_path / "lake", days=6)
    data = load_site_data(panel, dates[-1], lake)
    options = PublishOptions(simulated=True)
    monkeypatch.setattr(build_mod.SiteBuilder, "_parallel", lambda self: False)
    serial = build_site(data, options)
    monkeypatch.setattr(build_mod.SiteBuilder, "_parallel", lambda self: True)
    forked = build_site(data, options)
    assert forked.files.keys() == serial.files.keys()
    assert [k for k in serial.files if forked.files[k] != serial.files[k]] == []
    assert forked.pages == serial.pages
    assert forked.stats["share_images"]["drawn"] == serial.stats["share_images"]["drawn"] == len(panel.brands) + 2


def test_handover_copies_what_fits_and_sends_the_rest() -> None:
    import mmap

    files = {"a": b"x" * 10, "b": b"", "c": b"y" * 7, "d": b"z" * 3}
    h = build_mod.Handover(mmap.mmap(-1, 16))
    index, rest = h.pack(files)
    assert [k for k, _, _ in index] == ["a", "b", "d"] and rest == {"c": b"y" * 7}
    assert h.unpack(index, rest) == files and h.buf is None
    none = build_mod.Handover(None)  # no shared mapping: everything through the pipe
    index, rest = none.pack(files)
    assert index == [] and none.unpack(index, rest) == files


def _reference_fixed(values: pa.Array, digits: int, dec: str, missing: str, minus: str | None) -> pa.Array:
    v = _scaled(values, digits)
    return _scaled_text(v, digits, dec, missing, minus)


@pytest.mark.parametrize("kind", ["scores", "small", "mixed", "odd"])
def test_texts_per_distinct_value_are_the_texts_per_row(kind: str) -> None:
    rng = np.random.default_rng(3)
    n = 3 * DISTINCT_MIN_ROWS
    values = {"scores": rng.uniform(0, 100, n).round(1), "small": rng.integers(-3, 4, n) * 0.05,
              "mixed": rng.normal(0, 0.05, n).round(3),
              "odd": rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0, 0.05, -0.05, 0.15, 2.5], n)}[kind]
    arr = pa.array(values, mask=rng.random(n) < 0.05)
    for digits in (0, 1, 2, 4):
        for dec, missing, minus in ((".", "–", None), (",", "", None), (",", "", "-")):
            assert fixed(arr, digits, dec, missing, minus).equals(
                _reference_fixed(arr, digits, dec, missing, minus))
    # strings, dates, timestamps: the same texts either way
    names = pa.array([None if i % 17 == 0 else f'b"{i % 40}\\' for i in range(n)])
    assert by_value(names, lambda x: pc.utf8_upper(x)).equals(pc.utf8_upper(names))
    days = pa.array([date(2025, 1, 1) + timedelta(days=i % 30) for i in range(n)], pa.date32())
    stamps = pa.array([datetime(2025, 1, 1, 6) + timedelta(hours=i % 9) for i in range(n)], pa.timestamp("ms"))
    for col in (names, days, stamps, arr):
        assert json_values(col).to_pylist() == json_values(col.slice(0, 100)).to_pylist() + \
            json_values(col.slice(100)).to_pylist()


def test_csv_of_every_date_at_once_is_each_date_alone() -> None:
    rng = np.random.default_rng(5)
    days = [date(2025, 6, 1) + timedelta(days=i) for i in range(4)]
    n = 900
    t = pa.table({
        "brand_id": [f"=b{i % 60}" if i % 7 == 0 else f"b{i % 60}" for i in range(n)],
        "value": pa.array(rng.normal(0, 50, n), mask=rng.random(n) < 0.1),
        "items": rng.integers(0, 9, n), "flag": rng.random(n) < 0.5,
        "dt": pa.array(sorted(days[i % 4] for i in range(n)), pa.date32()),
    })
    bounds = group_bounds(t["dt"])
    variants = ((",", "."), (";", ","))
    grouped = excel_csv_groups(t, bounds, variants)
    for (sep, dec), files in zip(variants, grouped, strict=True):
        assert files == [excel_csv(t.slice(a, b - a), sep, dec) for _, a, b in bounds]


def test_top_posts_candidates_keep_ties_and_order(tmp_path: Path) -> None:
    """Posts seen several times (the latest observation counts), reposts and deleted ones left
    out, ties on interactions broken by date then id: the n first of each brand."""
    lake = Lake(str(tmp_path / "lake"))
    dt = date(2025, 6, 30)
    rows = []
    for b in ("a", "b", "c"):
        for j in range(12):
            created = datetime(2025, 6, 1) + timedelta(days=j % 5)
            for obs in range(2):  # two observations, the later one counts
                rows.append({"post_id": f"{b}{j:02d}", "brand_id": b, "network": "x", "account_id": b,
                             "created_at": created, "kind": "repost" if j == 11 else "original",
                             "text": f"{b} {j}", "likes": (j % 4) * (obs + 1), "reposts": 0, "replies": 0,
                             "quotes": 0, "deleted": j == 10 and obs == 1,
                             "observed_at": datetime(2025, 6, 20 + obs)})
    from barometer.lake.schemas import SCHEMAS

    table = pa.Table.from_pylist(rows, schema=SCHEMAS["posts"])
    lake.write_partition("posts", "p", dt - timedelta(days=1), table.filter(pc.equal(table["observed_at"],
                                                                                      datetime(2025, 6, 20))))
    lake.write_partition("posts", "p", dt, table.filter(pc.equal(table["observed_at"], datetime(2025, 6, 21))))
    for n in (1, 3, 5, 20):
        got = _top_posts(lake, "p", dt, date(2025, 6, 1), dt, n, {}, {})
        expect = []
        for b in ("a", "b", "c"):
            ok = [j for j in range(12) if j not in (10, 11)]
            ok.sort(key=lambda j: (-(j % 4) * 2, -(j % 5), f"{b}{j:02d}"))
            expect += [(b, f"{b}{j:02d}", (j % 4) * 2) for j in ok[:n]]
        assert list(zip(got["brand_id"].to_pylist(), got["post_id"].to_pylist(),
                        got["interactions"].to_pylist(), strict=True)) == expect
