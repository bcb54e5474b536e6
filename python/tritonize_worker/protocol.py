"""The request and the result of one step of a job (docs/protocol.md, schema_version 2).

`parse_request` checks the whole request and reports every problem at once; `Result` is the one result
shape, with every key always present.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .inputs import parse_size
from .lane import LaneSpec
from .manifest import InputSpec, ManifestError, OutputSpec, Task, Tolerance, parse_task

__all__ = ["InputSpec", "OutputSpec", "Task", "Tolerance", "parse_request"]  # the task's types live in manifest.py

SCHEMA_VERSION = 2

STATUSES = (
    "ok",
    "wrong_result",
    "syntax_error",
    "import_error",
    "missing_entry",
    "compile_error",
    "runtime_error",
    "timeout",
    "crashed",
    "rejected",
)
COMPILE_MODES = ("deterministic", "default")
PHASES = ("reference", "static", "load", "import", "check", "compile", "call", "guards", "time", "compare")
# reference: fp64 reference outputs from the baseline, never imports candidate code; candidate: imports the
# implementation, runs it, writes its outputs; compare: reads both files and gives the verdict.
ROLES = ("reference", "candidate", "compare")
# Implementation kinds: the same list as the engine's ImplKind (src/core/implementation.h; both sides are tested
# against `python -m tritonize_worker --describe`).
IMPL_KINDS = ("baseline", "expert", "llm", "candidate", "compile")
# Trusted code: exempt from the static checks (the baseline, the tutorials' experts and Inductor's output).
TRUSTED_KINDS = ("baseline", "expert", "compile")
# Implementation kinds exempt from the static checks and the Triton time share: the baseline is PyTorch by design.
EXEMPT_KINDS = ("baseline", "compile")
DEVICES = ("cuda", "cpu")

# Prefix of the messages for failures that are not the implementation's fault: a bad request, a baseline that
# does not run, a bug in the worker. The engine can tell them from a candidate's own errors by it.
WORKER_ERROR = "worker error: "


class RequestError(Exception):
    """The request does not follow the protocol; `problems` lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Implementation:
    name: str
    path: str
    entry: str
    kind: str = "candidate"  # one of IMPL_KINDS
    # For the torch.compile contender (kind "compile"): Inductor's deterministic mode or its default (inductor.py).
    compile_mode: str = "deterministic"


@dataclass(frozen=True)
class CheckPlan:
    sizes: tuple[str, ...]
    seeds: tuple[int, ...]


AUTOTUNE_TIMERS = ("triton", "job")


@dataclass(frozen=True)
class TimingPlan:
    enabled: bool
    sizes: tuple[str, ...] = ()
    warmup_calls: int = 0
    calls: int = 0
    flush_bytes: int = 0
    # Adaptive sampling and the rest of the method (docs/measurement.md); optional in the request.
    flush_mode: str = "read"
    max_calls: int = 1000
    min_gpu_ms: float = 1.0
    max_median_rse: float = 0.0025
    timeout_s: float = 10.0
    host_calls: int = 50
    host_rounds: int = 5
    # Which benchmark Triton's autotuners pick with: "triton" (its own do_bench) or "job" (autotune_timer.py).
    autotune_timer: str = "triton"


@dataclass(frozen=True)
class Files:
    """Where the steps of a job hand over their tensors and results (all in the engine's scratch folders)."""

    reference: str = ""  # written by the reference step, read by the compare step
    outputs: str = ""  # written by the candidate step, read by the compare step
    candidate_result: str = ""  # the candidate step's result, read by the compare step
    # The compare step in two parts (compare.py): a request without candidate_result compares the values the
    # candidate step wrote after its checks, while it still times, and writes what it found here (a folder of the
    # engine's, no candidate's); the request with candidate_result reads it and compares only what is left.
    compared: str = ""


@dataclass(frozen=True)
class Guards:
    run_seed: int = 0  # per run: seeds the extra draws of the guards
    import_s: float = 0.0  # phase timeouts, 0: none (the engine's job timeout still holds)
    compile_s: float = 0.0
    call_s: float = 0.0


