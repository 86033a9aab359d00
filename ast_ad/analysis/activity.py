"""Activity analysis on beniget def-use chains: which definitions need adjoints.

A definition is *varied* if it depends, through differentiable operations, on
an argument we differentiate with respect to; *useful* if the returned value
depends on it the same way. It is *active* if both. Integer counters, loop
indices, ``len(...)`` and branch tests are never varied (they come from
piecewise-constant operations), so they never get adjoints.

Input: a normalised module. Output: an :class:`Activity`, plain sets of nodes.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

import beniget
import gast

from ..ops import classify
from ..passes.normalize import MUTATING, is_method
from ..walk import (
    free_loads,
    name_nodes,
    nested_functions,
    node_fields,
    nodes_of,
    parameters,
    walk_local,
)
from .shifts import stabilising_uses


@dataclass
class Activity:
    varied: set = field(default_factory=set)   # definition nodes (Name in Store/Param ctx)
    useful: set = field(default_factory=set)
    adjoint_names: set = field(default_factory=set)  # variables that carry an adjoint

    def active(self, definition: gast.Name) -> bool:
        return definition in self.varied and definition in self.useful


def analyze(module: gast.Module, func: gast.FunctionDef, wrt: list[str], calls: dict) -> Activity:
    """Propagate variedness forward from ``wrt`` and usefulness back from the return."""
    chains = _QuietChains()
    chains.visit(module)
    users = {node: [u.node for u in d.users()] for node, d in chains.chains.items()}
    chains.release()
    reaching: dict = {}
    for node, used_by in users.items():
        for use in used_by:
            reaching.setdefault(use, []).append(node)
    flow = _flows(func, calls, reaching)  # use node -> definitions it flows into
    for use in stabilising_uses(func, calls, users, reaching):
        flow.pop(use, None)  # a log-sum-exp's shift: its derivative cancels exactly
    back: dict = {}
    for use, targets in flow.items():
        for target in targets:
            back.setdefault(target, []).append(use)

    params = [a for a in parameters(func) if a.id in wrt]
    varied = _closure(params, lambda d: [t for u in users.get(d, []) for t in flow.get(u, ())])
    seeds = [d for use in _returned(func) for d in reaching.get(use, [])]
    useful = _closure(seeds, lambda d: [r for u in back.get(d, []) for r in reaching.get(u, [])])
    result = Activity(varied, useful)
    result.adjoint_names = {d.id for d in varied & useful}
    return result


class _QuietChains(beniget.DefUseChains):
    """beniget warns about names it cannot bind (globals of the user's module): not ours to say.
    Its visits are dispatched as ``ast.NodeVisitor`` dispatches them, with each node class's
    method looked up once (beniget sets its methods before visiting)."""

    def warn(self, msg, node):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ast_ad_methods: dict = {}  # node class -> bound visit method

    def visit(self, node):
        method = self._ast_ad_methods.get(type(node))
        if method is None:
            method = getattr(self, "visit_" + node.__class__.__name__, self.generic_visit)
            self._ast_ad_methods[type(node)] = method
        return method(node)

    def release(self) -> None:
        """Forget everything, once the chains have been read. The visitor refers to itself
        (its bound methods, kept by it and by beniget): left as it is, it and its
        thousands of definitions would be garbage that only the cyclic collector frees,
        at a cost paid by whatever code runs when it next collects."""
        self.__dict__.clear()

    def generic_visit(self, node):
        """``ast.NodeVisitor.generic_visit``, leaving out fields that never hold nodes."""
        for name in node_fields(type(node)):
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)


def _closure(start: list, step) -> set:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _returned(func: gast.FunctionDef) -> list:
    """Name loads in return statements."""
    found = []
    for node in nodes_of(func, (gast.Return,), local=True):
        if node.value is not None:
            found.extend(name_nodes(node.value))
    return found


def _flows(func: gast.FunctionDef, calls: dict, reaching: dict) -> dict:
    """``{operand Name load: [definitions]}`` for every differentiable operand. Writing into
    a container (``v[i] = y``, ``v.append(y)``) flows into the definitions of ``v``."""
    flow: dict = {}
    closures = _closure_reads(func)
    for node in nodes_of(func, (gast.Assign, gast.Expr), local=True):  # (what makes flows)
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name):
            for atom, _ in classify(node.value, calls).diff_args():
                if isinstance(atom, gast.Name):
                    flow.setdefault(atom, []).append(node.targets[0])
                    for load in closures.get(atom.id, ()):  # a closure passed as a value
                        flow.setdefault(load, []).append(node.targets[0])
            callee = node.value.func if isinstance(node.value, gast.Call) else None
            if isinstance(callee, gast.Name):  # a local function reads our variables
                for load in closures.get(callee.id, ()):
                    flow.setdefault(load, []).append(node.targets[0])
        elif isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Subscript):
            _into(flow, container_base(node.targets[0]), [node.value], reaching)
        elif isinstance(node, gast.Expr) and is_method(node.value, MUTATING):
            _into(flow, node.value.func.value, node.value.args, reaching)
    return flow


def _closure_reads(func: gast.FunctionDef) -> dict:
    """``{local function name: loads of this function's variables inside it}``."""
    nested_defs = nested_functions(func)
    if not nested_defs:
        return {}
    local = {n.id for n in walk_local(func) if isinstance(n, gast.Name)
             and isinstance(n.ctx, (gast.Store, gast.Param))}
    reads: dict = {}
    for nested in nested_defs:
        reads.setdefault(nested.name, []).extend(free_loads(nested, local))
    return reads


def _into(flow: dict, base: gast.Name, values: list, reaching: dict) -> None:
    for value in values:
        if isinstance(value, gast.Name):
            flow.setdefault(value, []).extend(reaching.get(base, []))


def container_base(target: gast.Subscript) -> gast.Name:
    while isinstance(target, gast.Subscript):
        target = target.value
    return target
