"""Sizes, shapes and the inputs drawn per seed."""

import pytest
import torch
from conftest import CANDIDATES_DIR, make_request

from tritonize_worker.inputs import copy_args, draw_inputs, parse_size, resolve_shape
from tritonize_worker.protocol import parse_request


def task_of(name: str):
    return parse_request(make_request(name, CANDIDATES_DIR / "softmax_triton.py")).task


def test_parse_size_names_each_number_by_its_dim():
    assert parse_size("1823x781", ["M", "N"]) == {"M": 1823, "N": 781}
    assert parse_size("37x93x29", ["M", "N", "K"]) == {"M": 37, "N": 93, "K": 29}
    assert parse_size("1", ["N"]) == {"N": 1}


@pytest.mark.parametrize(
    ("size", "error"),
    [
        ("37x", "not of the form"),
        ("37 x 93", "not of the form"),
        ("-3x4", "not of the form"),
        ("3x4x5", "has 3 numbers, but there are 2 dims (MxN)"),
        ("0x4", "at least 1"),
    ],
)
def test_parse_size_rejects_malformed_sizes(size, error):
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace(")", r"\)")):
        parse_size(size, ["M", "N"])


def test_resolve_shape_mixes_names_and_numbers():
    assert resolve_shape(["M", 3, "N"], {"M": 5, "N": 7}) == (5, 3, 7)


def test_layernorm_inputs_have_the_manifest_shapes_kinds_and_dtypes():
    args = draw_inputs(task_of("layernorm"), "37x93", seed=0, device="cpu").args

    x, normalized_shape, weight, bias, eps = args
    assert (x.shape, x.dtype) == ((37, 93), torch.float16)
    assert normalized_shape == (93,)
    assert (weight.shape, weight.dtype, bias.shape) == ((93,), torch.float16, (93,))
    assert eps == 1e-5 and isinstance(eps, float)
    assert float(weight.min()) >= 0 and float(weight.max()) < 1  # init = "rand"
    assert float(x.min()) < 0  # init = "randn"


def test_matmul_inputs_follow_the_dim_order():
    a, b = draw_inputs(task_of("matmul"), "37x93x29", seed=0, device="cpu").args

    assert a.shape == (37, 29) and b.shape == (29, 93)


def test_same_seed_same_inputs_other_seed_other_inputs():
    task = task_of("matmul")
    first = draw_inputs(task, "16x8x4", seed=0, device="cpu").args
    again = draw_inputs(task, "16x8x4", seed=0, device="cpu").args
    other = draw_inputs(task, "16x8x4", seed=1, device="cpu").args

    assert all(torch.equal(p, q) for p, q in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])
    assert not torch.equal(first[0][:4, :4], first[1][:4, :4])  # the two inputs are not the same numbers


def test_scale_multiplies_the_drawn_values():
    raw = make_request("softmax", CANDIDATES_DIR / "softmax_triton.py")
    plain = parse_request(raw).task
    raw["task"]["inputs"][0]["scale"] = 4.0
    scaled = parse_request(raw).task

    x = draw_inputs(plain, "8x16", seed=3, device="cpu").args[0]
    x4 = draw_inputs(scaled, "8x16", seed=3, device="cpu").args[0]
    assert torch.equal(x4, x * 4)


def test_copies_are_fresh_leaves_in_float64_for_the_reference():
    task = task_of("layernorm")
    args = draw_inputs(task, "4x8", seed=0, device="cpu").args

    reference = copy_args(args, task, float64=True, grad=True)
    implementation = copy_args(args, task, float64=False, grad=False)

    assert reference[0].dtype == torch.float64 and reference[0].requires_grad
    assert torch.equal(reference[0], args[0].double())
    assert reference[1] == (8,) and reference[4] == 1e-5
    assert implementation[0].dtype == torch.float16 and not implementation[0].requires_grad
    implementation[0].zero_()  # an implementation that writes its input spoils no other copy
    assert not torch.equal(args[0], implementation[0])
