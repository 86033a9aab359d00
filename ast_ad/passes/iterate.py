"""Iterate: a loop that counts through a sequence only to read its items walks the sequence
itself.

Input: a finished scalar-mode adjoint. Desugaring turns ``for c in coeffs`` into
``for _k1 in range(_n1): c = _seq1[_k1]`` (with ``_n1 = len(_seq1)``), and ``for x, y in
zip(xs, ys)`` into a count up to ``min(_n2, _n3)`` reading ``_seq2[_k2]`` and
``_seq3[_k2]``, because the reverse sweep needs the positions. Output: the same function
where such a forward loop is ``for c in _seq1:`` (or ``for _t2, _t3 in zip(_seq2,
_seq3):``) when its count is read nowhere else, not even after it, and no sequence it
reads is ever changed in place: the same items, in the same order, without a subscript
per item. The reverse loop keeps its count; a count that nothing reads any more goes.

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(xs):
...     _seq1 = sequence(xs)
...     _n1 = len(_seq1)
...     s = 0.0
...     for _k1 in range(_n1):
...         x = _seq1[_k1]
...         s = s + x * x
...     return s'''
>>> print(to_source(iterate(parse_generated(src, {"sequence", "len"}))), end="")
def f(xs):
    _seq1 = sequence(xs)
    s = 0.0
    for x in _seq1:
        s = s + x * x
    return s
"""
from __future__ import annotations

import gast

from ..analysis.sharing import unsafe_names
from ..templates import call, helper_call, name, range_call
from ..walk import statements
from ..walk import walk as fast_walk


def iterate(func: gast.FunctionDef) -> gast.FunctionDef:
    """Rewrite each counting loop that only reads items (see the module docstring)."""
    loops = [s for s in statements(func) if type(s) is gast.For and range_call(s.iter)
             and len(s.iter.args) == 1 and type(s.iter.args[0]) is gast.Name]
    if not loops:
        return func
    sizes = _sizes(func.body)
    loops = [loop for loop in loops if loop.iter.args[0].id in sizes
             and _leading_items(loop, sizes[loop.iter.args[0].id]) is not None]
    if not loops:
        return func
    loads, rebinding = _count_loads(func)
    unsafe = None
    for loop in loops:
        count = loop.iter.args[0].id
        plan = _plan(loop, sizes[count], loads, rebinding)
        if plan is None:
            continue
        if unsafe is None:
            unsafe = unsafe_names(func.body)
        if unsafe.isdisjoint(seq for seq, _ in plan):
            _rewrite(loop, plan, loads)
            loads[count] -= 1
    _drop_unread_counts(func, sizes, loads)
    return func


def _drop_unread_counts(func: gast.FunctionDef, sizes: dict, loads: dict) -> None:
    """The counts (``_n2 = len(_seq2)``, ``_t1 = min(_n2, _n3)``) that no loop reads any
    more go, latest first, so that the counts a ``min`` read go with it."""
    body = func.body
    for k in range(len(body) - 1, -1, -1):
        stmt = body[k]
        if type(stmt) is gast.Assign and len(stmt.targets) == 1 \
                and type(stmt.targets[0]) is gast.Name and stmt.targets[0].id in sizes \
                and loads.get(stmt.targets[0].id, 0) == 0:
            for arg in stmt.value.args:
                if type(arg) is gast.Name:
                    loads[arg.id] = loads.get(arg.id, 0) - 1
            del body[k]


