"""The pipeline: one flat list of passes from a user function to its compiled adjoint.

Set ``AST_AD_DEBUG=1`` to print the source after each stage.
"""
from __future__ import annotations

import builtins
import gc
import math
import os
import sys
import types
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import gast
import numpy

from . import dynamic, npruntime, runtime
from .analysis.activity import analyze
from .analysis.aliasing import check_aliasing
from .analysis.fixed import shapes_fixed
from .analysis.overwrite import maybe_unbound
from .errors import Location, TransformError
from .naming import Namer, names_in
from .passes.batch import batch
from .passes.carry import carry
from .passes.contract import contract
from .passes.copies import drop_copies
from .passes.desugar import Desugar
from .passes.fuse import fuse
from .passes.inline import Inliner
from .passes.inplace import in_place
from .passes.invariants import invariants
from .passes.items import items
from .passes.iterate import iterate
from .passes.jumps import Jumps
from .passes.normalize import Normalize
from .passes.peephole import peephole
from .passes.prune import prune
from .passes.release import release
from .passes.resolve import MISSING, Env, resolve
from .passes.reverse import COTANGENT, Generated, Reverse
from .passes.simplify import simplify
from .passes.starts import dead_starts
from .passes.tuples import forward_tuples
from .passes.validate import Validate
from .source import Parsed, parse_function, register_source, to_source
from .tally import Tally
from .templates import HELPER, OBJECT, assign, helper, name
from .walk import frozen, name_nodes, parameters
from .walk import walk as fast_walk

# what generated code may name besides the user's names: template modules, our runtime
# helpers, and builtins (renamed apart if the user's function uses one of these names)
HELPERS = {"math": math, "np": numpy, **runtime.HELPERS, **{
    k: getattr(npruntime, k) for k in getattr(npruntime, "__all__", ())},
    "call_fwd": dynamic.call_fwd, "call_rev": dynamic.call_rev}
BUILTIN_HELPERS = {k: getattr(builtins, k) for k in ("len", "slice", "range", "reversed",
                                                      "min", "list", "zip")}
FACTORY = "_ast_ad_factory"
RESERVED = {"_tape", "_push", "_pop", "_saved", "_g"}  # our names; renamed if the user's too
SAVED = "_saved"


# ---------------------------------------------------------------------- the pass list

@dataclass
class Specialisable:
    """What ``ast_ad.specialise`` needs of an adjoint whose shapes follow from its arguments'
    (``analysis.fixed``)."""

    trees: list   # the generated functions, as compiled
    needs: dict   # argument position -> "int" or "index": what the shapes need of it
    temps: set    # the names simplify may forward (temporaries and their adjoints)


@dataclass
class Built:
    """A generated adjoint as trees (one function, or two for kind "split"), before compiling."""

    funcs: list
    parsed: Parsed
    wrt: list[str]
    kind: str
    injected: dict      # name in generated code -> object (modules, runtime helpers, cells)
    guards: list        # (globals dict, name, object it held) for each resolved call site
    array_mode: bool = False  # adjoints reduced to their variables' shapes (broadcasting)
    specialisable: Specialisable | None = None  # when its shapes follow from its arguments'


