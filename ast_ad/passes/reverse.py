"""Reverse: emit the adjoint function, a forward sweep followed by a reverse sweep.

Input: a normalised function with its activity facts. Output: a new function
``grad_f`` (or ``value_and_grad_f``) that runs the primal statements, then, for
each active statement in reverse order, the adjoint statements filled in from
the rule table. Control flow is mirrored: ``if`` on its saved test,
``for`` over the reversed range, ``while`` as a ``for`` over its trip count.

Every assignment that may overwrite a value is bracketed by ``_push(v)`` before
it and ``v = _pop()`` after its adjoint, so the reverse sweep always reads the
primal values of the moment; the prune pass removes the pairs whose variable
the reverse sweep never reads. Adjoint variables follow ``naming``: ``bx`` for
``x``, written with ``+=`` (temporaries: ``=``, they are used once).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from ..analysis.activity import Activity
from ..analysis.overwrite import fresh_definitions
from ..errors import MissingRule
from ..ops import classify
from ..source import Parsed, comment
from ..templates import assign, aug_add, call, const, fill, name, times
from .normalize import Normalized, is_increment

SEED = "seed_scalar"


@dataclass
class Generated:
    """The adjoint function and the bookkeeping that prune needs."""

    func: gast.FunctionDef
    pushes: list = field(default_factory=list)    # (statement, variable) in the forward sweep
    pops: list = field(default_factory=list)      # (statement, variable) in the reverse sweep
    reverse_start: int = 0                        # index in func.body where the reverse begins
    value_name: str | None = None


class Reverse:
    """Build forward and reverse sweeps statement by statement."""

    def __init__(self, parsed: Parsed, norm: Normalized, activity: Activity, calls: dict,
                 wrt: list[str], kind: str, modules: dict[str, str]):
        self.parsed = parsed
        self.norm = norm
        self.act = activity
        self.calls = calls
        self.wrt = wrt
        self.kind = kind
        self.modules = modules
        self.namer = norm.namer
        self.fresh = fresh_definitions(norm.func)
        self.temp_defs = _count_defs(norm.func, norm.temps)
        self.out = Generated(func=None)
        self.returned: gast.expr | None = None

    # ------------------------------------------------------------------ function
    def run(self) -> Generated:
        func = self.norm.func
        body = func.body
        ret = body[-1] if body and isinstance(body[-1], gast.Return) else None
        fwd, rev = self.block(body[:-1] if ret else body)
        self.returned = ret.value if ret is not None else const(None)
        seed = self.seed(self.returned)
        inits = [assign(self.adj(v), const(0.0)) for v in sorted(self.user_adjoints())
                 if not self.is_seeded(v)]
        head = [comment("reverse sweep")] + seed + inits
        tail = [gast.Return(value=self.result())]
        new = gast.FunctionDef(name=f"{self.kind}_{func.name}", args=func.args,
                               body=fwd + head + rev + tail, decorator_list=[],
                               returns=None, type_comment=None, type_params=[])
        gast.copy_location(new, func)
        self.out.func = new
        self.out.reverse_start = len(fwd)
        return self.out

    def user_adjoints(self) -> set[str]:
        return {v for v in self.act.adjoint_names if v not in self.norm.temps}

    def is_seeded(self, var: str) -> bool:
        return isinstance(self.returned, gast.Name) and self.returned.id == var

    def seed(self, value: gast.expr) -> list:
        checked = call(SEED, _load_copy(value), const(self.norm.func.name))
        if isinstance(value, gast.Name) and value.id in self.act.adjoint_names:
            return [assign(self.adj(value.id), checked)]
        return [gast.Expr(value=checked)]

    def result(self) -> gast.expr:
        grads = [name(self.adj(w)) if w in self.act.adjoint_names else const(0.0)
                 for w in self.wrt]
        grad = grads[0] if len(grads) == 1 else gast.Tuple(elts=grads, ctx=gast.Load())
        if self.kind == "value_and_grad":
            return gast.Tuple(elts=[_load_copy(self.returned), grad], ctx=gast.Load())
        return grad

    def adj(self, var: str) -> str:
        return self.namer.adjoint(var)

    # ------------------------------------------------------------------ blocks
    def block(self, stmts: list, parent_line: int = 0) -> tuple[list, list]:
        """Forward statements in order; reverse statements grouped under line comments
        (none for lines that belong to the enclosing statement)."""
        fwd: list = []
        groups: list = []  # (lineno, reverse statements) in forward order
        for stmt in stmts:
            f, r = getattr(self, "stmt_" + type(stmt).__name__, self.stmt_other)(stmt)
            fwd.extend(f)
            if r:
                groups.append((getattr(stmt, "lineno", 0), r))
        rev: list = []
        last = parent_line
        for lineno, r in reversed(groups):
            if lineno != last:
                rev.append(comment(f"line {lineno}: {self.parsed.line_text(lineno)}"))
                last = lineno
            rev.extend(r)
        return fwd, rev

    def stmt_other(self, stmt: gast.stmt) -> tuple[list, list]:
        return [stmt], []  # expression statements, assert, raise: forward only

    def bracket(self, definition: gast.Name, fwd: list, rev: list) -> tuple[list, list]:
        """Push the old value before a non-fresh assignment and pop it after its adjoint."""
        if definition in self.fresh:
            return fwd, rev
        var = definition.id
        push = gast.Expr(value=call("_push", name(var)))
        pop = assign(var, call("_pop"))
        self.out.pushes.append((push, var))
        self.out.pops.append((pop, var))
        return [push] + fwd, rev + [pop]

    # ------------------------------------------------------------------ assignment
    def stmt_Assign(self, stmt: gast.Assign) -> tuple[list, list]:
        target = stmt.targets[0]
        var = target.id
        rev: list = []
        increment = is_increment(var, stmt.value)
        if self.act.active(target):
            rev = self.adjoint_of(var, stmt.value, increment)
        if var in self.act.adjoint_names and not increment and self.kills_adjoint(target):
            rev.append(assign(self.adj(var), const(0.0)))
        return self.bracket(target, [stmt], rev)

    def kills_adjoint(self, target: gast.Name) -> bool:
        """Must ``bv = 0`` follow this assignment's adjoint? Not for a first write, nor for a
        temporary written once (its adjoint is assigned afresh at its single use)."""
        if target.id in self.norm.temps:
            return self.temp_defs.get(target.id, 0) > 1 and target not in self.fresh
        return target not in self.fresh

    def adjoint_of(self, var: str, value: gast.expr, increment: bool) -> list:
        op = classify(value, self.calls)
        if op.kind == "call":
            raise self.missing_rule(op)
        g = name(self.adj(var))
        holes = {p: a for a, p in op.args if p is not None}
        if op.rule is not None:
            for param, default in op.rule.defaults.items():
                holes.setdefault(param, gast.parse(default, mode="eval").body)
        holes["ans"] = name(var)
        holes["g"] = g
        out: list = []
        written: set = set()
        for atom, param in op.diff_args():
            if not isinstance(atom, gast.Name) or atom.id not in self.act.adjoint_names:
                continue
            if increment and atom.id == var:
                continue
            if param is None:
                contribution = g
            else:
                holes_here = dict(holes, **{param: atom}) if op.rule.variadic else holes
                form, text = op.rule.expression(param)
                filled = fill(text, holes_here, self.modules)
                contribution = times(g, filled) if form == "partial" else filled
            out.append(self.accumulate(atom.id, contribution, written))
        return out

    def accumulate(self, var: str, value: gast.expr, written: set) -> gast.stmt:
        """``bv += value``; for a temporary's single use, ``bv = value``."""
        target = self.adj(var)
        if var in self.norm.temps and var not in written:
            written.add(var)
            return assign(target, value)
        return aug_add(target, value)

    def missing_rule(self, op) -> MissingRule:
        target = self.calls.get(op.node)
        label = target.label if target is not None else "this call"
        key = op.key or label
        if target is not None and target.kind == "function":
            hint = ("Calls to your own functions are not differentiated yet; inline the "
                    f"helper, or register its derivative: ast_ad.register_rule({label}, "
                    "\"x\", x=\"<d/dx as an expression of x and ans>\").")
        else:
            hint = (f"Register one with ast_ad.register_rule({label}, \"x\", "
                    "x=\"<d/dx as an expression of x and ans>\"), or mark it with "
                    f"ast_ad.register_nondiff({label}) if its derivative is zero.")
        return MissingRule(f"no derivative rule for {key}() called with these arguments "
                           f"in {self.norm.func.name}()", self.parsed.location(op.node), hint)

    # ------------------------------------------------------------------ control flow
    def stmt_If(self, stmt: gast.If) -> tuple[list, list]:
        body_f, body_r = self.block(stmt.body, stmt.lineno)
        else_f, else_r = self.block(stmt.orelse, stmt.lineno)
        fwd = gast.If(test=stmt.test, body=body_f, orelse=else_f)
        rev = gast.If(test=_load_copy(stmt.test), body=body_r or [gast.Pass()], orelse=else_r)
        return [fwd], ([rev] if body_r or else_r else [])

    def stmt_For(self, stmt: gast.For) -> tuple[list, list]:
        body_f, body_r = self.block(stmt.body, stmt.lineno)
        var = stmt.target.id
        if var in self.act.adjoint_names:
            body_r.append(assign(self.adj(var), const(0.0)))
        trip = self.norm.trips.get(stmt)
        if trip is not None:
            body_f = [_count(trip)] + body_f
        fwd = gast.For(target=stmt.target, iter=stmt.iter, body=body_f, orelse=[],
                       type_comment=None)
        rev: list = []
        if body_r:
            reads = {n.id for s in body_r for n in gast.walk(s) if isinstance(n, gast.Name)}
            rng = _load_copy(stmt.iter)
            if trip is not None:  # the loop may have left early: replay the first _trip values
                rng = gast.Subscript(value=rng, slice=gast.Slice(lower=None, upper=name(trip),
                                                                 step=None), ctx=gast.Load())
            it = call("reversed", rng) if var in reads else rng
            rev = [gast.For(target=name(var, store=True), iter=it, body=body_r, orelse=[],
                            type_comment=None)]
        return self.bracket(stmt.target, [fwd], rev)

    def stmt_While(self, stmt: gast.While) -> tuple[list, list]:
        body_f, body_r = self.block(stmt.body, stmt.lineno)
        trip = self.norm.trips[stmt]
        fwd = gast.While(test=stmt.test, body=[_count(trip)] + body_f, orelse=[])
        rev: list = []
        if body_r:
            rev = [gast.For(target=name(self.namer.exact("_"), store=True),
                            iter=call("range", name(trip)), body=body_r, orelse=[],
                            type_comment=None)]
        return [fwd], rev


def _count(trip: str) -> gast.stmt:
    return gast.AugAssign(target=name(trip, store=True), op=gast.Add(), value=const(1))


def _load_copy(node: gast.expr) -> gast.expr:
    from .normalize import load_copy
    return load_copy(node)


def _count_defs(func: gast.FunctionDef, names: set) -> dict:
    counts: dict = {}
    for node in gast.walk(func):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) and node.id in names:
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts
