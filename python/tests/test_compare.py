"""The compare step's verdict precedence, on hand-made files: wrong values, then the candidate step's own failure, then
its rejections; timed calls whose kernels are not the candidate's."""

import json

import pytest
import torch
from conftest import CANDIDATES_DIR, make_request

from tritonize_worker.cases import Case, check_cases, output_key
from tritonize_worker.compare import run_compare
from tritonize_worker.protocol import Result, parse_request
from tritonize_worker.tensor_files import save_tensors

SIZES = ("37x93", "64x128")


@pytest.fixture
def job(tmp_path):
    """Writes the reference, the outputs (right unless told) and the candidate step's result; runs the compare."""

    def run(
        candidate: dict,
        outputs: dict | None = None,
        drop: tuple = (),
        kind: str = "candidate",
        device: str = "cpu",
        tamper=None,
        late: dict | None = None,
        parts: int = 1,
    ) -> Result:
        """`late`: outputs the candidate step wrote after timing (the later file). `parts`: 2 runs the compare step's
        first part between the checks' outputs and the later file, as the engine does while the candidate times."""
        raw = make_request("softmax", CANDIDATES_DIR / "softmax_triton.py")
        raw["implementation"]["kind"] = kind
        if device == "cuda":
            raw.update(device="cuda", interpret=False)
        raw["role"] = "compare"
        raw["files"] = {name: str(tmp_path / name) for name in ("reference", "outputs", "candidate_result")}
        if parts == 2:
            raw["files"]["compared"] = str(tmp_path / "compared")
        request = parse_request(raw)
        torch.manual_seed(0)  # the same reference every call, whichever device compares
        reference, right = {}, {}
        for case in check_cases(request.task, SIZES, request.check.seeds):
            rows, cols = map(int, case.size.split("x"))
            values = torch.softmax(torch.randn(rows, cols, dtype=torch.float64), -1)
            reference[output_key(case, "forward", "y")] = values
            right[output_key(case, "forward", "y")] = values.float()
        save_tensors(request.files.reference, reference)
        written = {k: v for k, v in {**right, **(outputs or {})}.items() if k not in drop}
        save_tensors(request.files.outputs, written)
        if parts == 2:
            first = Result()
            run_compare(parse_request({**raw, "files": {**raw["files"], "candidate_result": ""}}), first)
            assert first.status == "ok" and first.checks == [], first.message
        if late:
            save_tensors(request.files.outputs + ".later", late)
        (tmp_path / "candidate_result").write_text(json.dumps({"guards": [], **candidate}))
        if tamper is not None:
            tamper(tmp_path)
        result = Result()
        run_compare(request, result)
        return result

    return run


def link_in_place_of(name):
    """What a candidate could leave in its folder: its file moved elsewhere (another job's, say) and a link to it."""

    def tamper(folder):
        elsewhere = folder / "elsewhere"
        elsewhere.mkdir(exist_ok=True)
        (folder / name).rename(elsewhere / name)
        (folder / name).symlink_to(elsewhere / name)

    return tamper


def key(size="37x93", seed=0, call="", distribution="default"):
    return output_key(Case(size, seed, distribution), "forward", "y", call)


def every_key(size):
    """Every case's key at one size (both seeds, every distribution of the task)."""
    return tuple(key(size, seed, distribution=d) for seed in (0, 1) for d in ("default", "large_logits"))


def test_right_values_and_a_finished_step_are_ok(job):
    result = job({"status": "ok"})
    assert result.status == "ok" and all(check["ok"] for check in result.checks)


def test_the_values_are_compared_on_the_cpu_without_a_gpu_and_the_step_says_where(job):
    result = job({"status": "ok"})
    assert result.environment["compare"]["device"] == "cpu"
    assert set(result.environment["compare"]) == {"device", "cpu_fallbacks", "wall_s", "cpu_s"}


