"""Offline mode: the pipeline on a module file, resolving its names statically.

The file is read and parsed, never imported or executed. What its free names
mean comes from its own statements: ``import`` statements import *those*
modules (libraries, never the file itself nor the modules next to it), a
module-level ``def`` is a user function (a stub object that ``resolve``
classifies as one, mapped back to its ``def``), an alias such as
``act = math.tanh`` is followed, and every other module-level name (constants,
classes, decorated functions) is opaque: read at run time, never called with a
derivative. Calls between the module's functions are linked to module-level
split adjoints ``fwd_h``/``rev_h`` emitted next to the gradients.

The written module is a copy of the source file followed by the generated code,
so the gradients read the module's own constants and helpers and need nothing
beyond what the original imports, plus ``ast_ad.runtime`` (or, with
``standalone=True``, a copy of the few run-time helpers they call).
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import linecache
import os
import tokenize
import types
from dataclasses import dataclass, field
from pathlib import Path

import gast

from . import __version__
from .errors import Location, TransformError
from .naming import Namer, names_in
from .passes.resolve import Env
from .pipeline import RESERVED, Built, Linker, build, compile_functions, params_of
from .source import Parsed, parse_lines, to_source
from .standalone import Bindings, HelperCopy, copied_here, importable
from .templates import HELPER

KINDS = ("grad", "value_and_grad")


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

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines(True)


def read_module(path: str | os.PathLike) -> ModuleFile:
    """Read and parse a module file. Raises OSError (or UnicodeDecodeError) if it cannot be
    read and TransformError, located, if it is not valid Python."""
    path = os.fspath(path)
    with tokenize.open(path) as handle:  # honours a PEP 263 coding line
        text = handle.read()
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        _register_lines(path, text)
        where = Location(path, exc.lineno or 1, max((exc.offset or 1) - 1, 0))
        raise TransformError(f"syntax error: {exc.msg}", where) from None
    _register_lines(path, text)
    return ModuleFile(path, text, tree)


def _register_lines(path: str, text: str) -> None:
    """Make the comments and error messages quote the text we parsed, not a later version:
    the entry carries the file's size and time, so ``linecache.checkcache`` drops it once
    the file changes."""
    stat = os.stat(path)
    linecache.cache[path] = (stat.st_size, stat.st_mtime, text.splitlines(True), path)


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


def analyze_module(file: ModuleFile, home: Path | None = None) -> StaticModule:
    """Bind the module's names from its statements. Top-level modules and packages found
    in ``home`` (default: the directory holding the file, or its package) are the user's
    own code: they are not imported, and names from them stay opaque."""
    binder = _Binder(file, (home or _home(Path(file.path))).resolve())
    for stmt in file.tree.body:
        binder.statement(stmt, conditional=False)
    names = binder.names
    stubs = {id(obj): n for n, obj in binder.stubs.items()}
    defs = {n: binder.def_nodes[n] for n, obj in binder.stubs.items() if names.get(n) is obj}
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
        return Path(where).resolve().parent == self.home

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


def _params(node: ast.FunctionDef) -> list[str]:
    args = node.args
    return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]


# ---------------------------------------------------------------------- linking

@dataclass
class StaticLinker(Linker):
    """Links a call to one of the module's functions to its split adjoint: a module-level
    ``fwd_h``/``rev_h`` pair named once for the whole module, or (``per_build``, what
    ``source`` shows) named in the calling function as the run-time linker names it."""

    splits: Splits | None = None
    per_build: bool = False
    wanted: set = field(default_factory=set)

    def split(self, fn: object, where: Location) -> tuple[str, str, list[str]]:
        if fn not in self.names:
            name = self.splits.function_of(fn, where)
            self.wanted.add(name)
            if self.per_build:
                fwd, rev = self.namer.exact(f"fwd_{name}"), self.namer.exact(f"rev_{name}")
            else:
                fwd, rev = self.splits.names[name]
                if {fwd, rev} & self.namer.taken:
                    raise TransformError(f"internal error: {fwd} or {rev} is also a local "
                                         "name of the calling function", where)
                self.namer.taken |= {fwd, rev}
            self.names[fn] = fwd, rev, _params(self.splits.module.defs[name])
        return self.names[fn]


class Splits:
    """The split adjoints of the module's functions: named up front, each built once, on
    first request, with the module's array mode."""

    def __init__(self, module: StaticModule, array_mode: bool, namer: Namer):
        self.module = module
        self.array_mode = array_mode
        self.names = {n: (namer.exact(f"fwd_{n}"), namer.exact(f"rev_{n}"))
                      for n in module.defs}
        self.results: dict[str, Built | TransformError] = {}
        self.deps: dict[str, set] = {}

    def function_of(self, fn: object, where: Location) -> str:
        name = self.module.stubs.get(id(fn))
        if name is None:
            label = getattr(fn, "__qualname__", repr(fn))
            raise TransformError(
                f"cannot link the call to {label}() offline: it is defined in "
                f"{getattr(fn, '__module__', None) or 'another module'}, not in "
                f"{self.module.file.path}", where,
                "Offline mode links calls between the functions of one file. Register a "
                "rule for it (ast_ad.register_rule), or use ast_ad.grad at run time.")
        return name

    def get(self, name: str) -> Built | TransformError:
        if name not in self.results:
            linker = StaticLinker(splits=self)
            self.results[name] = attempt(self.module, name, None, "split", linker,
                                         self.array_mode)
            self.deps[name] = linker.wanted
        return self.results[name]

    def closure(self, wanted: set) -> tuple[list[str], TransformError | None]:
        """Every split that ``wanted`` needs, in source order, or the first that fails."""
        seen: set = set()
        todo = sorted(wanted, key=self.order)
        while todo:
            name = todo.pop(0)
            if name in seen:
                continue
            seen.add(name)
            result = self.get(name)
            if isinstance(result, TransformError):
                return [], result
            todo += sorted(self.deps[name], key=self.order)
        return sorted(seen, key=self.order), None

    def order(self, name: str) -> int:
        return self.module.defs[name].lineno


