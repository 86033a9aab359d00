"""Desugar: loops over sequences, comprehensions and unpacking become index arithmetic.

Input: a validated function. Output: an equivalent function where

* ``for x in seq`` (lists, tuples, arrays, ``enumerate``, ``zip``, ``reversed``,
  dict keys, ``.keys()``, ``.values()``, ``.items()``) is
  ``for _k in range(n): x = <element _k>``, so that the reverse sweep replays
  the same elements through ordinary indexing;
* a list or generator comprehension is a loop appending to a fresh list (its
  variables renamed so that they stay local, as in Python 3); a dict
  comprehension assigns into a fresh dict;
* ``a, b = t`` (``t`` not a tuple literal) is ``a = t[0]; b = t[1]``.

``for`` over ``range(...)`` is left alone.

>>> from ast_ad.source import parse_lines, to_source
>>> src = ["def f(xs):\\n", "    s = 0.0\\n", "    for i, x in enumerate(xs):\\n",
...        "        s = s + i * x\\n", "    return s\\n"]
>>> print(to_source(Desugar(parse_lines(src, 1, "<doc>", "f").func).run()), end="")
def f(xs):
    _seq1 = sequence(xs)
    _n1 = len(_seq1)
    s = 0.0
    for _k1 in range(_n1):
        i, x = (_k1, _seq1[_k1])
        s = s + i * x
    return s

(``sequence(xs)`` is ``xs`` itself, or the list of its keys when ``xs`` is a dict; for an
argument it is taken once, at the start.)
"""
from __future__ import annotations

import gast

from ..errors import TransformError
from ..naming import Namer, names_in
from ..nodes import copy_location
from ..templates import assign, call, clone, const, name
from ..walk import Rename, Transformer
from ..walk import walk as fast_walk


def _sub(base: gast.expr, index: gast.expr) -> gast.Subscript:
    return gast.Subscript(value=clone(base), slice=index, ctx=gast.Load())


def _builtin_call(expr: gast.expr, *names: str) -> bool:
    return (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name)
            and expr.func.id in names and not expr.keywords)


def _method_call(expr: gast.expr, *methods: str) -> bool:
    return (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Attribute)
            and expr.func.attr in methods and not expr.args)


