"""Batch: a loop's matrix-product adjoints summed by one matrix product after the loop.

Input: an array-mode adjoint. Output: the same function where a loop statement

    bW = add(bW, matmul_vjp_a(g, W, h))

(the adjoint of a matrix ``W`` that the loop does not change, and that nothing else in
the loop reads or writes) keeps ``g`` and ``h`` in two lists instead, and after the loop
one call adds them all: ``bW = add(bW, matmul_vjp_a_many(_acc1, _acc2, W))``, which
stacks the vectors and does one matrix product (``sum_t outer(g_t, h_t) = G.T @ H``), the way a
hand-written backpropagation through time does. ``matmul_vjp_b``, ``dot_vjp_a`` and
``dot_vjp_b`` likewise. The values kept must not change after they are kept, so a pair
is batched only if no name that may share its array is changed in place in the loop
(``+=``, item assignment) or handed to anything but our pure helpers and NumPy. The sum
is the same up to rounding (it is added in another order).

>>> from ast_ad.naming import Namer
>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(W, hs, gs, bW):
...     for t in range(3):
...         g = gs[t] * 2.0
...         h = hs[t]
...         bW = add(bW, matmul_vjp_a(g, W, h))
...     return bW'''
>>> func = parse_generated(src, {"add", "matmul_vjp_a"})
>>> print(to_source(batch(func, Namer(set()))), end="")
def f(W, hs, gs, bW):
    _acc1 = []
    _acc2 = []
    for t in range(3):
        g = gs[t] * 2.0
        h = hs[t]
        _acc1.append(g)
        _acc2.append(h)
    bW = add(bW, matmul_vjp_a_many(_acc1, _acc2, W))
    return bW
"""
from __future__ import annotations

import gast

from ..analysis.sharing import KEEPS, unsafe_names
from ..naming import Namer
from ..source import is_comment
from ..templates import assign, call, helper_call, name
from ..walk import blocks
from ..walk import walk as fast_walk

# helper -> (position of the operand whose adjoint it is, the batched helper)
BATCHABLE = {"matmul_vjp_a": (1, "matmul_vjp_a_many"), "matmul_vjp_b": (2, "matmul_vjp_b_many"),
             "dot_vjp_a": (1, "dot_vjp_a_many"), "dot_vjp_b": (2, "dot_vjp_b_many")}


def batch(func: gast.FunctionDef, namer: Namer) -> gast.FunctionDef:
    """Batch the matrix-product adjoints of every loop in ``func`` (in place)."""
    _batch_blocks(func, namer)
    return func


def _batch_blocks(owner: gast.AST, namer: Namer) -> None:
    for field in ("body", "orelse"):
        block = getattr(owner, field, None)
        if not (isinstance(block, list) and block and isinstance(block[0], gast.stmt)):
            continue
        out: list = []
        for stmt in block:
            if isinstance(stmt, (gast.For, gast.While, gast.If)):
                _batch_blocks(stmt, namer)
            if isinstance(stmt, (gast.For, gast.While)) and not stmt.orelse:
                before, after = _batch_loop(stmt, namer)
                heading = [out.pop()] if before and out and is_comment(out[-1]) else []
                out += before + heading + [stmt]
                for total in after:
                    out.append(_from_zero(out, total))
            else:
                out.append(stmt)
        setattr(owner, field, [s for s in out if s is not None])


def _from_zero(out: list, total: gast.Assign) -> gast.Assign:
    """``bW = add(bW, many(...))`` is ``bW = many(...)`` when what ``out`` last did with
    ``bW`` was its zero start ``bW = 0.0`` (which goes): ``add(0.0, x)`` is a copy of
    ``x``, and the batched sum is a new array (or 0.0 for a loop that did not run)."""
    target = total.targets[0].id
    for k in range(len(out) - 1, -1, -1):
        stmt = out[k]
        if stmt is None or not any(type(n) is gast.Name and n.id == target
                                   for n in fast_walk(stmt)):
            continue
        if type(stmt) is gast.Assign and type(stmt.value) is gast.Constant \
                and type(stmt.value.value) is float and stmt.value.value == 0.0 \
                and len(stmt.targets) == 1 and type(stmt.targets[0]) is gast.Name:
            out[k] = None
            return assign(target, total.value.args[1])
        return total
    return total


