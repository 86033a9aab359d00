"""The release pass: which forward values become shape-only stand-ins, where, and that
gradients through released values are exact."""
from __future__ import annotations

import textwrap
import tracemalloc

import numpy as np

import ast_ad
from ast_ad.npruntime import reduce_to, shape_only, sum_vjp, unbroadcast
from ast_ad.passes.release import release
from ast_ad.source import comment, to_source
from ast_ad.templates import parse_generated

BEFORE = """
def f(x, g):
    _t1 = x * 2.0
    _t2 = np.sin(_t1)
    _t3 = np.cos(_t1)
    _t4 = _t2 + _t3
    _t5 = _t4 * 1.0
    _t5 = _t5 + 1.0
    for i in range(3):
        _t6 = _t4 + i
    def h():
        return _t3
    _t7 = np.sum(_t6)
    b = reduce_to(g, _t2) + unbroadcast(g, _t3) + sum_vjp(g, _t4) + reduce_to(g, _t5)
    b = b + reduce_to(g, x) + _t6 + reduce_to(g, _t7) + reduce_to(_t7, _t1) * _t1
    return b
"""

AFTER = """
def f(x, g):
    _t1 = x * 2.0
    _t2 = np.sin(_t1)
    _t3 = np.cos(_t1)
    _t4 = _t2 + _t3
    _t2 = shape_only(_t2)
    _t5 = _t4 * 1.0
    _t5 = _t5 + 1.0
    for i in range(3):
        _t6 = _t4 + i
    _t4 = shape_only(_t4)

    def h():
        return _t3
    _t7 = np.sum(_t6)
    # reverse sweep
    b = reduce_to(g, _t2) + unbroadcast(g, _t3) + sum_vjp(g, _t4) + reduce_to(g, _t5)
    b = b + reduce_to(g, x) + _t6 + reduce_to(g, _t7) + reduce_to(_t7, _t1) * _t1
    return b
"""


def test_golden() -> None:
    """Released: _t2, _t4 (after the loop that reads it). Kept: _t1 and _t7 (read as values),
    _t3 (a nested function names it), _t5 (assigned twice), _t6 (assigned in a loop), x (a
    parameter)."""
    func = parse_generated(textwrap.dedent(BEFORE), {"reduce_to", "unbroadcast", "sum_vjp"})
    func.body.insert(next(i for i, s in enumerate(func.body)
                          if getattr(s, "targets", [None])[0] is not None
                          and s.targets[0].id == "b"), comment("reverse sweep"))
    assert to_source(release(func)) == textwrap.dedent(AFTER).lstrip()


def test_stand_in() -> None:
    big = np.ones((300, 300), dtype=np.float32)
    stand_in = shape_only(big)
    assert type(stand_in) is np.ndarray and stand_in.shape == big.shape
    assert stand_in.dtype == np.float32 and stand_in.strides == (0, 0)
    assert not stand_in.flags.writeable
    small, number = np.ones(10), 3.0
    assert shape_only(small) is small and shape_only(number) is number
    g = np.full((300, 300), 2.0, dtype=np.float32)
    for helper in (reduce_to, unbroadcast):
        assert np.array_equal(helper(g, stand_in), helper(g, big))
    assert np.array_equal(sum_vjp(np.float32(2.0), stand_in), sum_vjp(np.float32(2.0), big))


def _energy(x, w):
    h = np.tanh(x @ w + 1.0)
    return np.sum(h ** 2) + np.mean(np.exp(x) * 0.5)


def test_released_gradient_is_exact_and_smaller() -> None:
    """A large case (the stand-ins are used): the gradient equals the formula, and the
    call allocates less than the same adjoint without the release pass would."""
    r = np.random.default_rng(0)
    x, w = r.normal(size=(400, 60)), r.normal(scale=0.1, size=(60, 80))
    source = ast_ad.source(_energy, wrt=(0, 1))
    assert source.count("shape_only(") >= 3
    gx, gw = ast_ad.grad(_energy, wrt=(0, 1))(x, w)
    h = np.tanh(x @ w + 1.0)
    ga = 2 * h * (1 - h ** 2)
    np.testing.assert_allclose(gx, ga @ w.T + 0.5 * np.exp(x) / x.size, rtol=1e-12)
    np.testing.assert_allclose(gw, x.T @ ga, rtol=1e-12)

    vg = ast_ad.value_and_grad(_energy, wrt=(0, 1))
    vg(x, w)
    tracemalloc.start()
    vg(x, w)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    kept = "\n".join(line for line in source.splitlines() if "shape_only(" not in line)
    namespace: dict = {}
    from ast_ad import pipeline
    exec(kept.replace("grad__energy", "unreleased"),  # noqa: S102
         {**pipeline.HELPERS, **pipeline.BUILTIN_HELPERS}, namespace)
    tracemalloc.start()
    namespace["unreleased"](x, w)
    unreleased_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < unreleased_peak - 3 * x.nbytes // 2
