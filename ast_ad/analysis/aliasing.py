"""Aliasing: a container changed in place must not share its data with another name.

``b = a; b[0] = 1.0`` changes ``a`` too; so does ``v = a[0:2]; v[0] = 1.0`` for an
array, and ``y = x; y += 1.0`` for arrays. The reverse sweep follows names, not
objects, so such code would get a wrong gradient: it is refused, naming the
line where the sharing started and how to copy instead.

A forward data-flow over the statements tracks which names *may share* their
object with another name: ``b = a`` makes both shared; an assignment of a fresh
object (a literal, a comprehension, ``.copy()``, arithmetic, a NumPy function
that allocates) makes a name private again; a view (a slice, ``.reshape``,
``.T``...), an element that is not a number, passing to a function or storing
into a container share. Changing a shared name in place is an error. Loops are
iterated to a fixed point, branches joined.

Input: a normalised function. Output: nothing, or a located ``TransformError``.
"""
from __future__ import annotations

import gast

from ..ops import classify
from ..passes.normalize import MUTATING, is_method
from ..walk import frozen_fact, nodes_of, walk_local
from .activity import container_base

# calls whose result may share data with an argument (views, or the argument itself)
VIEWS = {
    "numpy.asarray", "numpy.asanyarray", "numpy.reshape", "numpy.ravel", "numpy.transpose",
    "numpy.squeeze", "numpy.expand_dims", "numpy.broadcast_to", "numpy.diagonal",
    "numpy.swapaxes", "numpy.moveaxis", "numpy.rollaxis", "numpy.atleast_1d",
    "numpy.atleast_2d", "numpy.atleast_3d", "numpy.flip", "numpy.fliplr", "numpy.flipud",
    "numpy.rot90", "numpy.split", "numpy.array_split", "numpy.hsplit", "numpy.vsplit",
    "numpy.dsplit", "numpy.unstack", "numpy.matrix_transpose", "numpy.linalg.matrix_transpose",
}
# calls that allocate a new object
FRESH = {
    "builtins.list", "builtins.dict", "builtins.tuple", "builtins.sorted", "numpy.array",
    "numpy.copy", "numpy.zeros", "numpy.ones", "numpy.full", "numpy.empty", "numpy.zeros_like",
    "numpy.ones_like", "numpy.full_like", "numpy.empty_like", "numpy.eye", "numpy.identity",
    "numpy.arange", "numpy.linspace", "numpy.concatenate", "numpy.stack", "numpy.hstack",
    "numpy.vstack", "numpy.tile", "numpy.repeat", "numpy.outer", "numpy.dot", "numpy.matmul",
    "numpy.cumsum", "numpy.cumprod", "numpy.sort", "numpy.where", "numpy.clip",
}


