"""Unit tests of small run-time and printing pieces whose fast paths matter."""
from __future__ import annotations

import gast
import numpy as np
import pytest

from ast_ad.npruntime import extremum_vjp, mean_vjp, reduce_to, sum_vjp, unbroadcast
from ast_ad.pipeline import has_arrays
from ast_ad.runtime import add_at, numbers_only, seed_scalar, zeros_like
from ast_ad.source import to_source


@pytest.mark.parametrize("text", [
    "a, b = t\n",
    "for i, x in pairs:\n    pass\n",
    "(a, b) == t\n",          # a comparison, not a target: kept as written
    "(a, b) in xs\n",         # a membership test, not a loop: kept
    "x = (a, b)\n",
])
def test_tuple_targets_print_without_parentheses(text: str) -> None:
    assert to_source(gast.parse(text)) == text


def test_unbroadcast_copies_and_reduce_to_does_not() -> None:
    g = np.ones((2, 3))
    like = np.zeros((2, 3))
    copied = unbroadcast(g, like)
    assert copied is not g and np.array_equal(copied, g)
    assert reduce_to(g, like) is g


@pytest.mark.parametrize("reduce", [unbroadcast, reduce_to])
def test_broadcast_adjoint_is_summed_and_typed_like_its_variable(reduce) -> None:
    g = np.arange(6.0).reshape(2, 3)
    row = np.zeros(3, dtype=np.float32)
    out = reduce(g, row)
    assert out.dtype == np.float32 and out.shape == (3,)
    np.testing.assert_array_equal(out, [3.0, 5.0, 7.0])
    assert reduce(g, 0.5) == 15.0 and type(reduce(g, 0.5)) is float
    col = reduce(g, np.zeros((2, 1)))
    np.testing.assert_array_equal(col, [[3.0], [12.0]])


def test_float32_gradient_of_float32_input_stays_float32() -> None:
    g = np.ones(3, dtype=np.float64)
    assert unbroadcast(g, np.zeros(3, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("args, expected", [
    ((1.0, 2, True), False),
    ((np.ones(2),), True),
    ((np.float64(1.0),), True),
    (([1.0, 2.0],), False),
    (([np.ones(2), np.ones(2)],), True),
    (((1.0, np.ones(2)),), True),
    (([1.0, np.ones(2), 3.0],), True),            # an array between numbers
    (([[1.0], [2.0, np.ones(2)]],), True),        # nested
    (({"a": np.ones(2), "b": 1.0},), True),       # a dict's values
    (({"a": [1.0, 2.0]},), False),
    (([],), False),
])
def test_has_arrays(args: tuple, expected: bool) -> None:
    assert has_arrays(args) is expected


class _FloatSub(float):
    pass


@pytest.mark.parametrize("items, expected", [
    ([1.0, 2, True, _FloatSub(3.0)], True),
    ([], True),
    ((1.0, 2.0), True),
    ([1.0, np.float64(2.0)], False),        # a NumPy number
    ([1.0, np.array(2.0)], False),          # a 0-d array
    ([1.0, np.ones(1)], False),             # a size-1 array
    ([np.ones(0), 1.0], False),             # an empty array
    ([1.0, [2.0]], False),                  # nested
    ([1.0, None], False),
    (["a"], False),
    ([10 ** 400], False),                   # too large for a float
    ([1.0, 1j], False),
])
def test_numbers_only(items, expected: bool) -> None:
    assert numbers_only(items) is expected


def test_zeros_like_of_numbers_and_of_an_array_among_them() -> None:
    assert zeros_like([1.0, 2, True]) == [0.0, 0.0, 0.0]
    mixed = zeros_like([1.0, np.ones(2)])
    assert mixed[0] == 0.0 and np.array_equal(mixed[1], np.zeros(2))


@pytest.mark.parametrize("path", [(0,), (slice(1, 3),), ((slice(None), 0),), ((None, 1),),
                                  ((Ellipsis, 2),), (np.array([1, 1, 2]),), ([0, 0],),
                                  ((np.array([0, 0]), slice(None)),)])
def test_add_at_basic_and_fancy_indices(path: tuple) -> None:
    """Basic indices (no element twice) take a plain ``+=``; fancy ones ``np.add.at``: the
    same sums either way, repeated elements counted each time."""
    primal = np.zeros((3, 4))
    g = np.ones_like(primal[path[-1]]) * 2.0
    expected = np.zeros((3, 4))
    np.add.at(expected, path[-1], g)
    assert np.array_equal(add_at(None, primal, path, g), expected)
    start = np.full((3, 4), 0.5)
    assert add_at(start, primal, path, g) is start
    assert np.array_equal(start, expected + 0.5)


@pytest.mark.parametrize("value,kind", [(2.0, float), (np.float64(2.0), np.float64),
                                        (np.float32(2.0), np.float32), (np.array(2.0), np.ndarray)])
def test_seed_has_the_result_type(value, kind) -> None:
    seed = seed_scalar(value, "f")
    assert type(seed) is kind and seed == 1.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), ((0, 2), True), (-1, False)])
