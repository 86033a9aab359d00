"""A numerical sweep over the whole rule table: every rule against finite differences and
against forward-mode dual numbers; every non-differentiable primitive contributes zero.

A rule added to the table without sample points here makes ``test_every_rule_has_samples``
fail: add its domain-appropriate points to ``SAMPLES``.
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest
from dual import DIFFERENTIABLE, dual_grad, dual_namespace

import ast_ad
from ast_ad import rules
from ast_ad.testing import check_grad

# rule key -> argument tuples (floats are differentiated, ints are not). Several arities
# of one key (math.log, variadic math.hypot) share an entry.
SAMPLES: dict[str, list[tuple]] = {
    # operators
    "operator.add": [(1.3, -0.7)],
    "operator.sub": [(1.3, -0.7)],
    "operator.mul": [(1.3, -0.7), (-2.5, 0.4)],
    "operator.truediv": [(1.3, -0.7), (-2.5, 0.4)],
    "operator.pow": [(1.3, 2.2), (0.7, -1.5), (-1.5, 3), (2.0, 0.5)],
    "operator.mod": [(7.3, 2.1), (-7.3, 2.1), (7.3, -2.1), (0.4, 2.5)],
    "operator.neg": [(1.3,), (-0.2,)],
    "operator.pos": [(1.3,)],
    "operator.floordiv": [(7.3, 2.1)],
    # builtins
    "builtins.abs": [(-1.3,), (0.7,)],
    "builtins.float": [(0.7,)],
    "builtins.max": [(0.3, 1.2), (1.2, 0.3)],
    "builtins.min": [(0.3, 1.2), (1.2, 0.3)],
    "builtins.pow": [(1.3, 2.2), (-1.5, 3), (0.6, -0.5)],
    # trigonometric
    "math.sin": [(0.7,), (-2.3,)],
    "math.cos": [(0.7,), (-2.3,)],
    "math.tan": [(0.7,), (-1.2,)],
    "math.asin": [(0.3,), (-0.6,)],
    "math.acos": [(0.3,), (-0.6,)],
    "math.atan": [(0.7,), (-3.0,)],
    "math.atan2": [(0.7, -1.2), (-0.5, 0.3), (2.0, 1.0)],
    "math.degrees": [(0.7,)],
    "math.radians": [(40.0,)],
    # hyperbolic
    "math.sinh": [(0.7,), (-1.6,)],
    "math.cosh": [(0.7,), (-1.6,)],
    "math.tanh": [(0.7,), (-1.6,)],
    "math.asinh": [(0.7,), (-2.5,)],
    "math.acosh": [(1.5,), (3.0,)],
    "math.atanh": [(0.5,), (-0.3,)],
    # exponential and logarithmic
    "math.exp": [(0.7,), (-1.2,)],
    "math.expm1": [(0.3,), (-1.2,)],
    "math.exp2": [(0.3,), (-1.2,)],
    "math.log": [(0.7,), (3.5,), (0.7, 3.0), (5.0, 0.5), (2.0, 10.0)],
    "math.log1p": [(0.3,), (-0.4,)],
    "math.log2": [(0.7,), (9.0,)],
    "math.log10": [(0.7,), (150.0,)],
    # powers and roots
    "math.sqrt": [(2.0,), (0.3,)],
    "math.cbrt": [(2.0,), (-3.0,)],
    "math.pow": [(1.3, 2.2), (-1.5, 2), (0.6, -0.5)],
    "math.hypot": [(2.5,), (0.3, -1.2), (0.3, -1.2, 2.0), (1.0, -2.0, 0.5, 0.25)],
    # special functions
    "math.erf": [(0.4,), (-1.1,)],
    "math.erfc": [(0.4,), (-1.1,)],
    # sign, magnitude, remainders
    "math.fabs": [(-1.3,), (0.7,)],
    "math.copysign": [(1.3, -0.5), (-1.3, -0.5), (-1.3, 2.0)],
    "math.fmod": [(7.3, 2.1), (-7.3, 2.1), (7.3, -2.2)],
    "math.remainder": [(7.3, 2.1), (7.9, 2.1), (-7.3, 2.1)],
    "math.ldexp": [(0.7, 3), (-1.2, -2)],
    "math.fma": [(0.7, 1.3, -0.4)],
}

OPERATOR_SYNTAX = {
    "operator.add": "{0} + {1}", "operator.sub": "{0} - {1}", "operator.mul": "{0} * {1}",
    "operator.truediv": "{0} / {1}", "operator.pow": "{0} ** {1}", "operator.mod": "{0} % {1}",
    "operator.floordiv": "{0} // {1}", "operator.matmul": "{0} @ {1}",
    "operator.neg": "-{0}", "operator.pos": "+{0}",
}

SCALAR_MODULES = ("math", "operator", "builtins")

# Rules this scalar sweep cannot exercise (they take sequences or arrays), acknowledged one
# key at a time: a new rule of that kind fails test_every_rule_has_samples until it gets
# samples here or an entry below saying which sweep covers it.
UNSWEPT = {
    "builtins.sum": "vjp rule over a sequence argument (sum(xs, start)); see SEQUENCE_CASES",
    "builtins.max": "the one-argument vjp rule max(xs) takes a sequence; see SEQUENCE_CASES",
    "builtins.min": "the one-argument vjp rule min(xs) takes a sequence; see SEQUENCE_CASES",
    "builtins.list": "vjp rule over a sequence argument; see SEQUENCE_CASES",
    "builtins.tuple": "vjp rule over a sequence argument; see SEQUENCE_CASES",
    "operator.matmul": "vjp rule over arrays; see SEQUENCE_CASES",
    "ast_ad.runtime.sequence": "what for-loops over a name index; see SEQUENCE_CASES",
}

# rule key -> (expression of xs, a list of floats or an array): checked end to end
SEQUENCE_CASES = {
    "builtins.sum": ["sum(xs)", "sum(xs, 0.5) * xs[0]", "sum(xs, start=xs[1])"],
    "builtins.max": ["max(xs) * xs[1]"],
    "builtins.min": ["min(xs) ** 2"],
    "builtins.list": ["list(xs)[2] * xs[0]"],
    "builtins.tuple": ["tuple(xs)[1] * tuple(xs)[2]"],
    "operator.matmul": ["np.sum((np.outer(xs, xs) @ xs) ** 2)", "(xs @ xs) * xs[0]"],
    "ast_ad.runtime.sequence": ["sum(v * v for v in xs)", "sum(k * xs[k] for k in dict.fromkeys"
                                "(range(4)))"],
}


def test_every_unswept_rule_has_sequence_cases() -> None:
    assert set(UNSWEPT) == set(SEQUENCE_CASES)


@pytest.mark.parametrize("key, expr", [(k, e) for k, es in sorted(SEQUENCE_CASES.items())
                                       for e in es])
def test_sequence_rules(key: str, expr: str, make_module) -> None:
    module = make_module(f"import numpy as np\n\n\ndef f(xs):\n    return {expr}\n")
    values = [0.3, -1.2, 0.8, 2.1]
    xs = np.array(values) if key.startswith("operator.") else values
    got = np.asarray(ast_ad.grad(module.f)(xs), dtype=float)
    h = 1e-6
    for k in range(len(values)):
        up, down = list(values), list(values)
        up[k] += h
        down[k] -= h
        wrap = np.array if key.startswith("operator.") else list
        expected = (module.f(wrap(up)) - module.f(wrap(down))) / (2 * h)
        assert got[k] == pytest.approx(expected, rel=1e-6, abs=1e-8), (key, expr, k)


def table_rules() -> list:
    """The table's own rules (rules registered by users at run time carry a target), except the
    NumPy ones, which tests/test_numpy_rules.py sweeps on arrays."""
    return [r for r in rules.all_rules() if r.target is None and not r.key.startswith("numpy.")]


def sweepable(rule) -> bool:
    """Elementwise rules (partial derivatives, no vjp form) of scalar primitives."""
    return rule.key.partition(".")[0] in SCALAR_MODULES and not getattr(rule, "vjps", None)


def builtin_rules() -> list:
    """The table's rules for scalar primitives: the subject of this sweep."""
    return [r for r in table_rules() if sweepable(r)]


