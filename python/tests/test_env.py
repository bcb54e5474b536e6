"""The environment: optional fields, nvidia-smi parsing, no CUDA on the CPU path."""

import subprocess

from tritonize_worker import env
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
    "interpret",
}


def test_cpu_environment_has_every_field_and_no_gpu():
    environment = Environment("cpu", interpret=True)
    environment.record_clock("sm_clock_mhz_after")

    assert set(environment.fields) == FIELDS
    assert environment.fields["interpret"] is True
    assert environment.fields["python"].count(".") == 2
    assert environment.fields["torch"] and environment.fields["triton"]
    assert environment.fields["gpu"] is None and environment.fields["sm_clock_mhz_after"] is None


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
