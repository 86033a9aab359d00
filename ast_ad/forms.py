"""The cheaper forms of our helpers' calls, for specialised adjoints (ast_ad.specialise).

For each helper, :data:`FORMS` lists its cheaper forms: a test, given a call's result and
arguments, of whether the helper took the path that form writes out (``True``, or a
*detail* the form needs, such as the axes a sum ran over: a constant of the argument
signature), and the form's tree built from the call's argument trees. Each form is what
the helper itself computes on that path, so the same bits; ``tests/test_specialise.py``
checks every form against its helper on cases on both sides of its test.
"""
from __future__ import annotations

import gast
import numpy as np

from . import npruntime, runtime
from .nodes import make


def _plain_product(result, like, *factors) -> bool:
    """``lazy_product`` that made its product (small), and had nothing to reduce."""
    if type(result) is not np.ndarray:
        return False
    product = npruntime.product_of(factors)
    return type(product) is np.ndarray and (like is None or _same_float(product, like))


def _chain(args: list) -> gast.expr:
    product = args[0]
    for factor in args[1:]:
        product = make(gast.BinOp, left=product, op=gast.Mult(), right=factor)
    return product


def _reduced_as_is(result, x, like, factor=None) -> bool:
    """``reduce_product`` of a made product that had ``like``'s shape and float dtype."""
    if type(x) is not np.ndarray:
        return False
    return _same_float(x if factor is None else np.multiply(x, factor), like) \
        and type(result) is np.ndarray


def _made_product(result, x, factor, like) -> bool:
    return type(x) is np.ndarray and _product(result, x, factor, like)


def is_value(result, value, *_):
    """The helper returned its first argument itself (the form: that argument). The one
    form that cannot raise, whatever the arguments: see specialise._last_unread."""
    return result is value


def _same_float(value, like) -> bool:
    """``reduce_to``'s and ``unbroadcast``'s first case: ``value`` has ``like``'s shape and
    float dtype, both arrays."""
    return type(value) is np.ndarray and type(like) is np.ndarray \
        and value.dtype == like.dtype and like.dtype.kind == "f" and value.shape == like.shape


def _copied(result, value, like) -> bool:
    return _same_float(value, like)


def _not_in_place(result, a, b) -> bool:
    return result is not a


def _direct_a(result, g, a, b) -> bool:
    return npruntime._matrices(g, a, b) and b.ndim == 2 \
        and g.shape == (a.shape[0], b.shape[1])


def _direct_b(result, g, a, b) -> bool:
    return npruntime._matrices(g, a, b) and (
        g.shape == (a.shape[0],) if b.ndim == 1 else
        b.ndim == 2 and g.shape == (a.shape[0], b.shape[1]))


def _plain_sum(result, a, b) -> bool:
    """``add(a, b)`` that is ``a + b``: two floats, two arrays, or a float and a float array
    (a zero start, 0.0, among them)."""
    kind = type(a)
    return kind is type(b) and (kind is float or kind is np.ndarray) or kind is float \
        and type(b) is np.ndarray and b.ndim > 0 and b.dtype.kind == "f"


def _operator(op: type):
    return lambda args, _: make(gast.BinOp, left=args[0], op=op(), right=args[1])


def _transposed(node: gast.expr) -> gast.expr:
    return make(gast.Attribute, value=node, attr="T", ctx=make(gast.Load))


def _product(result, a, b, like) -> bool:
    """``reduce_scaled(a, b, like)`` when the product already has ``like``'s shape and
    float dtype: each of its ways then gives ``a * b``, bit for bit (the factor taken out
    is not summed over anything)."""
    product = np.multiply(a, b)
    return type(result) is np.ndarray and _same_float(product, like) \
        and result.dtype == product.dtype and result.shape == product.shape


_empty = np.empty


def _filled(shape, value, dtype):
    """``np.full(shape, value, dtype)``: NumPy's is an empty array and an unsafe copy of
    ``value`` into it, as an assignment is; the same array without its Python-level call
    (0.3 us against 1 us for a small one)."""
    out = _empty(shape, dtype)
    out[...] = value
    return out


