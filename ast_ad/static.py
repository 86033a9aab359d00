"""Static names of a module file: read and parse it, and bind its names from its own
statements, without importing or executing it.

``import`` statements import *those* modules (libraries; never the file itself nor
the user's modules next to it or its package); a module-level ``def`` becomes a stub
function object that ``resolve`` classifies as a user function and that maps back to
its ``def``; an alias such as ``act = math.tanh`` is followed; every other
module-level name (constants, classes, decorated functions) is ``Opaque``: read at
run time, never called with a derivative.

>>> import math
>>> text = "import math\\nsin = math.sin\\nK = 2.0\\ndef f(x):\\n    return sin(x) * K\\n"
>>> module = analyze_module(parse_module("<doc>", text))
>>> module.env.globals["sin"] is math.sin, module.env.globals["K"], sorted(module.defs)
(True, <module-level name 'K'>, ['f'])
"""
from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import linecache
import os
import tokenize
import types
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, TransformError
from .passes.resolve import Env
from .source import Parsed, parse_lines


class Opaque:
    """A module-level name whose value is only known at run time (a constant, a class...)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<module-level name {self.name!r}>"


# ---------------------------------------------------------------------- reading the file

@dataclass
class ModuleFile:
    """A module's source text and syntax tree, parsed but never executed."""

    path: str
    text: str
    tree: ast.Module

    @functools.cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines(True)


def read_module(path: str | os.PathLike) -> ModuleFile:
    """Read and parse a module file. Raises OSError if it cannot be read, and a located
    TransformError if it cannot be decoded or is not valid Python."""
    path = os.fspath(path)
    try:
        with tokenize.open(path) as handle:  # honours a PEP 263 coding line
            text = handle.read()
    except (SyntaxError, UnicodeDecodeError) as exc:  # a bad coding line, or bytes
        raise TransformError(f"cannot decode {path}: {exc}") from None
    return parse_module(path, text)


def parse_module(path: str, text: str) -> ModuleFile:
    """Parse ``text``, the source of the module file ``path``."""
    _register_lines(path, text)
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        where = Location(path, exc.lineno or 1, max((exc.offset or 1) - 1, 0))
        raise TransformError(f"syntax error: {exc.msg}", where) from None
    return ModuleFile(path, text, tree)


def _register_lines(path: str, text: str) -> None:
    """Make comments and error messages quote the text we parsed, not a later version: the
    entry carries the file's size and time, so ``linecache.checkcache`` drops it once the
    file changes."""
    stat = os.stat(path) if os.path.exists(path) else None
    linecache.cache[path] = (stat.st_size if stat else len(text),
                             stat.st_mtime if stat else None, text.splitlines(True), path)


# ---------------------------------------------------------------------- static names

@dataclass
class StaticModule:
    """What the module's names mean, without running it."""

    file: ModuleFile
    env: Env
    defs: dict[str, ast.FunctionDef]      # functions we can transform and link, by name
    refused: dict[str, TransformError]    # module-level defs we cannot transform, and why
    stubs: dict[int, str]                 # id(stub function) -> the def's name
    imports_numpy: bool

    def error_at(self, name: str, message: str, hint: str = "") -> TransformError:
        node = self.defs[name]
        return TransformError(message, Location(self.file.path, node.lineno, node.col_offset),
                              hint)

    def parse(self, name: str) -> Parsed:
        """The def of ``name``, parsed as run-time ``grad`` parses a live function."""
        node = self.defs[name]
        return parse_lines(self.file.lines[node.lineno - 1:node.end_lineno], node.lineno,
                           self.file.path, name, node.lineno)


_STUB_CODE = (lambda: None).__code__


def _stub(name: str) -> types.FunctionType:
    """A function object standing for a module-level def (``resolve`` sees a user function)."""
    fn = types.FunctionType(_STUB_CODE, {}, name)
    fn.__qualname__ = name
    return fn


def analyze_module(file: ModuleFile, package: Path | None = None) -> StaticModule:
    """Bind the module's names from its statements. The user's own code is not imported
    (names from it stay opaque): the modules and packages next to the file (or next to
    its package), and every module under ``package``, a directory being transformed."""
    home = package.resolve().parent if package else _home(Path(file.path))
    binder = _Binder(file, home, package.resolve() if package else None)
    for stmt in file.tree.body:
        binder.statement(stmt, conditional=False)
    names = binder.names
    defs = {n: binder.def_nodes[n] for n, obj in binder.stubs.items() if names.get(n) is obj}
    stubs = {id(names[n]): n for n in defs}  # kept alive by ``names``
    return StaticModule(file, Env(names, {}), defs, binder.refused, stubs, binder.numpy)


def _home(path: Path) -> Path:
    """The directory on ``sys.path`` from which ``path`` would be imported."""
    folder = path.resolve().parent
    while (folder / "__init__.py").exists() and folder.parent != folder:
        folder = folder.parent
    return folder


