"""Statuses, one-line messages and details of failures."""

import ast

import pytest
import torch
from triton.compiler.errors import CompilationError, CompileTimeAssertionFailure
from triton.runtime.errors import InterpreterError

from tritonize_worker.errors import (
    INTERPRETER_NO_CUDA_NOTE,
    MAX_DETAIL_CHARS,
    MAX_MESSAGE_CHARS,
    CandidateError,
    asks_for_cuda,
    candidate_code,
    classify,
    describe,
    format_detail,
    with_no_cuda_note,
)

KERNEL_SOURCE = "def kernel(x_ptr, n):\n    offs = tl.arange(0, n)\n"


def compilation_error(kind=CompilationError) -> CompilationError:
    node = ast.parse(KERNEL_SOURCE).body[0].body[0].value  # the tl.arange call, line 2
    return kind(KERNEL_SOURCE, node, "arange's arguments must be of type tl.constexpr")


def raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        raise exc from cause
    except BaseException as caught:  # noqa: BLE001 - the test keeps whatever it raised
        return caught


def test_triton_compilation_errors_are_compile_errors():
    assert classify(compilation_error()) == "compile_error"
    assert classify(compilation_error(CompileTimeAssertionFailure)) == "compile_error"


def test_a_compilation_error_anywhere_in_the_cause_chain_is_a_compile_error():
    wrapped = raised(RuntimeError("autotuning failed"), cause=compilation_error())

    assert classify(wrapped) == "compile_error"


def test_other_exceptions_are_runtime_errors():
    assert classify(ValueError("boom")) == "runtime_error"
    assert classify(raised(InterpreterError("ValueError('x')"), cause=ValueError("x"))) == "runtime_error"


def test_compilation_error_message_is_one_line_with_its_place():
    assert describe(compilation_error()) == (
        "CompilationError: in kernel at 2:11: arange's arguments must be of type tl.constexpr"
    )


def test_interpreter_error_names_the_inner_exception():
    exc = raised(InterpreterError("ValueError('bad block')"), cause=ValueError("bad block"))

    assert describe(exc) == "InterpreterError: ValueError: bad block"


def test_message_is_the_first_line_and_is_bounded():
    assert describe(RuntimeError("first line\nsecond line")) == "RuntimeError: first line"
    assert describe(KeyError("k")) == "KeyError: 'k'"
    assert describe(StopIteration()) == "StopIteration"
    long = describe(RuntimeError("x" * 5000))
    assert len(long) == MAX_MESSAGE_CHARS and long.endswith("...")


def test_detail_is_the_traceback_and_keeps_its_end_when_long():
    short = format_detail(raised(RuntimeError("short")))
    long = format_detail(raised(RuntimeError("".join(f"line {i}\n" for i in range(5000)) + "the end")))

    assert short.startswith("Traceback (most recent call last):") and short.endswith("RuntimeError: short")
    assert len(long) == MAX_DETAIL_CHARS
    assert long.startswith("...\n") and long.endswith("line 4999\nthe end")


def test_candidate_code_wraps_exceptions_and_sys_exit():
    with pytest.raises(CandidateError) as caught, candidate_code("the forward call at size 1x1, seed 0"):
        raise SystemExit(3)

    assert isinstance(caught.value.original, SystemExit)
    assert caught.value.context == "the forward call at size 1x1, seed 0"


def test_worker_frames_can_be_left_out_of_the_detail():
    with pytest.raises(CandidateError) as caught, candidate_code():
        raise ValueError("in the candidate")

    full = format_detail(caught.value.original)
    trimmed = format_detail(caught.value.original, drop_worker_frames=True)
    assert "tritonize_worker/errors.py" in full
    assert "tritonize_worker/" not in trimmed and trimmed.endswith("ValueError: in the candidate")


def _raised(function) -> BaseException:
    try:
        function()
    except Exception as exc:  # noqa: BLE001 - the test wants whatever it raised
        return exc
    raise AssertionError("it raised nothing")


def _asserts_cuda():
    x = torch.zeros(1)
    assert x.is_cuda


def _asserts_shape():
    x = torch.zeros(1)
    assert x.shape[0] == 2


def test_failures_that_only_say_there_is_no_cuda_are_told_apart():
    assert asks_for_cuda(RuntimeError("0 active drivers ([]). There should only be one."))
    assert asks_for_cuda(AssertionError("Torch not compiled with CUDA enabled"))
    chained = ValueError("the grid")
    chained.__cause__ = RuntimeError("Found no NVIDIA driver on your system.")
    assert asks_for_cuda(chained)
    assert asks_for_cuda(_raised(_asserts_cuda))
    assert not asks_for_cuda(_raised(_asserts_shape))
    assert not asks_for_cuda(ValueError("cannot handle a tensor of shape (37, 93)"))


def test_the_no_cuda_note_keeps_the_message_bounded():
    assert with_no_cuda_note("RuntimeError: x") == "RuntimeError: x" + INTERPRETER_NO_CUDA_NOTE
    long = with_no_cuda_note("E" * MAX_MESSAGE_CHARS)
    assert len(long) == MAX_MESSAGE_CHARS and long.endswith("..." + INTERPRETER_NO_CUDA_NOTE)