def attempt(module: StaticModule, name: str, wrt: object, kind: str, linker: StaticLinker,
            array_mode: bool) -> Built | TransformError:
    """Build ``name``'s adjoint, or return the TransformError that says why not. Any other
    exception (a bug of ours) becomes one too, so that one bug costs one function."""
    try:
        return build(module.parse(name), module.env, wrt, kind, linker, array_mode)
    except TransformError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001
        return module.error_at(
            name, f"internal error while transforming {name}(): {type(exc).__name__}: {exc}",
            "Please report this, with the function's source.")


# ---------------------------------------------------------------------- a module's gradients

@dataclass
class Skipped:
    """A function left out, why, and the helper it calls that failed (if that is why)."""

    name: str
    error: TransformError
    via: str | None = None


@dataclass
class ModuleResult:
    text: str
    transformed: list[str]
    skipped: list[Skipped]
    array_mode: bool


def transform_module(path: str | os.PathLike, functions: list[str] | None = None,
                     wrt: dict | None = None, standalone: bool = False,
                     home: Path | None = None) -> ModuleResult:
    """The written module for ``path``: its source followed by ``grad_f`` and
    ``value_and_grad_f`` for each function ``f`` (every one that can be transformed, or
    ``functions``), with ``wrt[f]`` as in ``ast_ad.grad`` (default 0, the first argument).
    Array mode (adjoints reduced to their variables' shapes) if the module imports numpy."""
    module = analyze_module(read_module(path), home)
    return ModuleTransform(module, standalone).run(functions, wrt or {})