# names the forms use (np.full, np.add.reduce, float, a float64 one), given to their code
_FULL, _REDUCE, _FLOAT, _ONE = "_ast_ad_full", "_ast_ad_reduce", "_ast_ad_float", "_ast_ad_one"
# NumPy's reductions of an ndarray (below): the ufunc's reduce, by name
_REDUCERS = {np.sum: ("_ast_ad_add_reduce", np.add.reduce),
             np.prod: ("_ast_ad_multiply_reduce", np.multiply.reduce),
             np.max: ("_ast_ad_maximum_reduce", np.maximum.reduce),
             np.amax: ("_ast_ad_maximum_reduce", np.maximum.reduce),
             np.min: ("_ast_ad_minimum_reduce", np.minimum.reduce),
             np.amin: ("_ast_ad_minimum_reduce", np.minimum.reduce)}
STACK = "_ast_ad_rows"  # np.array of a list of vectors of one shape: np.stack's result
JOIN = "_ast_ad_join"  # np.concatenate
EXTRA = {_FULL: _filled, _REDUCE: np.add.reduce, _FLOAT: float, _ONE: np.float64(1.0),
         STACK: np.array, JOIN: np.concatenate, **dict(_REDUCERS.values())}


def _stacked(which: int):
    """Did a ``*_many`` helper (for operand ``which``) stack its pairs (``_batched``: every
    ``g`` and every other operand a vector, or every one a matrix whose rows (operand 0)
    or columns (operand 1) are ``like``'s, so that its reshapes change nothing; all of
    ``like``'s dtype, each list's of one shape, ``like`` a 2-D float ndarray) and return
    the product as it is (a new array of ``like``'s shape)? The detail: 1 for vectors, 2
    for matrices."""
    def applies(result, gs, others, like) -> int | None:
        if type(like) is not np.ndarray or like.ndim != 2 or like.dtype.kind != "f" \
                or not gs or len(gs) != len(others) or type(result) is not np.ndarray \
                or result.shape != like.shape or result.dtype != like.dtype \
                or type(gs[0]) is not np.ndarray or gs[0].ndim not in (1, 2):
            return None
        ndim = gs[0].ndim
        for values in (gs, others):
            first = values[0]
            if type(first) is not np.ndarray or first.ndim != ndim or not all(
                    type(v) is np.ndarray and v.dtype == like.dtype and v.shape == first.shape
                    for v in values):
                return None
        if ndim == 2 and not ((gs[0].shape[0], others[0].shape[0]) == like.shape if which == 0
                              else (others[0].shape[1], gs[0].shape[1]) == like.shape):
            return None
        return ndim
    return applies


def _stacked_form(which: int):
    """``_batched``'s product. Vectors: ``rows(gs).T @ rows(others)`` for operand 0
    (``rows(others).T @ rows(gs)`` for operand 1), ``rows`` being ``np.array``. Matrices:
    side by side, ``join(gs, axis=1) @ join(others, axis=1).T`` for operand 0, one above
    the other, ``join(others, axis=0).T @ join(gs, axis=0)`` for operand 1, ``join`` being
    ``np.concatenate`` (``_batched``'s reshapes of them change nothing)."""
    def build(args: list, ndim: int) -> gast.expr:
        g, other = args[0], args[1]
        if ndim == 1:
            first, second = (g, other) if which == 0 else (other, g)
            return make(gast.BinOp, left=_transposed(_call(STACK, first)), op=gast.MatMult(),
                        right=_call(STACK, second))
        axis = 1 - which
        joined = [_call(JOIN, a) for a in (g, other)]
        for call in joined:
            call.keywords = [make(gast.keyword, arg="axis", value=_constant(axis))]
        left, right = (joined[0], _transposed(joined[1])) if which == 0 else \
            (_transposed(joined[1]), joined[0])
        return make(gast.BinOp, left=left, op=gast.MatMult(), right=right)
    return build


def _total(result, value, like):
    """``reduce_to`` / ``unbroadcast`` of an array to a number (``_reduced``'s cases):
    ``float(value.sum())`` for a float, ``np.add.reduce(value, axis=None)`` for a float64."""
    if type(value) is not np.ndarray:
        return None
    if type(like) is float:
        return "float"
    if type(like) is np.float64 and value.dtype == np.float64:
        return "float64"
    return None


def _total_form(args, detail):
    if detail == "float":
        summed = make(gast.Call, func=_attribute(args[0], "sum"), args=[], keywords=[])
        return _call(_FLOAT, summed)
    return _call(_REDUCE, args[0], _constant(None))


