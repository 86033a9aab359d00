"""Logistic regression: the mean negative log-likelihood of a linear model on dense
features, differentiated with respect to the weights and the bias."""
from __future__ import annotations

import numpy as np

from bench.common import rng, tangent_runner

NAME = "logreg"
KIND = "vectorised"
SIZES = {"small": (64, 8), "large": (20000, 64)}
SIZE_DOC = "samples x features"
WRT = (0, 1)
NOTES = {
    "autograd": "the primal with autograd.numpy",
    "tangent": "the primal itself",
    "torch": "the primal with torch ops (logaddexp, matmul)",
    "jax": "the primal with jax.numpy",
}


def inputs(size: str) -> tuple:
    n, d = SIZES[size]
    r = rng(3)
    X = r.normal(size=(n, d))
    true_w = r.normal(size=d)
    y = (X @ true_w + r.normal(size=n) > 0.0).astype(np.float64)
    w = r.normal(scale=0.1, size=d)
    return w, 0.1, X, y


def primal(w, b, X, y):
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def hand(w, b, X, y):
    """dL/dz = (sigmoid(z) - y) / n, with sigmoid(z) = exp(z - logaddexp(0, z)) reusing
    the softplus the value needs."""
    z = X @ w
    z += b
    sp = np.logaddexp(0.0, z)
    value = np.mean(sp - y * z)
    gz = np.exp(z - sp)
    gz -= y
    gz *= 1.0 / z.shape[0]
    return value, (gz @ X, float(np.sum(gz)))


# ------------------------------------------------------------------------------ peers

def autograd_peer(args):
    import autograd
    import autograd.numpy as anp

    def f(w, b, X, y):
        z = anp.dot(X, w) + b
        return anp.mean(anp.logaddexp(0.0, z) - y * z)

    vg = autograd.value_and_grad(f, argnum=(0, 1))
    return lambda: vg(*args)


def tangent_peer(args):
    return tangent_runner(primal, (0, 1), args)


def torch_peer(args):
    import torch
    w = torch.tensor(args[0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(args[1], dtype=torch.float64, requires_grad=True)
    X = torch.from_numpy(args[2])
    y = torch.from_numpy(args[3])

    def run():
        w.grad = None
        b.grad = None
        z = X @ w + b
        loss = torch.mean(torch.logaddexp(torch.zeros((), dtype=torch.float64), z) - y * z)
        loss.backward()
        return loss.detach(), (w.grad, b.grad)
    return run


def _jax(jit: bool):
    def make(args):
        import jax
        import jax.numpy as jnp

        def f(w, b, X, y):
            z = X @ w + b
            return jnp.mean(jnp.logaddexp(0.0, z) - y * z)

        vg = jax.value_and_grad(f, argnums=(0, 1))
        if jit:
            vg = jax.jit(vg)
        a = tuple(jnp.asarray(v) for v in args)
        return lambda: jax.block_until_ready(vg(*a))
    return make


PEERS = {"autograd": autograd_peer, "tangent": tangent_peer, "torch": torch_peer,
         "jax": _jax(False), "jax-jit": _jax(True)}
