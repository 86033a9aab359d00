"""A vanilla (Elman) recurrent network run over a sequence, a linear read-out at every
step and a squared-error loss against targets: a Python loop over time steps whose body
is small matrix-vector products."""
from __future__ import annotations

import numpy as np

from bench.common import rng, tangent_runner, torch_runner

NAME = "rnn"
KIND = "array-loop"
SIZES = {"small": (10, 4, 8, 2), "large": (200, 32, 64, 8)}
SIZE_DOC = "steps x inputs x hidden x outputs"
WRT = (0, 1, 2, 3)
NOTES = {
    "autograd": "the primal with autograd.numpy",
    "tangent": "the primal with np.zeros_like(b) for the initial state (tangent-ad does not "
               "handle W.shape)",
    "torch": "the primal with torch ops, Python loop over steps",
    "jax": "lax.scan over the steps",
}


def inputs(size: str) -> tuple:
    steps, d, hdim, k = SIZES[size]
    r = rng(6)
    W = r.normal(scale=0.9 / np.sqrt(hdim), size=(hdim, hdim))
    U = r.normal(scale=1.0 / np.sqrt(d), size=(hdim, d))
    b = r.normal(scale=0.1, size=hdim)
    V = r.normal(scale=1.0 / np.sqrt(hdim), size=(k, hdim))
    xs = r.normal(size=(steps, d))
    targets = r.normal(size=(steps, k))
    return W, U, b, V, xs, targets


def primal(W, U, b, V, xs, targets):
    h = np.zeros(W.shape[0])
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
        out = V @ h
        loss = loss + np.sum((out - targets[t]) ** 2)
    return loss


def hand(W, U, b, V, xs, targets):
    """Backpropagation through time. The forward sweep is the primal's, keeping the hidden
    states and residuals; the reverse sweep carries d loss / d h back through the steps,
    and the weight gradients are one matrix product each after it."""
    steps = xs.shape[0]
    hdim = W.shape[0]
    hs = np.empty((steps + 1, hdim))
    hs[0] = 0.0
    res = np.empty((steps, V.shape[0]))
    h = hs[0]
    loss = 0.0
    for t in range(steps):
        h = np.tanh(W @ h + U @ xs[t] + b)
        hs[t + 1] = h
        r = V @ h - targets[t]
        res[t] = r
        loss = loss + np.sum(r * r)
    res *= 2.0                                        # d loss / d out, all steps
    gout_h = res @ V                                  # read-out part of d loss / d h
    da = np.empty((steps, hdim))                      # d loss / d pre-activation
    carry = np.zeros(hdim)
    for t in range(steps - 1, -1, -1):
        h = hs[t + 1]
        g = (gout_h[t] + carry) * (1.0 - h * h)
        da[t] = g
        carry = g @ W
    gW = da.T @ hs[:-1]
    gU = da.T @ xs
    gb = np.sum(da, axis=0)
    gV = res.T @ hs[1:]
    return loss, (gW, gU, gb, gV)


# ------------------------------------------------------------------------------ peers

def autograd_peer(args):
    import autograd
    import autograd.numpy as anp

    def f(W, U, b, V, xs, targets):
        h = anp.zeros(W.shape[0])
        loss = 0.0
        for t in range(xs.shape[0]):
            h = anp.tanh(anp.dot(W, h) + anp.dot(U, xs[t]) + b)
            out = anp.dot(V, h)
            loss = loss + anp.sum((out - targets[t]) ** 2)
        return loss

    vg = autograd.value_and_grad(f, argnum=(0, 1, 2, 3))
    return lambda: vg(*args)


def primal_tangent(W, U, b, V, xs, targets):
    h = np.zeros_like(b)
    loss = 0.0
    for t in range(len(xs)):
        h = np.tanh(np.dot(W, h) + np.dot(U, xs[t]) + b)
        out = np.dot(V, h)
        loss = loss + np.sum((out - targets[t]) ** 2)
    return loss


def tangent_peer(args):
    return tangent_runner(primal_tangent, (0, 1, 2, 3), args)


def torch_peer(args):
    import torch
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args[:4]]
    xs = torch.from_numpy(args[4])
    targets = torch.from_numpy(args[5])

    def f(W, U, b, V):
        h = torch.zeros(W.shape[0], dtype=torch.float64)
        loss = 0.0
        for t in range(xs.shape[0]):
            h = torch.tanh(W @ h + U @ xs[t] + b)
            out = V @ h
            loss = loss + torch.sum((out - targets[t]) ** 2)
        return loss

    return torch_runner(f, params)


def _jax(jit: bool):
    def make(args):
        import jax
        import jax.numpy as jnp

        def f(W, U, b, V, xs, targets):
            def step(h, xt):
                x, target = xt
                h = jnp.tanh(W @ h + U @ x + b)
                out = V @ h
                return h, jnp.sum((out - target) ** 2)

            _, losses = jax.lax.scan(step, jnp.zeros(W.shape[0]), (xs, targets))
            return jnp.sum(losses)

        vg = jax.value_and_grad(f, argnums=(0, 1, 2, 3))
        if jit:
            vg = jax.jit(vg)
        a = tuple(jnp.asarray(v) for v in args)
        return lambda: jax.block_until_ready(vg(*a))
    return make


PEERS = {"autograd": autograd_peer, "tangent": tangent_peer, "torch": torch_peer,
         "jax": _jax(False), "jax-jit": _jax(True)}
