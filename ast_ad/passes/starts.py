"""Starts: an adjoint's zero start that nothing reads goes.

Input: a simplified adjoint, and the Names of its statements as simplify left them.
Output: the same function without each top-level ``bx = 0.0`` (an adjoint set to zero
where the reverse sweep starts, or before a fused loop) after which every way through the
function sets ``bx`` before reading it, or never reads it again, as in ``bW = 0.0`` ...
``bW = matmul_vjp_b(g, a, W)``. A loop may run no iteration, so what a loop sets does not
count for the statements after it; an ``if`` counts when both of its branches set ``bx``.
A start first read by a top-level ``bx = add_at(bx, x, path, g)`` goes too: that reads
``add_at(None, ...)``, a zero start known to be fresh.

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(g, n):
...     bw = 0.0
...     bh = 0.0
...     bk = 0.0
...     for i in range(n):
...         bk = g * i
...         bh = bh + bk
...     bw = g * 2.0
...     return (bw, bh)'''
>>> print(to_source(dead_starts(parse_generated(src, set()), {"bw", "bh", "bk"})), end="")
def f(g, n):
    bh = 0.0
    for i in range(n):
        bk = g * i
        bh = bh + bk
    bw = g * 2.0
    return (bw, bh)
"""
from __future__ import annotations

import gast

from ..source import is_comment
from ..tally import Tally
from ..templates import helper_call
from ..walk import names as _names
from ..walk import statements

_READ, _WRITE = "read", "write"


def dead_starts(func: gast.FunctionDef, adjoints: set,
                tally: Tally | None = None) -> gast.FunctionDef:
    """Drop the zero starts of ``adjoints`` that nothing reads (see above). A start whose
    first reader is ``bx = add(bx, e)``, where ``e`` is (the sequence adjoint of) a list of
    ours that nothing else holds or reads, goes too: that is ``bx = e``, without the copy
    ``add`` makes of a list added to zero."""
    body = func.body
    starts = [k for k, stmt in enumerate(body) if _zero_start(stmt, adjoints)]
    if not starts:
        return func
    names = _Names(tally or Tally())
    dropped = set()
    for k in starts:
        ident = body[k].targets[0].id
        if _first_touch(body[k + 1:], ident, names) != _READ \
                or _pass_through(body, k, adjoints, names) or _fresh_add_at(body, k, names):
            dropped.add(k)
    if dropped:
        func.body = [stmt for k, stmt in enumerate(body) if k not in dropped]
    _dead_resets(func.body, adjoints, names)
    return func


def _dead_resets(body: list, adjoints: set, names: _Names) -> None:
    """In the loops' bodies, a reset ``bx = 0.0`` that the rest of its own block sets again
    before reading it (the reverse loop's ``bh = 0.0`` ... ``bh = matmul_vjp_b(...)``) goes.
    (Only a sure set counts here: a reset nothing reads in its block may still be read by
    the next iteration or after the loop.)"""
    for stmt in body:
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            for block in (stmt.body, stmt.orelse):
                _dead_resets(block, adjoints, names)
                dead = [k for k, s in enumerate(block) if _zero_start(s, adjoints)
                        and _first_touch(block[k + 1:], s.targets[0].id, names) == _WRITE]
                for k in reversed(dead):
                    del block[k]
                    if 0 < k < len(block) and is_comment(block[k - 1]) \
                            and is_comment(block[k]):
                        del block[k - 1]  # its "# line N" heads nothing now


class _Names:
    """The names under each statement, as a pass before listed them (``tally``)."""

    def __init__(self, tally: Tally):
        self.tally = tally
        self.found: dict = {}

    def of(self, stmt: gast.stmt) -> set:
        hit = self.found.get(id(stmt))
        if hit is None:
            loads, uses, _ = self.tally.names(stmt)
            hit = self.found[id(stmt)] = set(loads).union(uses)
        return hit

    def writes(self, stmt: gast.stmt) -> list:
        return self.tally.names(stmt)[2]

    def forget(self, stmt: gast.stmt) -> None:
        """``stmt`` changed: list its Names again when asked (here and in the tally)."""
        self.found.pop(id(stmt), None)
        self.tally.forget(stmt)


def _zero_start(stmt: gast.stmt, adjoints: set) -> bool:
    return type(stmt) is gast.Assign and len(stmt.targets) == 1 \
        and type(stmt.targets[0]) is gast.Name and stmt.targets[0].id in adjoints \
        and type(stmt.value) is gast.Constant and type(stmt.value.value) in (int, float) \
        and stmt.value.value == 0


