"""Good (layernorm): a torch.autograd.Function whose forward and backward are both Triton kernels; weight and bias
gradients are reduced over rows by a third kernel."""

import torch
import triton
import triton.language as tl


@triton.jit
def ln_forward(x_ptr, w_ptr, b_ptr, y_ptr, mean_ptr, rstd_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=0) / n_cols
    centered = tl.where(mask, x - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(centered * centered, axis=0) / n_cols + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(y_ptr + row * n_cols + cols, (centered * rstd * w + b).to(y_ptr.dtype.element_ty), mask=mask)
    tl.store(mean_ptr + row, mean)
    tl.store(rstd_ptr + row, rstd)


@triton.jit
def ln_backward(dy_ptr, x_ptr, w_ptr, mean_ptr, rstd_ptr, dx_ptr, dw_part_ptr, db_part_ptr, n_cols,
                BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
    dy = tl.load(dy_ptr + row * n_cols + cols, mask=mask, other=0.0).to(tl.float32)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    mean = tl.load(mean_ptr + row)
    rstd = tl.load(rstd_ptr + row)
    xhat = tl.where(mask, (x - mean) * rstd, 0.0)
    wdy = w * dy
    c1 = tl.sum(xhat * wdy, axis=0) / n_cols
    c2 = tl.sum(wdy, axis=0) / n_cols
    dx = (wdy - (xhat * c1 + c2)) * rstd
    tl.store(dx_ptr + row * n_cols + cols, dx.to(dx_ptr.dtype.element_ty), mask=mask)
    tl.store(dw_part_ptr + row * n_cols + cols, dy * xhat, mask=mask)
    tl.store(db_part_ptr + row * n_cols + cols, dy, mask=mask)


@triton.jit
def column_sums(part_ptr, out_ptr, n_rows, n_cols, BLOCK_ROWS: tl.constexpr):
    col = tl.program_id(0)
    total = 0.0
    for start in range(0, n_rows, BLOCK_ROWS):
        rows = start + tl.arange(0, BLOCK_ROWS)
        total += tl.sum(tl.load(part_ptr + rows * n_cols + col, mask=rows < n_rows, other=0.0), axis=0)
    tl.store(out_ptr + col, total.to(out_ptr.dtype.element_ty))


class TritonLayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        m, n = x.shape
        y = torch.empty_like(x)
        mean = torch.empty(m, dtype=torch.float32, device=x.device)
        rstd = torch.empty(m, dtype=torch.float32, device=x.device)
        block = triton.next_power_of_2(n)
        ln_forward[(m,)](x, weight, bias, y, mean, rstd, n, eps, BLOCK=block)
        ctx.save_for_backward(x, weight, mean, rstd)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight, mean, rstd = ctx.saved_tensors
        m, n = x.shape
        dy = dy.contiguous()
        dx = torch.empty_like(x)
        dw_part = torch.empty((m, n), dtype=torch.float32, device=x.device)
        db_part = torch.empty((m, n), dtype=torch.float32, device=x.device)
        ln_backward[(m,)](dy, x, weight, mean, rstd, dx, dw_part, db_part, n, BLOCK=triton.next_power_of_2(n))
        dw = torch.empty_like(weight)
        db = torch.empty_like(weight)
        column_sums[(n,)](dw_part, dw, m, n, BLOCK_ROWS=64)
        column_sums[(n,)](db_part, db, m, n, BLOCK_ROWS=64)
        return dx, dw, db, None


def layer_norm(x, normalized_shape, weight, bias, eps):
    return TritonLayerNorm.apply(x.contiguous(), weight, bias, eps)
