"""GeGLU that, like Liger-Kernel's, writes its gradients into a and b in its backward, in plain PyTorch on the CPU (the
checks are under test here, not kernels). Right values; its forward leaves the inputs as they were. With
OVERWRITE_IN_FORWARD its forward zeroes b (keeping a copy), which no task allows."""

import math

import torch

OVERWRITE_IN_FORWARD = False
K = math.sqrt(2.0 / math.pi)


def _gelu_and_slope(a):
    a = a.float()
    u = K * (a + 0.044715 * a**3)
    t = 1.0 - 2.0 / (torch.exp(2.0 * u) + 1.0)  # tanh(u), without the ops the task forbids
    return 0.5 * a * (1.0 + t), 0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * K * (1.0 + 3 * 0.044715 * a * a)


class _GeGLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        gelu, _ = _gelu_and_slope(a)
        y = (gelu * b.float()).to(a.dtype)
        if OVERWRITE_IN_FORWARD:
            ctx.save_for_backward(a, b.detach().clone())  # its values are kept: the gradients stay right
            b.data.zero_()
        else:
            ctx.save_for_backward(a, b)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        gelu, slope = _gelu_and_slope(a)
        da, db = dy.float() * b.float() * slope, dy.float() * gelu
        a.data.copy_(da)
        b.data.copy_(db)
        return a, b


def geglu(a, b):
    return _GeGLU.apply(a, b)
