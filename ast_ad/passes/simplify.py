"""Simplify: make the adjoint as short as a hand-written one, without changing a single value.

Input: a pruned adjoint function. Output: the same function after

* **constant folding** (:func:`fold`, applied by the reverse pass to each filled
  rule template): ``2 - 1`` is ``1``, ``0.0 if 2 == 0 else e`` is ``e``, ``a ** 1``
  is ``a`` (each folding computes exactly what Python would at run time); an integer
  factor in a partial is a float (``2 * a`` is ``2.0 * a``: the same value, as the
  partial multiplies a float adjoint, and CPython multiplies two floats faster);
* **temporary inlining**: a forward temporary used once, by the next statement,
  and never by the reverse sweep, goes back into that statement (``_t1 =
  math.sin(x); z = z + _t1`` is ``z = z + math.sin(x)`` again); evaluation order
  is unchanged because temporaries are used in the order they were made;
* **adjoint forwarding**: ``b_t1 = bz`` followed by the only use of ``b_t1`` uses
  ``bz`` directly;
* **first writes**: ``bx = 0.0`` followed, before any other use, by ``bx += e`` is
  ``bx = e`` (with arrays only when ``e`` builds a new value, so that no two
  adjoints share an array that ``+=`` would change in place), also wherever ``bx``
  is known to be zero, as at the top of a loop body that ends with ``bx = 0.0``;
* **dead resets**: such a ``bx = 0.0`` in a loop goes when every way on from it (the
  next iteration, or after the loop) sets ``bx`` before reading it.

>>> import gast
>>> from ast_ad.source import to_source
>>> src = ("def f(x, bz):\\n    b_t1 = bz\\n    bx = 0.0\\n"
...        "    bx += b_t1 * x ** 2\\n    return bx")
>>> print(to_source(simplify(gast.parse(src).body[0], {"b_t1"}, arrays=False)), end="")
def f(x, bz):
    bx = bz * x ** 2
    return bx
>>> print(to_source(fold(gast.parse("0.0 if 2 == 0 else 2 * t ** (2 - 1)").body[0].value)), end="")
2.0 * t
"""
from __future__ import annotations

import ast
import copy
import operator

import gast

from ..analysis.sharing import FRESH, calls_pure
from ..nodes import copy_location
from ..source import comment_at, is_comment
from ..tally import Tally
from ..templates import helper_call
from ..walk import blocks, name_fields, name_nodes, parts, rewrite, statements
from ..walk import names as _names

_FOLDABLE = (gast.Add, gast.Sub, gast.Mult, gast.Pow)


def simplify(func: gast.FunctionDef, temps: set, arrays: bool,
             tally: Tally | None = None) -> gast.FunctionDef:
    """``temps``: the temporaries normalisation made and their adjoints' names (only those
    may be inlined or forwarded; user names never are). ``tally``: the statements' Names as
    a pass before listed them (statements changed since must have been forgotten)."""
    if tally is None:  # each statement's names are counted once, and again when it changes
        tally = Tally()
    _inline_by_sweep(func, temps, tally)
    zero_writes(func, arrays, tally)
    _drop_dead_resets(func, tally)
    loads, stores, _ = tally.counts([func])
    if forward_copies(func, loads, temps, stores, tally):
        _inline_by_sweep(func, temps, tally)  # forwarding leaves more single-use temporaries
    return func


# ---------------------------------------------------------------------- constant folding

def _number(node: gast.expr) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


def fold(expr: gast.expr) -> gast.expr:
    """``expr`` with constant subexpressions folded (used on filled rule templates)."""
    return rewrite(expr, _FOLDS)


def _fold_binop(node: gast.BinOp) -> gast.expr:
    if _number(node.left) and _number(node.right) and isinstance(node.op, _FOLDABLE):
        value = _evaluate(node)
        if value is not None:
            return gast.Constant(value=value, kind=None)
    if isinstance(node.op, gast.Pow) and _number(node.right) and node.right.value == 1 \
            and type(node.right.value) is int:
        return node.left  # a ** 1 is a, exactly, for numbers and arrays
    if isinstance(node.op, gast.Mult):
        for side in ("left", "right"):  # 2 * a is 2.0 * a: int times float is slower
            value = getattr(node, side)
            if isinstance(value, gast.Constant) and type(value.value) is int \
                    and abs(value.value) < 2 ** 53:
                setattr(node, side, gast.Constant(value=float(value.value), kind=None))
    return node


