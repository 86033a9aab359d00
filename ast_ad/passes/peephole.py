"""Peephole: cheaper forms of adjoint expressions that compute exactly the same values.

Input: a simplified adjoint function. Output: the same function with

* **negations moved outwards** (array mode): ``g * (-a / b)`` is ``-(g * (a / b))`` and
  ``reduce_to(-e, x)`` is ``-reduce_to(e, x)``, so that a negation applies to the reduced
  (smaller) value, not to every element of the broadcast one. In both modes ``bx += -e``
  is ``bx -= e``. IEEE negation is exact and commutes with products, quotients and sums:
  the same bits;
* **factors taken out of reductions** (array mode): ``reduce_to(g * (a / x), x)`` is
  ``reduce_to(g * a, x) / x`` (``x`` is constant along the summed axes; the same value
  up to rounding, one pass over the large array fewer);
* **no negated start**: ``bx = -a`` followed by ``bx += b`` is ``bx = b - a`` (``-a + b``
  and ``b - a`` are the same IEEE number), one pass over the values fewer; ``bx -= b``
  after it is ``bx = -(a + b)``, which keeps the negation but loses the in-place update;
  it is left alone;
* **a doubling folded into a constant factor**: ``100.0 * (2.0 * t)`` is ``200.0 * t``
  (exact: see ``_fold_doubling``);
* **no product with a seed of 1** (scalar mode): in a fused loop, ``bs = 1.0`` is the
  seed, and ``bs * (2.0 * t)`` is ``2.0 * t`` (multiplying a float by 1 is exact);
* **a product reduced twice, reduced once, with its factor taken out** (array mode):
  ``bt = reduce_to(g * s, _t3)`` read only by ``reduce_to(bt, _t2)`` is
  ``bt = reduce_scaled(g, s, _t2)``, read as it is (it has ``_t2``'s shape and dtype
  already): at run time, when ``s`` has ``_t2``'s shape (it is the
  same along every summed axis), that is ``reduce_to(g, _t2) * s``, and the large product
  is never made (the adjoint of ``(x - mean) / sigma`` for the mean: the same value up to
  rounding);
* **no ``like`` where the adjoint is already like its variable** (array mode): a returned
  ``like(bW, W)`` is ``bW`` when ``bW`` was last set, at the top level, by a helper that
  returns a value of ``W``'s shape and float dtype (``reduce_to(e, W)``,
  ``unbroadcast(e, W)``, ``sum_vjp(g, W, ...)``, ``matmul_vjp_a(g, W, b)``,
  ``matmul_vjp_b(g, a, W)``), ``W`` is a parameter never set again, and nothing else
  mentions ``bW`` after it;
* **sums not broadcast back** (array mode): in ``reduce_to(sum_vjp(g, a, 1) * e, x)`` the
  adjoint of a sum is an operand of arithmetic, so ``sum_expand`` gives ``g`` with the
  summed axes put back as size-1 axes and broadcasting does the rest, instead of a full
  array of copies of ``g``. ``reduce_to``/``unbroadcast`` restore ``x``'s shape either way.

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> ours = {"reduce_to", "sum_vjp"}
>>> src = "def f(g, a, x, bm):\\n    bm += reduce_to(-(g * (-a / x)), x)"
>>> print(to_source(peephole(parse_generated(src, ours), arrays=True)), end="")
def f(g, a, x, bm):
    bm += reduce_to(g * a, x) / x
>>> src = "def f(g, a, x):\\n    return reduce_to(sum_vjp(g, a, 2, False) * (2 * x), x)"
>>> print(to_source(peephole(parse_generated(src, ours), arrays=True)), end="")
def f(g, a, x):
    return reduce_to(sum_expand(g, a, 2, False) * 2 * x, x)
"""
from __future__ import annotations

import functools

import gast

from ..analysis.sharing import calls_pure
from ..templates import HELPER, helper, helper_call
from ..walk import blocks, name_nodes, parameters, rewrite
from ..walk import names as _names_of
from ..walk import walk as fast_walk