def accepts(rule, nargs: int) -> bool:
    if hasattr(rule, "accepts"):
        return rule.accepts(nargs)
    return rule.variadic or nargs == rule.arity


def wanted_arities(rule) -> set[int]:
    """Argument counts that must have samples: 2 and 3 for variadic rules; the fewest and
    the most for rules with optional parameters."""
    if rule.variadic:
        return {2, 3}
    optional = len(getattr(rule, "defaults", None) or {})
    return {len(rule.params) - optional, len(rule.params)}


def call_text(key: str, nargs: int, form: str) -> str:
    """An expression calling primitive ``key`` on parameters ``a0, a1, ...``."""
    params = [f"a{k}" for k in range(nargs)]
    prefix, _, attr = key.partition(".")
    if form == "syntax" and key in OPERATOR_SYNTAX:
        return OPERATOR_SYNTAX[key].format(*params)
    if prefix == "builtins":
        return f"{attr}({', '.join(params)})"
    return f"{key}({', '.join(params)})"


def module_text(key: str, nargs: int, form: str) -> str:
    params = ", ".join(f"a{k}" for k in range(nargs))
    return (f"import math\nimport operator\n\n\ndef f({params}):\n"
            f"    return {call_text(key, nargs, form)}\n")


def sweep_params() -> list:
    out = []
    for rule in builtin_rules():
        for args in SAMPLES.get(rule.key, []):
            if accepts(rule, len(args)):
                forms = ["syntax", "call"] if rule.key in OPERATOR_SYNTAX else ["call"]
                for form in forms:
                    out.append(pytest.param(rule.key, args, form,
                                            id=f"{rule.key}{args}-{form}"))
    return out


