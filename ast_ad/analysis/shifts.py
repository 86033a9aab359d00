"""Stabilising shifts of a log-sum-exp carry no derivative.

``np.log(np.sum(np.exp(z - m), axis=A)) + m`` is the same number whatever ``m`` is, as long
as ``m`` is constant along the summed axis ``A``: the shift cancels exactly. Users write it
with ``m = np.max(z, axis=A, keepdims=True)`` to keep ``exp`` from overflowing, and a
derivative through ``m`` is zero in exact arithmetic; computed, it is the sum of terms that
cancel (the max's ties, a broadcast sum down, an index store), which costs several array
operations and only adds rounding. A hand-written adjoint leaves it out, as JAX's
``logsumexp`` does (``stop_gradient`` on the max).

This analysis finds such shifts in normalised code. ``m`` qualifies when it is the max or
min of the very value it is subtracted from (so its shape is that value's, reduced along
``A``), and every use of it is one half of a complete chain in straight temporaries, each
used once::

    m = np.max(z, axis=A, keepdims=True)     # or no axis at all: a number
    d = z - m
    e = np.exp(d)
    s = np.sum(e, axis=A)                    # keepdims=True: then the add-back is m itself
    l = np.log(s)
    q = m[:, 0]                              # m with axis A indexed away (A = 1 here)
    r = l + q                                # or q + l

Input: the normalised function, its calls, and beniget's chains as two maps (definition ->
uses, use -> definitions). Output: the loads of ``m`` whose derivative flows to drop.
"""
from __future__ import annotations

import gast

from ..walk import nodes_of

_EXTREMA = frozenset({"numpy.max", "numpy.amax", "numpy.min", "numpy.amin"})


def stabilising_uses(func: gast.FunctionDef, calls: dict, users: dict, reaching: dict) -> set:
    """The loads of log-sum-exp shifts (see the module's docstring) in ``func``."""
    nodes = [n for n in nodes_of(func, (gast.Assign,), local=True)
             if len(n.targets) == 1 and isinstance(n.targets[0], gast.Name)]
    shifts = [(n.targets[0], s) for n in nodes if (s := _extremum(n.value, calls))]
    if not shifts:
        return set()
    assigns = {n.targets[0]: n for n in nodes}  # definition -> its single-name assignment
    for n in nodes:  # and each operand load -> the assignment reading it
        value = n.value
        operands = (value.left, value.right) if isinstance(value, gast.BinOp) else \
            value.args if isinstance(value, gast.Call) else ()
        for operand in operands:
            if isinstance(operand, gast.Name):
                assigns[operand] = n
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
            assigns["item", value.value] = n  # q = m[...]: under the load of m
    found: set = set()
    for target, shift in shifts:
        found |= _shift_uses(target, shift, assigns, calls, users, reaching)
    return found


def _extremum(value: gast.expr, calls: dict) -> tuple | None:
    """``(z, axis, keepdims)`` of ``np.max(z, axis=..., keepdims=...)`` with constant options
    that make the result constant along the reduced axis; else None."""
    if not isinstance(value, gast.Call) or not _is(value, calls, _EXTREMA):
        return None
    if len(value.args) != 1 or not isinstance(value.args[0], gast.Name):
        return None
    options = {"axis": None, "keepdims": False}
    for kw in value.keywords:
        if kw.arg not in options or not isinstance(kw.value, gast.Constant):
            return None
        options[kw.arg] = kw.value.value
    axis, keepdims = options["axis"], options["keepdims"]
    if type(keepdims) is not bool or not (axis is None or type(axis) is int):
        return None
    if axis is not None and not keepdims and axis != 0:
        return None  # z - m would line m up with the wrong axes
    return value.args[0], axis, keepdims


def _shift_uses(target: gast.Name, shift: tuple, assigns: dict, calls: dict, users: dict,
                reaching: dict) -> set:
    """All loads of ``target`` if they pair up as the two halves of complete chains (a
    subtracted shift, and an add-back in the same sum), else nothing."""
    loads = users.get(target, [])
    if not loads or any(reaching.get(load) != [target] for load in loads):
        return set()
    shifted, backs = [], []
    for load in loads:
        half = _shifted(load, shift, assigns, calls, users, reaching)
        if half is None:
            half = _added_back(load, shift, assigns, users, reaching)
            if half is None:
                return set()
            backs.append((load, *half))
        else:
            shifted.append((load, *half))
    if len(shifted) != len(backs):
        return set()
    for _, sum_keeps, path in shifted:
        match = next((b for b in backs if b[1] in (sum_keeps, None) and b[2] & path), None)
        if match is None:
            return set()
        backs.remove(match)
    return set(loads)


