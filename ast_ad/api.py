"""The public entry points: grad, value_and_grad, vjp, source; the transformation cache."""
from __future__ import annotations

import functools
import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import GradientError
from .pipeline import Transformation, guard_check, guards_hold, has_arrays, split_adjoint, transform
from .runtime import like
from .specialise import Specialiser, call_key, needs_met

_CACHE: dict = {}
_LOCK = threading.Lock()

Wrt = int | str | tuple


class Adjoint:
    """A user function's gradient, transformed on first use and cached per (code, wrt, kind,
    mode). The mode is "arrays" when the function uses NumPy or is called with arrays:
    adjoints are then reduced to their variables' shapes. The transformation is redone if
    a global name that a call site resolved to is rebound."""

    def __init__(self, fn: Callable, wrt: Wrt, kind: str):
        self.fn = fn
        self.wrt = wrt
        self.kind = kind
        self._built: dict = {}  # array mode -> (transformation, function, specialiser, check)

    def transformation(self, arrays: bool = False) -> Transformation:
        return self._get(arrays)[0]

    def _get(self, arrays: bool) -> tuple:
        hit = self._built.get(arrays)
        if hit is None or not hit[3]():
            t = _cached_transform(self.fn, self.wrt, self.kind, arrays)
            special = Specialiser(t, self.fn) if t.specialisable is not None else None
            hit = self._built[arrays] = (t, t.instantiate(self.fn)[0], special,
                                         guard_check(t.guards))
        return hit

    def function(self, args: tuple = (), kwargs: dict | None = None) -> types.FunctionType:
        return self._hit(args, kwargs)[1]

    def _hit(self, args: tuple, kwargs: dict | None = None) -> tuple:
        """``(transformation, function, specialiser, guard check)`` for this call, after the full
        checks."""
        arrays = has_arrays(args) or (bool(kwargs) and has_arrays(kwargs.values()))
        if arrays:
            _refuse_integer_arrays(self.fn, args, self.wrt)
        return self._get(arrays)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(args, kwargs)(*args, **kwargs)


@functools.lru_cache(maxsize=1024)
def _wrt_positions(code: object, wrt: Wrt) -> frozenset:
    names = code.co_varnames[:code.co_argcount] if code is not None else ()
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return frozenset(i if isinstance(i, int) else names.index(i) if i in names else -1
                     for i in items)


def _refuse_integer_arrays(fn: Callable, args: tuple, wrt: Wrt) -> None:
    """An integer array we differentiate with respect to would get a silent zero: refuse."""
    positions = _wrt_positions(getattr(fn, "__code__", None), wrt)
    for k, value in enumerate(args):
        if type(value) is np.ndarray and value.dtype.kind != "f" and (
                k in positions or k - len(args) in positions):
            name = getattr(fn, "__name__", "f")
            raise GradientError(
                f"argument {k} of {name}() is an array of dtype {value.dtype}; gradients need "
                "floating-point arrays. Pass it as float (x.astype(float)), or close over it "
                "(or make it an argument you do not differentiate) if it is a constant.")


def _cached_transform(fn: Callable, wrt: Wrt, kind: str, arrays: bool) -> Transformation:
    if not isinstance(fn, types.FunctionType):
        return transform(fn, wrt, kind, array_mode=arrays)  # raises a TransformError
    code = fn.__code__  # by identity: equal code objects may come from different files
    key = (id(code), wrt if isinstance(wrt, tuple) else (wrt,), isinstance(wrt, tuple), kind,
           arrays)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is code and guards_hold(hit[1].guards):
            return hit[1]
        result = transform(fn, wrt, kind, array_mode=arrays)
        _CACHE[key] = (code, result)  # the code object is kept, so its id is not reused
        return result


def _wrap(fn: Callable | None, wrt: Wrt, kind: str) -> Callable:
    if isinstance(wrt, list):
        wrt = tuple(wrt)
    if fn is None:
        return lambda f: _wrap(f, wrt, kind)
    adjoint = Adjoint(fn, wrt, kind)
    built = adjoint._built

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the common call inline: positional arguments, already built, no integer array
        if kwargs:
            return adjoint.function(args, kwargs)(*args, **kwargs)
        mode, key = call_key(args)
        hit = built.get(mode)
        if hit is None or not hit[3]():
            hit = adjoint._hit(args)  # the full checks (and the transformation, once)
        special = hit[2]
        if special is not None and key is not None and (
                not special.info.needs or needs_met(args, special.info.needs)):
            function = special.functions.get(key)  # the adjoint for this signature
            if function is not None:
                return function(*args)
            return special.call(key, hit[1], args)
        return hit[1](*args)

    wrapper.__ast_ad__ = adjoint
    wrapper.__name__ = f"{kind}_{getattr(fn, '__name__', 'f')}"
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = f"{kind} of {getattr(fn, '__qualname__', fn)!s} (ast_ad)."
    return wrapper


def grad(fn: Callable | None = None, *, wrt: Wrt = 0) -> Callable:
    """The gradient of scalar function ``fn`` with respect to argument(s) ``wrt``.

    ``wrt`` is a position, a parameter name, or a tuple of them; a tuple gives a
    tuple of gradients. Usable as ``@grad`` or ``@grad(wrt="y")``. Each gradient
    has its argument's shape and float dtype.
    """
    return _wrap(fn, wrt, "grad")


def value_and_grad(fn: Callable | None = None, *, wrt: Wrt = 0) -> Callable:
    """Like :func:`grad`, but returns ``(value, gradient)``; the value is ``fn``'s, bit for bit."""
    return _wrap(fn, wrt, "value_and_grad")


def vjp(fn: Callable, *primals: Any) -> tuple[Any, Callable]:
    """``(fn(*primals), vjp_fn)``, where ``vjp_fn(cotangent)`` is the tuple of cotangents of
    the primals (one per argument, shaped like it): JAX's convention. Works for any output:
    an array, a scalar, or a tuple of them (then the cotangent is a tuple too)."""
    entry = split_adjoint(fn, has_arrays(primals))
    value, saved = entry.fwd.cell_contents(*primals)
    nargs = len(primals)

    def vjp_fn(cotangent: Any) -> tuple:
        adjoints = entry.rev.cell_contents(saved, cotangent)
        return tuple(like(a, p) for a, p in zip(adjoints[:nargs], primals))

    return value, vjp_fn


def source(fn: Callable, *, wrt: Wrt = 0, kind: str = "grad", arrays: bool | None = None) -> str:
    """The generated adjoint's Python source, for a function from :func:`grad` or any function.
    ``arrays`` picks the array-mode variant (default: the one the function's own code needs)."""
    adjoint = getattr(fn, "__ast_ad__", None)
    if adjoint is None:
        adjoint = Adjoint(fn, wrt, kind)
    return adjoint.transformation(bool(arrays)).source

