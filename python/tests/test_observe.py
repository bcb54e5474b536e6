"""The op observer: what runs, on every thread, attributed to the candidate's calls."""

import threading

import pytest
import torch

from tritonize_worker.observe import ObserverError, OpObserver, forbidden_op_names, op_base

SOFTMAX = ("torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax", "torch._softmax")


@pytest.mark.parametrize(
    "name, base",
    [
        ("torch.softmax", "softmax"),
        ("torch._softmax", "softmax"),
        ("aten::_softmax", "softmax"),
        ("aten::_softmax_backward_data", "softmax"),
        ("torch.nn.LayerNorm", "layer_norm"),
        ("aten::native_layer_norm", "layer_norm"),
        ("aten::native_layer_norm_backward", "layer_norm"),
        ("torch.Tensor.__matmul__", "matmul"),
        ("torch.linalg.multi_dot", "multi_dot"),
        ("aten::linalg_multi_dot", "multi_dot"),
        ("aten::mm", "mm"),
        ("aten::empty_strided", "empty_strided"),
    ],
)
def test_a_python_name_and_its_aten_ops_share_a_base(name, base):
    assert op_base(name) == base


def test_the_matmul_tasks_names_cover_the_ops_matmul_dispatches_to():
    names = forbidden_op_names(("torch.matmul", "torch.mm", "torch.bmm", "torch.addmm", "torch.nn.functional.linear"))
    assert {op_base(op) for op in ("aten::mm", "aten::bmm", "aten::addmm", "aten::matmul", "aten::linear")} <= names
    assert op_base("aten::add") not in names and op_base("aten::copy_") not in names


def test_a_forbidden_op_in_a_call_is_found_and_the_workers_own_ops_are_not():
    observer = OpObserver(SOFTMAX)
    x = torch.randn(4, 8)
    observer.start()
    torch.softmax(x, -1)  # the worker's own, between calls: not counted
    with observer.call("the call at size 4x8"):
        x.softmax(0)
        torch.exp(x)
    findings = observer.stop()
    assert {(f.op, f.where) for f in findings} == {
        ("aten::softmax", "during the call at size 4x8"),
        ("aten::_softmax", "during the call at size 4x8"),
    }


def test_a_forbidden_op_on_another_thread_is_found_inside_or_between_calls():
    observer = OpObserver(SOFTMAX)
    x = torch.randn(4, 8)
    observer.start()
    worker = threading.Thread(target=lambda: torch.softmax(x, -1))
    worker.start()
    worker.join()
    findings = observer.stop()
    assert findings and all(f.where == "between calls, on a thread of the candidate's" for f in findings)


def test_a_session_stopped_by_someone_else_fails_by_default():
    observer = OpObserver(SOFTMAX)
    observer.start()
    torch._C._autograd._disable_profiler()
    with pytest.raises(ObserverError, match="stopped"):
        observer.stop()


def test_a_session_replaced_by_someone_elses_fails_by_default():
    from torch._C._profiler import ProfilerActivity, ProfilerConfig, ProfilerState, _ExperimentalConfig

    observer = OpObserver(SOFTMAX)
    observer.start()
    torch._C._autograd._disable_profiler()
    config = ProfilerConfig(ProfilerState.KINETO, False, False, False, False, False, _ExperimentalConfig())
    torch._C._autograd._prepare_profiler(config, {ProfilerActivity.CPU})
    torch._C._autograd._enable_profiler(config, {ProfilerActivity.CPU})
    with pytest.raises(ObserverError, match="replaced"):
        observer.stop()
