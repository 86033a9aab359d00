"""Jumps: make ``break``, ``continue``, early ``return`` and loop ``else`` structured.

Input: a validated function. Output: an equivalent function where

* ``for``/``while ... else`` is a loop, a ``_brokeN`` flag set before each
  ``break``, and ``if not _brokeN:`` holding the ``else`` body;
* a loop whose body may jump starts each iteration with ``_goN = True``; a
  ``continue`` becomes ``_goN = False``, a ``break`` also sets ``_stopN = True``;
  the statements after a statement that may jump are wrapped in ``if _goN:``,
  and the body ends with the one real jump, ``if _stopN: break``;
* if any ``return`` is not the last statement, every ``return e`` becomes
  ``_result = e; _live = False`` (and, inside loops, ends the iteration and
  the loop as a break does); a loop that may return is followed by
  ``if not _live:`` ending the enclosing loop's iteration too; the rest of the
  function is guarded by ``if _live:``; the function ends with ``return _result``.

After this pass the only ``return`` is the last statement and the only
``break`` ends a loop body, so every iteration runs its body to the end, with
the statements after a jump under an ``if`` whose saved test the reverse sweep
replays: it knows exactly which statements ran. The forward sweep does the
same work in the same order as the original.

>>> from ast_ad.source import parse_lines, to_source
>>> src = ["def f(x):\\n", "    for i in range(3):\\n", "        if x > 2:\\n",
...        "            break\\n", "        x = x * 2\\n", "    return x\\n"]
>>> print(to_source(Jumps(parse_lines(src, 1, "<doc>", "f").func).run()), end="")
def f(x):
    _stop1 = False
    for i in range(3):
        _go1 = True
        if x > 2:
            _go1 = False
            _stop1 = True
        if _go1:
            x = x * 2
        if _stop1:
            break
    return x
"""
from __future__ import annotations

from dataclasses import dataclass

import gast

from ..naming import Namer, names_in
from ..templates import assign, const, name
from ..walk import statements


@dataclass
class Loop:
    go: str | None      # "this iteration is still running", if the body may jump
    stop: str | None    # "leave the loop at the end of this iteration", if it may break


def own_jumps(stmts: list, kinds: tuple) -> bool:
    """Do ``stmts`` contain a jump of ``kinds`` that belongs to this loop (not a nested one)?"""
    for stmt in stmts:
        if isinstance(stmt, kinds):
            return True
        if isinstance(stmt, gast.If) and own_jumps(stmt.body + stmt.orelse, kinds):
            return True
        if isinstance(stmt, (gast.For, gast.While)) and own_jumps(stmt.orelse, kinds):
            return True
    return False


def has_return(stmts: list) -> bool:
    return any(isinstance(n, gast.Return) for s in stmts for n in statements(s, nested=False))


