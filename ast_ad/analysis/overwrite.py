"""Which assignments may overwrite a value: the candidates for the tape.

An assignment is *fresh* when it certainly gives its variable its first value:
the variable is not a parameter, the assignment is not inside a loop, and no
other assignment to it comes before it in the text. Every other assignment may
overwrite a value that the reverse sweep still reads, so the reverse pass
brackets it with a push and a pop; the prune pass then drops the pairs whose
variable the reverse sweep never reads.

A variable *may be unbound* at a push when its first assignment in the text is
nested in a loop or branch: the tape then starts it as ``None``.

Input: a normalised function. Output: the fresh definitions (nodes) and the
names that may be unbound.
"""
from __future__ import annotations

import gast

from ..walk import parameters


def fresh_definitions(func: gast.FunctionDef) -> set:
    params = {a.id for a in parameters(func)}
    seen: set[str] = set()
    fresh = set()
    for node, in_loop, _ in _definitions(func.body, False, 0):
        if not in_loop and node.id not in seen and node.id not in params:
            fresh.add(node)
        seen.add(node.id)
    return fresh


def maybe_unbound(func: gast.FunctionDef) -> set[str]:
    params = {a.id for a in parameters(func)}
    first_depth: dict[str, int] = {}
    for node, _, depth in _definitions(func.body, False, 0):
        first_depth.setdefault(node.id, depth)
    return {v for v, depth in first_depth.items() if depth > 0 and v not in params}


def _definitions(stmts: list, in_loop: bool, depth: int):
    """(target node, inside a loop?, nesting depth) for each assignment, in text order."""
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            for target in stmt.targets:
                if isinstance(target, gast.Name):
                    yield target, in_loop, depth
        elif isinstance(stmt, gast.For):
            yield stmt.target, in_loop, depth
            yield from _definitions(stmt.body, True, depth + 1)
        elif isinstance(stmt, gast.While):
            yield from _definitions(stmt.body, True, depth + 1)
        elif isinstance(stmt, gast.If):
            yield from _definitions(stmt.body, in_loop, depth + 1)
            yield from _definitions(stmt.orelse, in_loop, depth + 1)
