"""`make mutation`: mutation testing of the core modules against their unit tests.

    .venv/bin/python tests/mutation/run.py [--module score/pagerank.py] [--sample N]
        [--survivors] [--match TEXT] [--list] [--no-write]

Each mutant is one small change to one module (an operator, a comparison, a constant, a
boolean, a `not`, a `break`), made by rewriting the module's syntax tree. The module is
mutated in a temporary copy of the repository (never the working tree), and the unit tests
that import it run against that copy: `pytest -x -q -p no:cacheprovider <those tests>`, one
process at a time. A mutant is killed when the tests fail (or time out, or cannot import);
it survives when they pass. A surviving mutant is either a missing test or an equivalent
mutant (one that changes nothing observable): equivalent mutants are listed, each with a
one-line reason, in tests/mutation/equivalent.txt, and the score leaves them out:

    score = killed / (mutants − listed equivalents)

Listed mutants are run too: one the tests kill is not equivalent, and is reported as an
error, as is a listed id that no longer exists (the code moved on).

Writes the score per module to bench/results.json (section `tests`; the other sections are
kept) and the full report to build/mutation/report.json; prints the survivors. Exits 1 when
a module is under the target, or the equivalent list is wrong. `--module M` re-runs one
module and replaces its part of the report and of the scores; `--survivors` re-runs only the
previous report's survivors (a quick check after adding tests; writes nothing).

Mutant ids are stable across unrelated edits: `module:function:operator:change#n`, n the
occurrence of that change within the function (in source order).
"""

from __future__ import annotations

import argparse
import ast
import compileall
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "barometer"
MODULES = ("score/scoring.py", "score/pagerank.py", "score/arrays.py", "collect/parse.py", "collect/fetch.py")
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"
REPORT = ROOT / "build" / "mutation" / "report.json"
RESULTS = ROOT / "bench" / "results.json"
TARGET_PCT = 85.0
PYTEST = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=0")

# Operator replacements (one mutant each).
BINOPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult,),
    ast.FloorDiv: (ast.Div,), ast.Mod: (ast.FloorDiv,), ast.Pow: (ast.Mult,),
    ast.LShift: (ast.RShift,), ast.RShift: (ast.LShift,), ast.BitOr: (ast.BitAnd,),
    ast.BitAnd: (ast.BitOr,), ast.BitXor: (ast.BitOr,), ast.MatMult: (ast.Mult,),
}
CMPOPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.GtE), ast.LtE: (ast.Lt, ast.Gt), ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}
SYMBOL = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&",
    ast.BitXor: "^", ast.MatMult: "@", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Eq: "==", ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is",
    ast.IsNot: "is not", ast.And: "and", ast.Or: "or",
}


@dataclass
class Mutant:
    id: str
    module: str
    line: int
    source: str  # the original line
    change: str  # what the mutant does, e.g. "< → <="
    status: str = ""  # killed | survived | equivalent | equivalent-killed
    detail: str = ""  # why killed (first failing test) or the equivalence reason
    seconds: float = 0.0


# -- finding mutation points ----------------------------------------------------------------
@dataclass
class _Point:
    qualname: str
    op: str
    change: str
    node: ast.AST
    line: int
    col: int
    apply: object  # (tree node) -> None, applied to the matching node of a fresh parse


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """Nodes never mutated: docstrings, annotations, imports, raise messages, f-strings."""
    skip: set[int] = set()

    def mark(n: ast.AST | None) -> None:
        if n is not None:
            skip.update(id(x) for x in ast.walk(n))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            mark(body[0])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            mark(node.returns)
            for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                      node.args.vararg, node.args.kwarg):
                if a is not None:
                    mark(a.annotation)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            mark(node)
        elif isinstance(node, ast.Raise):
            # The message of an exception is text; its type and condition are what tests pin.
            for c in ast.walk(node):
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    skip.add(id(c))
                if isinstance(c, ast.JoinedStr):
                    mark(c)
        elif isinstance(node, ast.JoinedStr):
            mark(node)
    return skip


def _qualnames(tree: ast.Module) -> dict[int, str]:
    names: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                q = f"{prefix}.{child.name}" if prefix else child.name
                for n in ast.walk(child):
                    names[id(n)] = q
                visit(child, q)
            else:
                visit(child, prefix)

    visit(tree, "")
    return names


