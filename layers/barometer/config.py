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
from barometer.topics import DEFAULT_TAXONOMY, SHIPPED, is_shipped, load_taxonomy, taxonomy_path

HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
# The networks a panel may list accounts on; `all` names combined rows in the lake.
NETWORKS = ("x", "bluesky")
ALL_NETWORKS = "all"
# AT Protocol handles are domain names (https://atproto.com/specs/handle); DIDs are accepted too.
BSKY_HANDLE_RE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
BSKY_DID_RE = re.compile(r"^did:(plc|web):[a-z0-9._:%-]{1,2000}$")
# X API v2 search: a recent-search query is at most 512 characters (full-archive allows more).
MAX_QUERY_CHARS = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

Normalisation = Literal["minmax", "zscore", "rank", "goalposts"]
Aggregation = Literal["arithmetic", "geometric"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Account(_Strict):
    network: str = "x"
    handle: str

    @field_validator("network")
    @classmethod
    def _network(cls, v: str) -> str:
        if v not in NETWORKS:
            raise ValueError(f"unknown network {v!r} ({', '.join(NETWORKS)})")
        return v

    @field_validator("handle")
    @classmethod
    def _handle(cls, v: str, info: ValidationInfo) -> str:
        v = v.removeprefix("@")
        if info.data.get("network") == "bluesky":
            v = v.lower()
            if not (BSKY_HANDLE_RE.match(v) or BSKY_DID_RE.match(v)) or len(v) > 253:
                raise ValueError(f"bad Bluesky handle {v!r} (a domain name such as sanofi.bsky.social, or a did:)")
            return v
        if not HANDLE_RE.match(v):
            raise ValueError(f"bad handle {v!r} (1-15 letters, digits or _)")
        return v


class BlueskyQuery(_Strict):
    """A brand's mention search on Bluesky (app.bsky.feed.searchPosts): posts matching `q`,
    and (`mentions`, default on) posts whose facets mention one of the brand's accounts."""

    q: str | None = None
    mentions: bool = True
    lang: str | None = None

    @field_validator("q")
    @classmethod
    def _q(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or _CONTROL.search(v) or len(v) > MAX_QUERY_CHARS):
            raise ValueError(f"bad Bluesky search q {v!r} (non-empty, ≤ {MAX_QUERY_CHARS} characters)")
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
    # X's search query (also `mentions: {x: …}`); required when the brand has an X account.
    mention_query: str = ""
    # Bluesky's search (`mentions: {bluesky: {q: …}}` or `{bluesky: 'q'}`); default: posts
    # mentioning the brand's Bluesky accounts.
    bluesky_query: BlueskyQuery | None = None

    @model_validator(mode="before")
    @classmethod
    def _mentions(cls, data: object) -> object:
        """`mentions: {x: '…', bluesky: {q: …}}`: one mention query per network."""
        if not isinstance(data, dict) or "mentions" not in data:
            return data
        m = data["mentions"]
        if not isinstance(m, dict):
            raise ValueError("mentions: expected a query per network, e.g. {x: '…', bluesky: {q: …}}")
        bad = sorted(str(k) for k in m if k not in NETWORKS)
        if bad:
            raise ValueError(f"mentions: unknown network {bad[0]!r} ({', '.join(NETWORKS)})")
        if "x" in m and data.get("mention_query") not in (None, m["x"]):
            raise ValueError("mentions: x's query given twice (mention_query and mentions.x)")
        out = {k: v for k, v in data.items() if k != "mentions"}
        if "x" in m:
            out["mention_query"] = m["x"]
        if "bluesky" in m:
            bq = m["bluesky"]
            out["bluesky_query"] = {"q": bq} if isinstance(bq, str) else bq
        return out

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks the brand has an account on, in NETWORKS order."""
        return tuple(n for n in NETWORKS if any(a.network == n for a in self.accounts))

    def accounts_on(self, network: str) -> list[Account]:
        return [a for a in self.accounts if a.network == network]

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"bad brand id {v!r} (lower-case letters, digits and -)")
        return v

    @field_validator("mention_query")
    @classmethod
    def _query(cls, v: str, info: ValidationInfo) -> str:
        accounts = info.data.get("accounts") or []
        if not v and not any(a.network == "x" for a in accounts):
            return v  # no X account: no X search
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
    # A leaderboard resting on fewer collected days of its window than this is provisional
    # (the window is not yet full: a new panel). Default: the whole window.
    min_window_days: int | None = Field(default=None, ge=1, le=730)
    # What publish does with a provisional leaderboard: publish it under a banner saying how
    # many days it rests on, or withhold it (the published site stays as it was).
    provisional: Literal["publish", "withhold"] = "publish"

    @property
    def min_days(self) -> int:
        """`min_window_days`, capped at the window (default: the whole window)."""
        return min(self.min_window_days or self.window_days, self.window_days)


# X's pay-per-use prices (2025): a post read, a user read; each resource billed once per UTC day.
POST_USD = 0.005
USER_USD = 0.010

# A budgeted collection (issue 13), shared by the collector's plan (collect/plan.py), the
# scorer's estimates (score/sampled.py) and the generated methodology: a brand's day is cut in
# slices of this many minutes (UTC), some read in full; each sampled brand gets at least
# SAMPLE_FLOOR mentions; young posts are refreshed only at these ages (days) when refreshing
# all of them would take more than this share of the budget.
SAMPLE_SLICE_MINUTES = 30
SAMPLE_FLOOR = 20
THIN_REFRESH_AGES = (1, 3, 7)
THIN_REFRESH_SHARE = 0.25


class Collection(_Strict):
    refresh_days: int = Field(default=7, ge=0, le=30)
    max_post_reads: int = Field(default=20_000, ge=0)
    max_user_reads: int = Field(default=20_000, ge=0)
    # A backfill (`barometer start`, `run --mode backfill`) reads months at once: its own budget.
    max_backfill_post_reads: int = Field(default=1_000_000, ge=0)
    max_backfill_user_reads: int = Field(default=1_000_000, ge=0)
    lang: str | None = None
    # Issue 13 (see collect/plan.py): mentions are read without author expansion unless
    # `author_profiles`; a daily budget in dollars of X reads (absent: read everything);
    # the price of a counts request (X documents none per request for counts: default 0).
    author_profiles: bool = False
    daily_budget_usd: float | None = None
    counts_request_usd: float = Field(default=0.0, ge=0)


class Demo(_Strict):
    """How `barometer demo` replays this panel's world (the simulator)."""

    run_date: date
    seed: int = 2018


class Panel(_Strict):
    id: str
    # `name: {fr: …, en: …}` in the file sets `names` (per site language) and `name` (the
    # panel's language's); a single string is every language's name.
    name: str = Field(min_length=1)
    names: dict[Literal["fr", "en"], str] = Field(default_factory=dict)
    description: str = ""
    # The topic taxonomy: a shipped id (see barometer.topics.SHIPPED) or a YAML file of its
    # own (relative to the panel file), validated on load.
    topics: str = DEFAULT_TAXONOMY
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

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: object) -> object:
        if not isinstance(data, dict) or not isinstance(data.get("name"), dict):
            return data
        names = {str(k): v for k, v in data["name"].items()}
        bad = sorted(k for k in names if k not in ("fr", "en"))
        if bad:
            raise ValueError(f"name: unknown language {bad[0]!r} (fr, en)")
        if not names or any(not isinstance(v, str) or not v.strip() for v in names.values()):
            raise ValueError("name: expected a non-empty name per language, e.g. {fr: …, en: …}")
        language = data.get("language")
        lang = language if isinstance(language, str) and language in names else next(iter(names))
        return {**data, "name": names[lang], "names": {**names, **(data.get("names") or {})}}

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: str) -> str:
        v = v.strip()
        if not is_shipped(v) and not v.endswith((".yaml", ".yml")):
            raise ValueError(f"unknown topic taxonomy {v!r}: a shipped one ({', '.join(SHIPPED)}) "
                             "or a .yaml file")
        return v

    @model_validator(mode="after")
    def _budget_floor(self) -> Panel:
        # The fixed reads a panel file determines: every account's profile, once a day.
        budget = self.collection.daily_budget_usd
        floor = round(USER_USD * sum(len(b.accounts) for b in self.brands), 4)
        if budget is not None and (budget <= 0 or budget < floor):
            raise ValueError(f"collection.daily_budget_usd: {budget} is below the panel's fixed reads "
                             f"(its accounts' profiles); the minimum that works is {floor}")
        return self

    def display_name(self, lang: str) -> str:
        """The panel's name in a site language (`name: {fr: …, en: …}`), else its one name."""
        return self.names.get(lang) or self.name  # type: ignore[call-overload]

    @model_validator(mode="after")
    def _unique(self) -> Panel:
        seen: set[str] = set()
        handles: set[str] = set()
        for i, b in enumerate(self.brands):
            if b.id in seen:
                raise ValueError(f"brands.{i}.id: duplicate brand id {b.id!r}")
            seen.add(b.id)
            for a in b.accounts:
                key = a.handle.lower() if a.network == "x" else f"{a.network}:{a.handle.lower()}"
                if key in handles:
                    raise ValueError(f"brands.{i}.accounts: handle @{a.handle} is used twice")
                handles.add(key)
            if "x" in b.networks and not b.mention_query:
                raise ValueError(f"brands.{i}.mention_query: an X account needs a mention query "
                                 "(mention_query, or mentions: {x: …})")
            if b.bluesky_query is not None and "bluesky" not in b.networks and not b.bluesky_query.q:
                raise ValueError(f"brands.{i}.mentions: bluesky: no Bluesky account to mention, and no q")
        return self

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks of the panel's accounts, in NETWORKS order (x-only panels: ('x',))."""
        return tuple(n for n in NETWORKS if any(n in b.networks for b in self.brands))

    def on_network(self, network: str) -> Panel:
        """The panel seen from one network: each brand with its accounts there only; brands
        without an account there are left out (their data there is missing, not zero)."""
        brands = [b.model_copy(update={"accounts": b.accounts_on(network)})
                  for b in self.brands if network in b.networks]
        return self.model_copy(update={"brands": brands})

    def brand(self, brand_id: str) -> Brand:
        for b in self.brands:
            if b.id == brand_id:
                return b
        raise ConfigError(f"panel {self.id}: no brand {brand_id!r}")


def _one_line(path: Path | str, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(root)"
    msg = first["msg"].removeprefix("Value error, ")
    if msg.startswith(("brands.", "name:")) and loc == "(root)":
        loc, _, msg = msg.partition(": ")
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{path}: {loc}: {msg}{more}"


def parse_panel(data: object, source: str = "<panel>", base: Path | None = None) -> Panel:
    """A panel from its parsed YAML; its topic taxonomy is loaded and validated too (a file
    is looked for relative to `base`, the panel file's folder, then the working directory)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: (root): expected a mapping of panel fields")
    try:
        panel = Panel.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_one_line(source, e)) from None
    if is_shipped(panel.topics):
        return panel
    try:
        path = taxonomy_path(panel.topics, base)
        load_taxonomy(path)
    except ConfigError as e:
        raise ConfigError(f"{source}: topics: {e}") from None
    return panel.model_copy(update={"topics": str(path.resolve())})


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
    return parse_panel(data, str(p), p.parent)


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
