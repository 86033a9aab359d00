"""The peephole pass: golden before/after, what it must leave alone, and the same bits."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

import ast_ad
from ast_ad.npruntime import mean_expand, mean_vjp, reduce_to, sum_expand, sum_vjp
from ast_ad.passes.peephole import peephole
from ast_ad.source import to_source
from ast_ad.templates import parse_generated

BEFORE = """
def f(g, a, x, s, bm, bx, v):
    bx += -(g * x)
    bm += reduce_to(-(g * (-a / x)), x)
    v = unbroadcast(-g, x)
    v = g * (-a / s) + x / -s
    v = -(-g)
    v = reduce_to(sum_vjp(g, a, 2, False) * (2 * x), x)
    v = reduce_to(mean_vjp(g, a, None, False) / x, x)
    v = reduce_to(sum_vjp(g, a, 2, False) * (3 * x), x)
    v = sum_vjp(g, a, 2, False)
    v = reduce_to(x * (2 * sum_vjp(g, a, 2, False)), x)
    v = unbroadcast(-(g * (-a / s)), s)
    v = reduce_to(g * (a * x), x) + reduce_to(g / x, x) + reduce_to(g * (a / x), s)
    return v
"""

AFTER_ARRAYS = """
def f(g, a, x, s, bm, bx, v):
    bx -= g * x
    bm += reduce_to(g * a, x) / x
    v = -reduce_to(g, x)
    v = -(g * (a / s)) - x / s
    v = g
    v = reduce_to(sum_expand(g, a, 2, False) * 2 * x, x)
    v = reduce_to(mean_expand(g, a, None, False) / x, x)
    v = reduce_to(sum_expand(g, a, 2, False) * (3 * x), x)
    v = sum_vjp(g, a, 2, False)
    v = reduce_to(x * (2 * sum_expand(g, a, 2, False)), x)
    v = reduce_to(g * a, s) / s
    v = reduce_to(g * (a * x), x) + reduce_to(g / x, x) + reduce_to(g * (a / x), s)
    return v
"""

AFTER_SCALARS = """
def f(g, a, x, s, bm, bx, v):
    bx -= g * x
    bm += reduce_to(-(g * (-a / x)), x)
    v = unbroadcast(-g, x)
    v = g * (-a / s) + x / -s
    v = g
    v = reduce_to(sum_vjp(g, a, 2, False) * (2 * x), x)
    v = reduce_to(mean_vjp(g, a, None, False) / x, x)
    v = reduce_to(sum_vjp(g, a, 2, False) * (3 * x), x)
    v = sum_vjp(g, a, 2, False)
    v = reduce_to(x * (2 * sum_vjp(g, a, 2, False)), x)
    v = unbroadcast(-(g * (-a / s)), s)
    v = reduce_to(g * (a * x), x) + reduce_to(g / x, x) + reduce_to(g * (a / x), s)
    return v
