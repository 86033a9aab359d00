"""Print gast trees as source text, straight from gast: the text ``ast.unparse`` gives (on
Python 3.11 and later) for the nodes generated code is made of, several times faster.

:func:`print_tree` raises :class:`Unsupported` on any node or field value it does not
print exactly as ``ast.unparse`` would (``try``, ``with``, f-strings, docstrings, type
comments...): the caller then prints the long way. Comment markers (see ``source.comment``)
become ``# text`` lines here.
"""
from __future__ import annotations

import gast

COMMENT_CALL = "__ast_ad_comment__"  # the marker of a comment line (see source.comment)

# ast._Precedence, as numbers
NAMED_EXPR, TUPLE, YIELD, TEST, OR, AND, NOT, CMP, EXPR = 1, 2, 3, 4, 5, 6, 7, 8, 9
BOR, BXOR, BAND, SHIFT, ARITH, TERM, FACTOR, POWER, AWAIT, ATOM = (
    9, 10, 11, 12, 13, 14, 15, 16, 17, 18)

BINOPS = {gast.Add: ("+", ARITH), gast.Sub: ("-", ARITH), gast.Mult: ("*", TERM),
          gast.MatMult: ("@", TERM), gast.Div: ("/", TERM), gast.Mod: ("%", TERM),
          gast.LShift: ("<<", SHIFT), gast.RShift: (">>", SHIFT), gast.BitOr: ("|", BOR),
          gast.BitXor: ("^", BXOR), gast.BitAnd: ("&", BAND), gast.FloorDiv: ("//", TERM),
          gast.Pow: ("**", POWER)}
UNARY = {gast.Invert: ("~", FACTOR), gast.Not: ("not ", NOT), gast.UAdd: ("+", FACTOR),
         gast.USub: ("-", FACTOR)}
COMPARE = {gast.Eq: "==", gast.NotEq: "!=", gast.Lt: "<", gast.LtE: "<=", gast.Gt: ">",
           gast.GtE: ">=", gast.Is: "is", gast.IsNot: "is not", gast.In: "in",
           gast.NotIn: "not in"}
INFINITY = "1e309"  # what ast.unparse writes for an infinite float


class Unsupported(Exception):
    """A node this printer does not print exactly as ``ast.unparse`` does."""


def print_tree(tree: gast.AST) -> str:
    """``tree`` (a function, a module, a statement or an expression) as source text, with
    comment markers as comments, ending with a newline."""
    if isinstance(tree, gast.expr):
        return _expr(tree, TEST) + "\n"
    lines: list = []
    if isinstance(tree, gast.Module):
        if tree.type_ignores or _docstring(tree.body):
            raise Unsupported("a module docstring or type: ignore comments")
        _block(tree.body, "", lines, top=True)
    else:
        _block([tree], "", lines, top=True)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- statements

def _block(stmts: list, indent: str, out: list, top: bool = False) -> None:
    if not top and _docstring(stmts):
        raise Unsupported("a docstring")
    for stmt in stmts:
        printer = STATEMENTS.get(type(stmt))
        if printer is None:
            raise Unsupported(type(stmt).__name__)
        printer(stmt, indent, out)


def _docstring(stmts: list) -> bool:
    return bool(stmts) and isinstance(stmts[0], gast.Expr) and isinstance(
        stmts[0].value, gast.Constant) and isinstance(stmts[0].value.value, str)


def _no_type_comment(node: gast.stmt) -> None:
    if getattr(node, "type_comment", None) is not None:
        raise Unsupported("a type comment")


def _function(node: gast.FunctionDef, indent: str, out: list) -> None:
    _no_type_comment(node)
    if getattr(node, "type_params", None):
        raise Unsupported("type parameters")
    if out:
        out.append("")
    out.extend(f"{indent}@{_expr(d, TEST)}" for d in node.decorator_list)
    returns = f" -> {_expr(node.returns, TEST)}" if node.returns else ""
    out.append(f"{indent}def {node.name}({_arguments(node.args)}){returns}:")
    _block(node.body, indent + "    ", out)


