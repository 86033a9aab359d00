"""Items: a list item read once per block, and an adjoint item changed once per block.

Input: a finished scalar-mode adjoint. Output: the same function where, in each block of
straight-line statements inside a loop (where it pays),

* **an item already read is reused**: after ``_t5 = x[i]``, a later ``x[i]`` is ``_t5``
  as long as nothing in between assigns ``x``, ``i`` or ``_t5``, changes a list in place
  (other than an adjoint of ours, which is never one of your lists) or calls anything but
  ``math``/NumPy functions and our pure helpers;
* **two updates of one adjoint item are one**: ``bx[i] -= a`` ... ``bx[i] -= b`` is
  ``bx[i] -= a + b`` at the second place, when nothing in between reads ``bx`` or assigns
  a name the first update reads (the same sum, added in another order: equal up to
  rounding).

This is what a hand-written loop body does with ``x[i]`` read three times and two
partials of one term for the same item (Rosenbrock's function).

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(x, bx, n):
...     for i in range(n):
...         t = x[i]
...         u = 1.0 - x[i]
...         bx[i] -= 2.0 * u
...         v = 3.0 * t
...         bx[i] -= v * t'''
>>> print(to_source(items(parse_generated(src, set()), {"bx"})), end="")
def f(x, bx, n):
    for i in range(n):
        t = x[i]
        u = 1.0 - t
        v = 3.0 * t
        bx[i] -= 2.0 * u + v * t
"""
from __future__ import annotations

import gast

from ..analysis.sharing import pure_call
from ..source import is_comment
from ..templates import name
from ..walk import node_fields
from ..walk import walk as fast_walk
from .invariants import _statements

COMPOUND = (gast.For, gast.While, gast.If, gast.With, gast.Try)


def items(func: gast.FunctionDef, adjoints: set) -> gast.FunctionDef:
    """Reuse item reads and merge item updates in every block (see above). ``adjoints``:
    the adjoint variables' names (their lists are ours)."""
    loops = [s for s in _statements(func.body) if isinstance(s, (gast.For, gast.While))]
    blocks = [getattr(s, f) for loop in loops for s in _statements([loop])
              for f in ("body", "orelse") if isinstance(s, COMPOUND)
              and isinstance(getattr(s, f, None), list)]
    seen: set = set()
    for block in blocks:
        if id(block) in seen:
            continue
        seen.add(id(block))
        if _repeats(block):
            _reuse_reads(block, adjoints)
            _merge_updates(block)
    return func


def _repeats(block: list) -> bool:
    """Does an item appear in two statements of the block (a quick look first)?"""
    seen: set = set()
    for stmt in block:
        if isinstance(stmt, COMPOUND):
            continue
        keys = {_key(n) for n in fast_walk(stmt) if type(n) is gast.Subscript} - {None}
        if keys & seen:
            return True
        seen |= keys
    return False


def _key(node: gast.expr) -> tuple | None:
    """``(base, index)`` for ``x[i]`` or ``x[3]`` with a name for a base."""
    if type(node) is gast.Subscript and type(node.value) is gast.Name and (
            type(node.slice) is gast.Name
            or (type(node.slice) is gast.Constant and type(node.slice.value) is int)):
        index = node.slice.id if type(node.slice) is gast.Name else node.slice.value
        return node.value.id, index
    return None


def _stored(stmt: gast.stmt) -> set:
    return {n.id for n in fast_walk(stmt) if type(n) is gast.Name
            and type(n.ctx) is not gast.Load}


def _disturbs(stmt: gast.stmt, adjoints: set) -> bool:
    """Could ``stmt`` change a list item other than an adjoint's (or do anything unknown)?"""
    if isinstance(stmt, COMPOUND):
        return True
    for node in fast_walk(stmt):
        if type(node) in (gast.Subscript, gast.Attribute) and type(node.ctx) is not gast.Load:
            root = node.value
            while type(root) in (gast.Subscript, gast.Attribute):
                root = root.value
            if type(root) is not gast.Name or root.id not in adjoints:
                return True
        elif type(node) is gast.Call and not pure_call(node):
            return True
    return False


def _reuse_reads(block: list, adjoints: set) -> None:
    known: dict = {}  # (base, index) -> the name holding that item
    for stmt in block:
        if known and not isinstance(stmt, COMPOUND) and not is_comment(stmt):
            _replace_reads(stmt, known)
        if _disturbs(stmt, adjoints):
            known.clear()
            continue
        stored = _stored(stmt)
        known = {k: v for k, v in known.items()
                 if v not in stored and k[0] not in stored and k[1] not in stored}
        if type(stmt) is gast.Assign and len(stmt.targets) == 1 \
                and type(stmt.targets[0]) is gast.Name:
            key = _key(stmt.value)
            if key is not None and stmt.targets[0].id not in key:
                known[key] = stmt.targets[0].id


def _replace_reads(stmt: gast.stmt, known: dict) -> None:
    for node in fast_walk(stmt):
        for field in node_fields(type(node)):
            child = getattr(node, field)
            if type(child) is gast.Subscript and type(child.ctx) is gast.Load \
                    and _key(child) in known:
                setattr(node, field, name(known[_key(child)]))
            elif type(child) is list:
                for k, item in enumerate(child):
                    if type(item) is gast.Subscript and type(item.ctx) is gast.Load \
                            and _key(item) in known:
                        child[k] = name(known[_key(item)])


def _merge_updates(block: list) -> None:
    k = 0
    while k < len(block):
        first = block[k]
        key = _update_key(first)
        if key is not None:
            j = _next_update(block, k, key, first)
            if j is not None:
                second = block[j]
                op = gast.Add() if type(first.op) is type(second.op) else gast.Sub()
                second.value = gast.BinOp(left=first.value, op=op, right=second.value)
                if type(first.op) is not type(second.op):
                    second.op = first.op
                del block[k]
                continue
        k += 1


def _update_key(stmt: gast.stmt) -> tuple | None:
    if type(stmt) is gast.AugAssign and type(stmt.op) in (gast.Add, gast.Sub):
        return _key(stmt.target)
    return None


def _next_update(block: list, k: int, key: tuple, first: gast.AugAssign) -> int | None:
    """The position of the next update of the same item, if nothing between reads the
    list or assigns what the first update reads."""
    reads = {n.id for n in fast_walk(first.value) if type(n) is gast.Name} | {key[0]}
    if type(key[1]) is str:
        reads.add(key[1])
    for j in range(k + 1, len(block)):
        stmt = block[j]
        if _update_key(stmt) == key:
            return j
        if isinstance(stmt, COMPOUND) or _stored(stmt) & reads \
                or any(type(n) is gast.Name and n.id == key[0] for n in fast_walk(stmt)) \
                or any(type(n) is gast.Call and not pure_call(n) for n in fast_walk(stmt)):
            return None
    return None
