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

from ..analysis.activity import Activity, container_base
from ..analysis.aliasing import numeric_uses
from ..analysis.kinds import listlike_names, numeric_names
from ..analysis.overwrite import fresh_definitions
from ..errors import MissingRule
from ..ops import classify
from ..source import Parsed, comment
from ..templates import assign, aug_add, call, const, fill, helper, name, times
from ..walk import free_loads, nested_functions, walk_local
from ..walk import walk as fast_walk
from .normalize import MUTATING, Normalized, is_increment, is_method
from .resolve import local_names
from .simplify import fold

SEED = "seed_scalar"
SCALAR = ("math.", "builtins.")  # rules of scalar-only functions: nothing to unbroadcast
ADD = "add"          # runtime: structural sum of adjoints (numbers, lists, dicts, arrays, None)
ITEM = "item"        # runtime: element of an adjoint, 0.0 where the adjoint is zero
ADD_AT = "add_at"
COTANGENT = "_g"     # the parameter of a split reverse function that receives the seed


@dataclass
class Generated:
    """The adjoint function and the bookkeeping that prune needs."""

    func: gast.FunctionDef
    pairs: list = field(default_factory=list)     # (push or None, restore, variable)
    reverse_start: int = 0                        # index in func.body where the reverse begins
    records: set = field(default_factory=set)     # call records, unbound until the first call
    split_at: int = 0                             # after prune: where the reverse begins
    returned: gast.expr | None = None