def _assign(node: gast.Assign, indent: str, out: list) -> None:
    _no_type_comment(node)
    targets = "".join(_expr(t, TUPLE) + " = " for t in node.targets)
    out.append(f"{indent}{targets}{_expr(node.value, TEST)}")


def _aug_assign(node: gast.AugAssign, indent: str, out: list) -> None:
    op = BINOPS[type(node.op)][0]
    out.append(f"{indent}{_expr(node.target, TEST)} {op}= {_expr(node.value, TEST)}")


def _expr_stmt(node: gast.Expr, indent: str, out: list) -> None:
    value = node.value
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id == COMMENT_CALL:
        args = value.args
        if value.keywords or len(args) != 1 or not isinstance(args[0], gast.Constant) \
                or type(args[0].value) is not str:
            raise Unsupported("a malformed comment marker")
        out.append(f"{indent}# {args[0].value}")
        return
    out.append(indent + _expr(value, YIELD))


def _return(node: gast.Return, indent: str, out: list) -> None:
    if node.value:
        out.append(f"{indent}return {_expr(node.value, TEST)}")
    else:
        out.append(indent + "return")


def _simple(word: str):
    def printer(node: gast.stmt, indent: str, out: list) -> None:
        out.append(indent + word)
    return printer


def _for(node: gast.For, indent: str, out: list) -> None:
    _no_type_comment(node)
    out.append(f"{indent}for {_expr(node.target, TUPLE)} in {_expr(node.iter, TEST)}:")
    _block(node.body, indent + "    ", out)
    _else(node.orelse, indent, out)


def _while(node: gast.While, indent: str, out: list) -> None:
    out.append(f"{indent}while {_expr(node.test, TEST)}:")
    _block(node.body, indent + "    ", out)
    _else(node.orelse, indent, out)


def _if(node: gast.If, indent: str, out: list) -> None:
    out.append(f"{indent}if {_expr(node.test, TEST)}:")
    _block(node.body, indent + "    ", out)
    while node.orelse and len(node.orelse) == 1 and isinstance(node.orelse[0], gast.If):
        node = node.orelse[0]  # else: if ... is printed as elif
        out.append(f"{indent}elif {_expr(node.test, TEST)}:")
        _block(node.body, indent + "    ", out)
    _else(node.orelse, indent, out)


def _else(orelse: list, indent: str, out: list) -> None:
    if orelse:
        out.append(indent + "else:")
        _block(orelse, indent + "    ", out)


def _raise(node: gast.Raise, indent: str, out: list) -> None:
    if not node.exc:
        if node.cause:
            raise Unsupported("raise from without an exception")
        out.append(indent + "raise")
        return
    cause = f" from {_expr(node.cause, TEST)}" if node.cause else ""
    out.append(f"{indent}raise {_expr(node.exc, TEST)}{cause}")


def _assert(node: gast.Assert, indent: str, out: list) -> None:
    msg = f", {_expr(node.msg, TEST)}" if node.msg else ""
    out.append(f"{indent}assert {_expr(node.test, TEST)}{msg}")


def _delete(node: gast.Delete, indent: str, out: list) -> None:
    out.append(f"{indent}del {', '.join(_expr(t, TEST) for t in node.targets)}")


def _names(word: str):
    def printer(node: gast.stmt, indent: str, out: list) -> None:
        out.append(f"{indent}{word} {', '.join(node.names)}")
    return printer


STATEMENTS = {
    gast.FunctionDef: _function, gast.Assign: _assign, gast.AugAssign: _aug_assign,
    gast.Expr: _expr_stmt, gast.Return: _return, gast.For: _for, gast.While: _while,
    gast.If: _if, gast.Pass: _simple("pass"), gast.Break: _simple("break"),
    gast.Continue: _simple("continue"), gast.Raise: _raise, gast.Assert: _assert,
    gast.Delete: _delete, gast.Global: _names("global"), gast.Nonlocal: _names("nonlocal"),
}


