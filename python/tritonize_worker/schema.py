"""The manifest schema (manifest_schema.toml), read once, and the field-by-field check it defines.

The engine runs the same check from the same file (src/core/manifest_schema.cpp), with the same messages:
`<path>: <what is wrong>`, a path such as `inputs[0].dtype` or `tolerance.y.atol`.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("manifest_schema.toml")


@functools.cache
def schema() -> dict[str, Any]:
    with open(SCHEMA_PATH, "rb") as file:
        return tomllib.load(file)


def vocab(name: str) -> tuple[str, ...]:
    return tuple(schema()["vocab"][name])


def table_fields(table: str) -> dict[str, dict[str, Any]]:
    return schema()["tables"][table]


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "null" if value is None else type(value).__name__


_TYPE_TEXT = {
    "string": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "strings": "a list of strings",
    "ints": "a list of integers",
    "table": "a table",
    "tables": "a list of tables",
    "map": "a table",
    "shape": "a shape (a list of dim names, numbers or formulas)",
    "shapes": "a list of shapes",
    "bound": "a number or a formula over the dims",
    "value": "a number, a boolean or a list",
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_shape(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in value
    )


_SCALAR_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "ints": lambda v: isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v),
    "shape": _is_shape,
    "shapes": lambda v: isinstance(v, list) and all(_is_shape(x) for x in v),
    "bound": lambda v: isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)),
    "value": lambda v: _is_number(v) or isinstance(v, bool) or _is_shape(v),
}

# What a `value` must be for each input kind.
VALUE_TYPES = {"shape": "shape", "int": "int", "float": "float", "bool": "bool"}


def check_fields(obj: Any, table: str, where: str, problems: list[str], kind: str | None = None) -> bool:
    """Checks `obj` against the schema's table: unknown, missing and mistyped fields, recursively.

    `kind` is the input kind, for the fields that belong to some kinds only ("": unknown, such fields are not
    looked at). True when nothing was wrong."""
    before = len(problems)
    if not isinstance(obj, dict):
        problems.append(f"{where or 'the manifest'}: expected a table, got {json_type(obj)}")
        return False
    # Keys in sorted order, as the engine's JSON keeps them: the same problems in the same order.
    fields = dict(sorted(table_fields(table).items()))
    for key in sorted(obj):
        if key not in fields:
            problems.append(f"{_join(where, key)}: unknown field (known: {', '.join(fields)})")
    for key, spec in fields.items():
        path = _join(where, key)
        kinds = spec.get("kinds")
        if kinds is not None and kind == "":
            continue  # an input of no known kind: its own check says so
        applies = kind is None or kinds is None or kind in kinds
        if key not in obj:
            if spec.get("required") and applies:
                problems.append(f"{path}: missing")
            continue
        if not applies:
            problems.append(f"{path}: only for inputs of kind {', '.join(kinds)}")
            continue
        check_value(obj[key], spec, path, problems, kind)
    return len(problems) == before


def check_value(value: Any, spec: dict[str, Any], path: str, problems: list[str], kind: str | None = None) -> bool:
    kind_of_type = spec["type"]
    before = len(problems)
    if kind_of_type == "value" and kind in VALUE_TYPES:
        kind_of_type = VALUE_TYPES[kind]
    if kind_of_type.startswith("one of "):
        words = vocab(kind_of_type.removeprefix("one of "))
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {json_type(value)}")
        elif value not in words:
            problems.append(f'{path}: "{value}" is not one of {", ".join(words)}')
    elif kind_of_type.startswith("list of "):
        words = vocab(kind_of_type.removeprefix("list of "))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{path}: expected a list of strings, got {json_type(value)}")
        else:
            for v in value:
                if v not in words:
                    problems.append(f'{path}: "{v}" is not one of {", ".join(words)}')
    elif kind_of_type == "table":
        check_fields(value, spec["of"], path, problems)
    elif kind_of_type == "tables":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list of tables, got {json_type(value)}")
        else:
            for i, item in enumerate(value):
                check_fields(item, spec["of"], f"{path}[{i}]", problems, _input_kind(spec["of"], item))
    elif kind_of_type == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a table, got {json_type(value)}")
        else:
            for key, item in sorted(value.items()):
                of = spec["of"]
                if of in schema()["tables"]:
                    check_fields(item, of, _join(path, key), problems)
                else:
                    check_value(item, {"type": of}, _join(path, key), problems)
    elif not _SCALAR_CHECKS[kind_of_type](value):
        problems.append(f"{path}: expected {_TYPE_TEXT[kind_of_type]}, got {json_type(value)}")
    if len(problems) == before and spec.get("required") and isinstance(value, list) and not value:
        problems.append(f"{path}: must not be empty")
    return len(problems) == before


def _input_kind(table: str, item: Any) -> str | None:
    """An input's kind decides which of its fields apply ("": no known kind, which its own check reports)."""
    if table != "input":
        return None
    kind = item.get("kind") if isinstance(item, dict) else None
    return kind if isinstance(kind, str) and kind in vocab("input_kinds") else ""


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
