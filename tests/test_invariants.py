"""The invariants pass (``ast_ad/passes/invariants.py``): loop-invariant values read once,
reverse recomputations of them dropped, fixed adjoint items summed in locals. Golden
listings of what it does and does not do, and gradients against finite differences and
hand-derived formulas, including loops that run no iteration."""
from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ast_ad
from ast_ad.testing import numerical_grad

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.fixture
def rk(monkeypatch):
    """The integrator of docs/examples/ex_pipeline.py (``rate`` unpacks ``k, c = p``)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module("ex_pipeline")


def fd_list(f, args: tuple, position: int) -> list:
    """Finite differences of ``f`` with respect to each item of its list argument."""
    def on_array(*values):
        return f(*values[:position], list(values[position]), *values[position + 1:])
    values = (*args[:position], np.array(args[position], dtype=float), *args[position + 1:])
    return list(numerical_grad(on_array, values, wrt=position))


def close(got: list, want: list, tol: float = 1e-6) -> bool:
    return len(got) == len(want) and all(abs(g - w) <= tol * (1 + abs(w))
                                         for g, w in zip(got, want))


def test_golden_integrator(rk) -> None:
    assert ast_ad.source(rk.integrate, wrt=0) == textwrap.dedent("""\
        def grad_integrate(p, x, n):
            # tape: values the reverse sweep reads after they are overwritten
            _tape = []
            _push = _tape.append
            _pop = _tape.pop
            # forward sweep
            # the same in every iteration of the loop below: computed once, if it runs
            if 0 < n:
                unpacked(p, 2)
                k_1 = p[0]
                c_1 = p[1]
            for _ in range(n):
                _t3 = 0.1 * (c_1 - k_1 * x)
                _push(x)
                x = x + _t3
            # reverse sweep
            bx = seed_scalar(x, 'integrate')
            bp = zeros_like(p)
            # line 82: for _ in range(n):
            bp_0 = 0.0
            bp_1 = 0.0
            for _ in range(n):
                # line 83: x = x + 0.1 * rate(x, p)
                x = _pop()
                b_t1 = bx * 0.1
                b_t2 = -b_t1
                bk_1 = b_t2 * x
                bx += b_t2 * k_1
                bp_1 += b_t1
                bp_0 += bk_1
            if bp_0:
                bp[0] += bp_0
            if bp_1:
                bp[1] += bp_1
            return bp
        """)


@pytest.mark.parametrize("n", [0, 1, 7])
def test_integrator_gradients(rk, n: int) -> None:
    p, x = [0.7, 1.3], 0.4
    value, (gp, gx) = ast_ad.value_and_grad(rk.integrate, wrt=(0, 1))(p, x, n)
    assert value == rk.integrate(p, x, n)
    assert close(gp, fd_list(rk.integrate, (p, x, n), 0))
    # hand-derived: x_{t+1} = (1 - 0.1 k) x_t + 0.1 c, so dx_n/dx_0 = (1 - 0.1 k) ** n
    assert gx == pytest.approx((1 - 0.1 * p[0]) ** n, rel=1e-12)


def test_loop_that_never_runs_reads_nothing(rk) -> None:
    """With no iteration, a too short list is never indexed: no error, zero gradient."""
    assert ast_ad.grad(rk.integrate, wrt=(0, 1))([], 2.0, 0) == ([], 1.0)


@pytest.mark.parametrize("p, message", [([1.0, 2.0, 3.0], "too many values to unpack"),
                                        ([1.0], "not enough values to unpack")])
def test_unpacking_keeps_pythons_check(rk, p: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rk.integrate(p, 1.0, 2)
    with pytest.raises(ValueError, match=message):
        ast_ad.grad(rk.integrate)(p, 1.0, 2)


def test_changed_argument_is_not_hoisted(make_module) -> None:
    """``r[0]`` changes in the loop: it is read in every iteration, forward and reverse."""
    m = make_module(textwrap.dedent("""
        def f(x, q, n):
            r = list(q)
            for _ in range(n):
                a = r[0]
                x = x * a
                r[0] = r[0] + 1.0
            return x
        """))
    src = ast_ad.source(m.f)
    assert "computed once" not in src
    g = ast_ad.grad(m.f)(1.5, [2.0], 3)
    assert g == pytest.approx(2.0 * 3.0 * 4.0, rel=1e-15)


def test_outer_loop_index_is_not_invariant(make_module) -> None:
    m = make_module(textwrap.dedent("""
        def f(p, x):
            s = 0.0
            for j in range(2):
                for i in range(3):
                    a = p[j]
                    s = s + a * x * i
            return s
        """))
    p, x = [0.5, -1.5], 0.75
    gp, gx = ast_ad.grad(m.f, wrt=(0, 1))(p, x)
    assert close(gp, [3.0 * x, 3.0 * x])
    assert gx == pytest.approx(3.0 * (p[0] + p[1]), rel=1e-15)


def test_list_read_in_the_loop_keeps_its_items(make_module) -> None:
    """``bp`` is read inside the loop (``bp[j]`` with a varying index): no local sums."""
    m = make_module(textwrap.dedent("""
        def f(p, n):
            s = 0.0
            for i in range(n):
                s = s + p[0] * p[i % 2]
            return s
        """))
    src = ast_ad.source(m.f)
    assert "bp_0" not in src
    p = [0.3, -0.8]
    assert close(ast_ad.grad(m.f)(p, 5), fd_list(m.f, (p, 5), 0))


def test_while_loop_is_left_alone(make_module) -> None:
    m = make_module(textwrap.dedent("""
        def f(p, x):
            k = 0
            while k < 3:
                a = p[0]
                x = x * a
                k = k + 1
            return x
        """))
    src = ast_ad.source(m.f)
    assert "computed once" not in src
    assert ast_ad.grad(m.f, wrt=(0, 1))([1.5], 2.0) == (
        pytest.approx([3 * 1.5 ** 2 * 2.0]), pytest.approx(1.5 ** 3))


def test_reversed_range_loop(make_module) -> None:
    m = make_module(textwrap.dedent("""
        def f(p, xs):
            s = 0.0
            for i in range(len(xs) - 1, -1, -1):
                w = p[0] * p[1]
                s = s * 0.5 + w * xs[i]
            return s
        """))
    p, xs = [0.4, 1.7], [1.0, -2.0, 0.5]
    assert close(ast_ad.grad(m.f)(p, xs), fd_list(m.f, (p, xs), 0))


def test_repeated_invariants_are_computed_once(rk) -> None:
    """Heun's step (docs/examples/ex_pipeline.py) calls ``rate`` three times, inlined: it
    unpacks ``p`` three times, once is enough, and the readers, forward and reverse, read
    the one kept."""
    m = rk
    src = ast_ad.source(m.heun, wrt=(0, 1))
    assert src.count("unpacked(p, 2)") == 1 and src.count("= p[0]") == 1
    p, x = [0.7, 1.3], 0.4
    for n in (0, 1, 5):
        gp, gx = ast_ad.grad(m.heun, wrt=(0, 1))(p, x, n)
        assert close(gp, fd_list(m.heun, (p, x, n), 0))
        assert gx == pytest.approx(numerical_grad(lambda v, n=n: m.heun(p, v, n), (x,)),
                                   rel=1e-7)
