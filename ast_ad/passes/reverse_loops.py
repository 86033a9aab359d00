"""Reverse pass, control flow: ``if`` on its saved test, ``for`` over the reversed range (or
the first trip-count values), ``while`` as a ``for`` over its trip count; pure loop
temporaries recomputed instead of taped."""
from __future__ import annotations

import gast

from ..ops import classify
from ..templates import assign, call, const, name
from ..walk import name_nodes
from .sweeps import (
    _changed_and_free,
    _count,
    _load_copy,
    _names,
)


def _positions(body: list) -> tuple[dict, dict]:
    """For each name, the positions in ``body`` of the statements that store it, and of
    those that read it (nested statements count at their top-level statement)."""
    stores: dict = {}
    reads: dict = {}
    for k, stmt in enumerate(body):
        for node in name_nodes(stmt):
            table = reads if isinstance(node.ctx, gast.Load) else stores
            table.setdefault(node.id, []).append(k)
    return stores, reads


def _definition(body: list, at: list, target: str) -> gast.Assign | None:
    """The single top-level ``target = value`` of the loop body, if that is its only store."""
    if len(at) != 1:
        return None
    stmt = body[at[0]]
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == target:
        return stmt
    return None


def _first_uses(redo: list, names_r: list) -> dict:
    """Where each recomputed temporary first appears in the reverse body."""
    return {t: next((k for k, names in enumerate(names_r) if t in names), len(names_r))
            for _, t, _ in redo}


def _in_order(redo: list, first: dict, size: int) -> list:
    """The recomputations that can each go before their first reverse reader (``first``:
    its position in a reverse body of ``size`` statements): one that reads another
    recomputed temporary must not come before that one's own place (it would compute it
    before its inputs are restored); such a reader stays on the tape."""
    redo = [r for r in redo if first[r[1]] < size]  # not read: prune drops it
    while True:
        chosen = {t for _, t, _ in redo}
        kept = [r for r in redo if all(first[u] <= first[r[1]]
                                       for u in _names(r[2].value) & chosen)]
        if len(kept) == len(redo):
            return kept
        redo = kept


def _insert_before_readers(body_r: list, first: dict, redo: list, drop: set) -> list:
    """``body_r`` without the dropped pops, each recomputation just before the first
    statement that reads its temporary (one that feeds another comes first)."""
    before: dict = {}
    for _, t, stmt in sorted(redo, key=lambda r: (first[r[1]], r[0])):
        before.setdefault(first[t], []).append(assign(t, _load_copy(stmt.value)))
    out: list = []
    for k, stmt in enumerate(body_r):
        out += before.get(k, ())
        if id(stmt) not in drop:
            out.append(stmt)
    return out


def _restored(var: str, at: list, taped: dict, start: int, end: int) -> bool:
    """Is every store of ``var`` in the loop body a taped top-level one, none of them in
    ``(start, end]``? Then the reverse sweep holds ``var``'s value at ``start`` from the
    reverse of ``end`` down to the reverse of ``start``."""
    return bool(at) and len(taped.get(var, ())) == len(at) \
        and not any(start < k <= end for k in at)


