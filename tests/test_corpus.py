"""Every corpus function: ast_ad's gradient against finite differences and against forward-mode
dual numbers, and value_and_grad's value against the function itself."""
from __future__ import annotations

import math

import corpus
import numpy as np
import pytest
from dual import dual_grad, dual_namespace, dual_value
from hypothesis import given, settings
from hypothesis import strategies as st

import ast_ad
from ast_ad.testing import check_grad, numerical_grad

DUAL = dual_namespace(corpus.__file__)

# (function name, check) -> reason: known ast_ad bugs, kept visible as strict xfails.
# check is "fd", "dual" or "value"; a reason applies to every input of that function.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _params(check: str) -> list:
    out = []
    for fn, inputs, wrt in corpus.CASES:
        for k, args in enumerate(inputs):
            reason = KNOWN_BUGS.get((fn.__name__, check))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(fn, args, wrt, id=f"{fn.__name__}-{k}", marks=marks))
    return out


def as_tuple(g: object, wrt: object) -> tuple:
    return tuple(g) if isinstance(wrt, tuple) else (g,)


def assert_close(got: tuple, want: tuple, rtol: float = 1e-12, atol: float = 1e-12,
                 what: str = "") -> None:
    assert len(got) == len(want), f"{what}: {len(got)} components, expected {len(want)}"
    for k, (a, b) in enumerate(zip(got, want)):
        assert isinstance(a, float | int), f"{what}[{k}]: not a number: {a!r}"
        assert abs(a - b) <= atol + rtol * max(abs(a), abs(b)), \
            f"{what}[{k}]: ast_ad {a!r} vs forward mode {b!r}"


def test_corpus_size() -> None:
    names = {fn.__name__ for fn, _, _ in corpus.CASES}
    assert len(names) >= 45
    assert sum(len(inputs) for _, inputs, _ in corpus.CASES) >= 90


