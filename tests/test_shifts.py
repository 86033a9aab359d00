"""Stabilising shifts of a log-sum-exp (``ast_ad/analysis/shifts.py``) carry no adjoint.

Each recognised form is checked three ways: the shift gets no adjoint code, the gradient
agrees with finite differences, and with the closed form (softmax). Each near miss, where
the shift does not cancel (or is not proven to), keeps the shift's adjoint and must still
agree with finite differences: a wrong match would show there as a wrong gradient.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import ast_ad
from ast_ad.testing import check_grad


def softmax(z: np.ndarray, axis) -> np.ndarray:
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def rows(z):
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0])


def everything(z):
    m = np.max(z)
    return np.log(np.sum(np.exp(z - m))) + m


def kept(z):
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1, keepdims=True)) + m)


def last_axis(z):
    m = np.amax(z, axis=-1, keepdims=True)
    return np.sum(m[..., 0] + np.log(np.sum(np.exp(z - m), axis=-1)))


def columns(z):
    m = np.min(z, axis=0)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=0)) + m)


def cross_entropy(z, labels):
    m = np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]
    return np.mean(lse - np.sum(z * labels, axis=1))


def twice(z):
    m = np.max(z, axis=1, keepdims=True)
    a = np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]
    b = np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]
    return np.sum(a * b)


Z = np.random.default_rng(3).normal(size=(4, 5)) * 3.0


def uses_shift_adjoint(f, wrt=0) -> bool:
    src = ast_ad.source(f, wrt=wrt, kind="value_and_grad", arrays=True)
    return re.search(r"\bbm\b", src) is not None


@pytest.mark.parametrize("f, axis", [(rows, 1), (everything, None), (kept, 1),
                                     (last_axis, -1), (columns, 0)])
def test_shift_has_no_adjoint_and_gradient_is_softmax(f, axis) -> None:
    assert not uses_shift_adjoint(f)
    value, grad = ast_ad.value_and_grad(f)(Z)
    assert value == f(Z)  # the forward sweep is the user's code, bit for bit
    if f is columns:  # a min shift: the same log-sum-exp
        np.testing.assert_allclose(grad, softmax(Z, 0), rtol=1e-12)
    else:
        np.testing.assert_allclose(grad, softmax(Z, axis), rtol=1e-12)
    check_grad(f, (Z,))


def test_cross_entropy_and_two_chains() -> None:
    labels = np.eye(5)[[0, 3, 1, 4]]
    assert not uses_shift_adjoint(cross_entropy)
    grad = ast_ad.grad(cross_entropy)(Z, labels)
    np.testing.assert_allclose(grad, (softmax(Z, 1) - labels) / 4, rtol=1e-12, atol=1e-15)
    check_grad(cross_entropy, (Z, labels))
    assert not uses_shift_adjoint(twice)
    check_grad(twice, (Z,))


# ------------------------------------------------------------------ near misses: kept

def other_axis(z):  # square z: m[:, 0] adds row maxima to column sums, which do not cancel
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=0)) + m[:, 0])


def no_add_back(z):
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)))


def scaled_add_back(z):
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)) + 2.0 * m[:, 0])


def wrong_index(z):
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)) + m[0])


def used_again(z):
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]) + np.sum(m * m)


def unaligned(z):  # axis 1 without keepdims: z - m lines m up with the columns
    m = np.max(z, axis=1)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)) + m)


def other_value(z, w):  # cancels too, but the shapes are not proven: kept
    m = np.max(w, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0])


def mean_shift(z):
    m = np.mean(z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0])


SQUARE = np.random.default_rng(4).normal(size=(4, 4)) * 2.0


@pytest.mark.parametrize("f", [other_axis, no_add_back, scaled_add_back, wrong_index,
                               used_again, unaligned, mean_shift])
def test_near_misses_keep_the_shift_adjoint(f) -> None:
    check_grad(f, (SQUARE,))
    assert uses_shift_adjoint(f)


def test_shift_of_another_value_is_kept() -> None:
    w = SQUARE + 1.0
    assert uses_shift_adjoint(other_value, wrt=(0, 1))
    check_grad(other_value, (SQUARE, w), wrt=(0, 1))


def in_loop(zs):
    total = 0.0
    for t in range(zs.shape[0]):
        z = zs[t]
        m = np.max(z)
        total = total + np.log(np.sum(np.exp(z - m))) + m
    return total


def test_shift_in_a_loop() -> None:
    assert not uses_shift_adjoint(in_loop)
    grad = ast_ad.grad(in_loop)(Z)
    np.testing.assert_allclose(grad, softmax(Z, 1), rtol=1e-12)
    check_grad(in_loop, (Z,))
