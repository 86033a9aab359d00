"""Prune: keep only the tape traffic the reverse sweep needs, and set up the tape.

Input: the reverse pass's output, where every possibly-overwriting assignment is
bracketed by a push and a pop. Output: the same function where a push/pop pair
survives only if the reverse sweep reads its variable; reverse loops and
branches left empty are removed; the tape (``_tape``, ``_push``, ``_pop``) is
created only if anything is pushed; variables pushed before they may be bound
start as ``None``; the returned value is kept aside if the reverse sweep
restores its variable.
"""
from __future__ import annotations

import gast

from ..source import comment, is_comment
from ..tally import Tally
from ..templates import assign, const, helper, name
from ..walk import name_nodes
from .reverse import Generated


def prune(gen: Generated, unbound: set[str], namer, kind: str,
          tally: Tally | None = None) -> gast.FunctionDef:
    """``tally`` (see passes/tally.py) lists the reverse sweep's statements for prune and keeps
    the lists for the next passes (simplify) over the same statements."""
    func = gen.func
    forward, reverse = func.body[:gen.reverse_start], func.body[gen.reverse_start:]
    restores = {id(pop): var for _, pop, var in gen.pairs}
    drop: set = set()
    ret = reverse[-1]
    value = ret.value.elts[0] if kind == "value_and_grad" else None
    if value is not None:  # the value is read before the reverse sweep: not a reverse read
        ret.value.elts[0] = const(None)
    tally = tally if tally is not None else Tally()
    reads = _Reads(tally)
    while True:  # dropping restores can empty a reverse branch, which frees its test: repeat
        reads.new_round()  # blocks are read as they are now
        needed: set = set()
        _scan(reverse, set(), needed, restores, reads)
        more = {id(s) for push, pop, _ in gen.pairs if id(pop) not in needed
                for s in (push, pop) if s is not None} - drop
        if not more:
            break
        drop |= more
        reverse = _filter(reverse, drop, reverse=True)
    forward = _filter(forward, drop, reverse=False)
    if value is not None:
        reverse[-1].value.elts[0] = value
    pushed = sorted({var for push, _, var in gen.pairs
                     if push is not None and id(push) not in drop})
    head: list = []
    if pushed:
        head.append(comment("tape: values the reverse sweep reads after they are overwritten"))
        head += [assign(v, const(None)) for v in pushed if v in unbound | gen.records]
        head += [_bind("_tape", gast.List(elts=[], ctx=gast.Load())),
                 _bind("_push", gast.Attribute(value=helper("_tape"), attr="append",
                                               ctx=gast.Load())),
                 _bind("_pop", gast.Attribute(value=helper("_tape"), attr="pop",
                                              ctx=gast.Load()))]
    forward = [comment("forward sweep")] + forward
    if kind == "value_and_grad":
        reverse = _keep_value(reverse, set(pushed), namer)
    func.body = head + forward + reverse
    gen.split_at = len(head) + len(forward)
    tally.forget(ret)  # its value was left out while reading, and may be kept aside since
    return func


def _bind(ident: str, value: gast.expr) -> gast.Assign:
    return gast.Assign(targets=[helper(ident, store=True)], value=value, type_comment=None)


