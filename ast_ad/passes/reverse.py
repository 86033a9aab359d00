"""Reverse: emit the adjoint function, a forward sweep followed by a reverse sweep.

Input: a normalised function with its activity facts. Output: a new function
``grad_f`` (or ``value_and_grad_f``) that runs the primal statements, then, for
each active statement in reverse order, the adjoint statements filled in from
the rule table. Control flow is mirrored: ``if`` on its saved test,
``for`` over the reversed range, ``while`` as a ``for`` over its trip count.

The parts live in reverse_calls.py (calls), reverse_containers.py (containers) and
reverse_loops.py (control flow); shared names in sweeps.py.

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
from ..analysis.kinds import listlike_names, numeric_names
from ..analysis.overwrite import fresh_definitions
from ..nodes import make
from ..ops import classify
from ..source import Parsed, comment
from ..templates import assign, aug_add, call, const, fill, helper, name, parse_template, times
from ..walk import nodes_of
from .normalize import Normalized, is_increment
from .resolve import local_names
from .reverse_calls import CallAdjoints
from .reverse_containers import ContainerAdjoints
from .reverse_loops import LoopAdjoints
from .simplify import fold
from .sweeps import ADD, COTANGENT, ITEM, SCALAR, SEED, _load_copy


@dataclass
class Generated:
    """The adjoint function and the bookkeeping that prune needs."""

    func: gast.FunctionDef
    pairs: list = field(default_factory=list)     # (push or None, restore, variable)
    reverse_start: int = 0                        # index in func.body where the reverse begins
    records: set = field(default_factory=set)     # call records, unbound until the first call
    split_at: int = 0                             # after prune: where the reverse begins
    returned: gast.expr | None = None


class Reverse(CallAdjoints, ContainerAdjoints, LoopAdjoints):
    """Build forward and reverse sweeps statement by statement."""

    def __init__(self, parsed: Parsed, norm: Normalized, activity: Activity, calls: dict,
                 wrt: list[str], kind: str, linker=None):
        self.linker = linker
        self.depth = 0
        self.wrt_tuple = False
        self.array_mode = False
        self.parsed = parsed
        self.norm = norm
        self.act = activity
        self.calls = calls
        self.wrt = wrt
        self.kind = kind
        self.namer = norm.namer
        self.fresh = fresh_definitions(norm.func)
        self.numeric = numeric_names(norm.func, calls)
        self.local = local_names(norm.func)
        self.closure_vars = self.check_closures()
        self.materialized: set = set()
        self._numeric: set | None = None
        self.listlike = listlike_names(norm.func)
        self.all_defs = _count_defs(norm.func)
        self.out = Generated(func=None)
        self.returned: gast.expr | None = None
        self._made_names: dict = {}  # id(statement made here) -> (statement, its Names)

    # ------------------------------------------------------------------ function
    def run(self) -> Generated:
        func = self.norm.func
        self.materialized = self.materialize()
        body = func.body
        ret = body[-1] if body and isinstance(body[-1], gast.Return) else None
        fwd, rev = self.block(body[:-1] if ret else body)
        self.returned = ret.value if ret is not None and ret.value is not None else const(None)
        if self.kind == "split":
            inits = [self.init(v) for v in sorted(self.user_adjoints())]
            head = [comment("reverse sweep")] + inits + self.split_seed(self.returned)
        else:
            seed = self.seed(self.returned)
            inits = [self.init(v) for v in sorted(self.user_adjoints()) if not self.is_seeded(v)]
            head = [comment("reverse sweep")] + seed + inits
        tail = [gast.Return(value=self.result())]
        new = gast.FunctionDef(name=f"{self.kind}_{func.name}", args=func.args,
                               body=fwd + head + rev + tail, decorator_list=[],
                               returns=None, type_comment=None, type_params=[])
        gast.copy_location(new, func)
        self.out.func = new
        self.out.reverse_start = len(fwd)
        self.out.returned = self.returned
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

    def split_seed(self, value: gast.expr) -> list:
        """``bv += _g`` for the returned variable (``_g[k]`` for a returned tuple)."""
        written: set = set()
        if isinstance(value, gast.Tuple):
            pairs = [(e, call(ITEM, helper(COTANGENT), const(k)))
                     for k, e in enumerate(value.elts)]
        else:
            pairs = [(value, helper(COTANGENT))]
        return [self.accumulate(e.id, g, written, generic=True) for e, g in pairs
                if isinstance(e, gast.Name) and e.id in self.act.adjoint_names]

    def result(self) -> gast.expr:
        grads = [self.gradient(w) for w in self.wrt]
        if self.kind == "split":
            return gast.Tuple(elts=grads, ctx=gast.Load())
        single = len(grads) == 1 and not self.wrt_tuple
        grad = grads[0] if single else gast.Tuple(elts=grads, ctx=gast.Load())
        if self.kind == "value_and_grad":
            return gast.Tuple(elts=[_load_copy(self.returned), grad], ctx=gast.Load())
        return grad

    def gradient(self, param: str) -> gast.expr:
        """``bx``; with arrays, ``like(bx, x)`` (the shape and float dtype of ``x``)."""
        if param not in self.act.adjoint_names:  # zeros shaped like it (a list: a list)
            return call("zeros_like", name(param)) if self.array_mode or self.kind != "split" \
                else const(0.0)
        if self.array_mode and self.kind != "split":
            return call("like", name(self.adj(param)), name(param))
        return name(self.adj(param))

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
        return self.bracket_name(definition.id, fwd, rev)

    # ------------------------------------------------------------------ assignment
    def stmt_Assign(self, stmt: gast.Assign) -> tuple[list, list]:
        target = stmt.targets[0]
        if isinstance(target, gast.Subscript):
            return self.setitem(stmt)
        var = target.id
        rev: list = []
        increment = is_increment(var, stmt.value)
        fwd: list = [stmt]
        record = None
        if self.act.active(target):
            op = classify(stmt.value, self.calls)
            if self.is_user_call(op):
                fwd, rev, record = self.user_call(var, op)
            elif self.is_dynamic_call(op):
                fwd, rev, record = self.dynamic_call(var, op)
            else:
                rev = self.adjoint_of(var, stmt.value, increment)
        if isinstance(stmt.value, gast.Call) and classify(stmt.value, self.calls).kind == "pop":
            rev = rev + self.unpop(var, stmt.value)
        if var in self.act.adjoint_names and not increment and self.kills_adjoint(target):
            rev.append(assign(self.adj(var), const(0.0)))
        fwd, rev = self.bracket(target, fwd, rev)
        if record is not None and self.depth:  # a call record made in a loop: keep each one
            fwd, rev = self.bracket_name(record, fwd, rev)
        return fwd, rev

    def bracket_name(self, var: str, fwd: list, rev: list) -> tuple[list, list]:
        push = make(gast.Expr, value=call("_push", name(var)))
        pop = assign(var, call("_pop"))  # (tape names are renamed apart from the user's)
        self.out.pairs.append((push, pop, var))
        return [push] + fwd, rev + [pop]

    def kills_adjoint(self, target: gast.Name) -> bool:
        """Must ``bv = 0`` follow this assignment's adjoint? Not for a first write, nor for a
        temporary written once (its adjoint is assigned afresh at its single use)."""
        if target.id in self.norm.temps:
            return self.all_defs.get(target.id, 0) > 1 and target not in self.fresh
        return target not in self.fresh

    def adjoint_of(self, var: str, value: gast.expr, increment: bool) -> list:
        op = classify(value, self.calls)
        if op.kind == "call":
            raise self.missing_rule(op)
        if op.kind in ("getitem", "build", "pop"):
            return getattr(self, "adjoint_" + op.kind)(var, op)
        self.refuse_sequence_arithmetic(op)
        g = name(self.adj(var))
        holes = {p: a for a, p in op.args if p is not None}
        if op.rule is not None:
            for param, default in op.rule.defaults.items():
                if param not in holes:  # (fill copies the parsed default where it goes)
                    holes[param] = parse_template(default)
        holes["ans"] = name(var)
        holes["g"] = g
        contributions: list = []
        for atom, param in op.diff_args():
            if not isinstance(atom, gast.Name) or atom.id not in self.act.adjoint_names:
                continue
            if increment and atom.id == var:
                continue
            if param is None:  # a copy
                contributions.append((atom.id, g, atom.id not in self.numeric))
                continue
            holes_here = dict(holes, **{param: atom}) if op.rule.variadic else holes
            form, text = op.rule.expression(param)
            filled = fill(text, holes_here, op.rule.namespace)
            contribution = fold(times(g, filled) if form == "partial" else filled)
            if form == "partial" and self.array_mode and not op.key.startswith(SCALAR):
                shared = isinstance(contribution, gast.Name)  # g itself: must be copied
                contribution = call("unbroadcast" if shared else "reduce_to", contribution,
                                    name(atom.id))
            contributions.append((atom.id, contribution, form == "vjp"))
        written: set = set()
        return [self.accumulate(v, value, written, generic=generic)
                for v, value, generic in _merged(contributions)]

    # ------------------------------------------------------------------ containers
    def accumulate(self, var: str, value: gast.expr, written: set,
                   generic: bool = False) -> gast.stmt:
        """``bv += value``; for a temporary's single use, ``bv = value``; where the value may
        be a container (``generic``), ``bv = add(bv, value)``."""
        target = self.adj(var)
        if var in self.norm.temps and var not in written:
            written.add(var)
            return assign(target, value)
        if generic:
            return assign(target, call(ADD, name(target), value))
        return aug_add(target, value)

def _merged(contributions: list) -> list:
    """``contributions`` with identical numeric ones to the same variable summed once:
    ``x * x`` gives ``bx += 2.0 * (g * x)``, not the same product computed and added twice
    (``a + a == 2 * a`` exactly in floating point). Containers' (``generic``) stay apart."""
    if len({var for var, _, _ in contributions}) == len(contributions):
        return contributions  # the common case: one contribution per variable
    groups: dict = {}
    for var, value, generic in contributions:
        groups.setdefault((var, gast.dump(value), generic), []).append(value)
    out = []
    for (var, _, generic), values in groups.items():
        if len(values) > 1 and not generic:
            values = [gast.BinOp(left=const(float(len(values))), op=gast.Mult(),
                                 right=values[0])]
        out.extend((var, value, generic) for value in values)
    return out


def _count_defs(func: gast.FunctionDef) -> dict:
    """How many times each name is written (parameters included)."""
    counts: dict = {}
    for node in nodes_of(func, (gast.Name,)):
        if isinstance(node.ctx, (gast.Store, gast.Param)):
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts
