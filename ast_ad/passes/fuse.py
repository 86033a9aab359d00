"""Fuse: run a loop's adjoint inside the loop itself, when its iterations do not depend on
each other in the reverse sweep.

Input: a pruned scalar-mode adjoint (kind "grad" or "value_and_grad"). Output: the same
function where the last loop of the forward sweep and its reverse loop are one loop, if

* the reverse loop recomputes only the forward body's own primal values (the same
  statement, its inputs unchanged since), and reads from the tape only values the forward
  loop pushed in the same iteration, before it pops them: fused, they are read as the
  iteration left them, and the tape is not needed;
* a loop nested in the reverse loop (Horner's ``for c in coeffs``) passes the same checks
  statement by statement; what it computes again is set by the forward loop before it is
  read there, and read by nothing after the loop;
* its adjoints are either set in the iteration before they are read (``b_t7 = ...``), or
  only accumulated (``bx[i] += e``, ``bw -= e``: sums, whose order does not matter), or
  not changed in the loop at all (``bs``, known before the loop);
* everything the reverse sweep does before that loop (the seed, zero adjoints, the
  adjoints of statements after the loop) reads nothing the loop changes (pure forward
  statements after the loop that do not depend on it, ``_t6 = len(xs)``, move before it).

This is the common ``for i in range(n): loss += term(x[i], ...)`` loop: each term's
adjoint needs only the seed, so it is added while the term is computed, as a hand-written
gradient does, and nothing is computed twice. The seed (always 1 for a number) is set
before the loop; ``seed_scalar`` still checks the result after it. Sums are accumulated in
the forward order instead of the reverse one: the same up to rounding.
"""
from __future__ import annotations

import functools

import gast

from ..analysis.sharing import pure_call
from ..source import comment, comment_at, is_comment
from ..tally import Tally
from ..templates import const, helper_call, name, range_call
from ..walk import names as _names
from ..walk import walk as fast_walk
from .simplify import zero_writes


def fuse(func: gast.FunctionDef, adjoints: set, tally: Tally | None = None) -> gast.FunctionDef:
    """Fuse the last forward loop with its reverse loop when that is safe (see above).
    ``adjoints``: the names of adjoint variables; ``tally``: the statements' Names as
    listed for later passes (a statement this pass changes in place is forgotten there)."""
    if _Plan.of(func, adjoints, shape_only=True) is None:
        return func  # no forward loop with a matching reverse loop: nothing to try
    zero_writes(func, False, tally)  # bx = 0.0 ... bx += e: bx = e, so that bx is a local
    try:
        plan = _Plan.of(func, adjoints)
        if plan is not None:
            func.body = plan.fused()
    finally:
        _DUMPS.clear()
    return func


