"""Which configuration each autotuned kernel of a call ran with: Triton's @triton.autotune and Inductor's kernels.

An autotuner picks its configuration by timing the candidates once, in this process; two processes can pick
differently, and a kernel's time then sits on a different level in each (docs/measurement.md). Recording the pick
with every timing lets the report say so instead of leaving an unexplained spread.

`tuned_configs` makes one call with the autotuners' `run` methods wrapped to note which ran, then reads the
configuration each used: Triton's `Autotuner.best_config`, or the one launcher Inductor's `CachingAutotuner` keeps
after tuning. The call is outside every timed region; the wrappers are removed before it returns.

`AutotuneLog` keeps, for the job's record, every tuning a Triton autotuner does in the process: the kernel, the
key, what its benchmark read for each candidate and the pick. Two processes that picked differently can then be
told apart: candidates within the benchmark's noise, or a benchmark that disagrees with the kernel time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import candidate_code


def autotuner_classes() -> list[type]:
    """The autotuner classes importable here: Triton's, and Inductor's when torch has it."""
    classes = []
    try:
        from triton.runtime.autotuner import Autotuner

        classes.append(Autotuner)
    except ImportError:
        pass
    try:
        from torch._inductor.runtime.triton_heuristics import CachingAutotuner

        classes.append(CachingAutotuner)
    except ImportError:
        pass
    return classes


@contextmanager
def noting_runs(classes: list[type]) -> Iterator[dict[int, Any]]:
    """Wraps each class's `run` to note the instances that run, by id; restores the originals on exit."""
    ran: dict[int, Any] = {}
    originals = {cls: cls.__dict__["run"] for cls in classes if "run" in cls.__dict__}

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            ran[id(self)] = self
            return original(self, *args, **kwargs)

        return run

    try:
        for cls, original in originals.items():
            cls.run = wrap(original)
        yield ran
    finally:
        for cls, original in originals.items():
            cls.run = original


def kernel_name(tuner: Any) -> str:
    fn = getattr(tuner, "base_fn", None) or getattr(tuner, "fn", None)
    return getattr(fn, "__name__", None) or type(tuner).__name__


def describe(config: Any) -> str:
    """A triton.Config in one short line: its meta-parameters, warps and stages; num_ctas and maxnreg only when set."""
    kwargs = getattr(config, "kwargs", None)
    if not isinstance(kwargs, dict):
        return str(config)
    parts = [f"{name}={value}" for name, value in kwargs.items()]
    parts += [f"num_warps={getattr(config, 'num_warps', None)}", f"num_stages={getattr(config, 'num_stages', None)}"]
    if getattr(config, "num_ctas", 1) not in (None, 1):
        parts.append(f"num_ctas={config.num_ctas}")
    if getattr(config, "maxnreg", None) is not None:
        parts.append(f"maxnreg={config.maxnreg}")
    return ", ".join(parts)


def chosen_config(tuner: Any) -> str | None:
    """The configuration the tuner's last run used; None when it has not settled on one."""
    config = getattr(tuner, "best_config", None)
    if config is None:
        launchers = getattr(tuner, "launchers", None) or []
        config = launchers[0].config if len(launchers) == 1 else None
    return None if config is None else describe(config)


def tuned_configs(call: Callable[[], Any], reset: Callable[[], None], where: str) -> dict[str, str]:
    """Kernel name -> the configuration its autotuner used in one call; {} when no autotuned kernel ran."""
    import torch

    classes = autotuner_classes()
    if not classes:
        return {}
    with noting_runs(classes) as ran, candidate_code(where):
        reset()
        call()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
    configs = {}
    for tuner in ran.values():
        config = chosen_config(tuner)
        if config is not None:
            configs[kernel_name(tuner)] = config
    return dict(sorted(configs.items()))


# Tunings kept per job: enough for every shape of the shipped tasks (an expert matmul tunes about 12 keys).
MAX_LOGGED_TUNINGS = 64


class AutotuneLog:
    """Every tuning of a Triton Autotuner while installed: kernel, key, each candidate's reading (us), pick."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def install(self) -> Callable[[], None]:
        """Wraps Autotuner.run to note each key it tunes; returns the function that undoes it."""
        try:
            from triton.runtime.autotuner import Autotuner
        except ImportError:
            return lambda: None
        original = Autotuner.__dict__["run"]
        log = self

        def run(tuner: Any, *args: Any, **kwargs: Any) -> Any:
            before = set(getattr(tuner, "cache", {}))
            try:
                return original(tuner, *args, **kwargs)
            finally:
                for key in [key for key in getattr(tuner, "cache", {}) if key not in before]:
                    log.note(tuner, key)

        Autotuner.run = run

        def uninstall() -> None:
            Autotuner.run = original

        return uninstall

    def note(self, tuner: Any, key: Any) -> None:
        if len(self.entries) >= MAX_LOGGED_TUNINGS:
            return
        readings = getattr(tuner, "configs_timings", None) or {}
        self.entries.append(
            {
                "kernel": kernel_name(tuner),
                "key": [str(part) for part in key] if isinstance(key, tuple) else str(key),
                "picked": describe(tuner.cache[key]),
                "us": {describe(config): _reading_us(reading) for config, reading in readings.items()},
                "bench_s": round(getattr(tuner, "bench_time", 0.0) or 0.0, 3),
            }
        )


def _reading_us(reading: Any) -> float | None:
    """The benchmark's median in microseconds (it returns ms, alone or first of its quantiles); None if it failed."""
    value = reading[0] if isinstance(reading, (list, tuple)) and reading else reading
    try:
        us = float(value) * 1000.0
    except (TypeError, ValueError):
        return None
    return round(us, 3) if us != float("inf") else None