class LoopAdjoints:
    """Mixin of :class:`Reverse`."""

    # ------------------------------------------------------------------ control flow
    def stmt_If(self, stmt: gast.If) -> tuple[list, list]:
        body_f, body_r = self.block(stmt.body, stmt.lineno)
        else_f, else_r = self.block(stmt.orelse, stmt.lineno)
        fwd = gast.If(test=stmt.test, body=body_f, orelse=else_f)
        rev = gast.If(test=_load_copy(stmt.test), body=body_r or [gast.Pass()], orelse=else_r)
        return [fwd], ([rev] if body_r or else_r else [])

    def loop_body(self, stmt: gast.stmt) -> tuple[list, list]:
        self.depth += 1
        try:
            return self.block(stmt.body, stmt.lineno)
        finally:
            self.depth -= 1

    def stmt_For(self, stmt: gast.For) -> tuple[list, list]:
        body_f, body_r = self.loop_body(stmt)
        var = stmt.target.id
        body_f, body_r = self.recompute(stmt, body_f, body_r, {var})
        if var in self.act.adjoint_names:
            body_r.append(assign(self.adj(var), const(0.0)))
        trip = self.norm.trips.get(stmt)
        if trip is not None:
            body_f = [_count(trip)] + body_f
        fwd = gast.For(target=stmt.target, iter=stmt.iter, body=body_f, orelse=[],
                       type_comment=None)
        rev: list = []
        if body_r:
            reads_var = any(n.id == var for s in body_r for n in self.names_made(s))
            rng = _load_copy(stmt.iter)
            if trip is not None:  # the loop may have left early: replay the first _trip values
                rng = gast.Subscript(value=rng, slice=gast.Slice(lower=None, upper=name(trip),
                                                                 step=None), ctx=gast.Load())
            it = call("reversed", rng) if reads_var else rng
            rev = [gast.For(target=name(var, store=True), iter=it, body=body_r, orelse=[],
                            type_comment=None)]
        return self.bracket(stmt.target, [fwd], rev)

    def recompute(self, loop: gast.stmt, body_f: list, body_r: list,
                  loop_vars: set) -> tuple[list, list]:
        """Scalar mode: a temporary of the loop body that is a pure function of the loop
        variable and of values the loop does not change is recomputed at the top of each
        reverse iteration instead of being pushed and popped (cheaper than the tape)."""
        if self.array_mode:
            return body_f, body_r
        changed, free = _changed_and_free(loop, self.local)
        available = set(loop_vars) | (self.local - changed) | free
        in_body = {id(s) for s in body_f}
        pairs = {var: (push, pop) for push, pop, var in self.out.pairs
                 if push is not None and id(push) in in_body}
        steps: list = []
        for stmt in loop.body:
            target = stmt.targets[0].id if isinstance(stmt, gast.Assign) and isinstance(
                stmt.targets[0], gast.Name) else None
            if target is not None and self.all_defs.get(target) == 1 \
                    and target not in self.norm.trips.values() \
                    and self.pure(stmt.value) and _names(stmt.value) <= available:
                available.add(target)
                steps.append((target, stmt))
        pops = {id(pop) for _, pop in pairs.values()}
        read = {n.id for s in body_r if id(s) not in pops for n in self.names_made(s)
                if isinstance(n.ctx, gast.Load)}
        needed = read & set(pairs) & {t for t, _ in steps}
        for target, stmt in reversed(steps):  # what a needed recomputation reads is needed
            if target in needed:
                needed |= _names(stmt.value) & {t for t, _ in steps}
        if not needed & set(pairs):
            return self.recompute_at_use(loop, body_f, body_r, available)
        drop = {id(s) for var in needed if var in pairs for s in pairs[var]}
        self.out.pairs = [p for p in self.out.pairs if id(p[1]) not in drop]
        redo = [assign(t, _load_copy(stmt.value)) for t, stmt in steps if t in needed]
        return self.recompute_at_use(loop, [s for s in body_f if id(s) not in drop],
                                     redo + [s for s in body_r if id(s) not in drop],
                                     available)

    def recompute_at_use(self, loop: gast.stmt, body_f: list, body_r: list,
                         available: set) -> tuple[list, list]:
        """Scalar mode: a loop temporary ``t = b * x`` (an operation, not a copy) read after its
        definition only, whose
        inputs are unchanged in the loop or changed only by taped assignments outside the
        stretch from ``t``'s definition to its last reader, is computed again just before
        the reverse sweep's first read of it instead of being pushed and popped: by then the
        reverse sweep has restored every input to its value at ``t``'s definition."""
        in_body = {id(s) for s in body_f}
        taped: dict = {}
        for push, pop, var in self.out.pairs:
            if push is not None and id(push) in in_body:
                taped.setdefault(var, []).append((push, pop))
        if not taped:
            return body_f, body_r
        stores, reads = _positions(loop.body)
        redo: list = []
        for t, brackets in taped.items():
            stmt = _definition(loop.body, stores.get(t, ()), t)
            if stmt is None or len(brackets) != 1 or self.all_defs.get(t) != 1 \
                    or t in self.norm.trips.values() or isinstance(stmt.value, gast.Name) \
                    or not self.pure(stmt.value):
                continue
            at, used = stores[t][0], reads.get(t, [])
            if not used or min(used) <= at or not all(
                    v in available or _restored(v, stores.get(v, ()), taped, at, max(used))
                    for v in _names(stmt.value) - {t}):
                continue
            redo.append((at, t, stmt))
        pops = {id(taped[t][0][1]) for _, t, _ in redo}  # a temporary's pop is no read
        names_r = [set() if id(s) in pops else {n.id for n in self.names_made(s)}
                   for s in body_r]
        first = _first_uses(redo, names_r)
        redo = _in_order(redo, first, len(body_r))
        if not redo:
            return body_f, body_r
        drop = {id(s) for _, t, _ in redo for s in taped[t][0]}
        self.out.pairs = [p for p in self.out.pairs if id(p[1]) not in drop]
        body_f = [s for s in body_f if id(s) not in drop]
        return body_f, _insert_before_readers(body_r, first, redo, drop)

    def names_made(self, stmt: gast.stmt) -> list:
        """The Name nodes under a reverse statement, listed once: the statements this pass
        makes do not change in it (loops read their reverse bodies' names again)."""
        hit = self._made_names.get(id(stmt))
        if hit is None or hit[0] is not stmt:
            hit = self._made_names[id(stmt)] = (stmt, name_nodes(stmt))
        return hit[1]

    def pure(self, value: gast.expr) -> bool:
        op = classify(value, self.calls)
        if op.kind == "rule":
            return op.key.split(".")[0] in ("operator", "math", "builtins")
        return op.kind in ("getitem", "copy") or isinstance(value, (gast.Constant,
                                                                      gast.Compare))

    def stmt_While(self, stmt: gast.While) -> tuple[list, list]:
        body_f, body_r = self.loop_body(stmt)
        body_f, body_r = self.recompute(stmt, body_f, body_r, set())
        trip = self.norm.trips[stmt]
        fwd = gast.While(test=stmt.test, body=[_count(trip)] + body_f, orelse=[])
        rev: list = []
        if body_r:
            rev = [gast.For(target=name(self.namer.exact("_"), store=True),
                            iter=call("range", name(trip)), body=body_r, orelse=[],
                            type_comment=None)]
        return [fwd], rev