class Jumps:
    def __init__(self, func: gast.FunctionDef, namer: Namer | None = None):
        self.func = func
        self.namer = namer or Namer(names_in(func))
        self.live: str | None = None
        self.result: str | None = None

    def run(self) -> gast.FunctionDef:
        func = self.func
        func.body = self.loop_else(func.body)
        early = [n for n in statements(func, nested=False) if isinstance(n, gast.Return)
                 and n is not func.body[-1]]
        if early:
            self.live, self.result = self.namer.fresh("_live"), self.namer.fresh("_result")
            head = [assign(self.result, const(None)), assign(self.live, const(True))]
            func.body = head + self.block(func.body, None) + [
                gast.Return(value=name(self.result))]
        else:
            func.body = self.block(func.body, None)
        return func

    # ------------------------------------------------------------------ loop else
    def loop_else(self, stmts: list) -> list:
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, self.loop_else(getattr(stmt, field)))
            if isinstance(stmt, (gast.For, gast.While)) and stmt.orelse:
                out.extend(self.split_else(stmt))
            else:
                out.append(stmt)
        return out

    def split_else(self, loop: gast.stmt) -> list:
        orelse, loop.orelse = loop.orelse, []
        if not own_jumps(loop.body, (gast.Break,)):
            return [loop] + orelse
        broke = self.namer.fresh("_broke")
        loop.body = _before_breaks(loop.body, broke)
        test = gast.UnaryOp(op=gast.Not(), operand=name(broke))
        guard = gast.copy_location(gast.If(test=test, body=orelse, orelse=[]), orelse[0])
        return [gast.copy_location(assign(broke, const(False)), loop), loop, guard]

    # ------------------------------------------------------------------ jumps
    def block(self, stmts: list, loop: Loop | None) -> list:
        out: list = []
        for k, stmt in enumerate(stmts):
            if isinstance(stmt, (gast.Break, gast.Continue, gast.Return)):
                return out + self.jump(stmt, loop)
            jumps = self.may_jump(stmt)
            new = self.inner(stmt, loop)
            out.extend(new if isinstance(new, list) else [new])
            if jumps:
                if isinstance(stmt, (gast.For, gast.While)) and self.live:
                    out.extend(self.leave_if_returned(stmt, loop))
                rest = self.block(stmts[k + 1:], loop)
                if rest:
                    flag = name(loop.go) if loop is not None else name(self.live)
                    out.append(gast.copy_location(gast.If(test=flag, body=rest, orelse=[]),
                                                  stmts[k + 1]))
                return out
        return out

    def inner(self, stmt: gast.stmt, loop: Loop | None) -> gast.stmt:
        if isinstance(stmt, gast.If):
            stmt.body = self.block(stmt.body, loop) or [gast.Pass()]
            stmt.orelse = self.block(stmt.orelse, loop)
        elif isinstance(stmt, (gast.For, gast.While)):
            returns = self.live is not None and has_return(stmt.body)
            breaks = own_jumps(stmt.body, (gast.Break,)) or returns
            jumps = breaks or own_jumps(stmt.body, (gast.Continue,))
            own = Loop(self.namer.fresh("_go") if jumps else None,
                       self.namer.fresh("_stop") if breaks else None)
            body = self.block(stmt.body, own)
            if own.go:
                body = [gast.copy_location(assign(own.go, const(True)), stmt)] + body
            if own.stop:  # the one real break, after everything this iteration ran
                leave = gast.If(test=name(own.stop), body=[gast.Break()], orelse=[])
                body = body + [gast.copy_location(leave, stmt)]
                stmt.body = body
                return [gast.copy_location(assign(own.stop, const(False)), stmt), stmt]
            stmt.body = body or [gast.Pass()]
        return stmt

    def may_jump(self, stmt: gast.stmt) -> bool:
        if isinstance(stmt, gast.If):
            return own_jumps([stmt], (gast.Break, gast.Continue)) or has_return([stmt])
        if isinstance(stmt, (gast.For, gast.While)):
            return self.live is not None and has_return(stmt.body)
        return False

    def jump(self, stmt: gast.stmt, loop: Loop | None) -> list:
        """The flags a jump sets; the rest of its iteration is skipped by the guards."""
        out: list = []
        if isinstance(stmt, gast.Return):
            if self.live is None:
                return [stmt]
            value = stmt.value if stmt.value is not None else const(None)
            out += [assign(self.result, value), assign(self.live, const(False))]
        if loop is not None:
            out.append(assign(loop.go, const(False)))
            if not isinstance(stmt, gast.Continue):
                out.append(assign(loop.stop, const(True)))
        return [gast.copy_location(s, stmt) for s in out]

    def leave_if_returned(self, stmt: gast.stmt, loop: Loop | None) -> list:
        """After a loop that may have returned: end the enclosing loop's iteration too."""
        if loop is None:
            return []
        body = [assign(loop.go, const(False)), assign(loop.stop, const(True))]
        test = gast.UnaryOp(op=gast.Not(), operand=name(self.live))
        return [gast.copy_location(gast.If(test=test, body=body, orelse=[]), stmt)]


def _before_breaks(stmts: list, flag: str) -> list:
    """Insert ``flag = True`` before each break of this loop."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Break):
            out.append(gast.copy_location(assign(flag, const(True)), stmt))
        elif isinstance(stmt, gast.If):
            stmt.body = _before_breaks(stmt.body, flag)
            stmt.orelse = _before_breaks(stmt.orelse, flag)
        out.append(stmt)
    return out