class PerSizePicks:
    """Each check size's own picks of every Triton autotuner (docs/measurement.md, "An autotuner's pick at each
    size"). An autotuner keyed on less than the shapes (tutorial 08's on the group's length alone) keeps the
    configuration it picked at the first call for every later size: in a job that is the smallest check size, and on
    the H200 (2026-12-04) tutorial 08's kernel was timed at 4096^3 with the 64x64x32 tiles it picked for 1024x128x32,
    at 0.13x of cuBLAS. The pick then depends on the order the harness calls sizes in, which no user's workload has.

    So each size has its own view of every autotuner's cache: the first call at a size tunes there, the checks at the
    size run with that pick, and the timing at the size runs with the same one (no tuning in the timing). An
    autotuner keyed on the shapes picks as before (its keys at a size are only ever made at that size).

    A view also holds a key's tensors by what they are (dtype, shape, device), not by which object they are
    (`SizeView`). Triton puts a keyed tensor argument itself into the key, and a tensor hashes by identity: tutorial
    08's TMA kernel is keyed on the pointer arrays its wrapper makes anew at every call, so it tuned its 16
    configurations at every call, the timed ones included, holding the GPU lane for minutes (the H200 suite run of
    2026-12-05 stalled on it). In a view it tunes once per size, like a kernel whose caller keeps its arrays.

    `install` wraps Autotuner.run (for the checks, which make the first call at every size) to register each
    autotuner and show it the current size's view; `at(size)` switches every registered autotuner's view at once,
    outside any timed region, so that no wrapper is in the timed calls once the wrapper is gone."""

    def __init__(self) -> None:
        self.size: str | None = None
        self._tuners: list[Any] = []  # weak references to the autotuners seen

    def install(self) -> Callable[[], None]:
        """Wraps Autotuner.run to register each autotuner that runs; returns the function that undoes it."""
        try:
            from triton.runtime.autotuner import Autotuner
        except ImportError:
            return lambda: None
        original = Autotuner.__dict__["run"]
        picks = self

        def run(tuner: Any, *args: Any, **kwargs: Any) -> Any:
            picks.show(tuner)
            return original(tuner, *args, **kwargs)

        Autotuner.run = run

        def uninstall() -> None:
            Autotuner.run = original

        return uninstall

    def at(self, size: str) -> None:
        """Every autotuner seen so far shows `size`'s picks."""
        if size == self.size:
            return
        self.size = size
        alive = []
        for ref in self._tuners:
            tuner = ref()
            if tuner is not None:
                self._switch(tuner)
                alive.append(ref)
        self._tuners = alive

    def show(self, tuner: Any) -> None:
        """`tuner` shows the current size's picks (registered the first time)."""
        import weakref

        if "_tritonize_views" not in tuner.__dict__:
            # Its picks so far (made before any size was set) become the current size's.
            tuner.cache = SizeView(tuner.cache)
            tuner.__dict__["_tritonize_views"] = {self.size: tuner.cache}
            tuner.__dict__["_tritonize_size"] = self.size
            self._tuners.append(weakref.ref(tuner))
            return
        self._switch(tuner)

    def _switch(self, tuner: Any) -> None:
        views = tuner.__dict__["_tritonize_views"]
        if tuner.__dict__["_tritonize_size"] == self.size:
            return
        views[tuner.__dict__["_tritonize_size"]] = tuner.cache
        tuner.cache = views.setdefault(self.size, SizeView())
        tuner.__dict__["_tritonize_size"] = self.size

    def tensor_keyed(self) -> list[str]:
        """The autotuners seen whose keys held a tensor (SizeView): their tuning differs from Triton's own."""
        names = set()
        for ref in self._tuners:
            tuner = ref()
            views = tuner.__dict__.get("_tritonize_views", {}) if tuner is not None else {}
            if any(view.held_tensors for view in views.values()):
                names.add(kernel_name(tuner))
        return sorted(names)


class KeyedTensor(tuple):
    """A tensor in an autotuner's key, as a size's view holds it: its dtype, shape and device."""

    def __repr__(self) -> str:
        dtype, shape, device = self
        return f"tensor({dtype}, {list(shape)}, {device})"

    __str__ = __repr__


def key_by_value(key: Any) -> tuple[Any, bool]:
    """`key` with every tensor in it (in tuples too) replaced by a KeyedTensor; and whether there was one."""
    if isinstance(key, tuple) and not isinstance(key, KeyedTensor):
        parts = [key_by_value(part) for part in key]
        return tuple(part for part, _ in parts), any(held for _, held in parts)
    if hasattr(key, "data_ptr") and hasattr(key, "dtype") and hasattr(key, "shape"):
        return KeyedTensor((str(key.dtype), tuple(key.shape), str(getattr(key, "device", "")))), True
    return key, False


class SizeView(dict):
    """One size's view of an autotuner's cache (PerSizePicks): a dict whose keys hold tensors by value."""

    def __init__(self, *args: Any) -> None:
        super().__init__()
        self.held_tensors = False
        for key, value in dict(*args).items():
            self[key] = value

    def _key(self, key: Any) -> Any:
        key, held = key_by_value(key)
        self.held_tensors = self.held_tensors or held
        return key

    def __contains__(self, key: Any) -> bool:
        return super().__contains__(self._key(key))

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._key(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._key(key), value)

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(self._key(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._key(key), default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return super().setdefault(self._key(key), default)

    def pop(self, key: Any, *default: Any) -> Any:
        return super().pop(self._key(key), *default)


# The job's: GuardedRunner._call, the profiled share check and the timing switch it to the size they call at.
per_size = PerSizePicks()
