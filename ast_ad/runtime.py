"""The few helpers that generated code calls. Kept tiny: generated code inlines the rest."""
from __future__ import annotations

import numbers
import sys

from .errors import GradientError


class _NoNumpy:
    """Stands for NumPy when it was never imported: then no value is an array."""

    ndarray = generic = bool_ = type("_NotAnArray", (), {})


def _np():
    """NumPy if the program uses it (so that code for plain Python needs no NumPy)."""
    return sys.modules.get("numpy") or _NoNumpy


# the array type for the helpers' quickest checks (NumPy is loaded before this module when
# ast_ad is imported; if it were not, the checks would take their general paths)
_ARRAY = _np().ndarray


def stop_gradient(x: object) -> object:
    """``x`` itself, with no derivative flowing through: ``y = stop_gradient(x)``."""
    return x


def _indexable(iterable: object) -> bool:
    return type(iterable) is list or isinstance(iterable, (list, tuple, range, str)) \
        or hasattr(iterable, "__array__")  # (a list, the common case, first)


def sequence(iterable: object) -> object:
    """What ``for x in iterable`` indexes: the object itself, or a list of a dict's keys
    (or of a set's, an iterator's items)."""
    return iterable if _indexable(iterable) else list(iterable)


def unpacked(value: object, count: int) -> object:
    """``value`` itself, once it is known to hold exactly ``count`` items: ``a, b = value``
    is indexed item by item, and this keeps Python's check (and its error)."""
    size = len(value)
    if size != count:
        raise ValueError(f"too many values to unpack (expected {count})" if size > count
                         else f"not enough values to unpack (expected {count}, got {size})")
    return value


def sequence_vjp(g: object, iterable: object, ans: object) -> object:
    """The adjoint of ``iterable`` from ``sequence(iterable)``: passed through when it was
    the object itself; zero for a dict's keys. Decided by type, not by ``ans is iterable``:
    the reverse sweep may recompute ``iterable`` (``xs[1:]``), a new object equal to it."""
    return g if _indexable(iterable) else zeros_like(iterable)


def seed_scalar(value: object, fname: str) -> object:
    """The adjoint seed 1 for a scalar result; a clear error for anything else."""
    if type(value) is float:
        return 1.0
    np = _np()
    if type(value) is np.float64:
        return np.float64(1.0)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise GradientError(
            f"grad needs {fname}() to return a real scalar, but it returned "
            f"{type(value).__name__} {_preview(value)}. For a non-scalar output use "
            "ast_ad.vjp (vector-Jacobian product) instead.")
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise GradientError(
                f"grad needs {fname}() to return a scalar, but it returned an array of shape "
                f"{value.shape}. Reduce it (e.g. .sum()) or use ast_ad.vjp.")
        return np.ones((), dtype=_float_dtype(value.dtype))
    if isinstance(value, np.generic):
        return _float_dtype(value.dtype).type(1.0)
    return 1.0


def _float_dtype(dtype: object) -> object:
    np = _np()
    kind = getattr(dtype, "kind", None)  # a dtype; np.issubdtype is several times slower
    if kind is None:
        return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)
    return dtype if kind == "f" else np.dtype(np.float64)


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- structural adjoints
# Adjoints of containers have the container's structure (a list for a list or a
# tuple, a dict for a dict); ``None`` or the number 0 stand for "zero, structure
# not built yet". These helpers are called only where a value may be a container.

def is_zero(adj: object) -> bool:
    return adj is None or (type(adj) in (float, int) and adj == 0)


def numbers_only(seq: list | tuple) -> bool:
    """Are the items of ``seq`` all plain numbers (floats, ints, bools)? At C speed, about
    five times faster than looking at each item's type: ``sum``'s float loop. An array or a
    NumPy number among them makes the total an array or a NumPy number, and a string, a
    container or None stops it with an error; either way the answer is no."""
    try:
        return type(sum(seq, 0.0)) is float
    except Exception:  # noqa: BLE001 - any item sum cannot add is not a plain number
        return False