def _shifted(load: gast.Name, shift: tuple, assigns: dict, calls: dict, users: dict,
             reaching: dict) -> tuple | None:
    """For the ``m`` of ``log(sum(exp(z - m)))``: (whether the sum keeps its axes, the
    additions the log is a term of); else None."""
    z, axis, _ = shift
    d = _statement_of(load, assigns)
    if d is None or not _binop(d.value, gast.Sub) or d.value.right is not load:
        return None
    left = d.value.left
    if not isinstance(left, gast.Name) or left.id != z.id or reaching.get(left) != reaching.get(z):
        return None
    e = _only_user(d.targets[0], assigns, users, reaching, "numpy.exp", calls)
    s = e and _only_user(e.targets[0], assigns, users, reaching, "numpy.sum", calls)
    if not s or not _sums_over(s.value, axis):
        return None
    log = _only_user(s.targets[0], assigns, users, reaching, "numpy.log", calls)
    path = log and _additions(log.targets[0], assigns, users, reaching)
    return (_sum_keeps(s.value), path) if path else None


def _added_back(load: gast.Name, shift: tuple, assigns: dict, users: dict,
                reaching: dict) -> tuple | None:
    """For an ``m`` added back (``m`` or ``m`` with the reduced axis indexed away): (the
    sum's keepdims it fits, None for any; the additions it is a term of); else None."""
    _, axis, keepdims = shift
    node = _statement_of(load, assigns)
    if node is not None:  # m itself is a term
        if not _binop(node.value, gast.Add):
            return None
        fits = None if axis is None else keepdims
        return fits, _additions_from(node, assigns, users, reaching)
    q = assigns.get(("item", load))
    if q is None or axis is None or not keepdims or not _indexes_away(q.value.slice, axis):
        return None
    path = _additions(q.targets[0], assigns, users, reaching)
    return (False, path) if path else None


def _additions(name: gast.Name, assigns: dict, users: dict, reaching: dict) -> set:
    """The additions that the value defined by ``name`` is a term of, each result used once
    as a term of the next: empty if ``name``'s one use is not an addition."""
    uses = users.get(name, [])
    if len(uses) != 1 or reaching.get(uses[0]) != [name]:
        return set()
    node = _statement_of(uses[0], assigns)
    if node is None or not _binop(node.value, gast.Add):
        return set()
    return _additions_from(node, assigns, users, reaching)


def _additions_from(node: gast.Assign, assigns: dict, users: dict, reaching: dict) -> set:
    path = {node}
    while True:
        uses = users.get(node.targets[0], [])
        if len(uses) != 1 or reaching.get(uses[0]) != [node.targets[0]]:
            return path
        node = _statement_of(uses[0], assigns)
        if node is None or not _binop(node.value, gast.Add) or node in path:
            return path
        path.add(node)


def _indexes_away(index: gast.expr, axis: int | None) -> bool:
    """Is ``m[index]`` ``m`` with the (size-1) ``axis`` dropped: ``m[:, 0]`` for axis 1?"""
    if axis is None:
        return False
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    if not parts or not _zero(parts[-1]):
        return False
    lead = parts[:-1]
    if axis == -1:
        return len(lead) == 1 and isinstance(lead[0], gast.Constant) and lead[0].value is ...
    return axis >= 0 and len(lead) == axis and all(_full_slice(p) for p in lead)


def _zero(node: gast.expr) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) is int and node.value == 0


def _full_slice(node: gast.expr) -> bool:
    return isinstance(node, gast.Slice) and node.lower is None and node.upper is None \
        and node.step is None


def _sums_over(call: gast.Call, axis: int | None) -> bool:
    """``np.sum(e, ...)`` with constant options, over ``axis`` when the shift has one."""
    if len(call.args) != 1:
        return False
    options = {kw.arg: kw.value for kw in call.keywords}
    if set(options) - {"axis", "keepdims"} or not all(
            isinstance(v, gast.Constant) for v in options.values()):
        return False
    if axis is None:
        return True
    summed = options.get("axis")
    return summed is not None and type(summed.value) is int and summed.value == axis


def _sum_keeps(call: gast.Call) -> bool:
    return any(kw.arg == "keepdims" and kw.value.value is True for kw in call.keywords)


def _only_user(target: gast.Name, assigns: dict, users: dict, reaching: dict, key: str,
               calls: dict) -> gast.Assign | None:
    """The one statement reading ``target``, if it is ``key(target, ...)``."""
    uses = users.get(target, [])
    if len(uses) != 1 or reaching.get(uses[0]) != [target]:
        return None
    node = _statement_of(uses[0], assigns)
    if node is None or not isinstance(node.value, gast.Call) or not _is(node.value, calls, {key}):
        return None
    return node if node.value.args and node.value.args[0] is uses[0] else None


def _statement_of(load: gast.Name, assigns: dict) -> gast.Assign | None:
    """The single-name assignment whose value reads ``load`` directly (as an operand)."""
    node = assigns.get(load)
    return node if node is not None and node.targets[0] is not load else None


def _binop(value: gast.expr, op: type) -> bool:
    return isinstance(value, gast.BinOp) and isinstance(value.op, op)


def _is(call: gast.Call, calls: dict, keys: frozenset | set) -> bool:
    target = calls.get(call)
    return target is not None and target.key in keys
