"""The X search query language, as the simulator understands it.

Supported: implicit AND, `OR`, parentheses, "quoted phrases", `@handle`, `#hashtag`, bare
keywords, negation `-term`, `is:retweet`, `is:reply`, `is:quote`, `lang:xx`, `from:handle` or
`from:<user id>` (X takes either).
Matching is case- and accent-insensitive and token-based, as X's is: a keyword matches a
whole word of the text (so `sanofi` matches "Sanofi" and "@sanofi", not "sanofiaventis").
AND binds tighter than OR, as on X.

Queries evaluate to sets of post positions through an inverted index built lazily over the
world's posts, and results are cached per query: a brand's query costs one evaluation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from barometer.sim.world import Post

_WORD = re.compile(r"\w+")
_TOKENS = re.compile(r"[@#]?\w+")


class QueryError(ValueError):
    """A query X would reject (400 invalid-request)."""


def fold(s: str) -> str:
    """Lower-case, accents stripped: the form both texts and query terms are compared in.

    NFKD then ASCII drops combining accents in C; characters with no ASCII form (emoji,
    "œ") vanish on both sides of a comparison alike, so matching stays consistent.
    """
    return unicodedata.normalize("NFKD", s.lower()).encode("ascii", "ignore").decode()


# -- AST ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Term(Node):
    word: str


@dataclass(frozen=True)
class Phrase(Node):
    words: tuple[str, ...]


@dataclass(frozen=True)
class Mention(Node):
    handle: str


@dataclass(frozen=True)
class Hashtag(Node):
    tag: str


@dataclass(frozen=True)
class Is(Node):
    what: str


@dataclass(frozen=True)
class Lang(Node):
    code: str


@dataclass(frozen=True)
class From(Node):
    handle: str


@dataclass(frozen=True)
class Not(Node):
    child: Node


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]


_TOKEN = re.compile(r'\s*(?:(\()|(\))|(-?)"([^"]*)"|(-?)([^\s()"]+))')
_IS_VALUES = {"retweet", "reply", "quote"}


def parse(query: str) -> Node:
    if not query.strip():
        raise QueryError("There were errors processing your request: empty query")
    if len(query) > 4096:
        raise QueryError("Query is too long")
    tokens: list[tuple[str, str | Node]] = []
    pos = 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        m = _TOKEN.match(query, pos)
        if not m or m.end() == pos:
            raise QueryError(
                f"There were errors processing your request: unexpected character at position {pos}"
            )
        pos = m.end()
        if m.group(1):
            tokens.append(("(", "("))
        elif m.group(2):
            tokens.append((")", ")"))
        elif m.group(4) is not None:
            words = tuple(_WORD.findall(fold(m.group(4))))
            if not words:
                raise QueryError("There were errors processing your request: empty phrase")
            node: Node = Phrase(words) if len(words) > 1 else Term(words[0])
            tokens.append(("atom", Not(node) if m.group(3) else node))
        else:
            raw = m.group(6)
            if raw == "OR" and not m.group(5):
                tokens.append(("OR", "OR"))
                continue
            node = _atom(raw)
            tokens.append(("atom", Not(node) if m.group(5) else node))
    parser = _Parser(tokens)
    tree = parser.expr()
    if parser.i != len(tokens):
        raise QueryError("There were errors processing your request: unbalanced parentheses")
    if _only_negative(tree):
        raise QueryError("There were errors processing your request: a query cannot be only negations")
    return tree


def _only_negative(n: Node) -> bool:
    if isinstance(n, Not):
        return True
    if isinstance(n, And):
        return all(_only_negative(c) for c in n.children)
    if isinstance(n, Or):
        return any(_only_negative(c) for c in n.children)
    return False


def _atom(raw: str) -> Node:
    low = raw.lower()
    if low.startswith("@") and len(raw) > 1:
        return Mention(fold(raw[1:]))
    if low.startswith("#") and len(raw) > 1:
        return Hashtag(fold(raw[1:]))
    if low.startswith("is:"):
        what = low[3:]
        if what not in _IS_VALUES:
            raise QueryError(
                f"There were errors processing your request: Reference to invalid operator 'is:{what}'"
            )
        return Is(what)
    if low.startswith("lang:"):
        return Lang(low[5:])
    if low.startswith("from:"):
        return From(fold(raw[5:].removeprefix("@")))
    words = _WORD.findall(fold(raw))
    if not words:
        raise QueryError(f"There were errors processing your request: invalid term {raw!r}")
    return Term(words[0]) if len(words) == 1 else Phrase(tuple(words))


class _Parser:
    def __init__(self, tokens: list[tuple[str, str | Node]]) -> None:
        self.t = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.t[self.i][0] if self.i < len(self.t) else None

    def expr(self) -> Node:
        parts = [self.conj()]
        while self.peek() == "OR":
            self.i += 1
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conj(self) -> Node:
        parts: list[Node] = []
        while self.peek() in ("atom", "("):
            kind, val = self.t[self.i]
            self.i += 1
            if kind == "(":
                parts.append(self.expr())
                if self.peek() != ")":
                    raise QueryError("There were errors processing your request: missing ')'")
                self.i += 1
            else:
                assert isinstance(val, Node)
                parts.append(val)
        if not parts:
            raise QueryError("There were errors processing your request: operator without operand")
        return parts[0] if len(parts) == 1 else And(tuple(parts))


# -- evaluation -------------------------------------------------------------------------------
class SearchIndex:
    """Posts (by position in `posts`) matching queries; term sets are computed lazily.

    Each post is reduced once to its folded tokens joined by spaces (mentions and hashtags
    keep their '@'/'#'); a term is then a substring scan for " word " over those strings,
    done once per distinct term and cached, as are whole queries.
    """

    def __init__(self, posts: Sequence[Post], usernames: dict[str, str]) -> None:
        self.posts = posts
        self.usernames = usernames  # user id → handle
        self._folded: list[str] | None = None
        self._terms: dict[tuple[str, str], frozenset[int]] = {}
        self._cache: dict[str, list[int]] = {}
        # Evaluated sub-queries: a brand's query reused with `from:<author>` look-backs
        # (collect/lookback.py) is evaluated once, not once per author.
        self._nodes: dict[Node, frozenset[int]] = {}
        self._authors: dict[str, frozenset[int]] | None = None

    def _texts(self) -> list[str]:
        if self._folded is None:
            self._folded = [" " + " ".join(_TOKENS.findall(fold(p.text))) + " " for p in self.posts]
        return self._folded

    def _scan(self, kind: str, needles: tuple[str, ...]) -> frozenset[int]:
        key = (kind, "|".join(needles))
        hit = self._terms.get(key)
        if hit is None:
            texts = self._texts()
            if len(needles) == 1:
                n0 = needles[0]
                hit = frozenset(i for i, t in enumerate(texts) if n0 in t)
            else:
                hit = frozenset(i for i, t in enumerate(texts) if any(n in t for n in needles))
            self._terms[key] = hit
        return hit

    def positions(self, query: str) -> list[int]:
        """Sorted positions of the posts matching `query` (any time, deleted or not)."""
        hit = self._cache.get(query)
        if hit is None:
            tree = parse(query)
            hit = sorted(self._eval(tree))
            self._cache[query] = hit
        return hit

    def _by_author(self, who: str) -> frozenset[int]:
        """Positions of the posts of a user, given by id or by handle (folded)."""
        if self._authors is None:
            groups: dict[str, set[int]] = {}
            for i, p in enumerate(self.posts):
                groups.setdefault(p.author_id, set()).add(i)
            self._authors = {a: frozenset(g) for a, g in groups.items()}
            for a, h in self.usernames.items():
                if a in self._authors:
                    self._authors.setdefault(fold(h), self._authors[a])
        return self._authors.get(who, frozenset())

    def _eval(self, n: Node) -> set[int]:
        if isinstance(n, (And, Or, Not)):
            hit = self._nodes.get(n)
            if hit is None:
                hit = self._nodes[n] = frozenset(self._eval_node(n))
            return set(hit)
        return self._eval_node(n)

    def _eval_node(self, n: Node) -> set[int]:
        if isinstance(n, Term):
            # A bare keyword also matches the same word as a mention or a hashtag.
            w = n.word
            return set(self._scan("term", (f" {w} ", f" @{w} ", f" #{w} ")))
        if isinstance(n, Phrase):
            return set(self._scan("phrase", (" " + " ".join(n.words) + " ",)))
        if isinstance(n, Mention):
            return set(self._scan("mention", (f" @{n.handle} ",)))
        if isinstance(n, Hashtag):
            return set(self._scan("tag", (f" #{n.tag} ",)))
        if isinstance(n, Is):
            kind = {"retweet": "repost", "reply": "reply", "quote": "quote"}[n.what]
            return {i for i, p in enumerate(self.posts) if p.kind == kind}
        if isinstance(n, Lang):
            return {i for i, p in enumerate(self.posts) if p.lang == n.code}
        if isinstance(n, From):
            return set(self._by_author(n.handle))
        if isinstance(n, Not):
            return set(range(len(self.posts))) - self._eval(n.child)
        if isinstance(n, And):
            pos = [c for c in n.children if not isinstance(c, Not)]
            neg = [c for c in n.children if isinstance(c, Not)]
            sets = sorted((self._eval(c) for c in pos), key=len)  # smallest first
            out = sets[0] if sets else set(range(len(self.posts)))
            for other in sets[1:]:
                out &= other
            for neg_node in neg:
                assert isinstance(neg_node, Not)
                out -= self._eval(neg_node.child)
            return out
        if isinstance(n, Or):
            out = set()
            for c in n.children:
                out |= self._eval(c)
            return out
        raise TypeError(n)
