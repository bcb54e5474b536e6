"""The runtime guards and the trusted-function snapshot, on plain CPU tensors."""

import math
import os
import time

import pytest
import torch

from tritonize_worker import guards
from tritonize_worker.tensor_files import load_tensors, save_tensors
from tritonize_worker.trusted import TrustedSnapshot


def test_a_modified_input_is_rejected_and_an_untouched_one_passes():
    x = torch.randn(4, 5)
    before = guards.snapshot_inputs([x, 3])
    guards.check_inputs_unchanged(before, [x, 3], "here")
    x[0, 0] += 1
    with pytest.raises(guards.Rejection) as caught:
        guards.check_inputs_unchanged(before, [x, 3], "here")
    assert caught.value.check == "inputs_unchanged"


def test_an_output_that_views_an_input_is_an_alias():
    x = torch.randn(4, 5)
    guards.check_no_alias({"y": x.clone()}, [x], "here")
    with pytest.raises(guards.Rejection, match="no_output_alias"):
        guards.check_no_alias({"y": x[1:]}, [x], "here")


def test_a_cached_output_does_not_follow_its_input():
    cache = {}

    def cached(args):
        return cache.setdefault(args[0].data_ptr(), args[0] * 2)

    a, b = [torch.randn(8, 8)], [torch.randn(8, 8)]
    guards.check_follows_input(lambda args: args[0] * 2, a, b, 1e-6, 1e-5, "here")
    a, b = [torch.randn(8, 8)], [torch.randn(8, 8)]
    with pytest.raises(guards.Rejection, match="output_follows_input"):
        guards.check_follows_input(cached, a, b, 1e-6, 1e-5, "here")


def test_an_output_that_no_draw_moves_is_not_conclusive_and_a_cached_one_still_is_rejected():
    # A mean over many rows rounded to one bfloat16 value (cross_entropy at 4096x128256 on the H200): two draws
    # give the same bits, also at new addresses, where no cache by address can serve it.
    def mean_bf16(args):
        return (args[0].float().mean() * 0 + 12.25).to(torch.bfloat16)

    a, b = [torch.randn(64, 64)], [torch.randn(64, 64)]
    with pytest.raises(guards.Inconclusive):
        guards.check_follows_input(mean_bf16, a, b, 1e-2, 1e-2, "here")
    cache = {}

    def cached(args):
        return cache.setdefault(args[0].data_ptr(), args[0].float().mean().to(torch.bfloat16))

    a, b = [torch.randn(64, 64)], [torch.randn(64, 64) + 5]
    with pytest.raises(guards.Rejection, match="a cached result"):
        guards.check_follows_input(cached, a, b, 1e-2, 1e-2, "here")


def test_determinism_is_within_tolerance():
    y = torch.randn(10)
    guards.check_deterministic(y, y + 1e-9, 1e-6, 0.0, "here")
    with pytest.raises(guards.Rejection, match="deterministic"):
        guards.check_deterministic(y, y + 1e-3, 1e-6, 0.0, "here")


@pytest.mark.parametrize("where", [0, 6, 7, 13, 29])
def test_outputs_are_compared_in_chunks_as_isclose_compares_them_whole(where):
    # A chunk of 7 elements over 30: a difference in the first, a middle, a boundary's and the last chunk.
    a = torch.randn(5, 6, dtype=torch.float32)
    a.view(-1)[3] = math.nan
    a.view(-1)[11] = math.inf
    b = a.clone()
    assert guards.outputs_close(a, b, 1e-6, 1e-5, chunk=7)
    for changed in (b.view(-1)[where] + 1e-3, math.nan, -math.inf):
        c = b.clone()
        c.view(-1)[where] = changed
        whole = bool(torch.isclose(a.double(), c.double(), rtol=1e-5, atol=1e-6, equal_nan=True).all())
        assert guards.outputs_close(a, c, 1e-6, 1e-5, chunk=7) is whole
        assert guards.outputs_close(a.t(), c.t(), 1e-6, 1e-5, chunk=7) is whole  # not contiguous
        assert guards.outputs_close(a, c, 1e-6, 1e-5) is whole
    assert not guards.outputs_close(a, b.reshape(6, 5), 1e-6, 1e-5, chunk=7)
    assert guards.outputs_close(a[:0], b[:0], 1e-6, 1e-5, chunk=7)


def test_triton_share_counts_only_the_modules_own_kernels():
    activities = [("my_kernel", 80.0), ("at::native::elementwise", 20.0)]
    assert guards.check_triton_share(activities, {"my_kernel"}, 0.8, "here") == pytest.approx(0.8)
    with pytest.raises(guards.Rejection, match="triton_time_share"):
        guards.check_triton_share(activities, {"my_kernel"}, 0.9, "here")
    with pytest.raises(guards.Rejection, match="no Triton kernel"):
        guards.check_triton_share(activities, set(), 0.5, "here")


def test_snapshot_sees_a_patched_timer_and_torch_function(monkeypatch):
    snapshot = TrustedSnapshot()
    assert snapshot.patched() == []
    monkeypatch.setattr(time, "perf_counter", lambda: 0.0)
    monkeypatch.setattr(torch, "isclose", lambda *a, **k: True)
    assert {"time.perf_counter", "torch.isclose"} <= set(snapshot.patched())


def test_tensor_files_round_trip_without_pickle(tmp_path):
    path = str(tmp_path / "t.safetensors")
    tensors = {"37x93/0/forward/y": torch.randn(3, 4, dtype=torch.float64), "a/b": torch.ones(2, dtype=torch.float16)}
    save_tensors(path, tensors)
    loaded = load_tensors(path)
    assert set(loaded) == set(tensors)
    assert all(torch.equal(loaded[k], tensors[k]) for k in tensors)
    with open(path, "rb") as file:
        assert file.read(2) != b"PK"  # safetensors, not a zip of pickles


