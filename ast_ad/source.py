"""Read a function's source into gast, print generated trees with comments, compile them."""
from __future__ import annotations

import ast
import inspect
import linecache
import re
import sys
import textwrap
import types
from dataclasses import dataclass

import gast

from . import togast
from .errors import Location, TransformError
from .nodes import make
from .printer import COMMENT_CALL, Unsupported, print_tree
from .walk import walk as fast_walk


@dataclass
class Parsed:
    """A user function as a gast tree whose line/column numbers are those of its file."""

    module: gast.Module
    func: gast.FunctionDef
    filename: str
    lines: list[str]

    def location(self, node: gast.AST) -> Location:
        return Location(self.filename, getattr(node, "lineno", 0) or 0,
                        getattr(node, "col_offset", 0) or 0)

    def line_text(self, lineno: int) -> str:
        return linecache.getline(self.filename, lineno).strip()

    def error(self, node: gast.AST, message: str, hint: str = "") -> TransformError:
        return TransformError(message, self.location(node), hint)


def parse_function(fn: types.FunctionType) -> Parsed:
    """Return the parsed source of ``fn``, or raise TransformError if it has none."""
    name = getattr(fn, "__qualname__", repr(fn))
    if not isinstance(fn, types.FunctionType):
        raise TransformError(
            f"cannot differentiate {name!r}: it is a {type(fn).__name__}, not a Python "
            "function with source code",
            hint="Register a derivative for it with ast_ad.register_rule, or wrap it in a "
            "Python function.")
    filename = fn.__code__.co_filename
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        kind = "an async function"
        raise TransformError(
            f"cannot differentiate {name!r}: it is {kind}",
            Location(filename, fn.__code__.co_firstlineno, 0),
            "Differentiate a plain function that returns its result.")
    code_line = fn.__code__.co_firstlineno
    quick = _read_source(fn, name, filename, quick=True)
    if quick is not None:
        linecache.getlines(filename)
        try:
            return parse_lines(*quick, filename, fn.__name__, code_line, alone=True)
        except TransformError:  # not the block inspect finds: read it the long way
            pass
    lines, first = _read_source(fn, name, filename, quick=False)
    linecache.getlines(filename)
    return parse_lines(lines, first, filename, fn.__name__, code_line)


def _read_source(fn: types.FunctionType, name: str, filename: str,
                 quick: bool) -> tuple[list, int] | None:
    """``inspect.getsourcelines(fn)``, or with ``quick`` its shortcut (or None)."""
    try:
        return _quick_source(fn) if quick else inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise TransformError(
            f"cannot read the source of {name!r} (defined in {filename}): {exc}",
            hint="ast_ad transforms source code: define the function in a file "
            "(not in exec/eval or an interactive prompt without source).") from None


def _quick_source(fn: types.FunctionType) -> tuple[list, int] | None:
    """``inspect.getsourcelines(fn)`` without tokenizing, for a ``def`` without decorators:
    from the ``def`` line on, every line up to the last one with code of the function (its
    code objects' positions) and the indented lines after it. The block may differ from
    inspect's by comment lines only, or it fails to parse alone (the caller then asks
    inspect); None when inspect's answer is not sought this way."""
    code = fn.__code__
    if hasattr(fn, "__wrapped__") or not hasattr(code, "co_positions"):
        return None
    lines, lnum = inspect.findsource(fn)
    head = lines[lnum]
    indent = len(head) - len(head.lstrip())
    end = _last_line(code)
    if not head.lstrip().startswith("def ") or end is None or end <= lnum:
        return None
    while end < len(lines) and not _ends_block(lines[end], indent):
        end += 1
    if any(_odd_indent(line) for line in lines[lnum:end + 1]):
        return None  # tabs, form feeds: indentation as the tokenizer measures it only
    while end > lnum + 1 and lines[end - 1].strip()[:1] in ("", "#"):
        end -= 1  # trailing blank and comment lines
    return lines[lnum:end], lnum + 1


def _odd_indent(line: str) -> bool:
    return bool(line[:len(line) - len(line.lstrip())].strip(" \n"))


def _last_line(code: types.CodeType) -> int | None:
    """The last line any instruction of ``code`` or of the code nested in it spans."""
    ends = [end for _, end, _, _ in code.co_positions() if end is not None]
    ends += [_last_line(c) or 0 for c in code.co_consts if isinstance(c, types.CodeType)]
    return max(ends) if ends else None


def _ends_block(line: str, indent: int) -> bool:
    """A line of code indented no more than the ``def``: the function has ended before it
    (unless it continues a bracket or a string, which then fails to parse)."""
    text = line.lstrip()
    return bool(text) and not text.startswith("#") and len(line) - len(text) <= indent


def parse_lines(lines: list[str], first: int, filename: str, name: str,
                code_line: int | None = None, alone: bool = False) -> Parsed:
    """Parse source ``lines`` starting at file line ``first`` and find function ``name``
    (with ``alone``, the lines must hold that function definition and nothing else)."""
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = _indent_of(text) - _indent_of(dedented)
    try:
        module = togast.parse(dedented, (first - 1, indent))  # lines and columns of the file
    except SyntaxError as exc:
        raise TransformError(f"cannot parse the source of {name!r}: {exc.msg}",
                             Location(filename, first + (exc.lineno or 1) - 1, 0)) from None
    func = _find_function(module, name, code_line)
    if alone and (len(module.body) != 1 or module.body[0] is not func):
        func = None
    if func is None:
        raise TransformError(
            f"cannot find a 'def {name}' in the source read from {filename}:{first}",
            hint="Lambdas and functions built at run time are not supported; "
            "use a def statement.")
    func.decorator_list = []
    return Parsed(gast.Module(body=[func], type_ignores=[]), func, filename,
                  dedented.splitlines())


