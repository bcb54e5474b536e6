"""NVML through ctypes, against a fake library: decoding, the uuid lookup, refusals and a missing library as None."""

import ctypes

from tritonize_worker import nvml
from tritonize_worker.nvml import Nvml

UUID = "GPU-21bdf09a-6f2c-4b1e-9a55-0123456789ab"
HANDLE = 0x7F00DEAD0000  # a pointer-sized handle: it must reach every call intact
NOT_SUPPORTED = 3  # NVML_ERROR_NOT_SUPPORTED
NOT_FOUND = 6  # NVML_ERROR_NOT_FOUND


class FakeNvml:
    """libnvidia-ml.so.1 as ctypes shows it: each function returns an nvmlReturn_t and writes through the pointers
    it is given, checking that their C types are the header's."""

    def __init__(self, refuse=(), missing=(), init_result=0, **readings):
        self.calls: list[str] = []
        self.refuse = set(refuse)  # functions that answer NVML_ERROR_NOT_SUPPORTED
        self.missing = set(missing)  # functions this driver does not export
        self.init_result = init_result
        self.readings = {
            "name": "NVIDIA H100 80GB HBM3",
            "driver": "580.82.07",
            "clock": {nvml.CLOCK_SM: 1755, nvml.CLOCK_MEM: 2619},
            "max_clock": {nvml.CLOCK_SM: 1980, nvml.CLOCK_MEM: 2619},
            "milliwatts": 123456,
            "temperature": 36,
            "reasons": 0x4,
        }
        self.readings.update(readings)

    def __getattribute__(self, name):
        if name.startswith("nvml") and name in object.__getattribute__(self, "missing"):
            raise AttributeError(name)  # what ctypes.CDLL raises for a symbol it cannot find
        return object.__getattribute__(self, name)

    def _answer(self, function, handle, write) -> int:
        self.calls.append(function)
        if function in self.refuse:
            return NOT_SUPPORTED
        if handle is not None and handle.value != HANDLE:
            return 2  # NVML_ERROR_INVALID_ARGUMENT
        write()
        return 0

    def nvmlInit_v2(self):
        self.calls.append("nvmlInit_v2")
        return self.init_result

    def nvmlDeviceGetHandleByUUID(self, uuid, device):
        if uuid != UUID.encode():
            self.calls.append("nvmlDeviceGetHandleByUUID")
            return NOT_FOUND
        return self._answer("nvmlDeviceGetHandleByUUID", None, lambda: _write(device, ctypes.c_void_p, HANDLE))

    def nvmlDeviceGetHandleByIndex_v2(self, index, device):
        return self._answer("nvmlDeviceGetHandleByIndex_v2", None, lambda: _write(device, ctypes.c_void_p, HANDLE))

    def nvmlDeviceGetName(self, handle, buffer, length):
        return self._answer("nvmlDeviceGetName", handle, lambda: _text(buffer, length, self.readings["name"]))

    def nvmlSystemGetDriverVersion(self, buffer, length):
        return self._answer("nvmlSystemGetDriverVersion", None, lambda: _text(buffer, length, self.readings["driver"]))

    def nvmlDeviceGetClockInfo(self, handle, clock, out):
        value = self.readings["clock"][clock]
        return self._answer("nvmlDeviceGetClockInfo", handle, lambda: _write(out, ctypes.c_uint, value))

    def nvmlDeviceGetMaxClockInfo(self, handle, clock, out):
        value = self.readings["max_clock"][clock]
        return self._answer("nvmlDeviceGetMaxClockInfo", handle, lambda: _write(out, ctypes.c_uint, value))

    def nvmlDeviceGetPowerUsage(self, handle, out):
        value = self.readings["milliwatts"]
        return self._answer("nvmlDeviceGetPowerUsage", handle, lambda: _write(out, ctypes.c_uint, value))

    def nvmlDeviceGetTemperature(self, handle, sensor, out):
        value = self.readings["temperature"] if sensor == 0 else 0  # NVML_TEMPERATURE_GPU
        return self._answer("nvmlDeviceGetTemperature", handle, lambda: _write(out, ctypes.c_uint, value))

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle, out):
        value = self.readings["reasons"]
        return self._answer(
            "nvmlDeviceGetCurrentClocksEventReasons", handle, lambda: _write(out, ctypes.c_ulonglong, value)
        )

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle, out):
        value = self.readings["reasons"]
        return self._answer(
            "nvmlDeviceGetCurrentClocksThrottleReasons", handle, lambda: _write(out, ctypes.c_ulonglong, value)
        )


