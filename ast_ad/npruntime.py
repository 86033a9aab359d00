"""Helpers that the NumPy rule templates (``ast_ad/rules/numpy.py``) call by bare name.

Every ``*_vjp`` helper returns the contribution to one parameter's adjoint, shaped
and typed like that parameter (see ``to_like``): an array of the parameter's
float dtype (float64 for integer or boolean input; float32 stays float32), a
NumPy scalar for a NumPy scalar, a 0-d array for a 0-d array, a Python float for
a Python number and a (nested) list for a list or tuple. The result is always a
new object, never a view of ``g``, so callers may accumulate into it in place.

Conventions shared by the reductions: ``axis`` is None (all axes), an int or a
tuple of ints, negative counting from the end; ``keepdims`` says whether ``g``
kept the reduced axes as size-1 axes. Ties (max, min, ptp, inf-norms) share the
adjoint evenly among the tied elements.
"""
from __future__ import annotations

import math
import string

import numpy as np

__all__ = [
    # shapes and dtypes
    "to_like", "unbroadcast", "reduce_to", "reduce_scaled", "gather_vjp", "shape_only",
    # a product that is only summed
    "lazy_product", "reduce_product", "reduce_product_scaled",
    # arithmetic into a dead operand's memory
    "add_into", "sub_into", "mul_into", "div_into",
    # elementwise partials
    "clip_select", "dsinc", "log0",
    # reductions
    "sum_vjp", "sum_expand", "mean_vjp", "mean_expand", "prod_vjp", "extremum_vjp", "ptp_vjp",
    "var_vjp", "std_vjp",
    "nansum_vjp", "nanmean_vjp", "nanprod_vjp", "nanvar_vjp", "nanstd_vjp",
    "cumsum_vjp", "cumprod_vjp", "average_vjp", "quantile_vjp",
    # products
    "dot_vjp_a", "dot_vjp_b", "matmul_vjp_a", "matmul_vjp_b", "matmul_vjp_a_many",
    "matmul_vjp_b_many", "dot_vjp_a_many", "dot_vjp_b_many", "tensordot_vjp_a",
    "tensordot_vjp_b", "inner_vjp_a", "inner_vjp_b", "outer_vjp_a", "outer_vjp_b",
    "vdot_vjp_a", "vdot_vjp_b", "einsum_vjp", "kron_vjp_a", "kron_vjp_b", "cross_vjp_a",
    "cross_vjp_b", "trace_vjp", "convolve_vjp", "correlate_vjp",
    # linear algebra
    "mT", "inv_vjp", "det_vjp", "slogdet_vjp", "solve_vjp_a", "solve_vjp_b", "cholesky_vjp",
    "eigh_vjp", "eigvalsh_vjp", "svdvals_vjp", "norm_vjp", "vector_norm_vjp",
    "matrix_norm_vjp", "multi_dot_vjp", "matrix_power_vjp",
    # shapes, joining and splitting, construction
    "transpose_vjp", "concatenate_vjp", "stack_vjp", "hstack_vjp", "vstack_vjp", "dstack_vjp",
    "column_stack_vjp", "append_vjp", "split_vjp", "unstack_vjp", "pad_vjp", "diff_vjp",
    "linspace_vjp", "interp_vjp_x", "interp_vjp_fp", "polyval_vjp_p", "trapezoid_vjp_y",
    "trapezoid_vjp_x",
]


# ================================================================ shapes and dtypes

_F64 = np.dtype(np.float64)


def _float_dtype(like: object) -> np.dtype:
    if type(like) is float:
        return _F64
    dtype = like.dtype if isinstance(like, (np.ndarray, np.generic)) else np.asarray(like).dtype
    return dtype if dtype.kind in "fc" else _F64


def to_like(value, like, fresh=False):
    """``value`` (shaped like ``like``) as the kind of object as ``like``, of its float dtype.
    ``fresh``: ``value`` was just computed, so it need not be copied."""
    if type(like) is np.ndarray and type(value) is np.ndarray and value.shape == like.shape:
        dtype = like.dtype if like.dtype.kind in "fc" else _F64  # the common case, quickly
        if value.dtype == dtype and fresh and value.base is None:
            return value
        return value.astype(dtype)
    if type(like) is float:
        return float(value)
    if isinstance(like, (list, tuple)):
        value = np.asarray(value)
        return [to_like(value[i], item) for i, item in enumerate(like)]
    arr = np.asarray(value)
    shape = np.shape(like)
    if arr.shape != shape:
        raise ValueError(f"adjoint of shape {arr.shape} for a value of shape {shape}")
    dtype = _float_dtype(like)
    if isinstance(like, np.ndarray):
        return arr.astype(dtype, copy=not fresh or arr.base is not None)
    if isinstance(like, np.generic):
        return arr.astype(dtype)[()]
    if isinstance(like, complex):
        return complex(arr)
    if isinstance(like, (int, float)):
        return float(arr)
    return arr.astype(dtype)


_STAND_IN_BYTES = 1 << 16  # smaller arrays are kept: a stand-in would save next to nothing


def shape_only(value):
    """A stand-in for ``value`` where only its type, shape and dtype are read later: for a
    large array, a read-only broadcast zero that holds no memory; anything else as it is."""
    if type(value) is np.ndarray and value.nbytes >= _STAND_IN_BYTES:
        return np.broadcast_to(np.zeros((), value.dtype), value.shape)
    return value


_IN_PLACE_ELEMENTS = 1 << 15  # smaller arrays: a new one costs about as much


def _into(a, b) -> bool:
    """May ``a op b`` be written into ``a``? ``a`` is a large array that owns its memory and
    the result has ``a``'s shape and dtype (the caller knows that nothing reads ``a`` again,
    as NumPy does for a temporary inside one expression)."""
    if type(a) is not np.ndarray or a.size < _IN_PLACE_ELEMENTS or a.base is not None \
            or not a.flags.writeable or a.dtype.kind != "f":
        return False
    kind = type(b)
    if kind is float or kind is int:
        return True
    return kind is np.ndarray and _fits(b.shape, a.shape) and np.result_type(a, b) == a.dtype


def add_into(a, b):
    """``a + b``, in ``a``'s memory when :func:`_into` allows."""
    return np.add(a, b, out=a) if _into(a, b) else a + b


def sub_into(a, b):
    """``a - b``, in ``a``'s memory when :func:`_into` allows."""
    return np.subtract(a, b, out=a) if _into(a, b) else a - b


def mul_into(a, b):
    """``a * b``, in ``a``'s memory when :func:`_into` allows."""
    return np.multiply(a, b, out=a) if _into(a, b) else a * b


def div_into(a, b):
    """``a / b``, in ``a``'s memory when :func:`_into` allows."""
    return np.true_divide(a, b, out=a) if _into(a, b) else a / b


def _sum_to(value, shape: tuple) -> np.ndarray:
    """Sum a broadcast ``value`` down to ``shape`` (the inverse of broadcasting)."""
    value = np.asarray(value)
    shape = tuple(shape)
    if value.shape == shape:
        return value
    lead = value.ndim - len(shape)
    if lead >= 0:  # the usual case: value has at least shape's axes, just sum some away
        reduced = value.sum(axis=tuple(range(lead))) if lead else value
        ones = tuple(i for i, n in enumerate(shape) if n == 1 and reduced.shape[i] != 1)
        if ones:
            reduced = reduced.sum(axis=ones, keepdims=True)
        if reduced.shape == shape:
            return reduced
    value = np.broadcast_to(value, np.broadcast_shapes(value.shape, tuple(shape)))
    lead = value.ndim - len(shape)
    if lead:
        value = value.sum(axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and value.shape[i] != 1)
    if ones:
        value = value.sum(axis=ones, keepdims=True)
    return value


_FLOATS = (np.float64, np.float32, np.float16, np.longdouble)
_SCALARS = (float, np.float64)  # a float adjoint of either is the like's type, exactly


def unbroadcast(value, like):
    """Sum ``value`` down to the shape of ``like`` (undoing broadcasting); typed like ``like``."""
    kind = type(like)
    if kind is np.ndarray:
        if type(value) is np.ndarray and value.dtype == like.dtype \
                and like.dtype.type in _FLOATS:
            if value.shape == like.shape:
                return value.copy()  # the common case: a copy (the caller may add into it)
            summed = _summed_down(value, like.shape)
            if summed is not None:
                return summed
    elif kind is float or kind is np.float64:  # numbers: as in _reduced, without the call
        if type(value) is kind:
            return value
        if type(value) in _SCALARS:
            return kind(value)
    return _reduced(value, like, fresh=False)


