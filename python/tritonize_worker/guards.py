"""Anti-cheat checks made in the candidate's process around its calls. Each fails by default: a check that cannot
establish what it needs rejects the candidate, naming itself (`Rejection.check`), never passes it silently. A
rejection is recorded and the calls go on (guarded_calls.py): the compare step judges the values first.

| check | the exploit it stops |
| inputs_unchanged | zeroing or rewriting the inputs (so that a later reference run, or the next call, agrees) |
| no_output_alias | returning an input (or a view of it) as the output, or writing the result into an input |
| deterministic | outputs that differ between two calls on identical inputs (races, uninitialised memory) |
| output_follows_input | caching the output by shape or by address: the same address with new values, and new |
|                      | addresses with the same values, must give the output of those values |
| triton_time_share | doing the work in a PyTorch op instead of the candidate's own Triton kernels (GPU): in a |
|                   | profile after timing, and in the timed calls' own kernel records (compare step) |
| same_stream | switching the current CUDA stream (work the call-latency timer would not see) |

Outputs are also poisoned beforehand on the GPU (`poison_allocator`): the CUDA caching allocator's free blocks
are filled with NaN, so an output the candidate allocates but does not fully write has NaN where it did not
write, and the comparison (NaN where the reference is finite fails) catches it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass
class Rejection(Exception):
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


def tensors(values: Iterable[Any]) -> list[torch.Tensor]:
    """The tensors among the values, those of a list argument (a group of tensors) included, in order."""
    import torch

    found = []
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        found += [item for item in items if isinstance(item, torch.Tensor)]
    return found


def snapshot_inputs(args: list[Any]) -> list[torch.Tensor]:
    return [t.detach().clone() for t in tensors(args)]


def check_inputs_unchanged(before: list[torch.Tensor], args: list[Any], where: str) -> None:
    import torch

    for i, (old, new) in enumerate(zip(before, tensors(args), strict=True)):
        same = torch.equal(old, new.detach()) or bool(
            ((old == new.detach()) | (torch.isnan(old) & torch.isnan(new.detach()))).all()
        )
        if not same:
            changed = int((old != new.detach()).sum())
            raise Rejection("inputs_unchanged", f"{where}: tensor input {i} was modified ({changed} elements)")


def _storage_range(t: torch.Tensor) -> tuple[int, int]:
    storage = t.untyped_storage()
    start = storage.data_ptr()
    return start, start + storage.nbytes()


def check_no_alias(outputs: dict[str, Any], args: list[Any], where: str) -> None:
    inputs = [(i, _storage_range(t)) for i, t in enumerate(tensors(args)) if t.numel() > 0]
    for name, out in outputs.items():
        if not hasattr(out, "untyped_storage") or out.numel() == 0:
            continue
        lo, hi = _storage_range(out)
        for i, (in_lo, in_hi) in inputs:
            if lo < in_hi and in_lo < hi:
                raise Rejection("no_output_alias", f"{where}: {name} shares memory with tensor input {i}")


# Elements outputs_close compares at once. Whole, the float64 copies of two outputs and isclose's float64
# temporaries came to about 9 times the output's own bytes: asin's candidate steps held 10.3 GiB on the H100 on
# 2026-12-05 for a 512 MiB output (docs/runner.md, "GPU memory"), most of their peak, which the runner must admit.
CLOSE_CHUNK = 1 << 22


def outputs_close(a: torch.Tensor, b: torch.Tensor, atol: float, rtol: float, chunk: int = CLOSE_CHUNK) -> bool:
    """torch.isclose(a, b) everywhere (NaN equal to NaN), in float64, `chunk` elements at a time."""
    import torch

    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape:
        return False
    x, y = a.detach().reshape(-1), b.detach().reshape(-1)
    for start in range(0, x.numel(), chunk):
        xs, ys = x[start : start + chunk].double(), y[start : start + chunk].double()
        if not bool(torch.isclose(xs, ys, rtol=rtol, atol=atol, equal_nan=True).all()):
            return False
    return True


def check_deterministic(first: Any, second: Any, atol: float, rtol: float, where: str) -> None:
    # Within the task's tolerance, not bitwise: atomics-based reductions (legitimately) reorder float sums.
    if not outputs_close(first, second, atol, rtol):
        raise Rejection("deterministic", f"{where}: two calls on identical inputs gave different outputs")


def check_follows_input(
    call: Callable[[list[Any]], Any], args_a: list[Any], args_b: list[Any], atol: float, rtol: float, where: str
) -> None:
    """`call` on A; then A's memory overwritten with B's values; then B at fresh addresses. The second output must
    differ from the first, and match the third."""
    import torch

    out_a = _detached(call(args_a))
    for dst, src in zip(tensors(args_a), tensors(args_b), strict=True):
        with torch.no_grad():
            dst.copy_(src)
    out_same_address = _detached(call(args_a))
    fresh = [_fresh(a) for a in args_b]  # new addresses, A alive
    out_fresh = _detached(call(fresh))
    if not isinstance(out_a, torch.Tensor):
        raise Rejection("output_follows_input", f"{where}: the output is not a tensor")
    if _same(out_a, out_same_address):
        if _same(out_a, out_fresh):
            # B at new addresses, which no cache by address can serve, gives A's output too: these inputs cannot
            # tell a cached output from a computed one (a mean over 4096 rows rounded to one bfloat16 value).
            raise Inconclusive(f"{where}: B gave A's output at new addresses too")
        raise Rejection(
            "output_follows_input", f"{where}: new values at the same address gave the same output (a cached result)"
        )
    if not outputs_close(out_same_address, out_fresh, atol, rtol):
        raise Rejection(
            "output_follows_input", f"{where}: the same values at the same and at new addresses gave different outputs"
        )


class Inconclusive(Exception):
    """A check whose inputs could not tell a right implementation from a wrong one; the caller tries others."""


def _same(a: Any, b: Any) -> bool:
    """Bitwise the same output, NaN at the same places counting as the same (a cached NaN output is cached)."""
    import torch

    if not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all()) if a.is_floating_point() else torch.equal(a, b)


def _fresh(value: Any) -> Any:
    import torch

    if isinstance(value, (list, tuple)):
        return [_fresh(item) for item in value]
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def _detached(value: Any) -> Any:
    return value.detach().clone() if hasattr(value, "detach") else value


# --- GPU-only checks ---------------------------------------------------------------------------------------------


def poison_allocator(byte_sizes: Iterable[int]) -> None:
    """Fills freed blocks of the CUDA caching allocator, of each size, with 0xFF bytes (NaN in every float dtype)."""
    import torch

    blocks = []
    for nbytes in sorted(set(byte_sizes)):
        if nbytes <= 0:
            continue
        block = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
        block.fill_(0xFF)
        blocks.append(block)
    torch.cuda.synchronize()
    del blocks  # back to the allocator's cache, poisoned


def candidate_kernel_names(module: Any, path: str, with_imported: bool = False) -> set[str]:
    """Names of the Triton kernels defined in the candidate's own file (through autotune/heuristics wrappers).

    `with_imported` (experts only, never an LLM's candidate): also those defined in the modules its classes and
    functions come from. A library expert's module is one import line (experts.library_expert), so its kernels are
    the library's: Liger's LayerNorm launches the kernels of liger_kernel/ops/layer_norm.py."""
    names = _kernels_defined_in(module, path)
    if with_imported:
        sources = {getattr(value, "__module__", None) for value in vars(module).values() if callable(value)}
        for name in sorted(n for n in sources if isinstance(n, str) and n != module.__name__):
            source = sys.modules.get(name)
            source_path = getattr(source, "__file__", None)
            if source is not None and isinstance(source_path, str):
                names |= _kernels_defined_in(source, source_path)
    return names


def _kernels_defined_in(module: Any, path: str) -> set[str]:
    names = set()
    for value in vars(module).values():
        for _ in range(8):  # Autotuner -> Heuristics -> JITFunction: each wraps the next in `.fn`
            if value is None or isinstance(value, type):
                break
            if type(value).__name__.endswith("JITFunction"):
                fn = getattr(value, "fn", None)
                code = getattr(fn, "__code__", None)
                if code is not None and code.co_filename == path:
                    names.add(fn.__name__)
                break
            value = getattr(value, "fn", None)
    return names


def triton_time_share(activities: list[tuple[str, float]], own_kernels: set[str]) -> tuple[float, float]:
    """(share of device time in the candidate's own kernels, total device time in us)."""
    total = sum(duration for _, duration in activities)
    own = sum(
        duration
        for name, duration in activities
        if name in own_kernels or any(name.startswith(k + "_") for k in own_kernels)
    )
    return (own / total if total > 0 else math.nan), total


def timed_triton_share(median_us_by_kernel: dict[str, Any], own_kernels: set[str]) -> tuple[float, float]:
    """triton_time_share over a timing record's per-kernel medians (`kernel_median_us`), non-numbers left out."""
    activities = [
        (name, float(us))
        for name, us in median_us_by_kernel.items()
        if isinstance(us, (int, float)) and not isinstance(us, bool) and math.isfinite(us)
    ]
    return triton_time_share(activities, own_kernels)


def check_triton_share(
    activities: list[tuple[str, float]], own_kernels: set[str], threshold: float, where: str
) -> float:
    share, total = triton_time_share(activities, own_kernels)
    if not own_kernels:
        raise Rejection("triton_time_share", f"{where}: the module defines no Triton kernel of its own")
    if math.isnan(share) or share < threshold:
        top = sorted(activities, key=lambda a: -a[1])[:3]
        listed = ", ".join(f"{name} {dur:.1f} us" for name, dur in top)
        raise Rejection(
            "triton_time_share",
            f"{where}: {0 if math.isnan(share) else share:.0%} of the call's {total:.1f} us of GPU time is in the"
            f" module's own Triton kernels ({', '.join(sorted(own_kernels)) or 'none'}), below {threshold:.0%};"
            f" largest: {listed or 'no device activity'}",
        )
    return share