# ---------------------------------------------------------------------- expressions

def _expr(node: gast.expr, prec: int) -> str:
    """``node`` printed where the context binds with precedence ``prec``."""
    printer = EXPRESSIONS.get(type(node))
    if printer is None:
        raise Unsupported(type(node).__name__)
    return printer(node, prec)


def _parens(text: str, own: int, prec: int) -> str:
    return f"({text})" if prec > own else text


def _name(node: gast.Name, prec: int) -> str:
    if getattr(node, "annotation", None) is not None or isinstance(node.ctx, gast.Param) \
            or node.id == COMMENT_CALL:
        raise Unsupported("a parameter outside a signature, or a misplaced comment marker")
    return node.id


def _constant(node: gast.Constant, prec: int) -> str:
    value = node.value
    kind = type(value)
    if node.kind is not None:
        raise Unsupported("a u'' string")
    if kind is float:
        return repr(value).replace("inf", INFINITY).replace("nan", f"({INFINITY}-{INFINITY})")
    if kind is int or kind is bool or kind is str or value is None:
        return repr(value)
    raise Unsupported(f"a constant of type {kind.__name__}")


def _binop(node: gast.BinOp, prec: int) -> str:
    op, own = BINOPS[type(node.op)]
    left, right = (own + 1, own) if own == POWER else (own, own + 1)
    return _parens(f"{_expr(node.left, left)} {op} {_expr(node.right, right)}", own, prec)


def _unaryop(node: gast.UnaryOp, prec: int) -> str:
    op, own = UNARY[type(node.op)]
    return _parens(op + _expr(node.operand, own), own, prec)


def _boolop(node: gast.BoolOp, prec: int) -> str:
    word, own = (" and ", AND) if isinstance(node.op, gast.And) else (" or ", OR)
    parts = [_expr(v, min(own + k, ATOM)) for k, v in enumerate(node.values, 1)]
    return _parens(word.join(parts), own, prec)


def _compare(node: gast.Compare, prec: int) -> str:
    parts = [_expr(node.left, CMP + 1)]
    for op, right in zip(node.ops, node.comparators):
        parts.append(f" {COMPARE[type(op)]} {_expr(right, CMP + 1)}")
    return _parens("".join(parts), CMP, prec)


def _ifexp(node: gast.IfExp, prec: int) -> str:
    text = (f"{_expr(node.body, TEST + 1)} if {_expr(node.test, TEST + 1)} "
            f"else {_expr(node.orelse, TEST)}")
    return _parens(text, TEST, prec)


def _call(node: gast.Call, prec: int) -> str:
    args = [_expr(a, TEST) for a in node.args] + [_keyword(k) for k in node.keywords]
    return f"{_expr(node.func, ATOM)}({', '.join(args)})"


def _keyword(node: gast.keyword) -> str:
    prefix = "**" if node.arg is None else node.arg + "="
    return prefix + _expr(node.value, TEST)


def _attribute(node: gast.Attribute, prec: int) -> str:
    value = node.value
    space = " " if isinstance(value, gast.Constant) and isinstance(value.value, int) else ""
    return f"{_expr(value, ATOM)}{space}.{node.attr}"


def _subscript(node: gast.Subscript, prec: int) -> str:
    index = node.slice
    if isinstance(index, gast.Tuple) and index.elts:
        inside = _items(index.elts)
    else:
        inside = _expr(index, TEST)
    return f"{_expr(node.value, ATOM)}[{inside}]"


def _slice(node: gast.Slice, prec: int) -> str:
    text = _expr(node.lower, TEST) if node.lower else ""
    text += ":" + (_expr(node.upper, TEST) if node.upper else "")
    if node.step:
        text += ":" + _expr(node.step, TEST)
    return text