@dataclass(frozen=True)
class Request:
    task: Task
    task_dir: str
    implementation: Implementation | None
    device: str
    interpret: bool
    check: CheckPlan
    timing: TimingPlan
    role: str = "candidate"
    files: Files = Files()
    guards: Guards = Guards()
    lane: LaneSpec | None = None  # the GPU lane the engine gave the job (lane.py); None: no lane
    # Compiler caches the step writes to (Triton's in <cache_dir>/triton, Inductor's in <cache_dir>/inductor),
    # set before anything compiles; empty: the process's environment decides. A pre-started process learns its
    # job's only with the request.
    cache_dir: str = ""


@dataclass
class Result:
    """The result file's content. Checks and timings are appended as they are made."""

    status: str = "ok"
    message: str = ""
    detail: str = ""
    phase: str = "load"
    rejected_by: str = ""  # the check that rejected the implementation, when status is rejected
    checks: list[dict[str, Any]] = field(default_factory=list)
    guards: list[dict[str, Any]] = field(default_factory=list)  # the anti-cheat checks passed, with figures
    timings: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    def fail(self, status: str, message: str, detail: str = "") -> None:
        if status not in STATUSES or status == "ok":
            raise ValueError(f"not a failure status: {status!r}")
        self.status = status
        self.message = message
        self.detail = detail

    def to_json(self) -> dict[str, Any]:
        """The result as JSON data; NaN and infinities, which JSON numbers cannot carry, become the strings of
        NONFINITE_JSON (a figure is never lost or turned into null)."""
        return json_safe(
            {
                "schema_version": SCHEMA_VERSION,
                "status": self.status,
                "message": self.message,
                "detail": self.detail,
                "phase": self.phase,
                "rejected_by": self.rejected_by,
                "checks": self.checks,
                "guards": self.guards,
                "timings": self.timings,
                "environment": self.environment,
                "wall_s": self.wall_s,
            }
        )


# How a number that is not finite is written in the result JSON (and in the engine's JSON output): JSON has no
# NaN or infinity, and null would lose the figure. The engine reads these back (src/core/job.h, JsonNumber).
NONFINITE_JSON = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_safe(value: Any) -> Any:
    """`value` with every float that is not finite replaced by its NONFINITE_JSON string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def json_number(value: Any) -> float | None:
    """A number of a result JSON (a JSON number or a NONFINITE_JSON string) as a float; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in NONFINITE_JSON:
        return NONFINITE_JSON[value]
    return None


# --- Request validation -----------------------------------------------------------------------------------------------


class _Fields:
    """Typed access to the fields of one JSON object; problems are collected, named by their path."""

    _MISSING = object()

    def __init__(self, obj: Any, where: str, problems: list[str]):
        self.where = where
        self.problems = problems
        # None: the parent already reported the field as missing or mistyped; its fields are not looked at.
        self.valid = isinstance(obj, dict)
        if obj is not None and not self.valid:
            problems.append(f"{where or 'the request'}: expected an object, got {_json_type(obj)}")
        self.obj = obj if self.valid else {}

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        """The field's value, or `default` when the field is absent (a problem if there is no default)."""
        path = f"{self.where}.{key}" if self.where else key
        if not self.valid:
            return None
        if key not in self.obj:
            if default is self._MISSING:
                self.problems.append(f"{path}: missing")
                return None
            return default
        value = self.obj[key]
        if not _is_a(value, kind):
            self.problems.append(f"{path}: expected {_type_name(kind)}, got {_json_type(value)}")
            return None
        return value

    def list_of(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING, non_empty: bool = True):
        path = f"{self.where}.{key}" if self.where else key
        value = self.get(key, list, default)
        if value is None:
            return None
        if non_empty and not value:
            self.problems.append(f"{path}: must not be empty")
            return None
        bad = [i for i, item in enumerate(value) if not _is_a(item, kind)]
        if bad:
            self.problems.append(f"{path}[{bad[0]}]: expected {_type_name(kind)}, got {_json_type(value[bad[0]])}")
            return None
        return tuple(value)

    def problem(self, key: str, text: str) -> None:
        self.problems.append(f"{self.where}.{key}: {text}" if self.where else f"{key}: {text}")


def _is_a(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):  # JSON true is not a number
        return bool in kinds
    if float in kinds and isinstance(value, int):
        return True
    return isinstance(value, kinds)


_JSON_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_JSON_TYPE_NAMES.get(k, k.__name__) for k in kinds)


