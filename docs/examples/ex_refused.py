"""One small function per refused construct in docs/supported.md.

tests/test_docs.py checks that each example line quoted in the doc's table is in the
function named next to it, and that differentiating it (with the arguments in ``CASES``,
default ``(1.0,)``) raises the error quoted in the table.
"""
# ruff: noqa: B009, B018, E731, F841, S307
import math

import numpy as np

COUNT = 0


def generator(x):
    yield x * 2.0


async def coroutine(x):
    return x * 2.0


def try_block(x):
    try:
        y = math.log(x)
    except ValueError:
        y = 0.0
    return y


def with_block(x):
    with open(__file__) as fh:
        y = x * len(fh.read())
    return y


def global_write(x):
    global COUNT
    COUNT = COUNT + 1
    return x


def _make_nonlocal():
    total = 0.0

    def nonlocal_write(x):
        nonlocal total
        total = x
        return x

    return nonlocal_write


nonlocal_write = _make_nonlocal()


def match_statement(x):
    match x:
        case 0.0:
            return x
    return x * 2.0


def walrus(x):
    return (y := x * 2.0) + y


def delete(x):
    y = x * 2.0
    del y
    return x


def star_args(*xs):
    return xs[0] * xs[1]


def star_kwargs(x, **options):
    return x


def star_call(xs):
    return math.hypot(*xs)


def class_definition(x):
    class Point:
        pass
    return x


class Model:
    def loss(self, x):
        return x * x


bound_method = Model().loss


def method_call(x, model):
    return model.loss(x)


def attribute_read(x, model):
    return model.weight * x


def attribute_write(x, model):
    model.weight = x
    return x


def dynamic_getattr(x):
    return getattr(math, "sin")(x)


def dynamic_eval(x):
    return eval("x * 2.0")


def complex_number(x):
    return abs(x * 1j)


def argument_mutation(xs):
    xs[0] = xs[0] * 2.0
    return xs[0] * xs[1]


def argument_append(xs):
    xs.append(1.0)
    return sum(xs)


def list_concatenation(x):
    xs = [x, 2.0]
    ys = xs + [x]
    return ys[0] * ys[2]


def list_repetition(x):
    xs = [x] * 3
    return sum(xs)


def apply(fn, v):
    return fn(v)


def escaping_closure(x):
    y = x * 2.0

    def scaled(t):
        return t * y

    return sum(map(scaled, [x]))


def growing_loop(x):
    xs = [x]
    for v in xs:
        if len(xs) < 3:
            xs.append(v * 2.0)
    return xs[-1]


def set_literal(x):
    s = {x, 1.0}
    return x


def local_import(x):
    import math
    return math.sin(x)


def no_rule(x):
    return math.gamma(x)


def unknown_method(xs):
    ys = xs.copy()
    ys.sort()
    return ys[0]


def integer_array(a):
    return np.sum(a * a)


def non_scalar(x):
    return [x, 2.0 * x]


def inplace_argument(a):
    a += 1.0
    return np.sum(a * a)


def aliased_mutation(x):
    xs = [x, 2.0]
    ys = xs
    ys[0] = 3.0 * x
    return xs[0] * ys[1]


CASES = {
    "star_args": ((1.0, 2.0), 0),
    "star_call": (([1.0, 2.0],), 0),
    "method_call": ((1.0, Model()), 0),
    "attribute_read": ((1.0, Model()), 0),
    "attribute_write": ((1.0, Model()), 0),
    "argument_mutation": (([1.0, 2.0],), 0),
    "argument_append": (([1.0, 2.0],), 0),
    "unknown_method": (([1.0, 2.0],), 0),
    "integer_array": ((np.array([1, 2]),), 0),
    "inplace_argument": ((np.array([1.0, 2.0]),), 0),
}
