"""Extract a task's expert implementation from a Triton tutorial.

    python -m tritonize_worker.extract --tutorials DIR --tasks-dir DIR --out DIR [--task NAME ...]

For every task whose manifest has an `[expert]` table, the tutorial file is parsed (never run) and cut down
to what its entry expression needs: all top-level imports plus the transitive closure of the top-level
statements that bind the names the entry reads. Tests, benchmarks, prints and plots go. Kept statements
keep their source text byte for byte. docs/expert.md states the rules; OUT/extract.json records the result.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import dataclasses
import hashlib
import importlib.metadata
import io
import json
import symtable
import sys
import tokenize
from pathlib import Path

from .experts import ExpertSpec, header, library_expert, new_record, read_experts

SCHEMA_VERSION = 2

_MODULE_DUNDERS = frozenset(
    {"__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__", "__annotations__"}
)
_COMPREHENSIONS = frozenset({"listcomp", "setcomp", "dictcomp", "genexpr"})
# Method calls that change the object they are called on; a dropped top-level call of one on a kept name is
# reported, since the extracted module then sees a different object than the tutorial does.
_MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault", "add", "pop", "remove", "clear"})


class ExtractError(Exception):
    """An expected failure (bad tutorial, unknown entry, missing file): the message is one readable line."""


@dataclasses.dataclass(frozen=True)
class Dropped:
    line: int
    kind: str  # def, class, assign, call, expr, docstring, if, for, while, try, with, assert, ...
    name: str  # what the statement binds or calls, or its condition, shortened


@dataclasses.dataclass(frozen=True)
class ExtractResult:
    code: str  # the kept statements, source text in source order, without a header
    kept: list[str]  # names bound by the kept statements, in source order
    dropped: list[Dropped]
    warnings: list[str]


@dataclasses.dataclass
class _Statement:
    """One top-level statement and the module-level names it binds and reads."""

    node: ast.stmt
    binds: list[str]
    reads_now: set[str]  # read when the statement runs: module level, decorators, defaults, class bodies
    reads_later: set[str]  # read when something it defines is called: function and lambda bodies


def extract_tutorial(source: str, entry: str, filename: str = "<tutorial>") -> ExtractResult:
    """Keeps the imports and the statements that `entry` needs; raises ExtractError when it cannot."""
    module = _parse(source, filename)
    statements = [_analyse(node, filename) for node in module.body]
    roots = entry_names(entry)
    bindings = _bindings(statements)
    for name in roots:
        if name not in bindings:
            raise ExtractError(f"entry {entry!r}: {name!r} is not defined at the top level of {filename}")
    kept, unresolved = _closure(statements, bindings, roots)
    if unresolved:
        raise ExtractError(f"{filename}: kept code reads undefined names: {'; '.join(unresolved)}")
    return ExtractResult(
        code=_kept_code(source, module.body, kept),
        kept=[name for i in sorted(kept) for name in statements[i].binds],
        dropped=[_describe(statements[i], i == 0) for i in range(len(statements)) if i not in kept],
        warnings=_warnings(statements, bindings, kept),
    )


def _parse(source: str, filename: str) -> ast.Module:
    try:
        # compile() also finds what the parser lets through (`return` outside a function, `nonlocal` at module
        # level), which the tutorial could not run with either.
        compile(source, filename, "exec", dont_inherit=True)
        return ast.parse(source, filename)
    except (SyntaxError, ValueError) as e:  # ValueError: null bytes, in some Python versions
        where = f"{filename}:{e.lineno}" if getattr(e, "lineno", None) else filename
        raise ExtractError(f"{where}: syntax error: {getattr(e, 'msg', e)}") from e


def entry_names(entry: str) -> list[str]:
    """The module-level names the entry expression reads; a lambda's parameters and builtins are not among them."""
    try:
        ast.parse(entry.strip(), "<entry>", mode="eval")
    except SyntaxError as e:
        raise ExtractError(f"entry {entry!r} is not a Python expression: {e.msg}") from e
    table = symtable.symtable(f"__entry__ = ({entry.strip()})\n", "<entry>", "exec")
    names = [s.get_name() for s in table.get_symbols() if s.is_referenced()]
    tables = list(table.get_children())
    while tables:
        child = tables.pop(0)
        names += [s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()]
        tables += child.get_children()
    return [n for n in dict.fromkeys(names) if n != "__entry__" and not hasattr(builtins, n)]


