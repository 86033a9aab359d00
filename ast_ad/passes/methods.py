"""Array methods and attributes as the NumPy functions they are.

``x.sum(axis=0)`` is ``np.sum(x, axis=0)``, ``x.T`` is ``np.transpose(x)``,
``x.reshape(2, 3)`` is ``np.reshape(x, (2, 3))``, ``x.astype(float)`` is
``np.asarray(x, dtype=float)``: the rewritten call resolves to the rule of that
function. Used by normalisation; ``.shape``, ``.size``, ``.ndim`` and ``.dtype``
stay as they are (they carry no derivative).
"""
from __future__ import annotations

import gast
import numpy

from .. import rules
from ..templates import helper
from .resolve import Target

# method -> (numpy function name, does it take its extra positional arguments as one tuple?)
ARRAY_METHODS = {
    "sum": ("sum", False), "mean": ("mean", False), "max": ("max", False),
    "min": ("min", False), "prod": ("prod", False), "std": ("std", False),
    "var": ("var", False), "cumsum": ("cumsum", False), "cumprod": ("cumprod", False),
    "dot": ("dot", False), "reshape": ("reshape", True), "ravel": ("ravel", False),
    "flatten": ("ravel", False), "transpose": ("transpose", True),
    "swapaxes": ("swapaxes", False), "squeeze": ("squeeze", False), "clip": ("clip", False),
    "astype": ("asarray", False), "argmax": ("argmax", False), "argmin": ("argmin", False),
    "argsort": ("argsort", False), "round": ("round", False), "any": ("any", False),
    "all": ("all", False), "ptp": ("ptp", False), "trace": ("trace", False),
    "diagonal": ("diagonal", False), "nonzero": ("nonzero", False),
}
ARRAY_ATTRIBUTES = {"T", "shape", "size", "ndim", "dtype"}
INACTIVE_ATTRIBUTES = {"shape", "size", "ndim", "dtype"}


def _numpy_call(function: str, args: list, keywords: list, origin: gast.AST,
                calls: dict, label: str) -> gast.Call:
    func = gast.Attribute(value=helper("np"), attr=function, ctx=gast.Load())
    node = gast.copy_location(gast.Call(func=func, args=args, keywords=keywords), origin)
    obj = getattr(numpy, function)
    key = rules.key_of(obj)
    kind = "nondiff" if key in rules.NONDIFF else "rule" if key in rules.RULES else "unknown"
    calls[node] = Target(obj, key, kind, label)
    return node


def method_as_function(expr: gast.Call, calls: dict) -> gast.Call:
    """``x.m(a, b, k=c)`` as ``np.f(x, ...)``."""
    attr = expr.func.attr
    function, packs = ARRAY_METHODS[attr]
    args = list(expr.args)
    if packs and len(args) > 1:  # x.reshape(2, 3) means np.reshape(x, (2, 3))
        args = [gast.Tuple(elts=args, ctx=gast.Load())]
    keywords = list(expr.keywords)
    if attr == "astype" and args:
        keywords = [gast.keyword(arg="dtype", value=args[0])] + keywords
        args = []
    return _numpy_call(function, [expr.func.value] + args, keywords, expr, calls,
                       f".{attr}()")


def transpose_attribute(expr: gast.Attribute, calls: dict) -> gast.Call:
    """``x.T`` as ``np.transpose(x)``."""
    return _numpy_call("transpose", [expr.value], [], expr, calls, ".T")