class ModuleTransform:
    def __init__(self, module: StaticModule, standalone: bool):
        self.module = module
        self.standalone = standalone
        self.array_mode = module.imports_numpy
        self.source_names = names_in(gast.ast_to_gast(module.file.tree)) | set(module.env.globals)
        self.generated = {f"{kind}_{n}" for n in module.defs for kind in KINDS}
        namer = Namer(self.source_names | self.generated | RESERVED)
        self.splits = Splits(module, self.array_mode, namer)

    def run(self, functions: list[str] | None, wrt: dict) -> ModuleResult:
        module = self.module
        if functions is None:
            nodes = {**module.refused, **module.defs}
            functions = sorted(nodes, key=lambda n: _line(module, n))
        done: dict[str, list[Built]] = {}
        needed: set = set()
        skipped = []
        for name in functions:
            result = self.function(name, wrt.get(name, 0))
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                done[name], splits = result
                needed.update(splits)
        text = self.assemble(done, sorted(needed, key=self.splits.order))
        return ModuleResult(text, list(done), skipped, self.array_mode)

    def function(self, name: str, wrt: object) -> tuple[list[Built], list[str]] | Skipped:
        module = self.module
        if name in module.refused:
            return Skipped(name, module.refused[name])
        if name not in module.defs:
            return Skipped(name, TransformError(
                f"{module.file.path} defines no module-level function '{name}'"))
        for kind in KINDS:
            if f"{kind}_{name}" in module.env.globals:
                return Skipped(name, module.error_at(
                    name, f"cannot write {kind}_{name}: {module.file.path} already defines "
                    f"a module-level name '{kind}_{name}'", "Rename it."))
        builts, wanted = [], set()
        for kind in KINDS:
            linker = StaticLinker(splits=self.splits)
            built = attempt(module, name, wrt, kind, linker, self.array_mode)
            if isinstance(built, TransformError):
                return Skipped(name, built)
            builts.append(built)
            wanted |= linker.wanted
        splits, failure = self.splits.closure(wanted)
        if failure is not None:
            return Skipped(name, failure[1], failure[0])
        problem = self.unwritable(builts + [self.splits.results[s] for s in splits])
        return (builts, splits) if problem is None else Skipped(name, problem)

    def unwritable(self, builts: list[Built]) -> TransformError | None:
        """Why the generated code cannot be written as a module, if it cannot."""
        for built in builts:
            for obj in built.injected.values():
                try:
                    if self.standalone and (getattr(obj, "__module__", "") or "") \
                            == "ast_ad.dynamic":
                        raise TransformError(
                            "it calls a function passed in a variable (a local function or "
                            "lambda), which needs ast_ad at run time: not possible with "
                            "--standalone")
                    if not isinstance(obj, types.ModuleType) and not (
                            self.standalone and copied_here(obj)):
                        importable(obj)
                except TransformError as exc:
                    return TransformError(exc.message, built.parsed.location(built.parsed.func),
                                          exc.hint)
        return None

    # ------------------------------------------------------------------ writing
    def assemble(self, done: dict[str, list[Built]], splits: list[str]) -> str:
        builts = [b for name in done for b in done[name]]
        builts += [self.splits.results[s] for s in splits]
        for name in splits:
            fwd, rev = self.splits.results[name].funcs
            fwd.name, rev.name = self.splits.names[name]
        funcs = [f for b in builts for f in b.funcs]
        bindings = Bindings(self.module.env.globals, Namer(
            self.source_names | {f.name for f in funcs} | _local_identifiers(funcs)))
        for built in builts:
            renames = {n: bindings.bind(n, obj) for n, obj in sorted(built.injected.items())}
            _rename_helpers(built.funcs, renames)
        for built in builts:
            _add_docstring(built, self.splits)
        helpers = HelperCopy(bindings).run() if self.standalone else []
        parts = [self.header(list(done)), self.module.file.text.rstrip("\n") + "\n"]
        generated = "\n".join(bindings.import_lines()) + "\n"
        if helpers:
            generated += "\n\n" + STANDALONE_BANNER.format(version=__version__)
            generated += "\n\n".join(h.rstrip("\n") + "\n" for h in helpers)
            generated += "".join(line + "\n" for line in bindings.aliases())
        blocks = [to_source(f).rstrip("\n") + "\n" for f in funcs]
        if "__all__" in self.module.env.globals and done:
            names = [f"{kind}_{n}" for n in done for kind in KINDS]
            blocks.append(f"__all__ = [*__all__, {', '.join(map(repr, names))}]\n")
        parts.append(GENERATED_BANNER + ("\n" + generated if generated.strip() else ""))
        text = "\n\n".join(parts) + ("\n\n" + "\n\n".join(blocks) if blocks else "")
        compile(text, self.module.file.path, "exec")  # a bug in us, never the user's fault
        return text

    def header(self, done: list[str]) -> str:
        path = self.module.file.path
        mode = (f"array mode ({Path(path).name} imports numpy)" if self.array_mode else
                f"scalar mode ({Path(path).name} does not import numpy)")
        listed = ", ".join(done) if done else "none"
        return HEADER.format(version=__version__, path=path, mode=mode, functions=listed,
                             runtime="a copy of ast_ad's run-time helpers" if self.standalone
                             else "ast_ad.runtime").rstrip("\n") + "\n"


