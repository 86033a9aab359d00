"""Numerical sweep of the NumPy rule table, without the transformer.

Each sample calls a NumPy function; for each differentiable parameter given, the
rule's template is evaluated directly (the partial form as ``unbroadcast(g *
partial, x)``) and checked against central finite differences of
``<g, f(..., x + h e_i, ...)>``, by the dot-product test ``<u, vjp(g)> ==
<g, jvp(u)>``, and for the shape, kind and dtype of the adjoint.
"""
from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field

import numpy as np
import pytest

import ast_ad.npruntime as npr
from ast_ad.rules import NONDIFF, RULES, all_rules, lookup
from ast_ad.rules import numpy as numpy_table

HELPERS = {name: getattr(npr, name) for name in npr.__all__}
RNG = np.random.default_rng(20240607)


def resolve(key: str) -> object:
    module, _, attr = key.rpartition(".")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


# ================================================================ sample values

def r(*shape):
    """Standard normal, float64 (shape () is a 0-d array)."""
    return RNG.standard_normal(shape)


def u(lo, hi, *shape):
    return RNG.uniform(lo, hi, shape)


def pos(*shape):
    return u(0.5, 2.0, *shape)


def f32(x):
    return np.asarray(x, dtype=np.float32)


def spd(n, *batch):
    m = r(*batch, n, n)
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def well(n, *batch):
    """A well-conditioned square matrix (or stack)."""
    return r(*batch, n, n) + 3.0 * np.eye(n)


def with_nans(*shape):
    x = r(*shape)
    x.flat[::7] = np.nan
    return x


@dataclass
class Sample:
    key: str
    args: tuple
    kwargs: dict
    wrt: tuple | None = None          # parameters to check (default: every one given)
    rtol: float = 1e-5
    fd: bool = True                   # element-wise finite differences
    id: str = field(default="")


def S(key, *args, _wrt=None, _rtol=None, _fd=True, **kwargs):
    k = key if key.startswith("numpy.") else "numpy." + key
    return Sample(k, args, kwargs, _wrt, _rtol or 1e-5, _fd)


