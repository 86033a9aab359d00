import math

import numpy as np


def clip_step(v, lo=-1.0, hi=1.0):
    if v < lo:
        return lo + 0.1 * (v - lo)
    for k in range(2):
        if v > hi:
            return hi + 0.1 * (v - hi)
        v = v * 1.01
    return v

def build(a, n):
    out = []
    for i in range(n):
        out.append(a * (i + 1))
    out[0] = out[-1] * 0.5
    return sum(out)

def mix1(x, y):
    s = 0.0
    for i in range(4):
        s = s + clip_step(x * i - y, hi=2.0) + build(x, i + 1)
    last = s
    for j in range(3):
        z = math.sin(s * 0.1 + j)
        s = s + z * last
    return s + z

def mix2(xs, w):
    tot = 0.0
    for v in xs:
        u = v * w
        tot = tot + u * u
    return tot + u

def mix3(W, x):
    h = x
    for t in range(3):
        a = W @ h
        h = np.tanh(a) + 0.5 * h
    return float(np.sum(h * h))
