"""What the calls of generated code do to their arguments, and which names may share an
array: the facts that the passes on a finished adjoint (batch, copies, zero_writes, fuse)
rely on, in one place.

>>> from ast_ad.templates import parse_generated
>>> f = parse_generated("def f(g, x):\\n    y = reduce_to(g, x)\\n    y += 1.0", {"reduce_to"})
>>> sorted(unsafe_names(f.body))       # y changes in place, and y may be g's array
['g', 'y']
"""
from __future__ import annotations

import gast

from ..templates import helper_call, range_call
from ..walk import names as _names
from ..walk import walk as fast_walk

# our helpers that neither change nor keep their arguments
PURE = {"unbroadcast", "reduce_to", "reduce_scaled", "sum_vjp", "sum_expand", "mean_vjp",
        "mean_expand", "matmul_vjp_a", "matmul_vjp_b", "dot_vjp_a", "dot_vjp_b", "extremum_vjp",
        "add", "like", "to_like", "zeros_like", "seed_scalar", "len", "range", "reversed", "min",
        "max", "abs", "shape_only", "unpacked", "sequence", "sequence_vjp", "zip", "add_into",
        "sub_into", "mul_into", "div_into", "lazy_product", "reduce_product",
        "reduce_product_scaled"}
# our helpers whose result is a new value (for arrays: never one of their arguments, nor a
# view of one)
FRESH = {"len", "unbroadcast", "reduce_scaled", "sum_vjp", "mean_vjp", "matmul_vjp_a",
         "matmul_vjp_b", "dot_vjp_a", "dot_vjp_b", "extremum_vjp", "zeros_like",
         "matmul_vjp_a_many", "matmul_vjp_b_many", "dot_vjp_a_many", "dot_vjp_b_many",
         "lazy_product", "reduce_product_scaled"}
# helpers whose result may be one of their arguments (``add(a, 0.0)`` is ``a``): all of
# them, or only the first (``reduce_to(v, like)`` may be ``v``, never ``like``)
PASS_THROUGH = {"add"}
PASS_FIRST = {"reduce_to", "like", "to_like", "shape_only", "add_at", "unpacked", "sequence",
              "sequence_vjp", "add_into", "sub_into", "mul_into", "div_into", "reduce_product"}
# helpers that change their first argument in place and only read the others
FIRST_CHANGED = {"add_at"}
PURE_MODULES = {"np", "math"}
# marks the ``_acc1.append`` of batch: it keeps its argument in a list that only our
# ``*_many`` helpers read, and changes nothing
KEEPS = "_ast_ad_keeps"
BUILTINS = {"len", "min", "max", "abs"}  # the user's own calls of these change nothing


def pure_call(node: gast.Call) -> bool:
    """Does the call neither change nor keep its arguments? Our pure helpers, ``np.`` and
    ``math.`` functions (``out=`` is refused) and a few builtins."""
    fn = helper_call(node)
    if fn is not None:
        return fn in PURE
    func = node.func
    if type(func) is gast.Name:
        return func.id in BUILTINS
    return isinstance(func, gast.Attribute) and type(func.value) is gast.Name \
        and func.value.id in PURE_MODULES


def calls_pure(node: gast.AST) -> bool:
    """Is every call under ``node`` a :func:`pure_call`?"""
    return all(pure_call(n) for n in fast_walk(node) if type(n) is gast.Call)


# NumPy functions whose result is always a new array (or a number), never a view
NEW_FROM_NUMPY = {"exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "square", "tanh",
                  "sinh", "cosh", "sin", "cos", "tan", "arctan", "abs", "absolute", "negative",
                  "maximum", "minimum", "logaddexp", "power", "add", "subtract", "multiply",
                  "divide", "true_divide", "sum", "mean", "max", "min", "amax", "amin",
                  "prod", "dot", "matmul", "outer", "zeros", "ones", "full", "where"}


def passed_to(node: gast.Call) -> set:
    """The names whose arrays a call that is not pure may keep or change: all its
    arguments', or only the first for ``add_at`` (which reads the others)."""
    args = node.args[:1] if helper_call(node) in FIRST_CHANGED else \
        node.args + [k.value for k in node.keywords]
    return {n.id for arg in args for n in fast_walk(arg) if type(n) is gast.Name}


