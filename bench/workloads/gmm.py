"""The log-likelihood of a data set under a Gaussian mixture with diagonal covariances,
parameterised by means, log standard deviations and unnormalised mixture logits, with the
log-sum-exps written out (max-shifted) as a NumPy user would."""
from __future__ import annotations

import numpy as np

from bench.common import rng, tangent_runner, torch_runner

NAME = "gmm"
KIND = "vectorised"
SIZES = {"small": (50, 2, 3), "large": (4000, 8, 16)}
SIZE_DOC = "points x dimensions x components"
WRT = (0, 1, 2)
NOTES = {
    "autograd": "the primal with autograd.numpy",
    "tangent": "the primal itself",
    "torch": "the primal with torch ops",
    "jax": "the primal with jax.numpy",
}


def inputs(size: str) -> tuple:
    n, d, k = SIZES[size]
    r = rng(5)
    centres = r.normal(scale=3.0, size=(k, d))
    X = centres[r.integers(0, k, n)] + r.normal(size=(n, d))
    means = centres + r.normal(scale=0.5, size=(k, d))
    log_sigmas = r.normal(scale=0.2, size=(k, d))
    logits = r.normal(scale=0.5, size=k)
    return means, log_sigmas, logits, X


def primal(means, log_sigmas, logits, X):
    diff = (X[:, None, :] - means[None, :, :]) / np.exp(log_sigmas)[None, :, :]
    comp = -0.5 * np.sum(diff ** 2, axis=2) - np.sum(log_sigmas, axis=1) \
        - 0.5 * X.shape[1] * np.log(2.0 * np.pi)
    m0 = np.max(logits)
    log_w = logits - (m0 + np.log(np.sum(np.exp(logits - m0))))
    a = comp + log_w
    m = np.max(a, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(a - m), axis=1)) + m[:, 0])


def hand(means, log_sigmas, logits, X):
    """The same forward computation; the responsibilities R = softmax_k(a) give every
    gradient: logits get sum_n R - N softmax(logits), means sum_n R diff / sigma, log
    sigmas sum_n R (diff^2 - 1)."""
    n, d = X.shape
    inv_sigma = np.exp(-log_sigmas)
    diff = X[:, None, :] - means[None, :, :]
    diff *= inv_sigma[None, :, :]
    sq = diff * diff
    comp = np.sum(sq, axis=2)
    comp *= -0.5
    comp -= np.sum(log_sigmas, axis=1) + 0.5 * d * np.log(2.0 * np.pi)
    m0 = np.max(logits)
    ew = np.exp(logits - m0)
    sw = np.sum(ew)
    a = comp
    a += logits - (m0 + np.log(sw))
    m = np.max(a, axis=1, keepdims=True)
    a -= m
    np.exp(a, out=a)
    s = np.sum(a, axis=1)
    value = np.sum(np.log(s) + m[:, 0])
    a /= s[:, None]                                   # responsibilities R, (n, k)
    rsum = np.sum(a, axis=0)
    g_logits = rsum - n * (ew / sw)
    rt = a.T[:, None, :]                              # (k, 1, n)
    g_means = np.matmul(rt, diff.transpose(1, 0, 2))[:, 0, :] * inv_sigma
    g_log_sigmas = np.matmul(rt, sq.transpose(1, 0, 2))[:, 0, :] - rsum[:, None]
    return value, (g_means, g_log_sigmas, g_logits)


# ------------------------------------------------------------------------------ peers

def autograd_peer(args):
    import autograd
    import autograd.numpy as anp

    def f(means, log_sigmas, logits, X):
        diff = (X[:, None, :] - means[None, :, :]) / anp.exp(log_sigmas)[None, :, :]
        comp = -0.5 * anp.sum(diff ** 2, axis=2) - anp.sum(log_sigmas, axis=1) \
            - 0.5 * X.shape[1] * anp.log(2.0 * anp.pi)
        m0 = anp.max(logits)
        log_w = logits - (m0 + anp.log(anp.sum(anp.exp(logits - m0))))
        a = comp + log_w
        m = anp.max(a, axis=1, keepdims=True)
        return anp.sum(anp.log(anp.sum(anp.exp(a - m), axis=1)) + m[:, 0])

    vg = autograd.value_and_grad(f, argnum=(0, 1, 2))
    return lambda: vg(*args)


def tangent_peer(args):
    return tangent_runner(primal, (0, 1, 2), args)


def torch_peer(args):
    import math

    import torch
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args[:3]]
    X = torch.from_numpy(args[3])

    def f(means, log_sigmas, logits):
        diff = (X[:, None, :] - means[None, :, :]) / torch.exp(log_sigmas)[None, :, :]
        comp = -0.5 * torch.sum(diff ** 2, dim=2) - torch.sum(log_sigmas, dim=1) \
            - 0.5 * X.shape[1] * math.log(2.0 * math.pi)
        m0 = torch.max(logits)
        log_w = logits - (m0 + torch.log(torch.sum(torch.exp(logits - m0))))
        a = comp + log_w
        m = torch.amax(a, dim=1, keepdim=True)
        return torch.sum(torch.log(torch.sum(torch.exp(a - m), dim=1)) + m[:, 0])

    return torch_runner(f, params)


def _jax(jit: bool):
    def make(args):
        import jax
        import jax.numpy as jnp

        def f(means, log_sigmas, logits, X):
            diff = (X[:, None, :] - means[None, :, :]) / jnp.exp(log_sigmas)[None, :, :]
            comp = -0.5 * jnp.sum(diff ** 2, axis=2) - jnp.sum(log_sigmas, axis=1) \
                - 0.5 * X.shape[1] * jnp.log(2.0 * jnp.pi)
            m0 = jnp.max(logits)
            log_w = logits - (m0 + jnp.log(jnp.sum(jnp.exp(logits - m0))))
            a = comp + log_w
            m = jnp.max(a, axis=1, keepdims=True)
            return jnp.sum(jnp.log(jnp.sum(jnp.exp(a - m), axis=1)) + m[:, 0])

        vg = jax.value_and_grad(f, argnums=(0, 1, 2))
        if jit:
            vg = jax.jit(vg)
        a = tuple(jnp.asarray(v) for v in args)
        return lambda: jax.block_until_ready(vg(*a))
    return make


PEERS = {"autograd": autograd_peer, "tangent": tangent_peer, "torch": torch_peer,
         "jax": _jax(False), "jax-jit": _jax(True)}
