"""Tensors handed between the worker's processes: safetensors files, never a pickle.

The reference step writes the fp64 reference outputs, the candidate step writes the candidate's outputs, and the
compare step (which never imports candidate code) reads both. A safetensors file is a JSON header plus raw bytes:
loading one cannot run code. Where the safetensors package is missing, `torch.save` + `torch.load(weights_only=True)`
is the fallback (torch's restricted unpickler: tensors and plain containers only).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _has_safetensors() -> bool:
    try:
        import safetensors.torch  # noqa: F401
    except ImportError:
        return False
    return True


def save_tensors(path: str, tensors: dict[str, torch.Tensor]) -> str:
    """Writes `tensors` (moved to the CPU, made contiguous) atomically; returns the format used."""
    cpu = {name: tensor.detach().to("cpu").contiguous() for name, tensor in tensors.items()}
    temporary = f"{path}.{os.getpid()}.partial"  # unique: steps of parallel jobs may write the same reference
    if _has_safetensors():
        from safetensors.torch import save_file

        save_file(cpu, temporary)
        fmt = "safetensors"
    else:
        import torch

        torch.save(cpu, temporary)
        fmt = "torch-weights-only"
    os.replace(temporary, path)
    return fmt


def load_tensors(path: str) -> dict[str, torch.Tensor]:
    """The tensors of a file written by `save_tensors`, on the CPU. Never unpickles arbitrary objects."""
    with open(path, "rb") as file:
        head = file.read(8)
    # A torch.save file is a zip archive ("PK"); anything else must be safetensors.
    if head[:2] == b"PK":
        import torch

        loaded = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
            raise ValueError(f"{path}: expected a dict of tensors")
        return loaded
    from safetensors.torch import load_file

    return load_file(path, device="cpu")


class TensorFile(Mapping):
    """The tensors of a file written by `save_tensors`, each read from the file when it is first asked for: a task's
    float64 reference holds every output of every check case (gigabytes for an attention task), and a compare step
    needs one at a time. A torch.save file (the fallback format) is read whole."""

    def __init__(self, path: str):
        self.path = path
        self._whole: dict[str, torch.Tensor] | None = None
        self._file = None
        with open(path, "rb") as file:
            head = file.read(8)
        if head[:2] == b"PK":
            self._whole = load_tensors(path)
            self._keys = list(self._whole)
        else:
            from safetensors import safe_open

            self._file = safe_open(path, framework="pt", device="cpu")
            self._keys = list(self._file.keys())
        self._key_set = set(self._keys)

    def __getitem__(self, key: str) -> torch.Tensor:
        if key not in self._key_set:
            raise KeyError(key)
        if self._whole is not None:
            return self._whole[key]
        return self._file.get_tensor(key)

    def __contains__(self, key: object) -> bool:
        return key in self._key_set

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


# Later calls on a check input whose outputs are checked too: the second call of the determinism guard, and the
# late check after timing (a candidate that changes what it does once warmed up is judged on that too). Their
# outputs are saved under the case's key with "@<call>" (cases.output_key).
CALLS = {"repeat": "repeated call", "late": "late check"}


# The outputs a candidate step makes after its first save (the late check after timing), beside the first file.
LATER_SUFFIX = ".later"


class OutputFile:
    """The candidate's outputs, copied to the CPU as each call returns (so that a later GPU fault or a timeout
    cannot lose them), saved whatever happens next: the compare step judges every value that was produced.

    The first save writes every output made so far to `path` (after the checks, or at a timeout); each later save
    writes the outputs made since then to `path` + LATER_SUFFIX. No output is written twice (the late check used to
    write every check output again: seconds a job, gigabytes for a large task), and none is kept in host memory once
    it is in the first file. `OutputFiles` reads both."""

    def __init__(self, path: str):
        self.path = path
        self.tensors: dict[str, torch.Tensor] = {}  # not yet in the first file
        self._first_written = False

    def add(self, key: str, tensor: torch.Tensor) -> None:
        self.tensors[key] = tensor.detach().to("cpu", copy=True)

    def save(self) -> None:
        if not self.path:
            return
        if self._first_written:
            if self.tensors:
                save_tensors(self.path + LATER_SUFFIX, dict(self.tensors))
            return
        save_tensors(self.path, dict(self.tensors))
        self._first_written = True
        self.tensors = {}


class OutputFiles(Mapping):
    """A candidate step's outputs (OutputFile): the first file and, when there is one, the later one."""

    def __init__(self, path: str):
        self._files = [TensorFile(path)]
        if os.path.exists(path + LATER_SUFFIX):
            self._files.append(TensorFile(path + LATER_SUFFIX))

    def __getitem__(self, key: str) -> torch.Tensor:
        for file in self._files:
            if key in file:
                return file[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(key in file for file in self._files)

    def __iter__(self) -> Iterator[str]:
        for i, file in enumerate(self._files):
            yield from (key for key in file if not any(key in earlier for earlier in self._files[:i]))

    def __len__(self) -> int:
        return sum(1 for _ in self)
