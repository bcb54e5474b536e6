"""The environment a measurement was made in. Every field is optional (null when unknown); nothing here fails."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from tritonize_worker import nvml

NVIDIA_SMI_TIMEOUT_S = 10
_TRUE_WORDS = ("1", "true", "yes", "on", "y")


def interpret_from_environment() -> bool:
    """Whether TRITON_INTERPRET, which Triton reads, turns the interpreter on in this process."""
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in _TRUE_WORDS


class Environment:
    """The environment's fields, and the GPU to read the SM clock of. CUDA is touched only for device 'cuda'."""

    def __init__(self, device: str, interpret: bool):
        self.fields: dict[str, Any] = {
            "python": platform.python_version(),
            "torch": None,
            "triton": None,
            "cuda": None,
            "gpu": None,
            "gpu_uuid": None,
            "driver": None,
            "sm_clock_mhz_before": None,
            "sm_clock_mhz_after": None,
            "sm_clock_max_mhz": None,
            "gpu_query": None,  # what read the GPU's clocks: "nvml", "nvidia-smi", or None
            "interpret": interpret,
        }
        self.fields.update(_library_versions())
        self.gpu_id: str | None = None
        self.on_gpu = device == "cuda"
        self._nvml: nvml.Device | None = None
        if self.on_gpu:
            self.gpu_id = _cuda_gpu_id()
            # Which GPU, not only which model: a run resumed on another machine spans two (docs/measurement.md).
            self.fields["gpu_uuid"] = self.gpu_id
            self.fields["gpu"] = _cuda_gpu_name()
            self._nvml = nvml.session().device(self.gpu_id)
            identity = self._read(_nvml_identity, _smi_identity)
            if identity:
                self.fields["gpu"] = self.fields["gpu"] or identity["gpu"]
                self.fields["driver"] = identity["driver"]
                self.fields["sm_clock_max_mhz"] = identity["sm_clock_max_mhz"]
            self.fields["gpu_query"] = "nvml" if self._nvml is not None else "nvidia-smi" if identity else None
            self.fields["device"] = device_properties()

    def snapshot(self) -> dict[str, Any] | None:
        """Clocks, throttle reasons, power and temperature now, as parse_snapshot names them; None off the GPU or
        when neither NVML nor nvidia-smi answers."""
        return self._read(_nvml_snapshot, _smi_snapshot) if self.on_gpu else None

    def record_clock(self, key: str) -> None:
        """Stores the current SM clock under `key` (sm_clock_mhz_before or sm_clock_mhz_after), if it can be read."""
        clock = self._read(_nvml_clock, _smi_clock) if self.on_gpu else None
        if clock:
            self.fields[key] = clock["sm_clock_mhz"]

    def sm_clock_reader(self) -> Callable[[], int | None] | None:
        """A cheap reading of the current SM clock (NVML's, about a millisecond), for code that reads it often;
        None where only nvidia-smi (tens of milliseconds a run) could read it."""
        device = self._nvml
        return None if device is None else lambda: device.clock_mhz(nvml.CLOCK_SM)

    def _read(
        self,
        from_nvml: Callable[[nvml.Device], dict[str, Any]],
        from_smi: Callable[[str | None], dict[str, Any] | None],
    ) -> dict[str, Any] | None:
        """NVML's readings, with the ones it refused (all of them without NVML) asked of nvidia-smi, which is
        slower; None when neither answered."""
        values = None if self._nvml is None else from_nvml(self._nvml)
        if values is not None and None not in values.values():
            return values
        fallback = from_smi(self.gpu_id)
        if values is None or all(value is None for value in values.values()):
            return fallback
        return {key: (fallback or {}).get(key) if value is None else value for key, value in values.items()}


def _nvml_identity(device: nvml.Device) -> dict[str, Any]:
    return {
        "gpu": device.name(),
        "driver": device.driver_version(),
        "sm_clock_max_mhz": device.max_clock_mhz(nvml.CLOCK_SM),
    }


def _smi_identity(gpu_id: str | None) -> dict[str, Any] | None:
    row = query_gpu(["name", "driver_version", "clocks.max.sm"], gpu_id)
    return {"gpu": row[0], "driver": row[1], "sm_clock_max_mhz": _int_or_none(row[2])} if row else None


def _nvml_clock(device: nvml.Device) -> dict[str, Any]:
    return {"sm_clock_mhz": device.clock_mhz(nvml.CLOCK_SM)}


def _smi_clock(gpu_id: str | None) -> dict[str, Any] | None:
    row = query_gpu(["clocks.sm"], gpu_id)
    return {"sm_clock_mhz": _int_or_none(row[0])} if row else None


def _nvml_snapshot(device: nvml.Device) -> dict[str, Any]:
    return _snapshot(
        device.clock_mhz(nvml.CLOCK_SM),
        device.max_clock_mhz(nvml.CLOCK_SM),
        device.clock_mhz(nvml.CLOCK_MEM),
        device.max_clock_mhz(nvml.CLOCK_MEM),
        device.power_w(),
        device.temperature_c(),
        device.throttle_reasons(),
    )