def _fold_ifexp(node: gast.IfExp) -> gast.expr:
    test = node.test
    if isinstance(test, gast.Compare) and _number(test.left) and len(test.ops) == 1 \
            and _number(test.comparators[0]):
        value = _evaluate(test)
        if value is not None:
            return node.body if value else node.orelse
    return node


_FOLDS = {gast.BinOp: _fold_binop, gast.IfExp: _fold_ifexp}  # each after its children


# the operations folded, as the interpreter computes them (the same functions it calls)
_OPERATORS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
              gast.Pow: operator.pow, gast.Eq: operator.eq, gast.NotEq: operator.ne,
              gast.Lt: operator.lt, gast.LtE: operator.le, gast.Gt: operator.gt,
              gast.GtE: operator.ge}


def _evaluate(node: gast.expr):
    """The value of ``node``, a binary operation or a single comparison of two numbers, as
    Python computes it; None if that raises an ArithmeticError or a ValueError."""
    if isinstance(node, gast.BinOp):
        compute, left, right = _OPERATORS.get(type(node.op)), node.left, node.right
    else:
        compute, left, right = _OPERATORS.get(type(node.ops[0])), node.left, \
            node.comparators[0]
    if compute is not None:
        try:
            return compute(left.value, right.value)
        except (ArithmeticError, ValueError):
            return None
    tree = ast.Expression(body=gast.gast_to_ast(copy.deepcopy(node)))  # any other operation
    try:
        return eval(compile(ast.fix_missing_locations(tree), "<fold>", "eval"))  # noqa: S307
    except (ArithmeticError, ValueError):
        return None


# ---------------------------------------------------------------------- temporaries



def _single_assign(stmt: gast.stmt) -> tuple[str, gast.expr] | None:
    if type(stmt) is gast.Assign and len(stmt.targets) == 1 \
            and type(stmt.targets[0]) is gast.Name:
        return stmt.targets[0].id, stmt.value
    return None


def _inline_by_sweep(func: gast.FunctionDef, temps: set, tally: Tally) -> None:
    """Inline in each sweep separately: a temporary that the reverse sweep recomputes for
    itself counts, in the forward sweep, only the forward's uses (and the other way round)."""
    split = comment_at(func.body, "reverse sweep")
    if split is None:
        loads, _, writes = tally.counts([func])
        _inline_temporaries(func, loads, temps, tally, writes)
        return
    fwd = gast.Module(body=func.body[:split], type_ignores=[])
    rev = gast.Module(body=func.body[split:], type_ignores=[])
    tallies = {id(fwd): tally.counts(fwd.body)[:2], id(rev): tally.counts(rev.body)[:2]}
    redone = set(tallies[id(rev)][1])
    for part, other in ((fwd, rev), (rev, fwd)):
        loads, stores = (dict(c) for c in tallies[id(part)])
        for name, n in tallies[id(other)][0].items():
            if name not in redone:
                loads[name] = loads.get(name, 0) + n
        if part is rev:
            stores.update({k: v for k, v in tallies[id(fwd)][1].items() if k not in redone})
        _inline_temporaries(part, loads, temps, tally, stores)
    func.body = fwd.body + rev.body


def _inline_temporaries(func: gast.AST, counts: dict, temps: set, tally: Tally,
                        stores: dict) -> None:
    for owner, field in list(blocks(func)):
        block = getattr(owner, field)
        out: list = []
        for stmt in block:
            out.append(stmt)
            _absorb(out, counts, stores, temps, tally)
        setattr(owner, field, out)


def _absorb(out: list, counts: dict, stores: dict, temps: set, tally: Tally) -> None:
    """Inline into ``out[-1]`` the temporaries defined just before it that it alone uses."""
    stmt = out[-1]
    if type(stmt) in _BRANCHES or is_comment(stmt):
        return
    while len(out) > 1:
        at, popped = _before_pops(out)
        pair = _single_assign(out[at]) if at >= 0 else None
        if pair is None or pair[0] not in temps or counts.get(pair[0]) != 1 \
                or stores.get(pair[0]) != 1:
            return
        if popped and (pair[0] in popped or popped & _names(pair[1])):
            return  # a tape pop in between changes what the value reads
        loads, others, _ = tally.names(stmt)
        uses = loads.count(pair[0]) + others.count(pair[0])
        if uses != 1 or not (_movable(pair[1], stmt, pair[0]) and _inlinable_into(stmt, pair[0])
                             or _last_evaluated(stmt, pair[0], temps)):
            return
        _replace(stmt, pair[0], pair[1])
        tally.forget(stmt)
        del out[at]


