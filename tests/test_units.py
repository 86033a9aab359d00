"""Unit tests of small run-time and printing pieces whose fast paths matter."""
from __future__ import annotations

import gast
import numpy as np
import pytest

from ast_ad.npruntime import reduce_to, unbroadcast
from ast_ad.pipeline import has_arrays
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
