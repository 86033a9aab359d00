"""The few helpers that generated code calls. Kept tiny: generated code inlines the rest."""
from __future__ import annotations

import numbers

import numpy as np

from .errors import GradientError


def seed_scalar(value: object, fname: str) -> object:
    """The adjoint seed 1 for a scalar result; a clear error for anything else."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise GradientError(
            f"grad needs {fname}() to return a real scalar, but it returned "
            f"{type(value).__name__} {_preview(value)}. For a non-scalar output use "
            "ast_ad.vjp (vector-Jacobian product) instead.")
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise GradientError(
                f"grad needs {fname}() to return a scalar, but it returned an array of shape "
                f"{value.shape}. Reduce it (e.g. .sum()) or use ast_ad.vjp.")
        return np.ones((), dtype=_float_dtype(value.dtype))
    if isinstance(value, np.generic):
        return _float_dtype(value.dtype).type(1.0)
    return 1.0


def _float_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- structural adjoints
# Adjoints of containers have the container's structure (a list for a list or a
# tuple, a dict for a dict); ``None`` or the number 0 stand for "zero, structure
# not built yet". These helpers are called only where a value may be a container.

def is_zero(adj: object) -> bool:
    return adj is None or (type(adj) in (float, int) and adj == 0)


def zeros_like(value: object) -> object:
    """A zero adjoint shaped like ``value``."""
    if isinstance(value, (list, tuple)):
        return [zeros_like(v) for v in value]
    if isinstance(value, dict):
        return {k: zeros_like(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return np.zeros(value.shape, dtype=_float_dtype(value.dtype))
    if isinstance(value, np.generic):
        return _float_dtype(value.dtype).type(0.0)
    return 0.0


def add(a: object, b: object) -> object:
    """``a + b`` for adjoints: elementwise for lists and dicts, zero-aware."""
    if is_zero(b):
        return a if a is not None else b
    if is_zero(a):
        return _copy(b)
    if isinstance(a, list):
        return [add(x, y) for x, y in zip(a, b)]
    if isinstance(a, dict):
        return {k: add(a[k], b[k]) if k in b else a[k] for k in a} | {
            k: v for k, v in b.items() if k not in a}
    return a + b


def _copy(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def item(adj: object, index: object) -> object:
    """``adj[index]``, or 0.0 where ``adj`` is still zero."""
    if is_zero(adj):
        return 0.0
    return adj[index]
