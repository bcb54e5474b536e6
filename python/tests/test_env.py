"""The environment: optional fields, NVML or nvidia-smi for the GPU's readings, no CUDA or NVML on the CPU path."""

import subprocess

import pytest
from test_nvml import UUID, FakeNvml

from tritonize_worker import env, nvml
from tritonize_worker.env import Environment, query_gpu

FIELDS = {
    "python",
    "torch",
    "triton",
    "cuda",
    "gpu",
    "gpu_uuid",
    "driver",
    "sm_clock_mhz_before",
    "sm_clock_mhz_after",
    "sm_clock_max_mhz",
    "gpu_query",
    "interpret",
}


def test_cpu_environment_has_every_field_and_no_gpu(monkeypatch):
    monkeypatch.setattr(env.nvml, "session", lambda: pytest.fail("NVML opened for device 'cpu'"))
    environment = Environment("cpu", interpret=True)
    environment.record_clock("sm_clock_mhz_after")

    assert set(environment.fields) == FIELDS
    assert environment.fields["interpret"] is True
    assert environment.fields["python"].count(".") == 2
    assert environment.fields["torch"] and environment.fields["triton"]
    assert environment.fields["gpu"] is None and environment.fields["sm_clock_mhz_after"] is None
    assert environment.fields["gpu_query"] is None and environment.snapshot() is None


def test_query_gpu_without_nvidia_smi_is_none(monkeypatch):
    monkeypatch.setattr(env.shutil, "which", lambda name: None)

    assert query_gpu(["clocks.sm"], None) is None


