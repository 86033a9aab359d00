"""End-to-end NumPy: realistic functions, broadcasting, indexing, methods, dtypes, vjp.

Every gradient is checked against central finite differences, element by element.
"""
from __future__ import annotations

import numpy as np
import numpy_workloads as W
import pytest
from fuzz_numpy import same_bits

import ast_ad

RNG = np.random.default_rng(0)


def numerical(f, args, i, h=1e-6):
    x = np.array(args[i], dtype=float)
    out = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        values = []
        for sign in (1, -1):
            moved = x.copy()
            moved[index] += sign * h
            shifted = list(args)
            shifted[i] = moved if x.ndim else float(moved)
            values.append(f(*shifted))
        out[index] = (values[0] - values[1]) / (2 * h)
    return out


def check(f, args, wrt, rtol=1e-5, atol=1e-7):
    value_and_grad = ast_ad.value_and_grad(f, wrt=tuple(wrt))
    value, grads = value_and_grad(*args)
    assert value == f(*args)
    for _ in range(3):  # again, a recording run, then the specialised adjoint if any
        assert same_bits(value_and_grad(*args), (value, grads)), f.__name__
    for i, g in zip(wrt, grads):
        expected = numerical(f, args, i)
        assert np.shape(g) == np.shape(args[i]), (f.__name__, i)
        np.testing.assert_allclose(g, expected, rtol=rtol, atol=atol, err_msg=f"{f.__name__}[{i}]")


def test_logistic_regression():
    X, w = RNG.normal(size=(6, 3)), RNG.normal(size=3)
    check(W.logreg, (w, X, (RNG.random(6) > 0.5).astype(float)), [0, 1])


def test_mlp_softmax_cross_entropy():
    X = RNG.normal(size=(5, 3))
    args = (RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=(4, 3)),
            RNG.normal(size=3), X, np.array([0, 2, 1, 1, 0]))
    check(W.mlp, args, [0, 1, 2, 3, 4])


def test_rnn_over_time_steps():
    args = (RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=(3, 2)), RNG.normal(size=(4, 2)),
            RNG.normal(size=3))
    check(W.rnn, args, [0, 1, 2, 3])


def test_stencil_with_slice_assignment():
    check(W.stencil, (RNG.normal(size=7), 3), [0])


def test_power_iteration():
    A = RNG.normal(size=(3, 3))
    check(W.power_iter, (A + A.T, RNG.normal(size=3), 4), [0, 1])


def test_gmm_log_likelihood():
    check(W.gmm, (RNG.normal(size=6), RNG.normal(size=2), RNG.normal(size=2) * 0.1,
                  RNG.normal(size=2)), [0, 1, 2, 3])


def test_broadcasting_masks_and_methods():
    check(W.bcast, (RNG.random(size=(3, 2)), 0.7), [0, 1])


# ---------------------------------------------------------------------- indexing

def fancy_repeats(x):
    idx = np.array([0, 2, 2, 1, 0])
    return np.sum(x[idx] ** 2) + x[-1] * x[1:3].sum()


def index_forms(x):
    a = x[:, 0]
    b = x[1, ...]
    c = x[None, :, 1]
    d = x[::2, ::-1]
    return np.sum(a * a) + np.sum(b ** 3) + c.sum() + np.sum(np.sin(d))


def writes(x, s):
    y = np.zeros((3, 4))
    y[0] = x[0] * s
    y[1:, 1:3] = x[1:, :2] ** 2
    y[2, 3] += s * s
    mask = y > 0.1
    y[mask] = y[mask] * 3.0
    y *= 2.0
    y += x
    return np.sum(y ** 2)


def test_fancy_indexing_with_repeated_indices():
    check(fancy_repeats, (RNG.normal(size=4),), [0])


def test_index_forms():
    check(index_forms, (RNG.normal(size=(3, 2)),), [0])


