"""Right values; its first call compiles a Triton kernel (the compile hooks, as the JIT runs them; the interpreter
compiles nothing), then compiles a helper with torch.compile, then takes 3 s more, as AOTAutograd's compile of a
backward at its first backward call does with no hook to say so. Not a hang: the call timeout after the Triton
compile must give way."""

import time

import torch
from triton import knobs

_first = [True]


def _double(x):
    return x * 2


def softmax(x):
    if _first[0]:
        _first[0] = False
        knobs.runtime.jit_cache_hook(key="softmax_kernel")
        knobs.runtime.jit_post_compile_hook(key="softmax_kernel")
        torch.compile(_double, backend="eager")(torch.ones(4))
        time.sleep(3)
    e = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)
