"""Which configuration each autotuned kernel of a call ran with: Triton's @triton.autotune and Inductor's kernels.

An autotuner picks its configuration by timing the candidates once, in this process; two processes can pick
differently, and a kernel's time then sits on a different level in each (docs/measurement.md). Recording the pick
with every timing lets the report say so instead of leaving an unexplained spread.

`tuned_configs` makes one call with the autotuners' `run` methods wrapped to note which ran, then reads the
configuration each used: Triton's `Autotuner.best_config`, or the one launcher Inductor's `CachingAutotuner` keeps
after tuning. The call is outside every timed region; the wrappers are removed before it returns.
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
