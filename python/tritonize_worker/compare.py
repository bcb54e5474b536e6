"""The compare step: the verdict, in a process that never imports candidate code.

It reads the candidate step's result (JSON, from an untrusted process: validated, and it can only fail the job),
the reference outputs and the candidate's outputs (tensor files, loaded without unpickling anything), compares
every output the candidate produced and writes the job's final result.

Verdict precedence (docs/security.md): wrong values first, whatever else happened; then the candidate step's own
failure (a load error, an exception, a crash it saw, a timeout); then the anti-cheat rejections. A wrong value drops
the timings: a wrong implementation never has a time. What the other steps saw on the way (rejections, the static
scan's evidence) is kept in the detail.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Mapping
from typing import Any

from . import lane
from .cases import PlannedOutput, check_cases, planned_outputs, tolerance_for
from .check import COMPARE_CHUNK, CheckFailure, Comparison, Reference, compare, failure_report, record
from .guards import timed_triton_share
from .inputs import torch_dtype
from .properties import check_properties
from .protocol import STATUSES, TRUSTED_KINDS, WORKER_ERROR, Request, Result
from .tensor_files import CALLS, NotARegularFile, TensorFiles, regular_file

_PASSED_KEYS = ("status", "message", "detail", "phase", "rejected_by")
MAX_EVIDENCE_LINES = 8


def run_compare(request: Request, result: Result) -> None:
    result.phase = "compare"
    try:
        if request.files.candidate_result:
            _judge(request, result)
        else:
            _compare_first_part(request, result)
    except NotARegularFile as exc:
        # Only a candidate makes a link of its own files (to another job's outputs, to a file of the engine's user):
        # nothing of it is read, and the job is rejected, whatever else its files say.
        result.checks.clear()
        result.fail("rejected", f"the candidate's files: {exc}")
        result.rejected_by = "files"


def _judge(request: Request, result: Result) -> None:
    candidate = _read_candidate_result(request.files.candidate_result)
    result.environment = candidate.get("environment") if isinstance(candidate.get("environment"), dict) else {}
    result.guards = [g for g in candidate.get("guards", []) if isinstance(g, dict)]
    finished = candidate["status"] == "ok"
    earlier = _read_first_part(request.files.compared)
    outputs_written = os.path.lexists(request.files.outputs)
    failures = _compare_outputs(request, result, finished, earlier) if outputs_written else []
    evidence = _evidence(result.guards)
    if failures:
        message, detail = failure_report(failures)
        if not finished and candidate["status"] != "rejected":  # a rejection is in the evidence already
            evidence.insert(0, f"the candidate step then ended {candidate['status']}: {_text(candidate, 'message')}")
        result.fail("wrong_result", message, _with_evidence(detail, evidence))
        result.phase = "check"
        return
    if not finished:
        _pass_on(candidate, result)
        result.detail = _with_evidence(result.detail, [e for e in evidence if not e.startswith(result.message + " (")
                                                       and e != result.message])
        return
    if not os.path.lexists(request.files.outputs):
        raise ValueError(f"{WORKER_ERROR}the candidate step ended ok but wrote no outputs file")
    timings = candidate.get("timings", [])
    timings = [t for t in timings if isinstance(t, dict)] if isinstance(timings, list) else []
    # Judged for candidates only: an expert is trusted, its share is recorded (candidate.triton_share).
    if request.implementation is None or request.implementation.kind not in TRUSTED_KINDS:
        rejection = _timed_share_rejection(request, result.guards, timings)
        if rejection:
            result.fail("rejected", f"triton_time_share: {rejection}", _with_evidence("", evidence))
            result.rejected_by = "triton_time_share"
            result.phase = "time"
            return
    result.detail = _with_evidence("", evidence)
    result.timings = timings
    result.phase = "time" if result.timings else "check"


@dataclasses.dataclass
class Judged:
    """What the compare step found for one planned output: the output keys it compared (the output, a list's items,
    the later calls'), a record for each, and a failure for each wrong one."""

    keys: list[str]
    records: list[dict]
    failures: list[CheckFailure]

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": self.keys,
            "records": self.records,
            "failures": [{"headline": f.headline, "listing": f.listing} for f in self.failures],
        }