def _first_update(body: list, k: int, helper: str, arity: int, names: _Names) -> int | None:
    """The position of the first statement after ``body[k]`` (``bx = 0.0``) that mentions
    ``bx``, if it is a top-level ``bx = helper(bx, ...)`` (``arity`` positional arguments)
    with ``bx`` nowhere else in it; else None."""
    ident = body[k].targets[0].id
    at = next((j for j in range(k + 1, len(body)) if ident in names.of(body[j])), None)
    stmt = body[at] if at is not None else None
    if type(stmt) is not gast.Assign or len(stmt.targets) != 1 \
            or type(stmt.targets[0]) is not gast.Name or stmt.targets[0].id != ident \
            or helper_call(stmt.value) != helper or len(stmt.value.args) != arity \
            or stmt.value.keywords:
        return None
    first, *rest = stmt.value.args
    if type(first) is not gast.Name or first.id != ident \
            or any(ident in _names(arg) for arg in rest):
        return None
    return at


def _pass_through(body: list, k: int, adjoints: set, names: _Names) -> bool:
    """Is the first statement after ``body[k]`` (``bx = 0.0``) that mentions ``bx`` a
    top-level ``bx = add(bx, e)`` for an unshared list ``e`` of ours? Then it becomes
    ``bx = e``."""
    at = _first_update(body, k, "add", 2, names)
    if at is None:
        return False
    stmt = body[at]
    e = stmt.value.args[1]
    held = e.args[0] if helper_call(e) == "sequence_vjp" and e.args else e
    if type(held) is not gast.Name or held.id not in adjoints \
            or any(held.id in names.of(s) for s in body[at + 1:]) \
            or not _only_new(body, held.id, names):
        return False
    stmt.value = e
    names.forget(stmt)
    return True


def _fresh_add_at(body: list, k: int, names: _Names) -> bool:
    """Is the first statement after ``body[k]`` (``bx = 0.0``) that mentions ``bx`` a
    top-level ``bx = add_at(bx, x, path, g)``? Then it becomes ``bx = add_at(None, x,
    path, g)``: the same zero start, known to be fresh (as a temporary's first write is),
    which the specialised adjoint can do without ``add_at``."""
    at = _first_update(body, k, "add_at", 4, names)
    if at is None:
        return False
    body[at].value.args[0] = gast.Constant(value=None, kind=None)
    names.forget(body[at])
    return True


def _only_new(body: list, ident: str, names: _Names) -> bool:
    """Is ``ident`` set once, at the top level, to a new list of zeros, and only changed
    item by item after that (``ident[i] += e``)?"""
    made = [s for s in body if type(s) is gast.Assign and len(s.targets) == 1
            and type(s.targets[0]) is gast.Name and s.targets[0].id == ident]
    if len(made) != 1 or helper_call(made[0].value) != "zeros_like" \
            or sum(names.writes(s).count(ident) for s in body) != 1:
        return False
    mentioning = [s for s in body if ident in names.of(s)]
    for stmt in statements(gast.Module(body=mentioning, type_ignores=[])):
        if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return)) \
                and ident in names.of(stmt) and stmt is not made[0] \
                and not _item_update(stmt, ident) and not _added(stmt, ident):
            return False  # read as a whole somewhere: it may be held there
    return True


def _added(stmt: gast.stmt, ident: str) -> bool:
    """``b = add(a, e)`` with ``ident`` only in ``e``: ``add`` returns ``a``, a copy of ``e``
    or a new sum, never ``e`` itself."""
    value = getattr(stmt, "value", None)
    return type(stmt) is gast.Assign and helper_call(value) == "add" \
        and len(value.args) == 2 and ident not in _names(value.args[0]) \
        and ident not in _names(stmt.targets[0])


def _item_update(stmt: gast.stmt, ident: str) -> bool:
    """``ident[i] += e`` (``-=``), with ``ident`` read nowhere else in it."""
    target = stmt.target if type(stmt) is gast.AugAssign else None
    return type(target) is gast.Subscript and type(target.value) is gast.Name \
        and target.value.id == ident and ident not in _names(stmt.value) \
        and ident not in _names(target.slice)


def _first_touch(stmts: list, ident: str, names: _Names) -> str | None:
    """Whether the statements read ``ident`` before every way through them sets it
    (``_READ``), set it first on every way (``_WRITE``), or neither (None)."""
    for stmt in stmts:
        if ident not in names.of(stmt) or is_comment(stmt):
            continue
        kind = type(stmt)
        if kind is gast.Assign:
            target = stmt.targets[0] if len(stmt.targets) == 1 else None
            if type(target) is gast.Name and target.id == ident \
                    and ident not in _names(stmt.value):
                return _WRITE
            return _READ
        if kind is gast.For or kind is gast.While:
            head = [stmt.iter, stmt.target] if kind is gast.For else [stmt.test]
            if any(ident in _names(h) for h in head) or stmt.orelse \
                    or _first_touch(stmt.body, ident, names) == _READ:
                return _READ
            continue  # the loop may run no iteration: what follows it decides
        if kind is gast.If:
            branches = (_first_touch(stmt.body, ident, names),
                        _first_touch(stmt.orelse, ident, names))
            if ident in _names(stmt.test) or _READ in branches:
                return _READ
            if branches == (_WRITE, _WRITE):
                return _WRITE
            continue
        return _READ
    return None
