"""Functions that ast_ad must refuse, each with a located error (used by test_errors.py).

Every refused construct sits on a line ending in a ``# HERE`` marker: the tests
take the expected line number from the marker, so functions may be added or
moved freely. Nothing here is called directly by the tests except to compare
values, and none of these functions is meant to be useful.
"""
# ruff: noqa: F401, F841, B009, B018, E731
import functools
import math
import random

import numpy as np

COUNTER = 0
OPTIONS = {"base": 2.0}


# ----------------------------------------------------------------------- statements

def bad_with(x):
    with open(__file__) as fh:  # HERE
        y = x * 2.0
    return y


def bad_try(x):
    try:  # HERE
        y = x * 2.0
    except ValueError:
        y = x
    return y


def bad_global(x):
    global COUNTER  # HERE
    return x * 2.0


def make_bad_nonlocal():
    v = 1.0

    def bad_nonlocal(x):
        nonlocal v  # HERE
        v = x * 2.0
        return v

    return bad_nonlocal


def bad_del(x):
    y = x * 2.0
    del y  # HERE
    return x


def bad_class(x):
    class Local:  # HERE
        pass
    return x


def bad_import(x):
    import os  # HERE
    return x


def bad_import_from(x):
    from math import sin  # HERE
    return sin(x)


def bad_match(x):
    match x:  # HERE
        case 0.0:
            y = x
        case _:
            y = x * 2.0
    return y


def bad_async_def(x):
    async def helper():  # HERE
        return x
    return x


async def bad_async_toplevel(x):  # HERE
    return x * 2.0


def bad_decorated_local(x):
    @functools.lru_cache  # HERE
    def helper(z):
        return z * z
    return helper(x)


def bad_local_nonlocal(x):
    y = x

    def helper():
        nonlocal y  # HERE
        y = y * 2.0

    helper()
    return y


def bad_escaping_closure(x):
    y = x * 2.0

    def helper(z):
        return z * y

    return sum(map(helper, [x]))  # HERE


def apply_to(fn, v):
    return fn(v)


# ----------------------------------------------------------------------- expressions

def bad_walrus(x):
    y = (z := x * 2.0) + 1.0  # HERE
    return y


def bad_yield(x):
    yield x * 2.0  # HERE


def bad_getattr(x):
    y = getattr(math, "sin")(x)  # HERE
    return y


def bad_eval(x):
    y = eval("x * 2.0")  # HERE
    return y


def bad_list_concat(x):
    v = [x]
    w = v + v  # HERE
    return w[0]


def bad_list_repeat(x):
    v = [x]
    w = v * 3  # HERE
    return w[0]


def bad_out(x):
    y = np.zeros(3)
    np.multiply(x, 2.0, out=y)  # HERE
    return y.sum()


def bad_shuffle(x):
    v = [x, 2.0 * x, 3.0 * x]
    random.shuffle(v)  # HERE
    return v[0]


def bad_np_shuffle(x):
    v = x * np.ones(3)
    np.random.shuffle(v)  # HERE
    return v[0]


def bad_setcomp(x):
    s = {x * i for i in range(3)}  # HERE
    return x


def bad_set(x):
    s = {x, 2.0}  # HERE
    return x


def bad_starred(x, y):
    t = (x, y)
    z = math.hypot(*t)  # HERE
    return z


def bad_local_attribute(x):
    y = x.real * 2.0  # HERE
    return y


def bad_method_call(x):
    y = x.conjugate() * 2.0  # HERE
    return y


def bad_complex(x):
    y = x * 2j  # HERE
    return y


def bad_call_kwargs(x):
    y = math.log(x, **OPTIONS)  # HERE
    return y


# ----------------------------------------------------------------------- targets, signature

def bad_starred_target(x, y):
    a, *b = x, y, x  # HERE
    return a


def bad_aug_attribute(x):
    x.real += 1.0  # HERE
    return x


def bad_for_target(x):
    s = x
    t = [0, 0]
    for t[0] in range(3):  # HERE
        s = s * x
    return s


def bad_mutate_argument(xs):
    xs.append(1.0)  # HERE
    return xs[0]


def bad_item_assign_argument(xs):
    xs[0] = 2.0  # HERE
    return xs[0]


def bad_varargs(x, *args):  # HERE
    return x


def bad_kwargs(x, **options):  # HERE
    return x


# ----------------------------------------------------------------------- missing rules

def no_rule_gamma(x):
    y = x * 2.0
    z = math.gamma(y)  # HERE
    return z


def no_rule_inactive_gamma(x):
    c = math.gamma(3.0)  # of a constant: not active, so no rule is needed
    return x * c


# ----------------------------------------------------------------------- run-time errors

def returns_tuple(x, y):
    return x * y, x


def returns_none(x):
    y = x * 2.0


def returns_explicit_none(x):
    y = x * 2.0
    return None


def returns_bare(x):
    y = x * 2.0
    return


def two_args(x, y, *, scale=1.0):
    return x * y * scale


lambda_square = lambda x: x * x


# ----------------------------------------------------------------------- formerly refused
# Refused when test_errors.py was first written; supported since (jumps pass, containers).
# test_errors.py checks their gradients against finite differences.

def was_break(x):
    y = x
    for i in range(5):
        y = y * x
        if y > 3.0:
            break
    return y


def was_continue(x):
    y = x
    for i in range(4):
        if i == 1:
            continue
        y = y * x
    return y


def was_early_return(x):
    if x > 0.0:
        return x * 2.0
    y = -x * x
    return y


def was_for_else(x):
    y = x
    for i in range(3):
        y = y * x
        if y > 100.0:
            break
    else:
        y = y + math.sin(x)
    return y


def was_while_else(x):
    y = x
    while y < 10.0:
        y = y * 2.0
    else:
        y = y * x
    return y


def was_subscript(x, y):
    t = (x, y)
    z = t[0] * t[1] * 2.0
    return z


def was_subscript_store(x, y):
    v = [x, y]
    v[0] = v[1] * x
    return v[0] + v[1]


def was_list(x):
    v = [x, x * x]
    return v[0] * v[1]


def was_dict(x):
    d = {"a": x, "b": 2.0}
    return d["a"] * d["b"]


def was_listcomp(x):
    y = sum([x * i for i in range(3)])
    return y


def was_genexp(x):
    y = sum(x * i for i in range(3))
    return y


def was_dictcomp(x):
    d = {i: x * i for i in range(3)}
    return d[2] + d[1]


def was_for_nonrange(x, y):
    s = 0.0
    for v in (x, y):
        s = s + v * v
    return s


def was_unpack(x, y):
    t = (x, y)
    a, b = t
    return a * b


def was_nested_def(x):
    def helper(z):
        return z * z
    return helper(x)


def was_lambda(x):
    sq = lambda z: z * z
    return sq(x)


def was_closure(x):
    y = x * 2.0

    def helper(z):
        return z * y

    return helper(x) + helper(y)


def was_append(x):
    v = []
    for i in range(3):
        v.append(x * i)
    return sum(v)