"""


def _run(arrays: bool) -> str:
    func = parse_generated(textwrap.dedent(BEFORE), {"reduce_to", "unbroadcast", "sum_vjp",
                                                     "mean_vjp"})
    return to_source(peephole(func, arrays))


def test_golden_arrays() -> None:
    assert _run(True) == textwrap.dedent(AFTER_ARRAYS).lstrip()


def test_golden_scalars_only_rewrite_augmented_negation() -> None:
    """In scalar mode nothing is broadcast, so only ``+= -e`` changes (and ``--g``)."""
    assert _run(False) == textwrap.dedent(AFTER_SCALARS).lstrip()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), ((0, 2), False),
                                           (-1, True), (None, True)])
def test_expand_gives_the_same_bits(dtype, axis, keepdims) -> None:
    """``reduce_to(sum_expand(g, a, ...) * e, a)`` equals ``reduce_to(sum_vjp(...) * e, a)``
    bit for bit, dtype included (and the same for means)."""
    r = np.random.default_rng(3)
    a = r.normal(size=(3, 4, 5)).astype(dtype)
    e = r.normal(size=(3, 4, 5)).astype(dtype)
    g = np.asarray(np.sum(a, axis=axis, keepdims=keepdims)) * dtype(1.7)
    for new, old in ((sum_expand, sum_vjp), (mean_expand, mean_vjp)):
        got = reduce_to(new(g, a, axis, keepdims) * 2 * e, a)
        want = reduce_to(old(g, a, axis, keepdims) * (2 * e), a)
        assert got.dtype == want.dtype == dtype
        assert np.array_equal(got, want)
        small = reduce_to(new(g, a, axis, keepdims) * dtype(3.0), a)  # nothing full-size
        assert np.array_equal(small, reduce_to(old(g, a, axis, keepdims) * dtype(3.0), a))


def test_factored_quotient_adjoint_matches() -> None:
    """``reduce_to(g * a, x) / x`` equals ``reduce_to(g * (a / x), x)`` up to rounding, for
    a broadcast divisor of each kind (size-1 axes, fewer axes, a number)."""
    r = np.random.default_rng(4)
    g, a = r.normal(size=(5, 3, 4)), r.normal(size=(5, 3, 4))
    for x in (r.uniform(1, 2, size=(1, 3, 4)), r.uniform(1, 2, size=(4,)), 1.7,
              r.uniform(1, 2, size=(5, 1, 1))):
        got, want = reduce_to(g * a, x) / x, reduce_to(g * (a / x), x)
        assert type(got) is type(want)
        np.testing.assert_allclose(got, want, rtol=1e-13)


def test_expand_of_a_list_falls_back() -> None:
    assert sum_expand(2.0, [1.0, 2.0]) == sum_vjp(2.0, [1.0, 2.0]) == [2.0, 2.0]


def _squares(x, s):
    return np.sum(np.sum(x ** 2, axis=1) / s) - np.mean(-x / s[:, None])


def test_rewritten_gradient_is_exact() -> None:
    """The generated code uses the rewrites, and its gradient equals the formula."""
    x = np.random.default_rng(0).normal(size=(4, 3))
    s = np.array([1.5, 2.0, 0.5, 3.0])
    src = ast_ad.source(_squares, wrt=(0, 1))
    assert "sum_expand" in src and "-reduce_to(" in src
    gx, gs = ast_ad.grad(_squares, wrt=(0, 1))(x, s)
    np.testing.assert_allclose(gx, 2 * x / s[:, None] + 1.0 / (x.size * s[:, None]),
                               rtol=1e-13)
    np.testing.assert_allclose(gs, -np.sum(x ** 2, axis=1) / s ** 2
                               - np.sum(x, axis=1) / (x.size * s ** 2), rtol=1e-13)


def test_seed_of_one_is_not_multiplied() -> None:
    """Scalar mode: ``bs = 1.0`` assigned once; ``bs * <float>`` is the float, and the seed
    goes when nothing reads it. An integer factor keeps the product (1.0 * 2 is a float)."""
    src = textwrap.dedent("""
        def f(t, n, bx):
            bs = 1.0
            bx[0] -= bs * (2.0 * t)
            b = bs * 100.0 * (2.0 * t)
            c = bs * n
            return (b, c)
        """)
    out = to_source(peephole(parse_generated(src, set()), arrays=False))
    assert out == textwrap.dedent("""\
        def f(t, n, bx):
            bs = 1.0
            bx[0] -= 2.0 * t
            b = 200.0 * t
            c = bs * n
            return (b, c)
        """)
    unread = src.replace("    c = bs * n\n", "    c = n\n")
    out = to_source(peephole(parse_generated(unread, set()), arrays=False))
    assert "bs" not in out
    again = to_source(peephole(parse_generated(src.replace("return", "bs = 2.0\n    return"),
                                               set()), arrays=False))
    assert "bs * (2.0 * t)" in again  # assigned twice: not known to be 1


def test_seed_of_one_and_math_functions() -> None:
    """``math.cos`` always returns a float: no product with the seed; ``math.floor``
    returns an int, so ``1.0 * math.floor(t)`` keeps its product (it makes a float)."""
    src = textwrap.dedent("""
        def f(t, bx):
            bs = 1.0
            bx[0] += bs * math.cos(t)
            bx[1] += bs * math.floor(t)
            return bx
        """)
    out = to_source(peephole(parse_generated(src, {"math"}), arrays=False))
    assert "bx[0] += math.cos(t)" in out and "bx[1] += bs * math.floor(t)" in out


LIKES = """
def f(W, b, V, x, g, h):
    bW = matmul_vjp_b(g, h, W)
    bb = unbroadcast(g, b)
    bV = reduce_to(g, V)
    bV += g
    bb += unbroadcast(h, b)
    bx = reduce_to(g, h)
    bh = matmul_vjp_a(g, h, W)
    x = h
    bq = reduce_to(g, x)
    return (bW, (like(bW, W), like(bb, b), like(bV, V), like(bx, x), like(bh, h)))
