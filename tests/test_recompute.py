"""Recomputing loop temporaries at their first reverse use (``recompute_at_use`` in
``ast_ad/passes/reverse_loops.py``) instead of taping them: the tape shrinks, gradients
stay right, including chains of temporaries whose inputs are restored at different
places."""
from __future__ import annotations

import textwrap

import pytest

import ast_ad
from ast_ad.testing import numerical_grad

SOURCE = """
def step(x, b, n):
    for _ in range(n):
        t = b * x
        x = x + 0.1 * t * t
    return x


def chain(a, b, xs):
    s = 0.0
    q = 0.0
    for i in range(len(xs)):
        s = s * (1.0 + 0.1 * a * b)
        q = q * a * b * xs[0] + xs[i]
        s += q
    return s
"""


@pytest.fixture
def m(make_module):
    return make_module(textwrap.dedent(SOURCE))


def test_temporary_is_recomputed_not_taped(m) -> None:
    src = ast_ad.source(m.step, wrt=(0, 1))
    assert "_push(x)" in src and src.count("_push(") == 1   # only x is kept
    assert ast_ad.tape_report(m.step, 0.5, 0.7, 5).count == 5


@pytest.mark.parametrize("n", [0, 1, 6])
def test_step_gradients(m, n: int) -> None:
    x, b = 0.5, 0.7
    gx, gb = ast_ad.grad(m.step, wrt=(0, 1))(x, b, n)
    assert gx == pytest.approx(numerical_grad(lambda v: m.step(v, b, n), (x,)), rel=1e-8)
    assert gb == pytest.approx(numerical_grad(lambda v: m.step(x, v, n), (b,)), rel=1e-8,
                               abs=1e-12)


def test_chain_of_temporaries(m) -> None:
    """``q * a`` then ``(q * a) * b``: the second reads the first, and ``q`` changes after
    both; recomputing both would compute ``q * a`` before ``q`` is restored."""
    a, b, xs = 0.89, -0.85, [1.07, 1.38, -0.4]
    ga, gb, gxs = ast_ad.grad(m.chain, wrt=(0, 1, 2))(a, b, xs)
    assert ga == pytest.approx(numerical_grad(lambda v: m.chain(v, b, xs), (a,)), rel=1e-7)
    assert gb == pytest.approx(numerical_grad(lambda v: m.chain(a, v, xs), (b,)), rel=1e-7)
    for k in range(len(xs)):
        want = numerical_grad(lambda v, k=k: m.chain(a, b, xs[:k] + [v] + xs[k + 1:]),
                              (xs[k],))
        assert gxs[k] == pytest.approx(want, rel=1e-7)
