"""Names and small helpers shared by the reverse pass and its parts."""
from __future__ import annotations

import gast

from ..analysis.activity import container_base
from ..templates import call, const, name
from ..walk import name_nodes, node_fields, parts

SEED = "seed_scalar"
SCALAR = ("math.", "builtins.")  # rules of scalar-only functions: nothing to unbroadcast
ADD = "add"          # runtime: structural sum of adjoints (numbers, lists, dicts, arrays, None)
ITEM = "item"        # runtime: element of an adjoint, 0.0 where the adjoint is zero
ADD_AT = "add_at"
COTANGENT = "_g"     # the parameter of a split reverse function that receives the seed


def _names(node: gast.AST) -> set:
    return {n.id for n in name_nodes(node)}


def _changed_and_free(loop: gast.stmt, local: set) -> tuple[set, set]:
    """In one walk: the names assigned, items assigned into, or changed by a list method in
    the loop's body; and the globals and builtins the loop reads (they do not change during
    the function)."""
    changed: set = set()
    free: set = set()
    for stmt in loop.body:
        for node in parts(stmt):
            if isinstance(node, gast.Name):
                if isinstance(node.ctx, gast.Store):
                    changed.add(node.id)
                if node.id not in local:
                    free.add(node.id)
            elif isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript):
                changed.add(container_base(node.targets[0]).id)
            elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                    and isinstance(node.func.value, gast.Name):
                changed.add(node.func.value.id)
    header = [getattr(loop, f, None) for f in node_fields(type(loop)) if f != "body"]
    for part in header:  # the target and iterable, or the test; and an else block
        for root in part if isinstance(part, list) else [part]:
            if isinstance(root, gast.AST):
                free |= {n.id for n in name_nodes(root) if n.id not in local}
    return changed, free


def index_value(index: gast.expr) -> gast.expr:
    """An index as a value: ``a:b`` is ``slice(a, b, None)``; tuples item by item."""
    if isinstance(index, gast.Slice):
        parts = [const(None) if p is None else _load_copy(p)
                 for p in (index.lower, index.upper, index.step)]
        return call("slice", *parts)
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[index_value(e) for e in index.elts], ctx=gast.Load())
    return _load_copy(index)


def index_path(target: gast.Subscript) -> list:
    """``v[i][j]`` gives ``[i, j]`` as values."""
    levels = []
    while isinstance(target, gast.Subscript):
        levels.append(index_value(target.slice))
        target = target.value
    return levels[::-1]


def _count(trip: str) -> gast.stmt:
    return gast.AugAssign(target=name(trip, store=True), op=gast.Add(), value=const(1))


def _load_copy(node: gast.expr) -> gast.expr:
    from .normalize import load_copy
    return load_copy(node)