"""


def test_returned_likes_that_change_nothing_go() -> None:
    """``like(bW, W)`` goes after ``bW = matmul_vjp_b(g, h, W)``, ``like(bb, b)`` after
    ``bb = unbroadcast(g, b)`` and ``bb += unbroadcast(h, b)``, and ``like(bh, h)`` after
    ``bh = matmul_vjp_a(g, h, W)`` (like ``h``). ``like(bV, V)`` stays after ``bV += g``,
    and ``like(bx, x)`` for an ``x`` set again."""
    helpers = {"matmul_vjp_a", "matmul_vjp_b", "unbroadcast", "reduce_to", "like"}
    out = to_source(peephole(parse_generated(textwrap.dedent(LIKES), helpers), arrays=True))
    assert out.splitlines()[-1] == (
        "    return (bW, (bW, bb, like(bV, V), like(bx, x), bh))")
    scalar = to_source(peephole(parse_generated(textwrap.dedent(LIKES), helpers),
                                arrays=False))
    assert "like(bW, W)" in scalar


def test_mlp_gradient_without_likes_is_typed() -> None:
    """The dropped likes leave each gradient an array of its parameter's shape and dtype,
    also for float32 parameters and a number."""
    def f(W, b, X):
        return np.sum(np.tanh(X @ W + b) ** 2)

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        W, X = rng.normal(size=(3, 2)).astype(dtype), rng.normal(size=(4, 3)).astype(dtype)
        for b in (rng.normal(size=2).astype(dtype), 0.5):
            src = ast_ad.source(f, wrt=(0, 1), arrays=True)
            assert "like(" not in src
            gW, gb = ast_ad.grad(f, wrt=(0, 1))(W, b, X)
            assert gW.dtype == W.dtype and gW.shape == W.shape
            assert type(gb) is type(b) and np.shape(gb) == np.shape(b)
            if isinstance(b, np.ndarray):
                assert gb.dtype == b.dtype
            tol = 1e-4 if dtype == np.float32 else 1e-10
            hW = X.T @ (2 * np.tanh(X @ W + b) * (1 - np.tanh(X @ W + b) ** 2))
            np.testing.assert_allclose(gW, hW, rtol=tol, atol=tol)


SCALED = """
def f(g, s, _t2, _t3, _t4, x):
    bt = reduce_to(g * (1.0 / s), _t3)
    bu = reduce_to(g * x, _t3)
    bv = reduce_to(g * s, _t3)
    _t2 = x
    bw = reduce_to(g * x, _t3)
    b = (reduce_to(bt, _t2), reduce_to(bu, _t4), bv, reduce_to(bv, _t2), unbroadcast(bw, _t2))
    return b
"""


def test_product_reduced_twice_is_reduced_once() -> None:
    """``bt = reduce_to(g * s, _t3)`` read only by ``reduce_to(bt, b)`` becomes
    ``reduce_scaled(g, s, b)``; not when ``bt`` is read twice, nor when ``b`` is set in
    between."""
    helpers = {"reduce_to", "unbroadcast"}
    out = to_source(peephole(parse_generated(textwrap.dedent(SCALED), helpers), arrays=True))
    assert "    bt = reduce_to(g * (1.0 / s), _t3)\n" in out  # _t2 is set in between
    assert "    bu = reduce_scaled(g, x, _t4)\n" in out
    assert "    bv = reduce_to(g * s, _t3)\n" in out            # read twice
    assert "    bw = reduce_scaled(g, x, _t2)\n" in out
    # their readers read them as they are (they have the shape reduced to already)
    assert "    b = (reduce_to(bt, _t2), bu, bv, reduce_to(bv, _t2), bw)\n" in out


@pytest.mark.parametrize("a_shape, b_shape, like_shape", [
    ((5, 3, 4), (1, 3, 4), (1, 3, 4)),     # the factor has the target's shape: taken out
    ((5, 3, 4), (3, 4), (3, 4)),
    ((3, 4), (5, 3, 4), (3, 4)),           # the other operand is the factor
    ((5, 1, 4), (1, 3, 4), (1, 3, 4)),     # the factor is as large as the product: not
    ((5, 3, 4), (1, 3, 1), (3, 4)),        # not the target's shape: not
    ((5, 3, 4), (5, 3, 4), (5, 3, 4)),
])
def test_reduce_scaled_is_reduce_to_of_the_product(a_shape, b_shape, like_shape) -> None:
    from ast_ad.npruntime import reduce_scaled
    rng = np.random.default_rng(1)
    a, b, like = rng.normal(size=a_shape), rng.normal(size=b_shape), np.zeros(like_shape)
    got, want = reduce_scaled(a, b, like), reduce_to(a * b, like)
    assert got.shape == want.shape == like.shape and got.dtype == like.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    f32 = reduce_scaled(a.astype(np.float32), b, like.astype(np.float32))
    assert f32.dtype == np.float32


def test_standardised_gradient() -> None:
    """The GMM shape ``(x - mean) / sigma``: the mean's adjoint is the reduced form."""
    def f(mu, log_s, X):
        d = (X[:, None, :] - mu[None, :, :]) / np.exp(log_s)[None, :, :]
        return np.sum(np.sin(d) ** 2)

    rng = np.random.default_rng(2)
    mu, log_s, X = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)) * 0.3, rng.normal(size=(5, 2))
    assert "reduce_scaled" in ast_ad.source(f, wrt=(0, 1), arrays=True)
    from ast_ad.testing import check_grad
    check_grad(f, (mu, log_s, X), wrt=(0, 1))