def _product_summed(result, x, like, factor=None):
    """``reduce_product`` of a made product that ``reduce_to`` sums: its detail."""
    if type(x) is not np.ndarray:
        return None
    return _summed(result, x if factor is None else np.multiply(x, factor), like)


def _product_sum_form(args, detail):
    return _sum_form([_chain([args[0]] + args[2:])], detail)


def _scaled_summed(result, a, b, like):
    """``reduce_scaled``'s first case (``b`` has ``like``'s shape and dtype and fits
    ``a``): ``reduce_to(a, like) * b``, with the sum's detail."""
    if type(like) is np.ndarray and like.dtype.kind == "f" and type(a) is np.ndarray \
            and type(b) is np.ndarray and b.shape == like.shape and b.dtype == like.dtype \
            and npruntime._fits(b.shape, a.shape):
        return _summed(result, a, like)
    return None


def _scaled_sum_form(args, detail):
    return make(gast.BinOp, left=_sum_form([args[0]], detail), op=gast.Mult(), right=args[1])


def _made_scaled_summed(result, x, factor, like):
    return _scaled_summed(result, x, factor, like) if type(x) is np.ndarray else None


def _spread(result, adj, primal, path, g):
    """``add_at(None, x, ((None, :, :),), g)``: the adjoint of a read that only adds axes
    (``runtime._new_axes_only``) is ``g.reshape(x.shape).copy()`` (without ``.copy()``
    when an operator made ``g``)."""
    index = path[0] if type(path) is tuple and len(path) == 1 else None
    if adj is None and type(primal) is np.ndarray and type(g) is np.ndarray \
            and type(index) is tuple and any(item is None for item in index) \
            and all(item is None or item == slice(None) for item in index) \
            and g.size == primal.size and g.dtype == primal.dtype:
        return True
    return None


def _spread_form(args, _):
    shaped = make(gast.Call, func=_attribute(args[3], "reshape"),
                  args=[_attribute(args[1], "shape")], keywords=[])
    if type(args[3]) in (gast.BinOp, gast.UnaryOp):
        return shaped  # an operator on arrays made ``g`` new: nothing else holds it
    return make(gast.Call, func=_attribute(shaped, "copy"), args=[], keywords=[])


def _seed_type(result, value, name):
    """``seed_scalar`` of a float or a float64: the one of its type."""
    kind = type(value)
    return "float" if kind is float else "float64" if kind is np.float64 else None


def _seed_form(args, detail):
    if detail == "float":
        return _constant(1.0)
    return make(gast.Name, id=_ONE, ctx=make(gast.Load), annotation=None, type_comment=None)


def _summed(result, value, like):
    """``reduce_to``'s / ``unbroadcast``'s sum of ``value`` down to ``like``'s shape
    (``npruntime._summed_down``): its axes and shape as the form's detail."""
    if not (type(like) is np.ndarray and type(value) is np.ndarray
            and value.dtype == like.dtype and like.dtype.kind == "f"
            and value.shape != like.shape):
        return None
    axes = npruntime.sum_axes(value.shape, like.shape)
    if axes is None:
        return None
    return ("lead",) if type(axes) is int else ("axes", axes, like.shape)


def _sum_form(args, detail):
    if detail[0] == "lead":
        return _call(_REDUCE, args[0], _constant(0))
    summed = _call(_REDUCE, args[0], _constant(detail[1]))
    return make(gast.Call, func=make(gast.Attribute, value=summed, attr="reshape",
                                     ctx=make(gast.Load)),
                args=[_constant(detail[2])], keywords=[])


def _expanded(result, g, a, axis=None, keepdims=False):
    """``sum_expand`` that reshaped ``g`` (the new shape as the form's detail)."""
    if type(a) is np.ndarray and a.dtype.kind in "fc" and type(g) is np.ndarray \
            and g.dtype == a.dtype and axis is not None and not keepdims \
            and type(result) is np.ndarray and result is not g:
        return result.shape
    return None


def _reshape_form(args, detail):
    return make(gast.Call, func=make(gast.Attribute, value=args[0], attr="reshape",
                                     ctx=make(gast.Load)),
                args=[_constant(detail)], keywords=[])


