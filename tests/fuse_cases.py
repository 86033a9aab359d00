"""Functions for tests/test_fuse.py: loops whose adjoint can run inside them, and loops
whose adjoint cannot (their line numbers are not quoted anywhere)."""
import math


def rosen(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def fit(a, b, xs, ys):
    loss = 0.0
    for i in range(len(xs)):
        r = a * xs[i] + b - ys[i]
        loss += r * r
    return loss / len(xs)


def wave(x, y):
    z = x * y
    for i in range(3):
        z = z + math.sin(x * i)
    return z


def doubled(x):
    s = x[0] * 0
    for i in range(len(x)):
        s += x[i] * 2
    return s


# ---------------------------------------------------------------- must not be fused

def product(x):
    p = 1.0
    for i in range(len(x)):
        p = p * x[i]          # the adjoint of p changes from one iteration to the next
    return p


def squared_sum(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i]
    return s ** 2             # the seed of the loop needs s after it


def early_stop(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 2.0:
            break
        s += x[i] * x[i]
    return s


def grows(x):
    seen = []
    s = 0.0
    for i in range(len(x)):
        seen.append(x[i])
        s += x[i] * x[i]
    return s / len(seen)      # len(seen) must stay after the loop


def carried(x, w):
    s = 0.0
    h = 1.0
    for i in range(len(x)):
        h = math.tanh(w * h + x[i])   # h is read by the next iteration's adjoint
        s += h
    return s


# ---------------------------------------------------------------- order-sensitive cases

def reuse_index(x, xs):
    i = 2
    y = x * i
    s = 0.0
    for i in range(len(xs)):
        s += y * xs[i]
    return s


def hoist_order(x, xs):
    s = 0.0
    z = 1.5
    for i in range(len(xs)):
        s += x * xs[i]
    y = s + z          # reads the z of before the loop
    z = len(xs)        # so this must stay after that line
    return y + z * x


def horner(coeffs, xs, ys):
    loss = 0.0
    for x, y in zip(xs, ys):
        p = 0.0
        for c in coeffs:
            p = p * x + c
        r = p - y
        loss += r * r
    return loss / len(xs)


def horner_squared(coeffs, xs, ys):
    loss = 0.0
    for x, y in zip(xs, ys):
        p = 0.0
        for c in coeffs:
            p = p * x + c
        r = p - y
        loss += r * r
    return loss * loss


def inner_tape(coeffs, xs):
    loss = 0.0
    for x in xs:
        p = 0.0
        for c in coeffs:
            p = math.sin(p * x + c)
        loss += p
    return loss


def chained(x, ws):
    s = 0.0
    for w in ws:
        for k in range(2):
            x = x * w
        s += x
    return s


def doubling(x, ws):
    s = 0.0
    for w in ws:
        s += x * w
        for k in range(2):
            x = x * 2.0
    return s


def last_item(a, xs):
    s = 0.0
    for x in xs:
        p = 0.0
        for w in xs:
            p = p + a * w * x
        s += p
    return s + w


def keep_tape(x, xs):
    y = x * x
    y = math.sin(y)
    s = 0.0
    for v in xs:
        r = v * y
        s += r * r
    return s
