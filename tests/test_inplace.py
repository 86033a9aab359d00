"""The in-place pass (``ast_ad/passes/inplace.py``) and its helpers (``mul_into`` and
friends): arithmetic goes into a dead named array only when nothing can see the change.
Golden listings, the cases it must leave alone, gradients against finite differences,
and arguments never changed."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

import ast_ad
from ast_ad import npruntime as npr
from ast_ad.passes.inplace import in_place
from ast_ad.source import to_source
from ast_ad.templates import parse_generated

HELPERS = {"shape_only", "reduce_to", "sum_vjp", "_push", "_pop"}


def run(src: str) -> str:
    return to_source(in_place(parse_generated(textwrap.dedent(src), HELPERS)))


def test_golden_dead_temporary() -> None:
    out = run("""
        def f(x, m, s, g):
            _t3 = x - m
            d = _t3 / s
            _t3 = shape_only(_t3)
            b = sum_vjp(g, d, None, False)
            return (np.sum(d * d), reduce_to(b * d, _t3))
        """)
    assert "d = div_into(_t3, s)" in out
    assert "reduce_to(mul_into(b, d), _t3)" in out  # b: made by sum_vjp, dead after
    assert "np.sum(d * d)" in out                    # d is read again: no


@pytest.mark.parametrize("later", ["y = _t3 + 1.0", "_push(_t3)", "return _t3",
                                   "acc.append(_t3)"])
def test_live_or_kept_array_is_left_alone(later: str) -> None:
    out = run(f"""
        def f(x, m, s, acc):
            _t3 = x - m
            d = _t3 / s
            {later}
            return d
        """)
    assert "div_into" not in out


def test_parameters_and_their_sharers_are_left_alone() -> None:
    out = run("""
        def f(x, s):
            v = x
            d = x / s
            e = v * s
            return (d, e)
        """)
    assert "_into" not in out


def test_helpers_write_in_place_only_when_safe() -> None:
    big = np.ones((256, 256))
    assert npr.mul_into(big, 2.0) is big and big[0, 0] == 2.0
    row = np.ones(256)
    assert npr.add_into(big, row) is big                     # broadcasts into big's shape
    small = np.ones(8)
    assert npr.mul_into(small, 2.0) is not small              # small: a new array
    assert npr.mul_into(big, np.ones((2, 256, 256))) is not big  # a larger result
    assert npr.mul_into(big[1:], 2.0).base is None            # a view: never written
    f32 = np.ones((256, 256), dtype=np.float32)
    assert npr.mul_into(f32, np.ones(256)) is not f32          # would become float64
    np.testing.assert_array_equal(npr.sub_into(np.full((256, 256), 3.0), 1.0), 2.0)
    np.testing.assert_array_equal(npr.div_into(np.full((256, 256), 3.0), 2.0), 1.5)


def _gmm_like(means, scale, X):
    diff = (X[:, None, :] - means[None, :, :]) / scale
    comp = -0.5 * np.sum(diff ** 2, axis=2) - 0.1 * X.shape[1]
    return np.sum(np.log(np.sum(np.exp(comp), axis=1)))


def test_large_gradients_right_and_arguments_unchanged() -> None:
    r = np.random.default_rng(3)
    means, scale, X = r.normal(size=(16, 8)), 1.5, r.normal(size=(400, 8))
    assert "div_into" in ast_ad.source(_gmm_like, wrt=0)
    keep = means.copy(), X.copy()
    g = ast_ad.grad(_gmm_like)(means, scale, X)
    assert np.array_equal(means, keep[0]) and np.array_equal(X, keep[1])
    eps = 1e-6
    for k, j in [(0, 0), (5, 3), (15, 7)]:
        d = np.zeros_like(means)
        d[k, j] = eps
        fd = (_gmm_like(means + d, scale, X) - _gmm_like(means - d, scale, X)) / (2 * eps)
        assert g[k, j] == pytest.approx(fd, rel=1e-6, abs=1e-8)
