"""Least-squares polynomial fitting: the mean squared residual of a degree-8 polynomial,
evaluated with Horner's rule in a loop over the data points and the coefficients."""
from __future__ import annotations

from bench.common import rng, tangent_runner

NAME = "horner"
KIND = "scalar"
DEGREE = 8
SIZES = {"small": 16, "large": 500}
SIZE_DOC = "data points (degree 8)"
WRT = 0
NOTES = {
    "autograd": "the primal itself, on lists",
    "tangent": "index loops instead of `for c in coeffs` / zip (tangent-ad gives a zero "
               "gradient through iteration over the list)",
    "torch": "the primal itself; coefficients a float64 tensor, data lists of floats",
    "torch-vec": "loop over coefficients, vectorised over the data points (informational)",
    "jax": "loop over coefficients (unrolled), vectorised over the data points",
}


def inputs(size: str) -> tuple:
    n = SIZES[size]
    r = rng(2)
    coeffs = r.normal(0.0, 1.0, DEGREE + 1).tolist()
    xs = r.uniform(-1.0, 1.0, n).tolist()
    ys = r.normal(0.0, 1.0, n).tolist()
    return coeffs, xs, ys


def primal(coeffs, xs, ys):
    loss = 0.0
    for x, y in zip(xs, ys):
        p = 0.0
        for c in coeffs:
            p = p * x + c
        r = p - y
        loss += r * r
    return loss / len(xs)


def hand(coeffs, xs, ys):
    """The residual's gradient with respect to coefficient k is x ** (m - 1 - k): build the
    powers alongside Horner's rule, then accumulate 2 r / n times them."""
    m = len(coeffs)
    g = [0.0] * m
    loss = 0.0
    scale = 2.0 / len(xs)
    for x, y in zip(xs, ys):
        p = 0.0
        for c in coeffs:
            p = p * x + c
        r = p - y
        loss += r * r
        w = r * scale
        for k in range(m - 1, -1, -1):
            g[k] += w
            w *= x
    return loss / len(xs), g


# ------------------------------------------------------------------------------ peers

def primal_indexed(coeffs, xs, ys):
    """The same computation with index loops, the form tangent-ad differentiates."""
    loss = 0.0
    for j in range(len(xs)):
        p = 0.0
        for k in range(len(coeffs)):
            p = p * xs[j] + coeffs[k]
        r = p - ys[j]
        loss += r * r
    return loss / len(xs)


def autograd_peer(args):
    import autograd
    vg = autograd.value_and_grad(primal)
    return lambda: vg(*args)


def tangent_peer(args):
    return tangent_runner(primal_indexed, (0,), args)


def torch_peer(args):
    import torch
    coeffs = torch.tensor(args[0], dtype=torch.float64, requires_grad=True)
    xs, ys = args[1], args[2]

    def run():
        coeffs.grad = None
        loss = primal(coeffs, xs, ys)
        loss.backward()
        return loss.detach(), coeffs.grad
    return run


def _vectorised(coeffs, xs, ys):
    p = 0.0 * xs
    for c in coeffs:
        p = p * xs + c
    r = p - ys
    return (r * r).mean()


def torch_vec_peer(args):
    import torch
    coeffs = torch.tensor(args[0], dtype=torch.float64, requires_grad=True)
    xs = torch.tensor(args[1], dtype=torch.float64)
    ys = torch.tensor(args[2], dtype=torch.float64)

    def run():
        coeffs.grad = None
        loss = _vectorised(coeffs, xs, ys)
        loss.backward()
        return loss.detach(), coeffs.grad
    return run


def _jax(jit: bool):
    def make(args):
        import jax
        import jax.numpy as jnp

        def f(coeffs, xs, ys):
            p = jnp.zeros_like(xs)
            for k in range(coeffs.shape[0]):
                p = p * xs + coeffs[k]
            r = p - ys
            return jnp.mean(r * r)

        vg = jax.value_and_grad(f)
        if jit:
            vg = jax.jit(vg)
        a = tuple(jnp.asarray(v) for v in args)
        return lambda: jax.block_until_ready(vg(*a))
    return make


PEERS = {"autograd": autograd_peer, "tangent": tangent_peer, "torch": torch_peer,
         "torch-vec": torch_vec_peer, "jax": _jax(False), "jax-jit": _jax(True)}