def _sizes(body: list) -> dict:
    """``count name -> the sequences it counts``: ``_n1 = len(_seq1)`` gives ``[_seq1]``,
    ``_t1 = min(_n2, _n3)`` the sequences of both, for top-level assignments only."""
    sizes: dict = {}
    stored: dict = {}
    for stmt in body:
        if type(stmt) is not gast.Assign or len(stmt.targets) != 1 \
                or type(stmt.targets[0]) is not gast.Name:
            continue
        target, value = stmt.targets[0].id, stmt.value
        stored[target] = stored.get(target, 0) + 1
        kind = helper_call(value)
        if kind == "len" and len(value.args) == 1 and type(value.args[0]) is gast.Name:
            sizes[target] = [value.args[0].id]
        elif kind == "min" and value.args and all(
                type(a) is gast.Name and a.id in sizes for a in value.args):
            sizes[target] = [s for a in value.args for s in sizes[a.id]]
    return {n: seqs for n, seqs in sizes.items() if stored[n] == 1}


def _count_loads(func: gast.FunctionDef) -> tuple:
    """Each name's loads, and each loop's count variable's loads inside loops that set it
    again (the reverse loop's own count)."""
    loads: dict = {}
    rebinding: dict = {}
    for node in fast_walk(func):
        if type(node) is gast.Name and type(node.ctx) is gast.Load:
            loads[node.id] = loads.get(node.id, 0) + 1
        elif type(node) is gast.For and type(node.target) is gast.Name:
            ident = node.target.id
            inside = sum(1 for stmt in node.body for n in fast_walk(stmt)
                         if type(n) is gast.Name and n.id == ident and type(n.ctx) is gast.Load)
            rebinding[id(node)] = ident, inside
    return loads, rebinding


def _leading_items(loop: gast.For, seqs: list) -> dict | None:
    """``{sequence: item variable}`` when the loop body starts by reading ``seq[k]`` into a
    variable once for each of ``seqs`` (``k`` the loop's count); None otherwise."""
    if type(loop.target) is not gast.Name or loop.orelse:
        return None
    k = loop.target.id
    items: dict = {}
    for stmt in loop.body[:len(seqs)]:
        value = stmt.value if type(stmt) is gast.Assign and len(stmt.targets) == 1 \
            and type(stmt.targets[0]) is gast.Name else None
        if type(value) is not gast.Subscript or type(value.value) is not gast.Name \
                or type(value.slice) is not gast.Name or value.slice.id != k \
                or value.value.id not in seqs or value.value.id in items:
            return None
        items[value.value.id] = stmt.targets[0].id
    if len(items) != len(seqs) or len(set(items.values())) != len(seqs) or k in items.values():
        return None
    return items


def _plan(loop: gast.For, seqs: list, loads: dict, rebinding: dict) -> list | None:
    """``[(sequence, item variable), ...]`` in the count's order, if ``loop`` only reads
    ``seq[k]`` into a variable at the top of its body, once per sequence."""
    items = _leading_items(loop, seqs)
    if items is None:
        return None
    k = loop.target.id
    # the count is read by those subscripts, and elsewhere only inside loops that set it
    others = sum(n for key, (ident, n) in rebinding.items() if key != id(loop) and ident == k)
    if loads.get(k, 0) != len(seqs) + others:
        return None
    return [(seq, items[seq]) for seq in seqs]


def _rewrite(loop: gast.For, plan: list, loads: dict) -> None:
    """The loop walks the sequences; an item copied straight into a variable (``x = _t2``,
    read nowhere else) is that variable."""
    body = loop.body[len(plan):]
    items = []
    for _, item in plan:
        copy = body[0] if body else None
        if type(copy) is gast.Assign and len(copy.targets) == 1 \
                and type(copy.targets[0]) is gast.Name and type(copy.value) is gast.Name \
                and copy.value.id == item and loads.get(item) == 1 \
                and copy.targets[0].id not in items:
            item = copy.targets[0].id
            body = body[1:]
        items.append(item)
    targets = [name(item, store=True) for item in items]
    if len(plan) == 1:
        loop.target, loop.iter = targets[0], name(plan[0][0])
    else:
        loop.target = gast.Tuple(elts=targets, ctx=gast.Store())
        loop.iter = call("zip", *(name(seq) for seq, _ in plan))
    loop.body = body or [gast.Pass()]
