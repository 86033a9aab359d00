"""Offline mode: the gradients of a module file's functions, written as a module.

Names resolve statically (``static.py``): the file is never imported or executed.
Calls between the module's functions are linked to split adjoints ``fwd_h`` and
``rev_h``, written as module-level functions next to the gradients.

The written module is a copy of the source file followed by the generated code,
so that the gradients read the module's own constants and functions and need
nothing beyond what the original imports, plus ``ast_ad.runtime`` for their
helpers (or, with ``standalone=True``, a copy of the helpers they call). Array
mode is chosen for the whole module, statically: on if the module imports numpy.
"""
from __future__ import annotations

import ast
import os
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path

import gast

from . import __version__
from .errors import Location, TransformError
from .naming import Namer, names_in
from .pipeline import RESERVED, Built, Linker, build, compile_functions, params_of
from .source import to_source
from .standalone import Bindings, HelperCopy, copied_here, importable
from .static import ModuleFile, StaticModule, analyze_module, read_module
from .templates import HELPER
from .walk import walk as fast_walk

KINDS = ("grad", "value_and_grad")


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

    def inline_source(self, fn: object):
        """A module-level def of the file, read from the file (the stub has no source)."""
        name = self.splits.module.stubs.get(id(fn)) if self.splits else None
        if name is None or name not in self.splits.module.defs:
            return None
        node = self.splits.module.defs[name]
        defaults = tuple(ast.literal_eval(d) if isinstance(d, ast.Constant) else object()
                         for d in node.args.defaults)
        if node.args.kwonlyargs or node.decorator_list:
            return None
        return self.splits.module.parse(name), self.splits.module.env, defaults

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

    def closure(self, wanted: set) -> tuple[list[str], tuple[str, TransformError] | None]:
        """Every split that ``wanted`` needs, in source order; or the first that fails (its
        function's name and error)."""
        seen: set = set()
        todo = sorted(wanted, key=self.order)
        while todo:
            name = todo.pop(0)
            if name in seen:
                continue
            seen.add(name)
            result = self.get(name)
            if isinstance(result, TransformError):
                return [], (name, result)
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
    missing: list[str] = field(default_factory=list)  # asked for, but not in the module


def transform_module(path: str | os.PathLike, functions: list[str] | None = None,
                     wrt: dict | None = None, standalone: bool = False,
                     package: Path | None = None) -> ModuleResult:
    """The written module for ``path``: its source followed by ``grad_f`` and
    ``value_and_grad_f`` for each function ``f`` (every one that can be transformed, or
    ``functions``), with ``wrt[f]`` as in ``ast_ad.grad`` (default 0, the first argument).
    Array mode (adjoints reduced to their variables' shapes) if the module imports numpy.
    ``package``: the directory being transformed that holds the module, if any."""
    module = analyze_module(read_module(path), package)
    return ModuleTransform(module, standalone).run(functions, wrt or {})


