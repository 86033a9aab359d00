"""Parse rule templates once and fill their holes with the call site's names."""
from __future__ import annotations

import functools

import gast

from .nodes import make, make_from
from .walk import name_nodes
from .walk import walk as fast_walk

_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def clone(node, swap=None):
    """A deep copy of a gast tree (faster than ``copy.deepcopy``: no memo, fields only).
    With ``swap``, a node for which ``swap(node, copy)`` returns a tree is replaced by it
    (``copy`` copies a subtree the same way)."""
    if type(node) is list:
        return [clone(n, swap) for n in node]
    if not isinstance(node, gast.AST):
        return node
    if swap is not None:
        swapped = swap(node, lambda sub: clone(sub, swap))
        if swapped is not None:
            return swapped
    fields = {}
    for f in node._fields:
        value = getattr(node, f, None)
        fields[f] = clone(value, swap) if type(value) is list or isinstance(value, gast.AST) \
            else value  # (identifiers and constants are shared, as copying them would)
    return _marked(node, fields)


def _marked(node: gast.AST, fields: dict) -> gast.AST:
    """A new node of ``node``'s class with ``fields`` and ``node``'s location and helper
    marks (its own attributes: gast classes hold none of them but ``None`` defaults)."""
    own = node.__dict__
    for attr in _LOCATION:
        value = own.get(attr)
        if value is not None:
            fields[attr] = value
    for marker in (HELPER, OBJECT):
        if marker in own:
            fields[marker] = own[marker]
    return make_from(type(node), fields)


@functools.cache
def _parse_expr(text: str) -> gast.expr:
    return gast.parse(text, mode="eval").body


def parse_template(text: str) -> gast.expr:
    """The parsed expression ``text``, parsed once: shared, so never to be changed."""
    return _parse_expr(text)


OBJECT = "_ast_ad_object"  # attribute: the object a user rule's free name stands for


def fill(text: str, holes: dict[str, gast.expr], namespace: dict | None = None) -> gast.expr:
    """The expression ``text`` with each hole name replaced by a copy of its node, and its
    other names marked as our helpers; copied from the parsed template in one pass.

    ``namespace`` (a user rule's) says what the template's other free names are.
    """
    return _filled(_parse_expr(text), holes, namespace or {})


def _filled(node, holes: dict, namespace: dict):
    """A copy of the template ``node`` (or list of nodes) with its holes filled."""
    if type(node) is list:
        return [_filled(n, holes, namespace) for n in node]
    if not isinstance(node, gast.AST):
        return node
    if type(node) is gast.Name:
        if node.id in holes:
            return load(clone(holes[node.id]))
        new = clone(node)
        setattr(new, HELPER, True)
        if node.id in namespace:
            setattr(new, OBJECT, namespace[node.id])
        return new
    fields = {}
    for f in node._fields:
        value = getattr(node, f, None)
        fields[f] = _filled(value, holes, namespace) \
            if type(value) is list or isinstance(value, gast.AST) else value
    return _marked(node, fields)


def load(node: gast.expr) -> gast.expr:
    """``node`` with every Name in it set to Load context."""
    for sub in name_nodes(node):
        sub.ctx = make(gast.Load)
    return node


def name(ident: str, store: bool = False) -> gast.Name:
    node = _new(gast.Name)  # make's way, inline: the passes make thousands of names
    node.__dict__ = {"id": ident, "ctx": _new(gast.Store if store else gast.Load),
                     "annotation": None, "type_comment": None}
    return node


_new = gast.AST.__new__


def const(value: object) -> gast.Constant:
    return make(gast.Constant, value=value, kind=None)


def assign(target: str, value: gast.expr) -> gast.Assign:
    return make(gast.Assign, targets=[name(target, store=True)], value=value, type_comment=None)


def aug_add(target: str, value: gast.expr) -> gast.AugAssign:
    return make(gast.AugAssign, target=name(target, store=True), op=make(gast.Add), value=value)


HELPER = "_ast_ad_helper"  # attribute marking a Name that refers to one of our helpers


def helper(ident: str, store: bool = False) -> gast.Name:
    """A Name for a runtime helper, builtin, template module or the tape; renamed later if the
    user's function uses the same name for something else."""
    node = name(ident, store)
    setattr(node, HELPER, True)
    return node


def parse_generated(source: str, helpers: set) -> gast.FunctionDef:
    """The function in ``source`` as if a pass had made it: its Names in ``helpers`` are
    marked as our helpers (for tests of the passes that only touch our helpers' calls)."""
    func = gast.parse(source).body[0]
    for node in fast_walk(func):
        if type(node) is gast.Name and node.id in helpers:
            setattr(node, HELPER, True)
    return func


def helper_call(node: gast.AST) -> str | None:
    """The name of our helper that ``node`` calls (positional arguments only), or None."""
    if isinstance(node, gast.Call) and type(node.func) is gast.Name \
            and getattr(node.func, HELPER, False) and not node.keywords:
        return node.func.id
    return None


def range_call(node: gast.expr) -> bool:
    """``range(...)`` as a loop has it (the user's name, or our helper's)."""
    return isinstance(node, gast.Call) and type(node.func) is gast.Name \
        and node.func.id == "range" and not node.keywords


def call(func: str, *args: gast.expr) -> gast.Call:
    """``func(*args)``; ``func`` is one of our helpers (or a builtin), never a user name."""
    return make(gast.Call, func=helper(func), args=list(args), keywords=[])


def constant_value(node: gast.expr) -> float | None:
    """The number a template expression stands for, if it is a literal (``1.0``, ``-1.0``)."""
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if (isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)
            and isinstance(node.operand, gast.Constant)
            and isinstance(node.operand.value, (int, float))):
        return -float(node.operand.value)
    return None


def times(g: gast.expr, partial: gast.expr) -> gast.expr:
    """``g * partial``, folded when the partial is the literal 1 or -1."""
    value = constant_value(partial)
    if value == 1.0:
        return g
    if value == -1.0:
        return make(gast.UnaryOp, op=make(gast.USub), operand=g)
    return make(gast.BinOp, left=g, op=make(gast.Mult), right=partial)
