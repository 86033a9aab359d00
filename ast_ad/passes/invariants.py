"""Invariants: what a loop's reverse sweep need not redo, because it is the same in every
iteration.

Input: a finished scalar-mode adjoint of kind "grad" or "value_and_grad" (one function:
forward sweep, then reverse sweep). Output: the same function where

* **a loop-invariant value is computed once**: a top-level ``a = <invariant>`` of a ``for``
  loop over ``range(...)`` moves before the loop, under ``if <the loop runs>:`` (a loop
  that runs no iteration still reads nothing), and so does ``unpacked(p, 2)``, the check
  of ``a, b = p``;
* **a reverse loop no longer recomputes a loop-invariant value**: ``a = p[0]`` at the top
  level of a reverse loop's body goes when the forward loop body made the same assignment
  at its top level, ``a`` is assigned nowhere else, and the value reads only parameters the
  function never assigns, changes or passes on (through constant subscripts and
  arithmetic). The reverse loop runs only when its forward loop ran, and the forward
  loop's iterations all left that same value in ``a``. An inlined helper's ``a, b, c, d =
  p`` gives four of these per call, in every iteration;
* **an adjoint list's fixed items are summed in local variables inside a loop**: when a
  loop changes ``bp`` only by ``bp[3] += e`` (and ``-=``) at constant positions and nothing
  in the loop reads ``bp``, the loop adds to a local ``bp_3`` instead, and ``bp[3] +=
  bp_3`` follows the loop (only if the loop added anything, so that a loop that ran no
  iteration does not index ``bp``). The same sum, added up first: equal up to rounding.

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def g(p, n):
...     s = 0.0
...     for _ in range(n):
...         a = p[0]
...         s = s + a
...     __ast_ad_comment__('reverse sweep')
...     bp = zeros_like(p)
...     for _ in range(n):
...         a = p[0]
...         bp[0] += a
...     return s, bp'''
>>> print(to_source(invariants(parse_generated(src, {"zeros_like"}))), end="")
def g(p, n):
    s = 0.0
    # the same in every iteration of the loop below: computed once, if it runs
    if 0 < n:
        a = p[0]
    for _ in range(n):
        s = s + a
    # reverse sweep
    bp = zeros_like(p)
    bp_0 = 0.0
    for _ in range(n):
        bp_0 += a
    if bp_0:
        bp[0] += bp_0
    return (s, bp)
"""
from __future__ import annotations

import gast

from ..analysis.sharing import unsafe_names
from ..source import comment, comment_at
from ..templates import assign, clone, const, helper_call, name, range_call
from ..walk import NESTED, name_nodes, parameters, statements
from ..walk import walk as fast_walk

REVERSE_SWEEP = "reverse sweep"
LOOPS = (gast.For, gast.While)
HOISTED = "the same in every iteration of the loop below: computed once, if it runs"


def invariants(func: gast.FunctionDef) -> gast.FunctionDef:
    """Drop reverse recomputations of loop invariants, then sum fixed adjoint items in
    locals (see the module docstring). ``func`` is changed in place and returned."""
    start = comment_at(func.body, REVERSE_SWEEP)
    if start is None or not any(isinstance(s, LOOPS) for s in func.body[start:]) \
            or not _candidates(func, start):
        return func
    facts = _Facts(func)
    if facts.nested:
        return func  # a closure may read or change any variable: leave the loops alone
    _drop_recomputed(func.body[:start], func.body[start:], facts)
    same: dict = {}
    _hoist(func.body, facts, same)
    if same:
        for node in name_nodes(func):
            if type(node.ctx) is gast.Load and node.id in same:
                node.id = same[node.id]
    _local_sums(func, comment_at(func.body, REVERSE_SWEEP), facts)
    return func


class _Facts:
    """Counts of each name's stores and loads, and the parameters that keep their value."""

    def __init__(self, func: gast.FunctionDef):
        self.stores: dict = {}
        self.loads: dict = {}
        self.nested = False
        for node in fast_walk(func):
            if type(node) is gast.Name:
                if type(node.ctx) is not gast.Param:
                    table = self.loads if type(node.ctx) is gast.Load else self.stores
                    table[node.id] = table.get(node.id, 0) + 1
            elif node is not func and isinstance(node, NESTED):
                self.nested = True
        self.func = func
        self.params = {p.id for p in parameters(func)} - set(self.stores)
        self._frozen = None

    @property
    def frozen(self) -> set:
        """The parameters never assigned, changed in place or passed on (computed on first
        use: most loops have no candidate that reads a parameter)."""
        if self._frozen is None:
            self._frozen = self.params - unsafe_names(self.func.body)
        return self._frozen

    def invariant(self, node: gast.expr) -> bool:
        """Is ``node``'s value the same wherever the function computes it? Arithmetic on
        numbers and on constant items of frozen parameters."""
        names: set = set()
        return _built_of(node, self.params, names) and names <= self.frozen