class Reverse:
    """Build forward and reverse sweeps statement by statement."""

    def __init__(self, parsed: Parsed, norm: Normalized, activity: Activity, calls: dict,
                 wrt: list[str], kind: str, modules: dict[str, str], linker=None):
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
        self.modules = modules
        self.namer = norm.namer
        self.fresh = fresh_definitions(norm.func)
        self.numeric = numeric_names(norm.func, calls)
        self.local = local_names(norm.func)
        self.closure_vars = self.check_closures()
        self.materialized: set = set()
        self._numeric: set | None = None
        self.listlike = listlike_names(norm.func)
        self.temp_defs = _count_defs(norm.func, norm.temps)
        self.all_defs = _count_defs(norm.func, None)
        self.out = Generated(func=None)
        self.returned: gast.expr | None = None

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

    def check_closures(self) -> dict:
        """``{local function: variables with adjoints that it reads}``. Such a function may
        only be called directly here, where those adjoints come back; passed elsewhere, they
        would be lost, so that is refused."""
        found: dict = {}
        varied = {d.id for d in self.act.varied}
        callees = self.callees()
        for nested in nested_functions(self.norm.func):
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
        for node in walk_local(self.norm.func):
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Param)):
                defs[node.id] = defs.get(node.id, 0) + 1
        changed = {container_base(n.targets[0]).id for n in walk_local(self.norm.func)
                   if isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Subscript)}
        changed |= {n.value.func.value.id for n in walk_local(self.norm.func)
                    if isinstance(n, (gast.Expr, gast.Assign)) and is_method(n.value, MUTATING)}
        indexed = {n.value.id for n in walk_local(self.norm.func)
                   if isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name)}
        once = {n.id for n in self.fresh} | {a.id for a in fast_walk(self.norm.func.args)
                                             if isinstance(a, gast.Name)}
        return {v for v in indexed - changed if defs.get(v) == 1 and v in once
                and v in self.act.adjoint_names and v not in self.norm.temps}

    def numeric_use(self, var: str) -> bool:
        """Is every use of ``var`` an operand of arithmetic (so it holds a number)?"""
        if self._numeric is None:
            self._numeric = numeric_uses(self.norm.func, self.calls)
        return var in self._numeric

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
        if param not in self.act.adjoint_names:
            return call("zeros_like", name(param)) if self.array_mode else const(0.0)
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

    def bracket_name(self, var: str, fwd: list, rev: list) -> tuple[list, list]:
        push = gast.Expr(value=call("_push", name(var)))
        pop = assign(var, call("_pop"))  # (tape names are renamed apart from the user's)
        self.out.pairs.append((push, pop, var))
        return [push] + fwd, rev + [pop]

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
        if op.kind in ("getitem", "build", "pop"):
            return getattr(self, "adjoint_" + op.kind)(var, op)
        self.refuse_sequence_arithmetic(op)
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
            if param is None:  # a copy
                generic = atom.id not in self.numeric
                out.append(self.accumulate(atom.id, g, written, generic=generic))
                continue
            else:
                holes_here = dict(holes, **{param: atom}) if op.rule.variadic else holes
                form, text = op.rule.expression(param)
                filled = fill(text, holes_here, self.modules, op.rule.namespace)
                contribution = fold(times(g, filled) if form == "partial" else filled)
                if form == "partial" and self.array_mode and not op.key.startswith(SCALAR):
                    shared = isinstance(contribution, gast.Name)  # g itself: must be copied
                    contribution = call("unbroadcast" if shared else "reduce_to", contribution,
                                        name(atom.id))
            out.append(self.accumulate(atom.id, contribution, written, generic=form == "vjp"))
        return out

    # ------------------------------------------------------------------ containers
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
            reads = {n.id for s in body_r for n in fast_walk(s) if isinstance(n, gast.Name)}
            rng = _load_copy(stmt.iter)
            if trip is not None:  # the loop may have left early: replay the first _trip values
                rng = gast.Subscript(value=rng, slice=gast.Slice(lower=None, upper=name(trip),
                                                                 step=None), ctx=gast.Load())
            it = call("reversed", rng) if var in reads else rng
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
        changed = _changed_in(loop.body)
        available = set(loop_vars) | (self.local - changed) | _free_names(loop, self.local)
        pairs = {var: (push, pop) for push, pop, var in self.out.pairs
                 if push is not None and any(push is s for s in body_f)}
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
        read = {n.id for s in body_r if id(s) not in pops for n in fast_walk(s)
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        needed = read & set(pairs) & {t for t, _ in steps}
        for target, stmt in reversed(steps):  # what a needed recomputation reads is needed
            if target in needed:
                needed |= _names(stmt.value) & {t for t, _ in steps}
        if not needed & set(pairs):
            return body_f, body_r
        drop = {id(s) for var in needed if var in pairs for s in pairs[var]}
        self.out.pairs = [p for p in self.out.pairs if id(p[1]) not in drop]
        redo = [assign(t, _load_copy(stmt.value)) for t, stmt in steps if t in needed]
        return ([s for s in body_f if id(s) not in drop],
                redo + [s for s in body_r if id(s) not in drop])

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


def _names(node: gast.AST) -> set:
    return {n.id for n in fast_walk(node) if isinstance(n, gast.Name)}


def _changed_in(stmts: list) -> set:
    """Names assigned, items assigned into, or changed by a list method, in ``stmts``."""
    out = set()
    for stmt in stmts:
        for node in fast_walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                out.add(node.id)
            elif isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript):
                out.add(container_base(node.targets[0]).id)
            elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                    and isinstance(node.func.value, gast.Name):
                out.add(node.func.value.id)
    return out


def _free_names(loop: gast.stmt, local: set) -> set:
    """Globals and builtins the loop reads (they do not change during the function)."""
    return {n.id for n in fast_walk(loop) if isinstance(n, gast.Name) and n.id not in local}


def index_value(index: gast.expr) -> gast.expr:
    """An index as a value: ``a:b`` is ``slice(a, b, None)``; tuples item by item."""
    if isinstance(index, gast.Slice):
        parts = [const(None) if p is None else _load_copy(p)
                 for p in (index.lower, index.upper, index.step)]
        return call("slice", *parts)
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[index_value(e) for e in index.elts], ctx=gast.Load())
    return _load_copy(index)


def index_path(target: gast.Subscript) -> list:
    """``v[i][j]`` gives ``[i, j]`` as values."""
    levels = []
    while isinstance(target, gast.Subscript):
        levels.append(index_value(target.slice))
        target = target.value
    return levels[::-1]


def _count(trip: str) -> gast.stmt:
    return gast.AugAssign(target=name(trip, store=True), op=gast.Add(), value=const(1))


def _load_copy(node: gast.expr) -> gast.expr:
    from .normalize import load_copy
    return load_copy(node)


def _count_defs(func: gast.FunctionDef, names: set | None) -> dict:
    counts: dict = {}
    for node in fast_walk(func):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Param)) \
                and (names is None or node.id in names):
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts
