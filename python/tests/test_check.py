"""The elementwise comparison against the float64 reference."""

import math

import pytest
import torch

from tritonize_worker.check import CheckFailure, Reference, compare, failure_report
from tritonize_worker.protocol import Tolerance

TOL = Tolerance(atol=1e-3, rtol=1e-2)


def reference(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_identical_output_passes_with_zero_errors():
    ref = reference(1.0, -2.0, 0.0)
    result = compare(ref.float(), ref, torch.float32, TOL)

    assert (result.ok, result.mismatches, result.numel) == (True, 0, 3)
    assert (result.max_abs_err, result.max_rel_err) == (0.0, 0.0)
    assert result.problem == ""


def test_tolerance_is_atol_plus_rtol_times_the_reference():
    ref = reference(100.0, 100.0)
    bound = TOL.atol + TOL.rtol * 100.0  # 1.001
    inside = torch.tensor([100.0 + bound * 0.999, 100.0 - bound * 0.999], dtype=torch.float64)
    outside = torch.tensor([100.0 + bound * 1.001, 100.0], dtype=torch.float64)

    assert compare(inside, ref, torch.float64, TOL).ok
    result = compare(outside, ref, torch.float64, TOL)
    assert (result.ok, result.mismatches) == (False, 1)
    assert result.max_abs_err == pytest.approx(bound * 1.001)
    assert result.max_rel_err == pytest.approx(bound * 1.001 / 100.0)


def test_off_by_a_factor_lists_the_first_mismatches():
    ref = torch.arange(1, 13, dtype=torch.float64).reshape(3, 4)
    result = compare((ref * 2).float(), ref, torch.float32, TOL)

    assert (result.ok, result.mismatches, result.numel) == (False, 12, 12)
    assert result.problem == (
        "12 of 12 elements outside atol 0.001 + rtol 0.01 * |ref|, max abs err 12; first at (0, 0): got 2, expected 1"
    )
    assert result.listing.splitlines() == [
        "  at (0, 0): got 2, expected 1",
        "  at (0, 1): got 4, expected 2",
        "  at (0, 2): got 6, expected 3",
        "  at (0, 3): got 8, expected 4",
        "  at (1, 0): got 10, expected 5",
    ]
    assert result.max_rel_err == pytest.approx(1.0)


def test_nan_or_inf_where_the_reference_is_finite_is_a_mismatch_named_with_its_index():
    ref = reference(1.0, 2.0, 3.0)
    result = compare(torch.tensor([1.0, math.nan, math.inf]), ref, torch.float32, TOL)

    assert (result.ok, result.mismatches, result.nonfinite) == (False, 2, 2)
    # NaN propagates into the largest error: it is a figure, not a gap.
    assert math.isnan(result.max_abs_err) and math.isnan(result.max_rel_err)
    assert result.first_mismatch == (1,)
    assert "(1 NaN, 1 +inf where the reference is finite)" in result.problem
    assert result.problem.endswith("max abs err nan; first at (1,): got nan, expected 2")
    assert "at (2,): got inf, expected 3" in result.listing


def test_an_infinite_output_where_the_reference_is_finite_has_an_infinite_error():
    result = compare(torch.tensor([1.0, -math.inf]), reference(1.0, 2.0), torch.float32, TOL)

    assert not result.ok and result.max_abs_err == math.inf and result.max_rel_err == math.inf
    assert "1 -inf where the reference is finite" in result.problem


def test_nan_is_right_only_where_the_reference_itself_is_nan():
    ref = reference(math.nan, 1.0)
    assert compare(torch.tensor([math.nan, 1.0]), ref, torch.float32, TOL).ok
    # NaN is not a wildcard: a number where the reference is NaN is wrong, and so is NaN where it is a number.
    result = compare(torch.tensor([0.0, 1.0]), ref, torch.float32, TOL)
    assert not result.ok and result.first_mismatch == (0,) and result.nonfinite == 0
    assert not compare(torch.tensor([math.nan, math.nan]), ref, torch.float32, TOL).ok


def test_infinities_where_the_reference_has_them_match_with_zero_error():
    ref = reference(math.nan, math.inf, -math.inf, 1.0)
    result = compare(torch.tensor([math.nan, math.inf, -math.inf, 1.0]), ref, torch.float32, TOL)

    assert result.ok and result.max_abs_err == 0.0 and result.nonfinite == 0
    assert not compare(torch.tensor([math.nan, -math.inf, -math.inf, 1.0]), ref, torch.float32, TOL).ok


def test_an_overflow_of_the_output_dtype_is_the_right_infinity():
    # 70000 is finite in float64 but rounds to +inf in float16: the float16 answer is +inf (or within tolerance).
    ref = reference(70000.0, -70000.0)
    overflowed = torch.tensor([math.inf, -math.inf], dtype=torch.float16)
    assert compare(overflowed, ref, torch.float16, TOL).ok
    wrong_sign = torch.tensor([math.inf, math.inf], dtype=torch.float16)
    assert not compare(wrong_sign, ref, torch.float16, TOL).ok
    # In float32 the same reference is finite: an infinity there is wrong.
    assert not compare(torch.tensor([math.inf, -math.inf]), ref, torch.float32, TOL).ok


def test_huge_errors_are_figures():
    result = compare(torch.tensor([3e38]), reference(-3e38), torch.float32, TOL)
    assert not result.ok and result.max_abs_err == pytest.approx(6e38, rel=1e-3)


def test_relative_error_leaves_out_zeros_of_the_reference():
    result = compare(torch.tensor([1e-4, 2.0]), reference(0.0, 2.0), torch.float32, TOL)

    assert result.ok
    assert result.max_abs_err == pytest.approx(1e-4)
    assert result.max_rel_err == 0.0


def test_shape_mismatch():
    result = compare(torch.zeros(3, 2), torch.zeros(2, 3, dtype=torch.float64), torch.float32, TOL)

    assert (result.ok, result.mismatches, result.max_abs_err) == (False, 6, None)
    assert result.problem == "shape (3, 2), expected (2, 3)"


def test_dtype_mismatch_fails_even_when_the_values_are_right():
    ref = reference(0.25, 0.5)
    result = compare(ref.clone(), ref, torch.float32, TOL)

    assert (result.ok, result.mismatches) == (False, 0)
    assert result.problem == "dtype float64, expected float32"


def test_not_a_tensor():
    result = compare((torch.zeros(2),), reference(0.0, 0.0), torch.float32, TOL)
    missing = compare(None, reference(0.0, 0.0), torch.float32, TOL)

    assert not result.ok and result.problem == "expected a tensor, got tuple"
    assert not missing.ok and missing.problem == "expected a tensor, got None"


def test_failure_report_gives_the_first_failure_as_message_and_lists_a_few():
    failures = [
        CheckFailure(f"y at size {n}x4, seed 0 (forward): wrong", "  at (0, 0): got 1, expected 2") for n in range(7)
    ]
    message, detail = failure_report(failures)

    assert message == "y at size 0x4, seed 0 (forward): wrong"
    assert detail.splitlines()[:2] == [message, "  at (0, 0): got 1, expected 2"]
    assert detail.splitlines()[-1] == "... and 2 more failing checks"


def _rule(got: torch.Tensor, ref: torch.Tensor, dtype: torch.dtype, tol: Tolerance) -> tuple[int, int, float, float]:
    """The module docstring's rule, element by element in plain Python: (mismatches, nonfinite, max abs, max rel)."""
    mismatches = nonfinite = 0
    max_abs = max_rel = 0.0
    for g, r in zip(got.double().tolist(), ref.tolist(), strict=True):
        rounded = float(torch.tensor(r, dtype=torch.float64).to(dtype).double())
        special = (math.isnan(r) and math.isnan(g)) or (math.isinf(rounded) and g == rounded)
        close = special or (math.isfinite(g - r) and abs(g - r) <= tol.atol + tol.rtol * abs(r))
        mismatches += not close
        nonfinite += not math.isfinite(g) and not math.isnan(r) and not math.isinf(rounded)
        err = 0.0 if special else abs(g - r)  # NaN where either is NaN, inf where one is infinite
        rel = err / abs(r) if r != 0 and math.isfinite(r) and not special else 0.0
        max_abs, max_rel = _nan_max(max_abs, err), _nan_max(max_rel, rel)
    return mismatches, nonfinite, max_abs, max_rel


def _nan_max(a: float, b: float) -> float:
    return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)


