"""Rosenbrock's function over a Python list of floats: a scalar loop, three reads of the
list and a dozen float operations per step."""
from __future__ import annotations

from bench.common import rng, tangent_runner

NAME = "rosenbrock"
KIND = "scalar"
SIZES = {"small": 16, "large": 1000}
SIZE_DOC = "list length"
WRT = 0
NOTES = {
    "autograd": "the primal itself, on the list",
    "tangent": "the primal itself, on the list",
    "torch": "the primal itself, on a 1-D float64 tensor (loop kept)",
    "torch-vec": "vectorised rewrite with slices (informational)",
    "jax": "vectorised rewrite with slices (JAX users do not loop over elements)",
}


def inputs(size: str) -> tuple:
    n = SIZES[size]
    return (list(rng(1).uniform(-1.5, 1.5, n).tolist()),)


def primal(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def hand(x):
    """Value and gradient in one pass: each step's partials go straight into the list."""
    n = len(x)
    g = [0.0] * n
    s = 0.0
    xi = x[0]
    gi = 0.0
    for i in range(1, n):
        xn = x[i]
        t = xn - xi * xi
        u = 1.0 - xi
        s += 100.0 * t * t + u * u
        g[i - 1] = gi - 400.0 * t * xi - 2.0 * u
        gi = 200.0 * t
        xi = xn
    g[n - 1] = gi
    return s, g


def hand_exact(x):
    """``hand`` with the primal's own ``** 2``, so that its value is the primal's bit for
    bit on every input: C's ``pow(x, 2.0)`` and ``x * x`` differ in the last bit for about
    one float in 1,100 (273 of 300,000 uniform in [-1.5, 1.5]). The floor for an adjoint
    that must return the primal's value, as ast_ad's does."""
    n = len(x)
    g = [0.0] * n
    s = 0.0
    xi = x[0]
    gi = 0.0
    for i in range(1, n):
        xn = x[i]
        t = xn - xi ** 2
        u = 1.0 - xi
        s += 100.0 * t ** 2 + u ** 2
        g[i - 1] = gi - 400.0 * t * xi - 2.0 * u
        gi = 200.0 * t
        xi = xn
    g[n - 1] = gi
    return s, g


# ------------------------------------------------------------------------------ peers

def autograd_peer(args):
    import autograd
    vg = autograd.value_and_grad(primal)
    return lambda: vg(*args)


def tangent_peer(args):
    return tangent_runner(primal, (0,), args)


def torch_peer(args):
    import torch
    x = torch.tensor(args[0], dtype=torch.float64, requires_grad=True)

    def run():
        x.grad = None
        loss = primal(x)
        loss.backward()
        return loss.detach(), x.grad
    return run


def _torch_vec(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def torch_vec_peer(args):
    import torch
    x = torch.tensor(args[0], dtype=torch.float64, requires_grad=True)

    def run():
        x.grad = None
        loss = _torch_vec(x)
        loss.backward()
        return loss.detach(), x.grad
    return run


def _jax_fn():
    import jax.numpy as jnp

    def f(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    return f


def jax_peer(args):
    import jax
    import jax.numpy as jnp
    vg = jax.value_and_grad(_jax_fn())
    x = jnp.asarray(args[0])
    return lambda: jax.block_until_ready(vg(x))


def jax_jit_peer(args):
    import jax
    import jax.numpy as jnp
    vg = jax.jit(jax.value_and_grad(_jax_fn()))
    x = jnp.asarray(args[0])
    return lambda: jax.block_until_ready(vg(x))


PEERS = {"autograd": autograd_peer, "tangent": tangent_peer, "torch": torch_peer,
         "torch-vec": torch_vec_peer, "jax": jax_peer, "jax-jit": jax_jit_peer}
