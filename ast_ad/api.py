"""The public entry points: grad, value_and_grad, source; the transformation cache."""
from __future__ import annotations

import functools
import threading
import types
from collections.abc import Callable
from typing import Any

from .pipeline import Transformation, guards_hold, transform

_CACHE: dict = {}
_LOCK = threading.Lock()
_MISSING = object()

Wrt = int | str | tuple


class Adjoint:
    """A user function's gradient, transformed on first use and cached per (code, wrt, kind).

    The transformation is redone if a global name that a call site resolved to
    is rebound (the rule or function it calls would change).
    """

    def __init__(self, fn: Callable, wrt: Wrt, kind: str):
        self.fn = fn
        self.wrt = wrt
        self.kind = kind
        self._built: types.FunctionType | None = None
        self._transformation: Transformation | None = None

    def transformation(self) -> Transformation:
        t = self._transformation
        if t is None or not guards_hold(t.guards):
            t = self._transformation = _cached_transform(self.fn, self.wrt, self.kind)
            self._built = t.instantiate(self.fn)[0]
        return t

    def function(self) -> types.FunctionType:
        self.transformation()
        return self._built

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function()(*args, **kwargs)


def _key(fn: Callable, wrt: Wrt, kind: str) -> tuple:
    code = getattr(fn, "__code__", fn)
    return (code, wrt if isinstance(wrt, tuple) else (wrt,), isinstance(wrt, tuple), kind)


def _cached_transform(fn: Callable, wrt: Wrt, kind: str) -> Transformation:
    key = _key(fn, wrt, kind)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and guards_hold(hit.guards):
            return hit
        result = transform(fn, wrt, kind)
        _CACHE[key] = result
        return result


def _wrap(fn: Callable | None, wrt: Wrt, kind: str) -> Callable:
    if fn is None:
        return lambda f: _wrap(f, wrt, kind)
    adjoint = Adjoint(fn, wrt, kind)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return adjoint.function()(*args, **kwargs)

    wrapper.__ast_ad__ = adjoint
    wrapper.__name__ = f"{kind}_{getattr(fn, '__name__', 'f')}"
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = f"{kind} of {getattr(fn, '__qualname__', fn)!s} (ast_ad)."
    return wrapper


def grad(fn: Callable | None = None, *, wrt: Wrt = 0) -> Callable:
    """The gradient of scalar function ``fn`` with respect to argument(s) ``wrt``.

    ``wrt`` is a position, a parameter name, or a tuple of them; a tuple gives a
    tuple of gradients. Usable as ``@grad`` or ``@grad(wrt="y")``.
    """
    return _wrap(fn, wrt, "grad")


def value_and_grad(fn: Callable | None = None, *, wrt: Wrt = 0) -> Callable:
    """Like :func:`grad`, but returns ``(value, gradient)``; the value is ``fn``'s, bit for bit."""
    return _wrap(fn, wrt, "value_and_grad")


def source(fn: Callable, *, wrt: Wrt = 0, kind: str = "grad") -> str:
    """The generated adjoint's Python source, for a function from :func:`grad` or any function."""
    adjoint = getattr(fn, "__ast_ad__", None)
    if adjoint is None:
        adjoint = Adjoint(fn, wrt, kind)
    return adjoint.transformation().source
