"""Unit tests of rnnlab.scan: the parallel prefix scan equals the loop, values and gradients."""
import pytest
import torch

from rnnlab.scan import combine, recurrence_loop, recurrence_reduce, recurrence_scan


def _case(B, T, N, *, dtype, a_shape="full", seed=0):
    g = torch.Generator().manual_seed(seed)
    real = torch.float64 if dtype in (torch.float64, torch.complex128) else torch.float32
    shape = {"full": (B, T, N), "time": (T, N), "const": (N,)}[a_shape]
    if dtype.is_complex:
        a = torch.polar(0.5 + 0.5 * torch.rand(*shape, generator=g, dtype=real),
                        6.3 * torch.rand(*shape, generator=g, dtype=real))
        b = torch.complex(torch.randn(B, T, N, generator=g, dtype=real),
                          torch.randn(B, T, N, generator=g, dtype=real))
    else:
        a = torch.rand(*shape, generator=g, dtype=real) * 1.2 - 0.1
        b = torch.randn(B, T, N, generator=g, dtype=real)
    return a, b


def test_scan_equals_loop_on_random_shapes_float64(subtests):
    for dtype in (torch.float64, torch.complex128):
        with subtests.test(dtype=str(dtype)):
            for seed in range(12):                      # twelve random shapes (B, T, N)
                g = torch.Generator().manual_seed(100 + seed)
                B, T, N = (int(v) for v in (torch.randint(1, 5, (1,), generator=g),
                                           torch.randint(1, 70, (1,), generator=g),
                                           torch.randint(1, 6, (1,), generator=g)))
                for a_shape in ("full", "time", "const"):
                    a, b = _case(B, T, N, dtype=dtype, a_shape=a_shape, seed=seed)
                    h0 = torch.randn(B, N, dtype=torch.float64, generator=g).to(b.dtype)
                    for start in (None, h0):
                        where = (f"seed {seed}, B, T, N = {B}, {T}, {N}, a {a_shape}, "
                                 f"h0 {'given' if start is not None else 'zero'}")
                        want = recurrence_loop(a, b, start)
                        got = recurrence_scan(a, b, start)
                        assert got.shape == (B, T, N), where
                        assert torch.allclose(got, want, rtol=1e-12, atol=1e-12), where
                        last = recurrence_reduce(a, b, start)
                        assert last.shape == (B, N), where
                        assert torch.allclose(last, want[:, -1], rtol=1e-12, atol=1e-12), where


# Each level of the scan halves the length, padding an odd one. These lengths cover the level
# patterns of the shorter ones: no level (1); even at every level (64); even and odd mixed
# (100, 50, 25, 13, 7, 4, 2); odd then even, the deepest (255, 128, ..., 2). Squaring a constant
# a doubles its error at each level, so the longest scans are the hard cases for float32.
FLOAT32_LENGTHS = [1, 64, 100, 255]


def test_scan_equals_loop_float32(subtests):
    for T in FLOAT32_LENGTHS:
        with subtests.test(T=T):
            a, b = _case(3, T, 4, dtype=torch.complex64, a_shape="const", seed=T)
            want, got = recurrence_loop(a, b), recurrence_scan(a, b)
            assert ((got - want).abs().max() / want.abs().max()) < 1e-6


def test_loop_is_the_recurrence_written_out():
    a, b = _case(2, 5, 3, dtype=torch.float64)
    h0 = torch.randn(2, 3, dtype=torch.float64)
    h, expected = h0, []
    for t in range(5):
        h = a[:, t] * h + b[:, t]
        expected.append(h)
    assert torch.allclose(recurrence_loop(a, b, h0), torch.stack(expected, 1), atol=1e-15)


def test_gradients_of_scan_equal_those_of_the_loop():
    a, b = _case(2, 37, 3, dtype=torch.complex128, a_shape="const", seed=3)
    weights = torch.randn(2, 37, 3, dtype=torch.float64)
    grads = []
    for fn in (recurrence_loop, recurrence_scan):
        a_, b_ = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
        (fn(a_, b_).abs() * weights).sum().backward()
        grads.append((a_.grad, b_.grad))
    for g_loop, g_scan in zip(*grads):
        assert torch.allclose(g_loop, g_scan, rtol=1e-10, atol=1e-12)
    last = []
    for fn in (lambda a, b: recurrence_loop(a, b)[:, -1], recurrence_reduce):
        a_, b_ = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
        (fn(a_, b_).abs() * weights[:, -1]).sum().backward()
        last.append((a_.grad, b_.grad))
    for g_loop, g_reduce in zip(*last):
        assert torch.allclose(g_loop, g_reduce, rtol=1e-10, atol=1e-12)


def test_combine_is_associative_and_not_commutative():
    g = torch.Generator().manual_seed(0)
    p, q, r = ((torch.randn(4, generator=g, dtype=torch.float64),
                torch.randn(4, generator=g, dtype=torch.float64)) for _ in range(3))
    left, right = combine(combine(p, q), r), combine(p, combine(q, r))
    assert all(torch.allclose(x, y) for x, y in zip(left, right))
    assert not torch.allclose(combine(p, q)[1], combine(q, p)[1])


A, B = _case(2, 5, 3, dtype=torch.float32)
ONES = torch.ones(4, dtype=torch.float64)
BAD_RECURRENCE = [                  # (case, arguments (a, b, h0), error, message)
    ("a a list", ([1.0], B, None), TypeError, "a must be a torch.Tensor, got list"),
    ("b of ints", (A, B.long(), None), TypeError, "b must have a floating dtype"),
    ("b 2-D", (A, B[0], None), ValueError, "b must have 3 dimensions"),
    ("no time step", (A[:, :0], B[:, :0], None), ValueError, "b must have at least one time step"),
    ("a too short", (A[:, :4], B, None), ValueError, r"a must have shape \(N,\)"),
    ("a complex, b real", (A.to(torch.complex64), B, None), TypeError, "b must be complex"),
    ("h0 of a wrong size", (A, B, torch.zeros(3, 3)), ValueError, "h0 must have size 2 on axis 0"),
    ("h0 a list", (A, B, [0.0]), TypeError, "h0 must be a torch.Tensor, got list"),
]
BAD_COMBINE = [                     # (case, arguments (first, second), error, message)
    ("a number", (1.0, (ONES, ONES)), TypeError,
     r"first must be a pair \(a, b\) of torch tensors, got float \(1.0\)"),
    ("three tensors", ((ONES, ONES), (ONES, ONES, ONES)), TypeError,
     r"second must be a pair \(a, b\) of torch tensors, got tuple \(\(tensor"),
    ("lists", (([1.0], [2.0]), (ONES, ONES)), TypeError,
     r"first must be a pair .* got tuple \(\(\[1.0\], \[2.0\]\)\)"),
    ("numpy arrays", ((ONES.numpy(), ONES.numpy()), (ONES, ONES)), TypeError,
     r"first must be a pair .* got tuple \(\(array"),
    ("a complex, b real", ((ONES, ONES), (ONES.to(torch.complex128), ONES)), TypeError,
     "b must be complex when a is complex"),
]


def test_bad_inputs(subtests):
    for fn in (recurrence_loop, recurrence_scan, recurrence_reduce):
        for case, args, error, message in BAD_RECURRENCE:
            with subtests.test(fn=fn.__name__, case=case), pytest.raises(error, match=message):
                fn(*args)
    for case, args, error, message in BAD_COMBINE:
        with subtests.test(fn="combine", case=case), pytest.raises(error, match=message):
            combine(*args)