HEADER = """\
# Generated by ast_ad {version} (ast-ad transform) from {path}. Do not edit: regenerate.
# The source of {path} follows unchanged, then grad_f and value_and_grad_f for each
# function f transformed ({functions}), like ast_ad.grad and ast_ad.value_and_grad,
# in {mode}, using {runtime}.
# "line N" comments refer to lines of {path}.
"""
GENERATED_BANNER = "# " + "-" * 70 + " generated by ast_ad"
STANDALONE_BANNER = "# ast_ad {version}'s run-time helpers, copied by --standalone\n"


def _line(module: StaticModule, name: str) -> int:
    if name in module.defs:
        return module.defs[name].lineno
    return module.refused[name].lineno or 0


def _local_identifiers(funcs: list) -> set[str]:
    """Names in generated code that are not helpers: the user's and the temporaries."""
    return {n.id for f in funcs for n in gast.walk(f)
            if isinstance(n, gast.Name) and not getattr(n, HELPER, False)} | RESERVED


def _rename_helpers(funcs: list, renames: dict[str, str]) -> None:
    for func in funcs:
        for node in gast.walk(func):
            if isinstance(node, gast.Name) and getattr(node, HELPER, False) \
                    and node.id in renames:
                node.id = renames[node.id]


def _add_docstring(built: Built, splits: Splits) -> None:
    func = built.parsed.func
    params = params_of(func)
    call = f"{func.name}({', '.join(params)})"
    wrt = ", ".join(built.wrt)
    if built.kind == "split":
        fwd, rev = splits.names[func.name]
        texts = [f"Forward half of {func.name}'s adjoint: ({call}, the record {rev} reads).",
                 f"Reverse half of {func.name}'s adjoint: the adjoints of "
                 f"({', '.join(params)}) from {fwd}'s record and the result's adjoint _g."]
    elif built.kind == "grad":
        texts = [f"Gradient of {call} with respect to {wrt} (ast_ad.grad)."]
    else:
        texts = [f"{call} and its gradient with respect to {wrt} (ast_ad.value_and_grad)."]
    for generated, text in zip(built.funcs, texts):
        generated.body.insert(0, gast.Expr(value=gast.Constant(value=text, kind=None)))


# ---------------------------------------------------------------------- one adjoint, to read

def adjoint_source(path: str | os.PathLike, name: str, wrt: object = 0, kind: str = "grad",
                   arrays: bool | None = None) -> str:
    """The source that ``ast_ad.source(f, wrt=wrt, kind=kind, arrays=arrays)`` returns for
    the function ``name`` of the module file ``path``, found without importing it."""
    module = analyze_module(read_module(path))
    if name in module.refused:
        raise module.refused[name]
    if name not in module.defs:
        raise TransformError(f"{module.file.path} defines no module-level function '{name}'")
    splits = Splits(module, bool(arrays), Namer(set()))
    linker = StaticLinker(splits=splits, per_build=True)
    built = build(module.parse(name), module.env, wrt, kind, linker, bool(arrays))
    splits.array_mode = built.array_mode
    failure = splits.closure(linker.wanted)[1]
    if failure is not None:
        raise failure
    stub = module.env.globals[name]
    return compile_functions(built, stub).source
