"""Panels: the brands a barometer follows, loaded from YAML into typed models.

A panel file that does not validate raises ConfigError with one line naming the file and
the field, before anything is read from the API or written to the lake.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from barometer.errors import ConfigError
from barometer.ids import ID_RE  # one definition, shared with the Lambda edge (aws.events)

HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
# X API v2 search: a recent-search query is at most 512 characters (full-archive allows more).
MAX_QUERY_CHARS = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

Normalisation = Literal["minmax", "zscore", "rank", "goalposts"]
Aggregation = Literal["arithmetic", "geometric"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Account(_Strict):
    network: Literal["x"] = "x"
    handle: str

    @field_validator("handle")
    @classmethod
    def _handle(cls, v: str) -> str:
        v = v.removeprefix("@")
        if not HANDLE_RE.match(v):
            raise ValueError(f"bad handle {v!r} (1-15 letters, digits or _)")
        return v


def query_problem(q: str) -> str | None:
    """Why X's search would refuse `q` (its syntax, as far as it can be checked offline), or None.

    X answers such a query with a bare `400 Bad Request` at run time; checked at panel load,
    the same fault is one line naming the panel file and the brand.
    """
    if not q.strip():
        return "empty query"
    if len(q) > MAX_QUERY_CHARS:
        return f"{len(q)} characters, more than recent search's {MAX_QUERY_CHARS}"
    bad = _CONTROL.search(q)
    if bad:
        return f"control character U+{ord(bad.group()):04X} at position {bad.start()}"
    depth, quoted, terms = 0, False, []
    term = ""
    for i, c in enumerate(q):
        if c == '"':
            quoted = not quoted
            term += c
        elif quoted:
            term += c
        elif c == "(":
            depth += 1
            terms.append(term)
            term = ""
        elif c == ")":
            depth -= 1
            if depth < 0:
                return f"unbalanced parentheses: ')' at position {i} closes nothing"
            terms.append(term)
            term = ""
        elif c.isspace():
            terms.append(term)
            term = ""
        else:
            term += c
    terms.append(term)
    if quoted:
        return "unbalanced double quotes: a quoted phrase is never closed"
    if depth:
        return f"unbalanced parentheses: {depth} '(' never closed"
    words = [t for t in terms if t and t != "OR"]
    if words and all(t.startswith("-") for t in words):
        return "only negated terms: X needs at least one term that is not negated"
    return None


class Brand(_Strict):
    id: str
    name: str = Field(min_length=1)
    accounts: list[Account] = Field(min_length=1)
    mention_query: str = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"bad brand id {v!r} (lower-case letters, digits and -)")
        return v

    @field_validator("mention_query")
    @classmethod
    def _query(cls, v: str, info: ValidationInfo) -> str:
        problem = query_problem(v)
        if problem:
            brand = info.data.get("id")
            raise ValueError(f"brand {brand!r}: X search would refuse it: {problem}" if brand
                             else f"X search would refuse it: {problem}")
        return v


class Scoring(_Strict):
    window_days: int = Field(default=182, ge=7, le=730)
    growth_reference: Literal["yoy", "previous"] = "yoy"
    normalisation: Normalisation = "minmax"
    aggregation: Aggregation = "arithmetic"
    # Weights default to equal; missing keys weigh 1.
    indicator_weights: dict[str, float] = Field(default_factory=dict)
    attribute_weights: dict[str, float] = Field(default_factory=dict)
    # Fixed bounds per indicator (on the transformed value) for `goalposts`.
    goalposts: dict[str, tuple[float, float]] = Field(default_factory=dict)
    sensitivity_draws: int = Field(default=1000, ge=0, le=100_000)
    seed: int = 20180430
    min_coverage: float = Field(default=0.75, ge=0, le=1)


class Collection(_Strict):
    refresh_days: int = Field(default=7, ge=0, le=30)
    max_post_reads: int = Field(default=20_000, ge=0)
    max_user_reads: int = Field(default=20_000, ge=0)
    lang: str | None = None


class Demo(_Strict):
    """How `barometer demo` replays this panel's world (the simulator)."""

    run_date: date
    seed: int = 2018


class Panel(_Strict):
    id: str
    name: str
    description: str = ""
    language: Literal["fr", "en"] = "fr"
    timezone: str = "Europe/Paris"
    first_date: date | None = None
    brands: list[Brand] = Field(min_length=1)
    scoring: Scoring = Scoring()
    collection: Collection = Collection()
    demo: Demo | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"bad panel id {v!r} (lower-case letters, digits and -)")
        return v

    @model_validator(mode="after")
    def _unique(self) -> Panel:
        seen: set[str] = set()
        handles: set[str] = set()
        for i, b in enumerate(self.brands):
            if b.id in seen:
                raise ValueError(f"brands.{i}.id: duplicate brand id {b.id!r}")
            seen.add(b.id)
            for a in b.accounts:
                if a.handle.lower() in handles:
                    raise ValueError(f"brands.{i}.accounts: handle @{a.handle} is used twice")
                handles.add(a.handle.lower())
        return self

    def brand(self, brand_id: str) -> Brand:
        for b in self.brands:
            if b.id == brand_id:
                return b
        raise ConfigError(f"panel {self.id}: no brand {brand_id!r}")


def _one_line(path: Path | str, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(root)"
    msg = first["msg"].removeprefix("Value error, ")
    if msg.startswith("brands.") and loc == "(root)":
        loc, _, msg = msg.partition(": ")
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{path}: {loc}: {msg}{more}"


def parse_panel(data: object, source: str = "<panel>") -> Panel:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: (root): expected a mapping of panel fields")
    try:
        return Panel.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_one_line(source, e)) from None


def load_panel(path: str | Path) -> Panel:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read panel file ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not a panel file: not UTF-8 text (byte {e.start}), YAML expected") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{p}:{where}: not valid YAML") from None
    return parse_panel(data, str(p))


def panels_dir() -> Path:
    """The repository's panels/ folder (also shipped inside the package data when bundled)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "panels"
        if cand.is_dir():
            return cand
    return here.parent / "data" / "panels"


def resolve_panel(ref: str | Path) -> Panel:
    """A panel by file path, or by id in panels/."""
    p = Path(ref)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return load_panel(p)
    return load_panel(panels_dir() / f"{ref}.yaml")