class ModuleTransform:
    """The gradients of a module's functions and the module that holds them. Split adjoints
    and helper names are shared by all the functions of the module."""

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
        missing = [n for n in functions if n not in module.defs and n not in module.refused]
        for name in [n for n in functions if n not in missing]:
            result = self.function(name, wrt.get(name, 0))
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                done[name], splits = result
                needed.update(splits)
        text = self.assemble(done, sorted(needed, key=self.splits.order))
        return ModuleResult(text, list(done), skipped, self.array_mode, missing)

    def function(self, name: str, wrt: object) -> tuple[list[Built], list[str]] | Skipped:
        module = self.module
        if name in module.refused:
            return Skipped(name, module.refused[name])
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
            return Skipped(name, failure[1], via=failure[0])
        problem = self.unwritable(builts + [self.splits.results[s] for s in splits])
        return (builts, splits) if problem is None else Skipped(name, problem)

    def unwritable(self, builts: list[Built]) -> TransformError | None:
        """Why the generated code cannot be written as a module, if it cannot."""
        for built in builts:
            for obj in built.injected.values():
                problem = self.unnameable(obj)
                if problem is not None:
                    return built.parsed.error(built.parsed.func, problem.message, problem.hint)
        return None

    def unnameable(self, obj: object) -> TransformError | None:
        """Why the written module cannot import (or copy) ``obj``, if it cannot."""
        if self.standalone and getattr(obj, "__module__", None) == "ast_ad.dynamic":
            return TransformError(
                "it calls a function held in a variable (a local function, a lambda, an "
                "argument), which needs ast_ad at run time: not with --standalone")
        if isinstance(obj, types.ModuleType) or (self.standalone and copied_here(obj)):
            return None
        try:
            importable(obj)
        except TransformError as exc:
            return exc
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
        source = self.module.file.text.rstrip("\n") + "\n"
        shebang = source.partition("\n")[0] + "\n" if source.startswith("#!") else ""
        sections = [shebang + self.header(list(done)), source[len(shebang):],
                    "\n".join([GENERATED_BANNER] + bindings.import_lines()) + "\n"]
        if helpers:
            sections.append(STANDALONE_BANNER.format(version=__version__)
                            + "\n\n\n".join(h.rstrip("\n") for h in helpers) + "\n")
        sections += [to_source(f) for f in funcs]
        if "__all__" in self.module.env.globals and done:
            names = ", ".join(repr(f"{kind}_{n}") for n in done for kind in KINDS)
            sections.append("__all__ = [\n" + textwrap.fill(
                f"*__all__, {names},", 92, initial_indent="    ", subsequent_indent="    ",
                break_on_hyphens=False) + "\n]\n")
        text = "\n\n".join(sections)
        compile(text, self.module.file.path, "exec")  # a bug of ours if it does not compile
        return text

    def header(self, done: list[str]) -> str:
        path = self.module.file.path
        name = Path(path).name
        mode = (f"array mode ({name} imports numpy)" if self.array_mode else
                f"scalar mode ({name} does not import numpy)")
        runtime = "a copy of ast_ad's run-time helpers" if self.standalone else "ast_ad.runtime"
        about = (f"The source of {path} follows unchanged, then grad_f and value_and_grad_f "
                 f"for each function f transformed ({', '.join(done) or 'none'}), like "
                 f"ast_ad.grad and ast_ad.value_and_grad, in {mode}, using {runtime}.")
        lines = [f"Generated by ast_ad {__version__} (ast-ad transform) from {path}. "
                 "Do not edit: regenerate.", *textwrap.wrap(about, 86),
                 f'"line N" comments refer to lines of {path}.']
        return "\n".join("# " + line for line in lines)


GENERATED_BANNER = "# " + "-" * 70 + " generated by ast_ad"
STANDALONE_BANNER = "# Run-time helpers of ast_ad {version}, copied here by --standalone.\n"


def _line(module: StaticModule, name: str) -> int:
    if name in module.defs:
        return module.defs[name].lineno
    return module.refused[name].lineno or 0


def _local_identifiers(funcs: list) -> set[str]:
    """Names in generated code that are not helpers: the user's and the temporaries."""
    return {n.id for f in funcs for n in fast_walk(f)
            if isinstance(n, gast.Name) and not getattr(n, HELPER, False)} | RESERVED


def _rename_helpers(funcs: list, renames: dict[str, str]) -> None:
    for func in funcs:
        for node in fast_walk(func):
            if isinstance(node, gast.Name) and getattr(node, HELPER, False) \
                    and node.id in renames:
                node.id = renames[node.id]


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"({', '.join(names)})"


def _add_docstring(built: Built, splits: Splits) -> None:
    func = built.parsed.func
    params = params_of(func)
    call = f"{func.name}({', '.join(params)})"
    wrt = _listed(built.wrt)
    if built.kind == "split":
        fwd, rev = splits.names[func.name]
        texts = [f"Forward half of {func.name}'s adjoint: ({call}, the record {rev} reads).",
                 f"Reverse half of {func.name}'s adjoint: the adjoints of {_listed(params)}, "
                 f"given {fwd}'s record and the result's adjoint _g."]
    elif built.kind == "grad":
        texts = [f"Gradient of {call} with respect to {wrt} (ast_ad.grad)."]
    else:
        texts = [f"{call} and its gradient with respect to {wrt} (ast_ad.value_and_grad)."]
    for generated, text in zip(built.funcs, texts):
        text = "\n    ".join(textwrap.wrap(text, 88))
        generated.body.insert(0, gast.Expr(value=gast.Constant(value=text, kind=None)))


# ---------------------------------------------------------------------- one adjoint, to read

def adjoint_source(file: ModuleFile | str | os.PathLike, name: str, wrt: object = 0,
                   kind: str = "grad", arrays: bool | None = None) -> str:
    """The source that ``ast_ad.source(f, wrt=wrt, kind=kind, arrays=arrays)`` returns for
    the function ``name`` of a module file, found without importing the module."""
    module = analyze_module(file if isinstance(file, ModuleFile) else read_module(file))
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
        raise failure[1]
    stub = module.env.globals[name]
    return compile_functions(built, stub).source
