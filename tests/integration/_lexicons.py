"""A validator for the subset of the Lexicon schema language Bluesky's read endpoints use.

Reads the official lexicon files (never writes them) and checks a value against a definition:
object (required, nullable, open to extra fields), ref and union (refs resolved across files;
a union member must carry a `$type` naming one of its refs, open unions included), array (items, min/maxLength),
string (formats did, handle, at-uri, at-identifier, cid, datetime, uri, language, nsid, tid,
record-key; maxLength in UTF-8 bytes, maxGraphemes, minLength, enum, const), integer
(minimum, maximum, enum, const), boolean (const), unknown (any object; a record with a known
`$type` is validated against that record's schema).

`Lexicons(folder).output_errors(nsid, body)` lists what is wrong with an endpoint's response
(empty when it validates); `errors(ref, value)` does the same for any definition.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

_DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
_HANDLE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
_NSID = re.compile(
    r"^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+(\.[a-zA-Z]([a-zA-Z0-9]{0,62})?)$"
)
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_RKEY = re.compile(r"^[a-zA-Z0-9._:~-]{1,512}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[a-z][a-z0-9.+-]*:\S+$")
_LANGUAGE = re.compile(r"^(i|[a-z]{2,3})(-[a-zA-Z0-9]{1,8})*$")


def _at_uri(v: str) -> bool:
    m = re.match(r"^at://([^/?#]+)(/([^/?#]+)(/([^/?#]+))?)?$", v)
    if not m or len(v) > 8192:
        return False
    authority, coll, rkey = m.group(1), m.group(3), m.group(5)
    if not (_DID.match(authority) or _handle(authority)):
        return False
    if coll is not None and not _NSID.match(coll):
        return False
    return rkey is None or (bool(_RKEY.match(rkey)) and rkey not in (".", ".."))


def _handle(v: str) -> bool:
    return len(v) <= 253 and bool(_HANDLE.match(v)) and not v.rsplit(".", 1)[-1][0].isdigit()


def _cid(v: str) -> bool:
    """A base32 (multibase `b`) CIDv1 with a sha2-256 multihash, codec dag-cbor or raw."""
    if not re.match(r"^b[a-z2-7]+$", v):
        return False
    try:
        raw = base64.b32decode(v[1:].upper() + "=" * (-len(v[1:]) % 8))
    except ValueError:
        return False
    return len(raw) == 36 and raw[0] == 1 and raw[1] in (0x71, 0x55) and raw[2:4] == b"\x12\x20"


def _datetime(v: str) -> bool:
    if not _DATETIME.match(v) or v.endswith("-00:00"):
        return False
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


FORMATS = {
    "did": lambda v: len(v) <= 2048 and bool(_DID.match(v)),
    "handle": _handle,
    "at-identifier": lambda v: bool(_DID.match(v)) or _handle(v),
    "at-uri": _at_uri,
    "cid": _cid,
    "datetime": _datetime,
    "uri": lambda v: len(v) <= 8192 and bool(_URI.match(v)),
    "language": lambda v: bool(_LANGUAGE.match(v)),
    "nsid": lambda v: bool(_NSID.match(v)),
    "tid": lambda v: bool(_TID.match(v)),
    "record-key": lambda v: bool(_RKEY.match(v)) and v not in (".", ".."),
}


def graphemes(s: str) -> int:
    """Grapheme clusters, approximately: code points that are not combining marks, joiners
    or variation selectors."""
    return sum(
        1
        for c in s
        if not unicodedata.combining(c) and c not in "\u200d\ufe0e\ufe0f" and not 0x1F3FB <= ord(c) <= 0x1F3FF
    )


class Lexicons:
    def __init__(self, folder: Path) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        for path in sorted(folder.rglob("*.json")):
            doc = json.loads(path.read_text())
            self.docs[doc["id"]] = doc
        self.checked: set[str] = set()  # the definitions some value was checked against

    # -- references ----------------------------------------------------------------------------
    def full(self, ref: str, ctx: str) -> str:
        """`#def` → `ctx#def`; `lex.id` → `lex.id#main`."""
        if ref.startswith("#"):
            return ctx + ref
        return ref if "#" in ref else ref + "#main"

    def resolve(self, full: str) -> tuple[dict[str, Any], str]:
        lex, _, name = full.partition("#")
        if lex not in self.docs or name not in self.docs[lex]["defs"]:
            raise KeyError(f"unresolved lexicon reference {full!r}")
        return self.docs[lex]["defs"][name], lex

    # -- entry points --------------------------------------------------------------------------
    def output_errors(self, nsid: str, body: Any) -> list[str]:
        main, _ = self.resolve(nsid + "#main")
        schema = main["output"]["schema"]
        return self._check(schema, body, nsid, "$")

    def errors(self, ref: str, value: Any) -> list[str]:
        full = self.full(ref, "")
        d, lex = self.resolve(full)
        return self._check(d, value, lex, "$")

    # -- the checks ------------------------------------------------------------------------------
    def _check(self, s: dict[str, Any], v: Any, ctx: str, at: str) -> list[str]:
        t = s["type"]
        if t == "ref":
            full = self.full(s["ref"], ctx)
            self.checked.add(full)
            d, lex = self.resolve(full)
            return self._check(d, v, lex, at)
        if t == "union":
            return self._union(s, v, ctx, at)
        if t == "record":
            return self._check(s["record"], v, ctx, at)
        if t == "object":
            return self._object(s, v, ctx, at)
        if t == "array":
            return self._array(s, v, ctx, at)
        if t == "string":
            return self._string(s, v, at)
        if t == "integer":
            return self._integer(s, v, at)
        if t == "boolean":
            if not isinstance(v, bool):
                return [f"{at}: expected a boolean, got {v!r}"]
            return [f"{at}: must be {s['const']}"] if "const" in s and v != s["const"] else []
        if t == "unknown":
            return self._unknown(v, at)
        if t == "token":
            return [f"{at}: a token is not a value"]
        return [f"{at}: lexicon type {t!r} is not supported by this checker"]

    def _object(self, s: dict[str, Any], v: Any, ctx: str, at: str) -> list[str]:
        if not isinstance(v, dict):
            return [f"{at}: expected an object, got {type(v).__name__}"]
        errs = [f"{at}: missing required {k!r}" for k in s.get("required", []) if k not in v]
        nullable = set(s.get("nullable", []))
        for k, sub in s.get("properties", {}).items():
            if k not in v:
                continue
            if v[k] is None:
                if k not in nullable:
                    errs.append(f"{at}.{k}: null is not allowed")
                continue
            errs.extend(self._check(sub, v[k], ctx, f"{at}.{k}"))
        return errs

    def _union(self, s: dict[str, Any], v: Any, ctx: str, at: str) -> list[str]:
        if not isinstance(v, dict) or not isinstance(v.get("$type"), str):
            return [f"{at}: a union member must be an object with a $type"]
        refs = {self.full(r, ctx) for r in s["refs"]}
        vt = self.full(v["$type"], "")
        if vt not in refs:
            # Stricter than the spec for open unions: what the simulator serves must be a type
            # the lexicon names, so a client built on these lexicons can read all of it.
            return [f"{at}: $type {v['$type']!r} is not one of {sorted(refs)}"]
        self.checked.add(vt)
        d, lex = self.resolve(vt)
        return self._check(d, v, lex, at)

    def _array(self, s: dict[str, Any], v: Any, ctx: str, at: str) -> list[str]:
        if not isinstance(v, list):
            return [f"{at}: expected an array, got {type(v).__name__}"]
        errs = []
        if "maxLength" in s and len(v) > s["maxLength"]:
            errs.append(f"{at}: {len(v)} items, at most {s['maxLength']}")
        if "minLength" in s and len(v) < s["minLength"]:
            errs.append(f"{at}: {len(v)} items, at least {s['minLength']}")
        for i, item in enumerate(v):
            errs.extend(self._check(s["items"], item, ctx, f"{at}[{i}]"))
        return errs

    def _string(self, s: dict[str, Any], v: Any, at: str) -> list[str]:
        if not isinstance(v, str):
            return [f"{at}: expected a string, got {v!r}"]
        errs = []
        fmt = s.get("format")
        if fmt is not None:
            check = FORMATS.get(fmt)
            if check is None:
                errs.append(f"{at}: string format {fmt!r} is not supported by this checker")
            elif not check(v):
                errs.append(f"{at}: {v!r} is not a valid {fmt}")
        n = len(v.encode())
        if "maxLength" in s and n > s["maxLength"]:
            errs.append(f"{at}: {n} bytes, at most {s['maxLength']}")
        if "minLength" in s and n < s["minLength"]:
            errs.append(f"{at}: {n} bytes, at least {s['minLength']}")
        if "maxGraphemes" in s and graphemes(v) > s["maxGraphemes"]:
            errs.append(f"{at}: {graphemes(v)} graphemes, at most {s['maxGraphemes']}")
        if "enum" in s and v not in s["enum"]:
            errs.append(f"{at}: {v!r} is not one of {s['enum']}")
        if "const" in s and v != s["const"]:
            errs.append(f"{at}: must be {s['const']!r}")
        return errs

    def _integer(self, s: dict[str, Any], v: Any, at: str) -> list[str]:
        if not isinstance(v, int) or isinstance(v, bool):
            return [f"{at}: expected an integer, got {v!r}"]
        errs = []
        if "minimum" in s and v < s["minimum"]:
            errs.append(f"{at}: {v} < minimum {s['minimum']}")
        if "maximum" in s and v > s["maximum"]:
            errs.append(f"{at}: {v} > maximum {s['maximum']}")
        if "enum" in s and v not in s["enum"]:
            errs.append(f"{at}: {v} is not one of {s['enum']}")
        if "const" in s and v != s["const"]:
            errs.append(f"{at}: must be {s['const']}")
        return errs

    def _unknown(self, v: Any, at: str) -> list[str]:
        if not isinstance(v, dict):
            return [f"{at}: an unknown-typed value must be an object"]
        t = v.get("$type")
        if isinstance(t, str):
            full = self.full(t, "")
            try:
                d, lex = self.resolve(full)
            except KeyError:
                return []  # a record type outside these lexicons: nothing to check it against
            if d["type"] == "record":
                self.checked.add(full)
                return self._check(d, v, lex, at)
        return []
