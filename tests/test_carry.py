"""The carry pass (``ast_ad/passes/carry.py``): an adjoint item that the next iteration
updates again waits in a local. Golden listing, the loops it must leave alone, and
gradients against finite differences and hand-derived formulas (each list item, also for
loops that run once or not at all)."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
from test_items import ROSENBROCK

import ast_ad
from ast_ad.testing import numerical_grad

ROSEN = ROSENBROCK  # tests/test_items.py's
FROM_ONE = """
def from_one(x, n):
    s = 0.0
    for i in range(1, n):
        s += x[i] * x[i + 1]
    return s
"""
SIGNS = """
def signs(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 3.0 * x[i] - 2.0 * x[i + 1] ** 2
    return s
"""
# left alone: another item of x is read too; x's adjoint gets a share before the loop;
# the loop may stop early
THIRD = """
def third(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += x[i] * x[i + 1] + x[0]
    return s
"""
BEFORE = """
def before(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += (x[i + 1] - x[i]) ** 2
    return s + x[1] * 3.0
"""
EARLY = """
def early(x):
    s = 0.0
    for i in range(len(x) - 1):
        if x[i] > 1.5:
            break
        s += (x[i + 1] - x[i]) ** 2
    return s
"""


def grads(make_module, text: str, args: tuple):
    m = make_module(textwrap.dedent(text))
    f = next(v for k, v in vars(m).items() if callable(v) and not k.startswith("_")
             and k != "math")
    value, g = ast_ad.value_and_grad(f)(*args)
    assert value == f(*args)
    fd = numerical_grad(lambda v: f([float(e) for e in v], *args[1:]),
                        (np.array(args[0], dtype=float),)) if args[0] else []
    return f, g, fd


def test_golden_rosenbrock(make_module) -> None:
    m = make_module(textwrap.dedent(ROSEN))
    src = ast_ad.source(m.rosen)
    assert textwrap.indent(textwrap.dedent("""\
        bx = zeros_like(x)
        # the next item of bx waits in _c1 until its iteration
        _c1 = 0.0
        # loop and adjoint in one (the terms of the loop are independent)
        for i in range(_t2):
        """), "    ") in src
    assert textwrap.indent(textwrap.dedent("""\
            bx[i] = _c1 - (2.0 * _t11 + b_t7 * (2.0 * _t5))
            _c1 = b_t7
        if 0 < _t2:
            bx[_t2] = _c1
        """), "    ") in src


@pytest.mark.parametrize("x", [[0.3, -1.1, 0.8, 1.7, -0.4], [0.3, -1.1], [0.3], []])
def test_rosenbrock_gradient(make_module, x: list) -> None:
    _, g, fd = grads(make_module, ROSEN, (x,))
    want = [0.0] * len(x)  # hand-derived
    for i in range(len(x) - 1):
        t = x[i + 1] - x[i] ** 2
        want[i] += -400.0 * t * x[i] - 2.0 * (1.0 - x[i])
        want[i + 1] += 200.0 * t
    assert g == pytest.approx(want, rel=1e-12, abs=1e-12)
    assert g == pytest.approx(list(fd), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_loop_from_one_and_given_stop(make_module, n: int) -> None:
    """(The update of item i + 1 comes first here: it is moved after that of item i.)"""
    x = [0.3, -1.1, 0.8, 1.7, -0.4]
    f, g, fd = grads(make_module, FROM_ONE, (x, n))
    assert "bx[i] = _c1 + b_t1\n        _c1 = bs * _t1\n    if 1 < n:\n        bx[n] = _c1" \
        in ast_ad.source(f)
    assert g == pytest.approx(list(fd), rel=1e-6, abs=1e-9)


def test_added_first_subtracted_second(make_module) -> None:
    x = [0.3, -1.1, 0.8, 1.7]
    f, g, fd = grads(make_module, SIGNS, (x,))
    src = ast_ad.source(f)
    assert "_c1" in src
    assert g == pytest.approx(list(fd), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("text", [THIRD, BEFORE, EARLY])
def test_left_alone(make_module, text: str) -> None:
    x = [0.3, -1.1, 0.8, 1.7, -0.4]
    f, g, fd = grads(make_module, text, (x,))
    assert "_c1" not in ast_ad.source(f)
    assert g == pytest.approx(list(fd), rel=1e-6, abs=1e-9)
