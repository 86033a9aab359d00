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