class _Plan:
    """The pieces of ``func.body`` and the checks that allow fusing them."""

    def __init__(self, body: list, marks: tuple, loops: tuple, adjoints: set):
        self.body, self.adjoints = body, adjoints
        self.fwd_mark, self.rev_mark = marks
        self.fwd_at, self.rev_at = loops
        self.fwd, self.rev = body[self.fwd_at], body[self.rev_at]

    @classmethod
    def of(cls, func: gast.FunctionDef, adjoints: set, shape_only: bool = False) -> _Plan | None:
        """The plan, if ``func`` may be fused; with ``shape_only``, if its loops match."""
        body = func.body
        marks = [comment_at(body, "forward sweep"), comment_at(body, "reverse sweep")]
        if None in marks:
            return None
        fwd_at = max((k for k in range(marks[0], marks[1])
                      if isinstance(body[k], gast.For)), default=None)
        rev_at = next((k for k in range(marks[1], len(body))
                       if isinstance(body[k], (gast.For, gast.While, gast.If))), None)
        if fwd_at is None or rev_at is None:
            return None
        plan = cls(body, tuple(marks), (fwd_at, rev_at), adjoints)
        if shape_only:
            return plan if plan._loops_match() and plan.seed is not None else None
        return plan if plan.allowed() else None

    # ------------------------------------------------------------------ the checks

    def allowed(self) -> bool:
        return (self._loops_match() and self.seed is not None
                and self._reverse_body_is_independent() and self._preamble_is_early())

    def _loops_match(self) -> bool:
        fwd, rev = self.fwd, self.rev
        if not (isinstance(rev, gast.For) and not fwd.orelse and not rev.orelse
                and type(fwd.target) is gast.Name and gast.dump(fwd.target) == gast.dump(
                    rev.target)):
            return False
        reversed_range = helper_call(rev.iter) == "reversed" and len(rev.iter.args) == 1
        inner = rev.iter.args[0] if reversed_range else rev.iter  # the same range: order free
        if not range_call(fwd.iter) or gast.dump(inner) != gast.dump(fwd.iter):
            return False
        jumps = (gast.Break, gast.Continue, gast.Return)
        return not any(isinstance(n, jumps) for n in fast_walk(fwd))

    @functools.cached_property
    def seed(self) -> tuple[str, gast.Call] | None:
        """The seed statement's adjoint name and ``seed_scalar`` call, or None."""
        stmt = self.body[self.rev_mark + 1]
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and type(stmt.targets[0]) is gast.Name \
                and helper_call(stmt.value) == "seed_scalar":
            return stmt.targets[0].id, stmt.value
        return None

    @functools.cached_property
    def hoisted(self) -> tuple[list, list]:
        """The forward statements after the loop, split into those that can run before it
        (pure assignments that read nothing the loop or a kept statement changes, like
        ``_t6 = len(xs)``) and those that stay after it."""
        changed = _stored(self.fwd)
        loop_reads = _reads(self.fwd)
        early: list = []
        late: list = []
        late_reads: set = set()  # what the statements kept after the loop read, so far
        for stmt in self.body[self.fwd_at + 1:self.rev_mark]:
            if isinstance(stmt, gast.Assign) and _pure(stmt) and not _reads(stmt) & changed \
                    and not _stored(stmt) & (loop_reads | changed | late_reads):
                early.append(stmt)
            else:
                late.append(stmt)
                changed |= _stored(stmt)
                late_reads |= _reads(stmt)
        return early, late

    def _changed_by_forward(self) -> set:
        """Names the forward loop, or a statement that stays after it, assigns."""
        out = _stored(self.fwd)
        for stmt in self.hoisted[1]:
            out |= _stored(stmt)
        return out

    def _preamble_is_early(self) -> bool:
        """The reverse statements before the reverse loop can run before the forward loop."""
        changed = self._changed_by_forward()
        seed = self.seed[0]
        for stmt in self.body[self.rev_mark + 2:self.rev_at]:
            if is_comment(stmt):
                continue
            if not isinstance(stmt, (gast.Assign, gast.AugAssign)) or not _pure(stmt) \
                    or _reads(stmt) & changed or _stored(stmt) & self.forward_reads:
                return False
        return seed not in self.forward_reads

    @functools.cached_property
    def forward_reads(self) -> set:
        """Names the forward loop and the forward statements after it read."""
        out: set = set()
        for stmt in self.body[self.fwd_at:self.rev_mark]:
            out |= _reads(stmt)
        return out

    def _reverse_body_is_independent(self) -> bool:
        body = [s for s in self.rev.body if not is_comment(s) and not _is_pop(s)]
        if self.taped is None or not all(_allowed(s) for s in _flat(body)):
            return False
        fwd_body = self.fwd.body
        changed_in_loop = set().union(*(_stored(s) for s in fwd_body))
        accumulated = self._accumulated(_flat(body))
        if accumulated is None:
            return False
        later = set().union(set(), *(_reads(s) for s in self.body[self.rev_at + 1:]))
        if later & ({self.fwd.target.id} | self.recomputed_names | self.taped):
            return False  # read after the reverse loop, where it held iteration 0's value
        available = changed_in_loop - self.recomputed_names - self.taped
        state = (set(), set())  # adjoints set earlier in this iteration, names read so far
        return self._independent(body, fwd_body, accumulated, available, later, state)

    def _independent(self, body: list, fwd_body: list, accumulated: set, changing: set,
                     later: set, state: tuple) -> bool:
        """Does each statement of ``body`` read only what this iteration has set (or never
        changes), and set adjoints only before it reads them? Nested loops are checked
        statement by statement, their target a local of this iteration."""
        local, read = state
        for stmt in body:
            if isinstance(stmt, gast.For):
                if stmt.orelse or _reads(stmt.iter) & (accumulated | changing) \
                        or not self._recomputable(stmt.target):
                    return False
                local.add(stmt.target.id)
                if not self._independent(stmt.body, [], accumulated, changing, later, state):
                    return False
                continue
            target = _target_name(stmt)
            if isinstance(stmt, gast.Assign) and target not in self.adjoints:
                if fwd_body:  # the forward body's own statement: dropped when fused
                    if not self._recomputed(stmt, fwd_body):
                        return False
                    continue
                # in a nested loop it runs again, from what this iteration has
                if not self._recomputable(stmt.targets[0]) \
                        or (_reads(stmt.value) - local) & (accumulated | changing):
                    return False
                local.add(target)
                continue
            reads = _reads(stmt) - local - {target}
            if reads & accumulated or reads & changing:
                return False
            if isinstance(stmt, gast.Assign):
                if type(stmt.targets[0]) is not gast.Name or target in accumulated \
                        or target in later or (target in read | _reads(stmt.value)
                                               and target not in local):
                    return False  # read before it is set: it carries over between iterations
                local.add(target)
            read |= reads
        return True

    def _recomputable(self, target: gast.expr) -> bool:
        """May a nested reverse loop set ``target`` again, once fused? Only a name that the
        forward loop sets before it reads it and nothing after the loop reads (there, the
        reverse loop's last value would be seen instead of the forward loop's)."""
        if type(target) is not gast.Name:
            return False
        ident = target.id
        after = self.hoisted[1] + self.body[self.rev_at + 1:]
        if any(ident in _reads(s) for s in after):
            return False
        for stmt in _in_order(self.fwd.body):
            if ident in _reads(stmt):
                return False
            if ident in _stored(stmt):
                return True
        return True

    @functools.cached_property
    def taped(self) -> set | None:
        """The names the forward loop pushes and the reverse loop pops back, one each, at
        the top level of both bodies, and which the reverse loop reads only before its pop:
        fused, each iteration's adjoint reads the value as the iteration left it, and the
        tape is not needed. None if the loops use the tape in any other way."""
        pushes = [s for s in fast_walk(self.fwd) if _is_push(s)]
        pops = [s for s in fast_walk(self.rev) if _is_pop(s)]
        pushed = [s.value.args[0].id for s in pushes]
        popped = [s.targets[0].id for s in pops]
        if sorted(pushed) != sorted(popped) or len(set(popped)) != len(popped) \
                or not all(s in self.fwd.body for s in pushes) \
                or not all(s in self.rev.body for s in pops):
            return None
        for pop in pops:  # the reverse loop reads the name only before restoring it
            after = self.rev.body[self.rev.body.index(pop) + 1:]
            if pop.targets[0].id in set().union(set(), *(_names(s) for s in after)):
                return None
        return set(popped)

    def _accumulated(self, body: list) -> set | None:
        """Adjoints only ever summed into (``b += e``, ``b[i] -= e``); None if one of them is
        also read or set in another way."""
        acc = {_target_name(s) for s in body if isinstance(s, gast.AugAssign)
               and isinstance(s.op, (gast.Add, gast.Sub))}
        if None in acc or not acc <= self.adjoints:
            return None
        for stmt in body:
            if isinstance(stmt, gast.AugAssign):
                if not isinstance(stmt.op, (gast.Add, gast.Sub)) \
                        or _reads(stmt.value) & acc or _index_reads(stmt.target) & acc:
                    return None
            elif _names(stmt) & acc:
                return None
        return acc

    def _recomputed(self, stmt: gast.Assign, fwd_body: list) -> bool:
        """Is ``stmt`` (``t = e`` in the reverse loop) a statement of the forward body whose
        target and inputs no later forward statement changes?"""
        text = gast.dump(stmt)
        for k in range(len(fwd_body) - 1, -1, -1):
            if _dump(fwd_body[k]) == text:
                after = set().union(set(), *(_stored(s) for s in fwd_body[k + 1:]))
                return not (_names(stmt) & after)
            if _stored(fwd_body[k]) & _stored(stmt):
                return False
        return False

    @functools.cached_property
    def recomputed_names(self) -> set:
        """The primal values the reverse loop recomputes."""
        return {_target_name(s) for s in self.rev.body if isinstance(s, gast.Assign)
                and _target_name(s) not in self.adjoints}

    # ------------------------------------------------------------------ the result

    def fused(self) -> list:
        body = self.body
        seed_name, seed_call = self.seed
        adjoint = [s for s in self.rev.body if is_comment(s) or isinstance(s, gast.For)
                   or (_target_name(s) in self.adjoints and not _is_pop(s))]
        self.fwd.body = [s for s in self.fwd.body if not _is_push(s)] + adjoint
        preamble = body[self.rev_mark + 2:self.rev_at]
        if preamble and is_comment(preamble[-1]):  # the reverse loop's "# line N: for ...":
            preamble = preamble[:-1]               # the loop is the forward one now
        start = [comment("the loop below runs its own adjoint: the adjoints start here"),
                 gast.Assign(targets=[name(seed_name, store=True)], value=const(1.0),
                             type_comment=None)]
        heading = comment("loop and adjoint in one (the terms of the loop are independent)")
        check = gast.Expr(value=seed_call)
        early, late = self.hoisted
        head = body[:self.fwd_at]
        rest = [s for s in head if not _tape_setup(s)] + late + body[self.rev_at + 1:]
        if self.taped and not any(type(n) is gast.Name and n.id in _TAPE for n in fast_walk(
                gast.Module(body=rest, type_ignores=[]))):
            head = _without_tape(head, self.taped)  # the loops were its only users
        return (head + early + start + preamble + [heading, self.fwd] + late
                + [body[self.rev_mark], check] + body[self.rev_at + 1:])


