"""Reverse pass, containers: element reads and writes, literals, list methods, adjoints of
lists built once."""
from __future__ import annotations

import gast

from ..analysis.activity import container_base
from ..analysis.aliasing import numeric_uses
from ..templates import assign, call, const, name
from ..walk import nodes_of
from ..walk import walk as fast_walk
from .normalize import MUTATING, is_method
from .sweeps import (
    ADD_AT,
    ITEM,
    _load_copy,
    index_path,
    index_value,
)


class ContainerAdjoints:
    """Mixin of :class:`Reverse`."""

    def init(self, var: str) -> gast.stmt:
        """``bx = 0.0``; for a list whose elements are read one by one (and whose shape never
        changes), the list of zeros itself, so that reads accumulate inline: ``bx[i] += g``."""
        if var in self.materialized:
            return assign(self.adj(var), call("zeros_like", name(var)))
        return assign(self.adj(var), const(0.0))

    def materialize(self) -> set:
        """Containers whose adjoint can be built once at the start of the reverse sweep: in
        scalar mode, defined once (or a parameter), indexed, never changed in place."""
        if self.array_mode:
            return set()
        defs: dict = {}
        changed: set = set()
        indexed: set = set()
        kinds = (gast.Name, gast.Subscript, gast.Expr, gast.Assign)  # (those looked at below)
        for node in nodes_of(self.norm.func, kinds, local=True):
            if isinstance(node, gast.Name):
                if isinstance(node.ctx, (gast.Store, gast.Param)):
                    defs[node.id] = defs.get(node.id, 0) + 1
            elif isinstance(node, gast.Subscript):
                if isinstance(node.value, gast.Name):
                    indexed.add(node.value.id)
            elif isinstance(node, (gast.Expr, gast.Assign)):
                if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript):
                    changed.add(container_base(node.targets[0]).id)
                if is_method(node.value, MUTATING):
                    changed.add(node.value.func.value.id)
        once = {n.id for n in self.fresh} | {a.id for a in fast_walk(self.norm.func.args)
                                             if isinstance(a, gast.Name)}
        return {v for v in indexed - changed if defs.get(v) == 1 and v in once
                and v in self.act.adjoint_names and v not in self.norm.temps}

    def numeric_use(self, var: str) -> bool:
        """Is every use of ``var`` an operand of arithmetic (so it holds a number)?"""
        if self._numeric is None:
            self._numeric = numeric_uses(self.norm.func, self.calls)
        return var in self._numeric

    def refuse_sequence_arithmetic(self, op) -> None:
        if op.key in ("operator.add", "operator.mul") and any(
                isinstance(a, gast.Name) and a.id in self.listlike for a, _ in op.args):
            what = "concatenation" if op.key == "operator.add" else "repetition"
            raise self.parsed.error(op.node, f"cannot differentiate list {what} with "
                                    f"'{'+' if what == 'concatenation' else '*'}' in "
                                    f"{self.norm.func.name}()",
                                    "Build the list with .append/.extend or a comprehension.")

    def adjoint_getitem(self, var: str, op) -> list:
        """``y = v[i]``: ``bv = add_at(bv, v, (i,), by)`` (a temporary's first write: None)."""
        base = op.node.value
        if not (isinstance(base, gast.Name) and base.id in self.act.adjoint_names):
            return []
        adj = self.adj(base.id)
        index = op.node.slice
        if base.id in self.materialized and isinstance(index, (gast.Name, gast.Constant)) \
                and self.numeric_use(var):  # a number from a list of numbers: bx[i] += g
            target = gast.Subscript(value=name(adj), slice=_load_copy(index), ctx=gast.Store())
            return [gast.AugAssign(target=target, op=gast.Add(), value=name(self.adj(var)))]
        first = base.id in self.norm.temps
        path = gast.Tuple(elts=[index_value(op.node.slice)], ctx=gast.Load())
        return [assign(adj, call(ADD_AT, const(None) if first else name(adj), name(base.id),
                                 path, name(self.adj(var))))]

    def adjoint_build(self, var: str, op) -> list:
        """``v = [a, b]``: ``ba += item(bv, 0)``, ... (dicts: by key)."""
        out: list = []
        written: set = set()
        for atom, key in op.args:
            if isinstance(atom, gast.Name) and atom.id in self.act.adjoint_names:
                k = const(key) if isinstance(key, int) else _load_copy(key)
                out.append(self.accumulate(atom.id, call(ITEM, name(self.adj(var)), k), written,
                                           generic=True))
        return out

    def adjoint_pop(self, var: str, op) -> list:
        """``y = xs.pop(k)``: put ``y``'s adjoint back into ``xs``'s at its place."""
        base = op.node.func.value
        if base.id not in self.act.adjoint_names:
            return []
        k = op.node.args[0] if op.node.args else const(None)
        adj = self.adj(base.id)
        return [assign(adj, call("unpop_adj", name(adj), name(base.id), _load_copy(k),
                                 name(self.adj(var))))]

    def unpop(self, var: str, value: gast.Call) -> list:
        base = value.func.value.id
        k = value.args[0] if value.args else const(None)
        undo = gast.Expr(value=call("unpop", name(base), _load_copy(k), name(var)))
        self.out.pairs.append((None, undo, base))
        return [undo]

    def setitem(self, stmt: gast.Assign) -> tuple[list, list]:
        """``v[i] = y``: forward saves the old item; reverse gives ``y`` the item's adjoint,
        zeroes it, and puts the old item back."""
        target, value = stmt.targets[0], stmt.value
        base = container_base(target)
        path = gast.Tuple(elts=index_path(target), ctx=gast.Load())
        rev: list = []
        if base.id in self.act.adjoint_names:
            adj = self.adj(base.id)
            if isinstance(value, gast.Name) and value.id in self.act.adjoint_names:
                taken = call("item_at", name(adj), path)
                if self.array_mode:  # b[1:3] = s: the item's adjoint, summed to s's shape
                    taken = call("unbroadcast", taken, name(value.id))
                rev.append(self.accumulate(value.id, taken, set(), generic=True))
            rev.append(assign(adj, call("zero_at", name(adj), _load_copy(path))))
        push = gast.Expr(value=call("_push", call("old_item", name(base.id), _load_copy(path))))
        undo = gast.Expr(value=call("put_item", name(base.id), _load_copy(path), call("_pop")))
        self.out.pairs.append((push, undo, base.id))
        return [push, stmt], rev + [undo]

    def stmt_Expr(self, stmt: gast.Expr) -> tuple[list, list]:
        """``xs.append(v)``, ``xs.extend(ys)``, ``xs.insert(k, v)``; other expressions run once."""
        value = stmt.value
        if not is_method(value, MUTATING):
            return [stmt], []
        base, method, args = value.func.value.id, value.func.attr, value.args
        rev: list = []
        if base in self.act.adjoint_names:
            adj = name(self.adj(base))
            if method == "append":
                taken, arg = call("pop_last", adj), args[0]
            elif method == "extend":
                taken, arg = call("pop_tail", adj, call("len", _load_copy(args[0]))), args[0]
            else:
                taken, arg = call("pop_inserted", adj, name(base), _load_copy(args[0])), args[1]
            if isinstance(arg, gast.Name) and arg.id in self.act.adjoint_names:
                rev.append(self.accumulate(arg.id, taken, set(), generic=True))
            else:
                rev.append(gast.Expr(value=taken))
        undo = {"append": lambda: gast.Expr(value=gast.Call(
                    func=gast.Attribute(value=name(base), attr="pop", ctx=gast.Load()),
                    args=[], keywords=[])),
                "extend": lambda: gast.Expr(value=call("del_tail", name(base),
                                                       call("len", _load_copy(args[0])))),
                "insert": lambda: gast.Expr(value=call("uninsert", name(base),
                                                       _load_copy(args[0])))}[method]()
        self.out.pairs.append((None, undo, base))
        return [stmt], rev + [undo]

