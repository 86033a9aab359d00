"""A small module whose written gradient module is frozen in tests/golden/offline/."""
import math

RATE = 0.5


def shrink(x):
    return x * RATE


def energy(x, y):
    z = shrink(x) * y
    if z > 0.0:
        z = z + math.sin(x)
    return z