def _analyse(node: ast.stmt, filename: str) -> _Statement:
    # symtable gives Python's own scoping (locals, globals, class scopes, comprehensions) for the statement
    # compiled alone; its unparsed text is equivalent to the original for this purpose.
    top = symtable.symtable(ast.unparse(node), filename, "exec")
    # Python 3.12 inlines comprehensions (PEP 709): their variables then show up in the module's table.
    inlined = _comprehension_only_names(node)
    binds = [s.get_name() for s in top.get_symbols()
             if (s.is_assigned() or s.is_imported()) and s.get_name() not in inlined]
    reads_now = ({s.get_name() for s in top.get_symbols() if s.is_referenced()} | _augmented_names(node)) - inlined
    statement = _Statement(node, binds, reads_now, set())
    for child in top.get_children():
        _collect_global_reads(child, later=False, into=statement)
    return statement


def _augmented_names(node: ast.stmt) -> set[str]:
    """Names of `x += ...` at module level: a read that symtable records as a binding only."""
    found: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(current, ast.AugAssign) and isinstance(current.target, ast.Name):
            found.add(current.target.id)
        stack.extend(ast.iter_child_nodes(current))
    return found


def _comprehension_only_names(node: ast.stmt) -> set[str]:
    """Names bound only as comprehension variables in the statement: never module-level names."""
    targets = [t for c in ast.walk(node) if isinstance(c, ast.comprehension) for t in ast.walk(c.target)]
    in_targets = {id(t) for t in targets if isinstance(t, ast.Name)}
    elsewhere = {n.id for n in ast.walk(node)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in in_targets}
    return {t.id for t in targets if isinstance(t, ast.Name)} - elsewhere


def _collect_global_reads(table: symtable.SymbolTable, later: bool, into: _Statement) -> None:
    is_function = table.get_type() != "class" and table.get_name() not in _COMPREHENSIONS
    later = later or is_function
    reads = into.reads_later if later else into.reads_now
    # `global x` counts as a read even where x is only assigned (`x += 1` is no reference to symtable).
    reads.update(s.get_name() for s in table.get_symbols()
                 if s.is_declared_global() or (s.is_global() and s.is_referenced()))
    for child in table.get_children():
        _collect_global_reads(child, later, into)


def _bindings(statements: list[_Statement]) -> dict[str, list[int]]:
    """Name -> indices of the top-level statements that bind it, in source order."""
    bindings: dict[str, list[int]] = {}
    for i, statement in enumerate(statements):
        for name in statement.binds:
            bindings.setdefault(name, []).append(i)
    return bindings


# Top-level statements that may run without binding what they bind.
_CONDITIONAL = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try)


def _closure(statements: list[_Statement], bindings: dict[str, list[int]], roots: list[str]):
    """Indices of the statements to keep, and the names kept code reads that nothing binds in time.

    Kept: the statements binding the entry's names, then, transitively, those binding what kept code reads.

    A read at import time resolves to the last binding before the reading statement (or to the statement itself:
    a loop variable); a read inside a function body or by the entry happens after the whole module ran, so it
    resolves to the module's last binding. Names read by nothing kept are not checked.
    """
    # Imports are kept like any other binding, when kept code reads a name they bind: an unused `import tabulate`
    # or `import pytest` would only make the module fail where that package is missing. A star import is kept.
    kept = {i for i, s in enumerate(statements)
            if isinstance(s.node, ast.ImportFrom) and s.node.names[0].name == "*"}
    star_import = bool(kept)
    work = list(kept) + [bindings[name][-1] for name in roots]
    unresolved: set[str] = set()
    while work:
        i = work.pop()
        kept.add(i)
        reads = [(name, True) for name in statements[i].reads_now]
        reads += [(name, False) for name in statements[i].reads_later]
        for name, now in sorted(reads):
            candidates = [j for j in bindings.get(name, []) if j < i or not now]
            if candidates:
                # The last binding, and those before it while it binds only on a condition (`if`, a loop, `try`):
                # `configs = [...]` then `if "PYTEST_VERSION" in os.environ: configs = [one]` needs both.
                for j in reversed(candidates):
                    if j not in kept:
                        work.append(j)
                        kept.add(j)
                    if not isinstance(statements[j].node, _CONDITIONAL):
                        break
            elif name in statements[i].binds:
                continue  # bound by the statement itself before it reads it: `for row in rows: total += row`
            elif name not in _MODULE_DUNDERS and not hasattr(builtins, name) and not star_import:
                line = statements[i].node.lineno
                later = bindings.get(name)
                unresolved.add(f"{name} (line {line}, read at import before its definition on line "
                               f"{statements[later[0]].node.lineno})" if later else f"{name} (line {line})")
    return kept, sorted(unresolved)


