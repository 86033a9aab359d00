"""Validate: the language fence. Reject, with a located error, what cannot be differentiated.

Input: the user's parsed function. Output: the same tree, unchanged, or a
``TransformError`` naming the first unsupported construct, its ``file:line:col``
and what to write instead. Every construct that passes the fence is handled
correctly by the later passes; nothing outside it reaches them.

>>> from ast_ad.source import parse_lines
>>> p = parse_lines(["def f(x):\\n", "    with x:\\n", "        pass\\n"], 1, "<doc>", "f")
>>> try:
...     Validate(p).run()
... except TransformError as err:
...     print(err.message, err.lineno, err.col)
cannot differentiate a 'with' statement in f() 2 4
"""
from __future__ import annotations

import builtins

import gast

from ..errors import TransformError  # noqa: F401 (doctest)
from ..source import Parsed
from ..walk import name_fields
from ..walk import walk as fast_walk
from .methods import ARRAY_ATTRIBUTES, ARRAY_METHODS
from .resolve import local_names

# statement kinds refused anywhere, with the hint shown to the user
REFUSED_STATEMENTS = {
    gast.With: ("a 'with' statement", "Move the 'with' block out of the differentiated "
                "function and pass in the values it produces."),
    gast.AsyncWith: ("an 'async with' statement", "Async code is not supported."),
    gast.AsyncFor: ("an 'async for' loop", "Async code is not supported."),
    gast.AsyncFunctionDef: ("an async function", "Async code is not supported."),
    gast.Try: ("a 'try' statement", "Move the error handling to the caller."),
    gast.Global: ("a 'global' declaration", "Return the value instead of writing a global."),
    gast.Nonlocal: ("a 'nonlocal' declaration", "Return the value instead of writing to "
                    "an enclosing function's variable."),
    gast.Delete: ("a 'del' statement", "Remove the 'del'; rebinding the name is supported."),
    gast.ClassDef: ("a class definition", "Define the class outside the function."),
    gast.Import: ("an 'import' inside the function", "Import at module level."),
    gast.ImportFrom: ("an 'import' inside the function", "Import at module level."),
    gast.Match: ("a 'match' statement", "Rewrite it as if/elif/else."),
}

REFUSED_EXPRESSIONS = {
    gast.NamedExpr: ("the walrus operator ':='", "Assign in a statement of its own."),
    gast.Yield: ("'yield' (a generator)", "Return a value instead of yielding."),
    gast.YieldFrom: ("'yield from' (a generator)", "Return a value instead of yielding."),
    gast.Await: ("'await'", "Async code is not supported."),
    gast.SetComp: ("a set comprehension", "Write the loop out explicitly."),
    gast.Set: ("a set", "Use separate variables."),
    gast.Starred: ("a starred expression", "Pass the arguments one by one."),
}

DYNAMIC = {k: getattr(builtins, k) for k in ("getattr", "setattr", "delattr", "exec", "eval",
                                            "globals", "locals", "vars", "compile",
                                            "__import__")}
DYNAMIC_HINT = "Write the attribute or the code out directly."


def _mutators() -> list:
    """Library functions that change an argument in place."""
    import random

    import numpy
    found = [random.shuffle, numpy.random.shuffle, numpy.copyto, numpy.put, numpy.place,
             numpy.fill_diagonal, numpy.putmask, numpy.put_along_axis]
    return found

CONTAINER_METHODS = {"append", "extend", "insert", "pop", "copy", "keys", "values", "items"}
MUTATING_METHODS = {"append", "extend", "insert", "pop"}

FENCE_HINT = "See docs/supported.md for the Python that ast_ad differentiates."