def _before_pops(out: list) -> tuple[int, set]:
    """The position of the statement before ``out[-1]`` and the tape pops just before it
    (``_t4 = _pop()``: they only set their variable), and the variables those pops set."""
    at = len(out) - 2
    if at < 0 or not _is_pop(out[at]):
        return at, _NO_POPS  # (the common case)
    popped = set()
    while at >= 0 and _is_pop(out[at]):
        popped.add(out[at].targets[0].id)
        at -= 1
    return at, popped


_NO_POPS: frozenset = frozenset()
_BRANCHES = frozenset((gast.For, gast.While, gast.If))


def _is_pop(stmt: gast.stmt) -> bool:
    if type(stmt) is not gast.Assign:
        return False
    value = stmt.value
    return type(value) is gast.Call and type(value.func) is gast.Name \
        and value.func.id == "_pop" and not value.args and len(stmt.targets) == 1 \
        and type(stmt.targets[0]) is gast.Name and helper_call(value) == "_pop"


PURE_MODULES = {"math", "np"}
_EXPANDABLE = ("sum_vjp", "mean_vjp")  # see _movable


def _pure(value: gast.expr) -> bool:
    """No calls but to ``math``/``np`` functions: moving its evaluation changes nothing."""
    for node in parts(value):
        if isinstance(node, gast.Call):
            func = node.func
            if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)
                    and func.value.id in PURE_MODULES):
                return False
    return True


def _movable(value: gast.expr, stmt: gast.stmt, temp: str) -> bool:
    """May ``value`` be evaluated in place of ``temp`` in ``stmt``? When it is pure; or
    when it is a sum's adjoint of names (``sum_vjp(g, a, 1, False)``, which only makes a
    new array) and ``temp`` is an operand of arithmetic in a pure ``stmt``: there, the
    peephole pass makes it ``sum_expand`` (no array of copies)."""
    if _pure(value):
        return True
    if helper_call(value) not in _EXPANDABLE or not all(
            isinstance(a, (gast.Name, gast.Constant)) for a in value.args):
        return False
    if stmt.value is None or not calls_pure(stmt.value):
        return False
    return any(isinstance(n, gast.BinOp) and (_is_load_of(n.left, temp)
                                              or _is_load_of(n.right, temp))
               for n in parts(stmt.value))


def _inlinable_into(stmt: gast.stmt, temp: str) -> bool:
    if isinstance(stmt, gast.AugAssign):
        return temp not in _names(stmt.target)
    if isinstance(stmt, gast.Assign):
        return isinstance(stmt.targets[0], gast.Name)
    return isinstance(stmt, (gast.Expr, gast.Return))


def _last_evaluated(stmt: gast.stmt, temp: str, temps: set) -> bool:
    """Is ``temp`` the last temporary that ``stmt`` evaluates? Temporaries are used in the
    order they were made, so inlining the most recent one first keeps evaluation order."""
    if not isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return)) \
            or stmt.value is None:
        return False
    if isinstance(stmt, gast.AugAssign) and temp in _names(stmt.target):
        return False
    if isinstance(stmt, gast.Assign) and not isinstance(stmt.targets[0], gast.Name):
        return False  # v[i] = ...: the target's index is evaluated after the value
    loads = [n.id for n in _evaluation_order(stmt.value) if n.id in temps]
    return bool(loads) and loads[-1] == temp


def _evaluation_order(node: gast.AST) -> list:
    """The Name loads of an expression in the order Python evaluates them."""
    if isinstance(node, gast.Name):
        return [node] if isinstance(node.ctx, gast.Load) else []
    if isinstance(node, gast.IfExp):
        return _evaluation_order(node.test)  # a branch runs only sometimes: not inlinable
    out: list = []
    for field in node._fields:
        value = getattr(node, field, None)
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, gast.AST):
                out += _evaluation_order(child)
    return out