def test_sum_and_mean_adjoints(dtype, axis, keepdims) -> None:
    a = np.arange(24.0).reshape(2, 3, 4).astype(dtype)
    g = np.sum(a, axis=axis, keepdims=keepdims) * 0 + dtype(1.5)
    s, m = sum_vjp(g, a, axis, keepdims), mean_vjp(g, a, axis, keepdims)
    count = a.size // np.size(g)
    assert s.dtype == m.dtype == dtype and s.shape == m.shape == a.shape
    assert np.all(s == 1.5) and np.allclose(m, 1.5 / count)
    assert not np.shares_memory(s, g)


def test_extremum_adjoint_ties_and_nan() -> None:
    a = np.array([[1.0, 3.0, 3.0], [np.nan, 1.0, 2.0]])
    got = extremum_vjp(np.ones(2), a, np.max(a, axis=1), 1)
    assert np.array_equal(got[0], [0.0, 0.5, 0.5]) and np.isnan(got[1]).all()


@pytest.mark.parametrize("index,g_shape", [((None, slice(None), slice(None)), (1, 3, 4)),
                                           ((slice(None), None, slice(None)), (3, 1, 4)),
                                           ((None, slice(None), slice(None)), (1, 1, 4))])
def test_add_at_new_axes_reads(index, g_shape) -> None:
    """``x[None, :, :]`` read: the adjoint is ``g`` without the new axis, a new array (and a
    broadcast ``g`` is summed as before)."""
    x = np.zeros((3, 4))
    g = np.arange(np.prod(g_shape), dtype=float).reshape(g_shape)
    expected = np.zeros((3, 4))
    expected[index] += g
    got = add_at(None, x, (index,), g)
    assert np.array_equal(got, expected) and not np.shares_memory(got, g)


@pytest.mark.parametrize("value", [2.5, np.float64(2.5), np.array([1.0, 1.5])])
@pytest.mark.parametrize("like", [1.0, np.float64(1.0)])
@pytest.mark.parametrize("reduce", [unbroadcast, reduce_to])
def test_adjoint_of_a_number_has_its_type(value, like, reduce) -> None:
    """A number's adjoint is a number of the same type; a broadcast one is summed."""
    got = reduce(value, like)
    assert type(got) is type(like) and got == np.sum(value)


def _square_or_fail(x):
    if x > 1.0:
        raise ValueError("too big")
    return x * x


def test_transformation_leaves_the_garbage_collector_as_it_was() -> None:
    """Transforming pauses the collector and restores its state, also after an error."""
    import gc

    import ast_ad
    from ast_ad.pipeline import transform

    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            transform(_square_or_fail, 0, "grad")
            assert gc.isenabled() is enabled
            with pytest.raises(ast_ad.TransformError):
                transform(print, 0, "grad")
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


def test_add_at_into_zero_at_a_basic_index_stores_a_new_array() -> None:
    primal, g = np.ones((4, 1)), np.arange(4.0)
    out = add_at(0.0, primal, ((slice(None), 0),), g)
    np.testing.assert_array_equal(out, g[:, None])
    assert out is not g and out.dtype == np.float64
    acc = np.ones((4, 1))
    assert add_at(acc, primal, ((slice(None), 0),), g) is acc   # into an adjoint: summed
    np.testing.assert_array_equal(acc[:, 0], 1.0 + g)
    np.testing.assert_array_equal(add_at(0.0, np.ones(3), ([0, 0, 2],), np.ones(3)),
                                  [2.0, 0.0, 1.0])             # repeated indices: summed


def test_adding_a_list_to_zero_copies_it() -> None:
    from ast_ad.runtime import add
    xs = [1.0, 2.0]
    out = add(0.0, xs)
    assert out == xs and out is not xs
    nested = [[1.0], np.ones(2)]
    copy = add(0.0, nested)
    assert copy[0] is not nested[0] and copy[1] is not nested[1]