def _items(elts: list) -> str:
    """Items separated by commas; one item gets a trailing comma (a tuple's)."""
    if len(elts) == 1:
        return _expr(elts[0], TEST) + ","
    return ", ".join([_expr(e, TEST) for e in elts])


def _tuple(node: gast.Tuple, prec: int) -> str:
    text = _items(node.elts)
    return f"({text})" if not node.elts or prec > TUPLE else text


def _list(node: gast.List, prec: int) -> str:
    return f"[{', '.join([_expr(e, TEST) for e in node.elts])}]"


def _set(node: gast.Set, prec: int) -> str:
    if not node.elts:
        return "{*()}"
    return f"{{{', '.join([_expr(e, TEST) for e in node.elts])}}}"


def _dict(node: gast.Dict, prec: int) -> str:
    items = [f"**{_expr(v, EXPR)}" if k is None else f"{_expr(k, TEST)}: {_expr(v, TEST)}"
             for k, v in zip(node.keys, node.values)]
    return f"{{{', '.join(items)}}}"


def _starred(node: gast.Starred, prec: int) -> str:
    return "*" + _expr(node.value, EXPR)


def _named(node: gast.NamedExpr, prec: int) -> str:
    text = f"{_expr(node.target, ATOM)} := {_expr(node.value, ATOM)}"
    return _parens(text, NAMED_EXPR, prec)


def _generators(generators: list) -> str:
    out = []
    for gen in generators:
        head = " async for " if gen.is_async else " for "
        out.append(f"{head}{_expr(gen.target, TUPLE)} in {_expr(gen.iter, TEST + 1)}")
        out.extend(f" if {_expr(test, TEST + 1)}" for test in gen.ifs)
    return "".join(out)


def _comprehension(opening: str, closing: str):
    def printer(node: gast.expr, prec: int) -> str:
        return f"{opening}{_expr(node.elt, TEST)}{_generators(node.generators)}{closing}"
    return printer


def _dictcomp(node: gast.DictComp, prec: int) -> str:
    return (f"{{{_expr(node.key, TEST)}: {_expr(node.value, TEST)}"
            f"{_generators(node.generators)}}}")


def _arguments(args: gast.arguments) -> str:
    """A signature, as ``ast.unparse`` writes ``ast.arguments``."""
    parts: list = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + args.defaults
    for index, (a, d) in enumerate(zip(positional, defaults), 1):
        parts.append(_parameter(a) + (f"={_expr(d, TEST)}" if d else ""))
        if index == len(args.posonlyargs):
            parts.append("/")
    if args.vararg or args.kwonlyargs:
        parts.append("*" + (_parameter(args.vararg) if args.vararg else ""))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        parts.append(_parameter(a) + (f"={_expr(d, TEST)}" if d else ""))
    if args.kwarg:
        parts.append("**" + _parameter(args.kwarg))
    return ", ".join(parts)


def _parameter(node: gast.Name) -> str:
    if not isinstance(node, gast.Name):
        raise Unsupported("a parameter that is not a name")
    if getattr(node, "annotation", None) is None:
        return node.id
    return f"{node.id}: {_expr(node.annotation, TEST)}"


EXPRESSIONS = {
    gast.Name: _name, gast.Constant: _constant, gast.BinOp: _binop, gast.UnaryOp: _unaryop,
    gast.BoolOp: _boolop, gast.Compare: _compare, gast.IfExp: _ifexp, gast.Call: _call,
    gast.Attribute: _attribute, gast.Subscript: _subscript, gast.Slice: _slice,
    gast.Tuple: _tuple, gast.List: _list, gast.Set: _set, gast.Dict: _dict,
    gast.Starred: _starred, gast.NamedExpr: _named, gast.ListComp: _comprehension("[", "]"),
    gast.SetComp: _comprehension("{", "}"), gast.GeneratorExp: _comprehension("(", ")"),
    gast.DictComp: _dictcomp,
}