SAMPLES = [
    # ------------------------------------------------------ elementwise, one argument
    S("sin", r(3, 4)), S("sin", 0.7), S("sin", np.float64(0.3)), S("sin", r()),
    S("sin", f32(r(2, 3)), _rtol=2e-3), S("cos", r(5)), S("tan", u(-1.2, 1.2, 4)),
    S("arcsin", u(-0.9, 0.9, 5)), S("arccos", u(-0.9, 0.9, 2, 3)), S("arctan", r(4)),
    S("deg2rad", r(3)), S("radians", r(3)), S("rad2deg", r(3)), S("degrees", r(3)),
    S("sinc", np.array([0.0, 0.3, -1.7, 2.5])), S("sinh", r(4)), S("cosh", r(4)),
    S("tanh", r(3, 2)), S("tanh", f32(r(4)), _rtol=2e-3), S("arcsinh", r(4)),
    S("arccosh", u(1.5, 3.0, 4)), S("arctanh", u(-0.9, 0.9, 4)), S("exp", r(2, 3)),
    S("exp", f32(r(3)), _rtol=2e-3), S("exp2", r(4)), S("expm1", r(4)),
    S("log", pos(2, 3)), S("log", 2.5), S("log2", pos(4)), S("log10", pos(4)),
    S("log1p", u(-0.5, 2.0, 4)), S("sqrt", pos(3, 2)), S("cbrt", np.array([-2.0, 0.4, 1.3])),
    S("square", r(4)), S("reciprocal", pos(4)), S("negative", r(3)), S("positive", r(3)),
    S("absolute", r(5)), S("fabs", r(5)),
    S("nan_to_num", np.array([1.5, np.nan, np.inf, -np.inf, -0.3])),
    # ------------------------------------------------------ elementwise, two arguments, broadcast
    S("arctan2", r(3, 1), r(4)), S("hypot", r(2, 3), r(3)),
    S("logaddexp", r(3), r(2, 1)), S("logaddexp2", r(3), 0.4),
    S("power", pos(3, 2), r(2)), S("power", 1.7, r(3)), S("power", r(4), 3.0, _wrt=("x",)),
    S("power", np.array([0.0, 1.5, 2.0]), 2.5, _wrt=("y",)),
    S("float_power", pos(3), r(2, 1)), S("ldexp", r(4), np.array([1, -2, 0, 3])),
    S("add", r(2, 3), r(3)), S("add", r(3), 1.5), S("add", f32(r(2, 3)), f32(r(1, 3)), _rtol=2e-3),
    S("subtract", r(2, 1), r(1, 3)), S("multiply", r(2, 3), r()), S("multiply", r(4), 2.0),
    S("multiply", f32(r(3)), f32(r(2, 3)), _rtol=2e-3),
    S("divide", r(2, 3), pos(3)), S("divide", 2.0, pos(2, 2)),
    S("remainder", u(3.1, 3.3, 4), u(1.35, 1.45, 4)),
    S("remainder", u(-3.3, -3.1, 4), u(1.35, 1.45, 1)),
    S("fmod", u(3.1, 3.3, 4), u(1.35, 1.45, 4)), S("fmod", u(-3.3, -3.1, 4), 1.4),
    S("copysign", r(4), r(4)), S("copysign", r(2, 3), -1.0),
    S("maximum", r(3, 4), r(4)), S("minimum", r(3, 1), r(3)),
    S("fmax", np.array([1.0, np.nan, -2.0, 0.5]), np.array([0.3, 2.0, np.nan, 1.5])),
    S("fmin", np.array([1.0, np.nan, -2.0, 0.5]), np.array([0.3, 2.0, np.nan, 1.5])),
    S("clip", r(3, 4), -0.5, 0.6), S("clip", r(6), None, 0.2), S("clip", r(6), -0.2, None),
    S("clip", r(3, 4), u(-1.0, -0.1, 4), u(0.1, 1.0, 3, 1)),
    S("where", r(3, 4) > 0, r(3, 4), r(4)), S("where", r(3) > 0, 2.0, r(2, 3)),
    S("where", r(5) > 0),
    # ------------------------------------------------------ sums and means
    S("sum", r(3, 4)), S("sum", r(2, 3, 4), axis=1), S("sum", r(2, 3, 4), axis=(0, 2)),
    S("sum", r(2, 3, 4), axis=-1, keepdims=True), S("sum", r(2, 3, 4), 0),
    S("sum", [1.0, 2.5, -0.5]), S("sum", r()), S("sum", f32(r(3, 4)), axis=0, _rtol=2e-3),
    S("nansum", with_nans(3, 4)), S("nansum", with_nans(3, 4), axis=1, keepdims=True),
    S("mean", r(3, 4)), S("mean", r(2, 3, 4), axis=(-1, 0)),
    S("mean", r(3, 4), 1, None, None, True),
    S("mean", f32(r(5)), _rtol=2e-3),
    S("nanmean", with_nans(3, 4)), S("nanmean", with_nans(4, 3), axis=0),
    S("average", r(3, 4)), S("average", r(3, 4), axis=1),
    S("average", r(3, 4), axis=1, weights=pos(4)), S("average", r(3, 4), weights=pos(3, 4)),
    S("average", r(2, 3, 4), axis=(0, 2), weights=pos(2, 4), keepdims=True),
    S("average", r(3, 4), 0, pos(3), True),
    S("cumsum", r(3, 4)), S("cumsum", r(3, 4), axis=1), S("cumsum", r(2, 3, 2), -2),
    S("trapezoid", r(5)), S("trapezoid", r(3, 5), dx=0.3),
    S("trapezoid", r(5, 3), np.sort(r(5)), axis=0), S("trapezoid", r(2, 4), np.sort(r(2, 4))),
    # ------------------------------------------------------ products
    S("prod", r(3, 4)), S("prod", r(2, 3, 4), axis=(0, 2)),
    S("prod", np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.2, -0.7, 2.0]]), axis=1),
    S("prod", np.array([1.5, 0.0, 2.0, -1.1])), S("prod", r(3, 4), axis=0, keepdims=True),
    S("nanprod", with_nans(3, 4), axis=1),
    S("cumprod", r(3, 4)), S("cumprod", r(3, 4), axis=1),
    S("cumprod", np.array([[1.5, 0.0, 2.0, 0.5], [0.0, 0.7, 0.0, 3.0]]), axis=1),
    # ------------------------------------------------------ extremes and order statistics
    S("max", r(3, 4)), S("max", r(2, 3, 4), axis=1), S("max", r(2, 3, 4), axis=(0, 2),
                                                           keepdims=True),
    S("amax", r(3, 4), -1), S("nanmax", with_nans(3, 4), axis=0),
    S("min", r(3, 4)), S("min", r(2, 3, 4), axis=-1), S("amin", r(3, 4), 0, keepdims=True),
    S("nanmin", with_nans(3, 4), axis=1),
    S("ptp", r(3, 4)), S("ptp", r(3, 4), axis=1), S("ptp", r(2, 3, 4), axis=(0, 1),
                                                        keepdims=True),
    S("median", r(7)), S("median", r(3, 4), axis=1), S("median", r(2, 3, 4), axis=(0, 2)),
    S("median", r(3, 5), axis=0, keepdims=True),
    S("quantile", r(9), 0.3), S("quantile", r(3, 6), np.array([0.1, 0.5, 0.8]), axis=1),
    S("quantile", r(4, 5), 0.75, axis=0, keepdims=True),
    S("percentile", r(3, 5), 40.0, axis=1), S("percentile", r(8), np.array([25.0, 90.0])),
    S("sort", r(3, 4)), S("sort", r(3, 4), axis=0), S("sort", r(3, 4), axis=None),
    S("sort", r(2, 3, 4), 1),
    # ------------------------------------------------------ spread
    S("var", r(3, 4)), S("var", r(3, 4), axis=1, ddof=1), S("var", r(2, 3, 4), axis=(0, 2),
                                                               keepdims=True),
    S("std", r(3, 4)), S("std", r(3, 4), axis=0, ddof=1), S("std", r(2, 3, 4), axis=-1,
                                                               keepdims=True),
    S("std", f32(r(6)), _rtol=2e-3),
    S("nanvar", with_nans(3, 4), axis=1), S("nanvar", with_nans(3, 5), ddof=1),
    S("nanstd", with_nans(3, 4), axis=0), S("nanstd", with_nans(4, 4)),
    # ------------------------------------------------------ products of arrays
    S("dot", r(4), r(4)), S("dot", r(3, 4), r(4, 2)), S("dot", r(3, 4), r(4)),
    S("dot", r(4), r(4, 3)), S("dot", r(2, 3, 4), r(5, 4, 2)), S("dot", r(4), r(2, 4, 3)),
    S("dot", r(), r(3)), S("dot", r(3, 2), 2.5), S("dot", f32(r(3, 4)), f32(r(4, 2)), _rtol=2e-3),
    S("matmul", r(3, 4), r(4, 2)), S("matmul", r(2, 1, 3, 4), r(5, 4, 2)),
    S("matmul", r(4), r(2, 4, 3)), S("matmul", r(2, 3, 4), r(4)), S("matmul", r(4), r(4)),
    S("matmul", f32(r(2, 3, 4)), f32(r(4, 2)), _rtol=2e-3),
    S("linalg.matmul", r(2, 3, 4), r(4, 2)),
    S("vdot", r(3, 2), r(6)), S("inner", r(4), r(4)), S("inner", r(2, 3, 4), r(5, 4)),
    S("inner", r(3), 1.5), S("outer", r(3), r(2, 2)), S("linalg.outer", r(3), r(4)),
    S("vecdot", r(3, 4), r(4)), S("vecdot", r(4, 3), r(2, 4, 3), axis=-2),
    S("linalg.vecdot", r(2, 3), r(3)),
    S("tensordot", r(3, 4, 5), r(4, 5, 2)), S("tensordot", r(3, 4), r(4, 2), axes=1),
    S("tensordot", r(3, 4, 5), r(5, 3, 2), axes=([0, 2], [1, 0])),
    S("tensordot", r(3, 4), r(2, 3), axes=(0, 1)), S("tensordot", r(2), r(3), axes=0),
    S("linalg.tensordot", r(3, 4), r(3, 4)),
    S("einsum", "ij,jk->ik", r(3, 4), r(4, 2)), S("einsum", "ii->i", r(3, 3)),
    S("einsum", "ii", r(3, 3)), S("einsum", "ij->", r(3, 4)), S("einsum", "i,i", r(4), r(4)),
    S("einsum", "ij->ji", r(2, 3)), S("einsum", "ij,jk", r(3, 4), r(4, 2)),
    S("einsum", "ijj,i->j", r(2, 3, 3), r(2)), S("einsum", "ij,j->i", r(3, 4), r(4)),
    S("einsum", "...ij,...jk->...ik", r(1, 2, 3), r(4, 3, 2)),
    S("einsum", "bij,bjk->bik", r(2, 3, 4), r(2, 4, 2)),
    S("einsum", "ij,jk,kl->il", r(2, 3), r(3, 4), r(4, 2)),
    S("einsum", "i,i,i,i->", r(3), r(3), r(3), r(3)),
    S("einsum", "a,ab,bc,c,d->ad", r(2), r(2, 3), r(3, 2), r(2), r(3)),
    S("einsum", "...i,...i", r(3, 4), r(1, 4)), S("einsum", "ij,ij->i", r(3, 1), r(3, 4)),
    S("einsum", "ij,jk->ik", f32(r(3, 4)), f32(r(4, 2)), _rtol=2e-3),
    S("kron", r(2, 3), r(2, 2)), S("kron", r(3), r(2, 2)), S("kron", r(2), r(3)),
    S("cross", r(4, 3), r(3)), S("cross", r(3, 4), r(3, 4), axis=0),
    S("cross", r(3, 2), r(2, 3), axisa=0, axisc=0), S("linalg.cross", r(2, 3), r(2, 3)),
    S("convolve", r(5), r(3)), S("convolve", r(4), r(6), "same"),
    S("convolve", r(6), r(4), "same"),
    S("convolve", r(6), r(3), mode="valid"), S("convolve", r(3), r(5), "valid"),
    S("correlate", r(5), r(3)), S("correlate", r(4), r(6), "same"),
    S("correlate", r(6), r(4), "same"),
    S("correlate", r(5), r(3), "full"), S("correlate", r(3), r(5), "full"),
    S("polyval", r(4), r(3, 2)), S("polyval", [1.0, -2.0, 0.5], 0.7),
    # ------------------------------------------------------ diagonals and triangles
    S("trace", r(3, 3)), S("trace", r(3, 4), 1), S("trace", r(2, 3, 4), offset=-1, axis1=1,
                                                         axis2=2),
    S("linalg.trace", r(2, 3, 3)), S("linalg.trace", r(3, 4), offset=1),
    S("diag", r(3)), S("diag", r(3), 1), S("diag", r(3, 4)), S("diag", r(4, 3), k=-1),
    S("diagonal", r(3, 4)), S("diagonal", r(2, 3, 4), 1, 1, 2),
    S("linalg.diagonal", r(2, 3, 3)), S("linalg.diagonal", r(3, 4), offset=-1),
    S("triu", r(3, 4)), S("triu", r(2, 3, 3), 1), S("tril", r(4, 3)), S("tril", r(3, 3), k=-1),
    # ------------------------------------------------------ linear algebra
    S("linalg.inv", well(3)), S("linalg.inv", well(3, 2)),
    S("linalg.det", well(3)), S("linalg.det", well(2, 3)),
    S("linalg.slogdet", well(3)), S("linalg.slogdet", -well(3, 2)),
    S("linalg.solve", well(3), r(3)), S("linalg.solve", well(3), r(3, 2)),
    S("linalg.solve", well(3, 2), r(2, 3, 4)), S("linalg.solve", well(3, 2), r(3)),
    S("linalg.cholesky", spd(3)), S("linalg.cholesky", spd(3, 2)),
    S("linalg.cholesky", spd(3), upper=True),
    S("linalg.eigh", spd(3)), S("linalg.eigh", spd(3, 2), "U"),
    S("linalg.eigvalsh", spd(4)), S("linalg.eigvalsh", r(2, 3, 3), UPLO="U"),
    S("linalg.svdvals", r(3, 2)), S("linalg.svdvals", r(2, 2, 3)),
    S("linalg.norm", r(5)), S("linalg.norm", r(3, 4)), S("linalg.norm", r(2, 3, 2)),
    S("linalg.norm", r(5), 1), S("linalg.norm", r(5), np.inf), S("linalg.norm", r(5), -np.inf),
    S("linalg.norm", r(5), 3), S("linalg.norm", r(5), 0.5), S("linalg.norm", r(3, 4), "fro"),
    S("linalg.norm", r(3, 4), "nuc"), S("linalg.norm", r(3, 4), 2), S("linalg.norm", r(3, 4), -2),
    S("linalg.norm", r(3, 4), 1), S("linalg.norm", r(3, 4), -1), S("linalg.norm", r(3, 4), np.inf),
    S("linalg.norm", r(3, 4), -np.inf), S("linalg.norm", r(3, 4), axis=1),
    S("linalg.norm", r(3, 4), axis=0, keepdims=True), S("linalg.norm", r(2, 3, 4), 1, axis=-1),
    S("linalg.norm", r(2, 3, 4), axis=(2, 0)), S("linalg.norm", r(2, 3, 4), 1, axis=(0, 2)),
    S("linalg.norm", r(2, 3, 4), "nuc", (1, 2), True), S("linalg.norm", f32(r(4)), _rtol=2e-3),
    S("linalg.vector_norm", r(3, 4)), S("linalg.vector_norm", r(3, 4), axis=1, ord=1),
    S("linalg.vector_norm", r(2, 3, 4), axis=(0, 2), keepdims=True, ord=np.inf),
    S("linalg.matrix_norm", r(2, 3, 4)), S("linalg.matrix_norm", r(3, 4), ord="nuc"),
    S("linalg.matrix_norm", r(2, 3, 3), keepdims=True, ord=np.inf),
    S("linalg.multi_dot", [r(2, 3), r(3, 4), r(4, 2)]),
    S("linalg.multi_dot", [r(3), r(3, 4), r(4, 2), r(2)]),
    S("linalg.multi_dot", (r(3), r(3, 4), r(4, 2))),
    S("linalg.matrix_power", well(3), 3), S("linalg.matrix_power", well(3), 0),
    S("linalg.matrix_power", well(3, 2), -2), S("linalg.matrix_power", well(2), 1),
    # ------------------------------------------------------ reshaping
    S("reshape", r(3, 4), (2, 6)), S("reshape", r(3, 4), (4, -1), order="F"),
    S("reshape", r(2, 3), shape=(6,)), S("ravel", r(3, 4)), S("ravel", r(3, 4), "F"),
    S("squeeze", r(3, 1, 4, 1)), S("squeeze", r(3, 1, 4, 1), axis=1),
    S("expand_dims", r(3, 4), 1), S("expand_dims", r(3), (0, 2)),
    S("atleast_1d", 1.5), S("atleast_1d", r(3)), S("atleast_2d", r(3)), S("atleast_2d", r()),
    S("atleast_3d", r(3, 2)), S("broadcast_to", r(3, 1), (2, 3, 4)), S("broadcast_to", 1.5, (3,)),
    # ------------------------------------------------------ axes
    S("transpose", r(3, 4)), S("transpose", r(2, 3, 4), (2, 0, 1)),
    S("transpose", r(2, 3, 4), axes=(-1, 0, -2)), S("matrix_transpose", r(2, 3, 4)),
    S("linalg.matrix_transpose", r(3, 4)), S("swapaxes", r(2, 3, 4), 0, 2),
    S("moveaxis", r(2, 3, 4), 0, -1), S("moveaxis", r(2, 3, 4), (0, 1), (2, 0)),
    S("rollaxis", r(2, 3, 4), 2), S("rollaxis", r(2, 3, 4), 2, 1),
    # ------------------------------------------------------ rearranging and selecting
    S("flip", r(3, 4)), S("flip", r(3, 4), 1), S("flip", r(2, 3, 4), axis=(0, 2)),
    S("fliplr", r(3, 4)), S("flipud", r(3, 4)), S("rot90", r(3, 4)),
    S("rot90", r(2, 3, 4), 2, (1, 2)),
    S("roll", r(5), 2), S("roll", r(3, 4), -1, axis=1), S("roll", r(3, 4), (1, 2), axis=(0, 1)),
    S("roll", r(3, 4), 5),
    S("tile", r(3), 2), S("tile", r(2, 3), (2, 1, 2)), S("tile", r(2, 3), (3,)),
    S("repeat", r(3), 2), S("repeat", r(2, 3), 2, axis=1), S("repeat", r(2, 3), [1, 0, 3], axis=1),
    S("take", r(3, 4), [0, 5, 5, 11]), S("take", r(3, 4), np.array([[0, 2], [2, 2]]), axis=1),
    S("take", r(5), [7, -1], mode="wrap"),
    S("take_along_axis", r(3, 4), np.array([[0, 0], [3, 1], [2, 2]]), 1),
    S("take_along_axis", r(3, 4), np.array([[2, 0, 1, 1]]), axis=0),
    S("delete", r(5), [0, 3]), S("delete", r(3, 4), 1, axis=1),
    S("pad", r(3), 2), S("pad", r(2, 3), ((1, 0), (2, 1))), S("pad", r(4), (2, 3), "reflect"),
    S("pad", r(2, 3), 1, mode="edge"), S("pad", r(4), 3, "wrap"), S("pad", r(3, 3), 2, "symmetric"),
    S("diff", r(5)), S("diff", r(5), 2), S("diff", r(4, 3), axis=0), S("diff", r(3, 5), 3, 1),
    # ------------------------------------------------------ joining and splitting
    S("concatenate", [r(2, 3), r(1, 3)]), S("concatenate", (r(2, 3), r(2, 2)), axis=1),
    S("concatenate", [r(2, 2), r(3)], axis=None),
    S("concatenate", [f32(r(2)), f32(r(3))], _rtol=2e-3),
    S("stack", [r(3), r(3)]), S("stack", (r(2, 3), r(2, 3), r(2, 3)), axis=-1),
    S("hstack", [r(2), r(3)]), S("hstack", [r(2, 1), r(2, 3)]), S("hstack", [1.5, r(2)]),
    S("vstack", [r(3), r(2, 3)]), S("dstack", [r(2, 3), r(2, 3, 2)]),
    S("column_stack", [r(3), r(3, 2)]),
    S("append", r(3), r(2, 2)), S("append", r(2, 3), r(1, 3), axis=0),
    S("split", r(6), 3), S("split", r(3, 5), [1, 3], axis=1), S("array_split", r(7), 3),
    S("array_split", r(5, 2), [2], axis=0), S("hsplit", r(2, 4), 2), S("hsplit", r(6), [2]),
    S("vsplit", r(4, 3), 2), S("dsplit", r(2, 2, 4), [1, 3]),
    S("unstack", r(3, 2)), S("unstack", r(2, 3, 4), axis=1),
    # ------------------------------------------------------ construction and copies
    S("array", r(3, 2)), S("array", [1.5, -0.5, 2.0]), S("array", [[1.0, 2.0], [3.0, 4.0]]),
    S("array", [r(2), r(2)]), S("array", f32(r(3)), dtype=np.float64, _rtol=2e-3),
    S("asarray", r(3)), S("asarray", [0.5, 1.5]), S("asarray", f32(r(2, 2)), _rtol=2e-3),
    S("asanyarray", r(2, 2)), S("ascontiguousarray", r(3, 2).T), S("copy", r(3, 2)),
    S("copy", 2.5), S("full", (2, 3), 1.5), S("full", (2, 3), r(3)), S("full_like", r(2, 3), 0.5),
    S("full_like", r(2, 3), r(2, 1)),
    S("linspace", 0.3, 2.5, 5), S("linspace", -1.0, 1.5, 4, endpoint=False),
    S("linspace", 0.2, 1.3, 6, retstep=True), S("linspace", r(2), r(3, 2), 4, axis=1),
    S("linspace", 0.5, r(2), 3, axis=-1),
    S("interp", np.array([0.15, 0.8, 1.7, -0.5, 3.3]), np.array([0.0, 0.5, 1.0, 2.0]), r(4)),
    S("interp", u(0.1, 1.9, 3, 2), np.array([0.0, 0.5, 1.0, 2.0]), r(4)),
    S("interp", np.array([-0.5, 0.7, 2.5]), np.array([0.0, 1.0, 2.0]), r(3), left=0.0, right=1.0),
    S("interp", 0.3, np.array([0.0, 1.0]), [0.5, 1.5]),
    # ------------------------------------------------------ corner cases: keepdims with axis None,
    # Python numbers and lists, 0-d arrays, capital einsum letters, empty ellipsis
    S("sum", r(2, 3), keepdims=True), S("prod", r(2, 3), None, None, None, True),
    S("max", r(2, 3), keepdims=True), S("median", r(2, 3), keepdims=True),
    S("var", r(2, 3), ddof=1, keepdims=True), S("mean", [[1.0, 2.0], [0.5, 3.0]], axis=0),
    S("linalg.norm", r(2, 3), keepdims=True), S("linalg.norm", r(2, 3), "nuc", keepdims=True),
    S("max", 1.5), S("cumsum", r()), S("cumprod", [1.5, -0.5, 2.0]), S("sort", [2.0, -1.0, 0.5]),
    S("stack", [1.5, 2.5]), S("concatenate", ([0.5, 1.5], r(2))),
    S("einsum", "aB,B->a", r(2, 3), r(3)), S("einsum", "...i,i->...", r(3), r(3)),
    S("einsum", "i...->...", r(3, 2, 2)), S("matmul", [[1.0, 2.0]], r(2, 3)),
]


