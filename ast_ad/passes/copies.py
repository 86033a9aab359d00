"""Copies: no defensive copy where nothing changes the array in place afterwards.

Input: a finished array-mode adjoint. Output: the same function where a top-level
``bx = unbroadcast(v, x)`` of a name ``v`` becomes ``bx = reduce_to(v, x)`` (which passes
an array of the right shape through instead of copying it) when neither ``bx`` nor ``v``,
nor any name that may share their array, is changed in place by a later statement
(``+=``, item assignment, ``add_at``, a call that may keep or change it) or returned (two
gradients must never be one array that you could change through the other). In the body
of a top-level loop, "later" is the rest of the body, the body again (the next
iteration) and what follows the loop. ``bx += unbroadcast(v, x)`` never needs the copy.

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(g, x, y, X, w):
...     bx = unbroadcast(g, x)
...     by = unbroadcast(g, y)
...     bw = matmul_vjp_b(bx, X, w)
...     by += 1.0
...     return (bw, by)'''
>>> func = parse_generated(src, {"unbroadcast", "matmul_vjp_b"})
>>> print(to_source(drop_copies(func)), end="")
def f(g, x, y, X, w):
    bx = reduce_to(g, x)
    by = unbroadcast(g, y)
    bw = matmul_vjp_b(bx, X, w)
    by += 1.0
    return (bw, by)
"""
from __future__ import annotations

import gast

from ..analysis.sharing import close, new_value, share_edges, unsafe_names
from ..templates import helper, helper_call

LOOPS = (gast.For, gast.While)


def drop_copies(func: gast.FunctionDef) -> gast.FunctionDef:
    """Replace the copies that nothing needs (see above), in place."""
    body = func.body
    shares = share_edges(body)
    for k, stmt in enumerate(body):
        if isinstance(stmt, LOOPS):
            _in_loop(stmt, body[k + 1:], shares)
            continue
        _drop(stmt, body[k + 1:], shares)
    return func


def _drop(stmt: gast.stmt, later: list, shares: list) -> None:
    """``stmt`` passes its value through if nothing in ``later`` needs the copy."""
    if _summed_in(stmt) or _of_new_value(stmt):
        stmt.value.func = helper("reduce_to")
        return
    copied = _copy_of(stmt)
    if copied is not None:
        unsafe = close(unsafe_names(later) | _returned(later), shares)
        if not {stmt.targets[0].id, copied} & unsafe:
            stmt.value.func = helper("reduce_to")


def _in_loop(loop: gast.stmt, after: list, shares: list) -> None:
    """The statements of a top-level loop's body: what runs after one of them is the rest
    of the body, the whole body again (the next iteration), and what follows the loop."""
    for k, stmt in enumerate(loop.body):
        if not isinstance(stmt, LOOPS + (gast.If,)):
            _drop(stmt, loop.body[k + 1:] + loop.body + after, shares)


def _of_new_value(stmt: gast.stmt) -> bool:
    """``bx = unbroadcast(<arithmetic>, x)``: the value is a new array that only this
    statement sees, so passing it through shares it with nothing."""
    return isinstance(stmt, gast.Assign) and helper_call(stmt.value) == "unbroadcast" \
        and len(stmt.value.args) == 2 and new_value(stmt.value.args[0])


def _summed_in(stmt: gast.stmt) -> bool:
    """``bx += unbroadcast(v, x)``: ``+=`` never makes ``bx`` the array it adds (a number
    plus an array is a new array; an array adds in place into its own), so no copy."""
    return isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)) \
        and helper_call(stmt.value) == "unbroadcast" and len(stmt.value.args) == 2


def _copy_of(stmt: gast.stmt) -> str | None:
    """``v`` of a top-level ``b = unbroadcast(v, x)``; None for anything else."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and type(stmt.targets[0]) is gast.Name and helper_call(stmt.value) == "unbroadcast" \
            and len(stmt.value.args) == 2 and type(stmt.value.args[0]) is gast.Name:
        return stmt.value.args[0].id
    return None


def _returned(stmts: list) -> set:
    return {n.id for s in stmts if isinstance(s, gast.Return) and s.value is not None
            for n in gast.walk(s.value) if type(n) is gast.Name}
