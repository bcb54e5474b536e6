"""Right at its first call's compile, then never ends: it runs Triton's compile hooks as the JIT does around a
compile (the interpreter compiles nothing), then sleeps, as a kernel that never terminates blocks the call."""

import time

from triton import knobs


def softmax(x):
    knobs.runtime.jit_cache_hook(key="softmax_kernel")
    knobs.runtime.jit_post_compile_hook(key="softmax_kernel")
    time.sleep(600)
    return x.softmax(-1)
