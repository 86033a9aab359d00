"""Resolve: map each call site to the object it calls and that object's rule key.

Input: the user's parsed function and its environment (globals, closure).
Output: a plain dict ``{Call node: Target}``, plus the guards (global names and
the objects they held) that keep a cached transformation honest when the user
rebinds a name later. Nothing in the tree changes.

>>> import math, gast
>>> from ast_ad.source import parse_lines
>>> p = parse_lines(["def f(x):\\n", "    return s(x)\\n"], 1, "<doc>", "f")
>>> calls, _ = resolve(p, Env({"s": math.sin}, {}))
>>> [t.key for t in calls.values()]
['math.sin']
"""
from __future__ import annotations

import builtins
import types
from dataclasses import dataclass, field

import gast

from .. import rules
from ..source import Parsed
from ..walk import frozen_fact, is_frozen, name_nodes, nodes_of
from ..walk import walk as fast_walk

_MISSING = object()


@dataclass(frozen=True)
class Env:
    """Where the function's free names live: its globals and its closure cells' values."""

    globals: dict
    closure: dict

    @classmethod
    def of(cls, fn: types.FunctionType) -> Env:
        cells = fn.__closure__ or ()
        closure = {}
        for name, cell in zip(fn.__code__.co_freevars, cells):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                closure[name] = _MISSING
        return cls(fn.__globals__, closure)

    def lookup(self, name: str) -> tuple[object, str]:
        """The value of free name ``name`` and where it was found."""
        if name in self.closure:
            return self.closure[name], "closure"
        if name in self.globals:
            return self.globals[name], "global"
        return getattr(builtins, name, _MISSING), "builtin"


@dataclass(frozen=True)
class Target:
    """What one call site calls: the object, its rule key, and the kind of key."""

    obj: object
    key: str | None
    kind: str  # "rule", "nondiff", "special" (rewritten), "function" (user code), "unknown"
    label: str  # the callee as written, e.g. "np.linalg.norm"


@dataclass
class Resolution:
    calls: dict = field(default_factory=dict)
    guards: list = field(default_factory=list)


def local_names(func: gast.FunctionDef) -> set[str]:
    """Names bound inside ``func``: its parameters and every assignment target."""
    return set(frozen_fact(func, _local_names))


def _local_names(func: gast.FunctionDef) -> set[str]:
    found = set()
    if is_frozen(func):  # its Names and defs from the walk's nodes sorted by class
        nodes = nodes_of(func, (gast.Name,), local=True) \
            + nodes_of(func, (gast.FunctionDef,), local=True)
    else:
        nodes = name_nodes(func, local=True)  # and the nested functions
    for node in nodes:
        kind = type(node)
        if kind is gast.Name:
            if isinstance(node.ctx, (gast.Store, gast.Param)):
                found.add(node.id)
        elif kind is gast.FunctionDef and node is not func:
            found.add(node.name)
    for arg in func.args.args + func.args.posonlyargs + func.args.kwonlyargs:
        found.add(arg.id)
    return found


def resolve(parsed: Parsed, env: Env) -> tuple[dict, list]:
    """Return ``({Call: Target}, guards)`` for every call in the function."""
    local = local_names(parsed.func)
    result = Resolution()
    for node in fast_walk(parsed.func):
        if isinstance(node, gast.Call):
            result.calls[node] = _target(node.func, env, local, result.guards)
    return result.calls, result.guards


def resolve_value(expr: gast.expr, env: Env, local: set[str]) -> object:
    """The object a Name or module attribute chain refers to, or ``_MISSING``."""
    if isinstance(expr, gast.Name):
        if expr.id in local:
            return _MISSING
        return env.lookup(expr.id)[0]
    if isinstance(expr, gast.Attribute):
        base = resolve_value(expr.value, env, local)
        if isinstance(base, types.ModuleType):
            return getattr(base, expr.attr, _MISSING)
    return _MISSING


def _target(func: gast.expr, env: Env, local: set[str], guards: list) -> Target:
    label = _label(func)
    obj = resolve_value(func, env, local)
    root = _root_name(func)
    if root is not None and root not in local:
        value, where = env.lookup(root)
        if where == "global" or where == "builtin":
            guards.append((root, value))
    if obj is _MISSING:
        return Target(None, None, "unknown", label)
    key = rules.key_of(obj)
    if key is not None:
        kind = "nondiff" if key in rules.NONDIFF else "rule" if key in rules.RULES else "special"
        return Target(obj, key, kind, label)
    if isinstance(obj, types.FunctionType):
        return Target(obj, None, "function", label)
    return Target(obj, None, "unknown", label)


def _root_name(expr: gast.expr) -> str | None:
    while isinstance(expr, gast.Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, gast.Name) else None


def _label(expr: gast.expr) -> str:
    if isinstance(expr, gast.Name):
        return expr.id
    if isinstance(expr, gast.Attribute):
        return f"{_label(expr.value)}.{expr.attr}"
    return type(expr).__name__.lower()


MISSING = _MISSING
