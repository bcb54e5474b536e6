"""The GPU's clocks, power, temperature and throttle reasons read from NVML in this process, through ctypes.

nvidia-smi reads the same library but starts it afresh on every run, a noticeable fraction of a second; a worker
reads these before and after every measured cell. libnvidia-ml.so.1 ships with every NVIDIA driver, so there is
nothing to install. Nothing here raises: a reading NVML refuses, or every reading without the library, is None,
and env.py then asks nvidia-smi.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from typing import Any

LIBRARY = "libnvidia-ml.so.1"
SUCCESS = 0  # NVML_SUCCESS; every other nvmlReturn_t is an error
CLOCK_SM = 1  # nvmlClockType_t NVML_CLOCK_SM
CLOCK_MEM = 2  # NVML_CLOCK_MEM
TEMPERATURE_GPU = 0  # nvmlTemperatureSensors_t NVML_TEMPERATURE_GPU
NAME_BUFFER_SIZE = 96  # NVML_DEVICE_NAME_V2_BUFFER_SIZE
DRIVER_VERSION_BUFFER_SIZE = 80  # NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE


def load_library() -> Any | None:
    """The NVML shared library, or None where there is none (no driver, a CPU machine)."""
    try:
        return ctypes.CDLL(LIBRARY)
    except OSError:
        return None


class Nvml:
    """NVML in this process: the library is loaded and nvmlInit_v2 called on first use, once, failure included.

    nvmlShutdown is never called: the worker reads until it exits, and exiting releases NVML."""

    def __init__(self, load: Callable[[], Any | None] | None = None):
        self._load = load
        self._library: Any | None = None
        self._started = False

    def device(self, uuid: str | None) -> Device | None:
        """The GPU whose uuid is 'GPU-...' (NVML's and nvidia-smi's id), GPU 0 without one; None when NVML cannot."""
        handle = ctypes.c_void_p()
        if uuid:
            found = self.call("nvmlDeviceGetHandleByUUID", uuid.encode(), ctypes.pointer(handle))
        else:
            found = self.call("nvmlDeviceGetHandleByIndex_v2", 0, ctypes.pointer(handle))
        return Device(self, handle) if found else None

    def call(self, function: str, *args: Any) -> bool:
        """Whether NVML's `function(*args)` succeeded; its outputs are in the pointers among `args`."""
        library = self._started_library()
        if library is None:
            return False
        try:
            return getattr(library, function)(*args) == SUCCESS
        except Exception:  # noqa: BLE001 - e.g. AttributeError: an older driver lacks the function
            return False

    def _started_library(self) -> Any | None:
        if not self._started:
            self._started = True
            try:
                library = (self._load or load_library)()
                self._library = library if library is not None and library.nvmlInit_v2() == SUCCESS else None
            except Exception:  # noqa: BLE001 - NVML is optional: without it env.py asks nvidia-smi
                self._library = None
        return self._library


class Device:
    """One GPU's readings, each None when NVML refuses it."""

    def __init__(self, nvml: Nvml, handle: ctypes.c_void_p):
        self._nvml = nvml
        self._handle = handle

    def name(self) -> str | None:
        return self._text("nvmlDeviceGetName", NAME_BUFFER_SIZE, self._handle)

    def driver_version(self) -> str | None:
        """The driver's version: system-wide in NVML, a per-GPU field in nvidia-smi."""
        return self._text("nvmlSystemGetDriverVersion", DRIVER_VERSION_BUFFER_SIZE)

    def clock_mhz(self, clock: int) -> int | None:
        """The current clock of CLOCK_SM or CLOCK_MEM, in MHz."""
        return self._number("nvmlDeviceGetClockInfo", ctypes.c_uint, clock)

    def max_clock_mhz(self, clock: int) -> int | None:
        return self._number("nvmlDeviceGetMaxClockInfo", ctypes.c_uint, clock)

    def power_w(self) -> float | None:
        milliwatts = self._number("nvmlDeviceGetPowerUsage", ctypes.c_uint)
        return None if milliwatts is None else milliwatts / 1000

    def temperature_c(self) -> int | None:
        return self._number("nvmlDeviceGetTemperature", ctypes.c_uint, TEMPERATURE_GPU)

    def throttle_reasons(self) -> int | None:
        """The bitmask nvidia-smi prints as clocks_throttle_reasons.active; drivers before 535 name it Throttle."""
        for function in ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"):
            reasons = self._number(function, ctypes.c_ulonglong)
            if reasons is not None:
                return reasons
        return None

    def _number(self, function: str, kind: type, *args: Any) -> int | None:
        value = kind()
        return value.value if self._nvml.call(function, self._handle, *args, ctypes.pointer(value)) else None

    def _text(self, function: str, size: int, *args: Any) -> str | None:
        buffer = ctypes.create_string_buffer(size)
        if not self._nvml.call(function, *args, buffer, ctypes.c_uint(size)):
            return None
        return buffer.value.decode(errors="replace")


@functools.cache
def session() -> Nvml:
    """This process's NVML, shared by every Environment; a test replaces it with an Nvml over a fake library."""
    return Nvml()
