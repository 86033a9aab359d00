"""The Names of statements, for passes that ask about the same statements many times.

A :class:`Tally` lists the Names of each simple statement once and keeps the lists until the
pass says the statement changed (:meth:`Tally.forget`); the lists of a compound statement
(``for``, ``while``, ``if``, ``def``) are put together from those of its header and of the
statements in its blocks each time, so they follow the blocks as they change. Lists are
joined and counted at C speed (``list.extend``, ``Counter``).
"""
from __future__ import annotations

from collections import Counter

import gast

from .walk import _NAME_FIELDS, name_fields, node_fields

COMPOUND = (gast.For, gast.While, gast.If, gast.FunctionDef)
_BLOCKS = ("body", "orelse")


class Tally:
    """``names(stmt)`` is ``(loads, uses, writes)``: the ids of the Names read, of those in
    any other context (written, deleted, parameters), and of those written, as lists with
    one entry per Name node."""

    def __init__(self) -> None:
        self._memo: dict = {}  # id(simple statement) -> (statement, loads, uses, writes)

    def names(self, stmt: gast.AST) -> tuple[list, list, list]:
        """``(loads, uses, writes)`` of ``stmt`` (a statement or an expression); the lists
        of a simple one are shared: not to be changed."""
        if isinstance(stmt, COMPOUND):
            return self._compound(stmt)
        hit = self._memo.get(id(stmt))
        if hit is None or hit[0] is not stmt:
            hit = (stmt, *_names_in([stmt]))
            self._memo[id(stmt)] = hit
        return hit[1], hit[2], hit[3]

    def _compound(self, stmt: gast.stmt) -> tuple[list, list, list]:
        loads, uses, writes = _names_under(_header(stmt))
        for field in _BLOCKS:
            self._add(getattr(stmt, field, ()), loads, uses, writes)
        return loads, uses, writes

    def _add(self, stmts, loads: list, uses: list, writes: list) -> None:
        """Add the Names of each of ``stmts`` to the three lists, in order (a compound
        statement's header's, then its blocks')."""
        memo = self._memo
        for stmt in stmts:
            hit = memo.get(id(stmt))
            if hit is None or hit[0] is not stmt:
                if type(stmt) in _COMPOUND:
                    more = _names_under(_header(stmt))
                    loads += more[0]
                    uses += more[1]
                    writes += more[2]
                    for field in _BLOCKS:
                        self._add(getattr(stmt, field, ()), loads, uses, writes)
                    continue
                hit = self._memo[id(stmt)] = (stmt, *_names_in([stmt]))
            loads += hit[1]
            uses += hit[2]
            writes += hit[3]

    def counts(self, stmts: list) -> tuple[Counter, Counter, Counter]:
        """How often each name is read, used otherwise, and written in ``stmts``."""
        loads: list = []
        uses: list = []
        writes: list = []
        self._add(stmts, loads, uses, writes)
        return Counter(loads), Counter(uses), Counter(writes)

    def forget(self, stmt: gast.AST) -> None:
        """``stmt`` changed in place: list its Names again when asked."""
        self._memo.pop(id(stmt), None)


_COMPOUND = frozenset(COMPOUND)


def _header(stmt: gast.stmt) -> list:
    """What a compound statement holds besides its blocks (a loop's target and iterable...)."""
    return [getattr(stmt, f, None) for f in node_fields(type(stmt)) if f not in _BLOCKS]


def _names_under(roots: list) -> tuple[list, list, list]:
    """The Names under each of ``roots`` (nodes, lists of nodes, or other values)."""
    return _names_in([v for root in roots for v in (root if isinstance(root, list) else (root,))
                      if isinstance(v, _AST)])


def _names_in(todo: list) -> tuple[list, list, list]:
    """The Names under the nodes ``todo`` (a list, used up)."""
    loads: list = []
    uses: list = []
    writes: list = []
    pop, push, extend = todo.pop, todo.append, todo.extend
    while todo:
        node = pop()
        kind = type(node)
        if kind is _NAME:
            ctx = type(node.ctx)
            if ctx is _LOAD:
                loads.append(node.id)
            else:
                uses.append(node.id)
                if ctx is _STORE:
                    writes.append(node.id)
            if getattr(node, "annotation", None) is not None:
                push(node.annotation)
            continue
        fields = _NAME_FIELDS.get(kind)
        for field in name_fields(kind) if fields is None else fields:
            value = getattr(node, field, None)
            if type(value) is list:
                if value:
                    extend([v for v in value if isinstance(v, _AST)])
            elif isinstance(value, _AST):
                push(value)
    return loads, uses, writes


_AST, _NAME, _LOAD, _STORE = gast.AST, gast.Name, gast.Load, gast.Store