def _filled(result, g, a, axis=None, keepdims=False):
    """``sum_vjp``'s first case: ``np.full(a.shape, g, a.dtype)``, with ``g`` reshaped to
    the kept shape (the detail) for one int axis."""
    if not (type(a) is np.ndarray and a.dtype.kind == "f"):
        return None
    if axis is None or keepdims:
        return ("as is",)
    if type(axis) is int and type(g) is np.ndarray and g.ndim == a.ndim - 1:
        return ("kept", npruntime._kept(a.shape, axis % a.ndim))
    return None


def _fill_form(args, detail):
    g = args[0] if detail[0] == "as is" else _reshape_form([args[0]], detail[1])
    return _call(_FULL, _attribute(args[1], "shape"), g, _attribute(args[1], "dtype"))


def _mean_filled(result, g, a, axis=None, keepdims=False):
    """``mean_vjp`` of a number over all of a float array: ``np.full(a.shape, g / a.size,
    a.dtype)``."""
    kind = type(g)
    return axis is None and type(a) is np.ndarray and a.dtype.kind == "f" \
        and (kind is float or kind is np.float64)


def _mean_form(args, _):
    share = make(gast.BinOp, left=args[0], op=gast.Div(), right=_attribute(args[1], "size"))
    return _call(_FULL, _attribute(args[1], "shape"), share, _attribute(args[1], "dtype"))


def _call(function: str, *args: gast.expr) -> gast.Call:
    return make(gast.Call, func=make(gast.Name, id=function, ctx=make(gast.Load),
                                     annotation=None, type_comment=None),
                args=list(args), keywords=[])


def _attribute(node: gast.expr, attr: str) -> gast.expr:
    return make(gast.Attribute, value=node, attr=attr, ctx=make(gast.Load))


def _constant(value) -> gast.expr:
    if type(value) is tuple:
        return make(gast.Tuple, elts=[_constant(v) for v in value], ctx=make(gast.Load))
    return make(gast.Constant, value=value, kind=None)


def _arg(k: int):
    return lambda args, _: args[k]


_COPY = lambda args, _: make(  # noqa: E731
    gast.Call, func=make(gast.Attribute, value=args[0], attr="copy", ctx=make(gast.Load)),
    args=[], keywords=[])

# helper -> its cheaper forms, each (does it apply, given the result and the arguments:
# True or a detail, or None / False?; its tree from the argument trees and the detail). A
# site takes the first form that applied every time.
FORMS = {
    npruntime.reduce_to: ((is_value, _arg(0)), (_summed, _sum_form), (_total, _total_form)),
    npruntime.unbroadcast: ((_copied, _COPY), (is_value, _arg(0)), (_summed, _sum_form),
                            (_total, _total_form)),
    npruntime.shape_only: ((is_value, _arg(0)),),
    runtime.like: ((is_value, _arg(0)),),
    runtime.seed_scalar: ((_seed_type, _seed_form),),
    npruntime.sum_expand: ((is_value, _arg(0)), (_expanded, _reshape_form)),
    npruntime.sum_vjp: ((_filled, _fill_form),),
    npruntime.mean_vjp: ((_mean_filled, _mean_form),),
    npruntime.reduce_scaled: ((_product, _operator(gast.Mult)),
                              (_scaled_summed, _scaled_sum_form)),
    npruntime.add_into: ((_not_in_place, _operator(gast.Add)),),
    npruntime.sub_into: ((_not_in_place, _operator(gast.Sub)),),
    npruntime.mul_into: ((_not_in_place, _operator(gast.Mult)),),
    npruntime.div_into: ((_not_in_place, _operator(gast.Div)),),
    runtime.add: ((_plain_sum, _operator(gast.Add)),),
    runtime.add_at: ((_spread, _spread_form),),
    npruntime.lazy_product: ((_plain_product, lambda args, _: _chain(args[1:])),),
    npruntime.reduce_product: ((_reduced_as_is, lambda args, _: _chain([args[0]] + args[2:])),
                               (_product_summed, _product_sum_form)),
    npruntime.reduce_product_scaled: ((_made_product, lambda args, _: _chain(args[:2])),
                                      (_made_scaled_summed, _scaled_sum_form)),
    npruntime.matmul_vjp_a: ((_direct_a, lambda args, _: make(
        gast.BinOp, left=args[0], op=gast.MatMult(), right=_transposed(args[2]))),),
    npruntime.matmul_vjp_b: ((_direct_b, lambda args, _: make(
        gast.BinOp, left=_transposed(args[1]), op=gast.MatMult(), right=args[0])),),
    npruntime.matmul_vjp_a_many: ((_stacked(0), _stacked_form(0)),),
    npruntime.matmul_vjp_b_many: ((_stacked(1), _stacked_form(1)),),
    npruntime.dot_vjp_a_many: ((_stacked(0), _stacked_form(0)),),
    npruntime.dot_vjp_b_many: ((_stacked(1), _stacked_form(1)),),
}
# helper -> positions of the arguments its forms leave out, or evaluate ahead of an
# earlier one: at a site, those must be names, constants or index paths (nothing that
# evaluating, or not, could change)
LOOSE = {npruntime.reduce_to: {1}, npruntime.unbroadcast: {1}, npruntime.shape_only: set(),
         runtime.like: {1}, runtime.seed_scalar: {0, 1}, npruntime.sum_expand: {1, 2, 3},
         npruntime.sum_vjp: {1, 2, 3}, npruntime.mean_vjp: {1, 2, 3},
         npruntime.reduce_scaled: {2}, npruntime.add_into: set(), npruntime.sub_into: set(),
         npruntime.mul_into: set(), npruntime.div_into: set(), runtime.add: set(),
         runtime.add_at: {0, 1, 2}, npruntime.lazy_product: {0},
         npruntime.reduce_product: {1}, npruntime.reduce_product_scaled: {2},
         npruntime.matmul_vjp_a: {1}, npruntime.matmul_vjp_b: {1, 2},
         npruntime.matmul_vjp_a_many: {2}, npruntime.matmul_vjp_b_many: {2},
         npruntime.dot_vjp_a_many: {2}, npruntime.dot_vjp_b_many: {2}}


