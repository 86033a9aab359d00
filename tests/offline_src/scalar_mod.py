"""Scalar functions for the offline tests: loops, branches, calls between functions.

Read by ast-ad transform, and imported by the tests to compare with ast_ad.grad.
"""
import math
from math import sin as s

SCALE = 1.5
act = math.tanh


def poly(x, y):
    return SCALE * x * x * y + s(y)


def loop_branch(x, n):
    z = 0.0
    for i in range(n):
        if z < 2.0:
            z = z + x * math.cos(z)
        else:
            z = z * 0.5
    return z


def while_loop(x):
    k = 0
    y = x
    while k < 4:
        y = act(y) + x
        k += 1
    return y


def helper(a, b):
    return a * math.exp(-b) + b


def caller(x, y):
    total = 0.0
    for i in range(3):
        total = total + helper(x, total) * y
    return total + poly(x, y)


def recursive(x, n):
    if n == 0:
        return x
    return math.sin(recursive(x, n - 1)) * x


def opens_a_file(x):
    with open("data.txt") as handle:
        handle.read()
    return x