def _compare_first_part(request: Request, result: Result) -> None:
    """The compare step's first part, while the candidate step still runs (its timing): every value output the
    candidate step wrote with its checks (the file and its parts, complete once the file is there; not the later
    file, which it may be writing), judged, and what was found written to files.compared for the second part."""
    judged: dict[str, Judged] = {}
    _compare_outputs(request, result, False, first_part=judged)
    done = {"judged": {key: part.to_json() for key, part in judged.items()}, "compare": result.environment["compare"]}
    result.checks.clear()  # they are the second part's to give
    partial = f"{request.files.compared}.{os.getpid()}.partial"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(done, file)
    os.replace(partial, request.files.compared)


def _read_first_part(path: str) -> tuple[dict[str, Judged], dict[str, Any]] | None:
    """What the first part found, when there was one (written by the engine's own compare process, in its folder)."""
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as file:
        done = json.load(file)
    judged = {}
    for key, part in done["judged"].items():
        failures = [CheckFailure(failure["headline"], failure["listing"]) for failure in part["failures"]]
        judged[key] = Judged(part["keys"], part["records"], failures)
    return judged, done["compare"]


def _compare_outputs(
    request: Request,
    result: Result,
    finished: bool,
    earlier: tuple[dict[str, Judged], dict[str, Any]] | None = None,
    first_part: dict[str, Judged] | None = None,
) -> list[CheckFailure]:
    """Every planned output, and every later call's output on a check input, against its reference. An output the
    candidate step never reached (it failed before) is not a failure; one missing from a finished step is.

    `earlier`: what the first part judged (run_compare), which is taken as it is; only the outputs it had not seen are
    compared. `first_part`: this is the first part, which judges the value outputs there are into it."""
    started, started_cpu = time.perf_counter(), time.process_time()
    # Each tensor read from its file as it is compared: the first file, its parts, the later one (TensorWriter).
    reference = TensorFiles(request.files.reference)
    outputs = TensorFiles(request.files.outputs, later=first_part is None)
    judged_before, compared_before = earlier if earlier is not None else ({}, {})
    task = request.task
    failures = []
    import torch

    device = compare_device(request)
    gpu = lane.current()
    on_cpu = 0  # outputs compared on the CPU for want of GPU memory
    cases = check_cases(task, request.check.sizes, request.check.seeds, request.guards.run_seed)
    for planned in planned_outputs(task, cases):
        tolerance = tolerance_for(task, planned.case, planned.name, request.guards.run_seed)
        before = judged_before.get(planned.key)
        if first_part is not None and planned.spec is not None and planned.spec.check != "values":
            continue  # checked by its properties, from every output at once: the second part's
        if before is not None:
            # The first part's findings, then the outputs it had not seen (the late check's), compared now.
            result.checks.extend(before.records)
            failures.extend(before.failures)
            unseen = [name for name in _keys_of(outputs, planned.key) if name not in before.keys]
            if not unseen:
                continue
            # (A list's length is read again, not compared again.)
            wanted = unseen + [name for name in _keys_of(outputs, planned.key) if name.endswith(".len")]
            records, fell_back = _values(planned, reference, {name: outputs[name] for name in wanted}, tolerance,
                                         False, device, gpu)
            on_cpu += fell_back
        elif planned.spec is not None and planned.spec.check != "values":
            reached = planned.key in outputs or any(k.startswith(planned.key + ".") for k in outputs)
            if not reached and not finished:
                continue  # never reached
            if device == "cuda":
                try:
                    records = check_properties(request, planned, outputs, tolerance, device,
                                               gpu.shared(f"compare {planned.case.size}"), finished)
                except torch.OutOfMemoryError:
                    torch.cuda.empty_cache()
                    on_cpu += 1
                    records = check_properties(request, planned, outputs, tolerance, finished=finished)
            else:
                records = check_properties(request, planned, outputs, tolerance, finished=finished)
        else:
            records, fell_back = _values(planned, reference, outputs, tolerance, finished, device, gpu)
            on_cpu += fell_back
        found = Judged(_keys_of(outputs, planned.key), [], [])
        for record_, comparison in records:
            found.records.append(record_)
            if not comparison.ok:
                where = f"{record_['output']} at {planned.case.where()} ({planned.mode})"
                found.failures.append(CheckFailure(f"{where}: {comparison.problem}", comparison.listing))
        result.checks.extend(found.records)
        failures.extend(found.failures)
        if first_part is not None and found.records:
            first_part[planned.key] = found
    result.phase = "check"
    # Where the step's time goes: loading the tensor files and comparing every value (wall and CPU seconds); with a
    # first part, the sum of both, and the first part's own figures (it ran while the candidate step timed).
    result.environment["compare"] = {
        "device": device,
        "cpu_fallbacks": on_cpu + compared_before.get("cpu_fallbacks", 0),
        "wall_s": round(time.perf_counter() - started + compared_before.get("wall_s", 0), 3),
        "cpu_s": round(time.process_time() - started_cpu + compared_before.get("cpu_s", 0), 3),
    }
    if compared_before:
        result.environment["compare"]["first_part"] = {
            "outputs": len(judged_before),
            "wall_s": compared_before.get("wall_s", 0),
            "cpu_s": compared_before.get("cpu_s", 0),
        }
    return failures