# ================================================================ checking machinery

def is_float_value(v) -> bool:
    if isinstance(v, (list, tuple)):
        return bool(v) and all(is_float_value(x) for x in v)
    if isinstance(v, bool):
        return False
    if isinstance(v, (float, int)):
        return isinstance(v, float)
    if isinstance(v, (np.ndarray, np.generic)):
        return np.issubdtype(v.dtype, np.floating)
    return False


def flat(v) -> np.ndarray:
    if v is None:
        return np.zeros(0)
    if isinstance(v, (list, tuple)):
        parts = [flat(x) for x in v]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.asarray(v, dtype=np.float64).ravel()


def unflat(vec: np.ndarray, like):
    """``vec`` rebuilt into ``like``'s structure, in float64."""
    if isinstance(like, (list, tuple)):
        out, start = [], 0
        for x in like:
            n = flat(x).size
            out.append(unflat(vec[start:start + n], x))
            start += n
        return type(like)(out)
    if isinstance(like, np.ndarray):
        return vec.reshape(like.shape).copy()
    if isinstance(like, np.generic):
        return np.float64(vec[0])
    return float(vec[0])


def to64(v):
    if isinstance(v, (list, tuple)):
        return type(v)(to64(x) for x in v)
    if isinstance(v, (np.ndarray, np.generic)) and v.dtype == np.float32:
        return v.astype(np.float64)
    return v


