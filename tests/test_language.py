"""The Python people write (issue: control flow, calls, closures, containers, custom rules).

Each case: value_and_grad's value equals f's, and every gradient matches central finite
differences (inputs chosen away from kinks).
"""
from __future__ import annotations

import math

import language_cases as C
import pytest
from language_cases import sq as imported_sq

import ast_ad
from ast_ad.testing import check_grad, check_rule

CASES = [
    (C.f1, (1.0, 2.0), (0, 1)), (C.f1, (2.0, 1.0), (0, 1)), (C.f2, (0.7, 5), 0),
    (C.f3, (0.5,), 0), (C.f4, (0.3, 0.9), (0, 1)), (C.f5, (0.5, 2.0), (0, 1)),
    (C.f6, (0.3, 5), 0), (C.f7, (1.3,), 0), (C.f8, (1.1, 0.5), (0, 1)),
    # break, continue, early return, loop else
    (C.g1, (0.7, 10), 0), (C.g1, (0.1, 4), 0), (C.g2, (0.7, 6), 0),
    (C.g3, (2.0,), 0), (C.g3, (0.5,), 0), (C.g3, (0.9,), 0), (C.g3, (0.1,), 0),
    (C.g4, (1.0, 3), 0), (C.g4, (0.01, 3), 0), (C.g4, (1.0, 0), 0),
    (C.g5, (0.5,), 0), (C.g5, (3.5,), 0), (C.g6, (1.0, 5), 0), (C.g6, (30.0, 5), 0),
    # the user's own functions: keywords, defaults, recursion, mutual recursion
    (C.h1, (0.3, 0.7), (0, 1)), (C.fact, (0.9, 3), 0), (C.h2, (0.6,), 0),
    # containers
    (C.c1, (0.3, 0.7), (0, 1)), (C.c2, (0.9, 4), 0), (C.c3, (0.6, 1.3), (0, 1)),
    (C.c4, (0.6, 1.3), (0, 1)), (C.c5, (0.4,), 0), (C.c7, (0.4, 1.2), (0, 1)),
    # local functions, lambdas, closures, higher-order functions
    (C.n1, (0.4, 1.2), (0, 1)),
]


@pytest.mark.parametrize("fn, args, wrt", CASES,
                         ids=[f"{c[0].__name__}{c[1]}" for c in CASES])
def test_gradient(fn, args, wrt) -> None:
    value, _ = ast_ad.value_and_grad(fn, wrt=wrt)(*args)
    assert value == fn(*args)
    check_grad(fn, args, wrt=wrt, rtol=1e-5, atol=1e-7)


def test_list_argument_gradient_is_a_list() -> None:
    xs = [0.5, 1.2, -0.3, 0.8]
    g = ast_ad.grad(C.c6)(xs)
    assert isinstance(g, list) and len(g) == 4
    h = 1e-6
    for k in range(4):
        up, down = list(xs), list(xs)
        up[k] += h
        down[k] -= h
        assert g[k] == pytest.approx((C.c6(up) - C.c6(down)) / (2 * h), rel=1e-6)


def test_closure_passed_to_an_inlined_helper_is_differentiated() -> None:
    # apply_twice is inlined, so inner is called directly and its reads of y come back
    check_grad(C.n2, (0.3, 0.5), wrt=(0, 1))


def test_closure_over_a_differentiated_variable_escaping_is_refused() -> None:
    with pytest.raises(ast_ad.TransformError, match="local function 'inner' reads 'y'") as info:
        ast_ad.grad(C.n3, wrt=1)(0.3, 0.5)
    assert info.value.lineno == C.n3.__code__.co_firstlineno + 3


def test_helper_is_transformed_once() -> None:
    from ast_ad import pipeline
    ast_ad.grad(C.h1)(0.3, 0.7)
    before = dict(pipeline._SPLITS)
    ast_ad.grad(C.h1, wrt=1)(0.3, 0.7)
    assert {k: id(v) for k, v in pipeline._SPLITS.items() if k in before} == \
        {k: id(v) for k, v in before.items()}


# ---------------------------------------------------------------------- custom rules

def softplus(x):
    return math.log1p(math.exp(x))


def uses_softplus(x):
    return softplus(x * 2.0) * x


def opaque_step(x):
    return 1.0 if x > 0 else 0.0


def uses_step(x):
    return opaque_step(x) * x + ast_ad.stop_gradient(x * x)


def test_registered_rule_is_inlined_and_checked() -> None:
    ast_ad.register_rule(softplus, "x", x="1.0 / (1.0 + math.exp(-x))")
    check_rule(softplus, 0.3)
    assert "math.exp(-" in ast_ad.source(ast_ad.grad(uses_softplus))
    check_grad(uses_softplus, (0.4,))


