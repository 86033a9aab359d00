"""Do the function's shapes follow from its arguments' shapes alone?

A normalised function passes when every value's type, dtype and shape is fixed by the
types, dtypes and shapes of its array and float arguments (and the values of its integer
ones): then a run of the adjoint on one such signature tells what every later run on
that signature does in its shape checks, and :mod:`ast_ad.specialise` may drop them.

The check is a small taint analysis. A value is *data* when it may depend on the numbers
inside the arguments (array elements, float arguments); shapes (``x.shape``, ``len``),
constants and loop counters over ``range`` of those are not. Data may flow through the
operations listed here in their data positions only (the ``x`` of ``np.sum(x, axis=1)``,
never its ``axis``); every index, axis, size and branch test must be non-data. Anything
else (a ``while`` loop, a comprehension, an unknown call, a global that is not a module
or a function, a closure, builtin ``min``/``max`` (whose result's type may be either
argument's), a power that is not a constant whole number (a negative float to a
fractional power is complex)) fails the check: the adjoint then keeps its run-time checks.

Input: a normalised function, its resolved calls and its environment. Output: None if it
fails, else what it needs of the arguments (``shapes_fixed``).
"""
from __future__ import annotations

import types

import gast

from ..templates import HELPER
from ..walk import walk

# NumPy / math / builtin functions whose result's type, dtype and shape follow from their
# arguments' (the first ``n`` positional arguments may be data; the others, and every
# keyword, must not be)
_DATA_ARGS: dict[str, int] = {}
for _n, _names in {
    1: "exp log log1p expm1 sqrt tanh sinh cosh sin cos tan arcsin arccos arctan arcsinh "
       "arccosh arctanh abs absolute fabs square negative positive exp2 log2 log10 "
       "reciprocal cbrt cumsum cumprod transpose ravel squeeze sum mean max min amax amin "
       "prod std var trace diag tril triu expand_dims reshape broadcast_to stack "
       "concatenate vstack hstack zeros_like ones_like empty_like linalg.norm linalg.inv "
       "linalg.det sort sinc array asarray copy",
    2: "add subtract multiply divide true_divide power maximum minimum fmax fmin logaddexp "
       "logaddexp2 arctan2 hypot dot matmul outer inner linalg.solve",
    3: "where clip",
}.items():
    for _name in _names.split():
        _DATA_ARGS["numpy." + _name] = _n
for _name in ("sqrt exp log log1p expm1 sin cos tan tanh sinh cosh atan asin acos atan2 "
              "pow hypot fabs erf erfc lgamma").split():
    _DATA_ARGS["math." + _name] = 2  # numbers in, a number out
_DATA_ARGS.update({"builtins.float": 1, "builtins.abs": 1, "builtins.sum": 1,
                   "ast_ad.runtime.sequence": 1,
                   "ast_ad.stop_gradient": 1, "ast_ad.runtime.stop_gradient": 1})
_NOT_DATA_RESULT = {"builtins.len", "numpy.shape", "numpy.ndim", "numpy.size"}
_NO_DATA = {"numpy.zeros", "numpy.ones", "numpy.empty", "numpy.eye", "numpy.identity",
            "numpy.arange", "builtins.range"}  # every argument must be non-data
_SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype"}
_METHODS = {"copy", "astype"}  # array methods left as they are: their arguments non-data
_MODULES_OK = {"numpy", "math"}
_OURS = {"len": "builtins.len", "range": "builtins.range",
         "sequence": "ast_ad.runtime.sequence"}  # the builtins and helpers passes call


def shapes_fixed(func: gast.FunctionDef, calls: dict, env) -> dict | None:
    """Does every shape in ``func`` follow from its arguments' signature? None if not;
    else what that needs of the positional arguments, ``{position: "int" | "index"}``:
    a parameter read where data may not be (``range(n)``, ``x[labels]``) must be a
    Python int (its value is in the signature), or for an index an integer array."""
    if env.closure or func.args.vararg or func.args.kwarg:
        return None
    params = [a.id for a in func.args.args]
    assigned = {n.id for n in walk(func) if type(n) is gast.Name
                and type(n.ctx) in (gast.Store, gast.Del)}
    check = _Check(calls, env, set(params) - assigned)
    check.data |= set(params) | {a.id for a in func.args.kwonlyargs}
    try:
        check.block(func.body)
    except _Refused:
        return None
    return {params.index(name): need for name, need in check.needs.items()}


def _whole(node: gast.expr) -> bool:
    """A constant whole number (``x ** 2``, ``x ** 3.0``)."""
    return type(node) is gast.Constant and type(node.value) in (int, float) \
        and float(node.value).is_integer()


class _Refused(Exception):
    pass


