"""A task manifest, checked against the one schema (schema.py) and turned into a `Task`.

`parse_task` reports every problem at once, each as `<path>: <what is wrong>`. The engine checks manifests with
the same rules and messages (src/core/task.cpp); tests/fixtures/manifests holds one bad manifest per rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import formula
from .schema import check_fields, check_value, vocab

SCHEMA_VERSION = 2
DEFAULT_OUTPUT = "y"
DEFAULT_DISTRIBUTION = "default"


class ManifestError(Exception):
    """The manifest breaks the schema; `problems` lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float


@dataclass(frozen=True)
class InputSpec:
    """One positional argument of the entry, from the manifest's [[inputs]]."""

    name: str
    kind: str  # tensor | tensor_list | shape | int | float | bool
    shape: tuple[str | int, ...] = ()  # tensor: dim names, numbers or formulas
    dtype: str = ""  # tensor, tensor_list
    init: str = "randn"  # tensor, tensor_list; "randint" draws integers, for an int input too
    scale: float = 1.0
    shift: float = 0.0
    grad: bool = False  # tensor
    value: Any = None  # shape (dim names or numbers), int, float, bool
    shapes: tuple[tuple[str | int, ...], ...] = ()  # tensor_list: one shape per tensor
    low: str | int = 0  # randint draws from [low, high)
    high: str | int | None = None

    def drawn(self) -> bool:
        """Whether the value is drawn from the generator (tensors and randint scalars) rather than fixed."""
        return self.kind in ("tensor", "tensor_list") or (self.kind == "int" and self.value is None)


@dataclass(frozen=True)
class OutputSpec:
    """One result of the entry (the entry returns a tuple when there are several), from [[outputs]]."""

    name: str
    kind: str = "tensor"  # tensor | tensor_list
    dtype: str = ""
    check: str = "values"  # values: against the reference; dropout: by properties (property_checks.py)
    input: str = ""  # dropout: the input it drops elements of
    p: str = ""  # dropout: the float input with the drop probability
    seed: str = ""  # dropout: the int input with the seed


@dataclass(frozen=True)
class Distribution:
    """Another way to draw the inputs, checked beside the manifest's own (e.g. logits of large magnitude)."""

    name: str
    draws: dict[str, dict[str, Any]] = field(default_factory=dict)  # input name -> init/scale/shift/low/high/value
    note: str = ""
    # Output name -> its tolerance on these inputs, where the manifest's does not hold (an error that grows with the
    # inputs' magnitude); the others keep the manifest's [tolerance].
    tolerances: dict[str, Tolerance] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    name: str
    entry: str
    baseline: str
    modes: tuple[str, ...]
    dims: tuple[str, ...]
    inputs: tuple[InputSpec, ...]
    tolerances: dict[str, Tolerance]
    grad_output_scale: float = 1.0
    # [backward].consumes_inputs: the backward may overwrite the tensors its forward was given (docs/tasks.md).
    backward_consumes_inputs: bool = False
    forbidden: tuple[str, ...] = ()  # [checks].forbidden: dotted names the candidate must not use
    triton_time_share: float = 0.8  # [checks].triton_time_share: least share of GPU time in its own kernels
    outputs: tuple[OutputSpec, ...] = ()
    distributions: tuple[Distribution, ...] = ()
    multiple_of: dict[str, int] = field(default_factory=dict)
    # reference_slices: the dim along which the float64 reference is made one index at a time (docs/tasks.md).
    reference_slices: str = ""

    @property
    def grad_inputs(self) -> tuple[InputSpec, ...]:
        return tuple(spec for spec in self.inputs if spec.kind == "tensor" and spec.grad)

    @property
    def output_dtype(self) -> str:
        """The first output's dtype."""
        return self.outputs[0].dtype if self.outputs else _first_tensor_dtype(self.inputs)

    def input(self, name: str) -> InputSpec:
        return next(spec for spec in self.inputs if spec.name == name)


