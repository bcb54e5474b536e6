"""Checks of a candidate's source made before it is imported (AST only: nothing of the candidate runs here).

What is *written* is mostly evidence, not a verdict: the candidate step observes what *runs* (observe.py, the
guards) and decides on that. Only constructs that have no legitimate use in a kernel file reject before import
(VERDICT_CHECKS; docs/security.md gives the reasons):

- no_dynamic_code (verdict): calling eval, exec or compile: code built from strings at run time, which neither this
  scan nor a reader can see.
- trusted_functions (verdict): assigning to or deleting an attribute of the modules the worker measures and judges
  with (time, torch, triton, builtins, os, sys, gc, json, threading, tritonize_worker), e.g. `time.perf_counter =`,
  `torch.isclose =`, `torch.Tensor.clone =`; the configuration namespaces (`torch.backends.*`, `*.config.*`) are
  settings, not patches, and pass.
- no_harness_access (verdict): reaching into the worker's process rather than computing: importing tritonize_worker,
  `sys.modules`, frame and code introspection (`sys._getframe`, `inspect.currentframe`, `f_locals`, `f_back`,
  `__globals__`, `__code__`, `__subclasses__`), garbage-collector walks (`gc.get_objects` and the like), tracing
  hooks (`sys.settrace`, `sys.setprofile`), and the switches of PyTorch's op recorder and dispatcher
  (`torch._C._DisableTorchDispatch`, `torch._C._autograd`, `torch.profiler`, `torch.utils._python_dispatch`).
- no_side_streams (verdict): CUDA streams or graphs of its own: the timing contract is one call on the caller's
  stream (the call latency waits for that stream only).
- forbidden_op (evidence): a reference to one of the task's forbidden ops (`[checks].forbidden`), by name, import
  alias, tensor method, `@` for matmul, or constant getattr; the verdict is the runtime observer's (observe.py).
- no_fallback (evidence): an except handler that does not re-raise; legitimate between two Triton paths or around an
  optional import, cheating only if the handler then runs PyTorch's op, which the observer sees.
- dynamic_reference (evidence): importlib, `__import__`, getattr with a computed name, globals/vars/setattr/delattr,
  ctypes, subprocess, socket, multiprocessing, os.system: ways to reach names this scan cannot follow. The sandbox
  (network, file system, environment, processes) holds without this scan.

Each violation names the check, the line and what was found.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

VERDICT_CHECKS = frozenset({"no_dynamic_code", "trusted_functions", "no_harness_access", "no_side_streams"})
EVIDENCE_CHECKS = frozenset({"forbidden_op", "no_fallback", "dynamic_reference"})

CODE_CALLS = frozenset({"eval", "exec", "compile"})
DYNAMIC_CALLS = frozenset({"__import__", "globals", "vars", "setattr", "delattr"})
DYNAMIC_MODULES = frozenset({"importlib", "ctypes", "subprocess", "socket", "multiprocessing"})
DYNAMIC_NAMES = frozenset({"os.system", "os.popen", "os.execv", "os.execve", "os.execvp", "os.spawnv", "os.fork"})
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
# Modules whose attributes the worker relies on: assigning to one is patching the harness.
TRUSTED_MODULES = ("time", "torch", "triton", "builtins", "os", "sys", "gc", "json", "threading", "tritonize_worker")
SETTING_PARTS = frozenset({"backends", "config"})
HARNESS_NAMES = frozenset(
    {
        "sys.modules",
        "sys._getframe",
        "sys.settrace",
        "sys.setprofile",
        "sys._current_frames",
        "threading.settrace",
        "threading.setprofile",
        "inspect.currentframe",
        "inspect.stack",
        "inspect.getouterframes",
        "inspect.getinnerframes",
        "inspect.trace",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "torch._C._DisableTorchDispatch",
        "torch._C._ExcludeDispatchKeyGuard",
        "torch._C._autograd",
        "torch._C._profiler",
        "torch.autograd.profiler",
        "torch.profiler",
        "torch.utils._python_dispatch",
    }
)
HARNESS_ATTRIBUTES = frozenset(
    {"f_locals", "f_back", "f_globals", "tb_frame", "gi_frame", "__globals__", "__code__", "__subclasses__"}
)
HARNESS_MODULES = ("tritonize_worker",)


@dataclass(frozen=True)
class Violation:
    check: str  # one of VERDICT_CHECKS or EVIDENCE_CHECKS
    line: int
    what: str

    @property
    def verdict(self) -> bool:
        return self.check in VERDICT_CHECKS

    def __str__(self) -> str:
        return f"{self.check}: line {self.line}: {self.what}"


def check_source(source: str, forbidden: tuple[str, ...]) -> list[Violation]:
    """Every violation in `source` (which must parse), verdicts and evidence. `forbidden` holds dotted names."""
    tree = ast.parse(source)
    visitor = _Visitor(frozenset(forbidden))
    visitor.visit(tree)
    unique = {(v.line, v.check, v.what): v for v in visitor.violations}
    return sorted(unique.values(), key=lambda v: (v.line, v.check))


def _under(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


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
        if _under(module, DYNAMIC_MODULES):
            self._add("dynamic_reference", node, f"imports {module}")
        if _under(module, HARNESS_MODULES):
            self._add("no_harness_access", node, f"imports {module}, the worker's own code")
        elif _under(module, HARNESS_NAMES):
            self._add("no_harness_access", node, f"imports {module}")

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
        if _under(name, HARNESS_NAMES):
            self._add("no_harness_access", node, f"uses {name}")
        elif name in DYNAMIC_NAMES:
            self._add("dynamic_reference", node, f"uses {name}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self._resolve(node)
        if name is not None:
            self._check_name(node, name)
            if isinstance(node.ctx, (ast.Store, ast.Del)):
                self._check_patch(node, name)
        if node.attr in HARNESS_ATTRIBUTES:
            self._add("no_harness_access", node, f"uses .{node.attr} (introspection of the running code)")
        # x.softmax(...), or any reference to the method through an expression.
        if node.attr in self.methods and (name is None or not name.startswith("triton")) and name not in self.forbidden:
            self._add("forbidden_op", node, f"uses the method .{node.attr}, forbidden in this task")
        self.generic_visit(node)

    def _check_patch(self, node: ast.AST, name: str) -> None:
        parts = name.split(".")
        if _under(name, TRUSTED_MODULES) and len(parts) > 1 and not SETTING_PARTS & set(parts[1:-1]):
            self._add("trusted_functions", node, f"assigns to {name}")

    def visit_Name(self, node: ast.Name) -> None:
        resolved = self.aliases.get(node.id)
        if resolved is not None and resolved != node.id:
            self._check_name(node, resolved)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in CODE_CALLS and func.id not in self.aliases:
            self._add("no_dynamic_code", node, f"calls {func.id}() (code from a string)")
        if isinstance(func, ast.Name) and func.id in DYNAMIC_CALLS:
            self._add("dynamic_reference", node, f"calls {func.id}()")
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr") and len(node.args) >= 2:
            self._check_getattr(node, func.id)
        self.generic_visit(node)

    def _check_getattr(self, node: ast.Call, function: str) -> None:
        name = node.args[1]
        if not isinstance(name, ast.Constant) or not isinstance(name.value, str):
            self._add("dynamic_reference", node, f"calls {function}() with a computed attribute name")
            return
        owner = self._resolve(node.args[0])
        if owner is not None:
            full = f"{owner}.{name.value}"
            self._check_name(node, full)
            if function != "getattr":
                self._check_patch(node, full)
        if name.value in self.last_parts:
            self._add("forbidden_op", node, f"reaches {name.value!r} through {function}")
        if name.value in HARNESS_ATTRIBUTES:
            self._add("no_harness_access", node, f"reaches {name.value!r} through {function}")

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
                self._add("no_fallback", handler, "an except handler that does not re-raise")
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