def test_check_rule_catches_a_wrong_rule() -> None:
    def bad(x):
        return x * x
    ast_ad.register_rule(bad, "x", x="x")
    with pytest.raises(AssertionError, match="parameter 'x'"):
        check_rule(bad, 0.7)


def test_nondiff_and_stop_gradient() -> None:
    ast_ad.register_nondiff(opaque_step)
    assert ast_ad.grad(uses_step)(0.5) == 1.0  # d(step(x) * x) = step(x); stop_gradient: 0


# ---------------------------------------------------------------------- tape report

def test_tape_report_counts_what_is_recorded() -> None:
    assert ast_ad.tape_report(C.f1, 1.0, 2.0).count == 0   # straight-line: no tape
    # Rosenbrock over a list: its temporaries are recomputed in the reverse sweep, no tape
    assert ast_ad.tape_report(C.c6, [0.5, 1.2, -0.3, 0.8]).count == 0
    report = ast_ad.tape_report(C.f3, 0.5)  # x = math.sin(x) * x, four times: x is kept
    assert report.count == 4 and report.bytes > 0  # x of each of 4 steps; sin(x) is
    # computed again from the restored x where the reverse sweep needs it
    assert "x" in str(report)


# ---------------------------------------------------------------------- aliasing

@pytest.mark.parametrize("name, since, change", [
    ("alias_list", "b = a", "b[0] = x * x * x"),
    ("alias_row", "row = grid[0]", "row[1] = x * 5.0"),
    ("alias_array", "v = a[0:2]", "v[0] = 10.0 * x[0]"),
    ("inplace_param_array", "def inplace_param_array", "y += 1.0")])
def test_changing_a_shared_container_is_refused(name: str, since: str, change: str) -> None:
    import inspect

    import alias_cases
    import numpy as np
    fn = getattr(alias_cases, name)
    arg = np.array([0.3, 0.5, 0.9]) if "array" in name else 0.7
    with pytest.raises(ast_ad.TransformError, match="changed in place but may share") as info:
        ast_ad.grad(fn)(arg)
    err = info.value
    assert since in err.message
    lines, first = inspect.getsourcelines(fn)
    line = next(k for k, text in enumerate(lines) if text.strip() == change)
    assert (err.filename, err.lineno, err.col) == (inspect.getsourcefile(fn), first + line,
                                                   lines[line].index(change))


def test_rebinding_after_sharing_is_fine() -> None:
    import numpy as np
    import numpy_workloads
    x = np.array([0.1, 0.5, -0.2, 0.7, 0.3])
    g = ast_ad.grad(numpy_workloads.stencil)(x, 2)
    num = [(numpy_workloads.stencil(x + h, 2) - numpy_workloads.stencil(x - h, 2)) / 2e-6
           for h in np.eye(5) * 1e-6]
    np.testing.assert_allclose(g, num, rtol=1e-6)


def test_item_updates_in_loops_are_restored() -> None:
    check_grad(C.c8, (0.3, 3), wrt=0, rtol=1e-5, atol=1e-7)
    assert ast_ad.tape_report(C.c8, 0.3, 3).count > 0  # old items are kept, then put back


def test_statements_without_effect_run_once(capsys, caplog) -> None:
    value, g = ast_ad.value_and_grad(C.noisy)(1.5)
    assert (value, g) == (C.noisy(1.5), 6.0)
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["value 3.0", "value 3.0"]  # once by ast_ad, once by the direct call
    assert [r.getMessage() for r in caplog.records] == ["x=1.5", "x=1.5"]


def helper_from_another_module(x):
    return imported_sq(x, scale=2.0) + imported_sq(x)


def test_functions_imported_from_other_modules() -> None:
    check_grad(helper_from_another_module, (0.7,))


# ---------------------------------------------------------------------- combinations

def test_inlined_helpers_with_early_returns_lists_and_loops() -> None:
    import mix_cases
    for args in [(0.3, 0.2), (0.9, -0.4), (-0.6, 0.5)]:
        check_grad(mix_cases.mix1, args, wrt=(0, 1), rtol=1e-5, atol=1e-7)
        value, _ = ast_ad.value_and_grad(mix_cases.mix1, wrt=(0, 1))(*args)
        assert value == mix_cases.mix1(*args)


def test_loop_variable_read_after_the_loop() -> None:
    import mix_cases
    xs, w = [0.3, -0.5, 0.8], 0.7
    gxs, gw = ast_ad.grad(mix_cases.mix2, wrt=(0, 1))(xs, w)
    assert gxs == pytest.approx([0.294, -0.49, 1.484]) and gw == pytest.approx(2.172)
