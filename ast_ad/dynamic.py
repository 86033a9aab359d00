"""Calls whose callee is only known at run time: a local function, a lambda, a function
passed in as an argument. Generated code calls ``call_fwd``/``call_rev`` for them.

``call_fwd(fn, *args, **kwargs)`` runs the forward half of ``fn``'s adjoint and returns
``(value, record)``; ``call_rev(record, g)`` returns ``(positional adjoints, keyword
adjoints, closure-variable adjoints)``. A Python function is transformed once per code
object, with its closure variables as extra keyword parameters, so that the adjoints of
the enclosing function's variables it reads come back too. A primitive with a rule gets
that rule's derivative; a piecewise-constant one (``len``) gets none.
"""
from __future__ import annotations

import types

from . import rules
from .errors import TransformError

_VJPS: dict = {}


def call_fwd(fn, *args, **kwargs):
    if isinstance(fn, types.FunctionType):
        from .pipeline import closure_split, has_arrays
        entry = closure_split(fn, has_arrays(args) or has_arrays(kwargs.values()))
        free = {n: c.cell_contents for n, c in zip(fn.__code__.co_freevars, fn.__closure__ or ())}
        value, saved = entry.fwd.cell_contents(*args, **kwargs, **free)
        return value, ("function", entry, saved, len(args), tuple(kwargs))
    key = rules.key_of(fn)
    value = fn(*args, **kwargs)
    if key in rules.NONDIFF:
        return value, ("constant", len(args), tuple(kwargs))
    rule = rules.lookup(key, len(args)) if key and not kwargs else None
    if rule is None:
        name = getattr(fn, "__qualname__", repr(fn))
        raise TransformError(f"no derivative rule for {key or name}() called with "
                             f"{len(args)} positional and {len(kwargs)} keyword arguments "
                             "(called through a variable, so found at run time)",
                             hint=f"Register one with ast_ad.register_rule({name}, ...).")
    return value, ("rule", rule, args, value)


def call_rev(record, g):
    kind = record[0]
    if kind == "function":
        _, entry, saved, nargs, kwnames = record
        adjoints = entry.rev.cell_contents(saved, g)
        params = entry.params
        named = dict(zip(params, adjoints))
        free = {n: named[n] for n in entry.freevars}
        return (list(adjoints[:nargs]), {k: named[k] for k in kwnames}, free)
    if kind == "constant":
        _, nargs, kwnames = record
        return [0.0] * nargs, dict.fromkeys(kwnames, 0.0), {}
    _, rule, args, ans = record
    return list(_vjp(rule, len(args))(*args, ans, g)), {}, {}


def _vjp(rule, nargs: int):
    """The rule compiled as ``lambda *args, ans, g: (adjoint of each argument)``."""
    key = (rule.key, id(rule), nargs)
    if key not in _VJPS:
        from .pipeline import HELPERS
        names = [f"a{k}" for k in range(nargs)]
        params = rule.param_names(nargs)
        parts = []
        for k, param in enumerate(params):
            if param not in rule.differentiable:
                parts.append("0.0")
                continue
            form, text = rule.expression(param)
            text = _bind(text, dict(zip(params, names)) if not rule.variadic else
                         {param: names[k]})
            parts.append(f"g * ({text})" if form == "partial" else f"({text})")
        source = f"lambda {', '.join(names + ['ans', 'g'])}: ({', '.join(parts)},)"
        _VJPS[key] = eval(source, dict(HELPERS))  # noqa: S307 - our own rule templates
    return _VJPS[key]


def _bind(text: str, mapping: dict) -> str:
    import ast

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in mapping:
                node.id = mapping[node.id]
            return node

    return ast.unparse(Rename().visit(ast.parse(text, mode="eval")))