def _values(planned: PlannedOutput, reference, outputs, tolerance, finished: bool, device: str, gpu: lane.Lane):
    """_compare_values on the device, and whether it fell back to the CPU for want of GPU memory (0 or 1)."""
    if device != "cuda":
        return _compare_values(planned, reference, outputs, tolerance, finished), 0
    import torch

    # GPU work: it shares the job's lane (lane.py), one output and its later calls' at a time. Other jobs share the
    # GPU's memory: an output that does not fit now is compared on the CPU, not failed. Read from disk before the
    # lane is taken: reading files is CPU work, which holds nothing (lane.py).
    expected, got = _loaded(reference, planned.key), _loaded(outputs, planned.key)
    try:
        with gpu.shared(f"compare {planned.case.size}"):
            return _compare_values(planned, expected, got, tolerance, finished, device), 0
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        return _compare_values(planned, expected, got, tolerance, finished), 1


def compare_device(request: Request) -> str:
    """Where the values are compared: on the job's GPU when it has one. A step server compares the outputs of many
    jobs at once, and on the H200 (2026-12-04) float64 passes over full-size outputs on the CPU took 10-50 s of a
    softmax job's wall time while twelve jobs shared sixteen cores. The same IEEE float64 operations give the same
    comparison on either device."""
    if request.device != "cuda" or request.interpret:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _timed_share_rejection(request: Request, guards: list[dict], timings: list[dict]) -> str:
    """The Triton time share of the timed calls themselves (their kernels are in each timing record): a candidate
    that switches to PyTorch once warmed up does so where it is timed. Empty when it passes or cannot be judged
    here (no timing, no profiled share check to name the candidate's kernels)."""
    share_record = next((g for g in guards if g.get("check") == "triton_time_share" and g.get("ok")), None)
    if share_record is None or not isinstance(share_record.get("kernels"), list):
        return ""
    own = {name for name in share_record["kernels"] if isinstance(name, str)}
    threshold = request.task.triton_time_share
    for timing in timings:
        by_kernel = timing.get("kernel_median_us")
        if not isinstance(by_kernel, dict) or not by_kernel:
            continue
        share, total = timed_triton_share(by_kernel, own)
        if math.isnan(share) or share < threshold:
            return (
                f"the timed {timing.get('mode', 'forward')} calls at size {timing.get('size', '?')}: "
                f"{0 if math.isnan(share) else share:.0%} of their {total:.1f} us of median kernel time is in the"
                f" module's own Triton kernels ({', '.join(sorted(own)) or 'none'}), below {threshold:.0%}"
            )
    return ""


def _evidence(guards: list[dict]) -> list[str]:
    """What the candidate step saw besides its status: the rejections it recorded and the static scan's findings."""
    failed: dict[str, list[str]] = {}
    for guard in guards:
        if guard.get("ok") is False and isinstance(guard.get("message"), str):
            failed.setdefault(str(guard.get("check")), []).append(guard["message"])
    lines = [
        f"{check}: {messages[0]}" + (f" (and {len(messages) - 1} more)" if len(messages) > 1 else "")
        for check, messages in failed.items()
    ]
    for guard in guards:
        if guard.get("check") == "static" and isinstance(guard.get("evidence"), list):
            lines += [f"static scan (evidence, not a verdict): {e}" for e in guard["evidence"] if isinstance(e, str)]
    return lines


def _with_evidence(detail: str, evidence: list[str]) -> str:
    if not evidence:
        return detail
    shown = evidence[:MAX_EVIDENCE_LINES]
    if len(evidence) > MAX_EVIDENCE_LINES:
        shown.append(f"... and {len(evidence) - MAX_EVIDENCE_LINES} more")
    block = "Also seen:\n" + "\n".join("  " + line for line in shown)
    return f"{detail}\n{block}" if detail else block


