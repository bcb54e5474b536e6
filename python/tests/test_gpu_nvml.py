"""NVML on a real GPU: it reads what nvidia-smi reads, and faster. Skipped, visibly, without a GPU."""

import time

import pytest
import torch

from tritonize_worker import nvml
from tritonize_worker.env import SNAPSHOT_FIELDS, Environment, parse_snapshot, query_gpu

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(scope="module")
def environment():
    return Environment("cuda", interpret=False)


def smi_snapshot(gpu_id):
    row = query_gpu(SNAPSHOT_FIELDS, gpu_id)
    # Drivers that renamed the throttle reasons refuse the whole query (as env.py's fallback does).
    return parse_snapshot(row or [*query_gpu(SNAPSHOT_FIELDS[:-1], gpu_id), "[N/A]"])


def test_the_environment_reads_the_gpu_through_nvml(environment):
    assert environment.fields["gpu_query"] == "nvml"
    assert environment.fields["driver"] and environment.fields["sm_clock_max_mhz"] > 0


def test_nvml_reads_what_nvidia_smi_reads(environment):
    device = nvml.session().device(environment.gpu_id)
    name, driver = query_gpu(["name", "driver_version"], environment.gpu_id)

    assert (device.name(), device.driver_version()) == (name, driver)
    from_nvml, from_smi = environment.snapshot(), smi_snapshot(environment.gpu_id)
    assert set(from_nvml) == set(from_smi)
    assert (from_nvml["sm_clock_max_mhz"], from_nvml["mem_clock_max_mhz"]) == (
        from_smi["sm_clock_max_mhz"],
        from_smi["mem_clock_max_mhz"],
    )
    assert 0 < from_nvml["sm_clock_mhz"] <= from_nvml["sm_clock_max_mhz"]
    assert 0 < from_nvml["mem_clock_mhz"] <= from_nvml["mem_clock_max_mhz"]
    assert from_nvml["power_w"] > 0 and 0 < from_nvml["temperature_c"] < 120
    assert from_nvml["throttle_reasons"].startswith("0x") and isinstance(from_nvml["throttled"], bool)


def test_an_nvml_snapshot_is_faster_than_an_nvidia_smi_one(environment):
    environment.snapshot()  # NVML is started already; this warms the Python side

    start = time.perf_counter()
    environment.snapshot()
    nvml_s = time.perf_counter() - start
    start = time.perf_counter()
    smi_snapshot(environment.gpu_id)
    smi_s = time.perf_counter() - start

    print(f"\none snapshot, wall time: nvidia-smi {smi_s * 1e3:.1f} ms, NVML {nvml_s * 1e3:.3f} ms")
    assert nvml_s < smi_s
