"""Carry: an adjoint item that the next iteration updates again waits in a local.

Input: a finished scalar-mode adjoint. Output: the same function where a loop
``for i in range(n)`` (or ``range(a, n)``) whose body updates two items of one adjoint
list, ``bx[i] -= e1`` and after it ``bx[i + 1] += e2``, in a list of zeros made before the
loop that nothing else in the loop mentions, keeps the second update in a local that the
next iteration's first one starts from, as a hand-written loop carries it::

    bx = zeros_like(x)                  bx = zeros_like(x)
                                        _c1 = 0.0
    for i in range(n):                  for i in range(n):
        ...                                 ...
        bx[i] -= e1                         bx[i] = _c1 - e1
        bx[i + 1] += e2                     _c1 = e2
                                        if 0 < n:
                                            bx[n] = _c1

Each item is then written once instead of read and written twice. The values are the
same: item ``i`` was ``0.0 + e2 - e1`` (``0.0 + e2`` is ``e2``, up to the sign of a zero).
This is Rosenbrock's function, whose term ``i`` reads ``x[i]`` and ``x[i + 1]``.

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(x, n):
...     bx = zeros_like(x)
...     for i in range(n):
...         t = x[i + 1] - x[i]
...         bx[i] -= t
...         bx[i + 1] += t'''
>>> from ast_ad.naming import Namer
>>> namer = Namer({"f", "x", "n", "bx", "i", "t"})
>>> print(to_source(carry(parse_generated(src, {"zeros_like"}), {"bx"}, namer)), end="")
def f(x, n):
    bx = zeros_like(x)
    # the next item of bx waits in _c1 until its iteration
    _c1 = 0.0
    for i in range(n):
        t = x[i + 1] - x[i]
        bx[i] = _c1 - t
        _c1 = t
    if 0 < n:
        bx[n] = _c1
"""
from __future__ import annotations

import gast

from ..analysis.sharing import pure_call
from ..naming import Namer
from ..source import comment, is_comment
from ..templates import clone, const, helper_call, name, range_call
from ..walk import names as _names
from ..walk import walk as fast_walk

_JUMPS = (gast.Break, gast.Continue, gast.Return, gast.Yield)


def carry(func: gast.FunctionDef, adjoints: set, namer: Namer) -> gast.FunctionDef:
    """Carry adjoint items between iterations (see above) in ``func``'s top-level loops.
    ``adjoints``: the adjoint variables' names; ``namer``: gives the local its name."""
    body = func.body
    k = 0
    while k < len(body):
        found = _candidate(body, k, adjoints)
        if found is not None:
            k = _rewrite(body, k, found, namer.fresh("_c"))
        k += 1
    return func


def _candidate(body: list, k: int, adjoints: set) -> tuple | None:
    """``(adjoint, first update, second update, stop)`` for the loop ``body[k]``."""
    loop = body[k]
    if type(loop) is not gast.For or loop.orelse or type(loop.target) is not gast.Name \
            or not range_call(loop.iter) or len(loop.iter.args) not in (1, 2):
        return None
    i = loop.target.id
    firsts = [s for s in loop.body if _update(s, adjoints) and _at(s.target.slice, i)]
    bounds = loop.iter.args
    if not firsts or not all(type(b) in (gast.Name, gast.Constant) for b in bounds) \
            or any(isinstance(n, _JUMPS) for n in fast_walk(loop)) \
            or _assigned(loop.body) & ({i} | {b.id for b in bounds if type(b) is gast.Name}):
        return None
    for first in firsts:
        adj = _update(first, adjoints)
        if not _zeros_before(body, k, adj):
            continue
        second = _second(loop.body, first, adj, i)
        if second is not None:
            return adj, first, second, bounds
    return None


def _update(stmt: gast.stmt, adjoints: set) -> str | None:
    """The adjoint of ``bx[...] += e`` / ``-=``, if ``stmt`` is one."""
    if type(stmt) is not gast.AugAssign or type(stmt.op) not in (gast.Add, gast.Sub):
        return None
    target = stmt.target
    if type(target) is not gast.Subscript or type(target.value) is not gast.Name \
            or target.value.id not in adjoints:
        return None
    return target.value.id


