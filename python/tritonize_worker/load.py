"""Loading an implementation: parse, import from its file, evaluate the entry expression.

Each step has its status: syntax_error, import_error, missing_entry.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .errors import JobFailure, describe, format_detail

_module_numbers = itertools.count()


def load_entry(path: str, entry: str, label: str) -> Callable[..., Any]:
    """The callable that `entry` evaluates to in the module at `path`; `label` names the module."""
    return load_module(path, entry, label)[1]


def load_module(path: str, entry: str, label: str) -> tuple[ModuleType, Callable[..., Any]]:
    """The module at `path` and its entry."""
    source = read_source(path)
    check_syntax(source, path)
    module = _import_file(path, label)
    return module, _evaluate_entry(module, entry, path)


def read_source(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise JobFailure("import_error", f"cannot read {path}: {describe(exc)}") from exc


def check_syntax(source: str, path: str) -> None:
    try:
        compile(source, path, "exec")
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes in the source
        raise JobFailure("syntax_error", describe(exc), format_detail(exc)) from exc


def _import_file(path: str, label: str) -> ModuleType:
    # A unique name per import: the baseline and a candidate may share a file name, or be the same file.
    slug = re.sub(r"\W", "_", label)
    name = f"tritonize_impl_{slug}_{next(_module_numbers)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise JobFailure("import_error", f"cannot import {path}: not a Python module file")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as a normal import does: dataclasses and pickling look modules up by name.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        del sys.modules[name]
        raise JobFailure("import_error", describe(exc), format_detail(exc)) from exc
    return module


def _evaluate_entry(module: ModuleType, entry: str, path: str) -> Callable[..., Any]:
    try:
        value = eval(entry, vars(module))  # the entry is an expression by contract (docs/protocol.md)
    except (Exception, SystemExit) as exc:
        raise JobFailure("missing_entry", f"entry {entry!r} in {path}: {describe(exc)}", format_detail(exc)) from exc
    if not callable(value):
        raise JobFailure("missing_entry", f"entry {entry!r} in {path} is a {type(value).__name__}, not callable")
    return value