def _built_of(node: gast.expr, params: set, names: set) -> bool:
    """Is ``node`` arithmetic on numbers and on constant items of ``params``? The names it
    reads are added to ``names``."""
    kind = type(node)
    if kind is gast.Constant:
        return True
    if kind is gast.Name:
        names.add(node.id)
        return node.id in params
    if kind is gast.Subscript:
        return type(node.value) is gast.Name and _built_of(node.slice, params, names) \
            and _built_of(node.value, params, names)
    if kind is gast.BinOp:
        return _built_of(node.left, params, names) and _built_of(node.right, params, names)
    if kind is gast.UnaryOp:
        return _built_of(node.operand, params, names)
    return False


def _top_assigns(loop: gast.stmt) -> dict:
    """``name -> statement`` for the single-name assignments at the top of a loop's body."""
    return {s.targets[0].id: s for s in loop.body
            if type(s) is gast.Assign and len(s.targets) == 1
            and type(s.targets[0]) is gast.Name}


def _statements(stmts: list) -> list:
    """Every statement in ``stmts``, nested ones included (expressions are not entered)."""
    return [s for stmt in stmts for s in statements(stmt)]


def _loops(stmts: list):
    return (s for s in _statements(stmts) if isinstance(s, LOOPS))


def _candidates(func: gast.FunctionDef, start: int) -> bool:
    """A quick look, before counting every name: is there a loop assignment built only of
    parameters, or a fixed item adjoint changed in a reverse loop?"""
    params = {p.id for p in parameters(func)}
    for loop in _loops(func.body):
        for stmt in loop.body:
            if type(stmt) is gast.Assign and _built_of(stmt.value, params, set()):
                return True
    return any(type(s) is gast.AugAssign and _item(s.target) is not None
               for loop in _loops(func.body[start:]) for s in _statements(loop.body))


def _drop_recomputed(forward: list, reverse: list, facts: _Facts) -> None:
    computed = {}
    for loop in _loops(forward):
        for ident, stmt in _top_assigns(loop).items():
            if facts.stores.get(ident) == 2 and facts.invariant(stmt.value):
                computed[ident] = gast.dump(stmt.value)
    if not computed:
        return
    for loop in _loops(reverse):
        drop = {ident: s for ident, s in _top_assigns(loop).items()
                if computed.get(ident) == gast.dump(s.value)}
        if drop:
            gone = {id(s) for s in drop.values()}
            loop.body = [s for s in loop.body if id(s) not in gone] or [gast.Pass()]
            for ident in drop:
                facts.stores[ident] -= 1


# ------------------------------------------------------------------------ hoisting

def _hoist(body: list, facts: _Facts, same: dict) -> None:
    """Move each ``for`` loop's invariant top-level assignments in front of it, under
    ``if <the loop runs>:``, everywhere in ``body``; the same value is computed once, and
    ``same`` maps each name that held a repeat to the one that keeps it."""
    k = 0
    while k < len(body):
        stmt = body[k]
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                _hoist(inner, facts, same)
        for handler in getattr(stmt, "handlers", ()):
            _hoist(handler.body, facts, same)
        guard = _runs(stmt) if type(stmt) is gast.For else None
        if guard is not None:
            moved = [s for s in stmt.body if _movable(s, facts)]
            if moved:
                ids = {id(s) for s in moved}
                stmt.body = [s for s in stmt.body if id(s) not in ids] or [gast.Pass()]
                moved = _once(moved, same)
                body[k:k] = [comment(HOISTED), gast.If(test=guard, body=moved, orelse=[])]
                k += 2
        k += 1


def _once(moved: list, same: dict) -> list:
    """``moved`` without repeats: ``a_2 = p[0]`` after ``a_1 = p[0]`` goes (its readers read
    ``a_1``: both are assigned only here, under the same test), and so does a second
    ``unpacked(p, 4)``."""
    first: dict = {}
    out = []
    for stmt in moved:
        text = gast.dump(stmt.value)
        if text in first:
            if type(stmt) is gast.Assign:
                same[stmt.targets[0].id] = first[text]
            continue
        first[text] = stmt.targets[0].id if type(stmt) is gast.Assign else None
        out.append(stmt)
    return out