@dataclass
class _Binder:
    file: ModuleFile
    home: Path
    package: Path | None
    names: dict = field(default_factory=dict)
    stubs: dict = field(default_factory=dict)
    def_nodes: dict = field(default_factory=dict)
    refused: dict = field(default_factory=dict)
    numpy: bool = False

    def bind(self, name: str, value: object, conditional: bool) -> None:
        if not (conditional and name in self.names):
            self.names[name] = value

    def statement(self, stmt: ast.stmt, conditional: bool) -> None:
        """Bind what ``stmt`` binds; inside a compound statement (``try: import numpy``), a
        name keeps its first binding."""
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self.imports(stmt, conditional)
        elif isinstance(stmt, ast.FunctionDef) and not stmt.decorator_list and not conditional:
            self.stubs[stmt.name] = self.names[stmt.name] = _stub(stmt.name)
            self.def_nodes[stmt.name] = stmt
            self.refused.pop(stmt.name, None)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.bind(stmt.name, Opaque(stmt.name), conditional)
            if not conditional and not isinstance(stmt, ast.ClassDef):
                self.refused[stmt.name] = self.refusal(stmt)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            value = self.alias(stmt.value)
            self.bind(name, Opaque(name) if value is None else value, conditional)
        else:
            for name in _stored_names(stmt):
                self.bind(name, Opaque(name), conditional)
            for inner in _inner_statements(stmt):
                self.statement(inner, conditional=True)

    def refusal(self, stmt: ast.stmt) -> TransformError:
        where = Location(self.file.path, stmt.lineno, stmt.col_offset)
        if isinstance(stmt, ast.AsyncFunctionDef):
            return TransformError(f"cannot differentiate '{stmt.name}': it is an async "
                                  "function", where)
        deco = ast.unparse(stmt.decorator_list[0])
        return TransformError(
            f"cannot transform '{stmt.name}' offline: it is decorated with @{deco}, and what "
            "the decorator returns is only known when the module runs", where,
            "Transform the undecorated function, or use ast_ad.grad at run time.")

    def imports(self, stmt: ast.Import | ast.ImportFrom, conditional: bool) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self.numpy |= alias.name.split(".")[0] == "numpy"
                module = self.load(alias.name)
                if alias.asname:
                    self.bind(alias.asname, module or Opaque(alias.asname), conditional)
                else:
                    top = alias.name.split(".")[0]
                    self.bind(top, self.load(top) if module else Opaque(top), conditional)
            return
        source = stmt.module or ""
        self.numpy |= stmt.level == 0 and source.split(".")[0] == "numpy"
        module = self.load(source) if stmt.level == 0 else None
        for alias in stmt.names:
            if alias.name == "*":
                for name in _public_names(module):
                    self.bind(name, getattr(module, name), conditional)
                continue
            value = getattr(module, alias.name, None) if module else None
            if value is None and module is not None:
                value = self.load(f"{source}.{alias.name}")
            name = alias.asname or alias.name
            self.bind(name, Opaque(name) if value is None else value, conditional)

    def load(self, dotted: str) -> types.ModuleType | None:
        """Import a library module; None for the user's own modules and failed imports."""
        try:
            spec = importlib.util.find_spec(dotted.split(".")[0])
        except (ImportError, ValueError):
            return None
        if spec is None or self.is_user_code(spec):
            return None
        try:
            return importlib.import_module(dotted)
        except Exception:  # noqa: BLE001 - a library that fails to import: its names are opaque
            return None

    def is_user_code(self, spec: importlib.machinery.ModuleSpec) -> bool:
        where = (spec.submodule_search_locations or [None])[0] or spec.origin
        if not where or not os.path.isabs(where):
            return False  # built-in and frozen modules
        path = Path(where).resolve()
        return path.parent == self.home or (self.package is not None and (
            path == self.package or self.package in path.parents))

    def alias(self, value: ast.expr) -> object | None:
        """What ``name = math.tanh`` or ``name = helper`` binds, if it names a known object."""
        if isinstance(value, ast.Name):
            found = self.names.get(value.id)
            return None if isinstance(found, Opaque) else found
        if isinstance(value, ast.Attribute):
            base = self.alias(value.value)
            if isinstance(base, types.ModuleType):
                return getattr(base, value.attr, None)
        return None


def _public_names(module: types.ModuleType | None) -> list[str]:
    """The names ``from module import *`` binds."""
    if module is None:
        return []
    names = getattr(module, "__all__", None)
    return list(names) if names is not None else [n for n in vars(module) if n[0] != "_"]


def _stored_names(stmt: ast.stmt) -> list[str]:
    """Names a simple statement binds: targets of assignments, for loops and with items."""
    targets = getattr(stmt, "targets", None) or [getattr(stmt, "target", None)]
    targets += [item.optional_vars for item in getattr(stmt, "items", ())]
    return [n.id for t in targets if t is not None for n in ast.walk(t)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def _inner_statements(stmt: ast.stmt) -> list[ast.stmt]:
    """The statements of a compound statement's blocks (``if``, ``try``, ``for``...)."""
    inner = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(stmt, name, None)
        if isinstance(block, list):
            inner += block
    for handler in getattr(stmt, "handlers", ()):
        inner += handler.body
    return inner
