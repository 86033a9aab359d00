"""Release: let go of forward values that the reverse sweep reads only for their shape.

Input: a finished array-mode adjoint (one function, forward sweep then reverse sweep).
Output: the same function where each forward variable that the reverse sweep reads *only*
as the shape-and-dtype argument of a helper (``reduce_to(e, _t3)``, ``sum_vjp(g, _t6,
1, False)``, ...) is rebound, right after its last forward read, to ``shape_only(v)``: for
a large array, a read-only stand-in of the same type, shape and dtype that holds no memory
(a broadcast zero). The array itself is freed before the reverse sweep allocates its
adjoints, so the peak memory and the page faults of fresh allocations go down; small
values are kept as they are. Only variables assigned once, at the top level of the forward
sweep, and not seen by a nested function, are released.

>>> from ast_ad.source import comment, to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(x, g):
...     _t1 = x * 2.0
...     _t2 = np.sin(_t1)
...     out = np.sum(_t2)
...     b = reduce_to(g * np.cos(_t1), _t2)
...     return (out, b)'''
>>> func = parse_generated(src, {"reduce_to"})
>>> func.body.insert(3, comment("reverse sweep"))
>>> print(to_source(release(func)), end="")
def f(x, g):
    _t1 = x * 2.0
    _t2 = np.sin(_t1)
    out = np.sum(_t2)
    _t2 = shape_only(_t2)
    # reverse sweep
    b = reduce_to(g * np.cos(_t1), _t2)
    return (out, b)
"""
from __future__ import annotations

import gast

from ..source import COMMENT_CALL, comment_at
from ..templates import assign, call, helper_call, name
from ..walk import NESTED, parameters
from ..walk import walk as fast_walk

# helper -> position of the argument it reads only for its type, shape and dtype
SHAPE_ARGUMENTS = {"reduce_to": 1, "reduce_scaled": 2, "unbroadcast": 1, "sum_vjp": 1,
                   "sum_expand": 1, "mean_vjp": 1, "mean_expand": 1, "reduce_product": 1,
                   "reduce_product_scaled": 2}
REVERSE_SWEEP = "reverse sweep"


def release(func: gast.FunctionDef) -> gast.FunctionDef:
    """Insert ``v = shape_only(v)`` after the last forward read of each shape-only ``v``."""
    start = comment_at(func.body, REVERSE_SWEEP)
    if start is None:
        return func
    forward, reverse = func.body[:start], func.body[start:]
    candidates = _shape_only(reverse) & _assigned_once(forward) - excluded(func)
    last = {}
    for index, stmt in enumerate(forward):
        for node in fast_walk(stmt):
            if type(node) is gast.Name and node.id in candidates:
                last[node.id] = index
    for ident, index in sorted(last.items(), key=lambda item: (-item[1], item[0])):
        forward.insert(index + 1, assign(ident, call("shape_only", name(ident))))
    func.body = forward + reverse
    return func


def _shape_only(reverse: list) -> set:
    """Names the reverse sweep reads, and only as a shape argument (and never writes)."""
    shape_args: dict = {}  # id(Name node) -> its name, for each shape argument
    for stmt in reverse:
        for node in fast_walk(stmt):
            position = SHAPE_ARGUMENTS.get(helper_call(node))
            if position is not None and len(node.args) > position \
                    and type(node.args[position]) is gast.Name:
                shape_args[id(node.args[position])] = node.args[position].id
    other = {n.id for stmt in reverse for n in fast_walk(stmt)
             if type(n) is gast.Name and id(n) not in shape_args and n.id != COMMENT_CALL}
    return set(shape_args.values()) - other


def _assigned_once(forward: list) -> set:
    """Names assigned exactly once in the forward sweep, by a top-level ``name = ...``."""
    counts: dict = {}
    for stmt in forward:
        for node in fast_walk(stmt):
            if type(node) is gast.Name and isinstance(node.ctx, (gast.Store, gast.Del)):
                counts[node.id] = counts.get(node.id, 0) + 1
    top = {s.targets[0].id for s in forward if isinstance(s, gast.Assign)
           and len(s.targets) == 1 and type(s.targets[0]) is gast.Name}
    return {n for n in top if counts[n] == 1}


def excluded(func: gast.FunctionDef) -> set:
    """Parameters, and every name a nested function or lambda mentions (a closure may read
    the variable later)."""
    out = {p.id for p in parameters(func)}
    for node in fast_walk(func):
        if node is not func and isinstance(node, NESTED):
            out |= {n.id for n in fast_walk(node) if type(n) is gast.Name}
    return out