def _batch_loop(loop: gast.stmt, namer: Namer) -> tuple[list, list]:
    before: list = []
    after: list = []
    mentions = _mention_counts(loop.body)
    stored = {n.id for s in loop.body for n in fast_walk(s)
              if type(n) is gast.Name and not isinstance(n.ctx, gast.Load)}
    unsafe = None
    body: list = []
    lists: dict = {}  # name -> the list that keeps its value (not written since)
    for stmt in loop.body:
        body.append(stmt)
        for node in fast_walk(stmt):
            if type(node) is gast.Name and not isinstance(node.ctx, gast.Load):
                lists.pop(node.id, None)
        match = _match(stmt)
        if match is None:
            continue
        target, fn, args = match
        position, many = BATCHABLE[fn]
        invariant = args[position]
        kept = [a for i, a in enumerate(args) if i != position]
        if mentions.get(target) != 2 or type(invariant) is not gast.Name \
                or invariant.id in stored or not all(type(a) is gast.Name for a in kept):
            continue
        unsafe = unsafe_names(loop.body) if unsafe is None else unsafe
        if any(a.id in unsafe for a in kept):
            continue
        body.pop()
        accs = []  # (g's list, then the other's)
        for a in kept:
            if a.id not in lists:
                lists[a.id] = namer.fresh("_acc")
                before.append(assign(lists[a.id], gast.List(elts=[], ctx=gast.Load())))
                body.append(_keep(lists[a.id], a.id, stmt))
            accs.append(lists[a.id])
        after.append(assign(target, call("add", name(target),
                                         call(many, *map(name, accs), name(invariant.id)))))
    loop.body = body
    return before, after


def _keep(acc: str, value: str, where: gast.stmt) -> gast.Expr:
    """``acc.append(value)``, marked as only keeping it (see analysis.sharing)."""
    append = gast.Attribute(value=name(acc), attr="append", ctx=gast.Load())
    setattr(append, KEEPS, True)
    return gast.copy_location(gast.Expr(value=gast.Call(
        func=append, args=[name(value)], keywords=[])), where)


