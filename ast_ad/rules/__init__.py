"""The rule table: one derivative rule per primitive, keyed by qualified name.

A rule's *partials* are expressions of its parameters and of ``ans`` (the
primal result): the partial derivative of the result with respect to each
parameter. The reverse sweep emits ``bp += g * <partial of p>`` and the tangent
(forward) rule is ``dans = sum(<partial of p> * dp)``: both come from the same
line, so they cannot drift apart. Parameters with no partial (integers, flags)
get no derivative. Names other than the parameters and ``ans`` in a partial are
modules (``math``) resolved when the template is filled in.

``NONDIFF`` lists primitives whose derivative is zero almost everywhere: calls
to them are run as they are and their results never carry adjoints.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field

from . import builtins as _builtins
from . import math as _math
from . import numpy as _numpy
from . import operators as _operators
from .core import Rule, defrule, defvjp

__all__ = ["Rule", "defrule", "defvjp", "RULES", "NONDIFF", "lookup", "key_of", "register",
           "register_vjp", "register_nondiff", "all_rules"]


@dataclass
class Table:
    """Rules by key and arity (``-1``: any number of arguments), and the non-differentiable keys."""

    rules: dict[str, dict[int, Rule]] = field(default_factory=dict)
    nondiff: set[str] = field(default_factory=set)
    by_id: dict[int, tuple[object, str]] = field(default_factory=dict)

    def add(self, rule: Rule) -> None:
        self.rules.setdefault(rule.key, {})[rule.arity if rule.arity >= 0 else -1] = rule
        self._index(rule.key, rule.target)

    def add_nondiff(self, key: str, target: object = None) -> None:
        self.nondiff.add(key)
        self._index(key, target)

    def _index(self, key: str, target: object) -> None:
        obj = target if target is not None else _import_key(key)
        if obj is not None:
            self.by_id[id(obj)] = (obj, key)


def _import_key(key: str) -> object:
    module, _, attr = key.rpartition(".")
    try:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj
    except (ImportError, AttributeError):
        return None


TABLE = Table()
for _module in (_operators, _math, _builtins, _numpy):
    for _rule in _module.RULES:
        if _import_key(_rule.key) is not None or _rule.key.startswith("operator."):
            TABLE.add(_rule)
    for _key in _module.NONDIFF:
        if _import_key(_key) is not None:
            TABLE.add_nondiff(_key)
    for _key in getattr(_module, "REWRITTEN", ()):
        TABLE._index(_key, None)

RULES = TABLE.rules
NONDIFF = TABLE.nondiff
BUILTIN_NONDIFF = frozenset(NONDIFF)  # the table's own (users may register more)


def key_of(obj: object) -> str | None:
    """The rule key of a primitive object (``math.sin`` -> ``"math.sin"``), or None."""
    hit = TABLE.by_id.get(id(obj))
    return hit[1] if hit is not None and hit[0] is obj else None


def lookup(key: str, nargs: int) -> Rule | None:
    """The rule for ``key`` called with ``nargs`` arguments, if there is one."""
    variants = RULES.get(key, {})
    rule = variants.get(nargs) or variants.get(-1)
    return rule if rule is not None and rule.accepts(nargs) else None


def all_rules() -> list[Rule]:
    """Every rule in the table, in a stable order."""
    return [r for key in sorted(RULES) for _, r in sorted(RULES[key].items())]


def _user_key(fn: object) -> str:
    return f"{getattr(fn, '__module__', None) or 'user'}.{getattr(fn, '__qualname__', fn)}"


def _namespace(fn: object, namespace: dict | None) -> dict:
    if namespace is not None:
        return namespace
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    return dict(getattr(fn, "__globals__", None) or vars(module) if module else {})


def register(fn: object, params: str, namespace: dict | None = None, **partials: str) -> Rule:
    """Register elementwise partial derivatives for ``fn`` (a function of yours or a library's).

    ``params`` names its positional parameters (``"x, y"``, defaults allowed:
    ``"x, scale=1.0"``); each keyword gives the partial derivative with respect to
    one of them, as an expression of the parameters and of ``ans`` (the result).
    Other names in the expressions resolve in ``namespace`` (default: ``fn``'s
    module). The rule is inlined at every call site, like the built-in ones::

        ast_ad.register_rule(mylib.softplus, "x", x="1 / (1 + math.exp(-x))")

    Check it with ``ast_ad.testing.check_rule(mylib.softplus, 0.3)``.
    """
    rule = defrule(_user_key(fn), params, **partials)
    return _add_user_rule(rule, fn, namespace)


def register_vjp(fn: object, params: str, namespace: dict | None = None, **vjps: str) -> Rule:
    """Like :func:`register`, but each keyword gives the whole contribution to that parameter's
    adjoint as an expression of the parameters, ``ans`` and ``g`` (the result's adjoint),
    shaped like the parameter: for functions that are not elementwise."""
    rule = defvjp(_user_key(fn), params, **vjps)
    return _add_user_rule(rule, fn, namespace)


def _add_user_rule(rule: Rule, fn: object, namespace: dict | None) -> Rule:
    if TABLE.by_id.get(id(fn), (None, None))[0] is fn:
        TABLE.nondiff.discard(TABLE.by_id[id(fn)][1])
    rule = Rule(rule.key, rule.params, rule.partials, rule.vjps, rule.defaults, target=fn,
                namespace=_namespace(fn, namespace))
    TABLE.rules.pop(rule.key, None)
    TABLE.add(rule)
    return rule


def register_nondiff(fn: object) -> None:
    """Declare ``fn`` piecewise constant: its calls run as they are, with no derivative."""
    TABLE.add_nondiff(_user_key(fn), fn)
