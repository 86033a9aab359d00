"""Tuples: a tuple built only to be taken apart again is never built.

Input: a normalised function. Output: the same, where ``t = (a, b)`` (``t`` a temporary of
ours, maybe copied into other temporaries) whose every use is ``v = t[k]`` with a constant
``k``, in the same block, before ``a``/``b`` change, becomes ``v = a``: what returning
``a, b`` from an inlined function and unpacking it at the call leaves behind. The check
``unpacked(t, 2)`` of ``v, w = t`` goes too when ``t`` is a pair (a triple keeps it, and
raises Python's error when it runs).
"""
from __future__ import annotations

import gast

from ..templates import helper_call
from ..walk import blocks as _block_owners
from ..walk import changed, name_nodes, nodes_of


def forward_tuples(func: gast.FunctionDef, ours: set) -> None:
    """Rewrite ``func`` in place. It may be frozen (``walk.frozen``): the walks of it made
    here are then those the analyses after it use, unless it changes (rarely)."""
    loads: dict = {}
    if not nodes_of(func, (gast.Tuple,)):
        return
    for node in nodes_of(func, (gast.Name,)):
        if isinstance(node.ctx, gast.Load):
            loads[node.id] = loads.get(node.id, 0) + 1
    rewritten = False
    for owner, field in _block_owners(func):
        rewritten = _forward(getattr(owner, field), ours, loads) or rewritten
    if rewritten:
        changed(func)


def _target(stmt: gast.stmt) -> str | None:
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
        return stmt.targets[0].id
    return None


def _forward(block: list, ours: set, loads: dict) -> bool:
    """Take apart the tuples built in ``block``; True if any was."""
    rewritten = False
    k = 0
    while k < len(block):
        name = _target(block[k])
        value = block[k].value if name else None
        if name in ours and isinstance(value, gast.Tuple) and _take_apart(block, k, ours, loads):
            rewritten = True
            continue
        k += 1
    return rewritten


def _checks_length(stmt: gast.stmt, names: set, length: int) -> bool:
    """Is ``stmt`` the check ``unpacked(t, length)`` of ``a, b = t`` for one of ``names``?"""
    if not (isinstance(stmt, gast.Expr) and helper_call(stmt.value) == "unpacked"):
        return False
    value, count = stmt.value.args
    return isinstance(value, gast.Name) and value.id in names \
        and isinstance(count, gast.Constant) and count.value == length


def _take_apart(block: list, k: int, ours: set, loads: dict) -> bool:
    """Rewrite the reads of the tuple built at ``block[k]``; True if it could."""
    elts = block[k].value.elts
    names = {block[k].targets[0].id}
    atoms = {e.id for e in elts if isinstance(e, gast.Name)}
    uses, copies, seen = [], [], 0
    for j in range(k + 1, len(block)):
        stmt = block[j]
        target, value = _target(stmt), getattr(stmt, "value", None)
        if target in ours and isinstance(value, gast.Name) and value.id in names:
            names.add(target)  # a copy into another temporary of ours
            copies.append(j)
            seen += 1
            continue
        if _checks_length(stmt, names, len(elts)):
            copies.append(j)  # unpacked(t, 2) of a pair: true, so it goes with the tuple
            seen += 1
            continue
        if target and isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and value.value.id in names and isinstance(value.slice, gast.Constant) \
                and isinstance(value.slice.value, int) and -len(elts) <= value.slice.value \
                < len(elts):
            uses.append(j)
            seen += 1
        elif any(n.id in names for n in name_nodes(stmt)):
            return False
        if target in atoms or (not target and isinstance(stmt, (gast.For, gast.While, gast.If))):
            break
        if seen == sum(loads.get(n, 0) for n in names):
            break
    if seen != sum(loads.get(n, 0) for n in names) or not uses:
        return False
    for j in uses:
        index = block[j].value.slice.value
        element = elts[index]
        block[j].value = gast.Name(id=element.id, ctx=gast.Load(), annotation=None,
                                   type_comment=None) if isinstance(element, gast.Name) \
            else gast.Constant(value=element.value, kind=None)
    for j in sorted(copies + [k], reverse=True):
        del block[j]
    return True
