"""A layer norm whose forward is right and whose backward doubles grad_bias."""

import torch


class LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, normalized_shape, weight, bias, eps):
        ctx.save_for_backward(x, weight, bias)
        ctx.eps = eps
        return _layer_norm(x, weight, bias, eps)

    @staticmethod
    def backward(ctx, dy):
        x, weight, bias = (t.detach().requires_grad_(True) for t in ctx.saved_tensors)
        with torch.enable_grad():
            y = _layer_norm(x, weight, bias, ctx.eps)
            dx, dweight, dbias = torch.autograd.grad(y, (x, weight, bias), dy)
        return dx, None, dweight, 2 * dbias, None


def _layer_norm(x, weight, bias, eps):
    xf = x.float()
    mean = xf.mean(dim=-1, keepdim=True)
    centered = xf - mean
    rstd = torch.rsqrt((centered * centered).mean(dim=-1, keepdim=True) + eps)
    return (centered * rstd * weight.float() + bias.float()).to(x.dtype)