_DUMPS: dict = {}
_TAPE = ("_tape", "_push", "_pop")


def _is_push(node: gast.AST) -> bool:
    return type(node) is gast.Expr and helper_call(node.value) == "_push" \
        and len(node.value.args) == 1 and type(node.value.args[0]) is gast.Name


def _is_pop(node: gast.AST) -> bool:
    return type(node) is gast.Assign and len(node.targets) == 1 \
        and type(node.targets[0]) is gast.Name and helper_call(node.value) == "_pop" \
        and not node.value.args


def _tape_setup(stmt: gast.stmt) -> bool:
    """``_tape = []``, ``_push = _tape.append`` or ``_pop = _tape.pop``."""
    return type(stmt) is gast.Assign and _target_name(stmt) in _TAPE


def _without_tape(head: list, taped: set) -> list:
    """``head`` without the tape's set-up: its comment, ``_tape = []``, ``_push = ...``,
    ``_pop = ...`` and the ``v = None`` of the values it held."""
    return [stmt for stmt in head if not (
        _tape_setup(stmt) or is_comment(stmt) and stmt.value.args[0].value.startswith("tape:")
        or type(stmt) is gast.Assign and _target_name(stmt) in taped
        and type(stmt.value) is gast.Constant and stmt.value.value is None)]


