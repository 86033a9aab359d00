"""``ast`` to ``gast``: the tree ``gast.ast_to_gast`` makes (as gast 0.7 does it), built by
one plain recursive copy instead of gast's generic NodeTransformer (several times faster).
A node kind whose conversion this module does not copy raises :class:`Unknown`; the
caller then converts the long way."""
from __future__ import annotations

import ast
import sys

import gast

_MISSING = object()
_TABLE: dict = {}  # ast class -> (gast class or None, fields, attributes)


class Unknown(Exception):
    """A node kind this converter does not copy exactly as gast does."""


def to_gast(node: ast.AST) -> gast.AST:
    """The gast tree of the ast tree ``node``."""
    special = _SPECIAL.get(type(node))
    return _generic(node) if special is None else special(node)


def _generic(node: ast.AST) -> gast.AST | None:
    """gast's generic conversion: the gast class of the same name, with the same fields
    (converted) and attributes; None if gast has no such class."""
    entry = _TABLE.get(type(node))
    if entry is None:
        entry = _entry(type(node))
    cls, fields, attributes = entry
    if cls is None:
        return None
    values = {}
    for name in fields:
        value = getattr(node, name, _MISSING)
        if value is not _MISSING:
            values[name] = _value(value)
    new = cls(**values)
    for name in attributes:
        value = getattr(node, name, _MISSING)
        if value is not _MISSING:
            setattr(new, name, value)
    return new


def _value(value: object) -> object:
    if isinstance(value, ast.AST):
        return to_gast(value)
    if isinstance(value, list):
        return [_value(v) for v in value]
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


def _name(node: ast.Name) -> gast.Name:
    ctx = _CONTEXTS.get(type(node.ctx))
    ctx = to_gast(node.ctx) if ctx is None else ctx()
    return _located(gast.Name(node.id, ctx, None, None), node)


def _arg(node: ast.arg) -> gast.Name:
    new = gast.Name(node.arg, gast.Param(), _value(node.annotation), _value(node.type_comment))
    return _located(new, node)


def _except_handler(node: ast.ExceptHandler) -> gast.AST:
    if not node.name:
        return _generic(node)
    new = gast.ExceptHandler(_value(node.type), gast.Name(node.name, gast.Store(), None, None),
                             _value(node.body))
    return _located(new, node)


def _function(cls: type):
    def convert(node: ast.AST) -> gast.AST:
        new = cls(_value(node.name), _value(node.args), _value(node.body),
                  _value(node.decorator_list), _value(node.returns), _value(node.type_comment),
                  [])
        return gast.copy_location(new, node)
    return convert


def _class_def(node: ast.ClassDef) -> gast.ClassDef:
    new = gast.ClassDef(_value(node.name), _value(node.bases), _value(node.keywords),
                        _value(node.body), _value(node.decorator_list), [])
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


def parse(text: str) -> gast.Module:
    """``gast.parse(text)``."""
    tree = ast.parse(text)
    try:
        return to_gast(tree)
    except Unknown:
        return gast.ast_to_gast(tree)
