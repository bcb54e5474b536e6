"""How a failure becomes a status, a one-line message and a detail.

Code of the implementation runs inside `candidate_code()`, which turns whatever it raises into a
CandidateError; anything else that escapes the worker is a bug of the worker (or of the task's baseline).
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

MAX_MESSAGE_CHARS = 400
MAX_DETAIL_CHARS = 8000
_WORKER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class JobFailure(Exception):
    """A failure that already knows its status (load failures, a baseline that does not run)."""

    def __init__(self, status: str, message: str, detail: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


class CandidateError(Exception):
    """The implementation raised `original` (a call, its backward, or a CUDA error it caused)."""

    def __init__(self, original: BaseException, context: str = ""):
        super().__init__(describe(original))
        self.original = original
        self.context = context  # where it happened, e.g. "the forward call at size 37x93, seed 0"


@contextmanager
def candidate_code(context: str = "") -> Iterator[None]:
    # SystemExit too: a candidate that calls sys.exit() must not end the worker before it writes the result.
    try:
        yield
    except (Exception, SystemExit) as exc:
        raise CandidateError(exc, context) from exc


# CUDA errors after which the context is unusable: the job is `crashed` (with the CUDA error text), and no further
# call is made in this process; the next job starts in a fresh one.
GPU_FAULTS = (
    "illegal memory access",
    "misaligned address",
    "unspecified launch failure",
    "device-side assert",
    "illegal instruction",
    "an illegal address",
    "hardware stack error",
    "launch timed out",
)


def is_gpu_fault(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc).lower()
        if any(fault in text for fault in GPU_FAULTS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def classify(exc: BaseException) -> str:
    """crashed for GPU faults (illegal address and the like), compile_error for Triton compilation errors (anywhere
    in the cause chain), runtime_error otherwise (CUDA out of memory included).

    Under the Triton interpreter nothing is compiled: a kernel that would not compile raises an
    InterpreterError wrapping a ValueError or AssertionError, and comes out as runtime_error.
    """
    if is_gpu_fault(exc):
        return "crashed"
    compile_errors = _compile_error_types()
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if compile_errors and isinstance(exc, compile_errors):
            return "compile_error"
        exc = exc.__cause__ or exc.__context__
    return "runtime_error"


def _compile_error_types() -> tuple[type, ...]:
    try:
        from triton.compiler.errors import CompilationError
        from triton.runtime.errors import PTXASError
    except ImportError:
        return ()
    # ptxas failing on Triton's output is a compilation failure too.
    return (CompilationError, PTXASError)


# What a candidate gets on the CPU when it asks for the CUDA driver or a CUDA device (torch.cuda queries, Triton's
# driver, device properties): under the interpreter such an error says nothing about the candidate's GPU verdict.
_NO_CUDA = (
    "active drivers ([])",
    "found no nvidia driver",
    "torch not compiled with cuda enabled",
    "no cuda gpus are available",
    "cuda driver initialization failed",
)
INTERPRETER_NO_CUDA_NOTE = (
    " [under the Triton interpreter, on the CPU: the candidate asked for CUDA, which this run has not; its verdict"
    " on a GPU is not known from this run]"
)


def asks_for_cuda(exc: BaseException) -> bool:
    """The candidate failed because there is no CUDA here: one of the errors above anywhere in the cause chain, or an
    assertion whose failing line tests for CUDA (`assert x.is_cuda`)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc).lower()
        if any(marker in text for marker in _NO_CUDA):
            return True
        if isinstance(exc, AssertionError) and exc.__traceback__ is not None:
            line = traceback.extract_tb(exc.__traceback__)[-1].line or ""
            if "cuda" in line.lower():
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def with_no_cuda_note(message: str) -> str:
    """`message` and the note that the interpreter's run cannot judge this failure, within MAX_MESSAGE_CHARS."""
    room = MAX_MESSAGE_CHARS - len(INTERPRETER_NO_CUDA_NOTE)
    return (message if len(message) <= room else message[: room - 3] + "...") + INTERPRETER_NO_CUDA_NOTE


def describe(exc: BaseException) -> str:
    """One line, 'ExcType: text', at most MAX_MESSAGE_CHARS characters."""
    name = type(exc).__name__
    text = _error_text(exc)
    if name == "InterpreterError" and exc.__cause__ is not None:
        # The interpreter wraps the kernel's exception in repr(); name the inner one plainly instead.
        text = describe(exc.__cause__)
    line = f"{name}: {text}" if text else name
    return line if len(line) <= MAX_MESSAGE_CHARS else line[: MAX_MESSAGE_CHARS - 3] + "..."


def _error_text(exc: BaseException) -> str:
    error_message = getattr(exc, "error_message", None)
    node = getattr(exc, "node", None)
    if isinstance(error_message, str) and error_message and hasattr(node, "lineno"):
        # A Triton CompilationError: its str() is a source excerpt; the error and its place suffice. The place
        # counts lines from the kernel's `def`, so the kernel is named.
        kernel = re.search(r"def\s+(\w+)", getattr(exc, "src", None) or "")
        where = f"in {kernel.group(1)} " if kernel else ""
        return f"{where}at {node.lineno}:{node.col_offset}: {_first_line(error_message)}"
    if isinstance(exc, SyntaxError):
        return f"{exc.msg} ({exc.filename}, line {exc.lineno})"
    return _first_line(str(exc))


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ""


def format_detail(exc: BaseException, *, drop_worker_frames: bool = False) -> str:
    """The traceback, chained causes included, keeping its end when too long (the end names the error).

    With `drop_worker_frames`, the worker's own frames are left out: an implementation's error is about its code.
    """
    report = traceback.TracebackException.from_exception(exc)
    if drop_worker_frames:
        _drop_worker_frames(report)
    text = "".join(report.format()).rstrip()
    if len(text) <= MAX_DETAIL_CHARS:
        return text
    return "...\n" + text[-(MAX_DETAIL_CHARS - 4) :]


def _drop_worker_frames(report: traceback.TracebackException) -> None:
    seen = set()
    while report is not None and id(report) not in seen:
        seen.add(id(report))
        kept = [frame for frame in report.stack if not frame.filename.startswith(_WORKER_DIR)]
        report.stack = traceback.StackSummary.from_list(kept)
        report = report.__cause__ or report.__context__
