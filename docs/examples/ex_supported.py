"""One small function per supported construct in docs/supported.md.

tests/test_docs.py checks that each example line quoted in the doc's table is in the
function named next to it, and that ``ast_ad.grad`` of the function agrees with central
finite differences at every point listed in ``CASES`` (``name: [(args, wrt), ...]``).
"""
# ruff: noqa: B007
import math

import numpy as np

import ast_ad

SCALE = 3.0


# ------------------------------------------------------------------ arithmetic, math, builtins

def arithmetic(x, y):
    return (x + y) * (x - y) / y ** 2 + x % 3.0 - (-x) + (+y) + x // 1.0


def math_functions(x):
    return math.sin(x) * math.exp(x) + math.log(x, 2.0) + math.hypot(x, 2.0, 3.0) + math.pi


def builtin_functions(x, y):
    return abs(x) + max(x, y, 0.5) + min(x, y) + float(x) + pow(x, 2) + int(x) + round(y)


def sum_of_literal(x, y):
    return sum([x, y, x * y])


def global_constant(x):
    return SCALE * x


def comparisons(x):
    ok = 0.0 < x < 2.0 and not x == 1.0
    return x * x if ok else x


def bool_values(x, y):
    z = x or y
    return z * 2.0


# ------------------------------------------------------------------ numpy

def numpy_functions(a):
    return np.sum(np.sin(a) * a) + np.linalg.norm(a) + np.max(a) + np.mean(np.exp(a))


def array_methods(a):
    m = a.reshape(2, 2)
    return m.sum(axis=0)[1] + m.T[0, 1] + a.mean() + a.max() + a.clip(0.25, 0.9).sum()


def matmul(a, b):
    return np.sum(np.tanh(a @ b)) + np.dot(a[0], b[:, 1]) + np.einsum("ij,jk->", a, b)


def broadcasting(a, s):
    return np.sum(np.exp(s * a) + a)


def array_reads(a):
    return a[0] * a[-1] + a[1:3].sum() + a[a > 0.5].sum() + a[[0, 2, 2]].sum()


def array_writes(a):
    b = np.zeros(4)
    b[0] = a[1]
    b[1:3] = a[:2] * 2.0
    b[[0, 3]] = a[2:]
    b[b > 1.0] = 0.0
    return (b * a).sum()


def array_where(a):
    return np.where(a > 0.5, a * a, -a).sum()


def array_from_scalars(x, y):
    v = np.array([x, y, x * y])
    return np.sum(v ** 2)


def array_augmented(a):
    b = a * 1.0
    b += 1.0
    b *= a
    return b.sum()


def loop_over_rows(m):
    s = 0.0
    for row in m:
        s = s + np.sum(row * row)
    return s


# ------------------------------------------------------------------ control flow

def if_elif_else(x):
    if x > 1.0:
        y = x * x
    elif x > 0.0:
        y = 3.0 * x
    else:
        y = -x
    return y


def conditional_expression(x):
    return x * x if x > 0.0 else -x


def for_range(x):
    s = 0.0
    for i in range(1, 7, 2):
        s = s + i * x
    return s


def for_list(xs):
    s = 0.0
    for v in xs:
        s = s + v * v
    return s


def for_tuple(x, y):
    s = 0.0
    for v in (x, y, x):
        s = s + v * v
    return s


def for_enumerate(xs):
    s = 0.0
    for i, v in enumerate(xs):
        s = s + i * v * v
    return s


def for_zip(xs, ys):
    s = 0.0
    for a, b in zip(xs, ys):
        s = s + a * b
    return s


def for_reversed(xs):
    s = 0.0
    for v in reversed(xs):
        s = s * 0.5 + v
    return s


def for_dict(x):
    d = {"a": x, "b": 2.0 * x}
    s = 0.0
    for k, v in d.items():
        s = s + v * v
    for k in d.keys():
        s = s + d[k]
    for v in d.values():
        s = s + v
    return s


def while_loop(x):
    while x < 100.0:
        x = x * 2.0
    return x


def break_loop(x):
    for i in range(10):
        if x > 5.0:
            break
        x = x * 1.5
    return x


def continue_loop(x):
    s = 0.0
    for i in range(6):
        if i % 2 == 0:
            continue
        s = s + x * i
    return s


def return_anywhere(x):
    for i in range(10):
        x = x * 1.5
        if x > 5.0:
            return x * x
    return x


def for_else(x):
    for i in range(3):
        if x > 100.0:
            break
        x = x * 2.0
    else:
        x = x + 1.0
    return x


def while_else(x):
    while x < 10.0:
        x = x * 2.0
        if x > 1000.0:
            break
    else:
        x = x * x
    return x


# ------------------------------------------------------------------ functions

def helper(a, b=2.0):
    return a * b


def user_helpers(x):
    return helper(x) + helper(x, b=x) + helper(b=3.0, a=x)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def keyword_only(x, *, scale=2.0):
    return x * scale


def pair(a):
    return a * 2.0, a * a


def tuple_results(x):
    p, q = pair(x)
    return p + q


def closure(x):
    def inner(t):
        return t * x
    return inner(x) + inner(2.0)


def lambdas(x):
    square = lambda t: t * t  # noqa: E731
    return square(x) + (lambda t: 3.0 * t)(x)


def apply(fn, v):
    return fn(v)


def higher_order(x):
    return apply(math.sin, x) + apply(lambda t: t * t, x)


