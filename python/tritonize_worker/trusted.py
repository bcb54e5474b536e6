"""The functions the worker trusts, taken before the candidate is imported and checked unpatched after its calls.

A candidate runs in the worker's process, so it can reach any module: patching time.perf_counter, CUDA events,
the profiler, torch.allclose or the worker's own functions would fake a time or a verdict. `TrustedSnapshot`
records each such attribute (and, for the worker's functions, their code objects) before the import; `patched()`
lists whatever differs afterwards, and the job is rejected naming it (check `trusted_functions`).

The comparison itself runs in another process (compare.py) that never imports candidate code; this snapshot
guards what must stay in the candidate's process: the timers, the profiler and the guards.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# module path -> attributes whose identity must not change.
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "time": ("perf_counter", "perf_counter_ns", "time", "monotonic", "process_time"),
    "builtins": ("getattr", "isinstance", "len", "id", "open", "print"),
    "json": ("dump", "dumps"),
    "os": ("replace", "_exit"),
    "torch": ("isclose", "allclose", "equal", "empty", "empty_like", "zeros", "randn", "rand", "Tensor"),
    "torch.Tensor": ("clone", "copy_", "data_ptr", "untyped_storage", "to", "backward", "__eq__", "float", "sum"),
    "torch.cuda": ("synchronize", "Event", "current_stream", "Stream", "set_stream", "is_available", "_sleep",
                   "empty_cache"),
    "torch.cuda.Event": ("record", "elapsed_time", "synchronize", "query"),
    "torch.profiler": ("profile",),
    "torch._C._autograd": (
        "_prepare_profiler",
        "_enable_profiler",
        "_disable_profiler",
        "_record_function_with_args_enter",
        "_record_function_with_args_exit",
    ),
    "torch.testing": ("assert_close",),
    "triton.testing": ("do_bench",),
    "triton.runtime.autotuner.Autotuner": ("do_bench",),
}
_WORKER_MODULES = (
    "tritonize_worker.guards",
    "tritonize_worker.observe",
    "tritonize_worker.check",
    "tritonize_worker.errors",
    "tritonize_worker.watchdog",
    "tritonize_worker.trusted",
    "tritonize_worker.timing",
    "tritonize_worker.tuning",
    "tritonize_worker.autotune_timer",
    "tritonize_worker.l2_flush",
    "tritonize_worker.tensor_files",
    "tritonize_worker.inputs",
    "tritonize_worker.candidate",
    "tritonize_worker.job",
    "tritonize_worker.protocol",
    "tritonize_worker.__main__",
)


def _resolve(path: str) -> Any:
    """A module or a class by dotted path; None when not importable (e.g. triton.testing without triton)."""
    if path in sys.modules:
        return sys.modules[path]
    try:
        return importlib.import_module(path)
    except ImportError:
        module, _, attr = path.rpartition(".")
        owner = _resolve(module) if module else None
        return getattr(owner, attr, None) if owner is not None else None


class TrustedSnapshot:
    def __init__(self, modules: dict[str, tuple[str, ...]] | None = None, worker_modules=_WORKER_MODULES):
        self.values: dict[str, Any] = {}
        for owner_path, names in (modules or _ATTRIBUTES).items():
            owner = _resolve(owner_path)
            if owner is None:
                continue
            for name in names:
                if hasattr(owner, name):
                    self.values[f"{owner_path}.{name}"] = (owner, name, _raw(owner, name))
        for module_name in worker_modules:
            module = sys.modules.get(module_name)
            if module is None:
                continue
            for name, value in vars(module).items():
                if isinstance(value, types.FunctionType) and value.__module__ == module_name:
                    self._function(f"{module_name}.{name}", module, name, value)
                elif isinstance(value, type) and value.__module__ == module_name:
                    # The worker's classes: their methods too (a patched TrustedSnapshot.patched would see nothing).
                    for method_name, method in vars(value).items():
                        if isinstance(method, (staticmethod, classmethod)):
                            method = method.__func__
                        if isinstance(method, types.FunctionType):
                            path = f"{module_name}.{name}.{method_name}"
                            self._function(path, value, method_name, _raw(value, method_name))

    def _function(self, path: str, owner: Any, name: str, value: Any) -> None:
        self.values[path] = (owner, name, value)
        function = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        self.values[path + ".__code__"] = (function, "__code__", function.__code__)

    def patched(self) -> list[str]:
        """The trusted names whose value changed since the snapshot."""
        changed = []
        for path, (owner, name, value) in self.values.items():
            try:
                now = _raw(owner, name)
            except AttributeError:
                changed.append(path + " (deleted)")
                continue
            if now is not value:
                changed.append(path)
        return changed


def _raw(owner: Any, name: str) -> Any:
    # Classes: the attribute as stored (a descriptor), not a fresh bound or wrapper object per access.
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if name in klass.__dict__:
                return klass.__dict__[name]
    return getattr(owner, name)