def _second(body: list, first: gast.stmt, adj: str, i: str) -> gast.stmt | None:
    """The update of item ``i + 1`` after ``first``, if the two are the only statements of
    ``body`` (nested ones included) that mention ``adj``. An update of item ``i + 1`` before
    ``first`` is moved after it, if the statements in between change nothing it reads."""
    mentions = [s for s in body if adj in _names(s)]
    if len(mentions) != 2 or first not in mentions:
        return None
    second = mentions[1] if mentions[0] is first else mentions[0]
    if _update(second, {adj}) is None or adj in _names(first.value) | _names(second.value):
        return None
    if mentions[0] is second:
        between = body[body.index(second) + 1:body.index(first)]
        if _assigned(between) & _names(second) or any(
                type(n) is gast.Call and not pure_call(n) for s in between
                for n in fast_walk(s)):
            return None
        result = _index_next(body, second, i)
        if result is not None:
            body.remove(second)
            body.insert(body.index(first) + 1, second)
        return result
    return _index_next(body, second, i)


def _index_next(body: list, second: gast.stmt, i: str) -> gast.stmt | None:
    """``second`` if it updates item ``i + 1`` (``_t3`` with ``_t3 = i + 1`` set before it)."""
    index = second.target.slice
    if type(index) is gast.Name:  # _t3 = i + 1, set before and not changed
        sets = [s for s in body if index.id in _assigned([s])]
        if len(sets) != 1 or type(sets[0]) is not gast.Assign \
                or body.index(sets[0]) > body.index(second):
            return None
        index = sets[0].value
    return second if _next(index, i) else None


def _at(index: gast.expr, i: str) -> bool:
    return type(index) is gast.Name and index.id == i


def _next(index: gast.expr, i: str) -> bool:
    """Is ``index`` ``i + 1``?"""
    return type(index) is gast.BinOp and type(index.op) is gast.Add \
        and _at(index.left, i) and type(index.right) is gast.Constant \
        and type(index.right.value) is int and index.right.value == 1


def _zeros_before(body: list, k: int, adj: str) -> bool:
    """Is ``adj`` a new list of zeros (``adj = zeros_like(x)``) that the statements from
    there to the loop ``body[k]`` do not mention?"""
    for stmt in reversed(body[:k]):
        if is_comment(stmt) or adj not in _names(stmt):
            continue
        return type(stmt) is gast.Assign and len(stmt.targets) == 1 \
            and type(stmt.targets[0]) is gast.Name and stmt.targets[0].id == adj \
            and helper_call(stmt.value) == "zeros_like"
    return False


def _assigned(stmts: list) -> set:
    return {n.id for s in stmts for n in fast_walk(s)
            if type(n) is gast.Name and type(n.ctx) is gast.Store}


def _rewrite(body: list, k: int, found: tuple, local: str) -> int:
    """Rewrite the loop ``body[k]``; returns the position of the last statement added."""
    adj, first, second, bounds = found
    sign = gast.Sub() if type(first.op) is gast.Sub else gast.Add()
    loop_body = body[k].body
    loop_body[loop_body.index(first)] = gast.Assign(
        targets=[first.target], type_comment=None,
        value=gast.BinOp(left=name(local), op=sign, right=first.value))
    value = second.value if type(second.op) is gast.Add else \
        gast.UnaryOp(op=gast.USub(), operand=second.value)
    loop_body[loop_body.index(second)] = gast.Assign(
        targets=[name(local, store=True)], value=value, type_comment=None)
    start = bounds[0] if len(bounds) == 2 else const(0)
    stop = bounds[-1]
    store = gast.Assign(targets=[gast.Subscript(value=name(adj), slice=clone(stop),
                                                ctx=gast.Store())],
                        value=name(local), type_comment=None)
    after = gast.If(test=gast.Compare(left=clone(start), ops=[gast.Lt()],
                                      comparators=[clone(stop)]),
                    body=[store], orelse=[])
    at = k
    while at > 0 and is_comment(body[at - 1]):  # before the loop's heading comment
        at -= 1
    body[at:at] = [comment(f"the next item of {adj} waits in {local} until its iteration"),
                   gast.Assign(targets=[name(local, store=True)], value=const(0.0),
                               type_comment=None)]
    k += 2
    body.insert(k + 1, after)
    return k + 1
