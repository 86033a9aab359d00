import math

from . import sub


def cube(x):
    return x * x * x


def wave(x):
    return math.sin(x) + cube(x)


def uses_sibling(x):
    return sub.extra.twice(x)