def _text(candidate: dict[str, Any], key: str) -> str:
    value = candidate.get(key)
    return value if isinstance(value, str) else ""


def _keys_of(file: Mapping[str, Any], key: str) -> list[str]:
    """The file's keys of one planned output: the output itself, a list's items and length (key.i, key.len) and the
    later calls' outputs (key@call)."""
    return [name for name in file if name == key or name.startswith((f"{key}.", f"{key}@"))]


def _loaded(file: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The file's tensors of one planned output (_keys_of), in memory."""
    return {name: file[name] for name in _keys_of(file, key)}


def _compare_values(
    planned: PlannedOutput, reference, outputs, tolerance, finished: bool = True, device: str = "cpu"
) -> list[tuple[dict, Comparison]]:
    """One output against the reference, element by element; a tensor list, each of its tensors; and the output of
    every later call on the same input (tensor_files.CALLS, key '<key>@<call>') that the candidate step made. An
    output the candidate step never reached (it failed before) is not a failure; one missing from a finished step
    is."""
    import torch

    keys = [planned.key]
    if planned.spec is not None and planned.spec.kind == "tensor_list":
        count = int(reference[f"{planned.key}.len"])
        got = outputs.get(f"{planned.key}.len")
        if got is None and not finished:
            return []
        if got is None or int(got) != count:
            comparison = compare(None, reference[f"{planned.key}.0"], torch.float64, tolerance)
            comparison.problem = f"expected a list of {count} tensors, got {'none' if got is None else int(got)}"
            return [(_record(planned, planned.name, comparison, tolerance), comparison)]
        keys = [f"{planned.key}.{i}" for i in range(count)]
    found = []
    for key in keys:
        if key not in reference:
            raise ValueError(f"{WORKER_ERROR}the reference file has no {key}")
        values = reference[key]
        # A narrow output's reference is stored as float32 (reference.NARROW_BYTES); compared in float64 as made.
        values = values.to(device, torch.float64) if values.is_floating_point() else values.to(device)
        # One reference, the output of every call; a larger one is compared in stretches, each made anew (check.py).
        prepared = Reference.of(values, tolerance) if values.numel() <= COMPARE_CHUNK else None
        seen: list[tuple[Any, Comparison]] = []
        for call in ("", *CALLS):
            got_key = f"{key}@{call}" if call else key
            if got_key not in outputs and (call or not finished):
                continue
            name = planned.name + key[len(planned.key) :] + (f" ({CALLS[call]})" if call else "")
            if got_key not in outputs:
                comparison = compare(None, reference[key], torch_dtype(planned.dtype), tolerance)
                comparison.problem = "no output was written for it"
            else:
                got = outputs[got_key]
                got = got.to(device) if isinstance(got, torch.Tensor) else got
                comparison = _same_values_as(got, seen) or compare(
                    got, values, torch_dtype(planned.dtype), tolerance, prepared
                )
                seen.append((got, comparison))
            found.append((_record(planned, name, comparison, tolerance), comparison))
    return found


def _same_values_as(got: Any, seen: list[tuple[Any, Comparison]]) -> Comparison | None:
    """A copy of the comparison of an output already compared against the same reference whose values are the same,
    bit for bit (a deterministic implementation's later calls): the same values get the same comparison, at the cost
    of one pass over the output's own dtype. NaN is never equal, so an output with NaN is always compared."""
    import torch

    for earlier, comparison in seen:
        if (
            isinstance(got, torch.Tensor)
            and isinstance(earlier, torch.Tensor)
            and got.dtype == earlier.dtype
            and got.shape == earlier.shape
            and torch.equal(got, earlier)
        ):
            return dataclasses.replace(comparison)
    return None


def _record(planned: PlannedOutput, name: str, comparison: Comparison, tolerance) -> dict:
    entry = record(planned.case.size, planned.case.seed, planned.mode, name, comparison, tolerance)
    entry["distribution"] = planned.case.distribution
    return entry


def _pass_on(candidate: dict[str, Any], result: Result) -> None:
    """The candidate step's own failing verdict becomes the job's."""
    for key in _PASSED_KEYS:
        setattr(result, key, _text(candidate, key))


def _read_candidate_result(path: str) -> dict[str, Any]:
    with open(regular_file(path), encoding="utf-8") as file:
        data = json.load(file)
    if not isinstance(data, dict) or data.get("status") not in STATUSES:
        raise ValueError(f"the candidate step's result {path} is not a result object")
    return data
