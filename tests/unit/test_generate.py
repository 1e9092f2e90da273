"""The synthetic lake writer (`barometer sim generate`): schemas, volumes, determinism, panel."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from barometer.config import load_panel
from barometer.lake.schemas import SCHEMAS
from barometer.lake.store import Lake
from barometer.sim.generate import SynthSpec, build_panel, generate, register_generate

END = date(2025, 3, 31)
SPEC = SynthSpec(brands=6, days=10, mentions_per_day=300, posts_per_brand_day=2.0, end_date=END, seed=3,
                  reference_year=False)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, object]:
    lake = Lake(str(tmp_path_factory.mktemp("synth")))
    return lake, generate(SPEC, lake)


def test_tables_have_the_lake_schemas_and_one_partition_per_day(synth: tuple[Lake, object]) -> None:
    lake, _ = synth
    days = [SPEC.first_date + timedelta(days=k) for k in range(SPEC.days)]
    for table in ("posts", "mentions", "mention_counts"):
        assert lake.partitions(table, "synth") == days
        f = lake.partition_path(table, "synth", END) + "/data.parquet"
        assert pq.read_schema(f).remove_metadata().equals(SCHEMAS[table].remove_metadata())
    assert lake.partitions("accounts", "synth") == days


def test_volumes(synth: tuple[Lake, object]) -> None:
    lake, res = synth
    men = lake.read("mentions", "synth")
    assert men.num_rows == SPEC.mentions_per_day * SPEC.days == res.rows["mentions"]  # type: ignore[attr-defined]
    per_day = men.group_by("dt").aggregate([("post_id", "count")])
    assert set(per_day["post_id_count"].to_pylist()) == {SPEC.mentions_per_day}
    assert pc.count_distinct(men["post_id"]).as_py() == men.num_rows
    # mention_counts equal the mention rows, brand by day.
    counts = lake.read("mention_counts", "synth")
    rows = {(r["brand_id"], r["dt"]): r["post_id_count"]
            for r in men.group_by(["brand_id", "dt"]).aggregate([("post_id", "count")]).to_pylist()}
    assert {(r["brand_id"], r["day"]): r["mentions"] for r in counts.to_pylist() if r["mentions"]} == rows
    # Mentions are skewed: the top brand has more than the fair share.
    top = max(rows.values())
    assert top > SPEC.mentions_per_day / SPEC.brands
    # Every mention mentions its brand's handle first; created on its partition's day.
    first = pc.list_element(men["mentioned_handles"], 0).to_pylist()
    assert all(h == "synth" + b[1:] for h, b in zip(first, men["brand_id"].to_pylist(), strict=True))
    # mentioned_ids name the same accounts, element for element; everything read (weight 1).
    assert pc.list_value_length(men["mentioned_ids"]).equals(pc.list_value_length(men["mentioned_handles"]))
    acc = lake.read("accounts", "synth", END, END)
    ids = dict(zip(acc["handle"].to_pylist(), acc["account_id"].to_pylist(), strict=True))
    assert pc.list_element(men["mentioned_ids"], 0).to_pylist() == [ids[h] for h in first]
    assert set(men["sample_weight"].to_pylist()) == {1.0}
    created_day = pc.cast(pc.cast(men["created_at"], pa.date32()), pa.date32())
    assert pc.all(pc.equal(created_day, men["dt"])).as_py()


def test_posts_are_observed_a_few_times_with_growing_metrics(synth: tuple[Lake, object]) -> None:
    lake, res = synth
    posts = lake.read("posts", "synth").to_pylist()
    assert len({p["post_id"] for p in posts}) == res.rows["distinct_posts"] > 0  # type: ignore[attr-defined]
    by_id: dict[str, list[dict[str, object]]] = {}
    for p in posts:
        by_id.setdefault(str(p["post_id"]), []).append(p)
    assert max(len(v) for v in by_id.values()) == 3
    for obs in by_id.values():
        obs.sort(key=lambda r: r["observed_at"])  # type: ignore[arg-type, return-value]
        likes = [int(r["likes"]) for r in obs]  # type: ignore[call-overload]
        assert likes == sorted(likes)
        assert all(r["created_at"] < r["observed_at"] for r in obs)  # type: ignore[operator]
    assert {p["kind"] for p in posts} <= {"original", "reply", "quote", "repost"}


def test_deterministic(tmp_path: Path, synth: tuple[Lake, object]) -> None:
    lake, _ = synth
    again = Lake(str(tmp_path / "again"))
    generate(SPEC, again)
    for table in ("accounts", "posts", "mentions", "mention_counts"):
        assert again.read(table, "synth").equals(lake.read(table, "synth")), table
    other = Lake(str(tmp_path / "other"))
    generate(SynthSpec(**{**SPEC.__dict__, "seed": 4}), other)
    assert not other.read("mentions", "synth").equals(lake.read("mentions", "synth"))


def test_panel_written_next_to_the_tables(synth: tuple[Lake, object]) -> None:
    lake, res = synth
    panel = load_panel(Path(lake.root) / "panels" / "synth.yaml")
    assert panel == res.panel  # type: ignore[attr-defined]
    assert [b.id for b in panel.brands] == [f"b{i:05d}" for i in range(SPEC.brands)]
    assert panel.scoring.window_days == SPEC.days
    acc = lake.read("accounts", "synth", END, END)
    assert sorted(acc["handle"].to_pylist()) == sorted(b.accounts[0].handle for b in panel.brands)


def test_build_panel_scales() -> None:
    p = build_panel(1500, "big", window_days=182)
    assert len(p.brands) == 1500 and p.id == "big" and p.scoring.window_days == 182


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register_generate(parser.add_subparsers(dest="cmd"))
    out = tmp_path / "lake"
    args = parser.parse_args(["generate", "--brands", "3", "--days", "2", "--mentions-per-day", "10",
                              "--out", str(out), "--end-date", "2024-02-29", "--seed", "1"])
    assert args.func(args) == 0
    assert "3 brands × 2 days" in capsys.readouterr().out
    lake = Lake(str(out))
    assert lake.partitions("mentions", "synth") == [date(2024, 2, 28), date(2024, 2, 29)]
    # Accounts also cover the year before, for the year-on-year growth reference.
    acc = lake.partitions("accounts", "synth")
    assert acc[0] == date(2024, 2, 28) - timedelta(days=366) and acc[-1] == date(2024, 2, 29)
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "--brands", "0", "--out", str(out)])
