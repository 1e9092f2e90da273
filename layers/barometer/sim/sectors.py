"""The sectors the simulator speaks: which wording a panel's simulated world is written in.

A panel's sector follows its topic taxonomy (`topics:` in the panel file): a shipped taxonomy
id has a sector of the same id (`barometer/sim/sectors/<id>.yaml`; pharma is the constants of
`sim.texts`, so the 2018 demo world stays exactly as it was); a taxonomy file of the panel's
own gets a sector made from it (`from_taxonomy`: its families and keywords in the corporate
sector's neutral templates). Every keyword a sector writes is tagged by its taxonomy into a
topic of the same family (a unit test checks it for every shipped sector).

A sector file holds: `families` (taxonomy family id → [keyword as written, with its article,
hashtag]), `brand_mix` / `mention_mix` (family id → share of brand posts / of posts by others),
`picks` (template field → phrases), optionally `templates` (brand, reply, quote, mention,
mention_reply, noise), `default_tag`, `generic_tags`, `bios` and `institutions` ([handle,
name]). What a file leaves out comes from `corporate.yaml`.
"""

from __future__ import annotations

import re
import string
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from barometer.config import Panel
from barometer.errors import ConfigError
from barometer.sim.texts import PHARMA_TEXTS, TEMPLATE_KINDS, Sector
from barometer.sim.worldgen.people import BIOS, INSTITUTIONS
from barometer.topics import DEFAULT_TAXONOMY, Taxonomy, is_shipped, taxonomy_for

SECTORS_DIR = Path(__file__).resolve().parent / "sectors"
BASE = "corporate"
# Fields every template may use besides the picks: the keyword forms, hashtags, link, brand.
BUILTIN_FIELDS = frozenset({"kw", "kw_cap", "kw_art", "tags", "link", "brand"})

PHARMA = replace(PHARMA_TEXTS, bios=BIOS, institutions=INSTITUTIONS)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read simulator sector ({e.strerror})") from None
    except yaml.YAMLError:
        raise ConfigError(f"{path}: simulator sector is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping")
    return data


def _merged(data: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    out = {**base, **{k: v for k, v in data.items() if k not in ("picks", "templates")}}
    for k in ("picks", "templates"):
        out[k] = {**(base.get(k) or {}), **(data.get(k) or {})}
    return out


def _build(sector_id: str, d: dict[str, Any], source: str) -> Sector:
    fams: dict[str, tuple[str, tuple[str, ...]]] = {}
    hashtags: dict[str, str] = {}
    articles: dict[str, str] = {}
    for fid, rows in (d.get("families") or {}).items():
        kws = []
        for row in rows or ():
            kw, art, tag = ([*row, None, None][:3] if isinstance(row, list) else [row, None, None])
            kw = str(kw)
            kws.append(kw)
            articles[kw] = str(art or kw)
            if tag:
                hashtags[kw] = str(tag)
        if not kws:
            raise ConfigError(f"{source}: families.{fid}: no keyword")
        fams[str(fid)] = (str(fid), tuple(kws))
    if not fams:
        raise ConfigError(f"{source}: families: no family")
    templates = {k: tuple(str(t) for t in (d.get("templates") or {}).get(k) or ()) for k in TEMPLATE_KINDS}
    picks = {str(k): tuple(str(x) for x in v) for k, v in (d.get("picks") or {}).items() if v}
    for kind, ts in templates.items():
        if not ts:
            raise ConfigError(f"{source}: templates.{kind}: no template")
        for t in ts:
            fields = {f for _, f, _, _ in string.Formatter().parse(t) if f}
            unknown = sorted(fields - BUILTIN_FIELDS - set(picks))
            if unknown:
                raise ConfigError(f"{source}: templates.{kind}: {t!r} uses {{{unknown[0]}}}, which no pick defines")
            if not fields & {"kw", "kw_cap", "kw_art"}:
                raise ConfigError(f"{source}: templates.{kind}: {t!r} writes no keyword")
    mixes = {}
    for key in ("brand_mix", "mention_mix"):
        mix = {str(k): float(v) for k, v in (d.get(key) or {}).items() if float(v) > 0}
        mix = {k: v for k, v in mix.items() if k in fams} or {f: 1.0 for f in fams}
        mixes[key] = mix
    insts = tuple((str(h), str(n)) for h, n in (d.get("institutions") or ()))
    return Sector(sector_id, fams, hashtags, str(d.get("default_tag") or "#actu"),
                  tuple(str(t) for t in d.get("generic_tags") or ("#actu",)), articles,
                  mixes["brand_mix"], mixes["mention_mix"], templates, picks,
                  tuple(str(b) for b in d.get("bios") or ("",)), insts, str(d.get("lang") or "fr"),
                  contract=True)


@cache
def _base_data() -> dict[str, Any]:
    return _read(SECTORS_DIR / f"{BASE}.yaml")


@cache
def shipped_sector(sector_id: str) -> Sector:
    """A sector shipped with the package (pharma: the 2018 demo world's wording)."""
    if sector_id == "pharma":
        return PHARMA
    path = SECTORS_DIR / f"{sector_id}.yaml"
    if not path.is_file():
        raise ConfigError(f"no simulator sector {sector_id!r} ({path})")
    base = _base_data()
    data = base if sector_id == BASE else _merged(_read(path), base)
    return _build(sector_id, data, str(path))


def _camel(kw: str) -> str:
    words = re.findall(r"\w+", kw)
    return "#" + "".join(w[:1].upper() + w[1:] for w in words) if words else ""


def from_taxonomy(tax: Taxonomy, name: str = "custom") -> Sector:
    """A sector for a taxonomy of the panel's own: its families, and for each topic its first
    keywords (as written, hashtagged), in the corporate sector's neutral templates and phrases."""
    families: dict[str, list[list[str]]] = {}
    for fam in tax.families.values():
        rows = []
        for tid in fam.topics:
            t = tax.topics[tid]
            plain = [k for k in (*t.keywords_fr, *t.keywords_en) if not k.endswith("*") and not k.startswith("#")]
            for kw in plain[:2]:
                rows.append([kw, kw, _camel(kw)])
        if rows:
            families[fam.id] = rows
    if not families:
        raise ConfigError(f"{tax.source}: no keyword the simulator can write (only stems or hashtags)")
    data = {**_base_data(), "families": families, "brand_mix": {}, "mention_mix": {}}
    return _build(name, data, tax.source)


def sector_for(panel: Panel) -> Sector:
    """The wording of the panel's simulated world (see the module docstring)."""
    ref = panel.topics or DEFAULT_TAXONOMY
    if is_shipped(ref) and (ref == "pharma" or (SECTORS_DIR / f"{ref}.yaml").is_file()):
        return shipped_sector(ref)
    return from_taxonomy(taxonomy_for(panel), Path(ref).stem)