def test_an_output_that_does_not_fit_in_gpu_memory_is_compared_on_the_cpu(job, monkeypatch):
    # Other jobs share the GPU's memory: the compare step must not fail for want of it.
    from tritonize_worker import compare as compare_module

    real = compare_module._compare_values

    def short_of_memory(planned, reference, outputs, tolerance, finished=True, device="cpu"):
        if device == "cuda":
            raise torch.OutOfMemoryError("CUDA out of memory (a test)")
        return real(planned, reference, outputs, tolerance, finished, device)

    monkeypatch.setattr(compare_module, "compare_device", lambda request: "cuda")
    monkeypatch.setattr(compare_module, "_compare_values", short_of_memory)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    wrong = job({"status": "ok"}, {key(): torch.zeros(37, 93)})
    assert wrong.status == "wrong_result" and "37x93, seed 0" in wrong.message
    right = job({"status": "ok"})
    assert right.status == "ok"
    assert right.environment["compare"]["device"] == "cuda"
    assert right.environment["compare"]["cpu_fallbacks"] == len(right.checks) > 0  # one output a check here


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_comparison_on_the_gpu_is_the_one_on_the_cpu(job):
    # Wrong values of every kind (off by a little, NaN, infinities, a wrong later call): the same records and the
    # same message, whichever device compared them.
    bad = torch.softmax(torch.randn(37, 93, dtype=torch.float64), -1).float()
    bad[0, 0], bad[1, 1], bad[2, 2], bad[3, 3] = float("nan"), float("inf"), float("-inf"), bad[3, 3] * 1.01
    outputs = {key(): bad, key(seed=1, call="repeat"): bad.clone(), key("64x128", 1): torch.zeros(64, 128)}
    on_cpu = job({"status": "ok"}, outputs)
    on_gpu = job({"status": "ok"}, outputs, device="cuda")
    assert on_gpu.environment["compare"]["device"] == "cuda"
    assert (on_gpu.status, on_gpu.message, on_gpu.detail) == (on_cpu.status, on_cpu.message, on_cpu.detail)
    assert on_gpu.checks == on_cpu.checks
    assert on_cpu.status == "wrong_result"


def test_a_wrong_value_comes_before_the_steps_own_failure_and_its_rejections(job):
    guards = [{"check": "inputs_unchanged", "ok": False, "message": "the forward call: tensor input 0 was modified"}]
    candidate = {"status": "runtime_error", "message": "RuntimeError: boom", "guards": guards}
    result = job(candidate, outputs={key(seed=1): torch.zeros(37, 93)}, drop=every_key("64x128"))

    assert result.status == "wrong_result"
    assert result.message.startswith("y at size 37x93, seed 1 (forward): 3441 of 3441 elements outside")
    assert "the candidate step then ended runtime_error: RuntimeError: boom" in result.detail
    assert "inputs_unchanged: the forward call: tensor input 0 was modified" in result.detail
    # Outputs the step never reached are not failures.
    assert [c["size"] for c in result.checks] == ["37x93"] * 4


def test_the_steps_own_failure_comes_before_its_rejections(job):
    guards = [{"check": "same_stream", "ok": False, "message": "the call changed the current CUDA stream"}]
    result = job({"status": "timeout", "message": "the call phase took longer than its 1 s timeout", "guards": guards})

    assert (result.status, result.message) == ("timeout", "the call phase took longer than its 1 s timeout")
    assert "same_stream: the call changed the current CUDA stream" in result.detail


def test_a_rejection_stands_when_every_value_is_right(job):
    guards = [{"check": "deterministic", "ok": False, "message": "two calls differ"}] * 3
    candidate = {"status": "rejected", "rejected_by": "deterministic", "message": "deterministic: two calls differ"}
    result = job({**candidate, "guards": guards})

    assert (result.status, result.rejected_by) == ("rejected", "deterministic")
    assert "deterministic" not in result.detail  # the message says it; the detail does not repeat it


def test_a_later_calls_wrong_output_is_wrong_result_naming_the_call(job):
    result = job({"status": "rejected", "rejected_by": "deterministic", "message": "deterministic: differ"},
                 outputs={key(call="repeat"): torch.full((37, 93), 0.5)})

    assert result.status == "wrong_result"
    assert result.message.startswith("y (repeated call) at size 37x93, seed 0 (forward)")