@pytest.mark.parametrize(
    "dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float8_e4m3fn, torch.float8_e5m2]
)
@pytest.mark.parametrize("seed", range(6))
def test_the_vectorised_comparison_follows_the_rule_on_every_kind_of_element(dtype, seed):
    """Random references and outputs sprinkled with what the fast paths must not get wrong: NaN and infinities on
    either side, zeros of the reference, values that overflow the output's dtype, near misses at the bound."""
    generator = torch.Generator().manual_seed(seed)
    scale = 10.0 ** torch.randint(-3, 3, (400,), generator=generator)
    ref = torch.randn(400, generator=generator, dtype=torch.float64) * scale
    got = ref * (1 + 0.02 * torch.randn(400, generator=generator, dtype=torch.float64))  # made as `dtype` below
    if seed % 2:  # odd seeds: a reference with special values too (the slow path)
        ref[torch.randint(0, 400, (8,), generator=generator)] = math.nan
        ref[torch.randint(0, 400, (4,), generator=generator)] = math.inf
        ref[torch.randint(0, 400, (4,), generator=generator)] = 1e39 if dtype == torch.bfloat16 else 7e4
    ref[torch.randint(0, 400, (6,), generator=generator)] = 0.0
    for value in (math.nan, math.inf, -math.inf):
        got[torch.randint(0, 400, (3,), generator=generator)] = value
    where_nan = torch.isnan(ref)
    got[where_nan & (torch.rand(400, generator=generator) < 0.5)] = math.nan  # some NaN agree with the reference
    got = got.to(dtype)  # float8 tensors take no index_put on the CPU; float8_e4m3fn turns infinities into NaN
    mismatches, nonfinite, max_abs, max_rel = _rule(got, ref, dtype, TOL)
    prepared = Reference.of(ref, TOL)
    compare(ref.to(dtype), ref, dtype, TOL, prepared)  # a reference prepared once serves every later comparison
    for result in (compare(got, ref, dtype, TOL), compare(got, ref, dtype, TOL, prepared)):
        assert (result.mismatches, result.nonfinite) == (mismatches, nonfinite)
        for value, expected in ((result.max_abs_err, max_abs), (result.max_rel_err, max_rel)):
            assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected, rel=1e-12)
        assert result.ok == (mismatches == 0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float8_e5m2])