_REDUCERS = ("reduce_to", "unbroadcast")
_EXPANDERS = {"sum_vjp": "sum_expand", "mean_vjp": "mean_expand"}


def peephole(func: gast.FunctionDef, arrays: bool) -> gast.FunctionDef:
    """Rewrite ``func`` in place (see the module docstring) and return it."""
    units = set() if arrays else _units(func)
    rules = {gast.BinOp: functools.partial(_binop, arrays=arrays, units=units),
             gast.Call: functools.partial(_call, arrays=arrays),
             gast.UnaryOp: _unaryop, gast.AugAssign: _aug_assign}
    func = rewrite(func, rules)
    _negated_starts(func)
    if arrays:
        _scaled_reductions(func)
        _drop_likes(func)
    if units:  # a seed no longer read goes
        read = {n.id for n in name_nodes(func) if type(n.ctx) is gast.Load and n.id in units}
        func.body = [s for s in func.body if not (
            type(s) is gast.Assign and type(s.targets[0]) is gast.Name
            and s.targets[0].id in units - read)]
    return func


def _neg(node: gast.expr) -> bool:
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)


def _negate(node: gast.expr) -> gast.expr:
    return node.operand if _neg(node) else gast.UnaryOp(op=gast.USub(), operand=node)


def _signs(node: gast.BinOp) -> gast.expr:
    """``a + -b`` is ``a - b``, ``-a + -b`` is ``-(a + b)``, ``a - -b`` is ``a + b`` (all
    exact: IEEE addition is symmetric under negation)."""
    left, right, add = node.left, node.right, isinstance(node.op, gast.Add)
    if _neg(right):
        node.op, node.right = (gast.Sub() if add else gast.Add()), right.operand
        return _signs(node)
    if _neg(left) and add:  # -a + b: b - a
        return gast.BinOp(left=right, op=gast.Sub(), right=left.operand)
    return node


def _call_to(node: gast.expr, names) -> str | None:
    fn = helper_call(node)
    return fn if fn in names else None


def _two(node: gast.expr) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) \
        and node.value == 2


def _scale_small_first(node: gast.BinOp) -> gast.BinOp:
    """``sum_expand(...) * (2 * x)`` is ``sum_expand(...) * 2 * x``: the small operand is
    scaled, not the large one (the same bits: doubling only moves the exponent, the ``x ** 2``
    rule's factor)."""
    right = node.right
    if isinstance(node.op, gast.Mult) and _call_to(node.left, ("sum_expand", "mean_expand")) \
            and isinstance(right, gast.BinOp) and isinstance(right.op, gast.Mult) \
            and _two(right.left):
        scaled = gast.BinOp(left=node.left, op=gast.Mult(), right=right.left)
        return gast.BinOp(left=scaled, op=gast.Mult(), right=right.right)
    return node


def _number(node: gast.expr) -> bool:
    return type(node) is gast.Constant and type(node.value) in (int, float)


def _fold_doubling(node: gast.BinOp) -> gast.expr:
    """``c * (2.0 * e)`` is ``(2 c) * e`` for a constant ``c`` (the ``x ** 2`` rule's factor
    times the user's): doubling is exact and commutes with rounding in every binary float
    format while ``c`` and ``2 c`` are normal numbers there (float16's range bounds them),
    and with ``|c| >= 1`` the folded product overflows whenever ``2.0 * t`` does; so the
    same bits with one product fewer. (A complex ``t`` whose ``2.0 * t`` overflows is the
    one exception: ``inf+nanj`` unfolded, ``inf+0j`` folded.)"""
    right = node.right
    if _number(node.left) and type(right) is gast.BinOp and type(right.op) is gast.Mult \
            and _two(right.left) and _number(right.left):
        c = node.left.value
        if 1 <= abs(c) and abs(2 * c) <= 2.0 ** 15:
            kind = float if float in (type(c), type(right.left.value)) else int
            return gast.BinOp(left=gast.Constant(value=kind(2 * c), kind=None), op=gast.Mult(),
                              right=right.right)
    return node