def reduce_to(value, like):
    """``unbroadcast`` for a ``value`` just computed (not shared): no defensive copy."""
    kind = type(like)
    if kind is np.ndarray:
        if type(value) is np.ndarray and value.dtype == like.dtype and like.dtype.kind == "f":
            if value.shape == like.shape:
                return value  # the common case: same shape, same float dtype, nothing to do
            summed = _summed_down(value, like.shape)
            if summed is not None:
                return summed
    elif kind is float or kind is np.float64:  # numbers: as in _reduced, without the call
        if type(value) is kind:
            return value
        if type(value) in _SCALARS:
            return kind(value)
    return _reduced(value, like, fresh=True)


def reduce_scaled(a, b, like):
    """``reduce_to(a * b, like)``, with a factor of ``like``'s shape and dtype taken out of
    the sum: it is the same along every summed axis, so it scales the (small) sum instead
    of every element of the (large) product, which is never made. The same value up to
    rounding."""
    if type(like) is np.ndarray and like.dtype.kind == "f" and type(a) is np.ndarray \
            and type(b) is np.ndarray:
        if b.shape == like.shape and b.dtype == like.dtype and _fits(b.shape, a.shape):
            return reduce_to(a, like) * b
        if a.shape == like.shape and a.dtype == like.dtype and _fits(a.shape, b.shape):
            return a * reduce_to(b, like)
    return reduce_to(a * b, like)


# ================================================================ a product only summed

_CONTRACT_ELEMENTS = 1 << 15  # smaller products: making them costs about as much


class _Product:
    """Factors whose (large, broadcast) product is only ever summed: ``reduce_product``
    contracts them with one ``np.einsum`` instead of making it."""

    __slots__ = ("factors",)

    def __init__(self, factors: tuple) -> None:
        self.factors = factors


_NUMBER_TYPES = (float, int, np.float64)


def product_of(factors) -> object:
    """``f1 * f2 * ...``, in that order (the product the user's code makes)."""
    product = factors[0]
    for factor in factors[1:]:
        product = product * factor
    return product


def lazy_product(like, *factors):
    """``f1 * f2 * ...``, or ``reduce_to(f1 * f2 * ..., like)`` (the same bits); or, when
    the product would be large (and of ``like``'s shape and dtype, if given) and its
    factors are arrays of one float dtype and numbers, those factors kept for
    :func:`reduce_product`. Only our reductions ever read the result (passes/contract.py)."""
    arrays = [f for f in factors if type(f) is np.ndarray]
    if len(arrays) >= 2 and arrays[0].dtype.kind == "f" \
            and all(a.dtype == arrays[0].dtype for a in arrays) \
            and all(type(f) is np.ndarray or type(f) in _NUMBER_TYPES for f in factors):
        try:
            shape = np.broadcast_shapes(*[a.shape for a in arrays])
        except ValueError:
            shape = None
        if shape is not None and math.prod(shape) >= _CONTRACT_ELEMENTS and len(shape) <= 26 \
                and (like is None or type(like) is np.ndarray and like.shape == shape
                     and like.dtype == arrays[0].dtype):
            return _Product(factors)
    product = product_of(factors)
    return product if like is None else reduce_to(product, like)


def reduce_product(x, like, factor=None):
    """``reduce_to(x * factor, like)`` (or ``reduce_to(x, like)``) for ``x`` from
    :func:`lazy_product`: the same bits when ``x`` is an array; when it holds factors, one
    ``np.einsum`` over them (the same value up to rounding; the product is never made)."""
    if type(x) is _Product:
        more = () if factor is None else (factor,)
        total = _contracted(x.factors + more, like)
        if total is not None:
            return total
        return reduce_to(_made(x.factors + more), like)  # (made after all)
    return reduce_to(x if factor is None else x * factor, like)


def reduce_product_scaled(x, factor, like):
    """``reduce_scaled(x, factor, like)`` for ``x`` from :func:`lazy_product` (see
    :func:`reduce_product`)."""
    if type(x) is _Product:
        total = _contracted(x.factors + (factor,), like)
        if total is not None:
            return total
        return reduce_scaled(_made(x.factors), factor, like)
    return reduce_scaled(x, factor, like)


def _made(factors: tuple):
    """:func:`product_of` the factors (the same bits), multiplied into the first new array
    when the shapes allow."""
    product = factors[0] * factors[1]
    for factor in factors[2:]:
        if type(product) is np.ndarray and _fits(np.shape(factor), product.shape):
            np.multiply(product, factor, out=product)
        else:
            product = product * factor
    return product


def _contracted(factors: tuple, like):
    """``reduce_to(product of factors, like)`` as one ``np.einsum``; None unless ``like``
    is an array of the factors' float dtype that the product's shape reduces to."""
    arrays = [f for f in factors if type(f) is np.ndarray]
    if type(like) is not np.ndarray or not arrays or any(
            a.dtype != like.dtype for a in arrays) or like.dtype.kind != "f":
        return None
    scale = 1.0
    for f in factors:
        if type(f) is not np.ndarray:
            if type(f) not in _NUMBER_TYPES:
                return None
            scale = scale * f
    try:
        full = np.broadcast_shapes(*[a.shape for a in arrays])
    except ValueError:
        return None
    lead = len(full) - like.ndim
    if lead < 0 or any(n != 1 and n != m for n, m in zip(like.shape, full[lead:])) \
            or like.size == math.prod(full):
        return None  # (nothing summed: the product made in place is quicker)
    letters = "abcdefghijklmnopqrstuvwxyz"
    operands, subscripts = [], []
    for a in arrays:
        offset = len(full) - a.ndim
        keep = [k for k in range(a.ndim) if a.shape[k] != 1 or full[offset + k] == 1]
        operands.append(a.reshape([a.shape[k] for k in keep]))
        subscripts.append("".join(letters[offset + k] for k in keep))
    out = [k for k in range(lead, len(full)) if like.shape[k - lead] == full[k]]
    total = np.einsum(",".join(subscripts) + "->" + "".join(letters[k] for k in out),
                      *operands, optimize=True).reshape(like.shape)  # (pairs by BLAS)
    return total * scale if scale != 1.0 else total


def _fits(small: tuple, big: tuple) -> bool:
    """Does shape ``small`` broadcast to shape ``big`` (so that the product has ``big``)?"""
    lead = len(big) - len(small)
    return lead >= 0 and all(n == 1 or n == m for n, m in zip(small, big[lead:]))


def _summed_down(value: np.ndarray, shape: tuple) -> np.ndarray | None:
    """``value`` summed over the axes that broadcasting to its shape added or stretched
    from ``shape`` (one ``np.add.reduce``, a new array); None if ``shape`` does not
    broadcast to ``value.shape``."""
    axes = sum_axes(value.shape, shape)
    if axes is None:
        return None
    if type(axes) is int:  # the common case: one leading axis added
        return np.add.reduce(value, axis=0)
    return np.add.reduce(value, axis=axes).reshape(shape)


def sum_axes(full: tuple, shape: tuple) -> int | tuple | None:
    """The axes :func:`_summed_down` sums over, from shape ``full`` down to ``shape``: 0
    for one leading axis added (then no reshape), else a tuple; None if ``shape`` does not
    broadcast to ``full``, or is 0-d (the general path keeps that an array)."""
    lead = len(full) - len(shape)
    if lead < 0 or not shape:
        return None
    if lead == 1 and full[1:] == shape:
        return 0
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n != full[lead + i]:
            if n != 1:
                return None
            axes.append(lead + i)
    return tuple(axes)


def _reduced(value, like, fresh: bool):
    kind = type(like)
    if kind in _SCALARS and type(value) in _SCALARS:  # numbers: immutable, nothing to sum
        return value if type(value) is kind else kind(value)
    if kind is float and type(value) is np.ndarray:  # a number broadcast: the total
        return float(value.sum())
    if kind is np.float64 and type(value) is np.ndarray and value.dtype == _F64:
        return np.add.reduce(value, axis=None)  # a NumPy number broadcast: the total
    return to_like(_sum_to(value, np.shape(like)), like, fresh=fresh)