def _match(stmt: gast.stmt) -> tuple[str, str, list] | None:
    """``x = add(x, f(a, b, c))`` for a batchable helper ``f``: (x, f, [a, b, c])."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and type(stmt.targets[0]) is gast.Name):
        return None
    target, value = stmt.targets[0].id, stmt.value
    if not (helper_call(value) == "add" and len(value.args) == 2
            and type(value.args[0]) is gast.Name and value.args[0].id == target):
        return None
    inner = value.args[1]
    fn = helper_call(inner)
    if fn not in BATCHABLE or len(inner.args) != 3:
        return None
    return target, fn, inner.args


def _mention_counts(body: list) -> dict:
    counts: dict = {}
    for stmt in body:
        for node in fast_walk(stmt):
            if type(node) is gast.Name:
                counts[node.id] = counts.get(node.id, 0) + 1
    return counts


# ------------------------------------------------------- the specialised adjoint's lists

def share_rows(func: gast.FunctionDef, makers: frozenset) -> gast.FunctionDef:
    """Input: a specialised adjoint, whose batched products may read their lists as
    ``make(L, ...)``, ``make`` one of ``makers`` (``np.array`` or ``np.concatenate``:
    forms._stacked). Output: the same function (changed in place) where

    - a list appended with the very value another list was appended with earlier in
      the same loop step (not written between: a forwarded copy, ``b_t5 = b_t3``, made
      them one name) is that other list: its start and its append go;
    - a list read only as one ``make(L, ...)`` (the same call each time), more than once,
      becomes that array once, after the loop that fills it, and is read as it is.

    Only lists with one start ``L = []`` and one ``L.append(v)``, read nowhere else but
    as the argument of one of ``makers`` or of a ``*_many`` helper, are touched."""
    lists = _kept_lists(func, makers)
    for owner, field in list(blocks(func)):
        _merge_in_block(func, getattr(owner, field), lists)
    for owner, field in list(blocks(func)):
        _made_once(getattr(owner, field), lists, makers)
    return func


def _kept_lists(func: gast.FunctionDef, makers: frozenset) -> dict:
    """name -> [its start statement, its append statement] for the lists described in
    :func:`share_rows`."""
    starts: dict = {}
    appends: dict = {}
    allowed: set = set()  # ids of the Name nodes of those uses
    bad: set = set()
    readers = makers | {many for _, many in BATCHABLE.values()}
    for node in fast_walk(func):
        if type(node) is gast.Assign and len(node.targets) == 1 \
                and type(node.targets[0]) is gast.Name and type(node.value) is gast.List \
                and not node.value.elts:
            _once(starts, node.targets[0].id, node, bad)
            allowed.add(id(node.targets[0]))
        elif type(node) is gast.Expr and _appended(node) is not None:
            _once(appends, node.value.func.value.id, node, bad)
            allowed.add(id(node.value.func.value))
        elif type(node) is gast.Call and type(node.func) is gast.Name \
                and node.func.id in readers:
            allowed.update(id(a) for a in node.args if type(a) is gast.Name)
    for node in fast_walk(func):
        if type(node) is gast.Name and id(node) not in allowed:
            bad.add(node.id)
    return {k: [starts[k], appends[k]] for k in starts.keys() & appends.keys() - bad}


def _once(seen: dict, key: str, stmt: gast.stmt, bad: set) -> None:
    """``seen[key] = stmt``, or ``key`` is bad if it was seen before."""
    if key in seen:
        bad.add(key)
    seen[key] = stmt


def _appended(stmt: gast.Expr) -> str | None:
    """``v`` of a statement ``L.append(v)`` (``L`` and ``v`` names), else None."""
    value = stmt.value
    if type(value) is gast.Call and type(value.func) is gast.Attribute \
            and value.func.attr == "append" and type(value.func.value) is gast.Name \
            and len(value.args) == 1 and type(value.args[0]) is gast.Name \
            and not value.keywords:
        return value.args[0].id
    return None


def _merge_in_block(func: gast.FunctionDef, block: list, lists: dict) -> None:
    kept: dict = {}  # value -> the list its append in this block went to (not written since)
    for stmt in list(block):
        if type(stmt) is gast.Expr and _appended(stmt) is not None \
                and stmt.value.func.value.id in lists:
            value, owner = _appended(stmt), stmt.value.func.value.id
            first = kept.get(value)
            if first is None:
                kept[value] = owner
            elif _starts_together(func, lists[first][0], lists[owner][0]):
                _rename(func, lists.pop(owner), owner, first)
                block.remove(stmt)
            continue
        for node in fast_walk(stmt):
            if type(node) is gast.Name and not isinstance(node.ctx, gast.Load):
                kept.pop(node.id, None)


def _starts_together(func: gast.FunctionDef, one: gast.stmt, other: gast.stmt) -> bool:
    """Are the two starts in one statement list (so that they start over together)?"""
    return any(one in block and other in block
               for block in (getattr(o, f) for o, f in blocks(func)))


def _rename(func: gast.FunctionDef, statements: list, old: str, new: str) -> None:
    """``old``'s start goes (its append is gone already), and it is read as ``new``."""
    for owner, field in list(blocks(func)):
        block = getattr(owner, field)
        if statements[0] in block:
            block.remove(statements[0])
    for node in fast_walk(func):
        if type(node) is gast.Name and node.id == old:
            node.id = new


def _made_once(block: list, lists: dict, makers: frozenset) -> None:
    for stmt in list(block):
        for owner, (start, append) in list(lists.items()):
            if stmt is append or start not in block[:block.index(stmt)] \
                    or not any(s is append for s in fast_walk(stmt)):
                continue
            later = block[block.index(stmt) + 1:]
            made = [n for s in later for n in fast_walk(s) if _made_of(n, owner, makers)]
            uses = sum(1 for s in later for n in fast_walk(s)
                       if type(n) is gast.Name and n.id == owner)
            if len(made) < 2 or len(made) != uses \
                    or len({gast.dump(n) for n in made}) != 1:
                continue
            _Made(owner, makers).visit(gast.Module(body=later, type_ignores=[]))
            block.insert(block.index(stmt) + 1, assign(owner, made[0]))


def _made_of(node: gast.AST, owner: str, makers: frozenset) -> bool:
    """Is ``node`` a call ``make(owner, ...)`` of one of ``makers``?"""
    return type(node) is gast.Call and type(node.func) is gast.Name \
        and node.func.id in makers and len(node.args) == 1 \
        and type(node.args[0]) is gast.Name and node.args[0].id == owner


class _Made(gast.NodeTransformer):
    """Each ``make(owner, ...)`` becomes ``owner`` itself."""

    def __init__(self, owner: str, makers: frozenset) -> None:
        self.owner, self.makers = owner, makers

    def visit_Call(self, node: gast.Call) -> gast.AST:
        return name(self.owner) if _made_of(node, self.owner, self.makers) \
            else self.generic_visit(node)