def test_every_rule_has_samples() -> None:
    missing = []
    for rule in builtin_rules():
        arities = {len(a) for a in SAMPLES.get(rule.key, [])}
        wanted = wanted_arities(rule)
        if not wanted <= arities:
            missing.append(f"{rule.key} with {sorted(wanted - arities)} arguments")
    assert not missing, "rules without sample points in tests/test_rules.py SAMPLES: " + \
        ", ".join(missing)


def test_rules_outside_the_sweep_are_acknowledged() -> None:
    others = sorted({f"{r.key}/{len(r.params)}" for r in table_rules() if not sweepable(r)
                     and r.key not in UNSWEPT})
    assert not others, ("rules that the scalar sweep cannot test (sequence/array arguments) "
                        f"and that tests/test_rules.py UNSWEPT does not acknowledge: {others}")


def test_every_math_rule_has_a_dual() -> None:
    missing = [r.key for r in builtin_rules() if r.key.startswith("math.")
               and r.key.removeprefix("math.") not in DIFFERENTIABLE]
    assert not missing, f"tests/dual.py has no dual-number version of {missing}"


@pytest.mark.parametrize("key, args, form", sweep_params())
def test_rule(key: str, args: tuple, form: str, make_module) -> None:
    text = module_text(key, len(args), form)
    module = make_module(text)
    wrt = tuple(k for k, a in enumerate(args) if isinstance(a, float))
    if len(wrt) == 1:
        wrt = wrt[0]  # a one-element tuple would hit the wrt=(0,) shape bug (test_corpus)
    ad = check_grad(module.f, args, wrt=wrt, rtol=1e-7, atol=1e-9)
    forward = dual_grad(dual_namespace(module.__file__)["f"], args, wrt)
    ad, forward = (ad, forward) if isinstance(wrt, tuple) else ((ad,), (forward,))
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    for k, a, b in zip(indices, ad, forward):
        assert abs(a - b) <= 1e-13 + 1e-12 * abs(b), \
            f"{key}{args} d/da{k}: ast_ad {a!r} vs forward mode {b!r}"
    value, _ = ast_ad.value_and_grad(module.f, wrt=wrt)(*args)
    assert value == module.f(*args)


