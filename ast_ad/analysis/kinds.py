"""Which variables certainly hold numbers (or arrays), and which certainly hold lists.

Adjoints of numbers accumulate with an inline ``+=``; the adjoint of anything
that may be a container accumulates through ``runtime.add`` (``+=`` on two lists
would concatenate them). A variable is *numeric* when every assignment to it
is arithmetic, an elementwise rule, a number, or a copy of a numeric variable.
A variable is *list-like* when an assignment to it builds a list or tuple, or
copies a list-like variable; ``+`` and ``*`` on those would be concatenation
and repetition, which ast_ad refuses rather than differentiate as arithmetic.

Input: a normalised function. Output: two sets of names.
"""
from __future__ import annotations

import gast

from ..ops import classify
from ..walk import frozen_fact, nodes_of
from ..walk import walk as fast_walk


def _assignments(func: gast.FunctionDef) -> list:
    """``(target name, value)`` of each assignment to a name (found once while frozen)."""
    return frozen_fact(func, _find_assignments)


def _find_assignments(func: gast.FunctionDef) -> list:
    return [(node.targets[0].id, node.value) for node in nodes_of(func, (gast.Assign,))
            if isinstance(node.targets[0], gast.Name)]


def _is_number(value: gast.expr) -> bool:
    return isinstance(value, gast.Constant) and type(value.value) in (int, float)


def numeric_names(func: gast.FunctionDef, calls: dict) -> set[str]:
    defs: dict = {}
    for target, value in _assignments(func):
        defs.setdefault(target, []).append(value)
    params = {a.id for a in fast_walk(func.args) if isinstance(a, gast.Name)}
    numeric = {v for v, values in defs.items() if v not in params and all(
        _is_number(x) or _arithmetic(x, calls) or isinstance(x, gast.Name) for x in values)}
    changed = True
    while changed:  # a copy is numeric only if its source is
        changed = False
        for v in sorted(numeric):
            if any(isinstance(x, gast.Name) and x.id not in numeric for x in defs[v]):
                numeric.discard(v)
                changed = True
    return numeric


def _arithmetic(value: gast.expr, calls: dict) -> bool:
    op = classify(value, calls)
    return op.kind == "rule" and bool(op.rule.partials) and not op.rule.vjps


def listlike_names(func: gast.FunctionDef) -> set[str]:
    found: set = set()
    pairs = _assignments(func)
    for target, value in pairs:
        if isinstance(value, (gast.List, gast.Tuple)):
            found.add(target)
    changed = True
    while changed:
        changed = False
        for target, value in pairs:
            if isinstance(value, gast.Name) and value.id in found and target not in found:
                found.add(target)
                changed = True
    return found