@pytest.mark.parametrize("fn, args, wrt", _params("fd"))
def test_finite_differences(fn, args, wrt) -> None:
    check_grad(fn, args, wrt=wrt, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn, args, wrt", _params("dual"))
def test_forward_mode(fn, args, wrt) -> None:
    got = ast_ad.grad(fn, wrt=wrt)(*args)
    want = dual_grad(DUAL[fn.__name__], args, wrt)
    assert_close(as_tuple(got, wrt), as_tuple(want, wrt), what=f"{fn.__name__}{args}")


@pytest.mark.parametrize("fn, args, wrt", _params("value"))
def test_value_bit_identical(fn, args, wrt) -> None:
    expected = fn(*args)
    value, g = ast_ad.value_and_grad(fn, wrt=wrt)(*args)
    assert value == expected and type(value) is type(expected), (value, expected)
    assert as_tuple(g, wrt) == as_tuple(ast_ad.grad(fn, wrt=wrt)(*args), wrt)
    # the dual-number re-execution computes the same primal value, bit for bit
    assert dual_value(DUAL[fn.__name__], args) == expected


# ------------------------------------------------------------------ API shapes
def test_keyword_only_and_names() -> None:
    g = ast_ad.grad(corpus.keyword_only, wrt=("x", "y"))(1.5, y=-2.0)
    assert g == (-2.0, 2.5)
    assert ast_ad.grad(corpus.keyword_only, wrt="y")(1.5, y=-2.0) == 2.5


def test_defaults() -> None:
    assert ast_ad.grad(corpus.defaults)(1.3) == pytest.approx(2.0 * 1.3)
    assert ast_ad.grad(corpus.defaults, wrt="y")(1.3) == pytest.approx(1.3 ** 2 * math.log(1.3))


def test_wrt_one_element_tuple() -> None:
    g = ast_ad.grad(corpus.defaults, wrt=(0,))(1.3)
    assert isinstance(g, tuple) and g == (pytest.approx(2.0 * 1.3),)


def test_rebinding_a_called_global_retransforms(make_module) -> None:
    module = make_module("import math\n\nact = math.sin\n\n\n"
                         "def f(x):\n    return act(x) * 2.0\n")
    g = ast_ad.grad(module.f)
    assert g(0.5) == 2.0 * math.cos(0.5)
    module.act = math.cos
    assert g(0.5) == pytest.approx(-2.0 * math.sin(0.5), rel=1e-15)


def test_closure_constants(make_module) -> None:
    module = make_module("def make(c):\n    def inner(x):\n        return c * x * x\n"
                         "    return inner\n")
    assert ast_ad.grad(module.make(3.0))(0.5) == 3.0
    assert ast_ad.grad(module.make(-1.0))(0.5) == -1.0


def test_guarded_division_at_zero() -> None:
    # the untaken branches (1 / x, sqrt(x)) must not be evaluated by the reverse sweep either;
    # finite differences do not apply here (f jumps at 0), forward mode does
    assert ast_ad.grad(corpus.safe_div)(0.0) == dual_grad(DUAL["safe_div"], (0.0,)) == 2.0


def test_numerical_grad_shapes() -> None:
    assert numerical_grad(corpus.mul_both, (1.5, 2.0)) == pytest.approx(2 * 1.5 * 2.0)
    gx, gy = numerical_grad(corpus.mul_both, (1.5, 2.0), wrt=("x", 1))
    assert (gx, gy) == (pytest.approx(6.0), pytest.approx(2.25))


def test_check_grad_reports_disagreement() -> None:
    with pytest.raises(AssertionError, match=r"argument 0 \('x'\).*AD .* vs FD"):
        check_grad(corpus.mul_both, (1.5, 2.0), wrt=0, rtol=-1.0, atol=0.0)


def _weighted(w, x):
    return np.sum(np.tanh(w @ x) ** 2)


def test_check_grad_on_arrays() -> None:
    """Float arrays are checked element by element; a wrong element is named."""
    r = np.random.default_rng(0)
    w, x = r.normal(size=(2, 3)), r.normal(size=3)
    gw, gx = check_grad(_weighted, (w, x), wrt=(0, 1))
    assert gw.shape == (2, 3) and gx.shape == (3,)
    fw = numerical_grad(_weighted, (w, x), wrt=0)
    assert fw.shape == (2, 3) and np.allclose(fw, gw, rtol=1e-7)
    with pytest.raises(AssertionError, match=r"argument 1 \('x'\) element \(0,\): AD .* vs FD"):
        check_grad(_weighted, (w, x), wrt=1, rtol=-1.0, atol=0.0)
    with pytest.raises(TypeError, match="float or a float NumPy array"):
        numerical_grad(_weighted, (w, x.astype(int)), wrt=1)


# ------------------------------------------------------------------ property tests
PROPERTY = settings(max_examples=30, deadline=None, derandomize=True)


def agree(fn, args, wrt) -> None:
    got = ast_ad.value_and_grad(fn, wrt=wrt)(*args)
    assert got[0] == fn(*args)
    want = dual_grad(DUAL[fn.__name__], args, wrt)
    assert_close(as_tuple(got[1], wrt), as_tuple(want, wrt), rtol=1e-11, atol=1e-11,
                 what=f"{fn.__name__}{args}")


@PROPERTY
@given(st.floats(0.05, 0.95), st.floats(0.5, 3.9), st.integers(0, 8))
def test_property_logistic_map(x, r, n) -> None:
    agree(corpus.logistic_map, (x, r, n), (0, 1))


@PROPERTY
@given(*[st.floats(-3.0, 3.0).filter(lambda v: abs(v) > 1e-3)] * 3)
def test_property_branches(x, y, z) -> None:
    agree(corpus.bool_ops_conditions, (x, y, z), (0, 1, 2))
    agree(corpus.minmax_three, (x, y, z), (0, 1, 2))
    agree(corpus.if_elif_else, (x, y), (0, 1))
    agree(corpus.ternaries, (x, y), (0, 1))


@PROPERTY
@given(st.floats(0.1, 200.0), st.floats(0.1, 4.0))
def test_property_while_loops(x, y) -> None:
    agree(corpus.while_doubling, (x,), 0)
    agree(corpus.while_counter, (x,), 0)
    agree(corpus.nested_while, (x, y), (0, 1))
    agree(corpus.for_in_while, (x,), 0)
    g = ast_ad.grad(corpus.newton_sqrt)(x)
    assert g == pytest.approx(0.5 / math.sqrt(x), rel=1e-6)


@PROPERTY
@given(st.floats(-1.5, 1.5), st.floats(0.2, 2.0), st.integers(0, 6), st.integers(0, 4))
def test_property_nested_loops(x, y, n, k) -> None:
    agree(corpus.nested_for, (x, y, n), (0, 1))
    agree(corpus.nested_for_overwrite, (x, n, k), 0)
    agree(corpus.triple_nested, (x, k), 0)
    agree(corpus.for_variable_negative_step, (x, n + k, k - n, k + 1), 0)


@PROPERTY
@given(st.floats(-20.0, 20.0).filter(lambda v: abs(v) > 1e-3),
       st.floats(0.3, 9.0))
def test_property_mod_floordiv(x, y) -> None:
    agree(corpus.mod_negative, (x, y), (0, 1))
    agree(corpus.floordiv_path, (x, y), (0, 1))