def _kept_code(source: str, nodes: list[ast.stmt], kept: set[int]) -> str:
    lines = source.split("\n")
    parts: list[str] = []
    previous = None
    for i in sorted(kept):
        first = _first_line(nodes[i])
        if previous is not None:
            gap = lines[nodes[previous].end_lineno : first - 1]
            adjacent = previous == i - 1 and all(not line.strip() for line in gap)
            parts.append("\n" * (len(gap) + 1) if adjacent else "\n\n\n")
        parts.append(_segment(source, lines, nodes, i))
        previous = i
    return "".join(parts) + "\n" if parts else ""


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _segment(source: str, lines: list[str], nodes: list[ast.stmt], i: int) -> str:
    """The statement's source text: whole lines, so that decorators and a trailing comment come along."""
    node = nodes[i]
    shares_line = (i > 0 and nodes[i - 1].end_lineno == node.lineno) or (
        i + 1 < len(nodes) and nodes[i + 1].lineno == node.end_lineno
    )
    if shares_line:  # `a = 1; b = 2`: only this statement's columns
        return ast.get_source_segment(source, node) or ""
    return "\n".join(lines[_first_line(node) - 1 : node.end_lineno])


def _describe(statement: _Statement, first: bool) -> Dropped:
    node = statement.node
    kind, name = type(node).__name__.lower(), ", ".join(statement.binds)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        kind = "def"
    elif isinstance(node, ast.ClassDef):
        kind = "class"
    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        kind, name = "assign", name or ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        kind, name = "call", ast.unparse(node.value.func)
    elif isinstance(node, ast.Expr) and first and isinstance(node.value, ast.Constant):
        kind, name = "docstring", ""
    elif isinstance(node, (ast.If, ast.While, ast.Assert)):
        name = ast.unparse(node.test)
    elif isinstance(node, ast.For):
        name = f"{ast.unparse(node.target)} in {ast.unparse(node.iter)}"
    elif isinstance(node, ast.Expr):
        name = ast.unparse(node.value)
    return Dropped(node.lineno, kind, _shorten(name))


def _shorten(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _warnings(statements: list[_Statement], bindings: dict[str, list[int]], kept: set[int]) -> list[str]:
    """Dropped statements that rebind or modify a kept name: the extracted module may then differ."""
    kept_names = {n for i in kept if not isinstance(statements[i].node, (ast.Import, ast.ImportFrom))
                  for n in statements[i].binds}
    found = []
    for i, statement in enumerate(statements):
        if i in kept:
            continue
        touched = sorted((set(statement.binds) | _mutated_names(statement.node)) & kept_names)
        for name in touched:
            kept_line = statements[max(j for j in bindings[name] if j in kept)].node.lineno
            found.append(f"line {statement.node.lineno}: a dropped statement binds or modifies {name!r}, "
                         f"kept from line {kept_line}")
    return found


def _mutated_names(node: ast.stmt) -> set[str]:
    """Root names of `x.a = ...`, `x[k] = ...`, `x += ...`, `del x[k]`, `x.append(...)` at top level."""
    targets: list[ast.expr] = []
    if isinstance(node, (ast.Assign, ast.Delete)):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
            targets = [func.value]
    names = set()
    while targets:
        target = targets.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
            continue
        while isinstance(target, (ast.Attribute, ast.Subscript, ast.Starred)):
            target = target.value
        if isinstance(target, ast.Name):
            names.add(target.id)
    return names


# The command line: manifests in, one module per expert and extract.json out.


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # 1. Read the manifests; configuration problems are reported all at once.
    experts, problems = read_experts(Path(args.tasks_dir), args.task)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        problems.append(f"cannot create the output directory {out}: {e.strerror}")
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    # 2. Extract every expert; one that fails is recorded and the others go on.
    version = _triton_version()
    root = Path(args.tutorials) if args.tutorials else None
    records = [
        _extract_tutorial_expert(e, root, out, version) if e.tutorial else library_expert(e, out) for e in experts
    ]
    # 3. Write the report and say what happened.
    report = {"schema_version": SCHEMA_VERSION, "triton": version, "tasks": records}
    (out / "extract.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for record in records:
        label = f"{record['task']} ({record['expert']})"
        if record["status"] == "ok":
            print(f"{label}: ok, {len(record['kept'])} names kept, "
                  f"{len(record['dropped'])} statements dropped -> {record['module']}")
        else:
            print(f"{label}: error: {record['message']}")
        for warning in record["warnings"]:
            print(f"{label}: warning: {warning}", file=sys.stderr)
    return 1 if any(record["status"] != "ok" for record in records) else 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tritonize_worker.extract",
        description="Write each task's expert modules: kernels cut out of a Triton tutorial, or imported from an "
        "installed library (see docs/expert.md).",
    )
    parser.add_argument("--tutorials", metavar="DIR",
                        help="a Triton checkout (holding python/tutorials) or the tutorials folder itself; without"
                        " it, the tutorial experts fail and say so")
    parser.add_argument("--tasks-dir", required=True, metavar="DIR", help="folder of tasks/<name>/task.toml")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="where <task>.<expert>.py and extract.json are written")
    parser.add_argument("--task", action="append", default=[], metavar="NAME",
                        help="only this task (repeatable); default: every task with an [[expert]]")
    return parser.parse_args(argv)


