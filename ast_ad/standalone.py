"""Module-level names for what generated code calls, and copies of ast_ad's run-time helpers.

At run time, generated code receives its helpers (``seed_scalar``, ``unbroadcast``,
``math``...) as closure cells. A written module binds them at module level
instead: ``Bindings`` picks each one's name (renamed apart from the module's
own names) and writes the imports. With ``--standalone``, ``HelperCopy`` copies
the helpers' source from ast_ad into the module, with the module-level
functions, classes and constants they use in turn, so that the module needs
nothing of ast_ad when it runs.
"""
from __future__ import annotations

import ast
import builtins
import functools
import importlib
import inspect
import re
import symtable
import sys
import textwrap
import types
from dataclasses import dataclass, field

from .errors import TransformError
from .naming import Namer

_ABSENT = object()


@dataclass
class Bindings:
    """Module-level names for objects: the module's own binding when it is the same object,
    else one name per object, the wanted one when it is free (``add``), else a fresh one
    (``add_1``). ``namer`` knows every name the module and the generated code use."""

    module_names: dict                  # what the source module binds, statically
    namer: Namer
    ours: dict = field(default_factory=dict)       # name -> object, bound by generated code
    named: dict = field(default_factory=dict)      # id(object) -> its name in ``ours``
    copied: set = field(default_factory=set)       # ids of objects copied (--standalone)

    def bind(self, name: str, obj: object) -> str:
        if self.module_names.get(name, _ABSENT) is obj:
            return name
        if id(obj) not in self.named:
            if name in self.module_names or name in self.namer.taken:
                name = self.namer.exact(name)
            self.namer.taken.add(name)
            self.ours[name], self.named[id(obj)] = obj, name
        return self.named[id(obj)]

    def import_lines(self) -> list[str]:
        """``import m as n`` and ``from m import a, b as c`` for every bound, uncopied object."""
        plain, grouped = [], {}
        for name, obj in self.ours.items():
            if id(obj) in self.copied:
                continue
            if isinstance(obj, types.ModuleType):
                full = obj.__name__
                plain.append(f"import {full}" + ("" if full == name else f" as {name}"))
            else:
                module, qualname = importable(obj)
                grouped.setdefault(module, []).append(
                    qualname + ("" if qualname == name else f" as {name}"))
        lines = sorted(plain)
        for module in sorted(grouped):
            lines.append(_from_import(module, sorted(grouped[module])))
        return lines


