"""Inline: small functions of the user's, called with active arguments, become part of the
caller, so their adjoint is as fast as if they had been written out by hand.

Input: a call site ``f(a, b)`` to a user function during normalisation. Output: either
``None`` (not inlined: the call keeps its split adjoint ``fwd_f``/``rev_f``) or the
statements of ``f``'s body, its variables renamed apart (``a_1``), its parameters
assigned from the call's arguments, its result in a fresh name; the caller then
normalises them like its own. A function is inlined when it is a plain module-level
function of the same module (same globals, no closure), not recursive, without local
functions, at most ``MAX_STATEMENTS`` statements long, and with only constant defaults.
Its statements are reported at the call's line in comments and errors of the caller.
"""
from __future__ import annotations

import copy
import types

import gast

from ..errors import TransformError
from ..source import parse_function
from ..templates import assign, const, name
from ..walk import Rename, Transformer
from ..walk import walk as fast_walk
from .desugar import Desugar
from .jumps import Jumps
from .resolve import Env, local_names, resolve
from .validate import Validate

MAX_STATEMENTS = 40


def live_source(fn: object, globals_: dict):
    """Run-time mode: ``(parsed, env, defaults)`` of a plain function of the same module."""
    if not (isinstance(fn, types.FunctionType) and fn.__closure__ is None
            and fn.__globals__ is globals_ and not fn.__kwdefaults__):
        return None
    try:
        return parse_function(fn), Env.of(fn), fn.__defaults__ or ()
    except TransformError:
        return None


class Inliner:
    def __init__(self, globals_: dict, namer, root_key: tuple, array_mode: bool,
                 source=None):
        self.globals = globals_
        self.namer = namer
        self.stack = [root_key]
        self.array_mode = array_mode
        self.guards: list = []
        self.source = source or (lambda fn: live_source(fn, globals_))
        self.cache: dict = {}  # fn -> (parsed, env, defaults, calls, guards), read once

    def body(self, fn: types.FunctionType, args: list, keywords: list, calls: dict,
             origin: gast.AST) -> tuple[list, gast.Name] | None:
        """The statements computing ``fn(*args, **keywords)`` into the returned name."""
        found = self.read(fn)
        if found is None:
            return None
        parsed, env, defaults, callee_calls, guards = found
        if not all(isinstance(d, (int, float, bool, str, type(None))) for d in defaults):
            return None
        key = (parsed.filename, parsed.func.lineno)
        func = parsed.func
        if key in self.stack or self._too_big(func) or func.args.kwonlyargs:
            return None
        if not self.array_mode and any(t.key and t.key.startswith("numpy.")
                                       for t in callee_calls.values()):
            return None
        self.namer.taken |= {n.id for n in fast_walk(func) if isinstance(n, gast.Name)}
        renames = {v: self.namer.fresh(v + "_") for v in sorted(local_names(func))}
        self.original = {new: old for old, new in renames.items()}
        Rename(renames).visit(func)
        calls.update(callee_calls)
        self.guards += [(env.globals, n, obj) for n, obj in guards]
        Desugar(func, self.namer, calls, parsed.error).run()
        Jumps(func, self.namer).run()
        binding = self._bind(func, defaults, args, keywords)
        if binding is None:
            return None
        binding = self._substitute(func, binding)
        result = self.namer.fresh("_t")
        stmts = binding + func.body
        last = stmts[-1] if stmts else None
        if isinstance(last, gast.Return):
            stmts[-1] = assign(result, last.value if last.value is not None else const(None))
        else:
            stmts.append(assign(result, const(None)))
        for stmt in stmts:  # reported at the call site
            for node in fast_walk(stmt):
                if hasattr(node, "lineno"):
                    gast.copy_location(node, origin)
        self.stack.append(key)
        return stmts, name(result)

    def read(self, fn: object):
        """The callee parsed, resolved and validated once; a fresh copy for each call site."""
        key = id(fn)
        if key not in self.cache:
            found = self.source(fn)
            if found is not None:
                parsed, env, defaults = found
                calls, guards = resolve(parsed, env)
                try:
                    Validate(parsed, calls).run()
                except TransformError:
                    found = None  # not inlined: its split adjoint reports the error itself
                else:
                    found = (parsed, env, defaults, calls, guards)
            self.cache[key] = (fn, found)
        found = self.cache[key][1]
        if found is None:
            return None
        parsed, env, defaults, calls, guards = found
        memo: dict = {}
        copy_parsed = copy.deepcopy(parsed, memo)
        copy_calls = {memo[id(node)]: target for node, target in calls.items()
                      if id(node) in memo}
        return copy_parsed, env, defaults, copy_calls, guards

    def done(self) -> None:
        self.stack.pop()

    def _substitute(self, func: gast.FunctionDef, binding: list) -> list:
        """A parameter the body never assigns takes its argument's atom directly: ``p_1 = p``
        disappears and the body reads ``p``."""
        stored = {n.id for s in func.body for n in fast_walk(s)
                  if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        reads: dict = {}
        for s in func.body:
            for n in fast_walk(s):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                    reads[n.id] = reads.get(n.id, 0) + 1
        keep, direct = [], {}
        for stmt in binding:
            param, value = stmt.targets[0].id, stmt.value
            once = reads.get(param, 0) <= 1  # a temporary of ours must stay used once
            plain = isinstance(value, gast.Constant) or (
                isinstance(value, gast.Name) and (value.id not in self.namer.made or once))
            if param not in stored and plain:
                direct[param] = value
            else:
                keep.append(stmt)
        if direct:
            _Substitute(direct).visit(func)
        return keep

    def _too_big(self, func: gast.FunctionDef) -> bool:
        count = sum(1 for n in fast_walk(func) if isinstance(n, gast.stmt))
        nested = any(isinstance(n, (gast.FunctionDef, gast.Lambda)) for n in fast_walk(func)
                     if n is not func)
        return nested or count > MAX_STATEMENTS

    def _bind(self, func: gast.FunctionDef, defaults: tuple, args: list,
              keywords: list) -> list | None:
        params = [a.id for a in func.args.posonlyargs + func.args.args]
        values: dict = {}
        if len(args) > len(params):
            return None
        for p, a in zip(params, args):
            values[p] = a
        originals = [self.original.get(p, p) for p in params]
        for kw in keywords:
            if kw.arg not in originals:
                return None
            values[params[originals.index(kw.arg)]] = kw.value
        for k, p in enumerate(params):
            if p not in values:
                d = k - (len(params) - len(defaults))
                if d < 0:
                    return None
                values[p] = const(defaults[d])
        return [assign(p, values[p]) for p in params]


class _Substitute(Transformer):
    def __init__(self, values: dict):
        self.values = values

    def visit_Name(self, node: gast.Name) -> gast.expr:
        if isinstance(node.ctx, gast.Load) and node.id in self.values:
            value = self.values[node.id]
            if isinstance(value, gast.Name):
                return gast.Name(id=value.id, ctx=gast.Load(), annotation=None,
                                 type_comment=None)
            return gast.Constant(value=value.value, kind=None)
        return node

