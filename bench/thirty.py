"""A 30-line function (30 lines of body) for the transformation-time target: a driven,
damped nonlinear oscillator fitted to targets, with branches, calls to math, a list that
grows, two loops and a few scalar locals, written as a plain Python user would."""
from __future__ import annotations

import math

LINES = 30


def thirty_lines(params, drive, targets):
    k, c, m, x0, v0 = params
    omega = math.sqrt(k / m)
    zeta = c / (2.0 * math.sqrt(k * m))
    x = x0
    v = v0
    dt = 0.05
    loss = 0.0
    history = []
    for i in range(len(drive)):
        force = -k * x - c * v
        if abs(x) > 1.0:
            force = force - 0.1 * x ** 3
        else:
            force = force + 0.05 * math.sin(x)
        a = (force + drive[i] * math.cos(omega * i * dt)) / m
        v = v + dt * a
        x = x + dt * v
        history.append(x)
        err = x - targets[i]
        loss += err * err
    smooth = 0.0
    for j in range(1, len(history)):
        d = history[j] - history[j - 1]
        smooth += d * d
    energy = 0.5 * m * v * v + 0.5 * k * x * x
    penalty = math.exp(-zeta) + math.log1p(energy)
    total = loss / len(drive) + 0.01 * smooth + 0.001 * penalty
    if total > 1e6:
        total = 1e6 + math.log(total)
    return total


def inputs() -> tuple:
    n = 50
    drive = [math.sin(0.3 * i) for i in range(n)]
    targets = [0.5 * math.cos(0.2 * i) for i in range(n)]
    return [2.0, 0.3, 1.0, 0.5, 0.0], drive, targets