def _first_tensor_dtype(inputs) -> str:
    return next((spec.dtype for spec in inputs if spec.kind in ("tensor", "tensor_list")), "")


def parse_task(raw: Any) -> Task:
    """The task of a manifest (as TOML or JSON data); raises ManifestError listing every problem."""
    problems: list[str] = []
    if not check_fields(raw, "task", "", problems):
        # The fields' own types are wrong: the rules below would only repeat it.
        raise ManifestError(problems)
    rules = _Rules(raw, problems)
    task = rules.task()
    if problems:
        raise ManifestError(problems)
    return task


class _Rules:
    """What the field list cannot say, checked in the engine's order (src/core/task.cpp)."""

    def __init__(self, raw: dict[str, Any], problems: list[str]):
        self.raw, self.problems = raw, problems
        self.dims: tuple[str, ...] = tuple(raw["dims"])

    def fail(self, path: str, what: str) -> None:
        self.problems.append(f"{path}: {what}")

    def task(self) -> Task:
        raw = self.raw
        if raw["schema_version"] != SCHEMA_VERSION:
            self.fail("schema_version", f"is {raw['schema_version']}, but this reads version {SCHEMA_VERSION}")
        modes = tuple(raw["modes"])
        if "forward" not in modes:
            self.fail("modes", "must include forward")
        multiple_of = self.multiple_of()
        for key in ("sizes", "check_sizes", "interpret_check_sizes"):
            self.sizes(key, raw.get(key, []), multiple_of)
        if len(raw["seeds"]) < 2:
            self.fail("seeds", "must list at least two seeds")
        if "interpret_check_sizes" not in raw and "interpret_skip" not in raw:
            self.fail("interpret_check_sizes", "missing (or interpret_skip, saying why the interpreter cannot run it)")
        elif "interpret_check_sizes" in raw and "interpret_skip" in raw:
            self.fail("interpret_skip", "cannot go with interpret_check_sizes")
        inputs = tuple(self.input(i, item) for i, item in enumerate(raw["inputs"]))
        self.unique("inputs", [spec.name for spec in inputs])
        if not any(spec.kind in ("tensor", "tensor_list") for spec in inputs):
            self.fail("inputs", "at least one input must be a tensor")
        grad_output_scale, consumes_inputs = 1.0, False
        if "backward" in modes:
            if not any(spec.grad for spec in inputs):
                self.fail("inputs", "the backward mode needs at least one tensor input with grad = true")
            if "backward" not in raw:
                self.fail("backward", "missing (grad_output_scale is required with the backward mode)")
            else:
                grad_output_scale = float(raw["backward"]["grad_output_scale"])
                consumes_inputs = bool(raw["backward"].get("consumes_inputs", False))
        outputs = self.outputs(inputs, modes)
        self.reference_slices(inputs, outputs)
        tolerances = self.tolerances(inputs, outputs, modes)
        self.cost(modes)
        if "peak_bytes" in raw:
            try:
                formula.validate(raw["peak_bytes"], self.dims)
            except formula.FormulaError as error:
                self.fail("peak_bytes", str(error))
        distributions = tuple(
            self.distribution(i, item, inputs, tolerances) for i, item in enumerate(raw.get("distributions", []))
        )
        self.unique("distributions", [d.name for d in distributions])
        self.experts()
        checks = raw.get("checks", {})
        share = float(checks.get("triton_time_share", 0.8))
        if not 0 <= share <= 1:
            self.fail("checks.triton_time_share", f"must be in [0, 1], got {share:g}")
        return Task(
            raw["name"], raw["entry"], raw["baseline"], modes, self.dims, inputs, tolerances, grad_output_scale,
            consumes_inputs, tuple(checks.get("forbidden", ())), share, outputs, distributions, multiple_of,
            raw.get("reference_slices", ""),
        )  # fmt: skip

    def unique(self, where: str, names: list[str]) -> None:
        for i, name in enumerate(names):
            if name in names[:i]:
                self.fail(f"{where}[{i}].name", f'"{name}" is used by {where}[{names.index(name)}] too')

    def multiple_of(self) -> dict[str, int]:
        multiples = dict(self.raw.get("multiple_of", {}))
        for dim, multiple in multiples.items():
            if dim not in self.dims:
                self.fail(f"multiple_of.{dim}", f"\"{dim}\" is not one of the task's dims ({', '.join(self.dims)})")
            elif multiple < 1:
                self.fail(f"multiple_of.{dim}", "must be at least 1")
        return {dim: m for dim, m in multiples.items() if dim in self.dims and m >= 1}

    def sizes(self, key: str, sizes: list[str], multiple_of: dict[str, int]) -> None:
        for size in sizes:
            numbers = parse_size_numbers(size)
            if numbers is None or len(numbers) != len(self.dims):
                self.fail(key, f"size \"{size}\" is not {len(self.dims)} positive numbers joined by 'x'")
                continue
            for dim, number in zip(self.dims, numbers, strict=True):
                if dim in multiple_of and number % multiple_of[dim]:
                    self.fail(key, f'size "{size}": {dim} = {number} is not a multiple of {multiple_of[dim]}')

    def extent(self, path: str, entry: str | int) -> None:
        if isinstance(entry, int):
            if entry < 0:
                self.fail(path, f"negative size {entry}")
            return
        try:
            formula.validate(entry, self.dims)
        except formula.FormulaError as error:
            self.fail(path, str(error))

    def input(self, i: int, raw: dict[str, Any]) -> InputSpec:
        where = f"inputs[{i}]"
        kind = raw["kind"]
        for entry in raw.get("shape", []):
            self.extent(f"{where}.shape", entry)
        for shape in raw.get("shapes", []):
            for entry in shape:
                self.extent(f"{where}.shapes", entry)
        self.draw(where, kind, raw.get("dtype", ""), raw)
        if raw.get("grad") and raw.get("dtype") in vocab("int_dtypes"):
            self.fail(f"{where}.grad", "integer tensors have no gradient")
        if kind == "int" and "value" not in raw and raw.get("init") != "randint":
            self.fail(f"{where}.value", 'missing (or init = "randint" with high)')
        elif kind in ("shape", "float", "bool") and "value" not in raw:
            self.fail(f"{where}.value", "missing")
        return InputSpec(
            raw["name"], kind, tuple(raw.get("shape", ())), raw.get("dtype", ""), raw.get("init", "randn"),
            float(raw.get("scale", 1.0)), float(raw.get("shift", 0.0)), bool(raw.get("grad", False)),
            _value(raw.get("value")), tuple(tuple(s) for s in raw.get("shapes", ())), raw.get("low", 0),
            raw.get("high"),
        )  # fmt: skip

    def draw(self, where: str, kind: str, dtype: str, raw: dict[str, Any]) -> None:
        """init, scale, shift, low and high agree with each other and with the dtype (of an input or an override)."""
        integer = dtype in vocab("int_dtypes") or kind == "int"
        init = raw.get("init")
        if init is not None and kind == "int" and init != "randint":
            self.fail(f"{where}.init", 'an int input is drawn with "randint"')
        elif init == "randint" and not integer:
            self.fail(f"{where}.init", f'"randint" draws integers, but dtype is {dtype}')
        elif integer and kind != "int" and init != "randint" and "init" in raw:
            self.fail(f"{where}.init", 'integer tensors are drawn with "randint"')
        if init == "randint" and "high" not in raw:
            self.fail(f"{where}.high", "missing (randint draws from [low, high))")
        for key in ("low", "high"):
            if key in raw:
                if init != "randint":
                    self.fail(f"{where}.{key}", 'only with init = "randint"')
                else:
                    self.extent(f"{where}.{key}", raw[key])
        for key in ("scale", "shift"):
            if key in raw and (init == "randint" or integer):
                self.fail(f"{where}.{key}", 'not with init = "randint"')
        if kind in ("tensor", "tensor_list") and integer and "init" not in raw:
            self.fail(f"{where}.init", 'integer tensors are drawn with "randint"')

    def outputs(self, inputs: tuple[InputSpec, ...], modes: tuple[str, ...]) -> tuple[OutputSpec, ...]:
        raw_outputs = self.raw.get("outputs") or [{"name": DEFAULT_OUTPUT}]
        default_dtype = _first_tensor_dtype(inputs)
        by_name = {spec.name: spec for spec in inputs}
        outputs = []
        for i, raw in enumerate(raw_outputs):
            where = f"outputs[{i}]"
            check = raw.get("check", "values")
            for key, kinds in (("input", ("tensor",)), ("p", ("float",)), ("seed", ("int",))):
                if check != "dropout":
                    if key in raw:
                        self.fail(f"{where}.{key}", 'only with check = "dropout"')
                elif key not in raw:
                    self.fail(f"{where}.{key}", "missing (the dropout check needs it)")
                elif raw[key] not in by_name or by_name[raw[key]].kind not in kinds:
                    self.fail(f"{where}.{key}", f'"{raw[key]}" is not an input of kind {kinds[0]}')
            kind = raw.get("kind", "tensor")
            if kind != "tensor" and "backward" in modes:
                self.fail(f"{where}.kind", "the backward mode needs tensor outputs")
            outputs.append(OutputSpec(raw["name"], kind, raw.get("dtype", default_dtype), check,
                                      raw.get("input", ""), raw.get("p", ""), raw.get("seed", "")))
        self.unique("outputs", [o.name for o in outputs])
        return tuple(outputs)

    def reference_slices(self, inputs: tuple[InputSpec, ...], outputs: tuple[OutputSpec, ...]) -> None:
        """reference_slices: a dim that every tensor input either starts with (cut along its first axis) or does not
        name; no lists, whose tensors the reference could not cut or join."""
        if "reference_slices" not in self.raw:
            return
        dim = self.raw["reference_slices"]
        if dim not in self.dims:
            self.fail("reference_slices", f"\"{dim}\" is not one of the task's dims ({', '.join(self.dims)})")
            return
        cut = False
        for i, spec in enumerate(inputs):
            if spec.kind == "tensor_list":
                self.fail(f"inputs[{i}].kind", "reference_slices cannot cut a tensor_list")
                continue
            if spec.kind != "tensor":
                continue
            for axis, entry in enumerate(spec.shape):
                if entry != dim:
                    continue
                if axis == 0:
                    cut = True
                else:
                    self.fail(f"inputs[{i}].shape",
                              f'names "{dim}" at position {axis}; reference_slices cuts a tensor along its first axis')
        if not cut:
            self.fail("reference_slices", f'no tensor input\'s shape starts with "{dim}"')
        for i, spec in enumerate(outputs):
            if spec.kind != "tensor":
                self.fail(f"outputs[{i}].kind", "reference_slices joins tensor outputs only")

    def tolerances(self, inputs, outputs, modes) -> dict[str, Tolerance]:
        raw = self.raw["tolerance"]
        needed = [o.name for o in outputs]
        if "backward" in modes:
            needed += [f"grad_{spec.name}" for spec in inputs if spec.grad]
        missing = [name for name in needed if name not in raw]
        if missing:
            self.fail("tolerance", f"missing a tolerance for {', '.join(missing)}")
        for name, pair in raw.items():
            if name not in needed:
                self.fail(f"tolerance.{name}", f"not an output of the task (they are: {', '.join(needed)})")
            for key in ("atol", "rtol"):
                if pair[key] < 0:
                    self.fail(f"tolerance.{name}.{key}", "must be >= 0")
        return {name: Tolerance(float(pair["atol"]), float(pair["rtol"])) for name, pair in raw.items()}

    def cost(self, modes: tuple[str, ...]) -> None:
        cost = self.raw["cost"]
        for mode in modes:
            if mode not in cost:
                self.fail(f"cost.{mode}", "missing (bytes and flops formulas are required per mode)")
        for mode, formulas in cost.items():
            if mode not in modes:
                self.fail(f"cost.{mode}", f"\"{mode}\" is not one of the task's modes ({', '.join(modes)})")
            for key in ("bytes", "flops"):
                try:
                    formula.validate(formulas[key], self.dims)
                except formula.FormulaError as error:
                    self.fail(f"cost.{mode}.{key}", str(error))

    def distribution(
        self, i: int, raw: dict[str, Any], inputs: tuple[InputSpec, ...], tolerances: dict[str, Tolerance]
    ) -> Distribution:
        where = f"distributions[{i}]"
        by_name = {spec.name: spec for spec in inputs}
        for name, draw in raw["inputs"].items():
            path = f"{where}.inputs.{name}"
            if name not in by_name:
                self.fail(path, f"not an input of the task (they are: {', '.join(by_name)})")
                continue
            spec = by_name[name]
            if "value" in draw:
                if spec.drawn():
                    self.fail(f"{path}.value", "only for inputs of kind shape, int, float, bool with a value")
                else:
                    check_value(draw["value"], {"type": "value"}, f"{path}.value", self.problems, spec.kind)
            if any(key in draw for key in ("init", "scale", "shift", "low", "high")):
                if not spec.drawn():
                    self.fail(path, "init, scale, shift, low and high are only for drawn inputs")
                else:
                    merged = {k: v for k, v in (("init", spec.init), ("high", spec.high)) if v is not None}
                    merged.update(draw)
                    self.draw(path, spec.kind, spec.dtype, merged)
        if raw["name"] == DEFAULT_DISTRIBUTION:
            self.fail(f"{where}.name", f'"{DEFAULT_DISTRIBUTION}" names the inputs as the manifest draws them')
        own: dict[str, Tolerance] = {}
        for name, pair in raw.get("tolerance", {}).items():
            path = f"{where}.tolerance.{name}"
            if name not in tolerances:
                self.fail(path, f"not an output with a tolerance (they are: {', '.join(sorted(tolerances))})")
            for key in ("atol", "rtol"):
                if pair[key] < 0:
                    self.fail(f"{path}.{key}", "must be >= 0")
            own[name] = Tolerance(float(pair["atol"]), float(pair["rtol"]))
        return Distribution(raw["name"], {k: dict(v) for k, v in raw["inputs"].items()}, raw.get("note", ""), own)

    def experts(self) -> None:
        for i, raw in enumerate(self.raw.get("expert", [])):
            where = f"expert[{i}]"
            if ("tutorial" in raw) == ("module" in raw):
                self.fail(where, "needs one of `tutorial` (a Triton tutorial) and `module` (an installed library)")
            tutorial = raw.get("tutorial")
            if tutorial is not None and ("/" in tutorial or "\\" in tutorial or tutorial in ("", ".", "..")):
                self.fail(f"{where}.tutorial", f'"{tutorial}" must be a file name in python/tutorials')
            if "module" in raw and "names" not in raw:
                self.fail(f"{where}.names", "missing (the names the entry uses from the module)")
            if "names" in raw and "module" not in raw:
                self.fail(f"{where}.names", "only with `module`")
        self.unique("expert", [raw["name"] for raw in self.raw.get("expert", [])])


def _value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def parse_size_numbers(size: str) -> list[int] | None:
    """'1823x781' -> [1823, 781]; None unless every part is a positive number."""
    parts = size.split("x")
    if not all(part.isdigit() and part.isascii() for part in parts):
        return None
    numbers = [int(part) for part in parts]
    return numbers if all(n > 0 for n in numbers) else None