def _const_change(value: object) -> tuple[str, object] | None:
    if isinstance(value, bool):
        return f"{value} → {not value}", (not value)
    if isinstance(value, int):
        return f"{value} → {value + 1}", value + 1
    if isinstance(value, float):
        new = value + 1.0 if value != 0 and abs(value) < 1e15 else 1.0
        if new == value:  # huge floats
            new = value * 2
        return f"{value!r} → {new!r}", new
    if isinstance(value, str):
        new = f"XX{value}XX"
        return f"{value!r} → {new!r}", new
    return None


def points(source: str) -> list[_Point]:
    """Every mutation of a module, in source order (one parse; apply on a fresh one)."""
    tree = ast.parse(source)
    skip = _skipped_nodes(tree)
    qual = _qualnames(tree)
    out: list[_Point] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        q = qual.get(id(node), "<module>")
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)

        def add(op: str, change: str, fn: object, node: ast.AST = node, q: str = q, line: int = line,
                col: int = col) -> None:
            out.append(_Point(q, op, change, node, line, col, fn))

        if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in BINOPS:
            for new in BINOPS[type(node.op)]:
                add("binop" if isinstance(node, ast.BinOp) else "augop",
                    f"{SYMBOL[type(node.op)]} → {SYMBOL[new]}",
                    lambda n, new=new: setattr(n, "op", new()))
        elif isinstance(node, ast.Compare):
            for i, cop in enumerate(node.ops):
                for new in CMPOPS.get(type(cop), ()):
                    def swap(n: ast.Compare, i: int = i, new: type = new) -> None:
                        n.ops[i] = new()
                    add("cmp", f"{SYMBOL[type(cop)]} → {SYMBOL[new]}", swap)
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            add("bool", f"{SYMBOL[type(node.op)]} → {SYMBOL[new]}", lambda n, new=new: setattr(n, "op", new()))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.Invert):
            sym = {ast.Not: "not ", ast.USub: "-", ast.Invert: "~"}[type(node.op)]
            add("unary", f"drop {sym.strip()}", "unwrap")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
            ch = _const_change(node.value)
            if ch is not None and node.value is not None and node.value is not Ellipsis:
                add("const", ch[0], lambda n, v=ch[1]: setattr(n, "value", v))
        elif isinstance(node, ast.Break):
            add("flow", "break → continue", "continue")
        elif isinstance(node, ast.Continue):
            add("flow", "continue → break", "break")
    out.sort(key=lambda p: (p.line, p.col, p.op, p.change))
    return out


def _node_key(node: ast.AST) -> tuple[str, int, int, int, int]:
    return (type(node).__name__, node.lineno, node.col_offset,  # type: ignore[attr-defined]
            getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)


def mutate(source: str, point: _Point) -> str:
    """The module's source with one mutation applied (unparsed from the tree)."""
    tree = ast.parse(source)
    want = _node_key(point.node)
    parents: dict[int, tuple[ast.AST, str, int | None]] = {}
    target = None
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if isinstance(v, ast.AST):
                        parents[id(v)] = (node, field, i)
            elif isinstance(value, ast.AST):
                parents[id(value)] = (node, field, None)
        if target is None and hasattr(node, "lineno") and _node_key(node) == want:
            target = node
    assert target is not None, point
    if point.apply == "unwrap" or point.apply in ("continue", "break"):
        new: ast.AST = target.operand if point.apply == "unwrap" else (  # type: ignore[attr-defined]
            ast.Continue() if point.apply == "continue" else ast.Break())
        parent, field, i = parents[id(target)]
        if i is None:
            setattr(parent, field, new)
        else:
            getattr(parent, field)[i] = new
    else:
        point.apply(target)  # type: ignore[operator]
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def mutants_of(module: str) -> list[tuple[Mutant, _Point]]:
    source = (PACKAGE / module).read_text(encoding="utf-8")
    lines = source.splitlines()
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for p in points(source):
        k = (p.qualname, p.op, p.change)
        seen[k] = seen.get(k, 0) + 1
        mid = f"{module}:{p.qualname or '<module>'}:{p.op}:{p.change}#{seen[k]}"
        out.append((Mutant(mid, module, p.line, lines[p.line - 1].strip(), p.change), p))
    return out


# -- which tests ----------------------------------------------------------------------------
def tests_for(module: str, test_dir: Path) -> list[str]:
    """The unit test files that import the module (by its dotted name or from its package)."""
    pkg, name = module.removesuffix(".py").split("/")
    dotted = re.compile(rf"\bbarometer\.{pkg}\.{name}\b")
    from_pkg = re.compile(rf"from barometer\.{pkg} import \(?[^)]*?\b{name}\b", re.S)
    out = []
    for f in sorted(test_dir.glob("test_*.py")):
        text = f.read_text(encoding="utf-8")
        if dotted.search(text) or from_pkg.search(text):
            out.append(f"tests/unit/{f.name}")
    return out


