"""The copies pass: a defensive copy goes only where nothing could see the sharing."""
from __future__ import annotations

import numpy as np

import ast_ad


def _sum_pair(a, b):
    return np.sum(a + b)


def _layer(w, x, b):
    z = x @ w + b
    h = np.tanh(z)
    return np.sum(h * h)


def test_returned_gradients_never_share_an_array() -> None:
    a, b = np.ones(3), np.ones(3)
    ga, gb = ast_ad.grad(_sum_pair, wrt=(0, 1))(a, b)
    assert np.array_equal(ga, np.ones(3)) and np.array_equal(gb, np.ones(3))
    assert not np.shares_memory(ga, gb)
    ga += 1.0  # changing one gradient in place leaves the other alone
    assert np.array_equal(gb, np.ones(3))


def test_intermediate_copy_dropped_and_gradient_right() -> None:
    r = np.random.default_rng(0)
    w, x, b = r.normal(size=(3, 2)), r.normal(size=(4, 3)), r.normal(size=2)
    source = ast_ad.source(_layer, wrt=(0, 2))
    assert "b_t1 = reduce_to(" in source  # the adjoint of x @ w shares z's adjoint
    gw, gb = ast_ad.grad(_layer, wrt=(0, 2))(w, x, b)
    h = np.tanh(x @ w + b)
    gz = 2 * h * (1 - h * h)
    np.testing.assert_allclose(gw, x.T @ gz, rtol=1e-12)
    np.testing.assert_allclose(gb, gz.sum(axis=0), rtol=1e-12)
    assert not np.shares_memory(gw, gb)


def _golden(src: str) -> str:
    from ast_ad.passes.copies import drop_copies
    from ast_ad.source import to_source
    from ast_ad.templates import parse_generated
    helpers = {"unbroadcast", "reduce_to", "matmul_vjp_b", "add_at"}
    return to_source(drop_copies(parse_generated(src, helpers)))


def test_golden_sum_into_needs_no_copy() -> None:
    """``bb += unbroadcast(v, b)``: ``+=`` never makes ``bb`` the array it adds."""
    assert _golden("def f(v, b, bb):\n    bb += unbroadcast(v, b)\n    v += 1.0\n"
                   "    return bb") == \
        "def f(v, b, bb):\n    bb += reduce_to(v, b)\n    v += 1.0\n    return bb\n"


def test_golden_loop_body() -> None:
    """In a loop, the next iteration runs after a statement too: ``g`` changed in place
    at the top of the body keeps the copy; ``k``, never changed, passes through."""
    src = """def f(g, k, x, y, n):
    for t in range(n):
        g += 1.0
        bx = unbroadcast(g, x)
        by = unbroadcast(k, y)
        s = matmul_vjp_b(bx, x, y) + matmul_vjp_b(by, x, y)
    return s
"""
    out = _golden(src)
    assert "bx = unbroadcast(g, x)" in out and "by = reduce_to(k, y)" in out


def _rnn_like(W, b, xs):
    h = np.zeros(W.shape[0])
    s = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t] + b)
        s = s + np.sum(h * h)
    return s


def test_loop_copies_dropped_and_gradients_right() -> None:
    r = np.random.default_rng(1)
    W, b, xs = r.normal(scale=0.5, size=(3, 3)), r.normal(size=3), r.normal(size=(4, 3))
    source = ast_ad.source(_rnn_like, wrt=(0, 1))
    loop = source[source.index("# reverse sweep"):]
    assert "unbroadcast(" not in loop.split("for t in")[1].split("return")[0]
    gW, gb = ast_ad.grad(_rnn_like, wrt=(0, 1))(W, b, xs)
    eps = 1e-6
    for k in range(3):
        d = np.zeros(3)
        d[k] = eps
        fd = (_rnn_like(W, b + d, xs) - _rnn_like(W, b - d, xs)) / (2 * eps)
        assert abs(gb[k] - fd) < 1e-6
    dW = np.zeros((3, 3))
    dW[1, 2] = eps
    fd = (_rnn_like(W + dW, b, xs) - _rnn_like(W - dW, b, xs)) / (2 * eps)
    assert abs(gW[1, 2] - fd) < 1e-6
    assert not np.shares_memory(gW, gb)


def test_golden_new_value_needs_no_copy() -> None:
    """``unbroadcast`` of arithmetic: a new array only this statement sees."""
    out = _golden("def f(g, x, h):\n    bx = unbroadcast(reduce_to(g * 2.0, h), x)\n"
                  "    g += 1.0\n    return bx")
    assert "bx = reduce_to(reduce_to(g * 2.0, h), x)" in out
    kept = _golden("def f(g, x, h):\n    bx = unbroadcast(reduce_to(g, h), x)\n"
                   "    g += 1.0\n    return bx")
    assert "bx = unbroadcast(reduce_to(g, h), x)" in kept  # may be g itself: copied
