"""Checks of a candidate's source made before it is imported (AST only: nothing of the candidate runs here).

- forbidden_op: the task's forbidden ops (`[checks].forbidden` in the manifest, e.g. torch.softmax for the softmax
  task) are not referenced at all: not called, not aliased, not reached through getattr with a constant name.
  Import aliases are resolved (`import torch.nn.functional as F; F.softmax`), and a method `torch.Tensor.x` in the
  list forbids every `<expr>.x(...)` call.
- no_fallback: no try/except whose handler swallows the error (a handler must re-raise): a kernel that fails and
  falls back to the PyTorch op would otherwise pass as the kernel.
- no_dynamic_code: no eval/exec/compile/__import__/importlib/getattr with a computed name, which would hide
  forbidden references from this check.
- no_side_streams: no CUDA streams or graphs of the candidate's own (work the timer might not see).

Each violation names the check, the line and what was found.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

DYNAMIC_CALLS = frozenset({"eval", "exec", "compile", "__import__", "globals", "vars", "setattr", "delattr"})
DYNAMIC_MODULES = frozenset({"importlib", "ctypes", "subprocess", "socket", "multiprocessing", "os.system"})
STREAM_NAMES = frozenset(
    {
        "torch.cuda.Stream",
        "torch.cuda.stream",
        "torch.cuda.set_stream",
        "torch.cuda.ExternalStream",
        "torch.cuda.CUDAGraph",
        "torch.cuda.graph",
        "torch.Stream",
    }
)


@dataclass(frozen=True)
class Violation:
    check: str  # forbidden_op | no_fallback | no_dynamic_code | no_side_streams
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.check}: line {self.line}: {self.what}"


def check_source(source: str, forbidden: tuple[str, ...]) -> list[Violation]:
    """Every violation in `source` (which must parse). `forbidden` holds dotted names."""
    tree = ast.parse(source)
    visitor = _Visitor(frozenset(forbidden))
    visitor.visit(tree)
    return sorted(visitor.violations, key=lambda v: (v.line, v.check))


class _Visitor(ast.NodeVisitor):
    def __init__(self, forbidden: frozenset[str]):
        self.forbidden = forbidden
        self.methods = frozenset(name.rsplit(".", 1)[1] for name in forbidden if name.startswith("torch.Tensor."))
        self.last_parts = frozenset(name.rsplit(".", 1)[-1] for name in forbidden)
        self.aliases: dict[str, str] = {}  # local name -> dotted module or object path
        self.violations: list[Violation] = []

    def _add(self, check: str, node: ast.AST, what: str) -> None:
        self.violations.append(Violation(check, getattr(node, "lineno", 0), what))

    # Imports define the aliases that dotted names are resolved through.
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.aliases[root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._check_module(node, module)
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            self._check_module(node, full)
            self.aliases[alias.asname or alias.name] = full
            self._check_name(node, full)

    def _check_module(self, node: ast.AST, module: str) -> None:
        if module.split(".")[0] in DYNAMIC_MODULES or module in DYNAMIC_MODULES:
            self._add("no_dynamic_code", node, f"imports {module}")

    def _resolve(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self._resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def _check_name(self, node: ast.AST, name: str) -> None:
        if name in self.forbidden:
            self._add("forbidden_op", node, f"uses {name}, forbidden in this task")
        elif name in STREAM_NAMES:
            self._add("no_side_streams", node, f"uses {name}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self._resolve(node)
        if name is not None:
            self._check_name(node, name)
        # x.softmax(...), or any reference to the method through an expression.
        if node.attr in self.methods and (name is None or not name.startswith("triton")) and name not in self.forbidden:
            self._add("forbidden_op", node, f"uses the method .{node.attr}, forbidden in this task")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        resolved = self.aliases.get(node.id)
        if resolved is not None and resolved != node.id:
            self._check_name(node, resolved)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in DYNAMIC_CALLS:
            self._add("no_dynamic_code", node, f"calls {func.id}()")
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            name = node.args[1]
            if not isinstance(name, ast.Constant) or not isinstance(name.value, str):
                self._add("no_dynamic_code", node, "calls getattr() with a computed attribute name")
            elif name.value in self.last_parts:
                self._add("forbidden_op", node, f"reaches {name.value!r} through getattr")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.MatMult) and "torch.Tensor.__matmul__" in self.forbidden:
            self._add("forbidden_op", node, "uses the @ operator (torch.Tensor.__matmul__), forbidden in this task")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.op, ast.MatMult) and "torch.Tensor.__matmul__" in self.forbidden:
            self._add("forbidden_op", node, "uses the @= operator (torch.Tensor.__matmul__), forbidden in this task")
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        for handler in node.handlers:
            if not _reraises(handler.body):
                self._add("no_fallback", handler, "an except handler that does not re-raise (a fallback)")
        self.generic_visit(node)

    visit_TryStar = visit_Try


def _reraises(body: list[ast.stmt]) -> bool:
    """The handler ends by raising (bare raise or a new exception), on every path we can see."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.If):
        return _reraises(last.body) and _reraises(last.orelse)
    return False