def _replace(stmt: gast.stmt, name: str, value: gast.expr) -> None:
    """Put ``value`` (the same node) in place of every load of ``name`` under ``stmt``."""
    todo = [stmt]
    while todo:
        node = todo.pop()
        for field in name_fields(type(node)):  # (no Name under contexts and operators)
            child = getattr(node, field, None)
            if type(child) is list:
                for k, item in enumerate(child):
                    if _is_load_of(item, name):
                        child[k] = value
                    elif isinstance(item, gast.AST):
                        todo.append(item)
            elif _is_load_of(child, name):
                setattr(node, field, value)
            elif isinstance(child, gast.AST):
                todo.append(child)


def _is_load_of(node: object, name: str) -> bool:
    return type(node) is gast.Name and node.id == name and isinstance(node.ctx, gast.Load)


# ---------------------------------------------------------------------- adjoints

def forward_copies(func: gast.FunctionDef, counts: dict, temps: set, stores: dict,
                   tally: Tally) -> bool:
    """``b_t = n`` then uses of ``b_t`` while ``n`` keeps that value (in the same block):
    use ``n`` and drop the copy; ``n = b_t`` in between changes nothing and goes too.
    True if anything changed."""
    changed = False
    for owner, field in list(blocks(func)):
        block = getattr(owner, field)
        k = 0
        while k < len(block):
            pair = _single_assign(block[k])
            if pair and pair[0] in temps and isinstance(pair[1], gast.Name) \
                    and stores.get(pair[0]) == 1 and _forward_one(block, k, pair, counts,
                                                                  tally):
                del block[k]
                changed = True
                continue
            k += 1
    return changed


def _forward_one(block: list, k: int, pair: tuple, counts: dict, tally: Tally) -> bool:
    name, source = pair[0], pair[1].id
    uses, no_ops, seen = [], [], 0
    for j in range(k + 1, len(block)):
        stmt = block[j]
        if seen == counts.get(name, 0):
            break
        same = _single_assign(stmt)
        if same and same[0] == source and isinstance(same[1], gast.Name) \
                and same[1].id == name:
            no_ops.append(j)  # n = b_t: n keeps its value
            seen += 1
            continue
        loads, _, writes = tally.names(stmt)
        here = loads.count(name)
        if here and isinstance(stmt, (gast.For, gast.While, gast.If)):
            return False
        seen += here
        if here:
            uses.append(j)
        if source in writes or isinstance(stmt, (gast.For, gast.While, gast.If)):
            break  # n changes (its reads here were before the write)
    if seen != counts.get(name, 0):
        return False
    for j in uses:
        _replace(block[j], name, gast.Name(id=source, ctx=gast.Load(), annotation=None,
                                           type_comment=None))
        tally.forget(block[j])
    for j in reversed(no_ops):
        del block[j]
    return True


def zero_writes(func: gast.FunctionDef, arrays: bool, tally: Tally | None = None) -> None:
    """First writes as assignments: ``bx = 0.0`` then ``bx += e`` in one block is ``bx =
    e`` (the zero goes), then ``bx += e`` wherever ``bx`` is known to be zero (loops)."""
    tally = tally if tally is not None else Tally()
    for owner, field in list(blocks(func)):
        first_writes(getattr(owner, field), arrays, tally)
    try:
        for owner, _ in list(blocks(func)):
            if isinstance(owner, gast.FunctionDef):
                loop_first_writes(owner.body, arrays, tally)
    finally:
        _JUMPS.clear()
        _STORED.clear()


def _drop_dead_resets(func: gast.FunctionDef, tally: Tally) -> None:
    """A loop body's ``bx = 0.0`` that nothing reads goes: nothing after it in the body
    mentions ``bx``, the body's first mention of ``bx`` sets it without reading it, and
    nothing outside the loop mentions it but statements before the outermost loop. (Every
    way on from the reset, the next iteration or after the loop, then sets ``bx`` first.)"""
    for k, outer in enumerate(func.body):
        if isinstance(outer, (gast.For, gast.While)):
            loops = [n for n in statements(outer) if isinstance(n, (gast.For, gast.While))
                     and any(_is_reset(s) for s in n.body)]
            if loops:
                loads, uses, _ = tally.counts(func.body[k + 1:])
                for loop in loops:
                    _drop_resets_in(loop, outer, set(loads) | set(uses), tally)


def _drop_resets_in(loop: gast.stmt, outer: gast.stmt, later: set, tally: Tally) -> None:
    if loop.orelse:
        return
    body = loop.body
    for stmt in [s for s in reversed(body) if _is_reset(s)]:
        ident = stmt.targets[0].id
        if ident not in later and _dead_reset(body, body.index(stmt), ident, outer, loop,
                                              tally):
            j = body.index(stmt)
            del body[j]
            if 0 < j and is_comment(body[j - 1]) and len(body) > 1 \
                    and (j == len(body) or is_comment(body[j])):
                del body[j - 1]  # its "# line N" heads nothing now


