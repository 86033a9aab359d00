"""A corpus of small scalar functions covering the supported language, and their test inputs.

``CASES`` lists ``(function, [argument tuples], wrt)``. Inputs are chosen away from
points where a function is not differentiable (ties, branch switches, changes in a
loop's trip count) by far more than the finite-difference step.

This module is also re-executed by ``tests/dual.py`` with ``math`` replaced by a
dual-number version, so it must import ``math`` only through ``import`` statements.
"""
import math
import math as m
from math import exp, log
from math import sin as s

SCALE = 2.5
OFFSET = -0.75
N_STEPS = 4


# ------------------------------------------------------------------ operators
def add_both(x, y):
    return x + y


def add_consts(x):
    a = x + 3.0
    b = 2 + x
    return a * b


def sub_both(x, y):
    return x - y - 0.5


def sub_const_left(x):
    return 5.0 - x * x


def mul_both(x, y):
    return x * y * x


def mul_self_const(x):
    return 3 * x * x * 0.5


def div_both(x, y):
    return x / y + y / x


def div_consts(x):
    return 1.0 / x + x / 4.0


def pow_ops(x, y):
    a = x ** y
    b = x ** 3
    c = 2.0 ** y
    d = x ** -1.5
    return a + b + c + d


def floordiv_path(x, y):
    q = x // y
    return q * x + y * (x // 2.0)


def mod_both(x, y):
    return x % y + x % 1.5 + 7.0 % y


def mod_negative(x, y):
    return (x % y) * (-x % y)


def unary_ops(x, y):
    a = -x * y
    b = +x
    t = -y
    c = -t
    return a + b * c - -x


def comparisons_as_values(x, y):
    a = (x > y) * x
    b = (x < y) * y
    c = (not x > 1.0) * x * y
    return a + b + c + (x == y) + (x != y) * 2.0


# ------------------------------------------------------------------ assignments
def aug_assign_all(x, y):
    z = x
    z += y
    z -= 0.25 * x
    z *= y
    z /= x + 1.0
    z **= 2
    z %= 5.0
    w = z
    w //= 1.0
    return z + w * x


def tuple_unpack_swap(x, y):
    a, b = x + y, x * y
    a, b = b, a
    c, d = a - b, a / b
    return c * d


def chained_assign(x, y):
    a = b = x * y
    a = a + x
    return a * b


def annotated_and_docstring(x):
    """A docstring that the transform skips."""
    z: float = x * 2.0
    pass
    return z * z


def reassign_args(x, y):
    x = x * 2.0
    y = y + x
    x = math.sin(x) + y
    return x * y


def alias_then_overwrite(x):
    y = x
    x = x * x
    y = y + x
    x = y * 3.0
    return x + y


def self_reference(x, y):
    t = y - x
    t = x - t
    t = t * t
    t = t + t
    return t


def module_constants(x):
    return SCALE * x + OFFSET * x * x + math.pi * x + math.e


def no_dependence(x, y):
    z = y * 2.0
    return z + 1.0


def dependence_only_through_test(x, y):
    if x > 0.5:
        r = y * 3.0
    else:
        r = -y
    return r


def name_collisions(x, y):
    bx = x * 2.0
    _t1 = bx + y
    _tape = _t1 * x
    b_t1 = _tape - y
    _pop = math.sin(b_t1)
    by = _pop * bx
    _push = by + 1.0
    return _push * _t1


def runtime_name_collision(x, y):
    seed_scalar = x * y + 1.0
    return seed_scalar * x


# ------------------------------------------------------------------ math module and aliases
def trig_mix(x, y):
    return math.sin(x) * math.cos(y) + math.tan(x * y) + math.atan2(y, x)


def aliases(x, y):
    a = s(x) + m.cos(y)
    b = exp(x * 0.5) + log(y)
    return a * b + m.sqrt(x * y)


def math_special(x, y):
    a = math.hypot(x, y) + math.hypot(x, y, 1.5)
    b = math.erf(x) + math.log(y, 3.0) + math.log(x, y)
    c = math.fabs(x - y) + math.copysign(x, -1.0) + math.fmod(x * 5.0, y)
    return a + b * c + math.ldexp(x, 3)


def hyperbolic(x):
    return math.sinh(x) * math.cosh(x) + math.tanh(x) + math.asinh(x) + math.atanh(x / 2.0)


def logs(x):
    return math.log1p(x) + math.log2(x) + math.log10(x) + math.expm1(x) + math.acosh(x + 1.0)


# ------------------------------------------------------------------ builtins
def builtins_abs_pow(x, y):
    a = abs(x - y)
    b = abs(x)
    c = pow(x, 2) + pow(y, x)
    return a * b + c


def minmax_two(x, y):
    return max(x, y) * 2.0 + min(x, y)


def minmax_three(x, y, z):
    return max(x, y, z) + min(x, y, z) * 0.5 + max(x * x, y, 1.0)


def float_and_int(x, n):
    a = float(x) * float(n)
    b = int(x) * x
    return a + b + round(x) * x


def sum_literals(x, y):
    a = sum([x, y, x * y])
    b = sum([x, y], 1.0)
    c = sum((x, x, x))
    return a * b + c


# ------------------------------------------------------------------ conditionals
def if_elif_else(x, y):
    if x > 2.0:
        r = x * y
    elif x > 1.0:
        r = x + y
    elif x > 0.0:
        r = x - y
    else:
        r = x / y
    return r


def nested_ifs(x, y):
    r = x
    if x > 0.0:
        if y > 0.0:
            r = r * y
        else:
            r = r - y
    else:
        if y > x:
            r = r + y * y
    return r * x


def ternaries(x, y):
    a = x * y if x > y else x / y
    b = (x if x > 0 else -x) if y > 1.0 else (y if y > 0 else -y)
    return a + b


def bool_ops_conditions(x, y, z):
    r = 0.0
    if x > 0 and y > 0 or not z > 1.0:
        r = x * y
    if (x < 0 or y < 0) and z > 0:
        r = r + z
    if not (x > 0 and z > 0):
        r = r - x
    if 0.0 < x < y:
        r = r + x * z
    return r


def and_or_values(x, y):
    a = x and y
    b = 0.0 or x
    c = x or y
    d = x and 0.0 or y
    return a * b + c + d


def branch_reassign_args(x, y):
    if x > y:
        x = x * y
    else:
        y = y * x
    return x + y * y


# ------------------------------------------------------------------ for loops
def for_range_n(x, n):
    r = 0.0
    for i in range(n):
        r = r + x * i
    return r


def for_start_stop_step(x, a, b, step):
    r = x
    for i in range(a, b, step):
        r = r * x + i
    return r


def for_negative_step(x, n):
    r = 1.0
    for i in range(n, 0, -2):
        r = r * (x + i)
    return r


def for_variable_negative_step(x, hi, lo, step):
    r = x
    for i in range(hi, lo, -step):
        r = math.sin(r) + x * i
    return r


def for_module_constant_bound(x):
    r = x
    for _ in range(N_STEPS):
        r = r * 0.5 + math.cos(r)
    return r


def loop_var_after_loop(x, n):
    r = 0.0
    for i in range(n):
        r += x
    return r * i


def overwritten_in_loop(x, n):
    t = 0.0
    acc = 0.0
    for i in range(n):
        t = math.sin(x + i)
        acc += t * t
    return acc * t


def product_loop(x, n):
    p = 1.0
    for i in range(1, n):
        p *= x + i
    return p


def logistic_map(x, r, n):
    for _ in range(n):
        x = r * x * (1.0 - x)
    return x


def horner(x, a, b, c, n):
    p = a
    for k in range(n):
        p = p * x + b
        b = b * c
    return p


def power_sum(x, n):
    r = 0.0
    for i in range(n):
        r = r + x ** i / (i + 1)
    return r


def if_in_loop(x, y, n):
    r = x
    for i in range(n):
        if i % 2 == 0:
            r = r * y
        else:
            r = r + math.sin(r)
    return r


def data_dependent_if_in_loop(x, n):
    r = x
    for i in range(n):
        if r > 1.0:
            r = r * 0.5
        else:
            r = r * 3.0 + 0.1
    return r


def loop_bound_from_active(x):
    r = 0.0
    for i in range(int(x)):
        r = r + x * x
    return r


def rebound_loop_variable(x, n):
    r = 0.0
    for i in range(n):
        i = i * 2
        r = r + x * i
    return r


# ------------------------------------------------------------------ nested loops
def nested_for(x, y, n):
    r = 0.0
    for i in range(n):
        for j in range(i):
            r = r + x ** i * y / (j + 1)
    return r


def nested_for_overwrite(x, n, m_):
    r = x
    for i in range(n):
        t = r
        for j in range(m_):
            t = t * 0.9 + math.sin(t) * x
        r = t + r * 0.1
    return r


def triple_nested(x, n):
    r = x
    for i in range(n):
        for j in range(i, n):
            for k in range(j, 0, -1):
                r = r + math.sin(r * k) * 0.1
    return r


# ------------------------------------------------------------------ while loops
def while_doubling(x):
    while x < 100.0:
        x = x * 1.5
    return x


def while_counter(x):
    k = 0
    while x > 1.0:
        x = x / 2.0
        k += 1
    return x * k


def newton_sqrt(a):
    g = a
    while abs(g * g - a) > 1e-12 * a:
        g = 0.5 * (g + a / g)
    return g


def while_compound_condition(x, n):
    i = 0
    s_ = x
    while i < n and s_ < 50.0:
        s_ = s_ * s_ + 1.0
        i += 1
    return s_


def while_in_for(x, n):
    r = 0.0
    for i in range(n):
        t = x + i
        while t < 10.0:
            t = t * 2.0
        r = r + t
    return r


def for_in_while(x):
    r = x
    while r < 20.0:
        for j in range(3):
            r = r + math.sqrt(r) * 0.5
    return r


def nested_while(x, y):
    r = x
    while r < 30.0:
        t = y
        while t < 5.0:
            t = t + r * 0.5
        r = r + t
    return r


def while_with_branch(x):
    r = x
    k = 0
    while k < 6:
        if r > 2.0:
            r = math.log(r)
        else:
            r = math.exp(r) * 0.9
        k = k + 1
    return r


def while_decrement_int(x, n):
    r = x
    while n > 0:
        r = r * x + n
        n -= 1
    return r


# ------------------------------------------------------------------ signatures
def keyword_only(x, *, y):
    return x * y + y


def defaults(x, y=2.0):
    return x ** y


def expression_return(x, y):
    return math.exp(x) * y - x / (1.0 + y * y)


# ------------------------------------------------------------------ harder cases
def two_loops_same_var(x, n, k):
    r = x
    for i in range(n):
        r = r * x + i
    for i in range(k):
        r = r + x * i
    return r


def tape_helper_collision(x, n):
    _pop = x
    _push = 0.5
    r = x
    for i in range(n):
        r = r * r * _push + _pop
    return r


def bound_rebound_after_loop(x, n):
    r = 0.0
    for i in range(n):
        r = r + x * i
    n = 2
    return r * n


def bound_modified_in_body(x, n):
    r = 0.0
    for i in range(n):
        n = n - 1
        r = r + x * n * r + x
    return r


def inner_bound_from_outer(x, n):
    r = x
    for i in range(n):
        k = i * 2 + 1
        for j in range(k):
            r = r * 0.9 + x * j
        k = 0
    return r


def overwritten_by_constant(x):
    y = x * x
    if x > 1.0:
        y = 3.0
    return y * x


def reinit_accumulator(x):
    acc = x * x
    acc = 0.0
    acc = acc + x
    return acc


def loop_kill(x, n):
    r = 0.0
    for i in range(n):
        t = x * i
        t = 2.0
        r += t * x
    return r


def for_shadows_arg(x, n):
    y = x * 2.0
    for x in range(n):
        y = y + x
    return y


def same_operands(x):
    a = x ** x + math.atan2(x, x) + math.hypot(x, x) + x % x
    return a + math.log(x, x) + math.fmod(x, x) + max(x, x * 2.0) * min(x, -x)


def self_ops(x):
    t = x
    t = t + t
    t = t - t * x
    t = x - t
    t = t * t
    return t


def swap_in_loop(x, y, n):
    for i in range(n):
        x, y = y, x * y + 0.1
    return x + 2.0 * y


def unpack_self_ref(x, y):
    x, y = y * x, x + y
    return x * y


def ifexp_in_loop(x, n):
    r = x
    for i in range(n):
        r = r * x if r < 2.0 else r - x
    return r


def andor_in_loop(x, n):
    r = x
    for i in range(n):
        r = (r > 1.0 and r * 0.5) or r * x + 1.0
    return r


def relu_like(x, y):
    return max(x, 0.0) + max(0, y) + min(x, 1) + abs(y)


def identity(x):
    return x


def other_arg(x, y):
    return y


def returns_int_constant(x):
    return 3


def returns_module_constant(x):
    return math.pi


def statements_without_effect(x):
    assert x > 0
    math.sin(x)
    if x > 100.0:
        raise ValueError("big")
    return x * x


def return_reassigned_arg(x, n):
    for i in range(n):
        x = x * 1.1 + 0.5
    return x


def generated_name_lookalikes(x):
    _trip1 = 3
    _cond1 = 2.0
    _ = x * 0.5
    r = x
    while r < 10.0:
        r = r * _cond1 + _
    return r * _trip1


def sum_edge_cases(x):
    return sum([x]) + sum([]) + sum([x * x], x)


def sum_start_keyword(x, y):
    return sum([x, y], start=1.0) * x


def pow_keywords(x):
    return pow(base=x, exp=2) + x


def pow_negative_base(x):
    return math.pow(x, 2.0) + x ** 3 + pow(x, 2)


def chained_comparison_active(x, y):
    if 0.0 < x < y < 5.0:
        r = x * y
    else:
        r = x + y
    return r


def adjoint_name_lookalikes(x, n):
    bx = 0.5
    b_t1 = x
    r = x
    for i in range(n):
        r = r * bx + b_t1 * math.cos(r)
    return r


def int_bit_ops(x, n):
    r = x
    k = n
    while k > 0:
        if k & 1:
            r = r * x
        k = k >> 1
        r = r + ~k * 0.01
    return r


def int_float_mix(x, n):
    a = n * x
    b = n / 2
    c = x / n
    return a + b * x + c


def round_ndigits(x):
    return round(x, 2) * x + x


def nested_ternary_active(x, y):
    return (x if x > y else y) if (x * y > 0.5) else (x * y if x < 0 else y - x)



def polynomial_at_zero(x, n):
    r = 1.0
    for i in range(n):
        r = r + x ** i * (i + 1)
    return r


def zero_exponents(x):
    return math.pow(x, 0.0) + pow(x, 0) + x


def shadow_nested(x, n, m):
    r = x
    for i in range(n):
        r = r * x + i
        for i in range(m):
            r = r + x * i * 0.1
        r = r * (i + 1)
    return r


def safe_div(x):
    a = 1.0 / x if x != 0 else 0.0
    b = math.sqrt(x) if x > 0 else 0.0
    c = x and 1.0 / x
    return a + b + c + x


def multi_target(x):
    a = b = c = x * 2.0
    a = a * b
    return a + b * c


def unpack_more(x, y):
    a, b, c = 1.0, x, y * x
    a, a = x, y
    return a * b + c


def overwrite_param_const(x):
    x = 2.0
    return x * x


def while_for_int(x):
    r = x
    k = 1
    while r < 50.0:
        for j in range(k):
            r = r + math.sin(r) * 0.1 + 0.5
        k = k + 1
    return r


def return_loop_var(x, n):
    r = x
    for i in range(n):
        r = r * x
    return i * r


def if_overwrites_test_var(x):
    if x > 1.0:
        x = x - 1.0
        if x > 1.0:
            x = x * x
    return x * 3.0


def branch_defined_in_loop(x, n):
    r = x
    for i in range(n):
        if i % 2 == 0:
            t = r * x
        r = r + t
    return r


# ------------------------------------------------------------------ the table
CASES = [
    (add_both, [(1.5, -2.0)], (0, 1)),
    (add_consts, [(0.3,), (-4.0,)], 0),
    (sub_both, [(1.5, 2.25)], (0, 1)),
    (sub_const_left, [(1.7,)], 0),
    (mul_both, [(1.5, -2.0), (-0.3, 0.7)], (0, 1)),
    (mul_self_const, [(1.3,)], 0),
    (div_both, [(1.5, -2.0), (0.4, 3.0)], (0, 1)),
    (div_consts, [(0.8,)], 0),
    (pow_ops, [(1.3, 2.2), (0.7, -0.4)], (0, 1)),
    (floordiv_path, [(7.3, 2.1), (-3.3, 1.4)], (0, 1)),
    (mod_both, [(7.3, 2.1), (2.2, 3.7)], (0, 1)),
    (mod_negative, [(-7.3, 2.1), (5.2, -1.7)], (0, 1)),
    (unary_ops, [(1.2, 0.4)], (0, 1)),
    (comparisons_as_values, [(1.5, 0.5), (0.5, 1.5)], (0, 1)),
    (aug_assign_all, [(1.2, 0.8), (0.4, 1.9)], (0, 1)),
    (tuple_unpack_swap, [(1.2, 0.8)], (0, 1)),
    (chained_assign, [(1.2, 0.8)], (0, 1)),
    (annotated_and_docstring, [(1.2,)], 0),
    (reassign_args, [(0.6, 1.1)], (0, 1)),
    (alias_then_overwrite, [(0.6,)], 0),
    (self_reference, [(0.6, 1.7)], (0, 1)),
    (module_constants, [(0.6,)], 0),
    (no_dependence, [(0.6, 1.7)], (0, 1)),
    (dependence_only_through_test, [(0.7, 1.3), (0.2, 1.3)], (0, 1)),
    (name_collisions, [(0.6, 1.7)], (0, 1)),
    (runtime_name_collision, [(0.6, 1.7)], (0, 1)),
    (trig_mix, [(0.6, 1.1)], (0, 1)),
    (aliases, [(0.6, 1.1)], (0, 1)),
    (math_special, [(0.6, 1.1), (1.7, 0.45)], (0, 1)),
    (hyperbolic, [(0.6,), (-1.2,)], 0),
    (logs, [(0.6,), (2.5,)], 0),
    (builtins_abs_pow, [(0.6, 1.1), (-1.6, 0.3)], (0, 1)),
    (minmax_two, [(0.6, 1.1), (1.6, 0.3)], (0, 1)),
    (minmax_three, [(0.6, 1.1, 0.2), (1.6, 0.3, 0.9), (0.5, 0.3, 2.0)], (0, 1, 2)),
    (float_and_int, [(2.7, 3), (-1.3, 2)], 0),
    (sum_literals, [(0.6, 1.1)], (0, 1)),
    (if_elif_else, [(2.5, 1.5), (1.5, 1.5), (0.5, 1.5), (-0.5, 1.5)], (0, 1)),
    (nested_ifs, [(0.5, 1.5), (0.5, -1.5), (-0.5, 1.5), (-0.5, -1.5)], (0, 1)),
    (ternaries, [(1.5, 0.5), (0.5, 1.5), (-0.5, 2.5), (0.5, -0.5)], (0, 1)),
    (bool_ops_conditions,
     [(0.5, 1.5, 2.0), (-0.5, 1.5, 2.0), (0.5, -1.5, 0.5), (-0.5, -1.5, -0.5)], (0, 1, 2)),
    (and_or_values, [(0.5, 1.5), (-0.7, 2.5)], (0, 1)),
    (branch_reassign_args, [(1.5, 0.5), (0.5, 1.5)], (0, 1)),
    (for_range_n, [(0.5, 5), (1.5, 0)], 0),
    (for_start_stop_step, [(0.9, 1, 7, 2), (0.9, 2, 3, 1), (0.9, 5, 5, 1)], 0),
    (for_negative_step, [(0.3, 7), (0.3, 6), (0.3, 0)], 0),
    (for_variable_negative_step, [(0.3, 9, 1, 3), (0.3, 10, -3, 4)], 0),
    (for_module_constant_bound, [(0.3,)], 0),
    (loop_var_after_loop, [(0.3, 4)], 0),
    (overwritten_in_loop, [(0.3, 4)], 0),
    (product_loop, [(0.3, 5)], 0),
    (logistic_map, [(0.3, 3.2, 6), (0.6, 2.5, 3)], (0, 1)),
    (horner, [(0.7, 1.5, -0.5, 0.9, 4)], (0, 1, 2, 3)),
    (power_sum, [(0.7, 6)], 0),
    (if_in_loop, [(0.7, 1.2, 5)], (0, 1)),
    (data_dependent_if_in_loop, [(0.7, 6), (2.3, 5)], 0),
    (loop_bound_from_active, [(3.5,), (0.5,)], 0),
    (rebound_loop_variable, [(0.7, 4)], 0),
    (nested_for, [(0.7, 1.3, 4)], (0, 1)),
    (nested_for_overwrite, [(0.7, 3, 2)], 0),
    (triple_nested, [(0.7, 3)], 0),
    (while_doubling, [(1.3,), (150.0,)], 0),
    (while_counter, [(13.0,), (0.5,)], 0),
    (newton_sqrt, [(2.0,), (7.3,)], 0),
    (while_compound_condition, [(1.3, 2), (1.3, 10)], 0),
    (while_in_for, [(1.3, 3)], 0),
    (for_in_while, [(1.3,)], 0),
    (nested_while, [(1.3, 0.7)], (0, 1)),
    (while_with_branch, [(1.3,), (3.1,)], 0),
    (while_decrement_int, [(1.3, 3)], 0),
    (defaults, [(1.3,), (1.3, 0.5)], 0),
    (expression_return, [(0.3, 1.2)], ("x", "y")),
    (two_loops_same_var, [(0.7, 0, 3), (0.7, 2, 3), (0.7, 2, 0)], 0),
    (tape_helper_collision, [(0.3, 3)], 0),
    (bound_rebound_after_loop, [(0.7, 4)], 0),
    (bound_modified_in_body, [(0.7, 4)], 0),
    (inner_bound_from_outer, [(0.7, 3)], 0),
    (overwritten_by_constant, [(1.5,), (0.5,)], 0),
    (reinit_accumulator, [(0.5,)], 0),
    (loop_kill, [(0.5, 3)], 0),
    (for_shadows_arg, [(0.5, 3), (0.5, 0)], 0),
    (same_operands, [(1.7,)], 0),
    (self_ops, [(0.7,)], 0),
    (swap_in_loop, [(0.7, 1.2, 3), (0.7, 1.2, 0)], (0, 1)),
    (unpack_self_ref, [(0.7, 1.2)], (0, 1)),
    (ifexp_in_loop, [(1.1, 4)], 0),
    (andor_in_loop, [(1.3, 5)], 0),
    (relu_like, [(0.5, -0.7), (-0.5, 0.7), (1.5, 0.7)], (0, 1)),
    (identity, [(0.5,)], 0),
    (other_arg, [(0.5, 0.25)], (0, 1)),
    (returns_int_constant, [(0.5,)], 0),
    (returns_module_constant, [(0.5,)], 0),
    (statements_without_effect, [(0.5,)], 0),
    (return_reassigned_arg, [(0.5, 3)], 0),
    (generated_name_lookalikes, [(0.5,)], 0),
    (sum_edge_cases, [(0.5,)], 0),
    (sum_start_keyword, [(0.5, 0.25)], (0, 1)),
    (pow_keywords, [(1.5,)], 0),
    (pow_negative_base, [(-1.5,)], 0),
    (chained_comparison_active, [(1.0, 2.0), (3.0, 2.0)], (0, 1)),
    (adjoint_name_lookalikes, [(0.7, 3)], 0),
    (int_bit_ops, [(1.1, 13), (0.9, 6)], 0),
    (int_float_mix, [(0.5, 3)], 0),
    (round_ndigits, [(1.2345,)], 0),
    (polynomial_at_zero, [(0.0, 4)], 0),
    (zero_exponents, [(0.0,)], 0),
    (shadow_nested, [(0.7, 3, 2), (0.7, 3, 0)], 0),
    (safe_div, [(0.5,), (-0.7,)], 0),
    (multi_target, [(0.5,)], 0),
    (unpack_more, [(0.5, 1.5)], (0, 1)),
    (overwrite_param_const, [(0.5,)], 0),
    (while_for_int, [(0.5,)], 0),
    (return_loop_var, [(0.9, 3)], 0),
    (if_overwrites_test_var, [(2.5,), (1.5,), (0.5,)], 0),
    (branch_defined_in_loop, [(0.5, 4)], 0),
    (nested_ternary_active, [(0.3, 1.2), (1.3, 1.2), (-0.3, 1.2), (0.3, -1.2)], (0, 1)),
]