def _flat(body: list) -> list:
    """The statements of ``body`` and of the loops nested in it, loops left out."""
    out: list = []
    for stmt in body:
        if isinstance(stmt, gast.For):
            out += _flat([s for s in stmt.body if not is_comment(s)])
        else:
            out.append(stmt)
    return out


def _in_order(body: list) -> list:
    """Statements as they first run: a loop's target (as ``target = iter``), then its body."""
    out: list = []
    for stmt in body:
        if isinstance(stmt, (gast.For, gast.While, gast.If)):
            head = stmt.iter if isinstance(stmt, gast.For) else stmt.test
            targets = [stmt.target] if isinstance(stmt, gast.For) else []
            if targets:
                out.append(gast.Assign(targets=targets, value=head, type_comment=None))
            else:
                out.append(gast.Expr(value=head))
            out += _in_order(stmt.body) + _in_order(stmt.orelse)
        elif not is_comment(stmt):
            out.append(stmt)
    return out


def _allowed(stmt: gast.stmt) -> bool:
    """An assignment (or ``+=``) of arithmetic and pure calls: what a fused body may hold
    besides the nested loops that :func:`_flat` opens."""
    return isinstance(stmt, (gast.Assign, gast.AugAssign)) and _pure(stmt)




def _dump(stmt: gast.stmt) -> str:
    hit = _DUMPS.get(id(stmt))
    if hit is None or hit[0] is not stmt:
        hit = _DUMPS[id(stmt)] = (stmt, gast.dump(stmt))
    return hit[1]


def _pure(stmt: gast.stmt) -> bool:
    """Only arithmetic, subscripts and pure calls (``analysis.sharing.pure_call``)."""
    for node in fast_walk(stmt):
        if isinstance(node, gast.Call) and not pure_call(node):
            return False
        if isinstance(node, (gast.Lambda, gast.NamedExpr, gast.Yield, gast.Await)):
            return False
    return True


def _target_name(stmt: gast.stmt) -> str | None:
    target = stmt.targets[0] if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
        else getattr(stmt, "target", None)
    while isinstance(target, gast.Subscript):
        target = target.value
    return target.id if type(target) is gast.Name else None


def _index_reads(target: gast.expr) -> set:
    out: set = set()
    while isinstance(target, gast.Subscript):
        out |= _names(target.slice)
        target = target.value
    return out


def _reads(node: gast.AST) -> set:
    return {n.id for n in fast_walk(node) if type(n) is gast.Name
            and isinstance(n.ctx, gast.Load)}


def _stored(node: gast.AST) -> set:
    """Names ``node`` may change: assigned, item- or attribute-assigned, or handed to a call
    that may change them (``xs.append(v)``, a function of yours)."""
    out = {n.id for n in fast_walk(node) if type(n) is gast.Name
           and not isinstance(n.ctx, gast.Load)}
    for sub in fast_walk(node):
        if isinstance(sub, (gast.Assign, gast.AugAssign)):
            for target in getattr(sub, "targets", None) or [sub.target]:
                root = target
                while isinstance(root, (gast.Subscript, gast.Attribute)):
                    root = root.value
                if type(root) is gast.Name and root is not target:
                    out.add(root.id)
        elif isinstance(sub, gast.Call) and not pure_call(sub):
            out |= {n.id for part in [sub.func] + sub.args + [k.value for k in sub.keywords]
                    for n in fast_walk(part) if type(n) is gast.Name}
    return out