class Validate:
    """Walk the function once; raise on the first construct outside the fence."""

    def __init__(self, parsed: Parsed, calls: dict | None = None):
        self.parsed = parsed
        self.dynamic = {id(call): target for call, target in (calls or {}).items()
                        if any(target.obj is obj for obj in DYNAMIC.values())}
        self.mutators = {id(call): target.label for call, target in (calls or {}).items()
                         if any(target.obj is obj for obj in _mutators())}
        self.literal_args = {id(call.args[0]) for call, target in (calls or {}).items()
                             if target.key == "builtins.sum" and call.args
                             and isinstance(call.args[0], (gast.List, gast.Tuple))}
        self.name = parsed.func.name
        self.local = local_names(parsed.func)
        self.params = {a.id for a in fast_walk(parsed.func.args) if isinstance(a, gast.Name)}
        self.methods: set = set()

    def run(self) -> Parsed:
        self.signature(self.parsed.func)
        for stmt in self.parsed.func.body:
            self.statement(stmt)
        return self.parsed

    def refuse(self, node: gast.AST, what: str, hint: str = ""):
        raise self.parsed.error(node, f"cannot differentiate {what} in {self.name}()",
                                hint or FENCE_HINT)

    def signature(self, func: gast.FunctionDef) -> None:
        args = func.args
        if args.vararg is not None:
            self.refuse(args.vararg, f"'*{args.vararg.id}' parameters",
                        "Give each argument its own parameter.")
        if args.kwarg is not None:
            self.refuse(args.kwarg, f"'**{args.kwarg.id}' parameters",
                        "Give each argument its own parameter.")

    def statement(self, stmt: gast.stmt) -> None:
        kind = type(stmt)
        if kind in REFUSED_STATEMENTS:
            what, hint = REFUSED_STATEMENTS[kind]
            self.refuse(stmt, what, hint)
        handler = getattr(self, "stmt_" + kind.__name__, None)
        if handler is None:
            self.refuse(stmt, f"a {kind.__name__} statement")
        handler(stmt)

    def block(self, stmts: list) -> None:
        for stmt in stmts:
            self.statement(stmt)

    # ------------------------------------------------------------------ statements
    def stmt_Assign(self, stmt: gast.Assign) -> None:
        for target in stmt.targets:
            self.target(target, stmt.value)
        self.expression(stmt.value)

    def stmt_AugAssign(self, stmt: gast.AugAssign) -> None:
        self.target(stmt.target, None)
        self.expression(stmt.value)

    def stmt_AnnAssign(self, stmt: gast.AnnAssign) -> None:
        self.target(stmt.target, stmt.value)
        if stmt.value is not None:
            self.expression(stmt.value)

    def stmt_Expr(self, stmt: gast.Expr) -> None:
        self.expression(stmt.value)

    def stmt_Pass(self, stmt: gast.Pass) -> None:
        pass

    def stmt_FunctionDef(self, stmt: gast.FunctionDef) -> None:
        """A local function: checked and transformed when it is called; here only what would
        let it change this function's variables behind our back."""
        if stmt.decorator_list:
            self.refuse(stmt.decorator_list[0], "a decorated local function",
                        "Define the decorated function at module level.")
        for node in fast_walk(stmt):
            if isinstance(node, (gast.Nonlocal, gast.Global)):
                what = "nonlocal" if isinstance(node, gast.Nonlocal) else "global"
                self.refuse(node, f"a '{what}' declaration in the local function "
                            f"'{stmt.name}'", "Return the new value instead.")

    def stmt_Assert(self, stmt: gast.Assert) -> None:
        self.expression(stmt.test)

    def stmt_Raise(self, stmt: gast.Raise) -> None:
        pass

    def stmt_If(self, stmt: gast.If) -> None:
        self.expression(stmt.test)
        self.block(stmt.body)
        self.block(stmt.orelse)

    def stmt_For(self, stmt: gast.For) -> None:
        self.loop_target(stmt.target)
        self.expression(stmt.iter)
        self.block(stmt.body)
        self.block(stmt.orelse)

    def stmt_Break(self, stmt: gast.Break) -> None:
        pass

    def stmt_Continue(self, stmt: gast.Continue) -> None:
        pass

    def stmt_While(self, stmt: gast.While) -> None:
        self.expression(stmt.test)
        self.block(stmt.body)
        self.block(stmt.orelse)

    def stmt_Return(self, stmt: gast.Return) -> None:
        if stmt.value is not None:
            self.expression(stmt.value)

    def module_attribute(self, node: gast.Attribute) -> bool:
        """``math.pi``, ``np.linalg.norm``: a dotted name rooted in a free (module) name."""
        while isinstance(node, gast.Attribute):
            node = node.value
        return isinstance(node, gast.Name) and node.id not in self.local

    def method_call(self, node: gast.Call) -> None:
        """``xs.append(v)`` and friends on a local list or dict."""
        func = node.func
        if self.module_attribute(func) or not self.rooted_in_local(func):
            self.methods.add(id(func))
            return  # log.info(...), logging.getLogger(...).warning(...): no local changes
        if func.attr not in CONTAINER_METHODS and func.attr not in ARRAY_METHODS:
            self.refuse(func, f"the method call '.{func.attr}(...)'", "Supported methods: " +
                        ", ".join(sorted(CONTAINER_METHODS | set(ARRAY_METHODS))) + ".")
        if not isinstance(func.value, gast.Name) and func.attr not in ARRAY_METHODS:
            self.refuse(func, f"'.{func.attr}(...)' on a computed value",
                        "Assign the value to a variable first.")
        if func.attr in MUTATING_METHODS:
            self.mutation(func.value, f"'.{func.attr}(...)'")
        self.methods.add(id(func))

    def rooted_in_local(self, node: gast.expr) -> bool:
        """Does the object a method is called on come from this function's variables?"""
        while isinstance(node, (gast.Attribute, gast.Call, gast.Subscript)):
            node = node.func if isinstance(node, gast.Call) else node.value
        return not isinstance(node, gast.Name) or node.id in self.local

    def mutation(self, base: gast.Name, what: str) -> None:
        if base.id in self.params:
            raise self.parsed.error(
                base, f"cannot differentiate {what} on the argument '{base.id}' in "
                f"{self.name}(): it would change the caller's value",
                f"Work on a copy first: {base.id} = {base.id}.copy()")

    # ------------------------------------------------------------------ targets
    def target(self, target: gast.expr, value: gast.expr | None) -> None:
        if isinstance(target, gast.Name):
            return
        if isinstance(target, gast.Tuple):
            for elt in target.elts:
                if isinstance(elt, gast.Starred):
                    self.refuse(elt, "starred unpacking", "Unpack each element by index.")
                self.target(elt, None)
            return
        if isinstance(target, gast.Subscript):
            base = target
            while isinstance(base, gast.Subscript):
                self.expression(base.slice)
                base = base.value
            if isinstance(base, gast.Name):
                self.mutation(base, "item assignment")
                return
        self.refuse(target, f"assignment to {_describe(target)}",
                    "Assign to plain variable names, elements or slices.")

    def loop_target(self, target: gast.expr) -> None:
        if isinstance(target, gast.Name):
            return
        if isinstance(target, gast.Tuple):
            for elt in target.elts:
                self.loop_target(elt)
            return
        self.refuse(target, "a loop target other than names", "Loop over plain names.")

    # ------------------------------------------------------------------ expressions
    def expression(self, expr: gast.expr) -> None:
        for node in _walk_skipping(expr, self.literal_args):
            kind = type(node)
            if kind in REFUSED_EXPRESSIONS:
                what, hint = REFUSED_EXPRESSIONS[kind]
                self.refuse(node, what, hint)
            if kind is gast.Attribute and not self.module_attribute(node) \
                    and id(node) not in self.methods and node.attr not in ARRAY_ATTRIBUTES:
                self.refuse(node, f"the attribute '.{node.attr}' of a computed value")
            if kind is gast.Call and isinstance(node.func, gast.Attribute):
                self.method_call(node)
            if kind is gast.Call and any(k.arg == "out" for k in node.keywords):
                self.refuse(node, "a call with 'out=' (it writes into an existing array)",
                            "Assign the result instead: y = f(...).")
            if kind is gast.Call and id(node) in self.mutators:
                self.refuse(node, f"a call to {self.mutators[id(node)]}(), which changes its "
                            "argument in place", "Work on a copy and assign the result.")
            if kind is gast.Call and id(node) in self.dynamic:
                label = self.dynamic[id(node)].label
                self.refuse(node, f"a call to {label}(), which reads or changes variables "
                            "by name at run time", DYNAMIC_HINT)
            if kind in (gast.ListComp, gast.GeneratorExp, gast.DictComp):
                for gen in node.generators:
                    if gen.is_async:
                        self.refuse(node, "an async comprehension")
                    self.loop_target(gen.target)
            if kind is gast.Call and any(isinstance(k.value, gast.Starred) or k.arg is None
                                         for k in node.keywords):
                self.refuse(node, "a call with '**' arguments", "Pass the arguments by name.")
            if kind is gast.Constant and isinstance(node.value, complex):
                self.refuse(node, "a complex number", "Only real numbers are supported.")




def _walk_skipping(expr: gast.expr, allowed: set):
    """Walk ``expr``; the list/tuple literals in ``allowed`` pass, their items are walked."""
    todo = [expr]
    while todo:
        node = todo.pop()
        if id(node) in allowed:
            todo.extend(node.elts)
            continue
        yield node
        for field in name_fields(type(node)):  # gast.iter_child_nodes but contexts, operators
            value = getattr(node, field, None)
            if type(value) is list:
                todo.extend([v for v in value if isinstance(v, gast.AST)])
            elif isinstance(value, gast.AST):
                todo.append(value)


def _describe(target: gast.expr) -> str:
    if isinstance(target, gast.Subscript):
        return "an element or slice"
    if isinstance(target, gast.Attribute):
        return f"the attribute '.{target.attr}'"
    return "a " + type(target).__name__.lower()
