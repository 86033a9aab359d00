"""Batch: a loop's matrix-product adjoints summed by one matrix product after the loop.

Input: an array-mode adjoint. Output: the same function where a loop statement

    bW = add(bW, matmul_vjp_a(g, W, h))

(the adjoint of a matrix ``W`` that the loop does not change, and that nothing else in
the loop reads or writes) keeps ``(g, h)`` in a list instead, and after the loop one
call adds them all: ``bW = add(bW, matmul_vjp_a_many(_acc1, W))``, which stacks the
vectors and does one matrix product (``sum_t outer(g_t, h_t) = G.T @ H``), the way a
hand-written backpropagation through time does. ``matmul_vjp_b``, ``dot_vjp_a`` and
``dot_vjp_b`` likewise. The values kept must not change after they are kept, so a pair
is batched only if no name that may share its array is changed in place in the loop
(``+=``, item assignment) or handed to anything but our pure helpers and NumPy. The sum
is the same up to rounding (it is added in another order).

>>> from ast_ad.naming import Namer
>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(W, hs, gs, bW):
...     for t in range(3):
...         g = gs[t] * 2.0
...         h = hs[t]
...         bW = add(bW, matmul_vjp_a(g, W, h))
...     return bW'''
>>> func = parse_generated(src, {"add", "matmul_vjp_a"})
>>> print(to_source(batch(func, Namer(set()))), end="")
def f(W, hs, gs, bW):
    _acc1 = []
    for t in range(3):
        g = gs[t] * 2.0
        h = hs[t]
        _acc1.append((g, h))
    bW = add(bW, matmul_vjp_a_many(_acc1, W))
    return bW
"""
from __future__ import annotations

import gast

from ..naming import Namer
from ..source import is_comment
from ..templates import HELPER, assign, call, name
from ..walk import names as _names
from ..walk import walk as fast_walk

# helper -> (position of the operand whose adjoint it is, the batched helper)
BATCHABLE = {"matmul_vjp_a": (1, "matmul_vjp_a_many"), "matmul_vjp_b": (2, "matmul_vjp_b_many"),
             "dot_vjp_a": (1, "dot_vjp_a_many"), "dot_vjp_b": (2, "dot_vjp_b_many")}
# helpers that neither change nor keep their arguments
PURE = {"unbroadcast", "reduce_to", "sum_vjp", "sum_expand", "mean_vjp", "mean_expand",
        "matmul_vjp_a", "matmul_vjp_b", "dot_vjp_a", "dot_vjp_b", "extremum_vjp", "add", "like",
        "to_like", "zeros_like", "seed_scalar", "len", "range", "reversed", "shape_only"}
# helpers whose result is always a new array (never one of their arguments, nor a view)
FRESH = {"unbroadcast", "sum_vjp", "mean_vjp", "matmul_vjp_a", "matmul_vjp_b", "dot_vjp_a",
         "dot_vjp_b", "extremum_vjp", "zeros_like"}
PURE_MODULES = {"np", "math"}
# helpers that change their first argument in place and only read the others
FIRST_CHANGED = {"add_at"}


def batch(func: gast.FunctionDef, namer: Namer) -> gast.FunctionDef:
    """Batch the matrix-product adjoints of every loop in ``func`` (in place)."""
    _batch_blocks(func, namer)
    return func


def _batch_blocks(owner: gast.AST, namer: Namer) -> None:
    for field in ("body", "orelse"):
        block = getattr(owner, field, None)
        if not (isinstance(block, list) and block and isinstance(block[0], gast.stmt)):
            continue
        out: list = []
        for stmt in block:
            if isinstance(stmt, (gast.For, gast.While, gast.If)):
                _batch_blocks(stmt, namer)
            if isinstance(stmt, (gast.For, gast.While)) and not stmt.orelse:
                before, after = _batch_loop(stmt, namer)
                heading = [out.pop()] if before and out and is_comment(out[-1]) else []
                out += before + heading + [stmt] + after
            else:
                out.append(stmt)
        setattr(owner, field, out)