class Desugar(Transformer):
    def __init__(self, func: gast.FunctionDef, namer: Namer | None = None,
                 calls: dict | None = None, error=None):
        self.func = func
        self.error = error or (lambda node, message, hint="": TransformError(message, None,
                                                                              hint))
        self.namer = namer or Namer(names_in(func))
        self.calls = calls
        self.pre: list = []   # statements to place before the statement being rewritten
        params = {a.id for a in fast_walk(func.args) if isinstance(a, gast.Name)}
        stored = {n.id for n in fast_walk(func) if isinstance(n, gast.Name)
                  and isinstance(n.ctx, gast.Store)}
        self.fixed = params - stored  # arguments never rebound (nor changed: that is refused)

    def run(self) -> gast.FunctionDef:
        """Rewrite the function (as it was when this was made) in place and return it."""
        self.entry: list = []
        self.entry_seqs: dict = {}
        body = self.block(self.func.body)
        self.func.body = self.entry + body
        return self.func

    def block(self, stmts: list) -> list:
        out: list = []
        for stmt in stmts:
            saved, self.pre = self.pre, []
            new = self.visit(stmt)
            out.extend(self.pre)
            out.extend(new if isinstance(new, list) else [new])
            self.pre = saved
        return out

    def located(self, stmts: list, origin: gast.AST) -> list:
        for stmt in stmts:
            for node in fast_walk(stmt):
                if getattr(node, "lineno", None) is None and hasattr(node, "_fields"):
                    copy_location(node, origin)
        return stmts

    # ------------------------------------------------------------------ statements
    def visit_If(self, node: gast.If) -> gast.If:
        node.body = self.block(node.body)
        node.orelse = self.block(node.orelse)
        return node

    def visit_While(self, node: gast.While) -> gast.While:
        node.body = self.block(node.body)
        node.orelse = self.block(node.orelse)
        return node

    def visit_For(self, node: gast.For):
        node.iter = self.visit(node.iter)
        body = self.block(node.body)
        orelse = self.block(node.orelse)
        if self.is_range(node.iter) and isinstance(node.target, gast.Name):
            node.body, node.orelse = body, orelse
            return node
        self.check_iterated(node)
        out, length, element = self.sequence(node.iter, node)
        k = self.namer.fresh("_k")
        head = gast.Assign(targets=[node.target], value=element(name(k)), type_comment=None)
        head = self.unpack(head) if isinstance(node.target, gast.Tuple) else [head]
        loop = gast.For(target=name(k, store=True), iter=call("range", length),
                        body=self.located(head, node.target) + body, orelse=orelse,
                        type_comment=None)
        return self.located(out + [copy_location(loop, node)], node)

    def visit_FunctionDef(self, node: gast.FunctionDef) -> gast.FunctionDef:
        return node  # a local function is transformed when it is called

    def visit_Lambda(self, node: gast.Lambda) -> gast.Name:
        """A lambda becomes a local ``def`` placed before the statement."""
        return name(self.define(self.namer.fresh("_lambda"), node))

    def define(self, ident: str, node: gast.Lambda) -> str:
        ret = copy_location(gast.Return(value=node.body), node)
        func = gast.FunctionDef(name=ident, args=node.args, body=[ret], decorator_list=[],
                                returns=None, type_comment=None, type_params=[])
        self.pre.append(copy_location(func, node))
        return ident

    def is_range(self, expr: gast.expr) -> bool:
        if not _builtin_call(expr, "range"):
            return False
        target = (self.calls or {}).get(expr)
        return target is None or target.key == "builtins.range"

    def check_iterated(self, node: gast.For) -> None:
        """Python iterates a list live; we index it: so its length must not change in the loop,
        and rebinding its name must not change what is iterated."""
        seq = node.iter
        if not isinstance(seq, gast.Name):
            return
        for sub in fast_walk(gast.Module(body=node.body, type_ignores=[])):
            if isinstance(sub, gast.Call) and isinstance(sub.func, gast.Attribute) \
                    and isinstance(sub.func.value, gast.Name) and sub.func.value.id == seq.id \
                    and sub.func.attr in ("append", "extend", "insert", "pop"):
                raise self.error(
                    sub, f"cannot differentiate a loop over '{seq.id}' that changes its length "
                    f"with '.{sub.func.attr}(...)' inside the loop",
                    f"Loop over a copy: for ... in list({seq.id}):")
        rebound = {n.id for s in node.body for n in fast_walk(s)
                   if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        if seq.id in rebound:
            tmp = self.namer.fresh("_seq")
            self.pre.append(copy_location(assign(tmp, seq), node))
            node.iter = name(tmp)

    def visit_Assign(self, node: gast.Assign):
        if isinstance(node.value, gast.Lambda) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):  # f = lambda x: ...: def f(x)
            self.define(node.targets[0].id, node.value)
            return []
        node.value = self.visit(node.value)
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Tuple):
            return self.located(self.unpack(node), node)
        return node

    def unpack(self, node: gast.Assign) -> list:
        """``a, (b, c) = value``: by index unless ``value`` is a tuple literal of that shape."""
        target, value = node.targets[0], node.value
        if isinstance(value, gast.Tuple) and len(value.elts) == len(target.elts) and all(
                isinstance(t, gast.Name) for t in target.elts):
            return [node]
        out = []
        if not isinstance(value, gast.Name):
            tmp = self.namer.fresh("_seq")
            out.append(assign(tmp, value))
            value = name(tmp)
        count = const(len(target.elts))  # Python's check, kept: exactly that many items
        out.append(gast.Expr(value=self.runtime_call("unpacked", clone(value), count,
                                                             kind="nondiff")))
        for k, elt in enumerate(target.elts):
            step = gast.Assign(targets=[elt], value=_sub(value, const(k)), type_comment=None)
            out.extend(self.unpack(step) if isinstance(elt, gast.Tuple) else [step])
        return out

    # ------------------------------------------------------------------ sequences
    def sequence(self, it: gast.expr, origin: gast.AST):
        """``(setup statements, length expression, element(k) -> expression)`` for ``it``."""
        if _builtin_call(it, "enumerate") and len(it.args) == 1:
            out, length, inner = self.sequence(it.args[0], origin)
            return out, length, lambda k: gast.Tuple(elts=[k, inner(clone(k))],
                                                     ctx=gast.Load())
        if _builtin_call(it, "zip") and it.args:
            parts = [self.sequence(a, origin) for a in it.args]
            out = [s for p in parts for s in p[0]]
            length = parts[0][1] if len(parts) == 1 else call("min", *[p[1] for p in parts])
            return out, length, lambda k: gast.Tuple(
                elts=[p[2](clone(k)) for p in parts], ctx=gast.Load())
        if _builtin_call(it, "reversed") and len(it.args) == 1:
            out, length, inner = self.sequence(it.args[0], origin)
            last = gast.BinOp(left=gast.UnaryOp(op=gast.USub(), operand=const(1)),
                              op=gast.Sub(), right=None)
            def element(k):
                index = clone(last)
                index.right = k
                return inner(index)
            return out, length, element
        if _method_call(it, "items", "keys", "values"):
            mapping = self.hoist(it.func.value)
            keys = self.namer.fresh("_keys")
            out = [assign(keys, call("list", mapping))]
            which = it.func.attr
            def element(k):
                key = _sub(name(keys), k)
                if which == "keys":
                    return key
                val = _sub(mapping, clone(key))
                return val if which == "values" else gast.Tuple(elts=[key, val], ctx=gast.Load())
            return out, call("len", name(keys)), element
        # a list, tuple, array... or a dict (its keys), a set, an iterator (its items)
        if isinstance(it, gast.Name) and it.id in self.fixed:  # an argument: once, up front
            if it.id not in self.entry_seqs:
                seq, size = self.namer.fresh("_seq"), self.namer.fresh("_n")
                self.entry_seqs[it.id] = seq, size
                self.entry.append(copy_location(assign(seq, self.sequence_call(it)), it))
                self.entry.append(copy_location(assign(size, call("len", name(seq))), it))
            seq, size = self.entry_seqs[it.id]
            return [], name(size), lambda k: _sub(name(seq), k)
        seq = self.hoist(self.sequence_call(it), force=True)
        return [], call("len", clone(seq)), lambda k: _sub(seq, k)

    def sequence_call(self, it: gast.expr) -> gast.Call:
        return self.runtime_call("sequence", it)

    def runtime_call(self, helper: str, *args: gast.expr, kind: str = "rule") -> gast.Call:
        """A call of ``ast_ad.runtime.<helper>``, resolved as its rule (or ``kind``) says."""
        from .. import runtime
        from .resolve import Target
        node = copy_location(call(helper, *args), args[0])
        if self.calls is not None:
            self.calls[node] = Target(getattr(runtime, helper), f"ast_ad.runtime.{helper}",
                                      kind, helper)
        return node

    def hoist(self, expr: gast.expr, force: bool = False) -> gast.expr:
        """A name for ``expr``, evaluated once before the loop."""
        if isinstance(expr, gast.Name) and not force:
            return expr
        tmp = self.namer.fresh("_seq")
        self.pre.append(copy_location(assign(tmp, expr), expr))
        return name(tmp)

    # ------------------------------------------------------------------ comprehensions
    def visit_ListComp(self, node: gast.ListComp) -> gast.Name:
        result = self.namer.fresh("_list")
        self.pre.append(assign(result, gast.List(elts=[], ctx=gast.Load())))
        append = gast.Expr(value=gast.Call(
            func=gast.Attribute(value=name(result), attr="append", ctx=gast.Load()),
            args=[node.elt], keywords=[]))
        self.comprehension(node, [append])
        return name(result)

    visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: gast.DictComp) -> gast.Name:
        result = self.namer.fresh("_dict")
        self.pre.append(assign(result, gast.Dict(keys=[], values=[])))
        store = gast.Assign(targets=[gast.Subscript(value=name(result), slice=node.key,
                                                    ctx=gast.Store())],
                            value=node.value, type_comment=None)
        self.comprehension(node, [store])
        return name(result)

    def comprehension(self, node: gast.AST, body: list) -> None:
        """Nested loops for the generators, with their variables renamed apart."""
        renames = {}
        outer = clone(node.generators[0].iter)
        for gen in node.generators:
            for target in fast_walk(gen.target):
                if isinstance(target, gast.Name):
                    renames[target.id] = self.namer.fresh("_" + target.id)
        Rename(renames).visit(node)
        node.generators[0].iter = outer  # evaluated in the enclosing scope, not renamed
        for gen in reversed(node.generators):
            for cond in reversed(gen.ifs):
                body = [gast.If(test=cond, body=body, orelse=[])]
            body = [gast.For(target=gen.target, iter=gen.iter, body=body, orelse=[],
                             type_comment=None)]
        self.pre.extend(self.located(self.block(body), node))