def test_adding_a_float_array_to_a_zero_start_is_the_plain_sum() -> None:
    """``add(0.0, g)`` of a float array is ``0.0 + g``: a new array (so that the caller may
    add into it), of g's dtype, with a -0.0 in g made 0.0 (the specialised form of a loop's
    ``add(bh, g)``, ``bh + g``, is then right at the first step too); a 0-d array and an
    integer array are copied as they are."""
    from ast_ad.runtime import add
    for g in (np.array([-0.0, 1.5, -2.0]), np.array([[-0.0, 1.0]], dtype=np.float32)):
        out = add(0.0, g)
        assert out is not g and out.dtype == g.dtype and np.array_equal(out, g)
        assert not np.signbit(out.flat[0]) and np.signbit(g.flat[0])
    for g in (np.array(-0.0), np.array([1, 2])):
        out = add(0.0, g)
        assert type(out) is np.ndarray and out.dtype == g.dtype and out is not g
        assert np.array_equal(out, g) and np.signbit(out.flat[0]) == np.signbit(g.flat[0])


def test_like_passes_a_fitting_adjoint_through() -> None:
    from ast_ad.runtime import like
    g = np.ones(3)
    assert like(g, np.zeros(3)) is g and like(2.5, 1.0) == 2.5
    assert like(g, np.zeros(3, dtype=np.float32)).dtype == np.float32
    assert like(g, np.zeros(3, dtype=int)).dtype == np.float64


def test_reduce_to_a_numpy_number_is_the_total() -> None:
    out = reduce_to(np.full((2, 3), 0.5), np.float64(1.0))
    assert type(out) is np.float64 and out == 3.0


def test_fast_paths_agree_with_the_general_ones() -> None:
    """The quick paths of matmul_vjp_*, sum_vjp, mean_vjp and reduce_to give what the
    general code gives, and leave to it what they do not cover."""
    from ast_ad import npruntime as R
    rng = np.random.default_rng(0)
    a, b, g = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=(3, 5))
    np.testing.assert_array_equal(R.matmul_vjp_a(g, a, b), R._matmul_grad(g, a, b, 0))
    np.testing.assert_array_equal(R.matmul_vjp_b(g, a, b), R._matmul_grad(g, a, b, 1))
    v, gv = rng.normal(size=4), rng.normal(size=3)
    np.testing.assert_array_equal(R.matmul_vjp_b(gv, a, v), a.T @ gv)
    with pytest.raises(ValueError):  # an adjoint of the wrong shape is not taken as it is
        R.matmul_vjp_a(g[:1], a, b)
    x = rng.normal(size=(3, 4))
    for axis in (0, 1, -1):
        want = np.broadcast_to(np.expand_dims(x.sum(axis), axis), x.shape)
        np.testing.assert_array_equal(R.sum_vjp(x.sum(axis), x, axis, False), want)
    assert np.all(R.mean_vjp(1.0, x, None, False) == 1.0 / 12)
    assert np.all(R.mean_vjp(np.float64(2.0), x, None, False) == 2.0 / 12)
    np.testing.assert_array_equal(reduce_to(np.ones((2, 3, 4)), x), np.full((3, 4), 2.0))
    np.testing.assert_array_equal(reduce_to(np.ones((2, 3, 4)), np.ones((3, 1))),
                                  np.full((3, 1), 8.0))
    for g in (2.0, np.float64(2.0), np.array(2.0)):  # a total's adjoint, broadcast by arithmetic
        for y in (x, x.astype(np.float32)):
            got, want = R.sum_expand(g, y, None, False) * y, R.sum_vjp(g, y, None, False) * y
            assert got.dtype == want.dtype == y.dtype
            np.testing.assert_array_equal(got, want)


def test_guard_check_agrees_with_guards_hold():
    """The compiled guard check answers as the loop does: a module name rebound or deleted,
    a builtin shadowed by a module name or replaced, a name with quotes in it."""
    import builtins

    from ast_ad.pipeline import guard_check, guards_hold
    a, b = object(), object()
    namespace = {"helper": a, "it's": b}
    guards = [(namespace, "helper", a), (namespace, "len", len), (namespace, "it's", b)]
    changes = [lambda: None, lambda: namespace.update(helper=b),
               lambda: namespace.pop("helper"), lambda: namespace.update(len=abs),
               lambda: namespace.update({"it's": a})]
    for change in changes:
        namespace.clear()
        namespace.update({"helper": a, "it's": b})
        change()
        assert guard_check(guards)() is guards_hold(guards)
    assert guard_check([])() is True
    saved = builtins.len
    try:
        builtins.len = abs
        assert guard_check(guards[1:2])() is guards_hold(guards[1:2]) is False
    finally:
        builtins.len = saved
    assert guard_check(guards[1:2])() is True