def new_value(value: gast.expr) -> bool:
    """Is ``value`` surely a new array (or a number) that no name holds yet: arithmetic, a
    NumPy function that never returns a view, one of our helpers that makes a new value,
    or ``reduce_to`` / ``unbroadcast`` of such a value (which pass it on, or a new reduced
    one)?"""
    if isinstance(value, (gast.BinOp, gast.UnaryOp)):
        return True
    fn = helper_call(value)
    if fn in FRESH:
        return True
    if fn in ("reduce_to", "unbroadcast"):
        return bool(value.args) and new_value(value.args[0])
    return fn is None and isinstance(value, gast.Call) \
        and isinstance(value.func, gast.Attribute) and type(value.func.value) is gast.Name \
        and value.func.value.id == "np" and value.func.attr in NEW_FROM_NUMPY


def may_share(value: gast.expr) -> set:
    """The names whose array the value of ``value`` may be (or be a view of)."""
    if type(value) is gast.Name:
        return {value.id}
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp, gast.Constant)):
        return set()
    if isinstance(value, (gast.Subscript, gast.Attribute, gast.Starred)):
        return may_share(value.value)
    if isinstance(value, gast.Call):
        fn = helper_call(value)
        if fn in FRESH:
            return set()
        if fn in PASS_FIRST and value.args:
            return may_share(value.args[0])
        if fn in PASS_THROUGH or (fn is None and pure_call(value)):  # np.reshape(x): a view
            return set().union(*(may_share(arg) for arg in value.args))
    return {n.id for n in fast_walk(value) if type(n) is gast.Name}


def share_edges(stmts: list) -> list:
    """``(name, names it may share an array with)`` for every assignment in ``stmts``
    (a tuple target's names each with the whole value) and every ``for`` target (with
    the sequence it walks)."""
    edges = []
    for stmt in stmts:
        for node in fast_walk(stmt):
            if isinstance(node, gast.Assign):
                for target in node.targets:
                    if type(target) is gast.Name:
                        edges.append((target.id, may_share(node.value)))
                    elif isinstance(target, (gast.Tuple, gast.List)):
                        edges += [(n, may_share(node.value)) for n in _names(target)]
            elif isinstance(node, gast.For) and not _counts(node.iter):
                edges += [(n, may_share(node.iter)) for n in _names(node.target)]
    return edges


def _counts(it: gast.expr) -> bool:
    """``range(...)`` or ``reversed(range(...))``: a loop over numbers."""
    if helper_call(it) == "reversed" and len(it.args) == 1:
        it = it.args[0]
    return range_call(it)


def close(names: set, edges: list) -> set:
    """``names`` and every name that may share an array with one of them, either way round."""
    out = set(names)
    grown = True
    while grown:
        grown = False
        for target, sources in edges:
            linked = {target} | sources
            if linked & out and not linked <= out:
                out |= linked
                grown = True
    return out


def unsafe_names(stmts: list) -> set:
    """Names whose array ``stmts`` may change in place or keep elsewhere (``+=``, item
    assignment, a call that is not pure), closed over sharing: ``y = x`` or ``y = x[0]``
    then ``y += e`` makes ``x`` unsafe too."""
    changed: set = set()
    for stmt in stmts:
        for node in fast_walk(stmt):
            if isinstance(node, gast.AugAssign):
                changed |= _roots(node.target)
            elif isinstance(node, gast.Assign):
                for target in node.targets:
                    if type(target) is not gast.Name:
                        changed |= _roots(target)
            elif isinstance(node, gast.Call) and getattr(node.func, KEEPS, False):
                continue
            elif isinstance(node, gast.Call) and not pure_call(node):
                changed |= passed_to(node)
            elif isinstance(node, (gast.For, gast.comprehension)):
                changed |= _names(node.target)
            elif isinstance(node, gast.Delete):
                changed |= {n for target in node.targets for n in _roots(target)}
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                    and not pure_call(node):
                changed |= _roots(node.func.value)  # x.append(e) changes x
    return close(changed, share_edges(stmts))


def _roots(target: gast.expr) -> set:
    while isinstance(target, (gast.Subscript, gast.Attribute, gast.Starred)):
        target = target.value
    return _names(target) if isinstance(target, (gast.Tuple, gast.List)) else (
        {target.id} if type(target) is gast.Name else set())