def build(parsed: Parsed, env: Env, wrt: object, kind: str, linker: Linker | None = None,
          array_mode: bool = False) -> Built:
    """The pass list. ``env`` says what free names mean: live globals at run time, or the
    module's imports and definitions in offline mode. ``kind``: "grad", "value_and_grad",
    or "split" (a forward function returning a record, and a reverse function taking it,
    used when the user's own functions call each other)."""
    debug("source", parsed.func)
    with frozen(parsed.func):  # resolving, checking and naming only read it
        calls, guards = resolve(parsed, env)
        Validate(parsed, calls).run()
        array_mode = array_mode or uses_arrays(parsed, calls, env)
        wrt_names = wrt_parameters(parsed, wrt)
        user_names = names_in(parsed.func) | set(env.closure)
        namer = Namer(user_names | RESERVED | {FACTORY})
        desugar = Desugar(parsed.func, namer, calls, parsed.error)  # (reads it)
    linker = linker or Linker()
    linker.namer, linker.array_mode, linker.globals = namer, array_mode, env.globals
    desugar.run()
    debug("desugar", parsed.func)
    Jumps(parsed.func, namer).run()
    debug("jumps", parsed.func)
    inliner = Inliner(env.globals, namer, (parsed.filename, parsed.func.lineno), array_mode,
                      linker.inline_source)
    norm = Normalize(parsed, calls, namer, array_mode, inliner).run()
    with frozen(norm.func):  # the analyses and the reverse pass only read it
        forward_tuples(norm.func, namer.made)  # (says when it changes it, which is rare)
        debug("normalize", norm.func)
        check_aliasing(parsed, norm, calls, array_mode)
        activity = analyze(parsed.module, norm.func, wrt_names, calls)
        fixed = shapes_fixed(norm.func, calls, env) \
            if array_mode and kind in ("grad", "value_and_grad") else None
        reverse = Reverse(parsed, norm, activity, calls, wrt_names, kind, linker)
        reverse.wrt_tuple = isinstance(wrt, (tuple, list))
        reverse.array_mode = array_mode
        generated = reverse.run()
    tally = Tally()  # the generated statements' Names, listed once for prune and simplify
    func = prune(generated, maybe_unbound(norm.func), namer, kind, tally)
    debug("reverse + prune", func)
    if not array_mode and kind in ("grad", "value_and_grad"):
        func = fuse(func, set(namer.adjoints.values()), tally)
        debug("fuse", func)
    funcs = split(generated, params_of(norm.func)) if kind == "split" else [func]
    temps = norm.temps | {namer.adjoint(t) for t in norm.temps if t in namer.adjoints}
    funcs = [simplify(f, temps, array_mode, tally) for f in funcs]
    funcs = [dead_starts(f, set(namer.adjoints.values()), tally) for f in funcs]
    debug("simplify + starts", funcs[-1])
    funcs = [peephole(f, array_mode) for f in funcs]
    debug("peephole", funcs[-1])
    if not array_mode and kind in ("grad", "value_and_grad"):
        funcs = [invariants(f) for f in funcs]
        funcs = [iterate(f) for f in funcs]
        funcs = [items(f, set(namer.adjoints.values())) for f in funcs]
        funcs = [carry(f, set(namer.adjoints.values()), namer) for f in funcs]
        debug("invariants + iterate + items + carry", funcs[-1])
    if array_mode:
        funcs = [contract(f) for f in funcs]
        funcs = [batch(f, namer) for f in funcs]
        funcs = [drop_copies(f) for f in funcs]
        debug("contract + batch + copies", funcs[-1])
    if array_mode and kind != "split":
        funcs = [release(f) for f in funcs]
        funcs = [in_place(f) for f in funcs]
        debug("release + in place", funcs[-1])
    injected = dict(linker.injected)
    injected.update(helpers_used(funcs, user_names, reverse.local, env, namer))
    guards = _unique([(env.globals, n, obj) for n, obj in guards if obj is not MISSING]
                     + [g for g in inliner.guards if g[2] is not MISSING] + linker.guards)
    special = Specialisable(funcs, fixed, temps) if fixed is not None else None
    return Built(funcs, parsed, wrt_names, kind, injected, guards, array_mode, special)


def uses_arrays(parsed: Parsed, calls: dict, env: Env) -> bool:
    """Does the function call NumPy, or read a global or closure value that is or holds an
    array?"""
    if any(t.key and t.key.startswith("numpy.") for t in calls.values()):
        return True
    looked_up: set = set()  # names whose values were looked at (each means one value)
    for node in fast_walk(parsed.func):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            if node.id in looked_up:
                continue
            looked_up.add(node.id)
            value = env.lookup(node.id)[0]
        elif isinstance(node, gast.Attribute):
            value = _module_attribute(node, env)  # ``config.ROW``
        else:
            continue
        if value is numpy or has_arrays((value,)):
            return True
    seen: set = set()
    return any(_calls_arrays(t.obj, seen) for t in calls.values() if t.kind == "function")