def _is_reset(stmt: gast.stmt) -> bool:
    """``bx = 0.0`` for an adjoint ``bx``."""
    pair = _single_assign(stmt)
    return bool(pair) and _is_zero(pair[1]) and pair[0].startswith("b")


def _dead_reset(body: list, j: int, ident: str, outer: gast.stmt, loop: gast.stmt,
                tally: Tally) -> bool:
    if any(_mentions(s, ident, tally) for s in body[j + 1:]) \
            or _mention_count(outer, ident, tally) != _mention_count(loop, ident, tally):
        return False
    first = next(s for s in body if _mentions(s, ident, tally))
    sets = _single_assign(first)
    return first is not body[j] and bool(sets) and sets[0] == ident \
        and ident not in tally.names(first)[0]


def _mentions(stmt: gast.stmt, ident: str, tally: Tally) -> bool:
    loads, uses, _ = tally.names(stmt)
    return ident in loads or ident in uses


def _mention_count(stmt: gast.stmt, ident: str, tally: Tally) -> int:
    loads, uses, _ = tally.names(stmt)
    return loads.count(ident) + uses.count(ident)


def first_writes(block: list, arrays: bool, tally: Tally) -> None:
    """``bx = 0.0`` ... ``bx += e`` (first use, same block) is ``bx = e``."""
    if not any(_single_assign(s) and _is_zero(s.value) for s in block):
        return
    mentions: list = [None] * len(block)  # (loads, other uses) of each statement, once asked
    k = 0
    while k < len(block):
        pair = _single_assign(block[k])
        if pair and _is_zero(pair[1]) and pair[0].startswith("b"):
            hit = _first_use(block, k, pair[0], arrays, mentions, tally)
            if hit is not None:
                target = block[hit]
                block[hit] = copy_location(gast.Assign(
                    targets=[target.target], value=target.value, type_comment=None), target)
                del block[k]
                del mentions[k]
                continue
        k += 1


def loop_first_writes(block: list, arrays: bool, tally: Tally,
                      zero: frozenset = frozenset()) -> None:
    """``bx += e`` where ``bx`` is known to be zero is ``bx = e``: after ``bx = 0.0`` in an
    enclosing block, also in loops whose iterations all leave ``bx`` at zero again (the body
    ends with ``bx = 0.0``, or with a loop that does), at any depth. ``zero``: the adjoints
    known to be zero on entry to ``block``."""
    known = set(zero)
    for k, stmt in enumerate(block):
        pair = _single_assign(stmt)
        if pair and _is_zero(pair[1]) and pair[0].startswith("b"):
            known.add(pair[0])
        elif known and _zero_use(stmt, known, arrays, tally):
            block[k] = copy_location(gast.Assign(
                targets=[stmt.target], value=stmt.value, type_comment=None), stmt)
            known.discard(stmt.target.id)
        elif known and _zero_add(stmt, known) is not None:
            stmt.value = _zero_add(stmt, known)
            tally.forget(stmt)  # it no longer reads bx
            known.discard(stmt.targets[0].id)
        elif isinstance(stmt, (gast.For, gast.While)):
            entry = _zero_each_iteration(stmt, known, tally)
            loop_first_writes(stmt.body, arrays, tally, frozenset(entry))
            known = _zero_after_loop(stmt, known, entry, tally)
        elif isinstance(stmt, gast.If):
            loop_first_writes(stmt.body, arrays, tally, frozenset(known))
            loop_first_writes(stmt.orelse, arrays, tally, frozenset(known))
            known = _zero_after(stmt.body, known, tally) & _zero_after(stmt.orelse, known,
                                                                      tally)
        elif known:
            known -= _stored_names(stmt, tally)


def _zero_use(stmt: gast.stmt, known: set, arrays: bool, tally: Tally) -> bool:
    return isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add) \
        and type(stmt.target) is gast.Name and stmt.target.id in known \
        and stmt.target.id not in tally.names(stmt)[0] \
        and not (arrays and isinstance(stmt.value, (gast.Name, gast.Subscript)))


