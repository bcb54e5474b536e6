"""Formulas over a task's dims (shapes such as "M / 2", bounds such as "V"): numbers, dim names, + - * /,
parentheses and unary signs. The engine's parser (src/core/formula.cpp) reads the same grammar and gives the
same messages; a manifest is checked by both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


class FormulaError(ValueError):
    pass


class _Parser:
    def __init__(self, text: str, values: Mapping[str, float] | None, dims: Sequence[str]):
        self.text, self.values, self.dims, self.pos = text, values, dims, 0

    def parse(self) -> float:
        self._spaces()
        if self.pos == len(self.text):
            self._fail("empty formula")
        value = self._sum()
        self._spaces()
        if self.pos != len(self.text):
            self._fail(f"unexpected `{self.text[self.pos]}`")
        return value

    def _sum(self) -> float:
        out = self._product()
        self._spaces()
        while self.pos < len(self.text) and self.text[self.pos] in "+-":
            op = self.text[self.pos]
            self.pos += 1
            rhs = self._product()
            out = out + rhs if op == "+" else out - rhs
            self._spaces()
        return out

    def _product(self) -> float:
        out = self._factor()
        self._spaces()
        while self.pos < len(self.text) and self.text[self.pos] in "*/":
            op = self.text[self.pos]
            self.pos += 1
            rhs = self._factor()
            if op == "/" and rhs == 0 and self.values is not None:
                self._fail("division by zero")
            out = out * rhs if op == "*" else (out / rhs if self.values is not None else out)
            self._spaces()
        return out

    def _factor(self) -> float:
        self._spaces()
        if self.pos == len(self.text):
            self._fail("a number, a dim or `(` expected at the end")
        c = self.text[self.pos]
        if c in "+-":
            self.pos += 1
            value = self._factor()
            return -value if c == "-" else value
        if c == "(":
            self.pos += 1
            value = self._sum()
            self._spaces()
            if self.pos == len(self.text) or self.text[self.pos] != ")":
                self._fail("`)` expected")
            self.pos += 1
            return value
        if c.isdigit() or c == ".":
            return self._number()
        if c.isalpha() or c == "_":
            return self._name()
        self._fail(f"unexpected `{c}`")
        return 0.0

    def _number(self) -> float:
        start = self.pos
        text = self.text
        while self.pos < len(text) and (
            text[self.pos].isdigit()
            or text[self.pos] in ".eE"
            or (text[self.pos] in "+-" and self.pos > start and text[self.pos - 1] in "eE")
        ):
            self.pos += 1
        token = text[start : self.pos]
        try:
            return float(token)
        except ValueError:
            self.pos = start
            self._fail(f"malformed number `{token}`")
        return 0.0

    def _name(self) -> float:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "_"):
            self.pos += 1
        name = self.text[start : self.pos]
        if self.values is not None:
            if name not in self.values:
                self.pos = start
                self._fail(f"unknown name `{name}`")
            return float(self.values[name])
        if name in self.dims:
            return 1.0
        self.pos = start
        self._fail(f"unknown name `{name}` (the task's dims: {', '.join(self.dims)})")
        return 0.0

    def _spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _fail(self, what: str) -> None:
        raise FormulaError(f'column {self.pos + 1}: {what} in "{self.text}"')


def validate(formula: str, dims: Sequence[str]) -> None:
    """Raises FormulaError unless the formula parses and names only `dims`."""
    _Parser(formula, None, dims).parse()


def evaluate(formula: str, values: Mapping[str, float]) -> float:
    result = _Parser(formula, values, tuple(values)).parse()
    if not math.isfinite(result):
        raise FormulaError(f'"{formula}" is not a finite number')
    return result


def evaluate_extent(entry: str | int, values: Mapping[str, int]) -> int:
    """One entry of a shape, or a bound: a number, a dim, or a formula rounded down to an integer."""
    if isinstance(entry, int):
        return entry
    if entry in values:
        return int(values[entry])
    return math.floor(evaluate(entry, values))
