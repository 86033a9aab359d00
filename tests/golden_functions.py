"""Functions whose generated adjoints tests/test_passes_golden.py freezes.

Line numbers appear in the generated ``# line N: ...`` comments: do not reorder,
insert or delete lines in this file; append new functions at the end only.
"""
import math


def straight_line(x, y):
    z = x * y + math.sin(x)
    return z / y


def if_else(x):
    if x > 0.0:
        y = x * x
    else:
        y = -x
    return y


def for_loop(x):
    s = 0.0
    for i in range(3):
        s = s + x * i
    return s


def while_loop(x):
    while x < 10.0:
        x = x * 2.0
    return x


def loop_reassign(x):
    y = x
    for i in range(3):
        y = math.sin(y) * x
    return y


def inline_helper(u, scale):
    v = u * scale
    return v * v, v + 1.0


def inline_caller(x):
    a, b = inline_helper(x, 2.0)
    return a + b