def zeros_like(value: object) -> object:
    """A zero adjoint shaped like ``value``."""
    kind = type(value)
    if kind is float:
        return 0.0
    if kind is list or kind is tuple:
        if numbers_only(value):  # a list of numbers, at C speed
            return [0.0] * len(value)
        return [zeros_like(v) for v in value]
    np = _np()
    if isinstance(value, (list, tuple)):
        return [zeros_like(v) for v in value]
    if isinstance(value, dict):
        return {k: zeros_like(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return np.zeros(value.shape, dtype=_float_dtype(value.dtype))
    if isinstance(value, np.generic):
        return _float_dtype(value.dtype).type(0.0)
    return 0.0


def like(adj: object, primal: object) -> object:
    """The gradient ``adj`` of ``primal`` with ``primal``'s shape and float dtype."""
    np = _np()
    if type(adj) is type(primal) and (type(adj) is float or (
            type(adj) is np.ndarray and adj.shape == primal.shape
            and adj.dtype == primal.dtype and adj.dtype.kind == "f")):
        return adj  # the common cases, quickly: already a number, or the right array
    if isinstance(primal, np.ndarray):
        dtype = _float_dtype(primal.dtype)
        if is_zero(adj):
            return np.zeros(primal.shape, dtype=dtype)
        return np.broadcast_to(np.asarray(adj, dtype=dtype), primal.shape).copy() \
            if np.shape(adj) != primal.shape else np.asarray(adj, dtype=dtype)
    if isinstance(primal, np.generic):
        return _float_dtype(primal.dtype).type(0.0 if is_zero(adj) else adj)
    if isinstance(primal, (list, tuple, dict)):
        return zeros_like(primal) if is_zero(adj) else adj
    if isinstance(adj, (np.ndarray, np.generic)) and np.ndim(adj) == 0:
        return float(adj)
    return 0.0 if adj is None else adj


def add(a: object, b: object) -> object:
    """``a + b`` for adjoints: elementwise for lists and dicts, zero-aware."""
    kind = type(a)
    if kind is type(b) and (kind is float or kind is _ARRAY):
        return a + b  # the common cases first: two numbers, two arrays (the end result too)
    if kind is float and type(b) is _ARRAY and b.ndim and b.dtype.kind == "f":
        return a + b  # (a zero start too: a new array, a -0.0 in it made 0.0, as in a loop
        # whose carried adjoint starts at 0.0, so that its specialised form is a + b)
    if is_zero(b):
        return a if a is not None else b
    if is_zero(a):
        return _copy(b)
    if isinstance(a, list):
        return [add(x, y) for x, y in zip(a, b)]
    if isinstance(a, dict):
        return {k: add(a[k], b[k]) if k in b else a[k] for k in a} | {
            k: v for k, v in b.items() if k not in a}
    return a + b


def _copy(value: object) -> object:
    kind = type(value)
    if (kind is list or kind is tuple) and numbers_only(value):
        return list(value)  # a list of numbers, at C speed
    np = _np()
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def item(adj: object, index: object) -> object:
    """``adj[index]``, or 0.0 where ``adj`` is still zero."""
    if is_zero(adj):
        return 0.0
    return adj[index]


# ---------------------------------------------------------------- indexing adjoints
# ``path`` is a tuple with one index per subscript level: ``x[i][j]`` is ``(i, j)``,
# ``x[i, j]`` is ``((i, j),)``, ``x[1:]`` is ``(slice(1, None, None),)``.

MISSING = object()


def _walk(container: object, path: tuple) -> object:
    for index in path[:-1]:
        container = container[index]
    return container


def add_at(adj: object, primal: object, path: tuple, g: object) -> object:
    """The adjoint of ``primal`` after ``primal[path]`` was read with adjoint ``g``."""
    np = _np()
    if is_zero(g):
        return 0.0 if adj is None else adj  # None: a fresh zero start
    if is_zero(adj) and type(primal) is np.ndarray and len(path) == 1 and _basic(path[0]) \
            and not _new_axes(path[0]):
        out = np.zeros(primal.shape, dtype=_float_dtype(primal.dtype))
        out[path[0]] = g  # basic indexing selects each element once: a plain store
        return out
    if is_zero(adj):
        spread = _new_axes_only(primal, path, g)
        if spread is not None:
            return spread
        adj = zeros_like(primal)
    box, last = _walk(adj, path), path[-1]
    if isinstance(box, np.ndarray):
        if _basic(last):
            box[last] += g  # no index can repeat: a plain in-place sum
        else:
            np.add.at(box, last, g)
    elif isinstance(last, slice):
        for pos, value in zip(range(len(box))[last], g):
            box[pos] = add(box[pos], value)
    elif isinstance(box, dict):
        box[last] = add(box.get(last, 0.0), g)
    else:
        box[last] = add(box[last], g)
    return adj


def _new_axes_only(primal: object, path: tuple, g: object) -> object:
    """The adjoint of ``primal[None, :, :]``-like reads (new axes and whole slices only):
    ``g`` without its new axes, as a new array; None for any other read."""
    np = _np()
    index = path[0] if len(path) == 1 else None
    if type(primal) is not np.ndarray or type(g) is not np.ndarray or type(index) is not tuple \
            or g.size != primal.size or g.dtype != primal.dtype:
        return None
    for item in index:
        if item is not None and item != _WHOLE:
            return None
    return g.reshape(primal.shape).copy()


_WHOLE = slice(None)


_BASIC = (int, slice, type(None), type(Ellipsis))


def _new_axes(index: object) -> bool:
    """Does ``index`` add axes (``None``)? Those reads are :func:`_new_axes_only`'s."""
    return index is None or (type(index) is tuple and None in index)


def _basic(index: object) -> bool:
    """Is ``index`` NumPy basic indexing (ints, slices, None, ...), where no element can be
    selected twice?"""
    if type(index) is tuple:
        return all(type(i) in _BASIC for i in index)
    return type(index) in _BASIC


def item_at(adj: object, path: tuple) -> object:
    """A copy of ``adj[path]``, or 0.0 where ``adj`` is still zero."""
    np = _np()
    if is_zero(adj):
        return 0.0
    box = _walk(adj, path)
    value = box.get(path[-1], 0.0) if isinstance(box, dict) else box[path[-1]]
    return value.copy() if isinstance(value, np.ndarray) else _copy(value)


def zero_at(adj: object, path: tuple) -> object:
    """``adj`` with ``adj[path]`` set to zero (the element was overwritten)."""
    np = _np()
    if is_zero(adj):
        return adj
    box, last = _walk(adj, path), path[-1]
    if isinstance(box, np.ndarray):
        box[last] = 0.0
    elif isinstance(last, slice):
        for pos in range(len(box))[last]:
            box[pos] = zeros_like(box[pos])
    elif isinstance(box, dict):
        box.pop(last, None)
    else:
        box[last] = zeros_like(box[last])
    return adj


def old_item(primal: object, path: tuple) -> object:
    """What ``primal[path]`` holds before it is overwritten (copied if it is an array)."""
    np = _np()
    box, last = _walk(primal, path), path[-1]
    if isinstance(box, dict) and last not in box:
        return MISSING
    value = box[last]
    return value.copy() if isinstance(value, np.ndarray) else value


def put_item(primal: object, path: tuple, old: object) -> None:
    """Undo ``primal[path] = ...``: put back what ``old_item`` saved."""
    box, last = _walk(primal, path), path[-1]
    if old is MISSING:
        del box[last]
    else:
        box[last] = old


# ---------------------------------------------------------------- list methods

def _position(k: int | None, size: int) -> int:
    """Where ``insert(k, v)`` puts ``v`` in a list of ``size`` items."""
    if k is None:
        return size
    if k < 0:
        k += size
    return min(max(k, 0), size)


def pop_last(adj: object) -> object:
    """Reverse of ``xs.append(v)``: the adjoint of ``v``, removed from ``xs``'s adjoint."""
    return 0.0 if is_zero(adj) else adj.pop()


def pop_tail(adj: object, n: int) -> object:
    """Reverse of ``xs.extend(ys)`` (``len(ys) == n``): the adjoint of ``ys``."""
    if is_zero(adj):
        return 0.0
    tail = adj[len(adj) - n:]
    del adj[len(adj) - n:]
    return tail


def pop_inserted(adj: object, primal: list, k: int) -> object:
    """Reverse of ``xs.insert(k, v)``: ``primal`` is ``xs`` after the insert."""
    if is_zero(adj):
        return 0.0
    return adj.pop(_position(k, len(primal) - 1))


def unpop_adj(adj: object, primal: list, k: int | None, g: object) -> object:
    """Reverse of ``v = xs.pop(k)``: ``primal`` is ``xs`` after the pop; ``g`` is ``v``'s."""
    if is_zero(adj):
        if is_zero(g):
            return adj
        adj = zeros_like(primal)
    adj.insert(_popped_position(k, len(primal) + 1), g)
    return adj


def _popped_position(k: int | None, size: int) -> int:
    if k is None:
        return size - 1
    return k + size if k < 0 else k


def unpop(primal: list, k: int | None, value: object) -> None:
    """Undo ``value = primal.pop(k)``."""
    primal.insert(_popped_position(k, len(primal) + 1), value)


def uninsert(primal: list, k: int) -> None:
    """Undo ``primal.insert(k, v)``."""
    primal.pop(_position(k, len(primal) - 1))


def del_tail(primal: list, n: int) -> None:
    """Undo ``primal.extend(ys)`` with ``len(ys) == n``."""
    del primal[len(primal) - n:]


# ---------------------------------------------------------------- builtins over sequences

def fill_like(xs: object, g: object) -> object:
    """The adjoint of ``xs`` from ``sum(xs)`` with adjoint ``g``."""
    np = _np()
    if isinstance(xs, np.ndarray):
        return np.broadcast_to(g, xs.shape[:1] + np.shape(g)).astype(_float_dtype(xs.dtype))
    if isinstance(xs, dict):
        return zeros_like(xs)
    return [_copy(g) for _ in xs]


def pick(xs: object, ans: object, g: object) -> object:
    """The adjoint of ``xs`` from ``max(xs)`` or ``min(xs)``: ``g`` at the first winner."""
    np = _np()
    adj = zeros_like(list(xs) if not isinstance(xs, np.ndarray) else xs)
    for k, x in enumerate(xs):
        if x == ans:
            adj[k] = add(adj[k], g)
            break
    return adj


# the helpers generated code and rule templates may name
HELPERS = {f.__name__: f for f in (
    seed_scalar, add, item, zeros_like, like, add_at, item_at, zero_at, old_item, put_item,
    pop_last, pop_tail, pop_inserted, unpop_adj, unpop, uninsert, del_tail, fill_like, pick,
    sequence, sequence_vjp, unpacked)}
