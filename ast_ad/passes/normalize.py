"""Normalize: rewrite the function so that each statement does one elementary operation.

Input: a validated function. Output: a function whose assignments are
``name = atom``, ``name = atom OP atom``, ``name = -atom`` or
``name = f(atom, ...)`` (atoms are names, numbers and module constants), or an
*opaque* value that carries no derivative (comparisons, ``not``, calls to
piecewise-constant functions such as ``int`` or ``math.floor``), kept as written.
``if`` tests are saved in ``_condN``; ``while`` loops get a trip counter
``_tripN`` (set to 0 before the loop; the reverse pass counts in it);
``for`` bounds are names that the loop body does not rebind. Evaluation order
and every primal operation are unchanged, so the value is bit-identical.

Also desugared: augmented assignment, ``a if c else b``, ``and``/``or`` used as
values, tuple assignment of a tuple literal, ``max``/``min`` of several
arguments, ``sum`` of a list or tuple literal, docstrings and ``pass``.

>>> from ast_ad.source import parse_lines, to_source
>>> p = parse_lines(["def f(x, y):\\n", "    z = x * y + math.sin(x)\\n", "    return z\\n"],
...                 1, "<doc>", "f")
>>> print(to_source(Normalize(p, {}).run().func), end="")
def f(x, y):
    _t1 = x * y
    _t2 = math.sin(x)
    z = _t1 + _t2
    return z
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from ..naming import Namer, names_in
from ..nodes import copy_location, make
from ..source import Parsed
from ..templates import assign, clone, const, name
from ..walk import name_nodes
from .jumps import own_jumps
from .methods import ARRAY_METHODS, method_as_function, transpose_attribute
from .resolve import local_names

DIFF_BINOPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.Mod, gast.MatMult)


@dataclass
class Normalized:
    """The normalised function and the facts the later passes need about it."""

    func: gast.FunctionDef
    temps: set = field(default_factory=set)       # names made here (each defined once)
    trips: dict = field(default_factory=dict)     # loop -> trip counter (while; for with break)
    namer: Namer | None = None
    inplace: dict = field(default_factory=dict)   # name -> AugAssign nodes (x += e) on it


class Normalize:
    """Rewrite statement by statement; new statements carry their origin's location."""

    def __init__(self, parsed: Parsed, calls: dict, namer: Namer | None = None,
                 array_mode: bool = False, inliner=None):
        self.parsed = parsed
        self.calls = calls
        self.inliner = inliner
        self.array_mode = array_mode  # no in-place accumulation shortcut: shapes may change
        self.local = local_names(parsed.func)
        self.namer = namer or Namer(names_in(parsed.func))
        self.out = Normalized(parsed.func, namer=self.namer)
        self.origin: gast.stmt | None = None

    def run(self) -> Normalized:
        func = self.parsed.func
        func.body = self.block(func.body)
        if not func.body:
            func.body = [gast.Pass()]
        return self.out

    # ------------------------------------------------------------------ helpers
    def emit(self, stmt: gast.stmt) -> gast.stmt:
        if self.origin is not None:
            copy_location(stmt, self.origin)
        return stmt

    def temp(self, pre: list, value: gast.expr, stem: str = "_t") -> gast.Name:
        ident = self.namer.fresh(stem)
        self.out.temps.add(ident)
        pre.append(self.emit(assign(ident, value)))
        return name(ident)

    def block(self, stmts: list) -> list:
        out: list = []
        for stmt in stmts:
            saved = self.origin
            if getattr(stmt, "lineno", None) is not None:
                self.origin = stmt
            out.extend(self.statement(stmt))
            self.origin = saved
        return out

    def statement(self, stmt: gast.stmt) -> list:
        return getattr(self, "stmt_" + type(stmt).__name__, self.keep)(stmt)

    def keep(self, stmt: gast.stmt) -> list:
        return [stmt]

    # ------------------------------------------------------------------ statements
    def stmt_Pass(self, stmt: gast.Pass) -> list:
        return []

    def stmt_Expr(self, stmt: gast.Expr) -> list:
        if isinstance(stmt.value, gast.Constant):
            return []  # docstrings and bare constants do nothing
        if is_method(stmt.value, MUTATING):  # xs.append(v): arguments become atoms
            pre: list = []
            stmt.value.args = [self.atomize(a, pre) for a in stmt.value.args]
            return pre + [stmt]
        return [stmt]

    def stmt_AnnAssign(self, stmt: gast.AnnAssign) -> list:
        if stmt.value is None:
            return []
        return self.assign_to(stmt.target.id, stmt.value)

    def stmt_AugAssign(self, stmt: gast.AugAssign) -> list:
        if isinstance(stmt.target, gast.Subscript):  # v[i] += e: index once, load, op, store
            pre: list = []
            target = self.store_target(stmt.target, pre)
            current = self.temp(pre, self.elementary(load_copy(target), pre))
            value = gast.BinOp(left=current, op=stmt.op, right=self.atomize(stmt.value, pre))
            result = self.temp(pre, copy_location(value, stmt))
            return pre + [self.emit(gast.Assign(targets=[target], value=result,
                                                type_comment=None))]
        target = stmt.target.id
        self.out.inplace.setdefault(target, []).append(stmt)
        value = gast.BinOp(left=name(target), op=stmt.op, right=stmt.value)
        copy_location(value, stmt)
        return self.assign_to(target, value)

    def stmt_Assign(self, stmt: gast.Assign) -> list:
        first, *others = stmt.targets
        if any(isinstance(t, gast.Subscript) for t in stmt.targets):
            return self.stores(stmt)
        if isinstance(first, gast.Tuple):
            out = self.unpack(first, stmt.value)
        else:
            out = self.assign_to(first.id, stmt.value)
            first = name(first.id)
        for other in others:  # a = b = value: assign a, then b = a, in Python's order
            if isinstance(other, gast.Tuple):
                out.extend(self.unpack(other, first))
            else:
                out.append(self.emit(assign(other.id, load_copy(first))))
        return out

    def stores(self, stmt: gast.Assign) -> list:
        """``v[i] = value`` (and ``a = v[i] = value``): the value, then each target, as Python."""
        pre: list = []
        value = self.atomize(stmt.value, pre)
        out = pre
        for target in stmt.targets:
            if isinstance(target, gast.Subscript):
                step: list = []
                node = self.store_target(target, step)
                out += step + [self.emit(gast.Assign(targets=[node], value=load_copy(value),
                                                     type_comment=None))]
            else:
                out += self.assign_to(target.id, load_copy(value))
        return out

    def store_target(self, target: gast.Subscript, pre: list) -> gast.Subscript:
        """The target with every index an atom (the base is a name)."""
        if isinstance(target.value, gast.Subscript):
            base = self.store_target(target.value, pre)
            base.ctx = gast.Load()
        else:
            base = target.value
        node = gast.Subscript(value=base, slice=self.index(target.slice, pre), ctx=gast.Store())
        return copy_location(node, target)

    def index(self, node: gast.expr, pre: list) -> gast.expr:
        """An index with atoms for parts: ``i``, ``a:b:c``, ``i, :``."""
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.atomize(p, pre)
                     for p in (node.lower, node.upper, node.step)]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e, pre) for e in node.elts], ctx=gast.Load())
        return self.atomize(node, pre)

    def unpack(self, target: gast.Tuple, value: gast.expr) -> list:
        pre: list = []
        targets = [t.id for t in target.elts]
        atoms = [self.atomize(e, pre) for e in value.elts]
        atoms = [self.temp(pre, a) if isinstance(a, gast.Name) and a.id in targets else a
                 for a in atoms]
        return pre + [self.emit(assign(t, a)) for t, a in zip(targets, atoms)]

    def assign_to(self, target: str, value: gast.expr) -> list:
        pre: list = []
        expr = self.elementary(value, pre)
        if target in operand_names(expr) and (self.array_mode or not is_increment(target, expr)):
            expr = self.temp(pre, expr)
        return pre + [self.emit(assign(target, expr))]

    def stmt_If(self, stmt: gast.If) -> list:
        pre: list = []
        cond = self.temp(pre, stmt.test, "_cond")
        body, orelse = self.block(stmt.body), self.block(stmt.orelse)
        node = gast.If(test=cond, body=body or [gast.Pass()], orelse=orelse)
        return pre + [self.emit(node)]

    def stmt_For(self, stmt: gast.For) -> list:
        pre: list = []
        rebound = assigned_names(stmt.body)
        if stmt.target.id in rebound:  # the body rebinds the loop variable: count apart
            counter = self.namer.fresh("_i")
            first = self.emit(assign(stmt.target.id, name(counter)))
            stmt.target = name(counter, store=True)
            stmt.body = [first] + stmt.body
        args = []
        for arg in stmt.iter.args:
            atom = self.atomize(arg, pre)
            if isinstance(atom, gast.Name) and atom.id in rebound:
                atom = self.temp(pre, atom)
            args.append(atom)
        stmt.iter.args = args
        if own_jumps(stmt.body, (gast.Break,)):
            self.out.trips[stmt] = self.temp(pre, const(0), "_trip").id
        stmt.body = self.block(stmt.body) or [gast.Pass()]
        return pre + [stmt]

    def stmt_While(self, stmt: gast.While) -> list:
        pre: list = []
        counter = self.temp(pre, const(0), "_trip")
        stmt.body = self.block(stmt.body) or [gast.Pass()]
        self.out.trips[stmt] = counter.id
        return pre + [stmt]

    def stmt_Return(self, stmt: gast.Return) -> list:
        pre: list = []
        if stmt.value is None:
            return [stmt]
        if isinstance(stmt.value, gast.Tuple):
            stmt.value.elts = [self.atomize(e, pre) for e in stmt.value.elts]
        else:
            stmt.value = self.atomize(stmt.value, pre)
        return pre + [stmt]

    # ------------------------------------------------------------------ expressions
    def atomize(self, expr: gast.expr, pre: list) -> gast.expr:
        """An atom with the value of ``expr``, after statements appended to ``pre``."""
        value = self.elementary(expr, pre)
        if is_atom(value) and not (isinstance(value, gast.Attribute) and self.is_local(value)):
            return value
        return self.temp(pre, value)

    def elementary(self, expr: gast.expr, pre: list) -> gast.expr:
        """An elementary expression with the value of ``expr``; sub-steps go to ``pre``."""
        handler = getattr(self, "expr_" + type(expr).__name__, None)
        return handler(expr, pre) if handler else expr  # opaque: kept as written

    def expr_Name(self, expr: gast.Name, pre: list) -> gast.expr:
        return expr

    def expr_BinOp(self, expr: gast.BinOp, pre: list) -> gast.expr:
        if not isinstance(expr.op, DIFF_BINOPS):
            return expr  # //, bit operations: piecewise constant
        left = self.atomize(expr.left, pre)
        right = self.atomize(expr.right, pre)
        return copy_location(make(gast.BinOp, left=left, op=expr.op, right=right), expr)

    def expr_UnaryOp(self, expr: gast.UnaryOp, pre: list) -> gast.expr:
        if not isinstance(expr.op, (gast.USub, gast.UAdd)):
            return expr  # not, ~
        if isinstance(expr.operand, gast.Constant) and isinstance(expr.op, gast.USub):
            return const(-expr.operand.value)
        operand = self.atomize(expr.operand, pre)
        return copy_location(gast.UnaryOp(op=expr.op, operand=operand), expr)

    def expr_Subscript(self, expr: gast.Subscript, pre: list) -> gast.expr:
        base = self.atomize(expr.value, pre)
        node = make(gast.Subscript, value=base, slice=self.index(expr.slice, pre),
                    ctx=make(gast.Load))
        return copy_location(node, expr)

    def expr_List(self, expr: gast.List, pre: list) -> gast.expr:
        return copy_location(gast.List(elts=[self.atomize(e, pre) for e in expr.elts],
                                            ctx=gast.Load()), expr)

    def expr_Tuple(self, expr: gast.Tuple, pre: list) -> gast.expr:
        return copy_location(gast.Tuple(elts=[self.atomize(e, pre) for e in expr.elts],
                                             ctx=gast.Load()), expr)

    def expr_Dict(self, expr: gast.Dict, pre: list) -> gast.expr:
        if any(k is None for k in expr.keys):
            raise self.parsed.error(expr, "cannot differentiate '**' inside a dict literal",
                                    "Build the dict key by key.")
        keys, values = [], []
        for k, v in zip(expr.keys, expr.values):
            keys.append(self.atomize(k, pre))
            values.append(self.atomize(v, pre))
        return copy_location(gast.Dict(keys=keys, values=values), expr)

    def expr_IfExp(self, expr: gast.IfExp, pre: list) -> gast.expr:
        result = self.namer.fresh("_t")
        self.out.temps.add(result)
        stmt = gast.If(test=expr.test, body=[assign(result, expr.body)],
                       orelse=[assign(result, expr.orelse)])
        pre.extend(self.statement(self.emit(stmt)))
        return name(result)

    def expr_BoolOp(self, expr: gast.BoolOp, pre: list) -> gast.expr:
        """``a and b`` is ``t = a; if t: t = b`` (``or``: ``if not t``), as Python does it."""
        result = self.namer.fresh("_t")
        self.out.temps.add(result)
        pre.extend(self.statement(self.emit(assign(result, expr.values[0]))))
        for value in expr.values[1:]:
            test = name(result)
            if isinstance(expr.op, gast.Or):
                test = gast.UnaryOp(op=gast.Not(), operand=test)
            stmt = gast.If(test=test, body=[assign(result, value)], orelse=[])
            pre.extend(self.statement(self.emit(stmt)))
        return name(result)

    def expr_Attribute(self, expr: gast.Attribute, pre: list) -> gast.expr:
        if not self.is_local(expr.value):
            return expr  # a module constant: math.pi
        if expr.attr == "T":
            return self.expr_Call(transpose_attribute(expr, self.calls), pre)
        expr.value = self.atomize(expr.value, pre)
        return expr  # .shape, .size, .ndim, .dtype: no derivative

    def is_local(self, expr: gast.expr) -> bool:
        while isinstance(expr, gast.Attribute):
            expr = expr.value
        return not isinstance(expr, gast.Name) or expr.id in self.local

    def expr_Call(self, expr: gast.Call, pre: list) -> gast.expr:
        if isinstance(expr.func, gast.Attribute) and expr.func.attr in ARRAY_METHODS \
                and self.is_local(expr.func.value):
            expr = method_as_function(expr, self.calls)
        target = self.calls.get(expr)
        key = target.key if target is not None else None
        if target is not None and target.kind == "nondiff":
            return expr
        if key in ("builtins.max", "builtins.min") and len(expr.args) > 2 and not expr.keywords:
            return self.chain(expr, pre)
        if key == "builtins.sum" and expr.args and isinstance(expr.args[0], (gast.List,
                                                                             gast.Tuple)):
            return self.sum_literal(expr, pre)
        expr.args = [self.atomize(a, pre) for a in expr.args]
        for keyword in expr.keywords:
            keyword.value = self.atomize(keyword.value, pre)
        if target is not None and target.kind == "function" and self.inliner is not None:
            inlined = self.inliner.body(target.obj, expr.args, expr.keywords, self.calls,
                                        self.origin or expr)
            if inlined is not None:
                stmts, result = inlined
                self.out.temps.add(result.id)
                try:
                    pre.extend(self.block(stmts))
                finally:
                    self.inliner.done()
                return result
        return expr

    def chain(self, expr: gast.Call, pre: list) -> gast.expr:
        """``max(a, b, c)`` is ``max(max(a, b), c)``: the same value, the same winner."""
        args = [self.atomize(a, pre) for a in expr.args]
        acc = args[0]
        for arg in args[1:]:
            step = copy_location(gast.Call(func=clone(expr.func),
                                                args=[acc, arg], keywords=[]), expr)
            self.calls[step] = self.calls[expr]
            acc = self.temp(pre, step) if arg is not args[-1] else step
        return acc

    def sum_literal(self, expr: gast.Call, pre: list) -> gast.expr:
        """``sum([a, b], s)`` is ``(s + a) + b``, in Python's order (``s`` is 0 by default)."""
        starts = expr.args[1:] + [k.value for k in expr.keywords if k.arg == "start"]
        start = self.atomize(starts[0], pre) if starts else const(0)
        acc: gast.expr = start
        items = [self.atomize(e, pre) for e in expr.args[0].elts]
        for k, item in enumerate(items):
            step = copy_location(gast.BinOp(left=acc, op=gast.Add(), right=item), expr)
            acc = step if k == len(items) - 1 else self.temp(pre, step)
        return acc