def _is_name(node: gast.expr, ident: str) -> bool:
    return type(node) is gast.Name and node.id == ident


def _factor_out(node: gast.Call) -> gast.expr:
    """``reduce_to(g * (a / x), x)`` (the quotient rule's adjoint for the divisor) is
    ``reduce_to(g * a, x) / x``: ``x`` is the same along every axis the reduction sums
    over, so it can divide the (small) sum instead of every element. The same value up to
    rounding, with one pass over the large array fewer, and never more passes: the
    product ``g * a`` is at least as large as ``x`` wherever ``x`` was broadcast."""
    value, like = node.args
    if not (type(like) is gast.Name and isinstance(value, gast.BinOp)
            and isinstance(value.op, gast.Mult) and isinstance(value.right, gast.BinOp)
            and isinstance(value.right.op, gast.Div) and _is_name(value.right.right, like.id)
            and not isinstance(value.right.left, gast.Constant)):  # g * (1.0 / x): as it is
        return node
    node.args[0] = gast.BinOp(left=value.left, op=gast.Mult(), right=value.right.left)
    node.func = helper("reduce_to")  # the product below is a new value
    return gast.BinOp(left=node, op=gast.Div(), right=gast.Name(
        id=like.id, ctx=gast.Load(), annotation=None, type_comment=None))


# each rule sees its node with the node's children already rewritten

def _units(func: gast.FunctionDef) -> set:
    """Names assigned once, to the number ``1.0`` (a fused loop's seed ``bs = 1.0``), and
    never changed."""
    ones = {s.targets[0].id for s in func.body
            if type(s) is gast.Assign and len(s.targets) == 1
            and type(s.targets[0]) is gast.Name and type(s.value) is gast.Constant
            and type(s.value.value) is float and s.value.value == 1.0}
    if not ones:
        return ones  # (a fused loop's seed is set at the top level)
    stores: dict = {}
    for node in name_nodes(func):
        if node.id in ones and type(node.ctx) is not gast.Load:
            stores[node.id] = stores.get(node.id, 0) + 1
    return {n for n in ones if stores[n] == 1}


# math functions whose result is always a float (math.floor and others return ints)
FLOAT_MATH = {"sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
              "asinh", "acosh", "atanh", "exp", "expm1", "log", "log1p", "log2", "log10",
              "sqrt", "pow", "hypot", "erf", "erfc", "fabs"}


def _float_valued(node: gast.expr) -> bool:
    """A float literal, one of our ``math`` module's float functions, or a product or
    quotient with one of those (in scalar mode: a float)."""
    if type(node) is gast.Constant:
        return type(node.value) is float
    if type(node) is gast.Call and type(node.func) is gast.Attribute \
            and type(node.func.value) is gast.Name and node.func.value.id == "math" \
            and getattr(node.func.value, HELPER, False) and node.func.attr in FLOAT_MATH:
        return True
    return type(node) is gast.BinOp and type(node.op) in (gast.Mult, gast.Div) and (
        _float_valued(node.left) or _float_valued(node.right))


def _unit_factor(node: gast.BinOp, units: set) -> gast.expr | None:
    """``bs * e`` for ``bs`` known to be ``1.0`` and a float ``e``: ``e`` (the same bits)."""
    for one, other in ((node.left, node.right), (node.right, node.left)):
        if type(one) is gast.Name and one.id in units and _float_valued(other):
            return other
    return None