def _json_type(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def parse_request(raw: Any) -> Request:
    """The validated request; raises RequestError listing every problem."""
    problems: list[str] = []
    top = _Fields(raw, "", problems)
    version = top.get("schema_version", int)
    if version is not None and version != SCHEMA_VERSION:
        problems.append(f"schema_version: this worker reads {SCHEMA_VERSION}, got {version}")
    task = _parse_task(top.get("task", dict), problems)
    task_dir = top.get("task_dir", str)
    role = top.get("role", str)
    if role is not None and role not in ROLES:
        top.problem("role", f"expected one of {', '.join(ROLES)}, got {role!r}")
    # The reference step never sees the implementation: it must not even know its path.
    implementation = None
    if role != "reference":
        implementation = _parse_implementation(_Fields(top.get("implementation", dict), "implementation", problems))
    elif "implementation" in top.obj:
        top.problem("implementation", "the reference step gets no implementation")
    files = _parse_files(_Fields(top.get("files", dict), "files", problems), role)
    guards = _parse_guards(_Fields(top.get("guards", dict, {}), "guards", problems))
    device = top.get("device", str)
    if device is not None and device not in DEVICES:
        top.problem("device", f"expected one of {', '.join(DEVICES)}, got {device!r}")
    interpret = top.get("interpret", bool)
    if interpret and device == "cuda":
        top.problem("interpret", "the Triton interpreter runs on the CPU: device must be 'cpu'")
    dims = task.dims if task else None
    check = _parse_check(_Fields(top.get("check", dict), "check", problems), dims)
    timing = _parse_timing(_Fields(top.get("timing", dict), "timing", problems), dims)
    if timing and timing.enabled and device == "cpu":
        top.problem("timing.enabled", "timing needs CUDA, but the request's device is 'cpu'")
    lane_fields = top.get("lane", dict, None)
    lane = _parse_lane(_Fields(lane_fields, "lane", problems)) if lane_fields is not None else None
    cache_dir = top.get("cache_dir", str, "")
    if problems:
        raise RequestError(problems)
    return Request(task, task_dir, implementation, device, interpret, check, timing, role, files, guards, lane,
                   cache_dir)


def _parse_lane(fields: _Fields) -> LaneSpec | None:
    index = fields.get("index", int, 0)
    paths = {name: fields.get(name, str, "") for name in ("lock", "gate", "status_file")}
    if index is None or None in paths.values():
        return None
    if bool(paths["lock"]) != bool(paths["gate"]):
        fields.problem("gate", "a lane has both a lock and a gate file, or neither")
        return None
    return LaneSpec(index, **paths)


_FILES_BY_ROLE = {
    "reference": ("reference",),
    "candidate": ("outputs",),
    "compare": ("reference", "outputs"),
}


# Optional: the compare step's two parts (Files.compared).
_OPTIONAL_FILES_BY_ROLE = {"compare": ("candidate_result", "compared")}


def _parse_files(fields: _Fields, role: str | None) -> Files | None:
    if role not in _FILES_BY_ROLE:
        return None
    optional = _OPTIONAL_FILES_BY_ROLE.get(role, ())
    values = {
        name: fields.get(name, str, "") if name in optional else fields.get(name, str)
        for name in dict.fromkeys(_FILES_BY_ROLE[role] + optional)
    }
    if None in values.values():
        return None
    if role == "compare" and not values["candidate_result"] and not values["compared"]:
        fields.problem("candidate_result", "a compare request names the candidate step's result, or, for its first "
                       "part, the file where that part writes what it compared (compared)")
        return None
    return Files(**values)


def _parse_guards(fields: _Fields) -> Guards | None:
    run_seed = fields.get("run_seed", int, 0)
    timeouts = {name: fields.get(name, float, 0.0) for name in ("import_s", "compile_s", "call_s")}
    for name, value in timeouts.items():
        if value is not None and value < 0:
            fields.problem(name, f"must be >= 0, got {value}")
    if run_seed is None or None in timeouts.values():
        return None
    return Guards(run_seed, *(float(v) for v in timeouts.values()))


def _parse_implementation(fields: _Fields) -> Implementation | None:
    name = fields.get("name", str)
    path = fields.get("path", str)
    entry = fields.get("entry", str)
    kind = fields.get("kind", str, "candidate")
    if kind is not None and kind not in IMPL_KINDS:
        fields.problem("kind", f"expected one of {', '.join(IMPL_KINDS)}, got {kind!r}")
        kind = None
    compile_mode = fields.get("compile_mode", str, Implementation.compile_mode)
    if compile_mode is not None and compile_mode not in COMPILE_MODES:
        fields.problem("compile_mode", f"expected one of {', '.join(COMPILE_MODES)}, got {compile_mode!r}")
        compile_mode = None
    if None in (name, path, entry, kind, compile_mode):
        return None
    return Implementation(name, path, entry, kind, compile_mode)


def _parse_sizes(fields: _Fields, key: str, dims: tuple[str, ...] | None, non_empty: bool = True):
    sizes = fields.list_of(key, str, non_empty=non_empty)
    if sizes is None or dims is None:
        return sizes
    for size in sizes:
        try:
            parse_size(size, dims)
        except ValueError as exc:
            fields.problem(key, str(exc))
    return sizes


def _parse_check(fields: _Fields, dims: tuple[str, ...] | None) -> CheckPlan | None:
    sizes = _parse_sizes(fields, "sizes", dims)
    seeds = fields.list_of("seeds", int)
    if sizes is None or seeds is None:
        return None
    return CheckPlan(sizes, seeds)


def _parse_timing(fields: _Fields, dims: tuple[str, ...] | None) -> TimingPlan | None:
    enabled = fields.get("enabled", bool)
    if not enabled:
        return TimingPlan(False) if enabled is not None else None
    sizes = _parse_sizes(fields, "sizes", dims)
    warmup_calls = fields.get("warmup_calls", int)
    calls = fields.get("calls", int)
    flush_bytes = fields.get("flush_bytes", int)
    if warmup_calls is not None and warmup_calls < 0:
        fields.problem("warmup_calls", f"must be >= 0, got {warmup_calls}")
    if calls is not None and calls < 1:
        fields.problem("calls", f"must be >= 1, got {calls}")
    if flush_bytes is not None and flush_bytes < 4:
        fields.problem("flush_bytes", f"must be >= 4, got {flush_bytes}")
    if None in (sizes, warmup_calls, calls, flush_bytes):
        return None
    return TimingPlan(True, sizes, warmup_calls, calls, flush_bytes, **_parse_method(fields))


def _parse_method(fields: _Fields) -> dict[str, Any]:
    """The optional fields of the measurement method; absent ones keep TimingPlan's defaults."""
    defaults = TimingPlan(True)
    method = {
        "flush_mode": fields.get("flush_mode", str, defaults.flush_mode),
        "max_calls": fields.get("max_calls", int, defaults.max_calls),
        "min_gpu_ms": fields.get("min_gpu_ms", (int, float), defaults.min_gpu_ms),
        "max_median_rse": fields.get("max_median_rse", (int, float), defaults.max_median_rse),
        "timeout_s": fields.get("timeout_s", (int, float), defaults.timeout_s),
        "host_calls": fields.get("host_calls", int, defaults.host_calls),
        "host_rounds": fields.get("host_rounds", int, defaults.host_rounds),
        "autotune_timer": fields.get("autotune_timer", str, defaults.autotune_timer),
    }
    if method["flush_mode"] not in (None, "read", "write"):
        fields.problem("flush_mode", f"expected 'read' or 'write', got {method['flush_mode']!r}")
    if method["autotune_timer"] not in (None, *AUTOTUNE_TIMERS):
        fields.problem(
            "autotune_timer", f"expected one of {', '.join(AUTOTUNE_TIMERS)}, got {method['autotune_timer']!r}"
        )
    for key in ("max_calls", "host_rounds"):
        if method[key] is not None and method[key] < 1:
            fields.problem(key, f"must be >= 1, got {method[key]}")
    for key in ("min_gpu_ms", "max_median_rse", "timeout_s", "host_calls"):
        if method[key] is not None and method[key] < 0:
            fields.problem(key, f"must be >= 0, got {method[key]}")
    return {key: value for key, value in method.items() if value is not None}


def _parse_task(raw: dict | None, problems: list[str]) -> Task | None:
    """The manifest, checked against the one schema (manifest.py); its problems are named under `task.`."""
    if raw is None:
        return None
    try:
        return parse_task(raw)
    except ManifestError as error:
        problems.extend(f"task.{problem}" for problem in error.problems)
        return None