# -- the equivalent list --------------------------------------------------------------------
def load_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """{mutant id: reason} from lines `id  # reason` (blank lines and # comments skipped)."""
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        mid, sep, reason = line.partition("  # ")
        if not sep or not reason.strip():
            raise SystemExit(f"{path.name}:{n}: `id  # reason` expected (a reason is required): {raw!r}")
        out[mid.strip()] = reason.strip()
    return out


# -- the sandbox ----------------------------------------------------------------------------
class Sandbox:
    """A temporary copy of what the unit tests need; one module file swapped per mutant."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="barometer-mutation-"))
        self.root = self.tmp / "main"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
        shutil.copytree(ROOT / "layers", self.root / "layers", ignore=ignore)
        shutil.copytree(ROOT / "tests" / "unit", self.root / "tests" / "unit", ignore=ignore)
        shutil.copy(ROOT / "tests" / "conftest.py", self.root / "tests" / "conftest.py")
        shutil.copy(ROOT / "pyproject.toml", self.root / "pyproject.toml")
        for extra in ("panels", "queries"):
            if (ROOT / extra).is_dir():
                shutil.copytree(ROOT / extra, self.root / extra, ignore=ignore)
        (self.root / "docs").mkdir()
        for md in (ROOT / "docs").glob("*.md"):
            shutil.copy(md, self.root / "docs" / md.name)
        shared = ROOT.parent / "shared"
        if shared.is_dir():  # the recorded X API fixtures (tests find them next to the repo)
            (self.tmp / "shared").symlink_to(shared)
        compileall.compile_dir(self.root / "layers", quiet=1)
        self.env = {**os.environ, "PYTHONPATH": str(self.root / "layers"), "PYTHONDONTWRITEBYTECODE": "1",
                    "PYTHONHASHSEED": "0"}

    def path(self, module: str) -> Path:
        return self.root / "layers" / "barometer" / module

    def write(self, module: str, source: str) -> None:
        p = self.path(module)
        p.write_text(source, encoding="utf-8")
        # No stale bytecode: the child never writes it, and the copy's is removed.
        for pyc in (p.parent / "__pycache__").glob(p.stem + ".*.pyc"):
            pyc.unlink()

    def run(self, tests: list[str], timeout: float) -> tuple[int, float, str]:
        """(exit code or -1 on timeout, seconds, the last lines of the output)."""
        shutil.rmtree(self.root / ".hypothesis", ignore_errors=True)  # no examples carried over
        t0 = time.perf_counter()
        try:
            p = subprocess.run([sys.executable, *PYTEST, *tests], cwd=self.root, env=self.env,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return -1, time.perf_counter() - t0, "timeout"
        return p.returncode, time.perf_counter() - t0, (p.stdout + p.stderr)[-3000:]

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _failure(out: str) -> str:
    m = re.search(r"^(FAILED|ERROR) (\S+)", out, flags=re.M)
    return m.group(2) if m else out.strip().splitlines()[-1][:200] if out.strip() else ""


# -- running --------------------------------------------------------------------------------
def run_module(box: Sandbox, module: str, selected: list[tuple[Mutant, _Point]], equivalent: dict[str, str],
               log: bool = True) -> tuple[list[Mutant], list[str], float]:
    tests = tests_for(module, box.root / "tests" / "unit")
    if not tests:
        raise SystemExit(f"mutation: no unit test imports {module}")
    original = box.path(module).read_text(encoding="utf-8")  # the copy: others may edit the tree
    # The baseline runs the unparsed (not mutated) module: the tests must pass on it.
    baseline_src = ast.unparse(ast.parse(original)) + "\n"
    box.write(module, baseline_src)
    probe = subprocess.run([sys.executable, "-c", "import barometer, sys; sys.stdout.write(barometer.__file__)"],
                           cwd=box.root, env=box.env, capture_output=True, text=True)
    if not probe.stdout.startswith(str(box.root)):
        raise SystemExit(f"mutation: the sandbox imports barometer from {probe.stdout!r}, not the copy")
    # Each test file alone first: the fastest run first for every mutant (-x stops at the
    # first failure, so a killed mutant costs the quickest file that notices it).
    took: dict[str, float] = {}
    for t in tests:
        rc, took[t], out = box.run([t], timeout=600)
        if rc != 0:
            raise SystemExit(f"mutation: {t} fails on the unmutated {module}:\n{out}")
    tests = sorted(tests, key=took.__getitem__)
    base_s = sum(took.values())
    timeout = base_s * 4 + 15
    if log:
        print(f"mutation: {module}: {len(selected)} mutants, tests {' '.join(tests)} "
              f"(baseline {base_s:.1f} s)", file=sys.stderr, flush=True)
    done: list[Mutant] = []
    try:
        for i, (m, p) in enumerate(selected, 1):
            box.write(module, mutate(original, p))
            rc, secs, out = box.run(tests, timeout)
            m.seconds = round(secs, 2)
            killed = rc != 0
            if m.id in equivalent:
                m.status = "equivalent-killed" if killed else "equivalent"
                m.detail = (_failure(out) if killed else equivalent[m.id])
            else:
                m.status = "killed" if killed else "survived"
                m.detail = ("timeout" if rc == -1 else _failure(out)) if killed else ""
            done.append(m)
            if log:
                mark = {"killed": ".", "survived": "S", "equivalent": "e", "equivalent-killed": "!"}[m.status]
                print(mark, end="" if i % 60 else f" {i}/{len(selected)}\n", file=sys.stderr, flush=True)
    finally:
        box.write(module, original)
    if log:
        print(file=sys.stderr)
    return done, tests, base_s


def summarise(results: list[Mutant]) -> dict[str, int | float]:
    n = len(results)
    eq = sum(m.status.startswith("equivalent") for m in results)
    killed = sum(m.status == "killed" for m in results)
    scored = n - eq
    return {"mutants": n, "equivalent": eq, "killed": killed, "survived": scored - killed,
            "score_pct": round(100.0 * killed / scored, 1) if scored else 100.0}


def total_of(per_module: dict[str, dict[str, int | float]]) -> dict[str, int | float]:
    keys = ("mutants", "equivalent", "killed", "survived")
    out: dict[str, int | float] = {k: sum(int(s[k]) for s in per_module.values()) for k in keys}
    scored = out["mutants"] - out["equivalent"]
    out["score_pct"] = round(100.0 * out["killed"] / scored, 1) if scored else 100.0
    return out


def figure(value: object, unit: str, target: str | None = None, met: bool | None = None,
           note: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {"value": value, "unit": unit, "target": target, "met": met}
    if note:
        out["note"] = note
    return out


def write_results(per_module: dict[str, dict[str, int | float]], total: dict[str, int | float],
                  seconds: float, sample: int | None) -> None:
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    section: dict[str, object] = {}
    target = f">= {TARGET_PCT:g}"
    for module, s in per_module.items():
        name = "mutation_" + module.removesuffix(".py").replace("/", "_") + "_pct"
        section[name] = figure(s["score_pct"], "%", target, s["score_pct"] >= TARGET_PCT,
                               f"{s['killed']} of {s['mutants'] - s['equivalent']} killed "
                               f"({s['equivalent']} listed equivalent of {s['mutants']})")
    section["mutation_pct"] = figure(total["score_pct"], "%", target, total["score_pct"] >= TARGET_PCT,
                                     f"{total['killed']} of {total['mutants'] - total['equivalent']} killed, "
                                     f"five core modules" + (f", {sample} sampled per module" if sample else ""))
    section["mutation_survivors"] = figure(total["survived"], "mutants", note="not killed, not listed "
                                           "equivalent: build/mutation/report.json")
    section["mutation_equivalent"] = figure(total["equivalent"], "mutants",
                                            note="tests/mutation/equivalent.txt")
    section["section_s"] = figure(round(seconds, 1), "s")
    results["tests"] = section
    RESULTS.write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", action="append", choices=MODULES, help="only this module (repeatable)")
    ap.add_argument("--sample", type=int, help="at most N mutants per module, spread evenly (quick look)")
    ap.add_argument("--match", help="only mutants whose id contains this text")
    ap.add_argument("--survivors", action="store_true", help="only the previous report's survivors")
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument("--no-write", action="store_true", help="do not write bench/results.json")
    args = ap.parse_args(argv)
    equivalent = load_equivalent()
    modules = list(args.module or MODULES)
    previous: set[str] = set()
    if args.survivors:
        rep = json.loads(REPORT.read_text(encoding="utf-8"))
        previous = {m["id"] for m in rep["mutants"] if m["status"] in ("survived", "equivalent-killed")}
    every = {mod: mutants_of(mod) for mod in modules}
    ids = {m.id for ms in every.values() for m, _ in ms}
    stale = sorted(i for i in equivalent if i.split(":", 1)[0] in modules and i not in ids)
    if args.list:
        for ms in every.values():
            for m, _ in ms:
                print(f"{m.id}\tline {m.line}: {m.source}")
        return 0
    t0 = time.perf_counter()
    box = Sandbox()
    all_results: list[Mutant] = []
    per_module: dict[str, dict[str, int | float]] = {}
    tests_of: dict[str, list[str]] = {}
    module_s: dict[str, float] = {}
    try:
        for mod in modules:
            sel = every[mod]
            if args.match:
                sel = [x for x in sel if args.match in x[0].id]
            if args.survivors:
                sel = [x for x in sel if x[0].id in previous]
            if args.sample and len(sel) > args.sample:
                step = len(sel) / args.sample
                sel = [sel[int(i * step)] for i in range(args.sample)]
            if not sel:
                continue
            t_mod = time.perf_counter()
            res, tests_of[mod], _ = run_module(box, mod, sel, equivalent)
            module_s[mod] = round(time.perf_counter() - t_mod, 1)
            all_results += res
            per_module[mod] = summarise(res)
    finally:
        box.close()
    seconds = time.perf_counter() - t0
    total = summarise(all_results)

    print(f"\n{'module':<22}{'mutants':>8}{'equiv.':>8}{'killed':>8}{'survived':>9}{'score':>8}")
    for mod, s in per_module.items():
        print(f"{mod:<22}{s['mutants']:>8}{s['equivalent']:>8}{s['killed']:>8}{s['survived']:>9}"
              f"{s['score_pct']:>7.1f}%")
    print(f"{'all':<22}{total['mutants']:>8}{total['equivalent']:>8}{total['killed']:>8}"
          f"{total['survived']:>9}{total['score_pct']:>7.1f}%   ({seconds / 60:.0f} min)")
    survivors = [m for m in all_results if m.status == "survived"]
    wrong = [m for m in all_results if m.status == "equivalent-killed"]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}): a missing test each, or an equivalent mutant to list "
              f"in {EQUIVALENT.relative_to(ROOT)} with its reason")
        for m in survivors:
            print(f"  {m.id}\n      line {m.line}: {m.source}")
    if wrong:
        print(f"\nlisted as equivalent but killed by the tests ({len(wrong)}): remove them from the list")
        for m in wrong:
            print(f"  {m.id}  ({m.detail})")
    if stale and not (args.match or args.survivors):
        print(f"\nlisted as equivalent but no longer a mutant ({len(stale)}): remove them from the list")
        for i in stale:
            print(f"  {i}")

    REPORT.parent.mkdir(parents=True, exist_ok=True)
    whole = not (args.survivors or args.match)  # every mutant of the modules run (or a sample)
    report = {"modules": per_module, "tests": tests_of, "sample": args.sample, "module_seconds": module_s,
              "mutants": [asdict(m) for m in all_results]}
    if whole and args.module and not args.sample and REPORT.exists():
        # A module run replaces that module's part of the last complete report: the others'
        # figures stand as they were measured.
        prev = json.loads(REPORT.read_text(encoding="utf-8"))
        if not prev.get("sample"):
            report["modules"] = {m: per_module.get(m) or prev["modules"][m] for m in MODULES
                                 if m in per_module or m in prev["modules"]}
            report["tests"] = {**prev.get("tests", {}), **tests_of}
            seen_s: dict[str, float] = {}
            for m in prev["mutants"]:  # a report without module times: its mutants' own
                seen_s[m["module"]] = round(seen_s.get(m["module"], 0.0) + m["seconds"], 1)
            report["module_seconds"] = {**seen_s, **prev.get("module_seconds", {}), **module_s}
            report["mutants"] = [m for m in prev["mutants"] if m["module"] not in per_module] + report["mutants"]
    mods: dict[str, dict[str, int | float]] = report["modules"]  # type: ignore[assignment]
    report["total"] = total_of(mods)
    if whole:
        REPORT.write_text(json.dumps(report, indent=1) + "\n")
    if whole and not args.no_write and set(mods) == set(MODULES):
        write_results(mods, report["total"], sum(report["module_seconds"].values()), args.sample)  # type: ignore[arg-type]
        print(f"\nscores -> {RESULTS.relative_to(ROOT)} (section tests); report -> {REPORT.relative_to(ROOT)}")
    under = [mod for mod, s in per_module.items() if s["score_pct"] < TARGET_PCT]
    return 1 if under or wrong or (stale and not (args.match or args.survivors)) else 0


if __name__ == "__main__":
    sys.exit(main())