def test_negated_start_then_added_is_a_difference() -> None:
    """``bz = -a; bz += b`` is ``bz = b - a`` (the same bits); not with ``-=``, not when
    something in between, and not when ``b`` reads ``bz``."""
    src = textwrap.dedent("""\
        def f(a, b, c):
            bz = -reduce_to(a * c, b)
            bz += reduce_to(b * np.exp(a), b)
            by = -a
            by -= b
            bx = -a
            c = 1.0
            bx += b
            bw = -a
            bw += bw * b
            return (bz, by, bx, bw)
        """)
    out = to_source(peephole(parse_generated(src, {"reduce_to"}), arrays=True))
    assert "    bz = reduce_to(b * np.exp(a), b) - reduce_to(a * c, b)\n" in out
    assert "    by = -a\n    by -= b\n" in out and "    bx = -a\n" in out
    assert "    bw = -a\n    bw += bw * b\n" in out
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=7), rng.normal(size=7)
    bz = -a
    bz += b
    assert np.array_equal(bz, b - a)  # bit for bit


def test_doubling_is_folded_into_a_constant_factor() -> None:
    """``c * (2.0 * t)`` is ``(2c) * t``, bit for bit in every float format, while ``c`` and
    ``2c`` are normal float16 numbers and ``|c| >= 1`` (else ``2.0 * t`` could overflow
    where ``2c * t`` does not); left alone outside that range, for a factor other than 2,
    and when the constant is not the left operand."""
    src = textwrap.dedent("""\
        def f(t, g):
            a = 100.0 * (2.0 * t)
            b = 3 * (2 * t)
            c = 40000.0 * (2.0 * t)
            d = 0.5 * (2.0 * t)
            e = 100.0 * (3.0 * t)
            h = (2.0 * t) * 100.0
            return (a, b, c, d, e, h)
        """)
    for arrays in (False, True):
        out = to_source(peephole(parse_generated(src, set()), arrays=arrays))
        assert "    a = 200.0 * t\n    b = 6 * t\n" in out
        for kept in ("c = 40000.0 * (2.0 * t)", "d = 0.5 * (2.0 * t)",
                     "e = 100.0 * (3.0 * t)", "h = 2.0 * t * 100.0"):
            assert kept in out
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.normal(size=4000) * 10.0 ** rng.integers(-40, 40, 4000),
                             [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1.7e308]])
    for c in (100.0, -1.5, 1.0, 1.1, 16383.0, 7):
        for dtype in (np.float64, np.float32, np.float16):
            with np.errstate(all="ignore"):
                t = values.astype(dtype)
                assert np.array_equal(c * (2.0 * t), (2 * c) * t, equal_nan=True), (c, dtype)
        z = values[:2000] * 1e-3 + 1j * values[2000:4000] * 1e-3
        assert np.array_equal(c * (2.0 * z), (2 * c) * z)  # complex: where 2z does not overflow
        for x in values[:200].tolist() + values[-7:].tolist():
            folded, kept = (2 * c) * x, c * (2.0 * x)
            assert folded == kept or (folded != folded and kept != kept)


def test_rosenbrock_gradient_with_the_folded_factor() -> None:
    from bench.workloads import rosenbrock as w
    x = w.inputs("small")[0]
    value, grad = ast_ad.value_and_grad(w.primal)(x)
    assert "200.0 * _t" in ast_ad.source(w.primal, kind="value_and_grad")
    want_value, want = w.hand(x)
    assert value == w.primal(x) and np.allclose(grad, want, rtol=1e-13, atol=0)