def test_index_writes_in_place_updates_and_masks():
    check(writes, (RNG.normal(size=(3, 4)), 0.8), [0, 1])


def array_methods(x, y):
    z = x.reshape(2, 3).T @ y.reshape(2, 1)
    return z.sum() + x.mean() * x.max() + x.astype(float).ravel()[2] + x.copy().std()


def test_array_methods_and_attributes():
    check(array_methods, (RNG.normal(size=6), RNG.normal(size=2)), [0, 1])


def loop_over_rows(A, v):
    total = 0.0
    for row in A:
        total = total + np.dot(row, v) ** 2
    return total


def test_for_over_rows_of_an_array():
    check(loop_over_rows, (RNG.normal(size=(4, 3)), RNG.normal(size=3)), [0, 1])


# ---------------------------------------------------------------------- dtypes and vjp

def f32(x):
    return np.sum(np.tanh(x) * x)


def test_float32_inputs_keep_float32_gradients():
    x = RNG.normal(size=5).astype(np.float32)
    g = ast_ad.grad(f32)(x)
    assert g.dtype == np.float32 and g.shape == x.shape
    np.testing.assert_allclose(g, ast_ad.grad(f32)(x.astype(float)), rtol=1e-5)


def scalar_and_array(a, x):
    return np.sum(a * x)


def test_scalar_argument_with_arrays_gets_a_scalar_gradient():
    ga, gx = ast_ad.grad(scalar_and_array, wrt=(0, 1))(2.0, np.arange(3.0))
    assert isinstance(ga, float) and ga == 3.0
    np.testing.assert_array_equal(gx, [2.0, 2.0, 2.0])


def test_integer_array_argument_is_refused_clearly():
    with pytest.raises(ast_ad.GradientError, match="dtype int"):
        ast_ad.grad(f32)(np.arange(3))


def test_inactive_array_argument_gets_zeros_of_its_shape():
    _, gx = ast_ad.grad(scalar_and_array, wrt=(0, 1))(2.0, np.ones((2, 2)))
    assert gx.shape == (2, 2)
    g = ast_ad.grad(lambda_free, wrt=1)(1.5, np.ones(3))
    assert g.shape == (3,) and not g.any()


def lambda_free(a, x):
    return a * a


def vector_valued(x, W):
    return np.tanh(W @ x)


def test_vjp_matches_the_jacobian():
    x, Wm = RNG.normal(size=3), RNG.normal(size=(2, 3))
    out, vjp_fn = ast_ad.vjp(vector_valued, x, Wm)
    np.testing.assert_array_equal(out, vector_valued(x, Wm))
    ct = RNG.normal(size=2)
    gx, gW = vjp_fn(ct)
    assert gx.shape == x.shape and gW.shape == Wm.shape
    expected = numerical(lambda xx, ww: float(ct @ vector_valued(xx, ww)), (x, Wm), 0)
    np.testing.assert_allclose(gx, expected, rtol=1e-5)


def test_grad_of_a_non_scalar_output_suggests_vjp():
    with pytest.raises(ast_ad.GradientError, match="vjp"):
        ast_ad.grad(vector_valued)(np.ones(3), np.ones((2, 3)))


def uses_unknown_numpy(x):
    return np.sum(np.i0(x))


def test_numpy_function_without_rule_is_a_located_error():
    with pytest.raises(ast_ad.MissingRule, match=r"np\.i0") as info:
        ast_ad.grad(uses_unknown_numpy)(np.ones(4))
    assert info.value.filename.endswith("test_numpy_e2e.py")
    assert info.value.lineno == uses_unknown_numpy.__code__.co_firstlineno + 1


def test_integer_array_is_refused_after_a_float_call_too():
    """The call's quick path (the adjoint already built) must still refuse it."""
    grad = ast_ad.grad(f32)
    grad(np.arange(3.0))
    with pytest.raises(ast_ad.GradientError, match="argument 0 of f32.* dtype int"):
        grad(np.arange(3))