def _module_from(path, name):
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_an_experts_kernels_include_those_of_the_library_it_imports_and_a_candidates_do_not(tmp_path, monkeypatch):
    """A library expert's module is one import line: its kernels are defined in the library's file (Liger's)."""
    library = tmp_path / "fake_library_ops.py"
    library.write_text(
        "import torch\nfrom triton.runtime.jit import JITFunction\n\n"
        "def _library_kernel(x_ptr):\n    pass\n\n"
        "_library_kernel = JITFunction(_library_kernel)  # @triton.jit on a GPU\n\n"
        "class LibraryFunction(torch.autograd.Function):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "fake_library_ops", raising=False)
    expert = tmp_path / "expert_module.py"
    expert.write_text("from fake_library_ops import LibraryFunction\n")
    module = _module_from(expert, "expert_module")
    assert guards.candidate_kernel_names(module, str(expert)) == set()
    assert guards.candidate_kernel_names(module, str(expert), with_imported=True) == {"_library_kernel"}
    with pytest.raises(guards.Rejection, match="defines no Triton kernel of its own"):
        guards.check_triton_share([("_library_kernel", 5.0)], set(), 0.8, "here")
    assert guards.check_triton_share([("_library_kernel", 5.0)], {"_library_kernel"}, 0.8, "here") == 1.0


def test_outputs_are_written_once_the_later_ones_beside_the_first(tmp_path):
    from tritonize_worker.tensor_files import LATER_SUFFIX, TensorFiles, TensorWriter

    path = str(tmp_path / "outputs.safetensors")
    outputs = TensorWriter(path)
    outputs.add("a", torch.ones(3))
    outputs.save()  # after the checks
    first = (tmp_path / "outputs.safetensors").stat().st_mtime_ns
    outputs.add("a@late", torch.full((3,), 2.0))
    outputs.save()  # after the late check: the first file is not written again
    outputs.add("b@late", torch.zeros(2))
    outputs.save()

    assert (tmp_path / "outputs.safetensors").stat().st_mtime_ns == first
    assert sorted(load_tensors(path)) == ["__parts__", "a"]
    assert sorted(load_tensors(path + LATER_SUFFIX)) == ["a@late", "b@late"]
    assert outputs.tensors.keys() == {"a@late", "b@late"}  # "a" is on disk, not in memory
    both = TensorFiles(path)
    assert sorted(both) == ["a", "a@late", "b@late"] and len(both) == 3 and "b@late" in both
    assert torch.equal(both["a@late"], torch.full((3,), 2.0)) and torch.equal(both["a"], torch.ones(3))
    with pytest.raises(KeyError):
        both["c"]


def test_a_writer_holds_a_bounded_amount_and_the_reader_reads_the_parts_the_first_file_names(tmp_path):
    """Held tensors go to a part file once they come to the bound (host memory holds a bounded amount, not every
    output); the first file names its parts, so a stale part left by an earlier writer of the path is not read."""
    from tritonize_worker.tensor_files import TensorFiles, TensorWriter

    path = str(tmp_path / "reference.safetensors")
    save_tensors(path + ".part3", {"stale": torch.ones(1)})  # an earlier attempt's third part
    writer = TensorWriter(path, part_bytes=64)
    writer.add("a", torch.ones(8))  # 32 bytes: held
    writer.spill()
    assert not os.path.exists(path + ".part1") and writer.tensors.keys() == {"a"}
    writer.add("b", torch.ones(8))  # 64 bytes: to part 1
    writer.spill()
    assert sorted(load_tensors(path + ".part1")) == ["a", "b"] and writer.tensors == {}
    writer.add("c", torch.full((16,), 2.0))  # 64 bytes: to part 2
    writer.spill()
    writer.add("d", torch.zeros(2))  # held until the first save
    assert not os.path.exists(path)
    writer.save()

    files = TensorFiles(path)
    assert sorted(files) == ["a", "b", "c", "d"] and "stale" not in files and "__parts__" not in files
    assert torch.equal(files["c"], torch.full((16,), 2.0)) and torch.equal(files["d"], torch.zeros(2))
    assert writer.tensors == {}


def test_a_save_from_the_watchdogs_thread_waits_for_a_part_being_written(tmp_path, monkeypatch):
    """At a phase timeout the watchdog's thread saves and ends the process while the main thread may be writing a
    part: the first file must not name a part that is not yet whole, nor leave out what the part holds."""
    import threading

    from tritonize_worker import tensor_files
    from tritonize_worker.tensor_files import TensorFiles, TensorWriter

    writing, release = threading.Event(), threading.Event()
    save = tensor_files.save_tensors

    def slow_part(path, tensors):
        if path.endswith(".part1"):
            writing.set()
            assert release.wait(5)
        return save(path, tensors)

    monkeypatch.setattr(tensor_files, "save_tensors", slow_part)
    path = str(tmp_path / "outputs.safetensors")
    writer = TensorWriter(path, part_bytes=1)
    writer.add("a", torch.ones(4))
    spilling = threading.Thread(target=writer.spill)
    spilling.start()
    assert writing.wait(5)
    saving = threading.Thread(target=writer.save)  # the watchdog's
    saving.start()
    saving.join(0.2)
    assert saving.is_alive() and not os.path.exists(path)  # it waits for the part
    release.set()
    spilling.join(5)
    saving.join(5)

    assert sorted(TensorFiles(path)) == ["a"] and int(load_tensors(path)["__parts__"]) == 1