def _binop(node: gast.BinOp, arrays: bool, units: set = frozenset()) -> gast.expr:
    if isinstance(node.op, (gast.Add, gast.Sub)):
        return _signs(node)
    if not isinstance(node.op, (gast.Mult, gast.Div)):
        return node
    if units and type(node.op) is gast.Mult:
        factor = _unit_factor(node, units)
        if factor is not None:
            return factor
    if type(node.op) is gast.Mult:
        node = _fold_doubling(node)
        if type(node) is not gast.BinOp:
            return node
    if arrays:
        for side in ("left", "right"):
            operand = getattr(node, side)
            fn = _call_to(operand, _EXPANDERS)
            if fn:
                operand.func = helper(_EXPANDERS[fn])
        node = _scale_small_first(node)
    negations = _neg(node.left) + _neg(node.right)
    if negations == 0 or not arrays:
        return node
    node.left, node.right = _negate(node.left) if _neg(node.left) else node.left, \
        _negate(node.right) if _neg(node.right) else node.right
    return node if negations == 2 else gast.UnaryOp(op=gast.USub(), operand=node)


def _call(node: gast.Call, arrays: bool) -> gast.expr:
    fn = _call_to(node, _REDUCERS)
    if not (fn and arrays and len(node.args) == 2):
        return node
    if _neg(node.args[0]):
        node.args[0] = node.args[0].operand
        node.func = helper("reduce_to")  # the negation makes a new value: no copy needed
        return gast.UnaryOp(op=gast.USub(), operand=_call(node, arrays))
    return _factor_out(node)


def _unaryop(node: gast.UnaryOp) -> gast.expr:
    if _neg(node) and _neg(node.operand):
        return node.operand.operand
    return node


def _aug_assign(node: gast.AugAssign) -> gast.AugAssign:
    value = node.value
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Sub) \
            and _neg(value.left):  # bx += -a - b: bx -= a + b
        value = node.value = _negate(gast.BinOp(left=value.left.operand, op=gast.Add(),
                                                right=value.right))
    if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Mult, gast.Div)) \
            and _neg(value.left) != _neg(value.right):  # bx += -a * b: bx -= a * b
        value.left, value.right = _negate(value.left) if _neg(value.left) else \
            value.left, _negate(value.right) if _neg(value.right) else value.right
        value = node.value = _negate(value)
    if isinstance(node.op, (gast.Add, gast.Sub)) and _neg(value):
        node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
        node.value = value.operand
    return node


# the argument (position) of which each helper's result has the shape and float dtype
_LIKE_ARGUMENT = {"reduce_to": 1, "unbroadcast": 1, "sum_vjp": 1, "matmul_vjp_a": 1,
                  "matmul_vjp_b": 2, "reduce_scaled": 2}


def _drop_likes(func: gast.FunctionDef) -> None:
    """Returned ``like(bW, W)`` calls that change nothing go (see the module docstring)."""
    ret = func.body[-1] if func.body else None
    if type(ret) is not gast.Return or ret.value is None:
        return
    calls = [n for n in fast_walk(ret.value) if helper_call(n) == "like"
             and all(type(a) is gast.Name for a in n.args) and len(n.args) == 2]
    if not calls:
        return
    params = {a.id for a in parameters(func)}
    stores: dict = {}
    for node in name_nodes(func):
        if type(node.ctx) is not gast.Load:
            stores[node.id] = stores.get(node.id, 0) + 1
    passed = {id(c): c.args[0] for c in calls if c.args[1].id in params
              and stores.get(c.args[1].id) == 1 and _made_like(func.body, *c.args)}
    if passed:
        ret.value = rewrite(ret.value, {gast.Call: lambda n: passed.get(id(n), n)})


def _made_like(body: list, adj: gast.Name, var: gast.Name) -> bool:
    """Is ``adj`` last set at the top level of ``body`` by a helper whose result is like
    ``var``, with nothing after that (but the return, and top-level ``adj += e`` of such
    helpers' results, which keep it so) mentioning ``adj``?"""
    for stmt in reversed(body[:-1]):
        if adj.id not in _names_of(stmt):
            continue
        if type(stmt) is gast.AugAssign and type(stmt.op) in (gast.Add, gast.Sub) \
                and _is_name(stmt.target, adj.id) and _like_of(stmt.value, var) \
                and adj.id not in _names_of(stmt.value):
            continue
        if type(stmt) is not gast.Assign or len(stmt.targets) != 1 \
                or type(stmt.targets[0]) is not gast.Name or stmt.targets[0].id != adj.id:
            return False
        return _like_of(stmt.value, var)
    return False


