"""``ast`` to ``gast``: the tree ``gast.ast_to_gast`` makes (as gast 0.7 does it), built by
one plain recursive copy instead of gast's generic NodeTransformer (several times faster).
A node kind whose conversion this module does not copy raises :class:`Unknown`; the
caller then converts the long way."""
from __future__ import annotations

import ast
import sys

import gast

from .nodes import make

_AST = ast.AST
_new = gast.AST.__new__
_MISSING = object()
_TABLE: dict = {}  # ast class -> (gast class or None, fields, attributes)


class Unknown(Exception):
    """A node kind this converter does not copy exactly as gast does."""


def to_gast(node: ast.AST, shift: tuple = (0, 0)) -> gast.AST:
    """The gast tree of the ast tree ``node``, its locations moved by ``shift`` (lines,
    columns) as ``source._relocate`` moves them."""
    special = _SPECIAL.get(type(node))
    if special is None:
        return _generic(node, shift, move=True)
    new = special(node, shift)
    if shift != (0, 0) and new is not None:
        _move(new, shift)
    return new


def _move(new: gast.AST, shift: tuple) -> None:
    if getattr(new, "lineno", None) is not None:
        new.lineno += shift[0]
        new.col_offset += shift[1]
    if getattr(new, "end_lineno", None) is not None:
        new.end_lineno += shift[0]
        new.end_col_offset += shift[1]


def _generic(node: ast.AST, shift: tuple, move: bool = False) -> gast.AST | None:
    """gast's generic conversion: the gast class of the same name, with the same fields
    (converted) and attributes; None if gast has no such class. With ``move``, its
    locations are moved by ``shift`` (as ``_move`` moves them)."""
    entry = _TABLE.get(type(node))
    if entry is None:
        entry = _entry(type(node))
    cls, fields, attributes = entry
    if cls is None:
        return None
    if not fields and not attributes:  # a context or an operator: nothing to copy
        return _new(cls)
    values = {}  # the new node's attributes: fields, then locations (as setattr leaves them)
    for name in fields:
        value = getattr(node, name, _MISSING)
        if value is _MISSING:
            continue
        if isinstance(value, _AST):
            value = to_gast(value, shift)
        elif isinstance(value, list):
            value = [_value(v, shift) for v in value]
        values[name] = value
    for name in attributes:
        value = getattr(node, name, _MISSING)
        if value is not _MISSING:
            values[name] = value
    if move and shift != (0, 0):
        if values.get("lineno") is not None:
            values["lineno"] += shift[0]
            values["col_offset"] += shift[1]
        if values.get("end_lineno") is not None:
            values["end_lineno"] += shift[0]
            values["end_col_offset"] += shift[1]
    new = _new(cls)  # nodes.make without the keyword arguments
    new.__dict__ = values
    return new


def _value(value: object, shift: tuple) -> object:
    if isinstance(value, ast.AST):
        return to_gast(value, shift)
    if isinstance(value, list):
        return [_value(v, shift) for v in value]
    return value


def _entry(kind: type) -> tuple:
    if kind.__name__ in _REFUSED:
        raise Unknown(kind.__name__)
    entry = _TABLE[kind] = (getattr(gast, kind.__name__, None), kind._fields, kind._attributes)
    return entry


def _located(new: gast.AST, node: ast.AST) -> gast.AST:
    """``ast.copy_location(new, node)`` for node kinds with all four location attributes."""
    lineno, col_offset = node.lineno, node.col_offset
    if lineno is not None:
        new.lineno = lineno
    if col_offset is not None:
        new.col_offset = col_offset
    new.end_lineno = node.end_lineno  # copied even when None
    new.end_col_offset = node.end_col_offset
    return new


_CONTEXTS = {ast.Load: gast.Load, ast.Store: gast.Store, ast.Del: gast.Del}


def _name(node: ast.Name, shift: tuple) -> gast.Name:
    ctx = _CONTEXTS.get(type(node.ctx))
    ctx = to_gast(node.ctx, shift) if ctx is None else make(ctx)
    return _located(make(gast.Name, id=node.id, ctx=ctx, annotation=None, type_comment=None),
                    node)


def _arg(node: ast.arg, shift: tuple) -> gast.Name:
    new = gast.Name(node.arg, gast.Param(), _value(node.annotation, shift),
                    _value(node.type_comment, shift))
    return _located(new, node)


def _except_handler(node: ast.ExceptHandler, shift: tuple) -> gast.AST:
    if not node.name:
        return _generic(node, shift)
    new = gast.ExceptHandler(_value(node.type, shift),
                             gast.Name(node.name, gast.Store(), None, None),
                             _value(node.body, shift))
    return _located(new, node)


def _function(cls: type):
    def convert(node: ast.AST, shift: tuple) -> gast.AST:
        new = cls(*[_value(getattr(node, f), shift) for f in (
            "name", "args", "body", "decorator_list", "returns", "type_comment")], [])
        return gast.copy_location(new, node)
    return convert


def _class_def(node: ast.ClassDef, shift: tuple) -> gast.ClassDef:
    new = gast.ClassDef(*[_value(getattr(node, f), shift) for f in (
        "name", "bases", "keywords", "body", "decorator_list")], [])
    return gast.copy_location(new, node)


_SPECIAL: dict = {ast.Name: _name, ast.arg: _arg, ast.ExceptHandler: _except_handler}
_REFUSED: set = set()
if sys.version_info < (3, 12):  # gast fills type_params itself before 3.12
    _SPECIAL.update({ast.FunctionDef: _function(gast.FunctionDef),
                     ast.AsyncFunctionDef: _function(gast.AsyncFunctionDef),
                     ast.ClassDef: _class_def})
elif sys.version_info < (3, 13):  # gast converts these its own way on 3.12
    _REFUSED.update({"TypeVar", "TypeVarTuple", "ParamSpec"})
if not gast.__version__.startswith("0.7."):  # another gast may convert another way
    _REFUSED.update(n for n in dir(ast) if isinstance(getattr(ast, n), type))


def parse(text: str, shift: tuple = (0, 0)) -> gast.Module:
    """``gast.parse(text)``, its locations moved by ``shift`` (lines, columns) as
    ``source._relocate`` moves them."""
    tree = ast.parse(text)
    try:
        return to_gast(tree, shift)
    except Unknown:
        module = gast.ast_to_gast(tree)
        _relocate(module, shift)
        return module


def _relocate(tree: gast.AST, shift: tuple) -> None:
    for node in gast.walk(tree):
        _move(node, shift)