def _batch_loop(loop: gast.stmt, namer: Namer) -> tuple[list, list]:
    before: list = []
    after: list = []
    mentions = _mention_counts(loop.body)
    stored = {n.id for s in loop.body for n in fast_walk(s)
              if type(n) is gast.Name and not isinstance(n.ctx, gast.Load)}
    unsafe = None
    for k, stmt in enumerate(loop.body):
        match = _match(stmt)
        if match is None:
            continue
        target, fn, args = match
        position, many = BATCHABLE[fn]
        invariant = args[position]
        kept = [a for i, a in enumerate(args) if i != position]
        if mentions.get(target) != 2 or type(invariant) is not gast.Name \
                or invariant.id in stored or not all(type(a) is gast.Name for a in kept):
            continue
        unsafe = _unsafe_names(loop.body) if unsafe is None else unsafe
        if any(a.id in unsafe for a in kept):
            continue
        acc = namer.fresh("_acc")
        before.append(assign(acc, gast.List(elts=[], ctx=gast.Load())))
        pair = gast.Tuple(elts=[name(a.id) for a in kept], ctx=gast.Load())
        append = gast.Attribute(value=name(acc), attr="append", ctx=gast.Load())
        loop.body[k] = gast.copy_location(gast.Expr(value=gast.Call(
            func=append, args=[pair], keywords=[])), stmt)
        after.append(assign(target, call("add", name(target),
                                         call(many, name(acc), name(invariant.id)))))
    return before, after


def _match(stmt: gast.stmt) -> tuple[str, str, list] | None:
    """``x = add(x, f(a, b, c))`` for a batchable helper ``f``: (x, f, [a, b, c])."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and type(stmt.targets[0]) is gast.Name):
        return None
    target, value = stmt.targets[0].id, stmt.value
    if not (_helper_call(value) == "add" and len(value.args) == 2
            and type(value.args[0]) is gast.Name and value.args[0].id == target):
        return None
    inner = value.args[1]
    fn = _helper_call(inner)
    if fn not in BATCHABLE or len(inner.args) != 3:
        return None
    return target, fn, inner.args


def _helper_call(node: gast.expr) -> str | None:
    if isinstance(node, gast.Call) and type(node.func) is gast.Name \
            and getattr(node.func, HELPER, False) and not node.keywords:
        return node.func.id
    return None


def _mention_counts(body: list) -> dict:
    counts: dict = {}
    for stmt in body:
        for node in fast_walk(stmt):
            if type(node) is gast.Name:
                counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def _unsafe_names(body: list) -> set:
    """Names whose array may be changed in place (or kept elsewhere) in the loop, closed
    over sharing: ``y = x`` or ``y = x[0]`` then ``y += e`` makes ``x`` unsafe too."""
    changed, shares = set(), []
    for stmt in body:
        for node in fast_walk(stmt):
            if isinstance(node, gast.AugAssign):
                changed |= _roots(node.target)
            elif isinstance(node, gast.Assign):
                for target in node.targets:
                    if type(target) is gast.Name:
                        shares.append((target.id, _may_share(node.value)))
                    else:
                        changed |= _roots(target)
            elif isinstance(node, gast.Call) and not _pure(node):
                args = node.args[:1] if _helper_call(node) in FIRST_CHANGED else \
                    node.args + [k.value for k in node.keywords]
                changed |= {n.id for arg in args for n in fast_walk(arg) if type(n) is gast.Name}
            elif isinstance(node, (gast.For, gast.comprehension)):
                changed |= _names(node.target)
    grown = True
    while grown:  # a name is unsafe if it shares with an unsafe one, either way round
        grown = False
        for target, sources in shares:
            if target in changed and not sources <= changed or \
                    target not in changed and sources & changed:
                changed |= sources | {target}
                grown = True
    return changed


def _roots(target: gast.expr) -> set:
    while isinstance(target, (gast.Subscript, gast.Attribute, gast.Starred)):
        target = target.value
    return _names(target) if isinstance(target, (gast.Tuple, gast.List)) else (
        {target.id} if type(target) is gast.Name else set())


def _pure(node: gast.Call) -> bool:
    fn = _helper_call(node)
    if fn is not None:
        return fn in PURE
    func = node.func
    return isinstance(func, gast.Attribute) and type(func.value) is gast.Name \
        and func.value.id in PURE_MODULES


# helpers whose result may be one of their arguments (``add(a, 0.0)`` is ``a``): all of
# them, or only the first (``reduce_to(v, like)`` may be ``v``, never ``like``)
PASS_THROUGH = {"add"}
PASS_FIRST = {"reduce_to", "like", "to_like", "shape_only", "add_at"}


def _may_share(value: gast.expr) -> set:
    """The names whose array the value of ``value`` may be (or be a view of)."""
    if type(value) is gast.Name:
        return {value.id}
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp, gast.Constant)):
        return set()
    if isinstance(value, (gast.Subscript, gast.Attribute, gast.Starred)):
        return _may_share(value.value)
    if isinstance(value, gast.Call):
        fn = _helper_call(value)
        if fn in FRESH:
            return set()
        if fn in PASS_FIRST and value.args:
            return _may_share(value.args[0])
        if fn in PASS_THROUGH or (fn is None and _pure(value)):  # np.reshape(x): a view of x
            return set().union(*(_may_share(arg) for arg in value.args))
    return {n.id for n in fast_walk(value) if type(n) is gast.Name}