def _write(pointer, kind, value) -> None:
    if not isinstance(pointer.contents, kind):
        raise TypeError(f"{type(pointer.contents).__name__} where the header says {kind.__name__}")
    pointer.contents.value = value


def _text(buffer, length, text: str) -> None:
    buffer.value = text.encode()[: length.value - 1]


def test_readings_are_decoded_to_python_numbers_and_text():
    device = Nvml(load=FakeNvml).device(UUID)

    assert device.name() == "NVIDIA H100 80GB HBM3"
    assert device.driver_version() == "580.82.07"
    assert (device.clock_mhz(nvml.CLOCK_SM), device.max_clock_mhz(nvml.CLOCK_SM)) == (1755, 1980)
    assert (device.clock_mhz(nvml.CLOCK_MEM), device.max_clock_mhz(nvml.CLOCK_MEM)) == (2619, 2619)
    assert device.power_w() == 123.456  # NVML reads milliwatts
    assert device.temperature_c() == 36
    assert device.throttle_reasons() == 0x4


def test_throttle_reasons_keep_all_64_bits():
    device = Nvml(load=lambda: FakeNvml(reasons=(1 << 40) | 0x1)).device(UUID)

    assert device.throttle_reasons() == (1 << 40) | 0x1


def test_the_gpu_is_found_by_its_uuid_and_gpu_0_only_without_one():
    library = FakeNvml()
    session = Nvml(load=lambda: library)

    assert session.device(UUID) is not None
    assert session.device("GPU-another") is None
    assert session.device(None) is not None
    assert library.calls == [
        "nvmlInit_v2",
        "nvmlDeviceGetHandleByUUID",
        "nvmlDeviceGetHandleByUUID",
        "nvmlDeviceGetHandleByIndex_v2",
    ]


def test_a_refused_reading_is_none_and_the_others_are_read():
    device = Nvml(load=lambda: FakeNvml(refuse={"nvmlDeviceGetPowerUsage", "nvmlDeviceGetName"})).device(UUID)

    assert device.power_w() is None and device.name() is None
    assert device.temperature_c() == 36


def test_drivers_before_clocks_event_reasons_are_asked_for_throttle_reasons():
    library = FakeNvml(missing={"nvmlDeviceGetCurrentClocksEventReasons"}, reasons=0x20)
    device = Nvml(load=lambda: library).device(UUID)

    assert device.throttle_reasons() == 0x20
    assert library.calls[-1] == "nvmlDeviceGetCurrentClocksThrottleReasons"


def test_no_throttle_reasons_function_is_none():
    library = FakeNvml(missing={"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"})

    assert Nvml(load=lambda: library).device(UUID).throttle_reasons() is None


def test_without_the_library_everything_is_none_and_nothing_raises():
    def unloadable():
        raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    assert Nvml(load=lambda: None).device(UUID) is None
    assert Nvml(load=unloadable).device(None) is None
    assert Nvml(load=lambda: FakeNvml(init_result=9)).device(UUID) is None  # NVML_ERROR_DRIVER_NOT_LOADED


def test_the_library_is_loaded_and_started_once_per_session_even_when_it_fails():
    loads = []
    library = FakeNvml()

    def load():
        loads.append(1)
        return library

    session = Nvml(load=load)
    device = session.device(UUID)
    device.clock_mhz(nvml.CLOCK_SM)
    device.power_w()
    session.device(None)
    assert (len(loads), library.calls.count("nvmlInit_v2")) == (1, 1)

    failing = FakeNvml(init_result=9)
    session = Nvml(load=lambda: failing)
    assert session.device(UUID) is None and session.device(None) is None
    assert failing.calls == ["nvmlInit_v2"]


def test_load_library_is_none_where_the_library_is_not(monkeypatch):
    monkeypatch.setattr(nvml, "LIBRARY", "libnvidia-ml-absent.so.1")

    assert nvml.load_library() is None


def test_the_session_is_one_per_process():
    assert nvml.session() is nvml.session()