# ------------------------------------------------------------ NumPy's own calls in the code
# The user's ``np.sum(a, axis, keepdims=...)`` (``np.prod``, ``np.max``, ``np.min``, ``np.amax``,
# ``np.amin``) of an ndarray is, in NumPy, ``ufunc.reduce(a, axis, None, None, **given)``
# (``numpy._core.fromnumeric._wrapreduction``): the same C call, without the dispatch
# around it, which costs about a microsecond per call on small arrays (``np.mean``, two).

_REDUCTION_KEYWORDS = frozenset({"axis", "keepdims"})


def _reduction(result, a, *rest, **keywords):
    """A reduction of an ndarray (not a subclass) with at most ``axis`` and ``keepdims``."""
    if type(a) is not np.ndarray or len(rest) > 1 or not keywords.keys() <= _REDUCTION_KEYWORDS \
            or rest and "axis" in keywords:
        return None
    return True


def _reduction_form(func: object):
    reducer = _REDUCERS[func][0]

    def build(args: list, keywords: list, _) -> gast.expr:
        given = len(args) > 1 or any(k.arg == "axis" for k in keywords)
        call = _call(reducer, *args) if given else _call(reducer, *args, _constant(None))
        call.keywords = keywords
        return call
    return build


def _np_mean(result, a, *rest, **keywords):
    """``np.mean`` of a non-empty float64 ndarray (NumPy's ``_methods._mean``: the sum, then
    divided by the count, a float64 division either way): the detail is the count."""
    if _reduction(result, a, *rest, **keywords) is None or a.dtype != np.float64 \
            or a.size == 0:
        return None
    axis = rest[0] if rest else keywords.get("axis")
    if axis is None:
        return a.size
    count = 1
    for ax in axis if type(axis) is tuple else (axis,):
        count *= a.shape[ax]
    return count


def _np_mean_form(args: list, keywords: list, count: int) -> gast.expr:
    return make(gast.BinOp, left=_reduction_form(np.sum)(args, keywords, None), op=gast.Div(),
                right=_constant(count))


# a NumPy function -> its cheaper forms: (test of the result, arguments and keywords;
# the tree from the argument trees, the keyword trees and the detail)
CALLS = {np.mean: ((_np_mean, _np_mean_form),),
         **{func: ((_reduction, _reduction_form(func)),) for func in _REDUCERS}}
# the names a call of one of them may have (``np.sum``, ``sum`` imported from numpy)
CALL_NAMES = frozenset(func.__name__ for func in CALLS)