@pytest.mark.parametrize("seed", range(6))
def test_a_comparison_in_stretches_is_the_whole_comparison(dtype, seed):
    """compare() takes a large output a stretch at a time (COMPARE_CHUNK): every figure, the first mismatch's index in
    the output's own shape, the message and the listing are those of the comparison of the whole, where the special
    values (the slow path) fall in some stretches and not others."""
    generator = torch.Generator().manual_seed(seed)
    ref = torch.randn(20, 20, generator=generator, dtype=torch.float64)
    got = ref * (1 + 0.02 * torch.randn(20, 20, generator=generator, dtype=torch.float64))
    flat_ref, flat_got = ref.view(-1), got.view(-1)
    if seed % 2:
        flat_ref[torch.randint(300, 400, (6,), generator=generator)] = math.nan
        flat_ref[torch.randint(0, 400, (3,), generator=generator)] = 1e39 if dtype == torch.bfloat16 else 7e4
    if seed % 3 == 0:
        flat_ref[...] = ref.view(-1).clamp(-1, 1)
        flat_got[...] = flat_ref  # everything close: nothing to list
    else:
        for value in (math.nan, math.inf, -math.inf):
            flat_got[torch.randint(100, 400, (2,), generator=generator)] = value
    got = got.to(dtype)
    whole = compare(got, ref, dtype, TOL)
    fields = ("ok", "numel", "mismatches", "nonfinite", "first_mismatch", "problem", "listing")
    for chunk in (7, 64, 399):
        part = compare(got, ref, dtype, TOL, Reference.of(ref, TOL), chunk=chunk)
        assert [getattr(part, f) for f in fields] == [getattr(whole, f) for f in fields], chunk
        for value, expected in ((part.max_abs_err, whole.max_abs_err), (part.max_rel_err, whole.max_rel_err)):
            assert (math.isnan(value) and math.isnan(expected)) or value == expected
    if dtype.itemsize > 1:  # float8 rounding alone is outside TOL
        assert whole.ok == (seed % 3 == 0)
    assert whole.ok or whole.listing.count("\n") == min(whole.mismatches, 5) - 1


def test_a_reference_prepared_for_another_tolerance_is_not_used():
    ref = reference(100.0, 100.0)
    loose = Reference.of(ref, Tolerance(atol=10.0, rtol=0.0))
    assert not compare(reference(105.0, 100.0), ref, torch.float64, TOL, loose).ok


@pytest.mark.parametrize("dtype", [torch.float8_e4m3fn, torch.float8_e5m2])
def test_a_float8_output_is_compared_though_torch_cannot_promote_it_to_float64(dtype):
    """matmul_fp8's copy of the input is a float8 tensor of the right shape: a wrong result, not a crash."""
    ref = torch.linspace(-4, 4, 64, dtype=torch.float64).reshape(8, 8)
    assert compare(ref.to(dtype), ref, dtype, Tolerance(atol=0.25, rtol=0.125)).ok
    wrong = compare((ref + 2).to(dtype), ref, dtype, Tolerance(atol=0.25, rtol=0.125))
    assert not wrong.ok and wrong.mismatches > 0 and "outside atol" in wrong.problem
