"""A development probe for the GPU machine (not part of the product): does tutorial 06's forward compile and run with
warp_specialize on this GPU, causal and not, and how fast is it beside warp_specialize off? The attention tasks'
expert entries turn it off on Hopper (tasks/attention*/task.toml); the tutorial's own benchmark turns it on for a
non-causal forward on Hopper. Prints one line per case; the tutorial is read from $TRITONIZE_TUTORIALS at run time.

    python3 tools/device/attention_ws_probe.py
"""

import importlib.util
import os
import sys
import traceback

import torch
import triton.testing

SIZES = ["4x32x1024x64", "4x32x4096x64", "4x32x1024x128", "4x32x4096x128"]


def tutorial():
    path = os.path.join(os.environ["TRITONIZE_TUTORIALS"], "python", "tutorials", "06-fused-attention.py")
    spec = importlib.util.spec_from_file_location("tutorial06", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    t = tutorial()
    print(torch.cuda.get_device_name(), "capability", torch.cuda.get_device_capability(), flush=True)
    for causal in (False, True):
        for size in SIZES:
            z, h, n, d = map(int, size.split("x"))
            gen = torch.Generator(device="cuda").manual_seed(0)
            q, k, v = (torch.randn(z, h, n, d, device="cuda", dtype=torch.float16, generator=gen) for _ in range(3))
            scale = d**-0.5
            want = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)
            line = [f"causal={causal!s:5} {size:14}"]
            for ws in (False, True):
                try:
                    out = t._attention.apply(q, k, v, causal, scale, ws)
                    err = (out.float() - want.float()).abs().max().item()
                    ms = triton.testing.do_bench(lambda a=(q, k, v, causal, scale, ws): t._attention.apply(*a))
                    line.append(f"ws={ws!s:5} {ms * 1000:8.1f} us  max err {err:.2e}")
                except Exception as exc:  # noqa: BLE001 (a compile failure is the finding)
                    line.append(f"ws={ws!s:5} FAILED {type(exc).__name__}: {str(exc).splitlines()[0][:80]}")
                    traceback.print_exc(limit=1, file=sys.stderr)
            print(" | ".join(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
