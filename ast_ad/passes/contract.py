"""Contract: a product that the reverse sweep only sums is not made.

Input: an array-mode adjoint after the peephole. Output: the same function where an
assignment ``bx = f1 * f2 * ...`` (or ``bx = reduce_to(f1 * f2 * ..., x)``) whose every
read is a reduction of it,

    reduce_to(bx, like)      reduce_to(bx * g, like)      reduce_scaled(bx, s, like)

is ``bx = lazy_product(None, f1, f2, ...)`` (``lazy_product(x, f1, f2, ...)``) and those
reads are ``reduce_product(bx, like)``,
``reduce_product(bx, like, g)`` and ``reduce_product_scaled(bx, s, like)``. At run time a
small product is made as before (the same bits); a large one is kept as its factors, and
each reduction is one ``np.einsum`` over them: the adjoint of ``(x - mean) / sigma`` for
the mean and for sigma sums ``g * 2.0 * diff`` and ``g * 2.0 * diff * diff`` over the
points without making either (the same values up to rounding).

A factor is read once per reduction, so with two or more reductions the factors must be
names, numbers or a cheap helper's call (``sum_expand``); no name they read may change
between the assignment and the last reduction, all of which are statements of the same
block.
"""
from __future__ import annotations

import gast

from ..templates import call, helper_call, name
from ..walk import blocks, name_nodes
from ..walk import walk as fast_walk

_CHEAP = {"sum_expand", "mean_expand"}
_REDUCTIONS = {"reduce_to", "reduce_scaled"}  # (not unbroadcast: it copies, these may not)


def contract(func: gast.FunctionDef) -> gast.FunctionDef:
    """Rewrite ``func`` in place (see above) and return it."""
    loads: dict = {}
    stores: dict = {}
    for node in name_nodes(func):
        table = loads if type(node.ctx) is gast.Load else stores
        table[node.id] = table.get(node.id, 0) + 1
    for owner, field in list(blocks(func)):
        block = getattr(owner, field)
        for k, stmt in enumerate(block):
            found = _product(stmt)
            if found is not None and stores.get(stmt.targets[0].id) == 1:
                _rewrite(block, k, *found, loads)
    return func


def _product(stmt: gast.stmt) -> tuple | None:
    """``(like, factors)`` of ``x = f1 * f2 * ...`` (like: None) or of
    ``x = reduce_to(f1 * f2 * ..., like)``: two or more factors, one of them not a number."""
    if not (type(stmt) is gast.Assign and len(stmt.targets) == 1
            and type(stmt.targets[0]) is gast.Name):
        return None
    node, like = stmt.value, None
    if helper_call(node) == "reduce_to" and len(node.args) == 2 \
            and type(node.args[1]) is gast.Name:
        node, like = node.args
    factors: list = []
    while type(node) is gast.BinOp and type(node.op) is gast.Mult:
        factors.append(node.right)
        node = node.left
    factors.append(node)
    factors.reverse()
    if len(factors) < 2 or all(type(f) is gast.Constant for f in factors):
        return None
    return like, factors


def _rewrite(block: list, k: int, like, factors: list, loads: dict) -> None:
    target = block[k].targets[0].id
    reads = loads.get(target, 0)
    uses = []  # (statement position, the reduction node, its parent, field, index)
    for j in range(k + 1, len(block)):
        if len(uses) == reads:
            break  # every read found
        found = _reductions(block[j], target)
        if found is None:
            return
        uses += [(j, *f) for f in found]
    if not uses or len(uses) != reads:
        return  # read in another form, or in another block
    if len(uses) > 1 and not all(_cheap(f) for f in factors):
        return
    read = {n.id for f in factors + [like] if f is not None for n in fast_walk(f)
            if type(n) is gast.Name}
    last = max(j for j, *_ in uses)
    if any(_stores(block[j]) & read for j in range(k + 1, last + 1)):
        return
    for _, node, parent, field, index in uses:
        fn, args = helper_call(node), node.args
        if fn == "reduce_scaled":
            new = call("reduce_product_scaled", name(target), args[1], args[2])
        elif type(args[0]) is gast.BinOp:  # reduce_to(x * g, like)
            new = call("reduce_product", name(target), args[1], args[0].right)
        else:
            new = call("reduce_product", name(target), args[1])
        value = getattr(parent, field)
        if index is None:
            setattr(parent, field, new)
        else:
            value[index] = new
    block[k].value = call("lazy_product", like or gast.Constant(value=None, kind=None),
                          *factors)


def _reductions(stmt: gast.stmt, target: str) -> list | None:
    """Where ``stmt`` reads ``target``: each a reduction of one of our forms, given as
    ``(node, parent, field, index)``; None if ``stmt`` reads it any other way."""
    found, allowed = [], set()
    for parent in fast_walk(stmt):
        for field in parent._fields:
            value = getattr(parent, field, None)
            items = enumerate(value) if isinstance(value, list) else [(None, value)]
            for index, node in items:
                if _form(node, target):
                    found.append((node, parent, field, index))
                    first = node.args[0]
                    allowed.add(id(first.left) if type(first) is gast.BinOp else id(first))
    names = [n for n in fast_walk(stmt) if type(n) is gast.Name and n.id == target]
    return found if all(id(n) in allowed for n in names) else None


def _form(node, target: str) -> bool:
    fn = helper_call(node)
    if fn not in _REDUCTIONS:
        return False
    args = node.args
    if fn == "reduce_scaled":
        return len(args) == 3 and _is(args[0], target)
    if len(args) != 2:
        return False
    first = args[0]
    if _is(first, target):
        return True
    return fn == "reduce_to" and type(first) is gast.BinOp and type(first.op) is gast.Mult \
        and _is(first.left, target) and target not in {
            n.id for n in fast_walk(first.right) if type(n) is gast.Name}


def _is(node, target: str) -> bool:
    return type(node) is gast.Name and node.id == target


def _cheap(node: gast.expr) -> bool:
    return type(node) in (gast.Name, gast.Constant) or (
        helper_call(node) in _CHEAP and all(_cheap(a) for a in node.args))


def _stores(stmt: gast.stmt) -> set:
    return {n.id for n in fast_walk(stmt) if type(n) is gast.Name
            and type(n.ctx) is not gast.Load}
