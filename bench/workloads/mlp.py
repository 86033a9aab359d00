"""A two-layer perceptron (tanh hidden layer) with a softmax cross-entropy loss over a
mini-batch with one-hot labels, differentiated with respect to all four parameters."""
from __future__ import annotations

import numpy as np

from bench.common import rng, tangent_runner, torch_runner

NAME = "mlp"
KIND = "vectorised"
SIZES = {"small": (16, 10, 16, 4), "large": (256, 128, 256, 10)}
SIZE_DOC = "batch x inputs x hidden x classes"
WRT = (0, 1, 2, 3)
NOTES = {
    "autograd": "the primal with autograd.numpy",
    "tangent": "the primal itself",
    "torch": "the primal with torch ops (explicit max-shifted log-sum-exp)",
    "jax": "the primal with jax.numpy",
}


def inputs(size: str) -> tuple:
    n, d, hdim, k = SIZES[size]
    r = rng(4)
    W1 = r.normal(scale=1.0 / np.sqrt(d), size=(d, hdim))
    b1 = r.normal(scale=0.1, size=hdim)
    W2 = r.normal(scale=1.0 / np.sqrt(hdim), size=(hdim, k))
    b2 = r.normal(scale=0.1, size=k)
    X = r.normal(size=(n, d))
    labels = np.eye(k)[r.integers(0, k, n)]
    return W1, b1, W2, b2, X, labels


def primal(W1, b1, W2, b2, X, labels):
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(logits - m), axis=1)) + m[:, 0]
    picked = np.sum(logits * labels, axis=1)
    return np.mean(lse - picked)


def hand(W1, b1, W2, b2, X, labels):
    """Softmax minus labels, then the usual backpropagation; in-place where it is safe."""
    n = X.shape[0]
    a = X @ W1
    a += b1
    h = np.tanh(a)
    logits = h @ W2
    logits += b2
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = np.sum(e, axis=1)
    value = np.mean(np.log(s) + m[:, 0] - np.sum(logits * labels, axis=1))
    e /= s[:, None]
    e -= labels
    e *= 1.0 / n                   # d loss / d logits
    gW2 = h.T @ e
    gb2 = np.sum(e, axis=0)
    gh = e @ W2.T
    h *= h
    np.subtract(1.0, h, out=h)
    gh *= h                        # d loss / d a
    gW1 = X.T @ gh
    gb1 = np.sum(gh, axis=0)
    return value, (gW1, gb1, gW2, gb2)


# ------------------------------------------------------------------------------ peers

def autograd_peer(args):
    import autograd
    import autograd.numpy as anp

    def f(W1, b1, W2, b2, X, labels):
        h = anp.tanh(anp.dot(X, W1) + b1)
        logits = anp.dot(h, W2) + b2
        m = anp.max(logits, axis=1, keepdims=True)
        lse = anp.log(anp.sum(anp.exp(logits - m), axis=1)) + m[:, 0]
        picked = anp.sum(logits * labels, axis=1)
        return anp.mean(lse - picked)

    vg = autograd.value_and_grad(f, argnum=(0, 1, 2, 3))
    return lambda: vg(*args)


def tangent_peer(args):
    return tangent_runner(primal, (0, 1, 2, 3), args)


def torch_peer(args):
    import torch
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args[:4]]
    X = torch.from_numpy(args[4])
    labels = torch.from_numpy(args[5])

    def f(W1, b1, W2, b2):
        h = torch.tanh(X @ W1 + b1)
        logits = h @ W2 + b2
        m = torch.amax(logits, dim=1, keepdim=True)
        lse = torch.log(torch.sum(torch.exp(logits - m), dim=1)) + m[:, 0]
        picked = torch.sum(logits * labels, dim=1)
        return torch.mean(lse - picked)

    return torch_runner(f, params)


def _jax(jit: bool):
    def make(args):
        import jax
        import jax.numpy as jnp

        def f(W1, b1, W2, b2, X, labels):
            h = jnp.tanh(X @ W1 + b1)
            logits = h @ W2 + b2
            m = jnp.max(logits, axis=1, keepdims=True)
            lse = jnp.log(jnp.sum(jnp.exp(logits - m), axis=1)) + m[:, 0]
            picked = jnp.sum(logits * labels, axis=1)
            return jnp.mean(lse - picked)

        vg = jax.value_and_grad(f, argnums=(0, 1, 2, 3))
        if jit:
            vg = jax.jit(vg)
        a = tuple(jnp.asarray(v) for v in args)
        return lambda: jax.block_until_ready(vg(*a))
    return make


PEERS = {"autograd": autograd_peer, "tangent": tangent_peer, "torch": torch_peer,
         "jax": _jax(False), "jax-jit": _jax(True)}