def _from_import(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 99:
        return line
    body = textwrap.fill(", ".join(names) + ",", 95, initial_indent="    ",
                         subsequent_indent="    ", break_on_hyphens=False)
    return f"from {module} import (\n{body}\n)"


def importable(obj: object) -> tuple[str, str]:
    """``(module, name)`` such that ``from module import name`` gives ``obj``."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if module and qualname and "." not in qualname:
        try:
            if getattr(importlib.import_module(module), qualname, None) is obj:
                return module, qualname
        except ImportError:
            pass
    raise TransformError(f"the generated code needs {obj!r}, which cannot be imported by "
                         "name", hint="Give it a module-level name in an importable module.")


def copied_here(obj: object) -> bool:
    """Is ``obj`` one of ast_ad's own functions or classes (copied by ``--standalone``)?"""
    return isinstance(obj, (types.FunctionType, type)) and \
        (getattr(obj, "__module__", "") or "").split(".")[0] == "ast_ad"


# ---------------------------------------------------------------------- copying helpers

class HelperCopy:
    """Copies of ast_ad's definitions that the generated code names, dependencies first,
    each statement's text as in ast_ad (comments kept), renamed where names clash."""

    def __init__(self, bindings: Bindings):
        self.bindings = bindings
        self.chunks: list[str] = []
        self.visited: set = set()

    def run(self) -> list[str]:
        for name, obj in list(self.bindings.ours.items()):
            if copied_here(obj):
                self.definition(obj.__module__, obj.__name__, name)
        return self.chunks

    def definition(self, module_name: str, name: str, wanted: str) -> str:
        """Copy the top-level statement of ``module_name`` that defines ``name``; return the
        name it has in the written module."""
        module = sys.modules[module_name]
        obj = getattr(module, name)
        primary = self.bindings.bind(wanted, obj)
        if id(obj) in self.bindings.copied:
            return primary
        self.bindings.copied.add(id(obj))
        stmt, text = _statement(module, name)
        renames = {name: primary}
        for dep in sorted(_free_globals(text) - {name}):
            renames[dep] = self.dependency(module, dep)
        self.chunks.append(_rename(stmt, text, renames))
        return primary

    def dependency(self, module: types.ModuleType, dep: str) -> str:
        value = vars(module).get(dep, _ABSENT)
        if value is _ABSENT:
            if hasattr(builtins, dep):
                return dep
            raise TransformError(f"internal error: {module.__name__} uses {dep!r}, which it "
                                 "does not define: cannot copy it into a standalone module")
        if isinstance(value, types.ModuleType):
            if value.__name__.split(".")[0] == "ast_ad":
                raise TransformError(f"internal error: {module.__name__} uses the module "
                                     f"{value.__name__}: cannot copy it")
            return self.bindings.bind(dep, value)
        if copied_here(value):
            return self.definition(value.__module__, value.__name__, dep)
        if _defines(module, dep):
            return self.definition(module.__name__, dep, dep)
        return self.bindings.bind(dep, value)


def _tree(module: types.ModuleType) -> tuple[ast.Module, list[str]]:
    return _parsed_source(module.__name__)


@functools.cache
def _parsed_source(module_name: str) -> tuple[ast.Module, list[str]]:
    text = inspect.getsource(sys.modules[module_name])
    return ast.parse(text), text.splitlines(True)


def _defines(module: types.ModuleType, name: str) -> bool:
    """Is ``name`` bound in ``module`` by a def, class or assignment (not an import)?"""
    return _find(_tree(module)[0], name) is not None


def _find(tree: ast.Module, name: str) -> ast.stmt | None:
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) and stmt.name == name:
            return stmt
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return stmt
    return None


def _statement(module: types.ModuleType, name: str) -> tuple[ast.stmt, str]:
    tree, lines = _tree(module)
    stmt = _find(tree, name)
    if stmt is None:
        raise TransformError(f"internal error: no definition of {name} in {module.__name__}")
    first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
    return stmt, "".join(lines[first - 1:stmt.end_lineno])


def _free_globals(text: str) -> set[str]:
    """The global names a top-level statement reads: at its top level (defaults, bases,
    annotations, values) or, as globals, in the scopes inside it."""
    top = symtable.symtable(text, "<helper>", "exec")
    found = {s.get_name() for s in top.get_symbols() if s.is_referenced()}
    todo = list(top.get_children())
    while todo:
        table = todo.pop()
        todo += table.get_children()
        found |= {s.get_name() for s in table.get_symbols() if s.is_global()
                  and s.is_referenced()}
    return found


def _rename(stmt: ast.stmt, text: str, renames: dict[str, str]) -> str:
    """``text`` with the statement's own name and the global names it reads renamed."""
    renames = {old: new for old, new in renames.items() if old != new}
    if not renames:
        return text
    lines = [line.encode() for line in text.splitlines(True)]
    spots = sorted(((n.lineno - 1, n.col_offset, n.end_col_offset, renames[n.id])
                    for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)
                    and n.id in renames), reverse=True)
    for row, start, end, new in spots:  # columns are byte offsets
        lines[row] = lines[row][:start] + new.encode() + lines[row][end:]
    out = b"".join(lines).decode()
    own = getattr(stmt, "name", None)
    if own in renames:
        out = re.sub(rf"^((?:def|class)\s+){own}\b", rf"\g<1>{renames[own]}", out,
                     count=1, flags=re.M)
    return out
