"""Panels load into typed models; invalid ones fail with one line naming the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from barometer.config import load_panel, resolve_panel
from barometer.errors import ConfigError

PHARMA = ["sanofi", "msd-france", "pfizer-france", "novartis-france", "roche-france",
          "astrazeneca-france", "gsk-france"]


def test_pharma_panel_has_the_seven_groups() -> None:
    panel = resolve_panel("pharma-fr")
    assert [b.id for b in panel.brands] == PHARMA
    assert panel.brand("sanofi").accounts[0].handle == "sanofi"
    assert panel.scoring.window_days == 181
    assert all(b.mention_query for b in panel.brands)


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "panel.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


def _valid() -> dict:
    return {"id": "t", "name": "T", "brands": [
        {"id": "a", "name": "A", "accounts": [{"handle": "a_1"}], "mention_query": "@a_1"},
        {"id": "b", "name": "B", "accounts": [{"handle": "b_1"}], "mention_query": "@b_1"},
    ]}


@pytest.mark.parametrize(
    ("mutate", "field", "why"),
    [
        (lambda d: d["brands"][0].pop("name"), "brands.0.name", "Field required"),
        (lambda d: d["brands"][1].update(id="a"), "brands.1.id", "duplicate brand id"),
        (lambda d: d["brands"][0]["accounts"][0].update(handle="bad handle!"),
         "brands.0.accounts.0.handle", "bad handle"),
        (lambda d: d["brands"][0].update(id="Not OK"), "brands.0.id", "bad brand id"),
        (lambda d: d.update(brands=[]), "brands", "at least 1"),
        (lambda d: d["brands"][0].update(colour="red"), "brands.0.colour", "Extra inputs"),
    ],
)
def test_invalid_panel_one_line_naming_file_and_field(tmp_path: Path, mutate, field: str, why: str) -> None:
    data = _valid()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_panel(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: {field}: "), msg
    assert why in msg
    assert err.value.exit_code == 2


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"x\.yaml: line \d+: not valid YAML"):
        load_panel(p)
    with pytest.raises(ConfigError, match="cannot read panel file"):
        load_panel(tmp_path / "nope.yaml")


def test_binary_panel_file_is_named(tmp_path: Path) -> None:
    p = tmp_path / "panel.yaml"
    p.write_bytes(b"\x00\x01\xff\xfe binary")
    with pytest.raises(ConfigError) as err:
        load_panel(p)
    assert str(err.value) == f"{p}: not a panel file: not UTF-8 text (byte 2), YAML expected"
    assert err.value.exit_code == 2


@pytest.mark.parametrize(("query", "why"), [
    ("(@a_1 OR a", "unbalanced parentheses: 1 '(' never closed"),
    ("@a_1) OR a", "unbalanced parentheses: ')' at position 4 closes nothing"),
    ('"A one OR @a_1', "unbalanced double quotes"),
    ("@a_1\tOR\x00a", "control character U+0009 at position 4"),
    ("@a_1 \u2028 a", "control character U+2028"),
    ("@a_1 OR " + "x" * 600, "608 characters, more than recent search's 512"),
    ("-is:retweet -@a_1", "only negated terms"),
    ("   ", "empty query"),
])
def test_mention_query_x_would_refuse_fails_at_load(tmp_path: Path, query: str, why: str) -> None:
    data = _valid()
    data["brands"][1]["mention_query"] = query
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_panel(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: brands.1.mention_query: brand 'b': X search would refuse it: "), msg
    assert why in msg


@pytest.mark.parametrize("query", [
    '(@a_1 OR "A (one)") -is:retweet lang:fr',
    '"quoted ) paren" OR @a_1',
    "-is:retweet (@a_1 OR a)",
])
def test_mention_query_x_accepts_loads(tmp_path: Path, query: str) -> None:
    data = _valid()
    data["brands"][0]["mention_query"] = query
    assert load_panel(_write(tmp_path, data)).brands[0].mention_query == query