def _smi_snapshot(gpu_id: str | None) -> dict[str, Any] | None:
    row = query_gpu(SNAPSHOT_FIELDS, gpu_id)
    if row is None:
        # Drivers that renamed the throttle reasons refuse the whole query: ask without them.
        row = query_gpu(SNAPSHOT_FIELDS[:-1], gpu_id)
        row = [*row, "[N/A]"] if row else None
    return parse_snapshot(row) if row else None


# nvidia-smi --query-gpu fields of a snapshot; the throttle reasons last (see _smi_snapshot).
SNAPSHOT_FIELDS = [
    "clocks.sm",
    "clocks.max.sm",
    "clocks.mem",
    "clocks.max.mem",
    "power.draw",
    "temperature.gpu",
    "clocks_throttle_reasons.active",
]
# Bits of clocks_throttle_reasons.active that are not a slowdown: 0x1 is "GPU idle".
IDLE_THROTTLE_BITS = 0x1


def parse_snapshot(row: list[str]) -> dict[str, Any]:
    """One nvidia-smi row of SNAPSHOT_FIELDS as named numbers; unreadable cells ('[N/A]') are None."""
    sm, sm_max, mem, mem_max, power, temperature, throttle = row
    return _snapshot(
        _int_or_none(sm),
        _int_or_none(sm_max),
        _int_or_none(mem),
        _int_or_none(mem_max),
        _float_or_none(power),
        _int_or_none(temperature),
        _hex_or_none(throttle),
    )


def _snapshot(
    sm: int | None,
    sm_max: int | None,
    mem: int | None,
    mem_max: int | None,
    power: float | None,
    temperature: int | None,
    reasons: int | None,
) -> dict[str, Any]:
    """The one shape of a snapshot, whichever of NVML and nvidia-smi read it."""
    return {
        "sm_clock_mhz": sm,
        "sm_clock_max_mhz": sm_max,
        "mem_clock_mhz": mem,
        "mem_clock_max_mhz": mem_max,
        "power_w": power,
        "temperature_c": temperature,
        "throttle_reasons": None if reasons is None else f"0x{reasons:x}",
        "throttled": None if reasons is None else bool(reasons & ~IDLE_THROTTLE_BITS),
    }


def device_properties() -> dict[str, Any]:
    """Memory clock (kHz), bus width (bits), SM count, compute capability and L2 size (bytes) of CUDA device 0,
    as the driver reports them (through Triton's driver utilities and torch), for the bandwidth peak and the
    roofline's floor (the writes the L2 may still hold when a kernel ends); empty when unreadable."""
    try:
        import torch
        import triton

        properties = triton.runtime.driver.active.utils.get_device_properties(torch.cuda.current_device())
        major, minor = torch.cuda.get_device_capability(0)
        return {
            "mem_clock_khz": properties.get("mem_clock_rate"),
            "mem_bus_width_bits": properties.get("mem_bus_width"),
            "sm_count": properties.get("multiprocessor_count"),
            "sm_clock_khz": properties.get("sm_clock_rate"),
            "compute_capability": f"{major}.{minor}",
            "l2_bytes": getattr(torch.cuda.get_device_properties(0), "L2_cache_size", None),
        }
    except Exception:  # noqa: BLE001 - the environment is informative only
        return {}


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _hex_or_none(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None


def _library_versions() -> dict[str, Any]:
    versions: dict[str, Any] = {}
    try:
        import torch

        versions["torch"] = torch.__version__.split("+")[0]
        versions["cuda"] = torch.version.cuda
    except Exception:  # noqa: BLE001 - the environment is informative only
        pass
    try:
        import triton

        versions["triton"] = triton.__version__
    except Exception:  # noqa: BLE001
        pass
    return versions


def _cuda_gpu_name() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001
        return None


def _cuda_gpu_id() -> str | None:
    """The nvidia-smi id ('GPU-<uuid>') of the GPU torch uses: nvidia-smi's indices ignore CUDA_VISIBLE_DEVICES."""
    try:
        import torch

        uuid = str(torch.cuda.get_device_properties(0).uuid)
        return uuid if uuid.startswith("GPU-") else f"GPU-{uuid}"
    except Exception:  # noqa: BLE001
        return None


def query_gpu(fields: list[str], gpu_id: str | None) -> list[str] | None:
    """One row of `nvidia-smi --query-gpu=FIELDS --format=csv,noheader,nounits`, or None."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    command = [executable, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"]
    for id_args in ([["-i", gpu_id]] if gpu_id else []) + [[]]:
        try:
            completed = subprocess.run(
                command + id_args, capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        lines = completed.stdout.strip().splitlines()
        if completed.returncode == 0 and lines:
            row = [cell.strip() for cell in lines[0].split(",")]
            if len(row) == len(fields):
                return row
    return None


def _int_or_none(text: str) -> int | None:
    try:
        return int(float(text))
    except ValueError:
        return None