def random_like(ans):
    if isinstance(ans, (list, tuple)):
        return [random_like(x) for x in ans]
    if isinstance(ans, (np.ndarray, np.generic)):
        dtype = ans.dtype if np.issubdtype(ans.dtype, np.floating) else np.dtype(np.float64)
        value = RNG.standard_normal(np.shape(ans)).astype(dtype)
        return value[()] if isinstance(ans, np.generic) else value
    return float(RNG.standard_normal())


def assert_like(adj, value, where=""):
    """The adjoint has the kind, shape and dtype of the value."""
    if isinstance(value, (list, tuple)):
        assert isinstance(adj, list), f"{where}: {type(adj)} for a {type(value)}"
        assert len(adj) == len(value), where
        for i, (a, v) in enumerate(zip(adj, value)):
            assert_like(a, v, f"{where}[{i}]")
    elif isinstance(value, np.ndarray):
        assert isinstance(adj, np.ndarray), f"{where}: {type(adj)} for an array"
        assert adj.shape == value.shape, f"{where}: shape {adj.shape} != {value.shape}"
        assert adj.dtype == value.dtype, f"{where}: dtype {adj.dtype} != {value.dtype}"
    elif isinstance(value, np.generic):
        assert isinstance(adj, np.generic), f"{where}: {type(adj)} for {type(value)}"
        assert adj.dtype == value.dtype, where
    else:
        assert type(adj) is float, f"{where}: {type(adj)} for a Python number"