def _movable(stmt: gast.stmt, facts: _Facts) -> bool:
    """``a = <invariant>`` with ``a`` assigned nowhere else, or ``unpacked(p, 2)``, the
    check of ``a, b = p``, for an invariant ``p``."""
    if type(stmt) is gast.Assign:
        return len(stmt.targets) == 1 and type(stmt.targets[0]) is gast.Name \
            and facts.stores.get(stmt.targets[0].id) == 1 and facts.invariant(stmt.value)
    return type(stmt) is gast.Expr and helper_call(stmt.value) == "unpacked" \
        and all(facts.invariant(arg) for arg in stmt.value.args)


def _bound(node: gast.expr) -> bool:
    return type(node) is gast.Name or (type(node) is gast.Constant
                                        and type(node.value) is int)


def _runs(loop: gast.For) -> gast.expr | None:
    """A test that is true exactly when ``for _ in range(a[, b])`` (or ``reversed`` of it)
    runs at least once; None for other loops. The bounds must be names or numbers (read
    twice, the same)."""
    it = loop.iter
    if helper_call(it) == "reversed" and len(it.args) == 1:
        it = it.args[0]
    if not range_call(it) or not 1 <= len(it.args) <= 2 \
            or not all(_bound(a) for a in it.args):
        return None
    low, high = it.args if len(it.args) == 2 else (const(0), it.args[0])
    return gast.Compare(left=clone(low), ops=[gast.Lt()], comparators=[clone(high)])


# ------------------------------------------------------------------------ local sums

def _local_sums(func: gast.FunctionDef, start: int, facts: _Facts) -> None:
    """Each top-level reverse loop whose fixed adjoint items can be summed in locals."""
    taken = set(facts.stores) | set(facts.loads)
    body = func.body
    k = start
    while k < len(body):
        loop = body[k]
        if isinstance(loop, LOOPS):
            sums = _summable(loop, body[:k], facts)
            if sums:
                before, after = _rewrite(loop, sums, taken)
                body[k:k + 1] = before + [loop] + after
                k += len(before) + len(after)
        k += 1


def _item(target: gast.expr) -> tuple | None:
    """``(name, position)`` for a target ``name[<int>]``."""
    if type(target) is gast.Subscript and type(target.value) is gast.Name \
            and type(target.slice) is gast.Constant and type(target.slice.value) is int:
        return target.value.id, target.slice.value
    return None


def _summable(loop: gast.stmt, before: list, facts: _Facts) -> set:
    """Names ``bp`` that the loop only changes by ``bp[k] += e`` / ``-=`` and never reads,
    each made by ``bp = zeros_like(...)`` before the loop (a new list no other name holds)."""
    items, seen = set(), {}
    for node in fast_walk(loop):
        if type(node) is gast.AugAssign and type(node.op) in (gast.Add, gast.Sub):
            item = _item(node.target)
            if item is not None:
                items.add(item[0])
                seen[id(node.target.value)] = item[0]
    if not items:
        return set()
    used = {n.id for n in fast_walk(loop) if type(n) is gast.Name and id(n) not in seen}
    fresh = {s.targets[0].id for s in before if type(s) is gast.Assign
             and len(s.targets) == 1 and type(s.targets[0]) is gast.Name
             and helper_call(s.value) == "zeros_like"}
    return {b for b in items - used - _passed_on(before)
            if b in fresh and facts.stores.get(b) == 1}


def _passed_on(stmts: list) -> set:
    """Names loaded by ``stmts`` other than as a subscript's base (``bp[0] += e`` reads
    ``bp`` but gives no other name its list; ``a = bp`` or ``f(bp)`` might)."""
    bases = {id(n.value) for s in stmts for n in fast_walk(s) if type(n) is gast.Subscript}
    return {n.id for s in stmts for n in fast_walk(s) if type(n) is gast.Name
            and type(n.ctx) is gast.Load and id(n) not in bases}


def _rewrite(loop: gast.stmt, sums: set, taken: set) -> tuple:
    """Replace ``bp[k] op= e`` by ``bp_k op= e`` in ``loop``; the statements to put before
    and after it."""
    locals_ = {}
    for node in fast_walk(loop):
        if type(node) is gast.AugAssign:
            item = _item(node.target)
            if item is not None and item[0] in sums:
                if item not in locals_:
                    locals_[item] = _fresh(f"{item[0]}_{item[1]}", taken)
                node.target = name(locals_[item], store=True)
    before = [assign(local, const(0.0)) for local in locals_.values()]
    after = [gast.If(test=name(local), orelse=[], body=[gast.AugAssign(
        target=gast.Subscript(value=name(b), slice=const(k), ctx=gast.Store()),
        op=gast.Add(), value=name(local))]) for (b, k), local in locals_.items()]
    return before, after


def _fresh(stem: str, taken: set) -> str:
    candidate, k = stem, 0
    while candidate in taken:
        k += 1
        candidate = f"{stem}_{k}"
    taken.add(candidate)
    return candidate