def gather_vjp(g, a, fn, *args, **kwargs):
    """Adjoint of ``fn(a, *args, **kwargs)`` for an ``fn`` that only selects, moves, copies or
    drops elements of ``a`` or fills with zeros (tile, repeat, roll, pad, take, diag, triu...).

    ``fn`` is run on an array of element numbers (1, 2, ...; 0 marks a filled-in
    value); ``g`` is summed into the elements each output element came from.
    """
    shape = np.shape(a)
    size = math.prod(shape)
    index = np.arange(1, size + 1, dtype=np.intp).reshape(shape)
    source = np.asarray(fn(index, *args, **kwargs))
    weights = np.broadcast_to(np.asarray(g), source.shape)
    if np.iscomplexobj(weights):
        weights = weights.real
    flat = np.bincount(source.ravel(), weights=weights.ravel(), minlength=size + 1)
    return to_like(flat[1:].reshape(shape), a)


def _array(x) -> np.ndarray:
    """``x`` as an array of its float dtype."""
    return np.asarray(x, dtype=_float_dtype(x))


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if type(axis) is int and ndim:  # the common case, quickly
        return (axis % ndim,)
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(ax) % ndim for ax in axis)) if ndim else ()


def _expand(g, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """``g`` with the reduced ``axes`` put back as size-1 axes."""
    g = np.asarray(g)
    if keepdims or not axes:
        return g
    shape = list(g.shape)
    for ax in axes:  # sorted, non-negative: each insertion keeps the later positions right
        shape.insert(ax, 1)
    return g.reshape(shape)


def _kept(shape: tuple, axis: int) -> tuple:
    """``shape`` with ``axis`` (non-negative) of size 1: a ``keepdims=True`` result's."""
    return shape[:axis] + (1,) + shape[axis + 1:]


def _zeros_if_none(g, like):
    return np.zeros(np.shape(like)) if g is None else np.asarray(g)


# ================================================================ elementwise partials

def clip_select(a, a_min, a_max):
    """Which argument ``np.clip`` returns, elementwise: 0 for ``a``, 1 for ``a_min``, 2 for
    ``a_max`` (clip is ``minimum(maximum(a, a_min), a_max)``; on ties ``a`` wins)."""
    a = np.asarray(a)
    low = a if a_min is None else np.maximum(a, a_min)
    which = np.zeros(np.shape(low), dtype=np.int8)
    if a_min is not None:
        which = np.where(a < a_min, 1, which)
    if a_max is not None:
        which = np.where(low > a_max, 2, which)
    return which


def dsinc(x):
    """Derivative of ``np.sinc`` (``sin(pi x) / (pi x)``), 0 at x = 0."""
    x = np.asarray(x)
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 0.0, (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


def log0(x):
    """``log(x)`` taken as 0 at ``x == 0`` (where it multiplies ``x ** y == 0``); nan below 0."""
    x = np.asarray(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, np.log(np.where(x == 0, 1.0, x)))


# ================================================================ reductions

def sum_vjp(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.sum(a, axis, keepdims=keepdims)``: ``g`` broadcast back."""
    if type(a) is np.ndarray and a.dtype.kind == "f":  # the common case, quickly
        out = np.empty(a.shape, dtype=a.dtype)
        if axis is None or keepdims:
            out[...] = g
        elif type(axis) is int and type(g) is np.ndarray and g.ndim == a.ndim - 1:
            out[...] = g.reshape(_kept(a.shape, axis % a.ndim))
        else:
            out[...] = _expand(g, _axes(axis, a.ndim), keepdims)
        return out
    shape = np.shape(a)
    axes = _axes(axis, len(shape))
    return to_like(np.broadcast_to(_expand(g, axes, keepdims), shape), a)


def sum_expand(g, a, axis=None, keepdims=False):
    """``sum_vjp`` for an adjoint that is an operand of arithmetic: ``g`` with the summed
    axes put back as size-1 axes (broadcasting does the rest), not a full array of copies."""
    if type(a) is not np.ndarray or a.dtype.kind not in "fc":
        return sum_vjp(g, a, axis, keepdims)
    if axis is None and a.dtype is _F64 and (type(g) is float or type(g) is np.float64):
        return g  # a float64 number: the arithmetic with ``a``'s shape broadcasts it as is
    g = np.asarray(g, dtype=a.dtype)
    return g if axis is None else _expand(g, _axes(axis, a.ndim), keepdims)


def mean_expand(g, a, axis=None, keepdims=False):
    """``mean_vjp`` in the form of :func:`sum_expand`."""
    if type(a) is not np.ndarray or a.dtype.kind not in "fc":
        return mean_vjp(g, a, axis, keepdims)
    count = math.prod(a.shape[ax] for ax in _axes(axis, a.ndim))
    return sum_expand(np.asarray(g) / count, a, axis, keepdims)


def mean_vjp(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.mean``."""
    if axis is None and type(a) is np.ndarray:
        kind = type(g)
        return sum_vjp(g / a.size if kind is float or kind is np.float64 else
                       np.true_divide(g, a.size), a)
    shape = np.shape(a)
    count = math.prod(shape[ax] for ax in _axes(axis, len(shape)))
    return sum_vjp(np.true_divide(g, count), a, axis, keepdims)


def _to_last(x: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, tuple]:
    """``x`` with ``axes`` moved to the end and merged into one; and the moved shape."""
    k = len(axes)
    moved = np.moveaxis(x, axes, tuple(range(x.ndim - k, x.ndim)))
    lead = moved.shape[:x.ndim - k]
    return moved.reshape(lead + (-1,)), moved.shape


def _from_last(y: np.ndarray, moved_shape: tuple, axes: tuple[int, ...]) -> np.ndarray:
    k = len(axes)
    n = len(moved_shape)
    return np.moveaxis(y.reshape(moved_shape), tuple(range(n - k, n)), axes)


def _exclusive_products(x: np.ndarray) -> np.ndarray:
    """For each element along the last axis, the product of all the others (exact with zeros)."""
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


def prod_vjp(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.prod``: ``g`` times the product of the other elements (exact with zeros)."""
    arr = _array(a)
    axes = _axes(axis, arr.ndim)
    flat, moved_shape = _to_last(arr, axes)
    others = _from_last(_exclusive_products(flat), moved_shape, axes)
    return to_like(_expand(g, axes, keepdims) * others, a)


def extremum_vjp(g, a, ans, axis=None, keepdims=False):
    """Adjoint of max/min (``ans``) over ``axis``: shared evenly among the elements equal to it."""
    arr = a if type(a) is np.ndarray else _array(a)
    axes = _axes(axis, arr.ndim)
    mask = arr == _expand(ans, axes, keepdims)
    count = np.add.reduce(mask, axis=axes, keepdims=True, dtype=np.intp)
    if type(a) is np.ndarray and a.dtype.kind == "f" and count.all():  # no NaN: quickly
        share = _expand(g, axes, keepdims) / count
        return (mask * share).astype(a.dtype, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return to_like(mask * (_expand(g, axes, keepdims) / count), a, fresh=True)


def ptp_vjp(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.ptp`` (max - min)."""
    arr = _array(a)
    high = np.max(arr, axis=axis, keepdims=keepdims)
    low = np.min(arr, axis=axis, keepdims=keepdims)
    return to_like(_array(extremum_vjp(g, arr, high, axis, keepdims))
                   - extremum_vjp(g, arr, low, axis, keepdims), a)


def var_vjp(g, a, axis=None, ddof=0, keepdims=False):
    """Adjoint of ``np.var``: ``2 (a - mean) / (N - ddof)`` times ``g``."""
    arr = _array(a)
    axes = _axes(axis, arr.ndim)
    count = math.prod(arr.shape[ax] for ax in axes)
    centered = arr - arr.mean(axis=axes, keepdims=True)
    return to_like(_expand(g, axes, keepdims) * (2.0 / (count - ddof)) * centered, a)


def std_vjp(g, a, ans, axis=None, ddof=0, keepdims=False):
    """Adjoint of ``np.std`` (``ans``): the var adjoint with ``g / (2 std)``; inf/nan at std = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return var_vjp(np.asarray(g) / (2.0 * np.asarray(ans)), a, axis, ddof, keepdims)


def nansum_vjp(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nansum``: ``g`` broadcast back, 0 at the NaNs."""
    arr = _array(a)
    axes = _axes(axis, arr.ndim)
    return to_like(np.where(np.isnan(arr), 0.0, _expand(g, axes, keepdims)), a)


def nanmean_vjp(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nanmean``: ``g / count`` of the non-NaN elements, 0 at the NaNs."""
    arr = _array(a)
    axes = _axes(axis, arr.ndim)
    keep = ~np.isnan(arr)
    count = keep.sum(axis=axes, keepdims=True)
    return to_like(np.where(keep, _expand(g, axes, keepdims) / count, 0.0), a)


def nanprod_vjp(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nanprod`` (NaNs count as 1 and get 0)."""
    arr = _array(a)
    nan = np.isnan(arr)
    grad = _array(prod_vjp(g, np.where(nan, 1.0, arr), axis, keepdims))
    return to_like(np.where(nan, 0.0, grad), a)


def nanvar_vjp(g, a, axis=None, ddof=0, keepdims=False):
    """Adjoint of ``np.nanvar`` (NaNs get 0)."""
    arr = _array(a)
    axes = _axes(axis, arr.ndim)
    keep = ~np.isnan(arr)
    count = keep.sum(axis=axes, keepdims=True)
    centered = np.where(keep, arr - np.nanmean(arr, axis=axes, keepdims=True), 0.0)
    return to_like(_expand(g, axes, keepdims) * 2.0 * centered / (count - ddof), a)


def nanstd_vjp(g, a, ans, axis=None, ddof=0, keepdims=False):
    """Adjoint of ``np.nanstd`` (``ans``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return nanvar_vjp(np.asarray(g) / (2.0 * np.asarray(ans)), a, axis, ddof, keepdims)


def cumsum_vjp(g, a, axis=None):
    """Adjoint of ``np.cumsum``: reversed cumulative sum of ``g`` (flat when ``axis`` is None)."""
    g = np.asarray(g)
    if axis is None:
        return to_like(np.cumsum(g.ravel()[::-1])[::-1].reshape(np.shape(a)), a)
    return to_like(np.flip(np.cumsum(np.flip(g, axis), axis), axis), a)


def cumprod_vjp(g, a, ans, axis=None):
    """Adjoint of ``np.cumprod`` (``ans``); exact with zeros (quadratic in the axis length then)."""
    arr = _array(a)
    g = np.asarray(g)
    if axis is None:
        arr, ans, g, axis = arr.ravel(), np.asarray(ans).ravel(), g.ravel(), 0
    x = np.moveaxis(arr, axis, -1)
    gm = np.moveaxis(g, axis, -1)
    if np.all(x != 0):
        am = np.moveaxis(np.asarray(ans), axis, -1)
        grad = np.cumsum((gm * am)[..., ::-1], axis=-1)[..., ::-1] / x
    else:
        grad = np.zeros(np.broadcast_shapes(x.shape, gm.shape))
        for i in range(x.shape[-1]):
            others = x.copy()
            others[..., i] = 1.0
            grad[..., i] = np.sum((gm * np.cumprod(others, axis=-1))[..., i:], axis=-1)
    return to_like(np.moveaxis(grad, -1, axis).reshape(np.shape(a)), a)


def _weights_like(w: np.ndarray, shape: tuple, axes: tuple[int, ...]) -> np.ndarray:
    """``np.average``'s weights as an array broadcastable against ``a``."""
    if w.shape == shape:
        return w
    full = [1] * len(shape)
    for ax, n in zip(axes, w.shape):
        full[ax] = n
    return w.reshape(full)


def average_vjp(g, a, axis=None, weights=None, returned=False, keepdims=False, wrt="a"):
    """Adjoint of ``np.average`` with respect to ``a`` (``wrt="a"``) or ``weights``.

    With ``returned=True`` ``g`` is the pair (adjoint of the average, adjoint of the
    sum of weights); either may be None.
    """
    arr = _array(a)
    axes = _axes(axis, arr.ndim)
    if returned:
        g, g_sum = g
    else:
        g_sum = None
    g = _expand(0.0 if g is None else g, axes, keepdims)
    if weights is None:
        count = math.prod(arr.shape[ax] for ax in axes)
        return to_like(np.broadcast_to(g / count, arr.shape), a)
    w = _weights_like(_array(weights), arr.shape, axes)
    total = np.sum(np.broadcast_to(w, arr.shape), axis=axes, keepdims=True)
    if wrt == "a":
        return to_like(np.broadcast_to(g * w / total, arr.shape), a)
    avg = np.sum(arr * w, axis=axes, keepdims=True) / total
    grad = g * (arr - avg) / total
    if g_sum is not None:
        grad = grad + _expand(g_sum, axes, keepdims)
    grad = _sum_to(np.broadcast_to(grad, arr.shape), w.shape)
    return to_like(grad.reshape(np.shape(weights)), weights)


def quantile_vjp(g, a, q, axis=None, keepdims=False, method="linear"):
    """Adjoint of ``np.quantile`` (and median, percentile with ``q / 100``), 'linear' method."""
    if method != "linear":
        raise NotImplementedError(f"derivative of quantile with method={method!r}")
    arr = _array(a)
    axes = _axes(axis, arr.ndim)
    q = np.asarray(q, dtype=float)
    flat, moved_shape = _to_last(arr, axes)
    n = flat.shape[-1]
    order = np.argsort(flat, axis=-1, kind="stable")
    g = np.asarray(g)
    g = g.reshape(q.shape + flat.shape[:-1])          # drops the kept size-1 axes
    pos = q * (n - 1)
    low = np.floor(pos).astype(np.intp)
    high = np.minimum(low + 1, n - 1)
    frac = pos - low
    grad_sorted = np.zeros(flat.shape)
    for i in np.ndindex(q.shape):
        grad_sorted[..., low[i]] += g[i] * (1.0 - frac[i])
        grad_sorted[..., high[i]] += g[i] * frac[i]
    grad = np.zeros(flat.shape)
    np.put_along_axis(grad, order, grad_sorted, axis=-1)
    return to_like(_from_last(grad, moved_shape, axes), a)


# ================================================================ products

def _tensordot_axes(axes, nda: int, ndb: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        return list(range(nda - axes, nda)), list(range(int(axes)))
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    return [int(x) % nda for x in ax_a], [int(x) % ndb for x in ax_b]


def _tensordot_grads(g, a, b, axes) -> tuple[np.ndarray, np.ndarray]:
    A, B, G = _array(a), _array(b), np.asarray(g)
    ax_a, ax_b = _tensordot_axes(axes, A.ndim, B.ndim)
    free_a = [i for i in range(A.ndim) if i not in ax_a]
    free_b = [i for i in range(B.ndim) if i not in ax_b]
    na = len(free_a)
    ga = np.tensordot(G, B, axes=(list(range(na, G.ndim)), free_b))
    # ga's axes: free_a, then a's contracted axes in the order of b's sorted ones
    a_order = free_a + [ax_a[i] for i in np.argsort(ax_b)]
    ga = np.transpose(ga, np.argsort(a_order))
    gb = np.tensordot(A, G, axes=(free_a, list(range(na))))
    b_order = [ax_b[i] for i in np.argsort(ax_a)] + free_b
    gb = np.transpose(gb, np.argsort(b_order))
    return ga, gb


def tensordot_vjp_a(g, a, b, axes=2):
    """Adjoint of ``np.tensordot(a, b, axes)`` for ``a`` (axes: int or pair of ints/sequences)."""
    return to_like(_tensordot_grads(g, a, b, axes)[0], a)


def tensordot_vjp_b(g, a, b, axes=2):
    """Adjoint of ``np.tensordot(a, b, axes)`` for ``b``."""
    return to_like(_tensordot_grads(g, a, b, axes)[1], b)


def _dot_grads(g, a, b) -> tuple[np.ndarray, np.ndarray]:
    A, B, G = _array(a), _array(b), np.asarray(g)
    if A.ndim == 0 or B.ndim == 0:
        return _sum_to(G * B, A.shape), _sum_to(G * A, B.shape)
    axes = ([A.ndim - 1], [max(B.ndim - 2, 0)])
    return _tensordot_grads(G, A, B, axes)


def dot_vjp_a(g, a, b):
    """Adjoint of ``np.dot(a, b)`` for ``a`` (scalars, 1-D, 2-D and N-D)."""
    if np.ndim(a) <= 2 and np.ndim(b) <= 2 and np.ndim(a) and np.ndim(b):
        return to_like(_matmul_grad(g, a, b, 0), a, fresh=True)  # dot is matmul here
    return to_like(_dot_grads(g, a, b)[0], a)


def dot_vjp_b(g, a, b):
    """Adjoint of ``np.dot(a, b)`` for ``b``."""
    if np.ndim(a) <= 2 and np.ndim(b) <= 2 and np.ndim(a) and np.ndim(b):
        return to_like(_matmul_grad(g, a, b, 1), b, fresh=True)
    return to_like(_dot_grads(g, a, b)[1], b)


def mT(x):
    """The matrix transpose of a stack of matrices (swap the last two axes)."""
    return np.swapaxes(x, -1, -2)


def _matmul_grad(g, a, b, which: int) -> np.ndarray:
    if type(a) is np.ndarray and type(b) is np.ndarray and type(g) is np.ndarray \
            and a.dtype == b.dtype == g.dtype == _F64 and a.ndim <= 2 and b.ndim <= 2:
        return _matmul_grad_2d(g, a, b, which)  # plain matrices and vectors: directly
    A, B, G = _array(a), _array(b), np.asarray(g)
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    if A.ndim == 1:
        G = np.expand_dims(G, -2 if B.ndim > 1 else -1)
    if B.ndim == 1:
        G = np.expand_dims(G, -1)
    if which == 0:
        return _sum_to(G @ mT(B2), A2.shape).reshape(A.shape)
    return _sum_to(mT(A2) @ G, B2.shape).reshape(B.shape)


def _matmul_grad_2d(g, a, b, which: int) -> np.ndarray:
    if a.ndim == 2 and b.ndim == 2:
        return g @ b.T if which == 0 else a.T @ g
    if a.ndim == 2:  # matrix @ vector
        return np.outer(g, b) if which == 0 else a.T @ g
    if b.ndim == 2:  # vector @ matrix
        return b @ g if which == 0 else np.outer(a, g)
    return g * b if which == 0 else g * a  # vector @ vector (g is 0-d)


def _matrices(g, a, b) -> bool:
    """Are ``g``, ``a`` and ``b`` float64 arrays with ``a`` a matrix (the common cases)?"""
    return type(a) is np.ndarray and type(g) is np.ndarray and type(b) is np.ndarray \
        and a.ndim == 2 and a.dtype is _F64 and g.dtype is _F64 and b.dtype is _F64


def matmul_vjp_a(g, a, b):
    """Adjoint of ``a @ b`` for ``a`` (1-D promotion, batching with broadcasting)."""
    if _matrices(g, a, b) and b.ndim == 2 and g.shape == (a.shape[0], b.shape[1]):
        return g @ b.T  # matrix @ matrix, all float64: directly
    return to_like(_matmul_grad(g, a, b, 0), a, fresh=True)


def matmul_vjp_b(g, a, b):
    """Adjoint of ``a @ b`` for ``b``."""
    if type(a) is np.ndarray and type(g) is np.ndarray and type(b) is np.ndarray \
            and a.dtype is _F64 and g.dtype is _F64 and b.dtype is _F64 and a.ndim == 2 \
            and (g.shape == (a.shape[0],) if b.ndim == 1 else
                 b.ndim == 2 and g.shape == (a.shape[0], b.shape[1])):
        return a.T @ g  # matrix @ matrix or vector, all float64: directly
    return to_like(_matmul_grad(g, a, b, 1), b, fresh=True)


def _batched(gs: list, others: list, like, which: int):
    """``sum_t`` of the matrix-product adjoint for ``like`` (the 2-D operand ``which``) over
    the pairs (``gs[t]``, the other operand ``others[t]``), as one matrix product; None if
    they are not all vectors or matrices of ``like``'s float dtype that fit it."""
    if type(like) is not np.ndarray or like.ndim != 2 or like.dtype.kind != "f" or not gs:
        return None
    dtype, (m, n) = like.dtype, like.shape
    g_shape = other_shape = None
    same = True  # (every g of one shape, every other operand too)
    for g, other in zip(gs, others):
        if type(g) is not np.ndarray or type(other) is not np.ndarray or g.dtype != dtype \
                or other.dtype != dtype or g.ndim != other.ndim or g.ndim not in (1, 2):
            return None
        if g_shape is None:
            g_shape, other_shape = g.shape, other.shape
        same = same and g.shape == g_shape and other.shape == other_shape
    try:
        if all(g.ndim == 1 for g in gs):  # vectors: rows of one matrix (forms._stacked)
            if not same:
                return None
            G, rows = np.array(gs), np.array(others)  # (np.stack's result, 3x faster)
            return G.T @ rows if which == 0 else rows.T @ G
        if which == 0:  # like @ other: d like = sum_t g_t @ other_t.T, columns side by side
            G = np.concatenate([g.reshape(m, -1) for g in gs], axis=1)
            B = np.concatenate([b.reshape(n, -1) for b in others], axis=1)
            return G @ B.T
        A = np.concatenate([a.reshape(-1, m) for a in others], axis=0)  # other @ like
        G = np.concatenate([g.reshape(-1, n) for g in gs], axis=0)
        return A.T @ G
    except ValueError:
        return None


def matmul_vjp_a_many(gs: list, others: list, a):
    """``sum`` of ``matmul_vjp_a(g, a, b)`` over the pairs of ``gs`` and ``others`` (the
    ``b``s) (zero if none)."""
    return _many(gs, others, a, 0, matmul_vjp_a)


def matmul_vjp_b_many(gs: list, others: list, b):
    """``sum`` of ``matmul_vjp_b(g, a, b)`` over the pairs of ``gs`` and ``others`` (the
    ``a``s)."""
    return _many(gs, others, b, 1, matmul_vjp_b)


def dot_vjp_a_many(gs: list, others: list, a):
    """``sum`` of ``dot_vjp_a(g, a, b)`` over the pairs of ``gs`` and ``others`` (for 2-D
    ``a`` and 1-D or 2-D ``b``, ``np.dot`` is a matrix product)."""
    return _many(gs, others, a, 0, dot_vjp_a)


def dot_vjp_b_many(gs: list, others: list, b):
    """``sum`` of ``dot_vjp_b(g, a, b)`` over the pairs of ``gs`` and ``others``."""
    return _many(gs, others, b, 1, dot_vjp_b)


def _many(gs: list, others: list, like, which: int, single):
    """One matrix product for all the pairs if they allow it, else ``single`` of each
    summed (``like`` is operand ``which`` of ``single``; ``gs[t]`` its ``g``)."""
    total = _batched(gs, others, like, which)
    if total is not None:
        return to_like(total, like, fresh=True)
    if which == 0:
        return _sum_each(single(g, like, other) for g, other in zip(gs, others))
    return _sum_each(single(g, other, like) for g, other in zip(gs, others))


def _sum_each(terms):
    total = 0.0
    for term in terms:
        total = term if type(total) is float else total + term
    return total


def _inner_grads(g, a, b):
    A, B = _array(a), _array(b)
    if A.ndim == 0 or B.ndim == 0:
        return _dot_grads(g, A, B)
    return _tensordot_grads(g, A, B, ([A.ndim - 1], [B.ndim - 1]))


def inner_vjp_a(g, a, b):
    """Adjoint of ``np.inner(a, b)`` for ``a``."""
    return to_like(_inner_grads(g, a, b)[0], a)


def inner_vjp_b(g, a, b):
    """Adjoint of ``np.inner(a, b)`` for ``b``."""
    return to_like(_inner_grads(g, a, b)[1], b)


def outer_vjp_a(g, a, b):
    """Adjoint of ``np.outer(a, b)`` (inputs flattened) for ``a``."""
    return to_like((np.asarray(g) @ _array(b).ravel()).reshape(np.shape(a)), a)


def outer_vjp_b(g, a, b):
    """Adjoint of ``np.outer(a, b)`` for ``b``."""
    return to_like((_array(a).ravel() @ np.asarray(g)).reshape(np.shape(b)), b)


def vdot_vjp_a(g, a, b):
    """Adjoint of ``np.vdot(a, b)`` (real inputs, flattened) for ``a``."""
    return to_like(np.asarray(g) * _array(b).reshape(np.shape(a)), a)


def vdot_vjp_b(g, a, b):
    """Adjoint of ``np.vdot(a, b)`` for ``b``."""
    return to_like(np.asarray(g) * _array(a).reshape(np.shape(b)), b)


def _einsum_terms(subscripts: str, operands) -> tuple[list[str], str, list[str]]:
    """Input and output subscripts with any ellipsis spelled out; unused letters left over."""
    subs = subscripts.replace(" ", "")
    inputs, arrow, output = subs.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum {subscripts!r} with {len(operands)} operands")
    free = [c for c in string.ascii_letters if c not in subs]
    ell_ndim = max([np.ndim(op) - (len(t) - 3) for t, op in zip(terms, operands) if "..." in t],
                   default=0)
    ellipsis = "".join(free.pop(0) for _ in range(ell_ndim))
    spelled = []
    for term, op in zip(terms, operands):
        if "..." in term:
            nd = np.ndim(op) - (len(term) - 3)
            term = term.replace("...", ellipsis[len(ellipsis) - nd:] if nd else "")
        spelled.append(term)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = inputs.replace(",", "").replace(".", "")
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return spelled, output, free


def einsum_vjp(g, k, subscripts, *operands):
    """Adjoint of ``np.einsum(subscripts, *operands)`` for operand number ``k``.

    Explicit (``'ij,jk->ik'``) or implicit subscripts, ellipses and broadcasting,
    repeated indices (``'ii->i'``) and indices summed within one operand.
    """
    terms, output, free = _einsum_terms(subscripts, operands)
    arrays = [_array(op) for op in operands]
    sizes: dict[str, int] = {}
    for term, arr in zip(terms, arrays):
        for c, n in zip(term, arr.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    mine = list(terms[k])
    shape = arrays[k].shape
    for p, c in enumerate(mine):                     # size-1 axes broadcast against others
        if shape[p] == 1 and sizes[c] > 1:
            mine[p] = free.pop(0)
    available = set(output).union(*(terms[j] for j in range(len(terms)) if j != k))
    slots = [free.pop(0) for _ in mine]              # one distinct letter per axis of operand k
    first = {}
    for p, c in enumerate(mine):
        first.setdefault(c, p)
    kept = [c for c in first if c in available]
    others = [(terms[j], arrays[j]) for j in range(len(terms)) if j != k]
    spec = ",".join([output] + [t for t, _ in others]) + "->" + "".join(kept)
    reduced = np.einsum(spec, np.asarray(g), *[arr for _, arr in others])
    specs = ["".join(slots[first[c]] for c in kept)]
    factors = [reduced]
    for p, c in enumerate(mine):
        if first[c] != p:                            # repeated index: on the diagonal only
            specs.append(slots[first[c]] + slots[p])
            factors.append(np.eye(shape[p]))
        elif c not in available:                     # summed within operand k alone
            specs.append(slots[p])
            factors.append(np.ones(shape[p]))
    grad = np.einsum(",".join(specs) + "->" + "".join(slots), *factors)
    return to_like(np.broadcast_to(grad, shape), operands[k])


def _kron_grads(g, a, b):
    A, B = _array(a), _array(b)
    nd = max(A.ndim, B.ndim)
    sa = (1,) * (nd - A.ndim) + A.shape
    sb = (1,) * (nd - B.ndim) + B.shape
    G = np.asarray(g).reshape([n for pair in zip(sa, sb) for n in pair])
    la, lb = string.ascii_lowercase[:nd], string.ascii_uppercase[:nd]
    gs = "".join(x + y for x, y in zip(la, lb))
    ga = np.einsum(f"{gs},{lb}->{la}", G, B.reshape(sb)).reshape(A.shape)
    gb = np.einsum(f"{gs},{la}->{lb}", G, A.reshape(sa)).reshape(B.shape)
    return ga, gb


def kron_vjp_a(g, a, b):
    """Adjoint of ``np.kron(a, b)`` for ``a``."""
    return to_like(_kron_grads(g, a, b)[0], a)


def kron_vjp_b(g, a, b):
    """Adjoint of ``np.kron(a, b)`` for ``b``."""
    return to_like(_kron_grads(g, a, b)[1], b)


def _cross_grads(g, a, b, axisa, axisb, axisc, axis):
    if axis is not None:
        axisa = axisb = axisc = axis
    A = np.moveaxis(_array(a), axisa, -1)
    B = np.moveaxis(_array(b), axisb, -1)
    G = np.moveaxis(np.asarray(g), axisc, -1)
    ga = np.moveaxis(_sum_to(np.cross(B, G), A.shape), -1, axisa)   # <g, a x b> = <a, b x g>
    gb = np.moveaxis(_sum_to(np.cross(G, A), B.shape), -1, axisb)
    return ga, gb


def cross_vjp_a(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Adjoint of ``np.cross(a, b, ...)`` for ``a`` (3-vectors)."""
    return to_like(_cross_grads(g, a, b, axisa, axisb, axisc, axis)[0], a)


def cross_vjp_b(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Adjoint of ``np.cross(a, b, ...)`` for ``b``."""
    return to_like(_cross_grads(g, a, b, axisa, axisb, axisc, axis)[1], b)


def trace_vjp(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.trace``: ``g`` on the diagonal."""
    diagonal = np.diagonal(np.empty(np.shape(a), dtype=np.int8), offset, axis1, axis2)
    g_diag = np.broadcast_to(np.expand_dims(np.asarray(g), -1), diagonal.shape)
    return gather_vjp(g_diag, a, np.diagonal, offset, axis1, axis2)


def _conv_grads(g, a, v, offset: int):
    A, V = _array(a), _array(v)
    G = np.asarray(g)
    g_full = np.zeros(A.size + V.size - 1, dtype=np.result_type(G, A, V))
    g_full[offset:offset + G.size] = G
    return np.correlate(g_full, V, "valid"), np.correlate(g_full, A, "valid")


def convolve_vjp(g, a, v, mode="full", wrt=0):
    """Adjoint of ``np.convolve(a, v, mode)`` for ``a`` (``wrt=0``) or ``v`` (``wrt=1``)."""
    n, m = np.size(a), np.size(v)
    offset = {"full": 0, "same": (min(n, m) - 1) // 2, "valid": min(n, m) - 1}[mode]
    return to_like(_conv_grads(g, a, v, offset)[wrt], (a, v)[wrt])


def correlate_vjp(g, a, v, mode="valid", wrt=0):
    """Adjoint of ``np.correlate(a, v, mode)`` (real inputs) for ``a`` (``wrt=0``) or ``v``."""
    n, m = np.size(a), np.size(v)
    same = n // 2 if n < m else (m - 1) // 2
    offset = {"full": 0, "same": same, "valid": min(n, m) - 1}[mode]
    ga, gv = _conv_grads(g, a, _array(v)[::-1], offset)
    return to_like(ga, a) if wrt == 0 else to_like(gv[::-1], v)


# ================================================================ linear algebra

def inv_vjp(g, a, ans):
    """Adjoint of ``np.linalg.inv`` (``ans``): ``-ans^T g ans^T``."""
    return to_like(-mT(ans) @ np.asarray(g) @ mT(ans), a)


def det_vjp(g, a, ans):
    """Adjoint of ``np.linalg.det`` (``ans``): ``g det(a) inv(a)^T`` (a must be invertible)."""
    scale = np.asarray(g) * np.asarray(ans)
    return to_like(scale[..., None, None] * mT(np.linalg.inv(_array(a))), a)


def slogdet_vjp(g, a):
    """Adjoint of ``np.linalg.slogdet``: ``g[1] inv(a)^T`` (the sign has no derivative)."""
    g_log = np.asarray(g[1] if g[1] is not None else 0.0)
    return to_like(g_log[..., None, None] * mT(np.linalg.inv(_array(a))), a)


_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _solve_grads(g, a, b, ans):
    A = _array(a)
    # NumPy 2 takes b as a vector only when it is 1-D; NumPy 1 also when it has one axis less
    vector = np.ndim(b) == 1 or (not _NUMPY2 and np.ndim(b) == A.ndim - 1)
    G = np.asarray(g)[..., None] if vector else np.asarray(g)
    gb = np.linalg.solve(mT(A), G)
    ga = None
    if ans is not None:
        x = np.asarray(ans)[..., None] if vector else np.asarray(ans)
        ga = _sum_to(-gb @ mT(x), A.shape)
    gb = gb[..., 0] if vector else gb
    return ga, _sum_to(gb, np.shape(b))


def solve_vjp_a(g, a, b, ans):
    """Adjoint of ``np.linalg.solve(a, b)`` (``ans``) for ``a``: ``-solve(a^T, g) ans^T``."""
    return to_like(_solve_grads(g, a, b, ans)[0], a)


def solve_vjp_b(g, a, b):
    """Adjoint of ``np.linalg.solve(a, b)`` for ``b``: ``solve(a^T, g)``."""
    return to_like(_solve_grads(g, a, b, None)[1], b)


def _fold(sym, lower: bool):
    """A gradient for symmetric perturbations, onto the triangle NumPy actually reads."""
    n = sym.shape[-1]
    both = sym + mT(sym)
    diag = sym * np.eye(n)
    return (np.tril(both, -1) if lower else np.triu(both, 1)) + diag


def cholesky_vjp(g, a, ans, upper=False):
    """Adjoint of ``np.linalg.cholesky`` (``ans``), onto the triangle it reads (lower, or upper).

    The gradient w.r.t. the symmetric matrix is ``sym(L^-T Phi(L^T gL) L^-1)`` (Murray 2016),
    ``Phi`` the lower triangle with a halved diagonal; entries below the diagonal get
    both symmetric halves, those above get 0.
    """
    L = mT(ans) if upper else np.asarray(ans)
    gL = mT(g) if upper else np.asarray(g)
    n = L.shape[-1]
    phi = np.tril(mT(L) @ gL) * (1.0 - 0.5 * np.eye(n))
    inner = np.linalg.solve(mT(L), phi)                  # L^-T phi
    s = mT(np.linalg.solve(mT(L), mT(inner)))            # (L^-T (L^-T phi)^T)^T = L^-T phi L^-1
    return to_like(_fold(0.5 * (s + mT(s)), not upper), a)


def eigh_vjp(g, a, ans, UPLO="L"):
    """Adjoint of ``np.linalg.eigh`` (``ans`` = (w, v), ``g`` = (gw, gv), either may be None);
    eigenvalues must be distinct. Onto the triangle ``UPLO`` that eigh reads."""
    w, v = np.asarray(ans[0]), np.asarray(ans[1])
    gw, gv = _zeros_if_none(g[0], w), _zeros_if_none(g[1], v)
    n = w.shape[-1]
    off = 1.0 - np.eye(n)
    with np.errstate(divide="ignore"):
        f = off / (w[..., None, :] - w[..., :, None] + np.eye(n))
    r = (v * gw[..., None, :] + v @ (f * (mT(v) @ gv))) @ mT(v)
    return to_like(_fold(0.5 * (r + mT(r)), UPLO.upper() == "L"), a)


def eigvalsh_vjp(g, a, UPLO="L"):
    """Adjoint of ``np.linalg.eigvalsh``: ``V diag(g) V^T``, onto the triangle ``UPLO``."""
    _, v = np.linalg.eigh(_array(a), UPLO)
    r = (v * np.asarray(g)[..., None, :]) @ mT(v)
    return to_like(_fold(r, UPLO.upper() == "L"), a)


def svdvals_vjp(g, x):
    """Adjoint of ``np.linalg.svdvals``: ``U diag(g) V^T`` (distinct singular values)."""
    u, _, vh = np.linalg.svd(_array(x), full_matrices=False)
    return to_like((u * np.asarray(g)[..., None, :]) @ vh, x)


def _vector_norm_grad(arr, g_e, n_e, ord, axes):
    if ord is None or ord == 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n_e == 0, 0.0, arr * (g_e / n_e))
    if ord in (np.inf, -np.inf):
        mask = np.abs(arr) == n_e
        return np.sign(arr) * mask * (g_e / mask.sum(axis=axes, keepdims=True))
    if ord == 0:
        return np.zeros(arr.shape)
    if ord == 1:
        return np.sign(arr) * g_e
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sign(arr) * (np.abs(arr) / n_e) ** (ord - 1) * g_e


def _matrix_norm_grad(arr, g_e, n_e, ord, row, col):
    if ord in (None, "fro", "f"):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n_e == 0, 0.0, arr * (g_e / n_e))
    if ord in (1, -1, np.inf, -np.inf):
        summed = row if ord in (1, -1) else col        # 1: column sums; inf: row sums
        sums = np.sum(np.abs(arr), axis=summed, keepdims=True)
        mask = sums == n_e
        count = mask.sum(axis=(row, col), keepdims=True)
        return np.sign(arr) * mask * (g_e / count)
    if ord in ("nuc", 2, -2):
        y = np.moveaxis(arr, (row, col), (-2, -1))
        u, _, vh = np.linalg.svd(y, full_matrices=False)
        if ord == "nuc":
            grad = u @ vh
        else:
            i = slice(0, 1) if ord == 2 else slice(-1, None)
            grad = u[..., :, i] @ vh[..., i, :]
        return np.moveaxis(grad, (-2, -1), (row, col)) * g_e
    raise NotImplementedError(f"derivative of the matrix norm of order {ord!r}")


def norm_vjp(g, x, ans, ord=None, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.norm(x, ord, axis, keepdims)`` (``ans``): vector norms of any
    order, matrix norms 'fro', 'nuc', 1, -1, 2, -2, inf, -inf; ties share the adjoint."""
    arr = _array(x)
    if axis is None:
        axes = tuple(range(arr.ndim))
        matrix = ord is not None and arr.ndim == 2
    else:
        axes = _axes(axis, arr.ndim)
        matrix = len(axes) == 2
        if matrix:                                   # keep the given (row, col) order
            axes = tuple(int(ax) % arr.ndim for ax in axis)
    g_e = _expand(g, tuple(sorted(axes)), keepdims)
    n_e = _expand(ans, tuple(sorted(axes)), keepdims)
    if matrix:
        grad = _matrix_norm_grad(arr, g_e, n_e, ord, axes[0], axes[1])
    else:
        grad = _vector_norm_grad(arr, g_e, n_e, ord, axes)
    return to_like(grad, x)


def vector_norm_vjp(g, x, ans, axis=None, keepdims=False, ord=2):
    """Adjoint of ``np.linalg.vector_norm`` (``ans``): any axes, taken as one vector."""
    arr = _array(x)
    axes = _axes(axis, arr.ndim)
    grad = _vector_norm_grad(arr, _expand(g, axes, keepdims), _expand(ans, axes, keepdims),
                             ord, axes)
    return to_like(grad, x)


def matrix_norm_vjp(g, x, ans, keepdims=False, ord="fro"):
    """Adjoint of ``np.linalg.matrix_norm`` (``ans``) over the last two axes."""
    arr = _array(x)
    axes = (arr.ndim - 2, arr.ndim - 1)
    grad = _matrix_norm_grad(arr, _expand(g, axes, keepdims), _expand(ans, axes, keepdims),
                             ord, *axes)
    return to_like(grad, x)


def multi_dot_vjp(g, arrays):
    """Adjoint of ``np.linalg.multi_dot(arrays)``: one adjoint per array, in a list."""
    mats = [_array(x) for x in arrays]
    first_vec, last_vec = mats[0].ndim == 1, mats[-1].ndim == 1
    if first_vec:
        mats[0] = mats[0][None, :]
    if last_vec:
        mats[-1] = mats[-1][:, None]
    G = np.asarray(g)
    G = G.reshape(mats[0].shape[0], mats[-1].shape[1])
    prefix = [np.eye(mats[0].shape[0])]
    for m in mats[:-1]:
        prefix.append(prefix[-1] @ m)
    suffix = [np.eye(mats[-1].shape[1])]
    for m in mats[:0:-1]:
        suffix.append(m @ suffix[-1])
    suffix.reverse()
    return [to_like((prefix[i].T @ G @ suffix[i].T).reshape(np.shape(x)), x)
            for i, x in enumerate(arrays)]


def matrix_power_vjp(g, a, n):
    """Adjoint of ``np.linalg.matrix_power(a, n)``; negative ``n`` through the inverse."""
    A = _array(a)
    G = np.asarray(g)
    if n < 0:
        B = np.linalg.inv(A)
        gB = _array(matrix_power_vjp(G, B, -n))
        return to_like(-mT(B) @ gB @ mT(B), a)
    powers = [np.broadcast_to(np.eye(A.shape[-1]), A.shape)]
    for _ in range(n - 1):
        powers.append(powers[-1] @ A)
    grad = np.zeros(np.broadcast_shapes(A.shape, G.shape))
    for k in range(n):
        grad = grad + mT(powers[k]) @ G @ mT(powers[n - 1 - k])
    return to_like(grad, a)


# ================================================================ shapes, joining, splitting

def transpose_vjp(g, a, axes=None):
    """Adjoint of ``np.transpose(a, axes)``: the inverse permutation."""
    nd = np.ndim(a)
    if axes is None:
        return to_like(np.transpose(g), a)
    return to_like(np.transpose(g, np.argsort([int(ax) % nd for ax in axes])), a)


def _split_as(g, parts, axis):
    """``g`` cut along ``axis`` into pieces as long as each of ``parts`` is along it."""
    sizes = np.cumsum([np.shape(p)[axis] for p in parts])[:-1]
    return np.split(np.asarray(g), sizes, axis=axis)


def concatenate_vjp(g, arrays, axis=0):
    """Adjoint of ``np.concatenate(arrays, axis)``: a list, one adjoint per array."""
    if axis is None:
        pieces = _split_as(np.ravel(g), [np.ravel(x) for x in arrays], 0)
    else:
        pieces = _split_as(g, arrays, axis)
    return [to_like(p.reshape(np.shape(x)), x) for p, x in zip(pieces, arrays)]


def stack_vjp(g, arrays, axis=0):
    """Adjoint of ``np.stack(arrays, axis)``: a list of the slices of ``g``."""
    g = np.asarray(g)
    return [to_like(np.take(g, i, axis=axis), x) for i, x in enumerate(arrays)]


def _promoted_vjp(g, tup, promote, axis):
    promoted = [promote(np.asarray(x)) for x in tup]
    pieces = _split_as(g, promoted, axis)
    return [to_like(p.reshape(np.shape(x)), x) for p, x in zip(pieces, tup)]


def hstack_vjp(g, tup):
    """Adjoint of ``np.hstack(tup)``."""
    axis = 0 if np.ndim(np.atleast_1d(tup[0])) == 1 else 1
    return _promoted_vjp(g, tup, np.atleast_1d, axis)


def vstack_vjp(g, tup):
    """Adjoint of ``np.vstack(tup)``."""
    return _promoted_vjp(g, tup, np.atleast_2d, 0)


def dstack_vjp(g, tup):
    """Adjoint of ``np.dstack(tup)``."""
    return _promoted_vjp(g, tup, np.atleast_3d, 2)


def column_stack_vjp(g, tup):
    """Adjoint of ``np.column_stack(tup)``."""
    def column(x):
        return x.reshape(-1, 1) if x.ndim < 2 else x
    return _promoted_vjp(g, tup, column, 1)


def append_vjp(g, arr, values, axis=None, wrt=0):
    """Adjoint of ``np.append(arr, values, axis)`` for ``arr`` (``wrt=0``) or ``values``."""
    if axis is None:
        pieces = _split_as(np.ravel(g), [np.ravel(arr), np.ravel(values)], 0)
    else:
        pieces = _split_as(g, [arr, values], axis)
    like = (arr, values)[wrt]
    return to_like(_sum_to(pieces[wrt], np.shape(like)) if axis is not None
                   else pieces[wrt].reshape(np.shape(like)), like)


def split_vjp(g, ary, ans, axis=0):
    """Adjoint of ``np.split`` / ``array_split`` / ``hsplit``... (``ans`` the pieces, ``g`` a
    list of their adjoints, None for a piece without one): ``g`` joined along ``axis``."""
    pieces = [_zeros_if_none(gi, part) * np.ones(np.shape(part))
              for gi, part in zip(g, ans)]
    return to_like(np.concatenate(pieces, axis=axis), ary)


def unstack_vjp(g, x, ans, axis=0):
    """Adjoint of ``np.unstack(x, axis)``: the adjoints of the pieces stacked along ``axis``."""
    pieces = [_zeros_if_none(gi, part) * np.ones(np.shape(part))
              for gi, part in zip(g, ans)]
    return to_like(np.stack(pieces, axis=axis), x)


def pad_vjp(g, array, pad_width, mode="constant"):
    """Adjoint of ``np.pad`` for the modes that copy elements: constant, edge, reflect,
    symmetric, wrap, empty."""
    if mode == "empty":
        mode = "constant"
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"derivative of np.pad with mode={mode!r}")
    return gather_vjp(g, array, np.pad, pad_width, mode)


def _diff_adjoint(g, axis):
    """Adjoint of one ``np.diff`` along ``axis``: ``-diff`` of ``g`` padded with zeros."""
    g = np.asarray(g)
    zero_shape = list(g.shape)
    zero_shape[axis] = 1
    zero = np.zeros(zero_shape, dtype=g.dtype)
    return -np.diff(np.concatenate([zero, g, zero], axis=axis), axis=axis)


def diff_vjp(g, a, n=1, axis=-1):
    """Adjoint of ``np.diff(a, n, axis)``: ``n`` times ``-diff`` of ``g`` padded with zeros."""
    for _ in range(n):
        g = _diff_adjoint(g, axis)
    return to_like(g, a)


def linspace_vjp(g, start, stop, num=50, endpoint=True, retstep=False, axis=0, wrt=0):
    """Adjoint of ``np.linspace`` for ``start`` (``wrt=0``) or ``stop`` (``wrt=1``); with
    ``retstep`` ``g`` is (adjoint of the samples, adjoint of the step), either may be None."""
    g_samples, g_step = g if retstep else (g, None)
    div = (num - 1) if endpoint else num
    t = np.arange(num) / div if div > 0 else np.zeros(num)
    weight = (1.0 - t) if wrt == 0 else t
    grad = np.zeros(())
    if g_samples is not None:
        grad = np.tensordot(weight, np.moveaxis(np.asarray(g_samples), axis, 0), axes=(0, 0))
    if g_step is not None and div > 0:
        grad = grad + (-1.0 if wrt == 0 else 1.0) * np.asarray(g_step) / div
    return unbroadcast(grad, (start, stop)[wrt])


def _interp_segments(x, xp):
    xp = np.asarray(xp, dtype=float)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, xp.size - 2)
    return i, xp


def interp_vjp_x(g, x, xp, fp, period=None):
    """Adjoint of ``np.interp(x, xp, fp)`` for ``x``: ``g`` times the slope of the segment
    (0 outside ``[xp[0], xp[-1]]``)."""
    if period is not None:
        raise NotImplementedError("derivative of np.interp with period")
    X = _array(x)
    fp = np.asarray(fp, dtype=float)
    if fp.size < 2:
        return to_like(np.zeros(X.shape), x)
    i, xp = _interp_segments(X, xp)
    slope = (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i])
    inside = (X >= xp[0]) & (X <= xp[-1])
    return to_like(np.asarray(g) * np.where(inside, slope, 0.0), x)


def interp_vjp_fp(g, x, xp, fp, left=None, right=None, period=None):
    """Adjoint of ``np.interp(x, xp, fp, left, right)`` for ``fp`` (linear weights)."""
    if period is not None:
        raise NotImplementedError("derivative of np.interp with period")
    X = _array(x).ravel()
    G = np.broadcast_to(np.asarray(g), np.shape(x)).ravel()
    m = np.size(fp)
    if m == 1:
        return to_like(np.array([G.sum()]).reshape(np.shape(fp)), fp)
    i, xp = _interp_segments(X, xp)
    t = np.clip((X - xp[i]) / (xp[i + 1] - xp[i]), 0.0, 1.0)
    below, above = X < xp[0], X > xp[-1]
    w_low = np.where(below, 0.0 if left is not None else 1.0, np.where(above, 0.0, 1.0 - t))
    w_high = np.where(above, 0.0 if right is not None else 1.0, np.where(below, 0.0, t))
    grad = (np.bincount(i, weights=G * w_low, minlength=m)
            + np.bincount(i + 1, weights=G * w_high, minlength=m))
    return to_like(grad.reshape(np.shape(fp)), fp)


def polyval_vjp_p(g, p, x):
    """Adjoint of ``np.polyval(p, x)`` for the coefficients ``p``: ``sum(g * x**k)``."""
    n = np.size(p)
    X = _array(x)
    powers = X[..., None] ** np.arange(n - 1, -1, -1)
    grad = np.sum(np.asarray(g)[..., None] * powers, axis=tuple(range(X.ndim)))
    return to_like(grad.reshape(np.shape(p)), p)


def trapezoid_vjp_y(g, y, x=None, dx=1.0, axis=-1):
    """Adjoint of ``np.trapezoid(y, x, dx, axis)`` for ``y`` (``x`` None, 1-D or like ``y``)."""
    Y = np.moveaxis(_array(y), axis, -1)
    if x is None:
        d = np.asarray(dx, dtype=float)
    elif np.ndim(x) == 1:
        d = np.diff(_array(x))
    else:
        d = np.moveaxis(np.diff(_array(x), axis=axis), axis, -1)
    half = np.asarray(g)[..., None] * d / 2.0
    grad = np.zeros(np.broadcast_shapes(Y.shape, half.shape[:-1] + Y.shape[-1:]))
    grad[..., :-1] += half
    grad[..., 1:] += half
    return unbroadcast(np.moveaxis(grad, -1, axis), y)


def trapezoid_vjp_x(g, y, x, axis=-1):
    """Adjoint of ``np.trapezoid(y, x, axis=axis)`` for the sample points ``x``."""
    Y = np.moveaxis(_array(y), axis, -1)
    g_d = np.asarray(g)[..., None] * (Y[..., 1:] + Y[..., :-1]) / 2.0   # adjoint of diff(x)
    if np.ndim(x) == 1:
        return to_like(_diff_adjoint(_sum_to(g_d, (Y.shape[-1] - 1,)), -1), x)
    moved = np.moveaxis(np.empty(np.shape(x)), axis, -1)
    g_d = _sum_to(g_d, moved.shape[:-1] + (moved.shape[-1] - 1,))
    return to_like(np.moveaxis(_diff_adjoint(g_d, -1), -1, axis), x)
