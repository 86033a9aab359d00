"""Reverse pass, calls: the user's own functions (split adjoints), functions known only at
run time (``call_fwd``/``call_rev``), closures over variables with adjoints."""
from __future__ import annotations

import gast

from ..errors import MissingRule
from ..templates import assign, call, const, helper, name
from ..walk import free_loads, nested_functions, walk_local
from .sweeps import (
    ITEM,
)


class CallAdjoints:
    """Mixin of :class:`Reverse`."""

    def check_closures(self) -> dict:
        """``{local function: variables with adjoints that it reads}``. Such a function may
        only be called directly here, where those adjoints come back; passed elsewhere, they
        would be lost, so that is refused."""
        found: dict = {}
        nested_defs = nested_functions(self.norm.func)
        if not nested_defs:
            return found
        varied = {d.id for d in self.act.varied}
        callees = self.callees()
        for nested in nested_defs:
            reads = {n.id for n in free_loads(nested, self.local)}
            found[nested.name] = sorted(reads & self.act.adjoint_names)
            active = sorted(reads & varied)
            if not active:
                continue
            for node in walk_local(self.norm.func):
                if isinstance(node, gast.Name) and node.id == nested.name and not \
                        isinstance(node.ctx, gast.Store) and id(node) not in callees:
                    raise self.parsed.error(
                        node, f"the local function '{nested.name}' reads "
                        f"{', '.join(repr(v) for v in active)}, which carries a derivative, "
                        f"and is used here other than by calling it (in {self.norm.func.name}())",
                        f"Pass {', '.join(active)} to '{nested.name}' as an argument instead.")
        return found

    def callees(self) -> set:
        return {id(n.func) for n in walk_local(self.norm.func) if isinstance(n, gast.Call)}

    def is_user_call(self, op) -> bool:
        target = self.calls.get(op.node)
        return op.kind == "call" and target is not None and target.kind == "function" \
            and self.linker is not None

    def is_dynamic_call(self, op) -> bool:
        """A call through a local variable or parameter: the callee is known at run time."""
        func = getattr(op.node, "func", None)
        return op.kind == "call" and isinstance(func, gast.Name) and func.id in self.local

    def dynamic_call(self, var: str, op) -> tuple[list, list, str]:
        """``y, _rec = call_fwd(fn, a, k=b)``; reverse ``_b = call_rev(_rec, by)``, then the
        arguments' adjoints and, for a local function, those of the variables it reads."""
        node = op.node
        record, grads = self.namer.fresh("_rec"), self.namer.fresh("_b")
        self.out.records.add(record)
        forward_call = gast.Call(func=helper("call_fwd"), args=[name(node.func.id)] + node.args,
                                 keywords=node.keywords)
        targets = gast.Tuple(elts=[name(var, store=True), name(record, store=True)],
                             ctx=gast.Load())
        targets.ctx = gast.Store()
        fwd = gast.copy_location(gast.Assign(targets=[targets], value=forward_call,
                                             type_comment=None), node)
        rev = [assign(grads, call("call_rev", name(record), name(self.adj(var))))]
        written: set = set()

        def part(k: int, key: gast.expr) -> gast.expr:
            return call(ITEM, gast.Subscript(value=name(grads), slice=const(k),
                                             ctx=gast.Load()), key)

        pairs = [(a, part(0, const(k))) for k, a in enumerate(node.args)]
        pairs += [(kw.value, part(1, const(kw.arg))) for kw in node.keywords]
        pairs += [(name(v), part(2, const(v))) for v in self.closure_vars.get(node.func.id, ())]
        for atom, value in pairs:
            if isinstance(atom, gast.Name) and atom.id in self.act.adjoint_names:
                rev.append(self.accumulate(atom.id, value, written, generic=True))
        return [fwd], rev, record

    def user_call(self, var: str, op) -> tuple[list, list, str]:
        """``y, _rec = fwd_h(a, b)`` forward; ``_b = rev_h(_rec, by)`` then ``ba += _b[k]``."""
        callee = self.calls[op.node].obj
        fwd_name, rev_name, params = self.linker.split(callee, self.parsed.location(op.node))
        record, grads = self.namer.fresh("_rec"), self.namer.fresh("_b")
        self.out.records.add(record)
        node = op.node
        forward_call = gast.Call(func=name(fwd_name), args=node.args, keywords=node.keywords)
        targets = gast.Tuple(elts=[name(var, store=True), name(record, store=True)],
                             ctx=gast.Store())
        fwd = gast.Assign(targets=[targets], value=forward_call, type_comment=None)
        rev = [assign(grads, call(rev_name, name(record), name(self.adj(var))))]
        written: set = set()
        bound = [(a, k) for k, a in enumerate(node.args)] + [
            (kw.value, params.index(kw.arg)) for kw in node.keywords if kw.arg in params]
        for atom, k in bound:
            if isinstance(atom, gast.Name) and atom.id in self.act.adjoint_names:
                item = gast.Subscript(value=name(grads), slice=const(k), ctx=gast.Load())
                rev.append(self.accumulate(atom.id, item, written, generic=True))
        return [gast.copy_location(fwd, node)], rev, record

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