def bind(rule, args, kwargs) -> dict:
    bound = dict(zip(rule.param_names(len(args)), args))
    for name, value in kwargs.items():
        assert name in rule.params, f"{rule.key}: keyword {name!r} is not a parameter"
        bound[name] = value
    for name in rule.params:
        if name not in bound:
            assert name in rule.defaults, f"{rule.key}: {name!r} missing"
            bound[name] = eval(rule.defaults[name], {"np": np})
    return bound


def evaluate(rule, param, bound, ans, g):
    kind, text = rule.expression(param)
    if kind == "partial":
        text = f"unbroadcast(g * ({text}), {param})"
    env = {"np": np, **HELPERS, **bound, "ans": ans, "g": g}
    return eval(compile(text, f"<{rule.key}:{param}>", "eval"), env)


def sample_id(s: Sample) -> str:
    def short(v):
        if isinstance(v, np.ndarray):
            return f"{'f32' if v.dtype == np.float32 else ''}{list(v.shape)}"
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(short(x) for x in v) + "]"
        return repr(v)
    parts = [short(a) for a in s.args] + [f"{k}={short(v)}" for k, v in s.kwargs.items()]
    return f"{s.key[6:]}({', '.join(parts)})"


def check_sample(s: Sample) -> None:
    f = resolve(s.key)
    rule = lookup(s.key, len(s.args))
    assert rule is not None, f"no rule for {s.key} with {len(s.args)} arguments"
    bound = bind(rule, s.args, s.kwargs)
    ans = f(*s.args, **s.kwargs)
    g = random_like(ans)
    gflat = flat(g)
    names = rule.param_names(len(s.args))
    given = set(names) | set(s.kwargs)
    targets = [p for p in rule.differentiable if p in given and is_float_value(bound[p])]
    if s.wrt is not None:
        targets = [p for p in targets if p in s.wrt]
    if not rule.differentiable:
        return
    assert targets, f"{s.key}: nothing to check"
    h = 1e-6
    for p in targets:
        value = bound[p]
        adj = evaluate(rule, p, bound, ans, g)
        assert_like(adj, value, f"{s.key}:{p}")
        base = flat(value)
        args64 = [to64(a) for a in s.args]
        kwargs64 = {k: to64(v) for k, v in s.kwargs.items()}

        def objective(vec, p=p, args64=args64, kwargs64=kwargs64, value=value):
            x = unflat(vec, value)
            if p in kwargs64:
                out = f(*args64, **{**kwargs64, p: x})
            else:
                args = list(args64)
                args[names.index(p)] = x
                out = f(*args, **kwargs64)
            return flat(out)

        vjp = flat(adj)
        fd = np.empty(base.size)
        for i in range(base.size):
            step = np.zeros(base.size)
            step[i] = h
            fd[i] = gflat @ (objective(base + step) - objective(base - step)) / (2 * h)
        finite = np.isfinite(base)
        scale = max(1.0, float(np.max(np.abs(fd[finite]), initial=0.0)))
        if s.fd:
            np.testing.assert_allclose(vjp[finite], fd[finite], rtol=s.rtol,
                                       atol=s.rtol * scale,
                                       err_msg=f"{s.key}: d/d{p} vs finite differences")
        direction = np.where(finite, RNG.standard_normal(base.size), 0.0)
        jvp = (objective(base + h * direction) - objective(base - h * direction)) / (2 * h)
        lhs = direction @ np.where(finite, vjp, 0.0)
        rhs = gflat @ np.nan_to_num(jvp, nan=0.0)
        tol = s.rtol * scale * max(1.0, np.linalg.norm(direction)) * max(1.0, np.abs(gflat).sum())
        assert abs(lhs - rhs) <= tol, f"{s.key}: dot test for {p}: {lhs} vs {rhs}"