# ------------------------------------------------------------------ containers

def literals(x, y):
    xs, t, d = [x, y, x * y], (x, y), {"p": x, "q": y}
    return xs[0] * xs[-1] + t[1] + d["p"] * d["q"]


def slicing(xs):
    ys = xs[1:3]
    return ys[0] * ys[1] + sum(xs[::2])


def item_assignment(x):
    xs = [0.0, 0.0, 0.0]
    xs[0] = x
    xs[2] = xs[0] * x
    m = [[x, 1.0], [2.0, x]]
    m[1][0] = x * 3.0
    d = {}
    d["a"] = x
    return xs[2] + m[1][0] * m[0][0] + d["a"]


def list_methods(x):
    xs = [x]
    xs.append(2.0 * x)
    xs.extend([x, x])
    xs.insert(0, x * x)
    v = xs.pop()
    w = xs.pop(0)
    return v + w + sum(xs)


def copy_then_mutate(xs):
    ys = xs.copy()
    ys.append(1.0)
    ys[0] = ys[0] * ys[1]
    return sum(ys)


def comprehensions(xs):
    squares = [v * v for v in xs]
    d = {i: v for i, v in enumerate(xs)}
    return sum(squares) + sum(v for v in xs if v > 0) + d[0]


def unpacking(x):
    a, b = x, 2.0 * x
    p = (a, b)
    c, d = p
    return c * d


def max_of_list(xs):
    return max(xs) + min(xs)


def dict_argument(d):
    return d["w"] * d["w"] + d["b"]


# ------------------------------------------------------------------ no effect on derivatives

def no_effect(x):
    """A docstring."""
    print("x is", x)
    assert x > 0, "x must be positive"
    pass
    return x * x


def annotated(x):
    y: float = x * 2.0
    return y


def stop(x):
    return x * ast_ad.stop_gradient(x) + x


A = np.array([0.3, 0.7, 1.1, 0.2])
M = np.array([[0.3, 0.7], [1.1, 0.2]])
N = np.array([[0.5, -0.4], [0.9, 1.3]])

CASES = {
    "arithmetic": [((1.3, 0.7), 0), ((1.3, 0.7), 1)],
    "math_functions": [((1.3,), 0)],
    "builtin_functions": [((1.3, 0.7), 0), ((1.3, 0.7), 1)],
    "sum_of_literal": [((1.3, 0.7), 0)],
    "global_constant": [((1.3,), 0)],
    "comparisons": [((1.3,), 0), ((2.5,), 0)],
    "bool_values": [((1.3, 0.7), 0), ((0.0, 0.7), 1)],
    "numpy_functions": [((A,), 0)],
    "array_methods": [((A,), 0)],
    "matmul": [((M, N), 0), ((M, N), 1)],
    "broadcasting": [((M, 0.5), 1), ((M, np.array([0.5, 2.0])), 1), ((M, 0.5), 0)],
    "array_reads": [((A[:3].copy(),), 0)],
    "array_writes": [((A,), 0)],
    "array_where": [((A,), 0)],
    "array_from_scalars": [((1.5, 0.5), 0)],
    "array_augmented": [((A,), 0)],
    "loop_over_rows": [((M,), 0)],
    "if_elif_else": [((1.3,), 0), ((0.3,), 0), ((-0.3,), 0)],
    "conditional_expression": [((1.3,), 0), ((-1.3,), 0)],
    "for_range": [((1.3,), 0)],
    "for_list": [(([1.0, 2.0, 3.0],), 0)],
    "for_tuple": [((1.0, 2.0), 0), ((1.0, 2.0), 1)],
    "for_enumerate": [(([1.0, 2.0, 3.0],), 0)],
    "for_zip": [(([1.0, 2.0], [3.0, 4.0]), 0), (([1.0, 2.0], [3.0, 4.0]), 1)],
    "for_reversed": [(([1.0, 2.0, 3.0],), 0)],
    "for_dict": [((1.5,), 0)],
    "while_loop": [((1.3,), 0)],
    "break_loop": [((1.3,), 0)],
    "continue_loop": [((1.3,), 0)],
    "return_anywhere": [((1.3,), 0), ((0.01,), 0)],
    "for_else": [((1.3,), 0), ((200.0,), 0)],
    "while_else": [((1.3,), 0)],
    "user_helpers": [((1.3,), 0)],
    "power": [((1.3, 4), 0)],
    "keyword_only": [((1.3,), 0)],
    "tuple_results": [((1.3,), 0)],
    "closure": [((1.3,), 0)],
    "lambdas": [((1.3,), 0)],
    "higher_order": [((1.3,), 0)],
    "literals": [((1.3, 0.7), 0), ((1.3, 0.7), 1)],
    "slicing": [(([1.0, 2.0, 3.0, 4.0],), 0)],
    "item_assignment": [((1.3,), 0)],
    "list_methods": [((1.3,), 0)],
    "copy_then_mutate": [(([1.0, 2.0],), 0)],
    "comprehensions": [(([1.0, -2.0, 3.0],), 0)],
    "unpacking": [((1.3,), 0)],
    "max_of_list": [(([1.0, 5.0, 3.0],), 0)],
    "dict_argument": [(({"w": 1.5, "b": 0.5},), 0)],
    "no_effect": [((1.3,), 0)],
    "annotated": [((1.3,), 0)],
}