def _module_attribute(node: gast.Attribute, env: Env) -> object:
    """The value of ``mod.sub.NAME`` when every object before the last dot is a module
    (nothing is evaluated but module attribute lookups); else None."""
    base = node.value
    if isinstance(base, gast.Name):
        owner = env.lookup(base.id)[0]
    elif isinstance(base, gast.Attribute):
        owner = _module_attribute(base, env)
    else:
        return None
    if not isinstance(owner, types.ModuleType):
        return None
    return getattr(owner, node.attr, None)


def _calls_arrays(fn: object, seen: set) -> bool:
    """Does the user function ``fn``, or one it calls, read NumPy or an array (or a container
    of arrays) from its globals or closure? Its results may then be arrays even though the
    caller never names one (``y = make_row() * x``)."""
    if not isinstance(fn, types.FunctionType) or fn in seen:
        return False
    seen.add(fn)
    values = [fn.__globals__[n] for n in _global_names(fn.__code__) if n in fn.__globals__]
    values += Env.of(fn).closure.values()
    return any(v is numpy or has_arrays((v,)) or _calls_arrays(v, seen) for v in values)


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


_PLAIN = frozenset((float, int, bool, str, type(None)))  # values that are never arrays


def has_arrays(values) -> bool:
    """Are any of the run-time arguments arrays, or containers (lists, tuples, dicts, at any
    depth) holding one? Every item is looked at: one array anywhere needs array mode. A
    container of plain numbers is passed over at C speed (``runtime.numbers_only``)."""
    for v in values:
        kind = type(v)
        if kind in _PLAIN:
            continue
        if (kind is list or kind is tuple) and (
                runtime.numbers_only(v) or _PLAIN.issuperset(map(type, v))):
            continue  # a list of plain numbers (or strings, None), the common case, at C speed
        if isinstance(v, (numpy.ndarray, numpy.generic)):
            return True
        if kind is list or kind is tuple or isinstance(v, (list, tuple)):
            if not _PLAIN.issuperset(map(type, v)) and has_arrays(v):
                return True
        elif isinstance(v, dict) and has_arrays(v.values()):
            return True
    return False


def _unique(guards: list) -> list:
    seen, out = set(), []
    for guard in guards:
        key = (id(guard[0]), guard[1], id(guard[2]))
        if key not in seen:
            seen.add(key)
            out.append(guard)
    return out


