"""Tensors handed between the worker's processes: safetensors files, never a pickle.

The reference step writes the fp64 reference outputs, the candidate step writes the candidate's outputs, and the
compare step (which never imports candidate code) reads both. A safetensors file is a JSON header plus raw bytes:
loading one cannot run code. Where the safetensors package is missing, `torch.save` + `torch.load(weights_only=True)`
is the fallback (torch's restricted unpickler: tensors and plain containers only).
"""

from __future__ import annotations

import os
import stat
import threading
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


class NotARegularFile(ValueError):
    """A file the candidate step left is a symbolic link or no file at all."""


def regular_file(path: str) -> str:
    """`path`, if it is a regular file and no symbolic link: the compare step reads what the candidate step left in a
    folder the candidate could write to, where a link would make it read another file as the candidate's (another
    job's outputs, a file of the engine's user). Raises FileNotFoundError if there is none, NotARegularFile if it is
    not a regular file."""
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        what = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        raise NotARegularFile(f"{os.path.basename(path)} is {what}, where the candidate step writes a regular file")
    return path


class TensorFile(Mapping):
    """The tensors of a file written by `save_tensors`, each read from the file when it is first asked for: a task's
    float64 reference holds every output of every check case (gigabytes for an attention task), and a compare step
    needs one at a time. A torch.save file (the fallback format) is read whole."""

    def __init__(self, path: str):
        self.path = regular_file(path)
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

# A writer holds at most about this many bytes of tensors in host memory: beyond it, what it holds goes to the next
# part file (`<path>.part<N>`, N from 1) and leaves host memory. On the H200 (2026-12-04) twelve jobs, each holding its
# outputs, and reference steps holding a task's whole reference until the end, filled the host's 125 GB; the task lint
# still puts an rms_norm job's outputs at 12 GiB and its float64 reference at 39 GiB.
PART_BYTES = 512 << 20
PART_SUFFIX = ".part"
# The first file's entry that says how many part files belong to it (an int64 scalar): a reference made again
# after a failure may leave more parts than its new file names, and only the named ones are read.
PARTS_KEY = "__parts__"


class TensorWriter:
    """Tensors written as they are made: added to host memory (copied from the GPU), moved to a part file once
    PART_BYTES are held (`spill`, which the caller calls outside any GPU hold: writing files is CPU work, lane.py),
    and the rest written to `path` by the first `save`, which names the parts and marks the whole as complete: the
    engine takes a file at `path` as made, and a reader reads `path` first. Each later `save` writes what was made
    since to `path` + LATER_SUFFIX. No tensor is written twice, and none is kept in host memory once written.
    `TensorFiles` reads them all. An empty `path` writes nothing.

    Thread-safe: the watchdog's thread saves at a phase timeout (candidate.py) while the main thread may be adding
    or spilling, and then ends the process; the first file must name only parts already written whole. The copy
    from the GPU is made outside the lock, so a main thread stuck in the driver never keeps the save waiting."""

    def __init__(self, path: str, part_bytes: int | None = None):
        self.path = path
        self.part_bytes = PART_BYTES if part_bytes is None else part_bytes
        self.tensors: dict[str, torch.Tensor] = {}  # not yet written
        self.parts = 0
        self._held = 0
        self._first_written = False
        self._lock = threading.Lock()

    def add(self, key: str, tensor: torch.Tensor) -> None:
        held = tensor.detach().to("cpu", copy=True)
        with self._lock:
            previous = self.tensors.get(key)
            self._held += held.numel() * held.element_size() - (
                previous.numel() * previous.element_size() if previous is not None else 0
            )
            self.tensors[key] = held

    def spill(self) -> None:
        """Moves what is held to the next part file once it comes to PART_BYTES (before the first save only: later
        outputs are few)."""
        with self._lock:
            if not self.path or self._first_written or self._held < self.part_bytes:
                return
            save_tensors(f"{self.path}{PART_SUFFIX}{self.parts + 1}", self.tensors)
            self.parts += 1
            self.tensors, self._held = {}, 0

    def save(self) -> None:
        if not self.path:
            return
        with self._lock:
            if self._first_written:
                if self.tensors:
                    save_tensors(self.path + LATER_SUFFIX, dict(self.tensors))
                return
            import torch

            save_tensors(self.path, {**self.tensors, PARTS_KEY: torch.tensor(self.parts, dtype=torch.int64)})
            self._first_written = True
            self.tensors, self._held = {}, 0


class TensorFiles(Mapping):
    """The tensors a `TensorWriter` wrote: its first file, the parts that file names and, when there is one and
    `later` is true, the later file; each tensor read when it is first asked for (TensorFile)."""

    def __init__(self, path: str, later: bool = True):
        first = TensorFile(path)
        parts = int(first[PARTS_KEY]) if PARTS_KEY in first else 0
        self._files = [first] + [TensorFile(f"{path}{PART_SUFFIX}{n}") for n in range(1, parts + 1)]
        if later and os.path.lexists(path + LATER_SUFFIX):
            self._files.append(TensorFile(path + LATER_SUFFIX))
        self._where: dict[str, TensorFile] = {}
        for file in self._files:
            for key in file:
                if key != PARTS_KEY:
                    self._where.setdefault(key, file)

    def __getitem__(self, key: str) -> torch.Tensor:
        return self._where[key][key]

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)