class Aliasing:
    def __init__(self, parsed, norm, calls: dict, array_mode: bool):
        self.parsed, self.norm, self.calls = parsed, norm, calls
        self.array_mode = array_mode
        self.inplace = {id(n) for nodes in norm.inplace.values() for n in nodes}
        self.mutated = self._mutated_names()
        self.numeric = numeric_uses(norm.func, calls) if self.mutated else set()
        self.origin: dict = {}  # temporary -> the container it was read out of
        self._walks: dict = {}  # id(statement) -> (statement, _kept): loops are read again

    def run(self) -> None:
        if not self.mutated:
            return
        params = {a.id: self.norm.func for a in walk_local(self.norm.func.args)
                  if isinstance(a, gast.Name)}
        self.block(self.norm.func.body, dict(params), check=True)

    def _mutated_names(self) -> set:
        found = set()
        for node in nodes_of(self.norm.func, (gast.Assign, gast.Expr), local=True):
            base = self._mutation(node)
            if base is not None:
                found.add(base)
        return found

    def _mutation(self, node: gast.AST) -> str | None:
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript):
            return container_base(node.targets[0]).id
        if isinstance(node, (gast.Expr, gast.Assign)) and is_method(node.value, MUTATING):
            return node.value.func.value.id
        if self.array_mode and isinstance(node, gast.Assign) and self._is_inplace(node):
            return node.targets[0].id
        return None

    def _is_inplace(self, node: gast.Assign) -> bool:
        """``x = x + e`` that the user wrote as ``x += e``."""
        return any(getattr(node, "lineno", -1) == getattr(n, "lineno", -2)
                   and isinstance(node.targets[0], gast.Name)
                   and node.targets[0].id in self.norm.inplace
                   for n in self.norm.inplace.get(node.targets[0].id, ()))

    # ------------------------------------------------------------------ the data-flow
    def block(self, stmts: list, shared: dict, check: bool) -> dict:
        """``shared``: name -> the node where it started sharing. Returns the state after."""
        for stmt in stmts:
            shared = self.statement(stmt, shared, check)
        return shared

    def statement(self, stmt: gast.stmt, shared: dict, check: bool) -> dict:
        if isinstance(stmt, gast.If):
            return _join(self.block(stmt.body, dict(shared), check),
                         self.block(stmt.orelse, dict(shared), check))
        if isinstance(stmt, (gast.For, gast.While)):
            state = dict(shared)
            while True:  # to a fixed point, then once more to check
                after = _join(state, self.block(stmt.body, dict(state), False))
                if after.keys() == state.keys():
                    break
                state = after
            self.block(stmt.body, dict(state), check)
            return state
        base = self._mutation(stmt)
        if base is not None and check:
            if base in shared:
                self.refuse(stmt, base, shared[base])
            if _depth(stmt) > 1 and ("holds", base) in shared:
                self.refuse(stmt, base, shared["holds", base])
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            return self.assign(stmt, shared)
        return self.share_arguments(stmt, shared)

    def assign(self, stmt: gast.Assign, shared: dict) -> dict:
        target, value = stmt.targets[0].id, stmt.value
        shared = dict(shared)
        shared.pop(target, None)
        if isinstance(value, gast.Name):
            if value.id in self.norm.namer.made:  # ours, used once more at most: state moves
                if value.id in shared:
                    shared[target] = shared[value.id]
                return shared
            shared[target] = shared[value.id] = shared.get(value.id, stmt)
            return shared
        if self._fresh(value):
            return self.share_arguments(stmt, shared, skip=target)
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
            if isinstance(value.slice, (gast.Name, gast.Constant)) and target in self.numeric:
                return shared  # a number read out of a container
            if target in self.norm.namer.made:  # a temporary, used once: shares only if kept
                self.origin[target] = value.value.id
                return shared
            shared[target] = shared[value.value.id] = shared.get(value.value.id, stmt)
            return shared
        shared = self.share_arguments(stmt, shared, skip=target)
        shared[target] = stmt  # a view, a call's result, ...: may share with something
        return shared

    def share_arguments(self, stmt: gast.stmt, shared: dict, skip: str | None = None) -> dict:
        """Names stored into containers or passed to functions that may keep them."""
        for value, holder in self._kept(stmt):
            self.keep(value, skip if holder is _SKIP else holder, stmt, shared)
        return shared

    def _kept(self, stmt: gast.stmt) -> list:
        """``(Name, holder)`` for each name that ``stmt`` stores into a container or passes to
        a function that may keep it, in order; found once per statement (the function does
        not change here). The holder ``_SKIP`` stands for share_arguments' ``skip``."""
        hit = self._walks.get(id(stmt))
        if hit is not None and hit[0] is stmt:
            return hit[1]
        kept: list = []
        for node in walk_local(stmt):
            kind = type(node)
            if kind in _HOLDERS:
                kept += [(elt, _SKIP) for elt in (
                    node.values if kind is gast.Dict else node.elts)]
            elif kind is gast.Call and is_method(node, MUTATING):
                kept += [(arg, node.func.value.id) for arg in node.args]  # stored into the list
            elif kind is gast.Call and not self._consumes(node):
                kept += [(arg, None) for arg in list(node.args) + [k.value for k in node.keywords]]
        kept = [(v, h) for v, h in kept if isinstance(v, gast.Name) and v.id not in self.numeric]
        self._walks[id(stmt)] = (stmt, kept)
        return kept

    def keep(self, value: gast.expr, holder: str | None, stmt: gast.stmt, shared: dict) -> None:
        """``value`` is kept by a container (``holder``) or a function: it is now reachable
        another way, and so are the items of the container."""
        if not isinstance(value, gast.Name) or value.id in self.numeric:
            return
        name = self.origin.get(value.id, value.id)
        if value.id in self.norm.namer.made and value.id not in self.origin:
            return  # a fresh temporary of ours: nothing else reaches it
        shared.setdefault(name, stmt)
        if holder:
            shared["holds", holder] = stmt

    def _consumes(self, call: gast.Call) -> bool:
        """A call that reads its arguments and keeps nothing of them (a reduction, len...)."""
        target = self.calls.get(call)
        if target is None:
            return isinstance(call.func, gast.Attribute) and call.func.attr in MUTATING
        return target.kind in ("rule", "nondiff") and target.key not in VIEWS

    def _fresh(self, value: gast.expr) -> bool:
        if isinstance(value, (gast.List, gast.Tuple, gast.Dict, gast.Constant, gast.BinOp,
                              gast.UnaryOp, gast.Compare)):
            return True
        op = classify(value, self.calls)
        if op.kind == "copy":  # x.copy()
            return True
        target = self.calls.get(value)
        if op.kind == "rule":
            return op.key in FRESH or bool(op.rule.partials) and not op.rule.vjps
        return target is not None and target.key in FRESH

    def refuse(self, stmt: gast.stmt, name: str, since: gast.AST) -> None:
        line = getattr(since, "lineno", None)
        where = f" (since line {line}: {self.parsed.line_text(line)})" if line else ""
        raise self.parsed.error(
            stmt, f"cannot differentiate: '{name}' is changed in place but may share its data "
            f"with another name{where}",
            f"Work on a copy: create it with {name} = list(...) or (...).copy(), "
            "or assign a new value instead of changing it in place.")


