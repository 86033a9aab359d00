"""Check ast_ad gradients against finite differences.

>>> import ast_ad.testing as t                                   # doctest: +SKIP
>>> t.check_grad(my_function, (1.5, 2.0), wrt=(0, 1))           # doctest: +SKIP

:func:`numerical_grad` uses central differences with one Richardson extrapolation step
(error O(h**4)); the step is relative to the argument's magnitude. Inputs must stay
away from points where the function is not smooth (branch switches, ties in
``max``/``min``, changes in a loop's trip count) by more than the step.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import ast_ad

__all__ = ["numerical_grad", "check_grad", "check_rule"]

Wrt = int | str | tuple

DEFAULT_STEP = 1e-4  # relative; Richardson makes the truncation error ~ h**4


def _positions(f: Callable, wrt: Wrt, nargs: int) -> tuple[list[int], list[str]]:
    """Positional indices and display names of the arguments that ``wrt`` names."""
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    indices, labels = [], []
    for item in items:
        if isinstance(item, str):
            if item not in params:
                raise ValueError(f"wrt={item!r} is not a positional parameter of {f!r}")
            index = params.index(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            index = item + nargs if item < 0 else item
        else:
            raise TypeError(f"wrt items must be int or str, not {type(item).__name__}")
        if not 0 <= index < nargs:
            raise ValueError(f"wrt={item!r} is out of range for {nargs} arguments")
        indices.append(index)
        name = params[index] if index < len(params) else f"#{index}"
        labels.append(f"argument {index} ({name!r})")
    return indices, labels


def _partial(f: Callable, args: Sequence[Any], index: int, step: float) -> Any:
    """d f / d args[index] by central differences, extrapolated (Richardson): a float for a
    number, an array of the same shape for a float NumPy array (one element at a time)."""
    x = args[index]
    if _is_float_array(x):
        import numpy as np
        out = np.empty(x.shape, dtype=float)
        for position in np.ndindex(x.shape):
            out[position] = _partial_at(f, args, index, step, position)
        return out
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"cannot take finite differences in argument {index} of type "
                        f"{type(x).__name__}; it must be a float or a float NumPy array")
    return _partial_at(f, args, index, step, None)


def _is_float_array(x: Any) -> bool:
    return type(x).__module__ == "numpy" and type(x).__name__ == "ndarray" \
        and x.dtype.kind == "f"


def _partial_at(f: Callable, args: Sequence[Any], index: int, step: float,
                position: tuple | None) -> float:
    """The derivative in the number ``args[index]`` (or in its element ``position``)."""
    x = float(args[index] if position is None else args[index][position])

    def at(value: float) -> float:
        moved = list(args)
        if position is None:
            moved[index] = value
        else:
            moved[index] = args[index].copy()
            moved[index][position] = value
        return float(f(*moved))

    def central(h: float) -> float:
        h = (x + h) - x  # a step that is exactly representable around x
        return (at(x + h) - at(x - h)) / (2.0 * h)

    h = step * max(1.0, abs(x))
    coarse, fine = central(h), central(h / 2.0)
    return (4.0 * fine - coarse) / 3.0


def numerical_grad(f: Callable, args: Sequence[Any], wrt: Wrt = 0,
                   step: float = DEFAULT_STEP) -> Any:
    """The gradient of ``f`` at ``args`` by finite differences, shaped like ``ast_ad.grad``'s:
    a float for a single ``wrt``, a tuple for a tuple ``wrt``.

    ``wrt`` is a position, a positional parameter's name, or a tuple of them; ``step``
    is relative to ``max(1, |x|)``.
    """
    indices, _ = _positions(f, wrt, len(args))
    grads = tuple(_partial(f, args, i, step) for i in indices)
    return grads if isinstance(wrt, tuple) else grads[0]


def check_grad(f: Callable, args: Sequence[Any], wrt: Wrt = 0, rtol: float = 1e-6,
               atol: float = 1e-8, step: float = DEFAULT_STEP) -> Any:
    """Assert that ``ast_ad.grad(f, wrt=wrt)(*args)`` matches finite differences.

    Arguments may be floats or float NumPy arrays (checked element by element). Each
    component must satisfy ``|ad - fd| <= atol + rtol * max(|ad|, |fd|)``.
    Raises ``AssertionError`` naming every argument that fails, with both values;
    returns the AD gradient otherwise.
    """
    args = tuple(args)
    ad = ast_ad.grad(f, wrt=wrt)(*args)
    fd = numerical_grad(f, args, wrt, step)
    _, labels = _positions(f, wrt, len(args))
    # a bare number for a one-element tuple ``wrt`` is accepted: only values are checked here
    ad_items = tuple(ad) if isinstance(ad, (tuple, list)) else (ad,)
    fd_items = fd if isinstance(wrt, tuple) else (fd,)
    if len(ad_items) != len(fd_items):
        raise AssertionError(f"ast_ad.grad returned {len(ad_items)} components for "
                             f"wrt={wrt!r}, expected {len(fd_items)}")
    problems = []
    for label, a, n in zip(labels, ad_items, fd_items):
        for where, a_item, n_item in _items(a, n):
            problem = _mismatch(float(a_item), float(n_item), rtol, atol)
            if problem:
                problems.append(f"  {label}{where}: {problem}")
                break  # the first wrong element of an array is enough
    if problems:
        name = getattr(f, "__qualname__", repr(f))
        raise AssertionError(f"gradient of {name} at {args!r} (wrt={wrt!r}) disagrees with "
                             f"finite differences (rtol={rtol}, atol={atol}):\n"
                             + "\n".join(problems))
    return ad


def _items(ad: Any, fd: Any):
    """(position label, AD value, FD value) for a number, or each element of an array."""
    if not _is_float_array(fd):
        yield "", ad, fd
        return
    import numpy as np
    ad = np.asarray(ad)
    if ad.shape != fd.shape:
        raise AssertionError(f"ast_ad.grad gave shape {ad.shape}, the argument has {fd.shape}")
    for position in np.ndindex(fd.shape):
        yield f" element {position}", ad[position], fd[position]


def _mismatch(a: float, n: float, rtol: float, atol: float) -> str | None:
    ok = math.isfinite(a) and abs(a - n) <= atol + rtol * max(abs(a), abs(n))
    if ok or (math.isnan(a) and math.isnan(n)):
        return None
    err = abs(a - n)
    return (f"AD {a!r} vs FD {n!r} (abs err {err:.3g}, "
            f"rel err {err / max(abs(a), abs(n), 1e-300):.3g})")


def check_rule(fn: Callable, *args: float, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Check the derivative rule registered for ``fn`` at the point ``args``, the way the
    built-in rules are checked: each parameter's adjoint (for a random output weight) against
    central finite differences. Raises AssertionError naming the parameter on a mismatch.

    >>> import math, ast_ad                                               # doctest: +SKIP
    >>> def softplus(x): return math.log1p(math.exp(x))                   # doctest: +SKIP
    >>> ast_ad.register_rule(softplus, "x", x="1 / (1 + math.exp(-x))")   # doctest: +SKIP
    >>> ast_ad.testing.check_rule(softplus, 0.3)                          # doctest: +SKIP
    """
    import numpy as np

    from . import rules
    from .dynamic import _vjp

    key = rules.key_of(fn)
    rule = rules.lookup(key, len(args)) if key else None
    if rule is None:
        raise AssertionError(f"no rule is registered for {fn!r} with {len(args)} arguments")
    ans = fn(*args)
    g = np.random.default_rng(0).normal(size=np.shape(ans))
    g = float(g) if np.ndim(ans) == 0 else g
    adjoints = _vjp(rule, len(args))(*args, ans, g)
    names = rule.param_names(len(args))
    for k, (adjoint, param) in enumerate(zip(adjoints, names)):
        if param not in rule.differentiable:
            continue
        x = np.asarray(args[k], dtype=float)
        expected = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            step = DEFAULT_STEP * max(1.0, abs(float(x[index])))
            values = []
            for sign in (1, -1):
                moved = x.copy()
                moved[index] += sign * step
                shifted = list(args)
                shifted[k] = moved if x.ndim else float(moved)
                values.append(np.sum(g * np.asarray(fn(*shifted))))
            expected[index] = (values[0] - values[1]) / (2 * step)
        if not np.allclose(adjoint, expected, rtol=rtol * 100, atol=atol * 100):
            raise AssertionError(f"rule for {key}: the derivative for parameter {param!r} at "
                                 f"{args} is {adjoint}, finite differences give {expected}")
