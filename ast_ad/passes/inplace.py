"""In place: arithmetic writes into a named array that nothing reads again.

Input: a finished array-mode adjoint (after ``release``). Output: the same function where,
in a top-level statement, ``a * b`` (also ``+``, ``-``, ``/``) with ``a`` a variable that
holds a new array of ours and that nothing reads after this statement becomes
``mul_into(a, b)``: at run time, for a large array that owns its memory and when the
result has ``a``'s shape and dtype, the product is written into ``a`` instead of into
fresh memory (fresh multi-megabyte arrays cost page faults). NumPy does this by itself for
a temporary inside one expression; a variable it cannot know is dead.

``a`` qualifies when it is assigned once, at the top level, from arithmetic or a NumPy
call (a new array); neither it nor any name that may share its array is a parameter or a
name from outside, is given to a call that may keep it (the tape, a batch list), is read
by any later statement (reading only its shape, as
``reduce_to(g, a)`` or ``shape_only(a)`` do, is fine: the shape and dtype stay), or
appears elsewhere in the statement itself.

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(x, m, s, g):
...     _t3 = x - m
...     d = _t3 / s
...     _t3 = shape_only(_t3)
...     return (np.sum(d * d), reduce_to(g * d, _t3))'''
>>> print(to_source(in_place(parse_generated(src, {"shape_only", "reduce_to"}))), end="")
def f(x, m, s, g):
    _t3 = x - m
    d = div_into(_t3, s)
    _t3 = shape_only(_t3)
    return (np.sum(d * d), reduce_to(g * d, _t3))
"""
from __future__ import annotations

import gast

from ..analysis.sharing import KEEPS, close, new_value, passed_to, pure_call, share_edges
from ..templates import call, helper_call
from ..walk import rewrite
from ..walk import walk as fast_walk
from .release import SHAPE_ARGUMENTS, excluded

INTO = {gast.Add: "add_into", gast.Sub: "sub_into", gast.Mult: "mul_into",
        gast.Div: "div_into"}


def in_place(func: gast.FunctionDef) -> gast.FunctionDef:
    """Rewrite ``func``'s top-level arithmetic on dead arrays (see above), in place."""
    new = _new_arrays(func)
    if not new:
        return func
    edges = share_edges(func.body)
    outside = excluded(func) | _kept(func)
    reads = [_value_reads(stmt) for stmt in func.body]
    for k, stmt in enumerate(func.body):
        if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Return, gast.Expr)):
            _rewrite(stmt, k, new, edges, outside, reads)
    return func


def _new_arrays(func: gast.FunctionDef) -> set:
    """Names assigned exactly once in the function, by a top-level ``name = <new value>``."""
    stores: dict = {}
    for node in fast_walk(func):
        if type(node) is gast.Name and type(node.ctx) is not gast.Load:
            stores[node.id] = stores.get(node.id, 0) + 1
    return {s.targets[0].id for s in func.body
            if type(s) is gast.Assign and len(s.targets) == 1
            and type(s.targets[0]) is gast.Name and new_value(s.value)
            and stores.get(s.targets[0].id) == 1 + _releases(func, s.targets[0].id)}


def _releases(func: gast.FunctionDef, ident: str) -> int:
    """How many top-level ``ident = shape_only(ident)`` the release pass added."""
    return sum(1 for s in func.body if type(s) is gast.Assign and len(s.targets) == 1
               and type(s.targets[0]) is gast.Name and s.targets[0].id == ident
               and helper_call(s.value) == "shape_only")


def _kept(func: gast.FunctionDef) -> set:
    """Names given to a call that may keep them (the tape's ``_push``, a batch list's
    ``append``, anything but a pure call): the array may be read through it later."""
    return {n for node in fast_walk(func) if type(node) is gast.Call
            and (getattr(node.func, KEEPS, False) or not pure_call(node))
            for n in passed_to(node)}


def _value_reads(stmt: gast.stmt) -> list:
    """The Name loads of ``stmt`` that read a value (not only a shape)."""
    shape_only = set()
    for node in fast_walk(stmt):
        fn = helper_call(node)
        position = 0 if fn == "shape_only" else SHAPE_ARGUMENTS.get(fn)
        if position is not None and len(node.args) > position \
                and type(node.args[position]) is gast.Name:
            shape_only.add(id(node.args[position]))
    return [n for n in fast_walk(stmt) if type(n) is gast.Name
            and type(n.ctx) is gast.Load and id(n) not in shape_only]


def _rewrite(stmt: gast.stmt, k: int, new: set, edges: list, outside: set,
             reads: list) -> None:
    """The first arithmetic of ``stmt`` on a dead array of ours goes into that array."""
    here = reads[k]
    for node in fast_walk(stmt):
        if type(node) is not gast.BinOp or type(node.op) not in INTO \
                or type(node.left) is not gast.Name or node.left.id not in new:
            continue
        family = close({node.left.id}, edges)
        if family & outside or sum(1 for n in here if n.id in family) != 1 \
                or any(n.id in family for later in reads[k + 1:] for n in later):
            continue
        rewrite(stmt, {gast.BinOp: lambda n, chosen=node: call(INTO[type(n.op)], n.left,
                                                                n.right)
                       if n is chosen else n})
        return  # one per statement: another would need this one's reads again