def _extract_tutorial_expert(expert: ExpertSpec, root: Path | None, out: Path, version: str | None) -> dict:
    module = out / expert.file_name
    record = new_record(expert, "tutorial")
    if root is None:
        record["message"] = (f"task {expert.task}, expert {expert.name}: no Triton tutorials checkout (--tutorials"
                             f" DIR, or TRITONIZE_TUTORIALS for tritonize); {checkout_hint(version)}")
        module.unlink(missing_ok=True)
        return record
    tutorials = root / "python" / "tutorials" if (root / "python" / "tutorials").is_dir() else root
    path = (tutorials / expert.tutorial).absolute()
    record["path"] = str(path)
    try:
        data = _read_tutorial(root, path, version)
        record["sha256"] = hashlib.sha256(data).hexdigest()
        result = extract_tutorial(_decode(data, path), expert.entry, str(path))
    except ExtractError as e:
        record["message"] = f"task {expert.task}, expert {expert.name}: {e}"
        module.unlink(missing_ok=True)  # a stale module from an earlier run would pass for this one
        return record
    text = header(expert, f"{path}", record["sha256"], f"triton: {version or 'not installed'}", result.kept,
                  [dataclasses.asdict(d) for d in result.dropped], result.warnings)
    with open(module, "w", encoding="utf-8", newline="") as f:
        f.write(text + result.code)
    record.update(status="ok", module=str(module.absolute()), kept=result.kept,
                  dropped=[dataclasses.asdict(d) for d in result.dropped], warnings=result.warnings)
    return record


def _read_tutorial(root: Path, path: Path, version: str | None) -> bytes:
    if not root.exists():
        raise ExtractError(f"Triton tutorials not found: {root.absolute()} does not exist; {checkout_hint(version)}")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ExtractError(f"tutorial file not found: {path}; {checkout_hint(version)}") from None
    except OSError as e:
        raise ExtractError(f"cannot read {path}: {e.strerror}") from None


def _decode(data: bytes, path: Path) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as e:
        raise ExtractError(f"{path}: cannot decode the source: {e}") from None


def checkout_hint(version: str | None) -> str:
    """How to get the tutorials of the installed triton: a shallow, sparse clone at its release tag."""
    tag = f"v{version.split('+')[0]}" if version else "vX.Y.Z"
    where = f"the tag of the installed triton {version}" if version else "use the tag of the triton the worker runs"
    return (f"get them with: git clone --depth 1 --filter=blob:none --sparse --branch {tag} "
            f"https://github.com/triton-lang/triton && git -C triton sparse-checkout set python/tutorials "
            f"({where}), then pass --tutorials triton")


def _triton_version() -> str | None:
    # The installed distribution's metadata: no import of triton (slow, and it may need a GPU driver).
    for distribution in ("triton", "pytorch-triton", "pytorch-triton-rocm"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


if __name__ == "__main__":
    sys.exit(main())