# ------------------------------------------------------------------ piecewise constant
# key -> expression in x, y whose value is a number or bool; called on active values where
# the primitive accepts floats, otherwise on int(...) of them.
NONDIFF_EXPRESSIONS = {
    "ast_ad.runtime.stop_gradient": "ast_ad.stop_gradient(x * 3.0)",
    "math.floor": "math.floor(x * 3.0)",
    "math.ceil": "math.ceil(x * 3.0)",
    "math.trunc": "math.trunc(x * 3.0)",
    "math.isnan": "math.isnan(x)",
    "math.isinf": "math.isinf(x)",
    "math.isfinite": "math.isfinite(x)",
    "math.isclose": "math.isclose(x, y)",
    "math.factorial": "math.factorial(int(x * 9.0))",
    "math.comb": "math.comb(int(x * 9.0), 2)",
    "math.perm": "math.perm(int(x * 9.0), 2)",
    "math.gcd": "math.gcd(int(x * 9.0), 6)",
    "math.lcm": "math.lcm(int(x * 9.0), 4)",
    "math.isqrt": "math.isqrt(int(x * 9.0))",
    "math.nextafter": "math.nextafter(x, y)",
    "math.ulp": "math.ulp(x) * 1e15",
    "operator.floordiv": "x // y + operator.floordiv(y, x)",
    "operator.not_": "(not x) + operator.not_(y)",
    "operator.lt": "(x < y) + operator.lt(y, x)",
    "operator.le": "(x <= y) + operator.le(y, x)",
    "operator.eq": "(x == y) + operator.eq(x, x)",
    "operator.ne": "(x != y) + operator.ne(x, x)",
    "operator.gt": "(x > y) + operator.gt(y, x)",
    "operator.ge": "(x >= y) + operator.ge(y, x)",
    "operator.truth": "operator.truth(x)",
    "builtins.int": "int(x * 3.0)",
    "builtins.round": "round(x * 3.0) + round(y, 1)",
    "builtins.bool": "bool(x)",
    "builtins.isinstance": "isinstance(x, float)",
    "builtins.hash": "hash(x) % 7",
    "builtins.callable": "callable(x)",
}
NONDIFF_SKIPPED = {
    "ast_ad.runtime.unpacked": "only the check of `a, b = v` that desugar inserts; "
                               "tests/test_found_bugs.py checks its errors and gradients",
    "builtins.print": "returns None; not a numeric value",
    "builtins.str": "returns a string",
    "builtins.repr": "returns a string",
    "builtins.format": "returns a string",
    "builtins.chr": "returns a string",
    "builtins.ord": "takes a string",
    "builtins.type": "returns a type",
    "builtins.id": "not deterministic across runs",
    "builtins.len": "needs a sequence, which the supported language has no value for",
    "builtins.any": "needs an iterable, which the supported language has no value for",
    "builtins.all": "needs an iterable, which the supported language has no value for",
    "builtins.range": "only meaningful as a for-loop iterable (covered by the corpus)",
}
NONDIFF_POINTS = [(0.7, 1.3), (1.3, 0.7)]


def test_nondiff_keys_resolve() -> None:
    for key in sorted(rules.BUILTIN_NONDIFF):
        module, _, attr = key.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        assert callable(obj), key
        assert rules.key_of(obj) == key, key


def test_every_nondiff_key_is_covered() -> None:
    scalar_keys = {k for k in rules.BUILTIN_NONDIFF if not k.startswith("numpy.")}  # numpy: own
    missing = sorted(scalar_keys - set(NONDIFF_EXPRESSIONS) - set(NONDIFF_SKIPPED))
    assert not missing, f"NONDIFF keys with no entry in tests/test_rules.py: {missing}"


def nondiff_params() -> list:
    out = []
    for key in sorted(rules.BUILTIN_NONDIFF):
        if key in NONDIFF_SKIPPED:
            marks = pytest.mark.skip(reason=f"{key}: {NONDIFF_SKIPPED[key]}")
            out.append(pytest.param(key, NONDIFF_POINTS[0], id=key, marks=marks))
        elif key in NONDIFF_EXPRESSIONS:
            out += [pytest.param(key, p, id=f"{key}{p}") for p in NONDIFF_POINTS]
    return out


@pytest.mark.parametrize("key, point", nondiff_params())
def test_nondiff_contributes_zero(key: str, point: tuple, make_module) -> None:
    expr = NONDIFF_EXPRESSIONS[key]
    module = make_module(
        "import math\nimport operator\n\nimport ast_ad\n\n\n"
        f"def c_of(x, y):\n    return {expr}\n\n\n"
        f"def f(x, y):\n    c = {expr}\n    return x * (1.0 + c) + y * y\n")
    x, y = point
    value, (gx, gy) = ast_ad.value_and_grad(module.f, wrt=(0, 1))(x, y)
    assert value == module.f(x, y)
    assert gx == pytest.approx(1.0 + module.c_of(x, y), rel=1e-15)
    assert gy == pytest.approx(2.0 * y, rel=1e-15)


# ------------------------------------------------------------------ power rules at a zero base
@pytest.mark.parametrize("expr, expected", [
    ("a0 ** 0", 0.0), ("pow(a0, 0)", 0.0), ("math.pow(a0, 0.0)", 0.0),
    ("a0 ** 1", 1.0), ("a0 ** 2", 0.0), ("pow(a0, 3)", 0.0), ("math.pow(a0, 1.0)", 1.0),
    ("2.0 ** a0", 0.6931471805599453), ("math.hypot(a0, 1.0)", 0.0),
])
def test_power_rules_at_zero(expr: str, expected: float, make_module) -> None:
    module = make_module(f"import math\n\n\ndef f(a0):\n    return {expr}\n")
    assert ast_ad.grad(module.f)(0.0) == expected