def split(gen: Generated, params: list[str]) -> list:
    """Cut the adjoint into ``fwd_f(args) -> (value, record)`` and ``rev_f(record, _g)``;
    the record holds the primal names the reverse sweep reads (and the tape's pop)."""
    func = gen.func
    forward, reverse = func.body[:gen.split_at], func.body[gen.split_at:]
    stored = set(params) | {n.id for s in forward for n in name_nodes(s)
                            if isinstance(n.ctx, gast.Store)}
    read = {n.id for s in reverse for n in name_nodes(s) if isinstance(n.ctx, gast.Load)}
    saved = sorted(read & stored)
    bound = set(params) | _bound_at_top(forward)
    forward = [assign(v, gast.Constant(value=None, kind=None)) for v in saved
               if v not in bound] + forward
    record = gast.Tuple(elts=[name(v) for v in saved], ctx=gast.Load())
    value = gen.returned
    fwd_ret = gast.Return(value=gast.Tuple(elts=[value, record], ctx=gast.Load()))
    fwd = gast.FunctionDef(name=f"fwd_{func.name[len('split_'):]}", args=func.args,
                           body=forward + [fwd_ret], decorator_list=[], returns=None,
                           type_comment=None, type_params=[])
    unpack = [gast.Assign(
        targets=[gast.Tuple(elts=[name(v, store=True) for v in saved], ctx=gast.Store())],
        value=helper(SAVED), type_comment=None)]
    args = gast.arguments(args=[helper(SAVED), helper(COTANGENT)], posonlyargs=[],
                          vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    for a in args.args:
        a.ctx = gast.Param()
    rev = gast.FunctionDef(name=f"rev_{func.name[len('split_'):]}", args=args,
                           body=(unpack if saved else []) + reverse, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    for f in (fwd, rev):
        gast.copy_location(f, func)
    return [fwd, rev]


def _bound_at_top(stmts: list) -> set[str]:
    """Names certainly bound after ``stmts``: targets of top-level assignments."""
    bound = set()
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            for target in stmt.targets:
                elts = target.elts if isinstance(target, gast.Tuple) else [target]
                bound.update(t.id for t in elts if isinstance(t, gast.Name))
    return bound


def helpers_used(funcs: list, user_names: set, local: set, env: Env, namer: Namer) -> dict:
    """The helpers the generated code names, as ``{name: object}`` to inject. A helper whose
    name the user's function uses for something else is renamed apart (``math_1``)."""
    injected: dict = {}
    renames: dict = {}
    for func in funcs:
        for node in name_nodes(func):
            if not getattr(node, HELPER, False):
                continue
            if node.id in RESERVED:
                if node.id in user_names:
                    node.id = renames.setdefault(node.id, namer.exact(node.id + "_"))
                continue
            obj = getattr(node, OBJECT, MISSING)
            if obj is MISSING:
                obj = HELPERS.get(node.id, BUILTIN_HELPERS.get(node.id, MISSING))
            elif obj is not HELPERS.get(node.id, obj):  # a user rule's name, not ours
                key = (node.id, id(obj))
                node.id = renames.setdefault(key, namer.exact(node.id))
                injected[node.id] = obj
                continue
            if obj is MISSING:
                continue
            clash = node.id in local or env.lookup(node.id)[0] is not obj
            if clash:
                node.id = renames.setdefault(node.id, namer.exact(node.id))
            if clash or node.id in HELPERS:
                injected[node.id] = obj
    return injected


def params_of(func: gast.FunctionDef) -> list[str]:
    return [a.id for a in parameters(func)]


def wrt_parameters(parsed: Parsed, wrt: object) -> list[str]:
    """Parameter names for ``wrt`` (an index, a name, a tuple of them, or None for all)."""
    args = parsed.func.args
    positional = [a.id for a in list(args.posonlyargs) + list(args.args)]
    every = positional + [a.id for a in args.kwonlyargs]
    if wrt is None:
        return every
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    names = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and -len(positional) <= item \
                < len(positional):
            names.append(positional[item])
        elif isinstance(item, str) and item in every:
            names.append(item)
        else:
            raise parsed.error(parsed.func, f"wrt={item!r} does not name a parameter of "
                               f"{parsed.func.name}({', '.join(every)})",
                               "Use a parameter's position (0, 1, ...) or its name.")
    if len(set(names)) != len(names):
        raise parsed.error(parsed.func, f"wrt={wrt!r} names the same parameter twice")
    return names


# ---------------------------------------------------------------------- run-time mode

@dataclass
class Transformation:
    """Compiled adjoint code, the objects it closes over, and the guards that keep it valid."""

    codes: list
    source: str
    filename: str
    injected: dict
    guards: list
    array_mode: bool = False
    specialisable: Specialisable | None = None  # (see ast_ad.specialise)

    def instantiate(self, fn: types.FunctionType) -> list:
        """Functions running this adjoint with ``fn``'s globals, closure cells and defaults."""
        user_cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        out = []
        for k, code in enumerate(self.codes):
            cells = tuple(user_cells[v] if v in user_cells else _cell(self.injected[v])
                          for v in code.co_freevars)
            defaults = fn.__defaults__ if k == 0 else None
            new = types.FunctionType(code, fn.__globals__, code.co_name, defaults, cells)
            if k == 0:
                new.__kwdefaults__ = fn.__kwdefaults__
            new.__doc__ = f"{code.co_name}: generated by ast_ad from {fn.__qualname__}"
            out.append(new)
        return out


def _cell(obj: object) -> types.CellType:
    return obj if isinstance(obj, types.CellType) else types.CellType(obj)


def transform(fn: types.FunctionType, wrt: object, kind: str,
              closure_as_params: bool = False, array_mode: bool = False) -> Transformation:
    """Transform a live function (run-time mode): source from inspect, names from its globals.
    With ``closure_as_params`` its closure variables become keyword-only parameters (for
    local functions, whose closures change from call to call)."""
    with _no_gc():
        return _transform(fn, wrt, kind, closure_as_params, array_mode)


@contextmanager
def _no_gc():
    """The cyclic garbage collector paused while a transformation makes its many short-lived
    tree nodes (they form no cycles worth collecting then; about 1 ms of 20); restored
    as it was, also on an error."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _transform(fn: types.FunctionType, wrt: object, kind: str, closure_as_params: bool,
               array_mode: bool) -> Transformation:
    parsed = parse_function(fn)
    env = Env.of(fn)
    if closure_as_params:
        extra = [name(v, store=False) for v in fn.__code__.co_freevars]
        for node in extra:
            node.ctx = gast.Param()
        parsed.func.args.kwonlyargs += extra
        parsed.func.args.kw_defaults += [None] * len(extra)
        env = Env(fn.__globals__, {})
    built = build(parsed, env, wrt, kind, Linker(), array_mode)
    return compile_functions(built, fn)


@dataclass
class Linker:
    """Gives generated code the split adjoints (``fwd_h``, ``rev_h``) of the user's functions
    that it calls, as closure cells: a recursive call gets the cells of the transformation
    in progress, filled in when it completes."""

    namer: Namer | None = None
    injected: dict = field(default_factory=dict)
    guards: list = field(default_factory=list)
    names: dict = field(default_factory=dict)
    array_mode: bool = False
    globals: dict | None = None

    def inline_source(self, fn: object):
        """``(parsed, env, defaults)`` of a user function that may be inlined, or None."""
        from .passes.inline import live_source
        return live_source(fn, self.globals)

    def split(self, fn: object, where: Location) -> tuple[str, str, list[str]]:
        if fn in self.names:
            return self.names[fn]
        entry = split_adjoint(fn, self.array_mode)
        self.guards.extend(entry.guards)
        fwd_name = self.namer.exact(f"fwd_{fn.__name__}")
        rev_name = self.namer.exact(f"rev_{fn.__name__}")
        self.injected[fwd_name], self.injected[rev_name] = entry.fwd, entry.rev
        self.names[fn] = fwd_name, rev_name, entry.params
        return self.names[fn]


@dataclass
class SplitEntry:
    fwd: types.CellType
    rev: types.CellType
    params: list
    guards: list = field(default_factory=list)
    freevars: list = field(default_factory=list)


_SPLITS: dict = {}


def split_adjoint(fn: types.FunctionType, array_mode: bool = False) -> SplitEntry:
    """The split adjoint of a user function, built once per function object (and mode)."""
    entry = _SPLITS.get((fn, array_mode))
    if entry is not None and guards_hold(entry.guards):
        return entry
    code = fn.__code__
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    entry = SplitEntry(types.CellType(), types.CellType(), params)
    _SPLITS[fn, array_mode] = entry
    try:
        t = transform(fn, None, "split", array_mode=array_mode)
    except BaseException:
        del _SPLITS[fn, array_mode]
        raise
    entry.fwd.cell_contents, entry.rev.cell_contents = t.instantiate(fn)
    entry.guards = t.guards
    return entry


_CLOSURE_SPLITS: dict = {}


def closure_split(fn: types.FunctionType, array_mode: bool = False) -> SplitEntry:
    """The split adjoint of a local function, once per code object: its closure variables
    are keyword parameters, so every instance (every closure) shares it."""
    code = fn.__code__
    entry = _CLOSURE_SPLITS.get((id(code), array_mode))
    entry = entry[1] if entry is not None and entry[0] is code else None
    if entry is not None and guards_hold(entry.guards):
        return entry
    free = list(code.co_freevars)
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]) + free
    entry = SplitEntry(types.CellType(), types.CellType(), params, freevars=free)
    _CLOSURE_SPLITS[id(code), array_mode] = (code, entry)
    try:
        t = transform(fn, None, "split", closure_as_params=True, array_mode=array_mode)
    except BaseException:
        del _CLOSURE_SPLITS[id(code), array_mode]
        raise
    entry.fwd.cell_contents, entry.rev.cell_contents = t.instantiate(fn)
    entry.guards = t.guards
    return entry


def guards_hold(guards: list) -> bool:
    for namespace, key, obj in guards:
        value = namespace.get(key, _BUILTIN)
        if value is not obj and (value is not _BUILTIN or _BUILTINS.get(key, MISSING) is not obj):
            return False
    return True


def guard_check(guards: list) -> Callable[[], bool]:
    """``guards_hold(guards)`` as a function of no arguments, its loop unrolled into one
    expression (the check runs on every call of a gradient: about half the loop's time)."""
    env: dict = {"B": _BUILTIN, "BI": _BUILTINS, "M": MISSING}
    terms = []
    for k, (namespace, key, obj) in enumerate(guards):
        env[f"n{k}"], env[f"o{k}"] = namespace.get, obj
        terms.append(f"((v := n{k}({key!r}, B)) is o{k} or v is B and BI.get({key!r}, M) is o{k})")
    text = f"def holds():\n    return {' and '.join(terms) or 'True'}\n"
    exec(compile(text, "<ast_ad guards>", "exec"), env)  # noqa: S102 - names made above
    return env["holds"]


_BUILTIN = object()
_BUILTINS = vars(builtins)


def compile_functions(built: Built, fn: types.FunctionType) -> Transformation:
    """Compile the adjoint inside a factory so that injected names and the user's closure
    variables are closure cells; register the text for tracebacks."""
    funcs, parsed, injected = built.funcs, built.parsed, built.injected
    text = "\n\n".join(to_source(f).rstrip("\n") for f in funcs) + "\n"
    filename = (f"<ast_ad {funcs[0].name} wrt {','.join(built.wrt)} "
                f"of {parsed.filename}:{parsed.func.lineno}>")
    try:
        codes = compile_factory(text, [f.name for f in funcs], set(injected), fn, filename)
    except SyntaxError as exc:  # a bug in a pass, never the user's fault
        raise TransformError(f"internal error: generated code does not compile ({exc}); "
                             "please report this with the function's source") from exc
    used = {v: injected[v] for c in codes for v in c.co_freevars if v in injected}
    return Transformation(codes, text, filename, used, built.guards, built.array_mode,
                          built.specialisable)


def compile_factory(text: str, names: list[str], injected: set, fn: types.FunctionType,
                    filename: str) -> list[types.CodeType]:
    """The code objects of the functions ``names`` defined by ``text``, compiled inside a
    factory whose parameters (the injected names and ``fn``'s closure variables) make
    their free names closure cells. The factory's text is registered for tracebacks."""
    freevars = sorted(injected | set(fn.__code__.co_freevars))
    factory = f"def {FACTORY}({', '.join(freevars)}):\n"
    factory += "".join("    " + line + "\n" if line else "\n" for line in text.splitlines())
    factory += f"    return {', '.join(names)}\n"
    register_source(filename, factory)
    module_code = compile(factory, filename, "exec")
    factory_code = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    inner = {c.co_name: c for c in factory_code.co_consts if isinstance(c, types.CodeType)}
    return [inner[n] for n in names]


def debug(stage: str, tree: gast.AST) -> None:
    if os.environ.get("AST_AD_DEBUG"):
        print(f"---- {stage} ----\n{to_source(tree)}", file=sys.stderr)
