"""Topic taxonomies: tag a post's text with topic ids from a keyword list shipped as data.

A taxonomy lists families → topics → keywords in French and English. Each panel names its own
(`topics:` in the panel file): one shipped with the package (`barometer/data/topics/<id>.yaml`:
pharma, banking, automotive, retail, energy, telecom, corporate — the default), or a YAML file
of its own in the same format. `taxonomy_for(panel)` gives the panel's compiled taxonomy.
Matching works on a normalised text (NFKD, accents stripped, lower-case, ASCII), so
"Diabète", "DIABETES" and "diabete" are the same; each keyword word tolerates its plural.

Speed matters: the collector tags every post and mention it stores, and a rescore of history
may tag tens of millions of texts. Regular expressions were measured too slow here (Python's
`re` tries every keyword at every word start: ~16k texts/s). So keywords are compiled into
token forms instead (each plural variant spelled out): a text is ASCII-folded and split into
words in two C-level passes (NFKD + encode, bytes.translate), one frozenset intersection finds
the candidate first words, and only multi-word keywords whose first word occurs are checked
in order. Matching is thus exact on word sequences, multi-label and overlap-free by design
("cancer du sein" yields both `octobre_rose` and `cancer`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from barometer.errors import ConfigError

TAXONOMY_DIR = Path(__file__).resolve().parent / "data" / "topics"
# The taxonomies shipped with the package, by id (`topics: <id>` in a panel file).
SHIPPED = ("corporate", "pharma", "banking", "automotive", "retail", "energy", "telecom")
DEFAULT_TAXONOMY = "corporate"  # a panel without `topics:` gets it
# The package's first taxonomy (pharma), which `Taxonomy.load()`, `default_taxonomy()` and
# `tag()` without a panel still mean; the stages use the panel's (`taxonomy_for`).
DATA_PATH = TAXONOMY_DIR / "pharma.yaml"

# Function words take no plural variant ("des" must not become "dess").
_STOPWORDS = frozenset({
    "a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "un", "une", "sur",
    "par", "pour", "sans", "of", "the", "and", "in", "on", "for", "to",
})
_ELIDED = frozenset({"d", "l", "j", "n", "s", "c", "qu"})  # d'organes, l'innovation


def _byte_table() -> bytes:
    """ASCII lower-casing and separator folding in one bytes.translate pass.

    Letters, digits, `_` (handles), `#` (hashtags) and `@` (mentions) stay; every other byte
    (spaces, punctuation, apostrophes, hyphens) becomes a space, so `split()` yields words.
    """
    keep = set(b"abcdefghijklmnopqrstuvwxyz0123456789_#@&")
    table = bytearray(range(256))
    for i in range(256):
        c = bytes([i]).lower()[0]
        table[i] = c if c in keep else 0x20
    return bytes(table)


_TABLE = _byte_table()


def normalise(text: str) -> str:
    """The matching form of a text: ASCII-folded (NFKD, accents dropped), lower-case words.

    Non-word characters become single spaces; `#`, `@`, `_` and `&` stay (hashtags, handles, R&D).
    """
    # encode('ascii', 'ignore') after NFKD drops the combining accents in one C-level pass,
    # and bytes.translate lower-cases and folds separators in another: several times faster
    # than any per-character Python loop.
    b = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").translate(_TABLE)
    return b" ".join(b.split()).decode("ascii")


@dataclass(frozen=True)
class _Word:
    """One keyword word: the token forms it accepts, or a prefix when `stem`."""

    forms: frozenset[bytes]
    stem: bool = False

    def accepts(self, tok: bytes) -> bool:
        if self.stem:
            return any(tok.startswith(f) for f in self.forms)
        return tok in self.forms


def _plural_forms(word: str) -> set[str]:
    """A word and its plural: cancer → cancers, hopital → hopitaux, therapy → therapies."""
    if word in _STOPWORDS or len(word) <= 1 or not word[-1].isalpha():
        return {word}
    if word.endswith(("s", "x", "z")):
        return {word}  # already plural-shaped, or invariable (sida, virus, prix)
    if word.endswith("al") and len(word) > 3:
        return {word, word[:-2] + "aux", word + "s"}
    if word.endswith(("eau", "eu", "au")):
        return {word, word + "x"}
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return {word, word[:-1] + "ies", word + "s"}
    return {word, word + "s", word + "es"}


def keyword_variants(keyword: str) -> list[tuple[_Word, ...]]:
    """The token sequences a keyword matches, as written in the taxonomy.

    Variants cover the ways a text may write a keyword: a hyphenated word split or joined
    ("e-santé": "e sante", "esante"), an elided article joined to its word ("don d'organes"
    with a typographic apostrophe, which ASCII folding drops: "don dorganes"), and the hashtag
    of the first word.
    """
    raw = keyword.strip()
    stem = raw.endswith("*")
    hashtag_only = raw.startswith("#")
    if not normalise(raw.rstrip("*").lstrip("#")).replace("#", " ").strip():
        raise ValueError("empty keyword")
    # Each word is one or more token sequences (hyphen: split or joined).
    seqs: list[list[str]] = [[]]
    for w in raw.rstrip("*").lstrip("#").split():
        parts = normalise(w).replace("#", " ").split()
        if not parts:
            continue
        hyphenated = "-" in w and len(parts) > 1
        options = [parts, ["".join(parts)]] if hyphenated else [parts]
        seqs = [s + o for s in seqs for o in options]
    # Elision: "d organes" may also come as one token "dorganes".
    more = []
    for s in seqs:
        for i in range(len(s) - 1):
            if s[i] in _ELIDED:
                more.append([*s[:i], s[i] + s[i + 1], *s[i + 2:]])
    seqs += more
    out: list[tuple[_Word, ...]] = []
    seen: set[tuple[tuple[bytes, ...], ...]] = set()
    for s in seqs:
        seq: list[_Word] = []
        for i, w in enumerate(s):
            last = i == len(s) - 1
            forms = {w} if (stem and last) else _plural_forms(w)
            if i == 0:
                forms = {"#" + f for f in forms} if hashtag_only else forms | {"#" + f for f in forms}
            seq.append(_Word(frozenset(f.encode() for f in forms), stem=stem and last))
        key = tuple(tuple(sorted(x.forms)) for x in seq)
        if key not in seen:
            seen.add(key)
            out.append(tuple(seq))
    return out


def _names(v: object, where: str) -> dict[str, str]:
    """A `name:` given as {fr: …, en: …} (or a plain string, for both languages)."""
    if v is None:
        return {}
    if isinstance(v, str | int | float):
        return {"fr": str(v), "en": str(v)}
    if not isinstance(v, dict):
        raise ConfigError(f"{where}: expected a name or {{fr: …, en: …}}")
    return {str(k): str(x) for k, x in v.items() if x is not None}


def _rest_matches(tokens: list[bytes], start: int, rest: tuple[_Word, ...]) -> bool:
    if start + len(rest) > len(tokens):
        return False
    return all(w.accepts(tokens[start + j]) for j, w in enumerate(rest))


@dataclass(frozen=True)
class Topic:
    id: str
    family: str
    name_fr: str
    name_en: str
    keywords_fr: tuple[str, ...]
    keywords_en: tuple[str, ...]

    def name(self, lang: str = "fr") -> str:
        return self.name_en if lang == "en" else self.name_fr


@dataclass(frozen=True)
class Family:
    id: str
    name_fr: str
    name_en: str
    topics: tuple[str, ...]

    def name(self, lang: str = "fr") -> str:
        return self.name_en if lang == "en" else self.name_fr


class Taxonomy:
    """Families and topics, and the compiled matcher that tags texts with topic ids."""

    def __init__(self, families: Iterable[Family], topics: Iterable[Topic], source: str = "<taxonomy>"):
        self.families: dict[str, Family] = {f.id: f for f in families}
        self.topics: dict[str, Topic] = {t.id: t for t in topics}
        self.source = source
        self.title: dict[str, str] = {}
        self._compile()

    # -- loading -----------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> Taxonomy:
        """The taxonomy from a YAML file (default: the one shipped with the package)."""
        p = Path(path) if path is not None else DATA_PATH
        if path is None and (cached := _DEFAULT.get("t")) is not None:
            return cached
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{p}: cannot read topic taxonomy ({e.strerror})") from None
        except UnicodeDecodeError as e:
            raise ConfigError(f"{p}: topic taxonomy is not UTF-8 text (byte {e.start})") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{p}:{where}: topic taxonomy is not valid YAML") from None
        tax = cls.from_dict(data, str(p))
        if path is None:
            _DEFAULT["t"] = tax
        return tax

    @classmethod
    def from_dict(cls, data: object, source: str = "<taxonomy>") -> Taxonomy:
        if not isinstance(data, dict) or not isinstance(data.get("families"), dict):
            raise ConfigError(f"{source}: families: expected a mapping of families")
        families: list[Family] = []
        topics: list[Topic] = []
        seen: set[str] = set()
        for fid, fam in data["families"].items():
            where = f"{source}: families.{fid}"
            if not isinstance(fam, dict) or not isinstance(fam.get("topics"), dict):
                raise ConfigError(f"{where}: expected name and topics")
            fname = _names(fam.get("name"), f"{where}.name")
            tids = []
            for tid, top in fam["topics"].items():
                if tid in seen:
                    raise ConfigError(f"{where}.topics.{tid}: duplicate topic id")
                if not re.fullmatch(r"[a-z0-9_]+", str(tid)):
                    raise ConfigError(f"{where}.topics.{tid}: topic ids are lower-case a-z, 0-9 and _")
                seen.add(tid)
                if top is not None and not isinstance(top, dict):
                    raise ConfigError(f"{where}.topics.{tid}: expected name and keywords")
                tname = _names((top or {}).get("name"), f"{where}.topics.{tid}.name")
                kws = (top or {}).get("keywords") or {}
                if not isinstance(kws, dict) or any(not isinstance(v, list | None) for v in kws.values()):
                    raise ConfigError(f"{where}.topics.{tid}.keywords: expected lists of keywords under fr and en")
                unknown = sorted(set(kws) - {"fr", "en"})
                if unknown:
                    raise ConfigError(f"{where}.topics.{tid}.keywords: unknown language {unknown[0]!r} "
                                      "(fr and en)")
                fr = tuple(str(k) for k in kws.get("fr") or ())
                en = tuple(str(k) for k in kws.get("en") or ())
                if not fr and not en:
                    raise ConfigError(f"{where}.topics.{tid}: no keywords")
                topics.append(Topic(tid, str(fid), str(tname.get("fr", tid)),
                                    str(tname.get("en", tname.get("fr", tid))), fr, en))
                tids.append(str(tid))
            families.append(Family(str(fid), str(fname.get("fr", fid)),
                                   str(fname.get("en", fname.get("fr", fid))), tuple(tids)))
        tax = cls(families, topics, source)
        tax.title = _names(data.get("name"), f"{source}: name")
        return tax

    def title_in(self, lang: str = "fr") -> str:
        """The taxonomy's own name (its `name:`), or its file's stem."""
        t = self.title
        return str(t.get(lang) or t.get("fr") or t.get("en") or Path(self.source).stem)

    # -- matching ---------------------------------------------------------------------
    def _compile(self) -> None:
        single: dict[bytes, set[str]] = {}  # one-token keyword form → topics
        multi: dict[bytes, list[tuple[tuple[_Word, ...], str]]] = {}  # first token → (rest, topic)
        stems: list[tuple[bytes, tuple[_Word, ...], str]] = []  # stem keyword: (prefix, rest, topic)
        for t in self.topics.values():
            for kw in (*t.keywords_fr, *t.keywords_en):
                try:
                    variants = keyword_variants(kw)
                except ValueError as e:
                    raise ConfigError(f"{self.source}: topic {t.id}: bad keyword {kw!r} ({e})") from None
                for words in variants:
                    first, rest = words[0], words[1:]
                    if first.stem:
                        stems.extend((f, rest, t.id) for f in first.forms)
                        continue
                    for form in first.forms:
                        if rest:
                            multi.setdefault(form, []).append((rest, t.id))
                        else:
                            single.setdefault(form, set()).add(t.id)
        self._single = {k: frozenset(v) for k, v in single.items()}
        self._multi = {k: tuple(v) for k, v in multi.items()}
        self._firsts = frozenset(self._single) | frozenset(self._multi)
        self._stems = tuple(stems)
        # A cheap substring test on the whole text rules stems out for most texts.
        self._stem_prefixes = tuple(sorted({p.lstrip(b"#") for p, _, _ in stems}))

    def tag(self, text: str | None) -> list[str]:
        """Topic ids found in a text, sorted (empty for None or no match)."""
        if not text:
            return []
        # Pure-ASCII texts (most English ones) skip the Unicode decomposition.
        raw = text.encode("ascii") if text.isascii() else (
            unicodedata.normalize("NFKD", text).encode("ascii", "ignore"))
        norm = raw.translate(_TABLE)
        tokens = norm.split()
        found: set[str] = set()
        hits = self._firsts.intersection(tokens)
        if hits:
            single, multi = self._single, self._multi
            for h in hits:
                s = single.get(h)
                if s is not None:
                    found.update(s)
                m = multi.get(h)
                if m is not None:
                    # Positions of this first word, found by C-level list.index, not a loop.
                    i = -1
                    while True:
                        try:
                            i = tokens.index(h, i + 1)
                        except ValueError:
                            break
                        for rest, topic in m:
                            if topic not in found and _rest_matches(tokens, i + 1, rest):
                                found.add(topic)
        if self._stems and any(p in norm for p in self._stem_prefixes):
            for i, tok in enumerate(tokens):
                for prefix, rest, topic in self._stems:
                    if (topic not in found and tok.startswith(prefix)
                            and _rest_matches(tokens, i + 1, rest)):
                        found.add(topic)
        return sorted(found)

    def tag_many(self, texts: Iterable[str | None]) -> list[list[str]]:
        """`tag` over many texts (identical texts, e.g. reposts, are tagged once)."""
        cache: dict[str | None, list[str]] = {}
        out = []
        for t in texts:
            r = cache.get(t)
            if r is None:
                r = cache[t] = self.tag(t)
            out.append(r)
        return out

    # -- lookups -----------------------------------------------------------------------
    def family(self, topic_id: str) -> str:
        """The family id of a topic."""
        try:
            return self.topics[topic_id].family
        except KeyError:
            raise KeyError(f"unknown topic {topic_id!r}") from None

    def name(self, topic_id: str, lang: str = "fr") -> str:
        return self.topics[topic_id].name(lang)

    def family_name(self, family_id: str, lang: str = "fr") -> str:
        return self.families[family_id].name(lang)

    @cached_property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.topics))

    def __len__(self) -> int:
        return len(self.topics)


_DEFAULT: dict[str, Taxonomy] = {}
_BY_PATH: dict[tuple[str, int, int], Taxonomy] = {}
_TAGGERS: dict[int, dict[str | None, list[str]]] = {}


def default_taxonomy() -> Taxonomy:
    """The package's first taxonomy (pharma), loaded and compiled once per process."""
    return Taxonomy.load()