_SKIP = object()
_HOLDERS = frozenset((gast.List, gast.Tuple, gast.Dict))


def check_aliasing(parsed, norm, calls: dict, array_mode: bool) -> None:
    Aliasing(parsed, norm, calls, array_mode).run()


def _depth(stmt: gast.stmt) -> int:
    """How many subscripts deep an item assignment goes: ``v[i][j] = ...`` is 2."""
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript)):
        return 1
    depth, node = 0, stmt.targets[0]
    while isinstance(node, gast.Subscript):
        depth, node = depth + 1, node.value
    return depth


def _join(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out.setdefault(k, v)
    return out


def numeric_uses(func: gast.FunctionDef, calls: dict) -> set:
    """Names whose every read is a direct operand of arithmetic (so they hold numbers)."""
    return set(frozen_fact(func, _numeric_uses, calls))


def _numeric_uses(func: gast.FunctionDef, calls: dict) -> set:
    arithmetic: set = set()  # ids of Name nodes that are operands of arithmetic
    for node in nodes_of(func, (gast.Assign,), local=True):
        if isinstance(node.targets[0], gast.Name):
            op = classify(node.value, calls)
            if op.kind == "rule" and op.rule.partials and not op.rule.vjps:
                arithmetic |= {id(a) for a, _ in op.args if isinstance(a, gast.Name)}
    loads: dict = {}
    for node in nodes_of(func, (gast.Name,), local=True):
        if isinstance(node.ctx, gast.Load):
            loads.setdefault(node.id, []).append(id(node) in arithmetic)
    return {name for name, flags in loads.items() if all(flags)}