# ================================================================ tests

@pytest.mark.parametrize("sample", SAMPLES, ids=[sample_id(s) for s in SAMPLES])
def test_rule_numerically(sample):
    with np.errstate(all="ignore"):
        check_sample(sample)


NUMPY_RULES = [r for r in all_rules() if r.key.startswith("numpy.")]


def test_every_numpy_rule_has_a_sample():
    covered = {id(lookup(s.key, len(s.args))) for s in SAMPLES}
    missing = [f"{r.key}/{len(r.params)}" for r in NUMPY_RULES if id(r) not in covered]
    assert not missing, f"rules without a sample: {missing}"


def test_every_table_line_is_registered():
    keys = {r.key for r in numpy_table.RULES}
    assert keys <= set(RULES), sorted(keys - set(RULES))
    assert set(numpy_table.NONDIFF) <= NONDIFF, sorted(set(numpy_table.NONDIFF) - NONDIFF)


def test_keys_resolve_to_distinct_numpy_objects():
    seen: dict[int, str] = {}
    for key in sorted({r.key for r in numpy_table.RULES} | set(numpy_table.NONDIFF)):
        obj = resolve(key)
        assert callable(obj), key
        assert id(obj) not in seen, f"{key} is the same object as {seen.get(id(obj))}"
        seen[id(obj)] = key