def _zero_add(stmt: gast.stmt, known: set) -> gast.expr | None:
    """``e`` of ``bx = add(bx, e)`` when ``bx`` is zero and ``e`` is a call of a helper
    that makes a new value (``add`` would only copy it)."""
    pair = _single_assign(stmt)
    if pair is None or pair[0] not in known:
        return None
    value = pair[1]
    if not (isinstance(value, gast.Call) and helper_call(value) == "add" and len(value.args) == 2
            and type(value.args[0]) is gast.Name and value.args[0].id == pair[0]):
        return None
    term = value.args[1]
    if isinstance(term, gast.Call) and helper_call(term) in FRESH \
            and pair[0] not in _names(term):
        return term
    return None


def _stored_names(stmt: gast.AST, tally: Tally) -> set:
    """The names ``stmt`` writes (or deletes, or binds as parameters); not to be changed. A
    loop's or branch's are found once in ``loop_first_writes``: its rewrites (``bx += e`` as
    ``bx = e``, a value that no longer reads ``bx``) change what statements read only."""
    if type(stmt) not in _BRANCHES:
        return set(tally.names(stmt)[1])
    hit = _STORED.get(id(stmt))
    if hit is None or hit[0] is not stmt:
        hit = _STORED[id(stmt)] = (stmt, set(tally.names(stmt)[1]))
    return hit[1]


_STORED: dict = {}  # id(loop or branch) -> (it, the names it stores), in zero_writes


def _zero_after(block: list, zero: set, tally: Tally) -> set:
    """The adjoints known to be zero after ``block``, given ``zero`` before it."""
    known = set(zero)
    for stmt in block:
        pair = _single_assign(stmt)
        if pair and _is_zero(pair[1]) and pair[0].startswith("b"):
            known.add(pair[0])
        elif isinstance(stmt, (gast.For, gast.While)):
            known = _zero_after_loop(stmt, known, _zero_each_iteration(stmt, known, tally),
                                     tally)
        elif isinstance(stmt, gast.If):
            known = _zero_after(stmt.body, known, tally) & _zero_after(stmt.orelse, known,
                                                                      tally)
        elif known:
            known -= _stored_names(stmt, tally)
    return known


_JUMPS: dict = {}  # id(loop) -> (loop, has a break, continue or else): asked repeatedly


def _jumps(loop: gast.stmt) -> bool:
    """Can an iteration end without reaching the end of the body (or the loop's else)?"""
    hit = _JUMPS.get(id(loop))
    if hit is None or hit[0] is not loop:
        jumps = bool(loop.orelse) or any(isinstance(n, (gast.Break, gast.Continue))
                                         for n in statements(loop))
        hit = _JUMPS[id(loop)] = (loop, jumps)
    return hit[1]


def _zero_each_iteration(loop: gast.stmt, known: set, tally: Tally) -> set:
    """The adjoints zero at the start of every iteration: zero before the loop, and zero
    again at the end of the body (a fixpoint), with no jump that could skip the end."""
    stored = _stored_names(loop, tally) if known else set()
    if not known & stored:
        return set(known)  # nothing known to be zero changes in the loop
    if _jumps(loop):
        return known - stored
    entry = set(known)
    while True:
        kept = entry & _zero_after(loop.body, entry, tally)
        kept |= known - stored
        if kept == entry:
            return entry
        entry = kept


def _zero_after_loop(loop: gast.stmt, known: set, entry: set, tally: Tally) -> set:
    """After the loop: what every iteration leaves at zero (or the loop never ran)."""
    stored = _stored_names(loop, tally) if known else set()
    if not known & stored:
        return set(known)
    if _jumps(loop):
        return known - stored
    return (known - stored) | (entry & _zero_after(loop.body, entry, tally) & known)


def _first_use(block: list, k: int, name: str, arrays: bool, mentions: list,
               tally: Tally) -> int | None:
    for j in range(k + 1, len(block)):
        stmt = block[j]
        if mentions[j] is None:
            mentions[j] = tally.names(stmt)[:2]
        if name not in mentions[j][0] and name not in mentions[j][1]:
            continue
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add) \
                and isinstance(stmt.target, gast.Name) and stmt.target.id == name \
                and not any(n.id == name for n in name_nodes(stmt.value)) \
                and not (arrays and isinstance(stmt.value, (gast.Name, gast.Subscript))):
            return j
        return None
    return None


def _is_zero(node: gast.expr) -> bool:
    return isinstance(node, gast.Constant) and node.value == 0.0 and type(node.value) is float
