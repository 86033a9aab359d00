"""The contract pass and its run-time helpers: a product only ever summed is not made."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

import ast_ad
from ast_ad import npruntime as R
from ast_ad.passes.contract import contract
from ast_ad.source import to_source
from ast_ad.templates import parse_generated
from ast_ad.testing import check_grad

OURS = {"reduce_to", "reduce_scaled", "sum_expand", "unbroadcast"}


def _contract(src: str) -> str:
    return to_source(contract(parse_generated(textwrap.dedent(src), OURS)))


def test_golden() -> None:
    out = _contract("""
    def f(g, d, m, s, e):
        bd = reduce_to(sum_expand(g, d, 2, False) * 2.0 * d, d)
        bm = reduce_scaled(bd, 1.0 / s, m)
        bs = -reduce_to(bd * d, s) / s
        by = reduce_to(e * 3.0, m)
        return (bm, bs, by)
    """)
    assert out == textwrap.dedent("""\
    def f(g, d, m, s, e):
        bd = lazy_product(d, sum_expand(g, d, 2, False), 2.0, d)
        bm = reduce_product_scaled(bd, 1.0 / s, m)
        bs = -reduce_product(bd, s, d) / s
        by = reduce_to(e * 3.0, m)
        return (bm, bs, by)
    """)


@pytest.mark.parametrize("line", [
    "z = bd + 1.0",                     # read as something other than a reduction
    "z = unbroadcast(bd, m)",           # a copy is asked for
    "d = d * 2.0",                      # a factor changes before a reduction
    "z = reduce_to(d * bd, m)",         # the product on the right
    "bd = bd * 2.0",                    # set twice
])
def test_left_alone(line: str) -> None:
    src = f"""
    def f(g, d, m, s):
        bd = reduce_to(g * np.exp(d) * d, d)
        {line}
        bm = reduce_to(bd, m)
        return bm
    """
    assert "lazy_product" not in _contract(src)


def test_two_reductions_need_cheap_factors() -> None:
    src = """
    def f(g, d, m, s):
        bd = g * np.exp(d)
        bm = reduce_to(bd, m)
        bs = reduce_to(bd, s)
        return (bm, bs)
    """
    assert "lazy_product" not in _contract(src)
    assert "lazy_product" in _contract(src.replace("        bs = reduce_to(bd, s)\n", ""))


@pytest.mark.parametrize("shapes, like", [
    ([(4000, 16, 1), None, (4000, 16, 8)], (1, 16, 8)),
    ([(4000, 16, 1), None, (4000, 16, 8)], (16, 8)),
    ([(4000, 16, 1), None, (4000, 16, 8), (4000, 16, 8)], (16, 1)),
    ([(300, 200), (200,)], (200,)),
    ([(300, 200), (300, 1)], (300, 1)),
    ([(300, 200), (300, 1)], ()),
    ([(300, 200), (300, 200)], (300, 200)),       # nothing summed: made, in place
    ([(40, 16, 1), (40, 16, 8)], (1, 16, 1)),     # small: made as before
])
def test_reduce_product_is_reduce_to_of_the_product(shapes, like) -> None:
    r = np.random.default_rng(1)
    factors = [r.normal(size=s) if s is not None else 2.0 for s in shapes]
    made = factors[0]
    for f in factors[1:]:
        made = made * f
    target = np.zeros(like)
    x = R.lazy_product(None, *factors)
    large = made.size >= R._CONTRACT_ELEMENTS
    assert (type(x) is R._Product) == large
    got, want = R.reduce_product(x, target), R.reduce_to(made, target)
    assert got.shape == want.shape and got.dtype == want.dtype
    if like == made.shape or not large:
        assert np.array_equal(got, want)  # made in the same order: the same bits
    else:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    c = r.normal(size=made.shape[-1:])
    np.testing.assert_allclose(R.reduce_product(x, target, c), R.reduce_to(made * c, target),
                               rtol=1e-10, atol=1e-10)
    if like and len(like) == len(made.shape):
        s = r.uniform(1.0, 2.0, size=like)
        np.testing.assert_allclose(R.reduce_product_scaled(x, s, target),
                                   R.reduce_scaled(made, s, target), rtol=1e-10, atol=1e-10)


def test_a_product_not_of_its_likes_shape_or_of_mixed_dtypes_is_made() -> None:
    r = np.random.default_rng(2)
    a, b = r.normal(size=(300, 200)), r.normal(size=(300, 200))
    assert type(R.lazy_product(np.zeros(200), a, b)) is np.ndarray  # reduced: made
    assert type(R.lazy_product(None, a, b.astype(np.float32))) is np.ndarray
    assert type(R.lazy_product(None, a, [1.0] * 200)) is np.ndarray


def gmm_like(mu, log_s, X):
    diff = (X[:, None, :] - mu[None, :, :]) / np.exp(log_s)[None, :, :]
    return np.sum(np.log(np.sum(np.exp(-0.5 * np.sum(diff ** 2, axis=2)), axis=1)))


def test_gradient_at_a_size_that_contracts() -> None:
    r = np.random.default_rng(3)
    mu, log_s, X = r.normal(size=(8, 6)), r.normal(size=(8, 6)) * 0.1, r.normal(size=(800, 6))
    assert "lazy_product" in ast_ad.source(gmm_like, wrt=(0, 1), arrays=True)
    check_grad(gmm_like, (mu, log_s, X), wrt=(0, 1))
    grad = ast_ad.grad(gmm_like, wrt=(0, 1))
    small = tuple(a[:2] for a in (mu, log_s)) + (X[:5],)
    want = grad(*small)
    check_grad(gmm_like, small, wrt=(0, 1))
    assert all(np.array_equal(g, w) for g, w in zip(grad(*small), want))