# ---------------------------------------------------------------------- predicates

MUTATING = ("append", "extend", "insert", "pop")


def is_method(expr: gast.expr, names: tuple) -> bool:
    """``v.m(...)`` for ``m`` in ``names`` and ``v`` a plain name."""
    return (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Attribute)
            and isinstance(expr.func.value, gast.Name) and expr.func.attr in names)


def is_atom(expr: gast.expr) -> bool:
    """Names, constants and module constants (``math.pi``)."""
    if isinstance(expr, (gast.Name, gast.Constant)):
        return True
    return isinstance(expr, gast.Attribute) and is_atom(expr.value)


def operand_names(expr: gast.expr) -> list[str]:
    return [n.id for n in name_nodes(expr)]


def is_increment(target: str, expr: gast.expr) -> bool:
    """``v = v + a``, ``v = a + v`` or ``v = v - a``, with ``v`` once: an accumulation."""
    if not isinstance(expr, gast.BinOp):
        return False
    left_is = isinstance(expr.left, gast.Name) and expr.left.id == target
    right_is = isinstance(expr.right, gast.Name) and expr.right.id == target
    return ((isinstance(expr.op, gast.Add) and (left_is or right_is)) or (
        isinstance(expr.op, gast.Sub) and left_is)) and operand_names(expr).count(target) == 1


def assigned_names(stmts: list) -> set[str]:
    found = set()
    for stmt in stmts:
        for node in name_nodes(stmt):
            if isinstance(node.ctx, gast.Store):
                found.add(node.id)
    return found


def load_copy(node: gast.expr) -> gast.expr:
    node = clone(node)
    for sub in name_nodes(node):
        sub.ctx = make(gast.Load)
    return node