def tag(text: str | None) -> list[str]:
    """Tag a text with the package's first taxonomy (pharma); stages use `taxonomy_for(panel)`."""
    return default_taxonomy().tag(text)


def is_shipped(ref: str) -> bool:
    return ref in SHIPPED


def shipped_path(taxonomy_id: str) -> Path:
    if taxonomy_id not in SHIPPED:
        raise ConfigError(f"no shipped topic taxonomy {taxonomy_id!r} (choose from {', '.join(SHIPPED)}, "
                          "or give a YAML file)")
    return TAXONOMY_DIR / f"{taxonomy_id}.yaml"


def taxonomy_path(ref: str | Path, base: Path | None = None) -> Path:
    """The file of a taxonomy reference: a shipped id, or a path (relative to `base` when given
    and the file is there, else to the working directory)."""
    if isinstance(ref, str) and is_shipped(ref):
        return shipped_path(ref)
    p = Path(ref).expanduser()
    if not p.is_absolute() and base is not None and (base / p).exists():
        p = base / p
    return p


def load_taxonomy(ref: str | Path, base: Path | None = None) -> Taxonomy:
    """The compiled taxonomy of a reference (shipped id or file), cached per file version.

    A file that does not validate raises ConfigError with one line naming it and the field.
    """
    p = taxonomy_path(ref, base)
    if not isinstance(ref, Path) and not is_shipped(str(ref)) and p.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"{ref}: not a shipped topic taxonomy ({', '.join(SHIPPED)}) nor a .yaml file")
    try:
        st = p.stat()
    except OSError as e:
        raise ConfigError(f"{p}: cannot read topic taxonomy ({e.strerror})") from None
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    tax = _BY_PATH.get(key)
    if tax is None:
        tax = Taxonomy.load(p)
        if len(tax) == 0:
            raise ConfigError(f"{p}: families: the taxonomy has no topic")
        _BY_PATH[key] = tax
    return tax


def taxonomy_for(panel: Any) -> Taxonomy:
    """The taxonomy a panel names (`panel.topics`: a shipped id or a file; default corporate)."""
    return load_taxonomy(getattr(panel, "topics", None) or DEFAULT_TAXONOMY)


def panel_tagger(panel: Any) -> Callable[[str | None], list[str]]:
    """The panel's taxonomy's `tag`, memoised on the text (one cache per taxonomy).

    Refreshed posts come back with the same text run after run, so most of a daily run's
    texts were tagged before.
    """
    tax = taxonomy_for(panel)
    tag_ = tax.tag
    cache = _TAGGERS.setdefault(id(tax), {})

    def cached(text: str | None) -> list[str]:
        hit = cache.get(text)
        if hit is None:
            if len(cache) > 100_000:
                cache.clear()
            hit = cache[text] = tag_(text)
        return list(hit)

    return cached