def test_every_call_gets_its_own_record_whether_or_not_its_values_repeat_the_first(job):
    """A later call's output equal to the first one's is not compared again, but still gets its record; one that
    differs in a single element is compared in full."""
    wrong = torch.full((37, 93), 0.5)
    differs = wrong.clone()
    differs[3, 4] = 0.75
    result = job({"status": "ok"}, outputs={key(): wrong, key(call="repeat"): wrong.clone(), key(call="late"): differs})

    first, repeated, late = [c for c in result.checks if (c["size"], c["seed"], c["distribution"]) == (
        "37x93", 0, "default")]
    assert [first["output"], repeated["output"], late["output"]] == ["y", "y (repeated call)", "y (late check)"]
    assert repeated == {**first, "output": "y (repeated call)"}
    assert not late["ok"] and late["max_abs_err"] > first["max_abs_err"]


def test_a_missing_output_of_a_finished_step_is_wrong_result(job):
    result = job({"status": "ok"}, drop=(key("64x128", 1),))

    assert result.status == "wrong_result"
    assert result.message == "y at size 64x128, seed 1 (forward): no output was written for it"


def test_timed_calls_that_run_other_kernels_are_rejected(job):
    share = {"check": "triton_time_share", "ok": True, "kernels": ["softmax_kernel"]}
    timing = {"size": "1024x1024", "mode": "forward", "kernel_us": [10.0],
              "kernel_median_us": {"softmax_kernel": 1.0, "cunn_SoftMaxForward": 9.0}}
    result = job({"status": "ok", "guards": [share], "timings": [timing]})

    assert (result.status, result.rejected_by) == ("rejected", "triton_time_share")
    assert "the timed forward calls at size 1024x1024: 10% of their 10.0 us" in result.message
    assert result.timings == []

    timing["kernel_median_us"] = {"softmax_kernel_0d1": 9.0, "memset": 1.0}
    result = job({"status": "ok", "guards": [share], "timings": [timing]})
    assert result.status == "ok" and result.timings == [timing]


def test_an_experts_timed_share_is_recorded_not_judged(job):
    """An expert is trusted: Liger's LayerNorm backward does about half of its GPU time in PyTorch's reductions."""
    share = {"check": "triton_time_share", "ok": True, "judged": False, "kernels": ["_layer_norm_backward_kernel"]}
    timing = {"size": "1024x1024", "mode": "backward", "kernel_us": [19.3],
              "kernel_median_us": {"_layer_norm_backward_kernel": 9.3, "reduce_kernel": 10.0}}
    result = job({"status": "ok", "guards": [share], "timings": [timing]}, kind="expert")
    assert result.status == "ok" and result.timings == [timing]
    assert job({"status": "ok", "guards": [share], "timings": [timing]}).rejected_by == "triton_time_share"


@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
def test_a_tensor_file_gives_every_tensor_as_the_whole_file_does(tmp_path, fmt, monkeypatch):
    from tritonize_worker import tensor_files
    from tritonize_worker.tensor_files import TensorFile, load_tensors

    if fmt == "torch":  # the fallback format: what a machine without safetensors writes
        monkeypatch.setattr(tensor_files, "_has_safetensors", lambda: False)
    path = str(tmp_path / "t")
    written = {"a/0/default/forward/y": torch.randn(3, 4, dtype=torch.float64), "b.len": torch.tensor(2)}
    save_tensors(path, written)
    lazy = TensorFile(path)
    assert sorted(lazy) == sorted(written) and len(lazy) == 2
    assert "b.len" in lazy and "missing" not in lazy and lazy.get("missing") is None
    for key, tensor in load_tensors(path).items():
        assert torch.equal(lazy[key], tensor) and torch.equal(lazy[key], written[key])
    with pytest.raises(KeyError):
        lazy["missing"]