class _Check:
    def __init__(self, calls: dict, env, params: set) -> None:
        self.calls, self.env = calls, env
        self.data: set = set()    # names that may hold data
        self.local: set = set()   # names assigned in the function
        self.lists: set = set()   # local lists (``append`` is allowed on them)
        self.params = params      # positional parameters never assigned
        self.needs: dict = {}     # parameter -> "int" or "index" (see shapes_fixed)

    def block(self, stmts: list) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def stmt(self, stmt: gast.stmt) -> None:
        kind = type(stmt)
        if kind is gast.Assign:
            is_data = self.expr(stmt.value)
            for target in stmt.targets:
                self.target(target, is_data, stmt.value)
        elif kind is gast.AugAssign:
            self.target(stmt.target, self.expr(stmt.value) or self.expr(stmt.target), None)
        elif kind is gast.For:
            if stmt.orelse:
                raise _Refused
            is_data = self.expr(stmt.iter)
            self.target(stmt.target, is_data or not self._range(stmt.iter), None)
            for _ in range(4):  # until what an iteration makes data is data at its start
                before = set(self.data)
                self.block(stmt.body)
                self.data |= before
                if self.data == before:
                    break
            else:
                raise _Refused
        elif kind is gast.If:
            self.non_data(stmt.test)  # a branch on data: shapes may differ between calls
            before = set(self.data)
            self.block(stmt.body)
            after_body, self.data = self.data, before
            self.block(stmt.orelse)
            self.data |= after_body
        elif kind is gast.Return:
            if stmt.value is not None:
                self.expr(stmt.value)
        elif kind is gast.Expr:
            self.expr(stmt.value)
        elif kind is not gast.Pass:
            raise _Refused

    def _range(self, node: gast.expr) -> bool:
        return type(node) is gast.Call and self._key(node) == "builtins.range"

    def target(self, node: gast.expr, is_data: bool, value) -> None:
        kind = type(node)
        if kind is gast.Name:
            self.local.add(node.id)
            (self.data.add if is_data else self.data.discard)(node.id)
            if type(value) is gast.List:
                self.lists.add(node.id)
        elif kind in (gast.Tuple, gast.List):
            for element in node.elts:
                self.target(element, is_data, None)
        elif kind is gast.Subscript:  # ``x[i] = v``: x keeps its shape; i must be non-data
            self.index(node.slice)
            self.expr(node.value)
            if type(node.value) is gast.Name:
                self.data.add(node.value.id)
        else:
            raise _Refused

    def index(self, node: gast.expr) -> None:
        if type(node) is gast.Slice:
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self.non_data(part)
        elif type(node) is gast.Tuple:
            for element in node.elts:
                self.index(element)
        else:  # a data index: a mask, or a position read from the data
            self.non_data(node, "index")

    def non_data(self, node: gast.expr, need: str = "int") -> None:
        """Refuse data at ``node``, unless it is a parameter that can be asked to be an
        int (or, for an index, an integer array) at call time."""
        if type(node) is gast.Name and node.id in self.params:
            if self.needs.get(node.id) != "int":
                self.needs[node.id] = need
        elif self.expr(node):
            raise _Refused

    def expr(self, node: gast.expr) -> bool:
        """Is ``node`` data? Refuses what may make a shape depend on data."""
        kind = type(node)
        if kind is gast.Constant:
            return False
        if kind is gast.Name:
            return self.name(node.id)
        if kind is gast.BinOp:
            if type(node.op) is gast.Pow and not _whole(node.right):
                raise _Refused  # a negative float to a fractional power is complex
            return self.expr(node.left) | self.expr(node.right)
        if kind is gast.UnaryOp:
            return self.expr(node.operand)
        if kind is gast.Compare:
            return any([self.expr(node.left)] + [self.expr(c) for c in node.comparators])
        if kind in (gast.Tuple, gast.List):
            return any([self.expr(e) for e in node.elts])
        if kind is gast.Subscript:
            self.index(node.slice)
            return self.expr(node.value)
        if kind is gast.Attribute:
            return self.attribute(node)
        if kind is gast.Call:
            return self.call(node)
        raise _Refused

    def name(self, ident: str) -> bool:
        if ident in self.local or ident in self.data:
            return ident in self.data
        value, _ = self.env.lookup(ident)
        if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                              type)):
            return False
        raise _Refused  # a global value: its shape is not in the signature

    def attribute(self, node: gast.Attribute) -> bool:
        base = node.value
        if node.attr in _SHAPE_ATTRIBUTES:
            self.expr(base)
            return False
        if node.attr == "T":
            return self.expr(base)
        if type(base) is gast.Name and base.id not in self.local:
            module = self.env.lookup(base.id)[0]
            if isinstance(module, types.ModuleType) and module.__name__ in _MODULES_OK:
                return False  # ``np.pi``, ``math.e``, ``np.linalg``
        raise _Refused

    def call(self, node: gast.Call) -> bool:
        func = node.func
        if type(func) is gast.Attribute and func.attr == "append" \
                and type(func.value) is gast.Name and func.value.id in self.lists:
            if len(node.args) != 1 or node.keywords:
                raise _Refused
            if self.expr(node.args[0]):
                self.data.add(func.value.id)
            return False
        if type(func) is gast.Attribute and func.attr in _METHODS:  # ``x.copy()``
            for arg in node.args + [k.value for k in node.keywords]:
                self.non_data(arg)
            return self.expr(func.value)
        key = self._key(node)
        if key in _NO_DATA:
            n = 0
        elif key in _DATA_ARGS:
            n = _DATA_ARGS[key]
        elif key in _NOT_DATA_RESULT:
            n = len(node.args)
        else:
            raise _Refused
        if key == "numpy.where" and len(node.args) != 3:
            raise _Refused  # one-argument ``where`` is ``nonzero``
        is_data = False
        for k, arg in enumerate(node.args):
            if type(arg) is gast.Starred:
                raise _Refused
            if k >= n:
                self.non_data(arg)
            elif self.expr(arg):
                is_data = True
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _Refused
            self.non_data(keyword.value)
        return key not in _NOT_DATA_RESULT and is_data  # (of constants: a constant)

    def _key(self, node: gast.Call) -> str | None:
        target = self.calls.get(node)
        if target is None and type(node.func) is gast.Name and getattr(node.func, HELPER, False):
            return _OURS.get(node.func.id)  # a call a pass made (``len(_seq1)``)
        return getattr(target, "key", None)
