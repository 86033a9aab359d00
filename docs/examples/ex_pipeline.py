"""Functions shown in docs/how-it-works.md (pipeline, naming, tape, control flow).

Generated code quotes these line numbers: after editing this file, refresh the docs with
``python tests/test_docs.py --refresh`` and review the diff.
"""
# ruff: noqa: B007
import math


def f(x, y):
    z = x * y
    for i in range(3):
        z = z + math.sin(x)
    return z


def nested(x, y):
    return math.sin(x * y) + x / (y - 1.0)


def weighted(xs, w):
    s = 0.0
    for i, x in enumerate(xs):
        s = s + w * i * x
    return s


def capped(x):
    for i in range(10):
        if x > 100.0:
            break
        x = x * x
    return x


def square3(x):
    for i in range(3):
        x = x * x
    return x


def branch(x):
    if x > 0.0:
        y = x * x
    else:
        y = 0.1 * x
    return y


def branch_loop(x):
    s = 0.0
    for i in range(4):
        if s < 1.0:
            s = s + x
        else:
            s = s * x
    return s


def doubling(x, n):
    k = 0
    while k < n:
        x = 2.0 * x
        k = k + 1
    return x


def first_big(x):
    for i in range(10):
        x = x * 1.5
        if x > 5.0:
            return x * x
    return x


def rate(x, p):
    k, c = p
    return c - k * x


def integrate(p, x, n):
    for _ in range(n):
        x = x + 0.1 * rate(x, p)
    return x


def heun(p, x, n):
    for _ in range(n):
        x1 = x + 0.1 * rate(x, p)
        x = x + 0.05 * (rate(x, p) + rate(x1, p))
    return x