@pytest.mark.parametrize("name", ["outputs", "candidate_result"])
def test_a_link_in_place_of_a_candidates_file_is_rejected_and_nothing_of_it_is_judged(job, name):
    # The file it points at holds right values and an ok result: read through the link, the job would pass.
    result = job({"status": "ok"}, tamper=link_in_place_of(name))
    assert result.status == "rejected" and result.rejected_by == "files"
    assert "symbolic link" in result.message and result.checks == [] and result.timings == []


def test_a_link_in_place_of_the_later_outputs_is_rejected(job):
    def tamper(folder):
        save_tensors(str(folder / "right.later"), {key(call="late"): torch.zeros(37, 93)})
        (folder / "outputs.later").symlink_to(folder / "right.later")

    result = job({"status": "ok"}, tamper=tamper)
    assert result.status == "rejected" and result.rejected_by == "files"


def same_checks(a: Result, b: Result) -> bool:
    order = lambda result: sorted(json.dumps(check, sort_keys=True) for check in result.checks)  # noqa: E731
    return order(a) == order(b)


@pytest.mark.parametrize(
    "outputs, late",
    [
        (None, None),  # every value right
        ({key("64x128", 1): torch.zeros(64, 128)}, None),  # a wrong value among the checks'
        (None, {key("64x128", 1, "late"): torch.zeros(64, 128)}),  # a wrong value in the late check, written later
        (None, {key("64x128", 1, "late"): torch.softmax(torch.randn(64, 128), -1)}),  # a late value far off, too
    ],
)
def test_the_compare_step_in_two_parts_gives_the_one_parts_verdict_and_records(job, outputs, late):
    whole = job({"status": "ok"}, outputs=outputs, late=late)
    two = job({"status": "ok"}, outputs=outputs, late=late, parts=2)
    assert (two.status, two.message, two.detail) == (whole.status, whole.message, whole.detail)
    assert same_checks(two, whole) and len(two.checks) == len(whole.checks)
    assert two.environment["compare"]["first_part"]["outputs"] > 0
    if late:  # the second part compared what the first could not see
        assert whole.status == "wrong_result" and "late check" in two.message


def test_the_first_part_never_reads_the_later_file_which_may_be_half_written(job, tmp_path):
    # A later file being written while the first part runs: not read (the second part reads it whole).
    (tmp_path / "outputs.later").write_bytes(b"half a safetensors header")
    result = job({"status": "ok"}, parts=2, late={key("64x128", 1, "late"): torch.zeros(64, 128)})
    assert result.status == "wrong_result" and "late check" in result.message, result.message


def test_a_random_ops_step_that_ran_out_of_gpu_memory_after_its_first_call_keeps_its_own_failure(tmp_path):
    # Its second and third calls (same seed, another seed) were never made: no property of theirs fails, and the
    # step's out-of-memory error stays the verdict, which the engine runs again alone (H100, 2026-12-05: it was
    # `wrong_result`, "no output of the second call with the same seed").
    from conftest import step_request

    from tritonize_worker.cases import planned_outputs
    from tritonize_worker.inputs import draw_inputs
    from tritonize_worker.reference import run_reference

    run_reference(step_request(tmp_path, "reference", "dropout"), Result())
    request = step_request(tmp_path, "compare", "dropout")
    case = next(iter(check_cases(request.task, request.check.sizes, request.check.seeds)))
    x, p, seed = draw_inputs(request.task, case.size, case.seed, "cpu").args
    mask = torch.rand(x.shape, generator=torch.Generator().manual_seed(int(seed))) > float(p)
    planned = next(iter(planned_outputs(request.task, [case])))
    save_tensors(request.files.outputs, {planned.key: torch.where(mask, x / (1 - float(p)), torch.zeros_like(x))})
    oom = "worker error: OutOfMemoryError: CUDA out of memory. Tried to allocate 128.00 MiB."
    (tmp_path / "candidate-result.json").write_text(json.dumps({"status": "runtime_error", "message": oom}))
    result = Result()
    run_compare(request, result)

    assert (result.status, result.message) == ("runtime_error", oom)
    assert [(check["check"], check["ok"]) for check in result.checks] == [("dropout", True)]