def test_nondiff_keys_resolve():
    for key in numpy_table.NONDIFF:
        obj = resolve(key)
        assert obj is not None and key not in RULES, key


@pytest.mark.parametrize("rule", NUMPY_RULES, ids=[f"{r.key}/{len(r.params)}" for r in NUMPY_RULES])
def test_templates_use_only_allowed_names(rule):
    allowed = {p.lstrip("*") for p in rule.params} | {"ans", "g", "np"} | set(npr.__all__)
    texts = [rule.expression(p)[1] for p in rule.differentiable] + list(rule.defaults.values())
    for text in texts:
        tree = ast.parse(text, mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                assert node.id in allowed, f"{rule.key}: free name {node.id!r} in {text!r}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "np":
                    assert hasattr(np, node.attr), f"{rule.key}: np.{node.attr}"
    for default in rule.defaults.values():
        eval(default, {"np": np})


def test_helpers_are_documented():
    for name in npr.__all__:
        fn = getattr(npr, name)
        assert callable(fn) and fn.__doc__, name


@pytest.mark.parametrize("like, expect", [
    (1.5, float), (2, float), (np.float64(1.0), np.float64), (np.float32(1.0), np.float32),
])
def test_unbroadcast_scalars(like, expect):
    out = npr.unbroadcast(np.ones((2, 3)), like)
    assert type(out) is expect and out == 6.0


def test_unbroadcast_arrays():
    out = npr.unbroadcast(np.ones((4, 2, 3)), np.zeros((2, 1), dtype=np.float32))
    assert out.shape == (2, 1) and out.dtype == np.float32 and np.all(out == 12.0)
    zero_d = npr.unbroadcast(np.ones(3), np.array(1.0))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == () and zero_d == 3.0
    ints = npr.unbroadcast(np.ones((2, 2)), np.array([1, 2]))
    assert ints.dtype == np.float64 and np.all(ints == 2.0)
    nested = npr.unbroadcast(np.ones((3, 2)), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert nested == [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    g = np.ones(3)
    assert npr.unbroadcast(g, np.zeros(3)) is not g


def test_gather_vjp_accumulates_repeats():
    out = npr.gather_vjp(np.ones(4), np.zeros(3), np.take, [0, 2, 2, 2])
    assert np.array_equal(out, [1.0, 0.0, 3.0])


@pytest.mark.parametrize("full, shape", [((4, 3), (3,)), ((4, 3), (4, 1)), ((2, 4, 3), (1, 3)),
                                         ((2, 4, 3), (4, 3)), ((5, 1, 3), (1, 1, 3)),
                                         ((3,), (1,)), ((2, 3), (2, 3))])
@pytest.mark.parametrize("fn", ["reduce_to", "unbroadcast"])
def test_sum_down_matches_the_definition(full: tuple, shape: tuple, fn: str):
    """The quick path (one np.add.reduce) against the definition: the sum over every
    element of ``value`` that broadcasting ``like`` maps onto each element of ``like``."""
    r = np.random.default_rng(len(full) * 10 + len(shape))
    value, like = r.normal(size=full), np.zeros(shape)
    out = getattr(npr, fn)(value, like)
    want = np.zeros(shape)
    for index in np.ndindex(*full):
        tail = index[len(full) - len(shape):]
        want[tuple(0 if n == 1 else i for i, n in zip(tail, shape))] += value[index]
    assert out.shape == shape and out.dtype == like.dtype
    np.testing.assert_allclose(out, want, rtol=1e-13, atol=1e-13)
    assert not np.shares_memory(out, value) or fn == "reduce_to"


def test_sum_down_refuses_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError):
        npr.reduce_to(np.ones((4, 3)), np.zeros((2,)))