def fake_nvidia_smi(monkeypatch, stdout: str, returncode: int = 0, fail_with_id: bool = False):
    commands = []

    def run(command, **kwargs):
        commands.append(command)
        if fail_with_id and "-i" in command:
            return subprocess.CompletedProcess(command, 6, "No devices were found", "")
        return subprocess.CompletedProcess(command, returncode, stdout, "")

    monkeypatch.setattr(env.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(env.subprocess, "run", run)
    return commands


def test_query_gpu_reads_the_first_row(monkeypatch):
    commands = fake_nvidia_smi(monkeypatch, "NVIDIA H100 80GB HBM3, 580.82.07, 1980, 1980\nOther, 1, 2, 3\n")

    row = query_gpu(["name", "driver_version", "clocks.sm", "clocks.max.sm"], "GPU-1234")

    assert row == ["NVIDIA H100 80GB HBM3", "580.82.07", "1980", "1980"]
    assert commands[0][1:] == [
        "--query-gpu=name,driver_version,clocks.sm,clocks.max.sm",
        "--format=csv,noheader,nounits",
        "-i",
        "GPU-1234",
    ]


def test_query_gpu_falls_back_to_the_first_gpu_when_the_id_is_unknown(monkeypatch):
    commands = fake_nvidia_smi(monkeypatch, "1755\n", fail_with_id=True)

    assert query_gpu(["clocks.sm"], "GPU-unknown") == ["1755"]
    assert len(commands) == 2 and "-i" not in commands[1]


def test_query_gpu_failure_is_none(monkeypatch):
    fake_nvidia_smi(monkeypatch, "", returncode=9)

    assert query_gpu(["clocks.sm"], None) is None


# One H100's readings as nvidia-smi prints them; FakeNvml holds the same ones, as NVML gives them.
SMI_CELLS = {
    "name": "NVIDIA H100 80GB HBM3",
    "driver_version": "580.82.07",
    "clocks.sm": "1755",
    "clocks.max.sm": "1980",
    "clocks.mem": "2619",
    "clocks.max.mem": "2619",
    "power.draw": "123.45",
    "temperature.gpu": "36",
    "clocks_throttle_reasons.active": "0x0000000000000004",
}


def fake_nvidia_smi_gpu(monkeypatch, cells: dict[str, str] | None):
    """nvidia-smi answering any --query-gpu from `cells`; None: there is no nvidia-smi. Returns the fields asked."""
    queries = []

    def run(command, **kwargs):
        fields = command[1].removeprefix("--query-gpu=").split(",")
        queries.append(fields)
        return subprocess.CompletedProcess(command, 0, ", ".join(cells[field] for field in fields) + "\n", "")

    monkeypatch.setattr(env.shutil, "which", lambda name: None if cells is None else "/usr/bin/nvidia-smi")
    monkeypatch.setattr(env.subprocess, "run", run)
    return queries


def gpu_environment(monkeypatch, library: FakeNvml | None) -> Environment:
    """Environment('cuda') on this machine with `library` as NVML (None: no libnvidia-ml) and no CUDA to ask."""
    monkeypatch.setattr(env, "_cuda_gpu_id", lambda: UUID)
    monkeypatch.setattr(env, "_cuda_gpu_name", lambda: None)
    monkeypatch.setattr(env, "device_properties", lambda: {})
    session = nvml.Nvml(load=lambda: library)
    monkeypatch.setattr(env.nvml, "session", lambda: session)
    return Environment("cuda", interpret=False)


def test_nvml_and_nvidia_smi_give_the_same_fields_and_snapshot(monkeypatch):
    queries = fake_nvidia_smi_gpu(monkeypatch, SMI_CELLS)
    from_nvml = gpu_environment(monkeypatch, FakeNvml(milliwatts=123450))
    nvml_fields, nvml_snapshot = dict(from_nvml.fields), from_nvml.snapshot()
    from_nvml.record_clock("sm_clock_mhz_before")
    assert queries == []  # nvidia-smi is not run at all while NVML answers
    from_smi = gpu_environment(monkeypatch, None)
    from_smi.record_clock("sm_clock_mhz_before")

    assert (nvml_fields.pop("gpu_query"), from_smi.fields.pop("gpu_query")) == ("nvml", "nvidia-smi")
    assert nvml_fields == {**from_smi.fields, "sm_clock_mhz_before": None}
    assert from_nvml.fields["sm_clock_mhz_before"] == from_smi.fields["sm_clock_mhz_before"] == 1755
    assert nvml_fields["gpu"] == "NVIDIA H100 80GB HBM3" and nvml_fields["sm_clock_max_mhz"] == 1980
    snapshot = from_smi.snapshot()
    expected = {
        "sm_clock_mhz": 1755,
        "sm_clock_max_mhz": 1980,
        "mem_clock_mhz": 2619,
        "mem_clock_max_mhz": 2619,
        "power_w": 123.45,
        "temperature_c": 36,
        "throttle_reasons": "0x4",
        "throttled": True,
    }
    assert nvml_snapshot == snapshot == expected
    assert [type(value) for value in nvml_snapshot.values()] == [type(value) for value in snapshot.values()]


def test_a_reading_nvml_refuses_is_asked_of_nvidia_smi(monkeypatch):
    queries = fake_nvidia_smi_gpu(monkeypatch, {**SMI_CELLS, "power.draw": "99.00", "clocks.sm": "1"})
    environment = gpu_environment(monkeypatch, FakeNvml(refuse={"nvmlDeviceGetPowerUsage"}))

    snapshot = environment.snapshot()

    assert (snapshot["power_w"], snapshot["sm_clock_mhz"]) == (99.0, 1755)  # power from nvidia-smi, the rest NVML's
    assert len(queries) == 1 and environment.fields["gpu_query"] == "nvml"


def test_without_nvml_or_nvidia_smi_nothing_is_read(monkeypatch):
    fake_nvidia_smi_gpu(monkeypatch, None)
    environment = gpu_environment(monkeypatch, None)
    environment.record_clock("sm_clock_mhz_after")

    assert environment.snapshot() is None
    assert environment.fields["gpu_query"] is None and environment.fields["sm_clock_mhz_after"] is None
