"""Starts: an adjoint's zero start that nothing reads goes.

Input: a finished adjoint. Output: the same function without each top-level ``bx = 0.0``
(an adjoint set to zero where the reverse sweep starts, or before a fused loop) after which
every way through the function sets ``bx`` before reading it, or never reads it again, as
in ``bW = 0.0`` ... ``bW = matmul_vjp_b(g, a, W)``. A loop may run no iteration, so what
a loop sets does not count for the statements after it; an ``if`` counts when both of its
branches set ``bx``.

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
from ..walk import names as _names

_READ, _WRITE = "read", "write"


def dead_starts(func: gast.FunctionDef, adjoints: set) -> gast.FunctionDef:
    """Drop the zero starts of ``adjoints`` that nothing reads (see above)."""
    body = func.body
    kept = [stmt for k, stmt in enumerate(body)
            if not _dead(stmt, body[k + 1:], adjoints)]
    if len(kept) != len(body):
        func.body = kept
    return func


def _dead(stmt: gast.stmt, after: list, adjoints: set) -> bool:
    if type(stmt) is not gast.Assign or len(stmt.targets) != 1 \
            or type(stmt.targets[0]) is not gast.Name or type(stmt.value) is not gast.Constant \
            or type(stmt.value.value) not in (int, float) or stmt.value.value != 0:
        return False
    ident = stmt.targets[0].id
    return ident in adjoints and _first_touch(after, ident) != _READ


def _first_touch(stmts: list, ident: str) -> str | None:
    """Whether the statements read ``ident`` before every way through them sets it
    (``_READ``), set it first on every way (``_WRITE``), or neither (None)."""
    for stmt in stmts:
        if is_comment(stmt) or ident not in _names(stmt):
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
                    or _first_touch(stmt.body, ident) == _READ:
                return _READ
            continue  # the loop may run no iteration: what follows it decides
        if kind is gast.If:
            branches = (_first_touch(stmt.body, ident), _first_touch(stmt.orelse, ident))
            if ident in _names(stmt.test) or _READ in branches:
                return _READ
            if branches == (_WRITE, _WRITE):
                return _WRITE
            continue
        return _READ
    return None