class _Reads:
    """The names read under each node, found once: prune reads the same statements in every
    round. Nodes without blocks do not change during prune: theirs are kept for all rounds;
    those of nodes with blocks (which rounds filter) and of loops, for one round."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally     # the Names of nodes without blocks
        self._kept: dict = {}   # id(node) -> (node, names)
        self._round: dict = {}

    def new_round(self) -> None:
        self._round.clear()

    def __call__(self, node: gast.AST) -> set[str]:
        blocks = hasattr(node, "body") or hasattr(node, "orelse")
        table = self._round if blocks else self._kept
        hit = table.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        if blocks:
            names = {n.id for n in name_nodes(node) if type(n.ctx) is gast.Load}
        else:
            names = set(self._tally.names(node)[0])
        table[id(node)] = (node, names)
        return names

    def loop(self, node: gast.AST) -> set:
        """Names read under ``node``, leaving out a for loop's own variable inside that loop
        (its header sets it before any read there)."""
        if not isinstance(node, (gast.For, gast.While, gast.If)):
            return self(node)
        hit = self._round.get(("loop", id(node)))
        if hit is not None and hit[0] is node:
            return hit[1]
        if isinstance(node, gast.For) and isinstance(node.target, gast.Name):
            inside = set().union(*[self.loop(s) for s in node.body]) if node.body else set()
            names = self(node.iter) | (inside - {node.target.id})
        elif isinstance(node, gast.For):
            names = self(node)
        else:
            parts = [self(node.test)] + [self.loop(s) for s in node.body + node.orelse]
            names = set().union(*parts)
        self._round["loop", id(node)] = (node, names)
        return names


def _scan(stmts: list, later: set, needed: set, restores: dict, reads: _Reads) -> set:
    """Walk a reverse block backwards knowing ``later``, the names read by whatever may run
    after the current statement (a loop's body runs again). A restore (a pop, or the undoing
    of a list method) is needed if its variable is in ``later``; its own reads count only
    if it is kept. Returns the names read from the start of the block on (``later`` itself
    is left as it was: the set grows in place, a copy of it)."""
    later = set(later)
    for stmt in reversed(stmts):
        var = restores.get(id(stmt))
        if var is not None:
            if var in later:
                needed.add(id(stmt))
                later |= reads(stmt) - {var}
        elif isinstance(stmt, (gast.For, gast.While)):
            later |= reads.loop(stmt)
            _scan(stmt.body, later, needed, restores, reads)
        elif isinstance(stmt, gast.If):
            later = _scan(stmt.body, later, needed, restores, reads) | \
                _scan(stmt.orelse, later, needed, restores, reads) | reads(stmt.test)
        else:
            later |= reads(stmt)
    return later


def _keep_value(reverse: list, restored: set, namer) -> list:
    """If the returned variable is restored by a pop, read its value before the reverse."""
    ret = reverse[-1]
    value = ret.value.elts[0] if isinstance(ret.value, gast.Tuple) else None
    if isinstance(value, gast.Name) and value.id in restored:
        kept = namer.fresh("_value")
        reverse.insert(0, assign(kept, name(value.id)))
        ret.value.elts[0] = name(kept)
    return reverse


def _filter(stmts: list, drop: set, reverse: bool) -> list:
    out = []
    for stmt in stmts:
        if id(stmt) in drop:
            continue
        for field_name in ("body", "orelse"):
            if hasattr(stmt, field_name) and isinstance(getattr(stmt, field_name), list):
                setattr(stmt, field_name, _filter(getattr(stmt, field_name), drop, reverse))
        if reverse and isinstance(stmt, (gast.For, gast.If)) and _empty(stmt):
            continue
        if isinstance(stmt, (gast.For, gast.While, gast.If)) and not stmt.body:
            stmt.body = [gast.Pass()]
        out.append(stmt)
    return _drop_orphan_comments(out)


def _empty(stmt: gast.stmt) -> bool:
    return all(_is_noise(s) for s in stmt.body + stmt.orelse)


def _is_noise(stmt: gast.stmt) -> bool:
    if isinstance(stmt, gast.Pass):
        return True
    return is_comment(stmt)


def _drop_orphan_comments(stmts: list) -> list:
    """Remove a line comment left with nothing under it."""
    out = []
    for k, stmt in enumerate(stmts):
        nxt = stmts[k + 1] if k + 1 < len(stmts) else None
        if _is_noise(stmt) and not isinstance(stmt, gast.Pass) and (nxt is None or _is_noise(nxt)):
            continue
        out.append(stmt)
    return out