def _indent_of(text: str) -> int:
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def _find_function(module: gast.Module, name: str, code_line: int | None):
    """The ``def name`` that starts at ``code_line`` (its own line or its first decorator's)
    if there is one, else the first ``def name`` found."""
    if len(module.body) == 1 and _defines(module.body[0], name, code_line):
        return module.body[0]  # what the walk below finds first, without the walk
    candidates = [n for n in fast_walk(module)
                  if isinstance(n, gast.FunctionDef) and n.name == name]
    for node in candidates:
        if _defines(node, name, code_line):
            return node
    return candidates[0] if candidates else None


def _defines(node: gast.stmt, name: str, code_line: int | None) -> bool:
    """Is ``node`` a ``def name`` starting at ``code_line`` (any line if None)?"""
    if not (isinstance(node, gast.FunctionDef) and node.name == name):
        return False
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return code_line is None or code_line in (node.lineno, first)


# --------------------------------------------------------------------- printing

def comment(text: str) -> gast.Expr:
    """A statement that the printer turns into ``# text``."""
    marker = make(gast.Name, id=COMMENT_CALL, ctx=make(gast.Load), annotation=None,
                  type_comment=None)
    return make(gast.Expr, value=make(gast.Call, func=marker, args=[
        make(gast.Constant, value=text, kind=None)], keywords=[]))


def is_comment(stmt: gast.stmt) -> bool:
    return (type(stmt) is gast.Expr and type(stmt.value) is gast.Call
            and type(stmt.value.func) is gast.Name and stmt.value.func.id == COMMENT_CALL)


def comment_at(body: list, text: str) -> int | None:
    """The position in ``body`` of the comment ``# text`` (such as ``"reverse sweep"``)."""
    for index, stmt in enumerate(body):
        if is_comment(stmt) and stmt.value.args[0].value == text:
            return index
    return None


_COMMENT_LINE = re.compile(r"^(\s*)" + COMMENT_CALL + r"\((.*)\)$")


_CONTEXTS = {gast.Load: ast.Load, gast.Store: ast.Store, gast.Del: ast.Del}


def _to_ast(node):
    """gast to ast, for printing only: ``gast.gast_to_ast`` without its generic machinery
    (several times faster on generated code)."""
    if isinstance(node, list):
        return [_to_ast(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    kind = type(node)
    if kind is gast.Name:
        if isinstance(node.ctx, gast.Param):
            return ast.arg(arg=node.id, annotation=_to_ast(node.annotation), type_comment=None)
        return ast.Name(id=node.id, ctx=_CONTEXTS[type(node.ctx)]())
    if kind in _CONTEXTS:
        return _CONTEXTS[kind]()
    cls = getattr(ast, kind.__name__)
    new = cls(**{f: _to_ast(getattr(node, f, None)) for f in cls._fields})
    if isinstance(new, ast.stmt):
        new.lineno = 0  # read by the printer's type-comment lookup only
    return new


def _unparse(tree: gast.AST) -> str:
    try:
        return ast.unparse(_to_ast(tree))
    except Exception:  # pragma: no cover - a node the shortcut does not know: the long way
        return ast.unparse(ast.fix_missing_locations(gast.gast_to_ast(tree)))


# Python 3.10's printer puts tuple targets in parentheses, later ones do not: print them
# the later way on every version, so generated code is the same text everywhere
_TUPLE_TARGET = re.compile(r"^(\s*)(?:\(([\w, ]+)\)( = )|(for )\(([\w, ]+)\)( in ))")


def to_source(tree: gast.AST) -> str:
    """Print a gast tree as Python source, turning comment markers into comments."""
    if FAST_PRINTER:
        try:
            return print_tree(tree)
        except (Unsupported, AttributeError):  # a node it does not print, or a field missing
            pass
    return _to_source_slowly(tree)


# printer.py prints what ast.unparse prints from 3.11 on (3.10 writes tuple targets apart)
FAST_PRINTER = sys.version_info >= (3, 11)


def _to_source_slowly(tree: gast.AST) -> str:
    """``ast.unparse``, then the comment markers made comments."""
    text = _unparse(tree)
    out = []
    for line in text.splitlines():
        line = _TUPLE_TARGET.sub(_unparenthesized, line)
        match = _COMMENT_LINE.match(line)
        if match:
            out.append(f"{match.group(1)}# {ast.literal_eval(match.group(2))}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _unparenthesized(match: re.Match) -> str:
    indent, names, eq, loop, loop_names, in_ = match.groups()
    return indent + (f"{names}{eq}" if eq else f"{loop}{loop_names}{in_}")


def register_source(filename: str, text: str) -> None:
    """Make ``text`` visible to tracebacks and debuggers under ``filename``."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