def _like_of(value: gast.expr, var: gast.Name) -> bool:
    """Is ``value`` a helper's result that is like ``var`` (``reduce_to(e, var)``...)?"""
    at = _LIKE_ARGUMENT.get(helper_call(value))
    return at is not None and len(value.args) > at and _is_name(value.args[at], var.id)


def _scaled_reductions(func: gast.FunctionDef) -> None:
    """``bt = reduce_to(g * s, a)`` whose only reader is a later ``reduce_to(bt, b)`` in
    the same block is ``bt = reduce_scaled(g, s, b)`` (see the module docstring)."""
    loads: dict = {}
    for node in name_nodes(func):
        if type(node.ctx) is gast.Load:
            loads[node.id] = loads.get(node.id, 0) + 1
    for block in [getattr(owner, field) for owner, field in blocks(func)]:
        for k, stmt in enumerate(block):
            if type(stmt) is not gast.Assign or len(stmt.targets) != 1 \
                    or type(stmt.targets[0]) is not gast.Name \
                    or helper_call(stmt.value) != "reduce_to" \
                    or not _is_product(stmt.value.args[0]):
                continue
            ident = stmt.targets[0].id
            found = _reduced_later(block, k, ident) if loads.get(ident) == 1 else None
            if found is not None:
                reader, reduction = found
                product, like = stmt.value.args[0], reduction.args[1]
                stmt.value = gast.Call(func=helper("reduce_scaled"), keywords=[], args=[
                    product.left, product.right, gast.Name(
                        id=like.id, ctx=gast.Load(), annotation=None, type_comment=None)])
                # the reader's reduction of it changes nothing now: it reads it as it is
                rewrite(reader, {gast.Call: functools.partial(_unless, reduction)})


def _unless(reduction: gast.Call, node: gast.Call) -> gast.expr:
    """``node``, or the value ``reduction`` reduces if ``node`` is that call."""
    return node.args[0] if node is reduction else node


def _is_product(node: gast.expr) -> bool:
    return type(node) is gast.BinOp and type(node.op) is gast.Mult


def _reduced_later(block: list, k: int, ident: str) -> tuple | None:
    """``(statement, call)`` for the ``reduce_to(ident, b)`` (or ``unbroadcast``) of a name
    ``b`` in the statement after ``block[k]`` that reads ``ident``, if nothing in between
    assigns ``ident`` or ``b``."""
    for j in range(k + 1, len(block)):
        stmt = block[j]
        if ident not in _names_of(stmt):
            continue
        for node in fast_walk(stmt):
            if helper_call(node) in _REDUCERS and _is_name(node.args[0], ident) \
                    and type(node.args[1]) is gast.Name:
                stored = {n.id for s in block[k + 1:j] for n in fast_walk(s)
                          if type(n) is gast.Name and type(n.ctx) is not gast.Load}
                return None if stored & {ident, node.args[1].id} else (stmt, node)
        return None
    return None


def _negated_starts(func: gast.FunctionDef) -> None:
    """``bx = -a`` directly followed by ``bx += b`` is ``bx = b - a`` (see the module
    docstring), when neither ``a`` nor ``b`` calls anything that changes a value."""
    for block in [getattr(owner, field) for owner, field in blocks(func)]:
        k = 0
        while k + 1 < len(block):
            first, second = block[k], block[k + 1]
            if type(first) is gast.Assign and len(first.targets) == 1 \
                    and type(first.targets[0]) is gast.Name and _neg(first.value) \
                    and type(second) is gast.AugAssign and type(second.op) is gast.Add \
                    and _is_name(second.target, first.targets[0].id) \
                    and first.targets[0].id not in _names_of(second.value) \
                    and calls_pure(first.value) and calls_pure(second.value):
                first.value = gast.BinOp(left=second.value, op=gast.Sub(),
                                         right=first.value.operand)
                del block[k + 1]
            k += 1
