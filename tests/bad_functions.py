"""Functions that ast_ad must refuse, each with a located error.

Every refused construct sits on a line ending in a ``# HERE`` marker: the tests
find the expected line number from the marker, so functions may be added or
moved freely. Nothing here is ever called directly by the tests.
"""
# ruff: noqa: F841, B018, E741, F811, E731
import math

COUNTER = 0


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


def bad_break(x):
    y = x
    for i in range(3):
        y = y * x
        if y > 10.0:
            break  # HERE
    return y


def bad_continue(x):
    y = x
    for i in range(3):
        if i == 1:
            continue  # HERE
        y = y * x
    return y


def bad_nested_def(x):
    def helper(z):  # HERE
        return z * z
    return helper(x)


def bad_walrus(x):
    y = (z := x * 2.0) + 1.0  # HERE
    return y


def bad_yield(x):
    yield x * 2.0  # HERE


def bad_lambda(x):
    sq = lambda z: z * z  # HERE
    return sq(x)


def bad_listcomp(x):
    y = sum([x * i for i in range(3)])  # HERE
    return y


def bad_setcomp(x):
    s = {x * i for i in range(3)}  # HERE
    return x


def bad_dictcomp(x):
    d = {i: x for i in range(3)}  # HERE
    return x


def bad_genexp(x):
    y = sum(x * i for i in range(3))  # HERE
    return y


def bad_subscript(x, y):
    t = (x, y)
    z = t[0] * 2.0  # HERE
    return z


def bad_subscript_store(x, y):
    t = (x, y)
    t[0] = y  # HERE
    return x


def bad_list(x):
    v = [x, x]  # HERE
    return x


def bad_dict(x):
    d = {"a": x}  # HERE
    return x


def bad_set(x):
    s = {x, 2.0}  # HERE
    return x


def bad_starred(x, y):
    t = (x, y)
    z = math.hypot(*t)  # HERE
    return z


def bad_starred_target(x, y):
    a, *b = x, y, x  # HERE
    return a


def bad_varargs(x, *args):  # HERE
    return x


def bad_kwargs(x, **options):  # HERE
    return x


def bad_early_return(x):
    if x > 0.0:
        return x * 2.0  # HERE
    y = -x
    return y


def bad_for_else(x):
    y = x
    for i in range(3):
        y = y * x
    else:
        y = y + 1.0  # HERE
    return y


def bad_while_else(x):
    y = x
    while y < 10.0:
        y = y * 2.0
    else:
        y = y + 1.0  # HERE
    return y


def bad_for_nonrange(x, y):
    s = 0.0
    for v in (x, y):  # HERE
        s = s + v
    return s


def bad_unpack(x, y):
    t = (x, y)
    a, b = t  # HERE
    return a * b


def bad_local_attribute(x):
    y = x.real * 2.0  # HERE
    return y


def bad_complex(x):
    y = x * 2j  # HERE
    return y


def bad_call_kwargs(x):
    opts = {}
    y = math.log(x, **opts)  # HERE
    return y


def bad_aug_attribute(x):
    x.real += 1.0  # HERE
    return x


def bad_for_target(x):
    s = x
    for i, j in range(3):  # HERE
        s = s * x
    return s


# ----------------------------------------------------------------------- missing rules

def helper_square(z):
    return z * z


def no_rule_gamma(x):
    y = x * 2.0
    z = math.gamma(y)  # HERE
    return z


def no_rule_user_function(x):
    y = 1.0 + helper_square(x)  # HERE
    return y


def no_rule_inactive_gamma(x):
    # math.gamma of a constant is not active: no rule needed
    c = math.gamma(3.0)
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
