"""A classic fourth-order Runge-Kutta integrator of the Lotka-Volterra equations over many
fixed steps, with the right-hand side a helper function the integrator calls four times a
step; the loss is the squared norm of the final state, differentiated with respect to the
four parameters and the initial state."""
from __future__ import annotations

from bench.common import tangent_runner

NAME = "rk4"
KIND = "scalar"
SIZES = {"small": 20, "large": 500}
SIZE_DOC = "steps"
WRT = (0, 1)
STEP = 0.01
NOTES = {
    "autograd": "the primal itself, on lists",
    "tangent": "the primal itself, on lists",
    "torch": "the primal itself, on float64 tensors (parameters and state)",
    "jax": "lax.fori_loop over the steps with the state as the carry",
}


def inputs(size: str) -> tuple:
    return [1.1, 0.4, 0.4, 0.1], [10.0, 10.0], STEP, SIZES[size]


def lotka_volterra(x, y, p):
    a, b, c, d = p
    return a * x - b * x * y, d * x * y - c * y


def primal(p, y0, h, steps):
    x, y = y0
    for _ in range(steps):
        k1x, k1y = lotka_volterra(x, y, p)
        k2x, k2y = lotka_volterra(x + 0.5 * h * k1x, y + 0.5 * h * k1y, p)
        k3x, k3y = lotka_volterra(x + 0.5 * h * k2x, y + 0.5 * h * k2y, p)
        k4x, k4y = lotka_volterra(x + h * k3x, y + h * k3y, p)
        x = x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + h / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    return x * x + y * y


def hand(p, y0, h, steps):
    """Discrete adjoint of RK4: the forward sweep stores each step's start state (two floats
    a step); the reverse sweep recomputes the stages of one step and runs back through
    them, with the right-hand side's Jacobian written out."""
    a, b, c, d = p
    x, y = y0
    hh = 0.5 * h
    h6 = h / 6.0
    xs = [0.0] * steps
    ys = [0.0] * steps
    for n in range(steps):
        xs[n] = x
        ys[n] = y
        k1x = a * x - b * x * y
        k1y = d * x * y - c * y
        x2 = x + hh * k1x
        y2 = y + hh * k1y
        k2x = a * x2 - b * x2 * y2
        k2y = d * x2 * y2 - c * y2
        x3 = x + hh * k2x
        y3 = y + hh * k2y
        k3x = a * x3 - b * x3 * y3
        k3y = d * x3 * y3 - c * y3
        x4 = x + h * k3x
        y4 = y + h * k3y
        k4x = a * x4 - b * x4 * y4
        k4y = d * x4 * y4 - c * y4
        x = x + h6 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + h6 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    value = x * x + y * y
    bx = 2.0 * x
    by = 2.0 * y
    ga = gb = gc = gd = 0.0
    for n in range(steps - 1, -1, -1):
        x = xs[n]
        y = ys[n]
        k1x = a * x - b * x * y
        k1y = d * x * y - c * y
        x2 = x + hh * k1x
        y2 = y + hh * k1y
        k2x = a * x2 - b * x2 * y2
        k2y = d * x2 * y2 - c * y2
        x3 = x + hh * k2x
        y3 = y + hh * k2y
        k3x = a * x3 - b * x3 * y3
        k3y = d * x3 * y3 - c * y3
        x4 = x + h * k3x
        y4 = y + h * k3y
        # adjoints of the stage slopes
        b1x = b4x = h6 * bx
        b1y = b4y = h6 * by
        b2x = b3x = 2.0 * b1x
        b2y = b3y = 2.0 * b1y
        # stage 4 at (x4, y4): k4x = a x - b x y, k4y = d x y - c y
        ga += b4x * x4
        gb -= b4x * x4 * y4
        gd += b4y * x4 * y4
        gc -= b4y * y4
        s4x = b4x * (a - b * y4) + b4y * d * y4
        s4y = -b4x * b * x4 + b4y * (d * x4 - c)
        b3x += h * s4x
        b3y += h * s4y
        # stage 3
        ga += b3x * x3
        gb -= b3x * x3 * y3
        gd += b3y * x3 * y3
        gc -= b3y * y3
        s3x = b3x * (a - b * y3) + b3y * d * y3
        s3y = -b3x * b * x3 + b3y * (d * x3 - c)
        b2x += hh * s3x
        b2y += hh * s3y
        # stage 2
        ga += b2x * x2
        gb -= b2x * x2 * y2
        gd += b2y * x2 * y2
        gc -= b2y * y2
        s2x = b2x * (a - b * y2) + b2y * d * y2
        s2y = -b2x * b * x2 + b2y * (d * x2 - c)
        b1x += hh * s2x
        b1y += hh * s2y
        # stage 1
        ga += b1x * x
        gb -= b1x * x * y
        gd += b1y * x * y
        gc -= b1y * y
        s1x = b1x * (a - b * y) + b1y * d * y
        s1y = -b1x * b * x + b1y * (d * x - c)
        bx += s1x + s2x + s3x + s4x
        by += s1y + s2y + s3y + s4y
    return value, ([ga, gb, gc, gd], [bx, by])


# ------------------------------------------------------------------------------ peers

def autograd_peer(args):
    import autograd
    vg = autograd.value_and_grad(primal, argnum=(0, 1))
    return lambda: vg(*args)


def tangent_peer(args):
    return tangent_runner(primal, (0, 1), args)


def torch_peer(args):
    import torch
    p = torch.tensor(args[0], dtype=torch.float64, requires_grad=True)
    y0 = torch.tensor(args[1], dtype=torch.float64, requires_grad=True)
    h, steps = args[2], args[3]

    def run():
        p.grad = None
        y0.grad = None
        loss = primal(p, y0, h, steps)
        loss.backward()
        return loss.detach(), (p.grad, y0.grad)
    return run


def _jax(jit: bool):
    def make(args):
        import jax
        import jax.numpy as jnp

        def rhs(x, y, p):
            a, b, c, d = p[0], p[1], p[2], p[3]
            return a * x - b * x * y, d * x * y - c * y

        def f(p, y0, h, steps):
            def step(_, state):
                x, y = state
                k1x, k1y = rhs(x, y, p)
                k2x, k2y = rhs(x + 0.5 * h * k1x, y + 0.5 * h * k1y, p)
                k3x, k3y = rhs(x + 0.5 * h * k2x, y + 0.5 * h * k2y, p)
                k4x, k4y = rhs(x + h * k3x, y + h * k3y, p)
                return (x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
                        y + h / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y))
            x, y = jax.lax.fori_loop(0, steps, step, (y0[0], y0[1]))
            return x * x + y * y

        vg = jax.value_and_grad(f, argnums=(0, 1))
        if jit:
            vg = jax.jit(vg, static_argnums=(3,))
        p, y0 = jnp.asarray(args[0]), jnp.asarray(args[1])
        h, steps = args[2], args[3]
        return lambda: jax.block_until_ready(vg(p, y0, h, steps))
    return make


PEERS = {"autograd": autograd_peer, "tangent": tangent_peer, "torch": torch_peer,
         "jax": _jax(False), "jax-jit": _jax(True)}
