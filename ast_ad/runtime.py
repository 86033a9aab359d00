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
