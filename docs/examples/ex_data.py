"""Containers, NumPy, calls and closures in docs/how-it-works.md.

Generated code quotes these line numbers: after editing this file, refresh the docs with
``python tests/test_docs.py --refresh`` and review the diff.
"""
import math

import numpy as np


def collect(x, n):
    ys = []
    for i in range(n):
        ys.append(x * i)
    total = 0.0
    for y in ys:
        total = total + y * y
    return total


def lookup(params, x):
    d = {"w": params[0], "b": params[1]}
    return d["w"] * x + d["b"]


def rotate(x):
    xs = [x, 2.0 * x, 3.0 * x]
    last = xs.pop()
    xs.insert(0, last)
    return xs[0] * xs[1]


def layer(w, x, b):
    h = np.tanh(x @ w + b)
    return np.sum(h ** 2)


def h(a, b):
    c = a * b
    return math.sin(c)


def g(x):
    y = h(x, 2.0)
    return y * x


def outer(x, w):
    def scaled(t):
        return t * w
    return scaled(x) + scaled(x * x)


def spread(x, scale):
    return np.sum(np.sum(x ** 2, axis=1) / scale)


def log_sum_exp(z):
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0])
