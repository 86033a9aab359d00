"""Items: a list item read once per block, and an adjoint item changed once per block.

Input: a finished scalar-mode adjoint. Output: the same function where, in each block of
straight-line statements inside a loop (where it pays),

* **an item already read is reused**: after ``_t5 = x[i]``, a later ``x[i]`` is ``_t5``
  as long as nothing in between assigns ``x``, ``i`` or ``_t5``, changes a list in place
  (other than an adjoint of ours, which is never one of your lists) or calls anything but
  ``math``/NumPy functions and our pure helpers;
* **two updates of one adjoint item are one**: ``bx[i] -= a`` ... ``bx[i] -= b`` is
  ``bx[i] -= a + b`` at the second place, when nothing in between reads ``bx`` or assigns
  a name the first update reads (the same sum, added in another order: equal up to
  rounding);
* **an adjoint copy read once is forwarded**: ``bc = bp; bp = bp * x; g[k] += bc`` is
  ``g[k] += bp; bp = bp * x``: the reader reads the source, moved up before the source
  changes when nothing in between reads or writes what it writes or writes what it reads
  (your own variables keep their names); a loop body's first ``# line N`` comment that
  the move leaves repeating the comment above the loop goes.

This is what a hand-written loop body does with ``x[i]`` read three times and two
partials of one term for the same item (Rosenbrock's function).

>>> from ast_ad.source import to_source
>>> from ast_ad.templates import parse_generated
>>> src = '''def f(x, bx, n):
...     for i in range(n):
...         t = x[i]
...         u = 1.0 - x[i]
...         bx[i] -= 2.0 * u
...         v = 3.0 * t
...         bx[i] -= v * t'''
>>> print(to_source(items(parse_generated(src, set()), {"bx"})), end="")
def f(x, bx, n):
    for i in range(n):
        t = x[i]
        u = 1.0 - t
        v = 3.0 * t
        bx[i] -= 2.0 * u + v * t
"""
from __future__ import annotations

import gast

from ..analysis.sharing import pure_call
from ..source import is_comment
from ..templates import name
from ..walk import name_nodes, node_fields, parts, statements
from ..walk import names as _names
from ..walk import walk as fast_walk

COMPOUND = (gast.For, gast.While, gast.If, gast.With, gast.Try)


def items(func: gast.FunctionDef, adjoints: set) -> gast.FunctionDef:
    """Reuse item reads and merge item updates in every block (see above). ``adjoints``:
    the adjoint variables' names (their lists are ours)."""
    loads = None
    unread: set = set()  # adjoint copies forwarded: nothing reads them any more
    for block in _loop_blocks(func.body, False, []):
        if _repeats(block):
            _reuse_reads(block, adjoints)
            _merge_updates(block)
        if any(_copy_of_adjoint(stmt, adjoints) for stmt in block):
            if loads is None:
                loads = _loads(func)
            unread |= _forward_copies(block, loads, adjoints)
    if unread:  # their top-level zero starts (bk4y = 0.0) go too
        func.body = [s for s in func.body if not (
            type(s) is gast.Assign and len(s.targets) == 1 and type(s.targets[0]) is gast.Name
            and s.targets[0].id in unread and type(s.value) is gast.Constant)]
        _repeated_headings(func)
    return func


def _repeated_headings(func: gast.FunctionDef) -> None:
    """A loop body's first comment that repeats the comment just above the loop (``# line
    36: for c in coeffs:`` above and inside Horner's inner reverse loop) goes."""
    for block in [func.body] + _loop_blocks(func.body, False, []):
        for k in range(1, len(block)):
            loop, above = block[k], block[k - 1]
            if isinstance(loop, (gast.For, gast.While)) and is_comment(above) \
                    and len(loop.body) > 1 and is_comment(loop.body[0]) \
                    and loop.body[0].value.args[0].value == above.value.args[0].value:
                del loop.body[0]


def _loop_blocks(block: list, in_loop: bool, out: list) -> list:
    """The statement lists inside loops (a loop's body, and the blocks nested in it)."""
    for stmt in block:
        if isinstance(stmt, COMPOUND):
            inner = in_loop or isinstance(stmt, (gast.For, gast.While))
            for field in ("body", "orelse"):
                sub = getattr(stmt, field, None)
                if isinstance(sub, list) and sub:
                    if inner:
                        out.append(sub)
                    _loop_blocks(sub, inner, out)
    return out


def _copy_of_adjoint(stmt: gast.stmt, adjoints: set) -> bool:
    """``ba = b`` for an adjoint ``ba``."""
    return type(stmt) is gast.Assign and len(stmt.targets) == 1 \
        and type(stmt.targets[0]) is gast.Name and type(stmt.value) is gast.Name \
        and stmt.targets[0].id != stmt.value.id and stmt.targets[0].id in adjoints


def _loads(func: gast.FunctionDef) -> dict:
    """How many times each name is read (``a += e`` reads ``a`` too)."""
    out: dict = {}
    for node in name_nodes(func):
        if type(node.ctx) is gast.Load:
            out[node.id] = out.get(node.id, 0) + 1
    for stmt in statements(func):
        if type(stmt) is gast.AugAssign and type(stmt.target) is gast.Name:
            out[stmt.target.id] = out.get(stmt.target.id, 0) + 1
    return out


def _root(target: gast.expr) -> gast.expr:
    """The base of ``x[i].a[j]``: ``x``."""
    while type(target) in (gast.Subscript, gast.Attribute):
        target = target.value
    return target


def _reads_writes(stmt: gast.stmt) -> tuple[set, set]:
    """The names ``stmt`` reads and the names it stores (a subscript store counts as a
    store of its list)."""
    reads, writes = set(), set()
    for node in parts(stmt):
        if type(node) is gast.Name:
            (reads if type(node.ctx) is gast.Load else writes).add(node.id)
        elif type(node) in (gast.Subscript, gast.Attribute) and type(node.ctx) is not gast.Load:
            root = _root(node)
            if type(root) is gast.Name:
                writes.add(root.id)
    if type(stmt) is gast.AugAssign:
        reads |= writes
    return reads, writes


def _forward_copies(block: list, loads: dict, adjoints: set) -> set:
    """``ba = b`` (an adjoint: your variables keep their names) whose one read is a later
    statement: that statement reads ``b`` instead,
    moved up before anything in between that changes ``b`` when nothing in between reads
    or writes what it writes or writes what it reads (``bc = bp; bp = bp * x; g[k] += bc``
    is ``g[k] += bp; bp = bp * x``). The names of the copies forwarded (none of their
    reads is left)."""
    forwarded = set()
    k = 0
    while k < len(block):
        stmt = block[k]
        if _copy_of_adjoint(stmt, adjoints) and (
                _forward_all(block, k, stmt.targets[0].id, stmt.value.id, loads)
                or loads.get(stmt.targets[0].id) == 1
                and _forward_copy(block, k, stmt.targets[0].id, stmt.value.id)):
            forwarded.add(stmt.targets[0].id)
            continue
        k += 1
    return forwarded


def _forward_all(block: list, k: int, copy: str, source: str, loads: dict) -> bool:
    """``ba = b`` whose reads all come later in the block, before anything changes ``b`` or
    ``ba``: they read ``b``, and the copy goes (``bk4y = b_t65`` read three times)."""
    nodes, last = [], None
    for j in range(k + 1, len(block)):
        here = [n for n in parts(block[j]) if type(n) is gast.Name and n.id == copy
                and type(n.ctx) is gast.Load]
        if here:
            nodes += here
            last = j
        if len(nodes) == loads.get(copy):
            break
    if last is None or len(nodes) != loads.get(copy) or isinstance(block[last], COMPOUND):
        return False
    for j in range(k + 1, last + 1):
        written = _reads_writes(block[j])[1]
        if copy in written or (source in written and j < last):
            return False
    for node in nodes:
        node.id = source
    del block[k]
    return True


def _forward_copy(block: list, k: int, copy: str, source: str) -> bool:
    """The single read of ``copy``, moved up before the change of ``source`` that comes
    before it (the case without a change is :func:`_forward_all`'s)."""
    use = next((j for j in range(k + 1, len(block))
                if copy in _reads_writes(block[j])[0]), None)
    if use is None or not isinstance(block[use], (gast.Assign, gast.AugAssign)) \
            or any(isinstance(s, COMPOUND) or copy in _reads_writes(s)[1]
                   for s in block[k + 1:use + 1]):
        return False
    changes = next((j for j in range(k + 1, use) if source in _reads_writes(block[j])[1]),
                   use)
    if changes == use:
        return False
    reads, writes = _reads_writes(block[use])
    for between in block[changes:use]:
        if is_comment(between):
            continue
        their_reads, their_writes = _reads_writes(between)
        if their_writes & reads or writes & (their_reads | their_writes) \
                or _calls(between) or _calls(block[use]):
            return False
    read = [n for n in parts(block[use]) if type(n) is gast.Name and n.id == copy]
    if len(read) != 1:
        return False
    read[0].id = source  # the one read of the copy reads its source
    start = use - 1 if is_comment(block[use - 1]) and use - 1 > changes else use
    moved = block[start:use + 1]  # with its line comment, if it has one of its own
    del block[start:use + 1]
    del block[k]
    at = changes - 1  # (the copy is gone)
    while at > k and is_comment(block[at - 1]):
        at -= 1  # before the line comment of what it jumps over
    if at == k and k > 0 and is_comment(block[k - 1]):
        at -= 1  # the copy's line comment labels what it jumps over too
    block[at:at] = moved
    return True


def _calls(stmt: gast.stmt) -> bool:
    return any(type(n) is gast.Call and not pure_call(n) for n in parts(stmt))


def _repeats(block: list) -> bool:
    """Does an item appear in two statements of the block (a quick look first)?"""
    seen: set = set()
    for stmt in block:
        if isinstance(stmt, COMPOUND):
            continue
        keys = {_key(n) for n in parts(stmt) if type(n) is gast.Subscript} - {None}
        if keys & seen:
            return True
        seen |= keys
    return False


def _key(node: gast.expr) -> tuple | None:
    """``(base, index)`` for ``x[i]`` or ``x[3]`` with a name for a base."""
    if type(node) is gast.Subscript and type(node.value) is gast.Name and (
            type(node.slice) is gast.Name
            or (type(node.slice) is gast.Constant and type(node.slice.value) is int)):
        index = node.slice.id if type(node.slice) is gast.Name else node.slice.value
        return node.value.id, index
    return None


def _disturbs(stmt: gast.stmt, adjoints: set) -> bool:
    """Could ``stmt`` change a list item other than an adjoint's (or do anything unknown)?"""
    if isinstance(stmt, COMPOUND):
        return True
    for node in parts(stmt):
        if type(node) in (gast.Subscript, gast.Attribute) and type(node.ctx) is not gast.Load:
            root = _root(node)
            if type(root) is not gast.Name or root.id not in adjoints:
                return True
    return _calls(stmt)


def _reuse_reads(block: list, adjoints: set) -> None:
    known: dict = {}  # (base, index) -> the name holding that item
    for stmt in block:
        if known and not isinstance(stmt, COMPOUND) and not is_comment(stmt):
            _replace_reads(stmt, known)
        if _disturbs(stmt, adjoints):
            known.clear()
            continue
        stored = _reads_writes(stmt)[1]  # names, and lists stored into
        known = {k: v for k, v in known.items()
                 if v not in stored and k[0] not in stored and k[1] not in stored}
        if type(stmt) is gast.Assign and len(stmt.targets) == 1 \
                and type(stmt.targets[0]) is gast.Name:
            key = _key(stmt.value)
            if key is not None and stmt.targets[0].id not in key:
                known[key] = stmt.targets[0].id


def _replace_reads(stmt: gast.stmt, known: dict) -> None:
    for node in fast_walk(stmt):
        for field in node_fields(type(node)):
            child = getattr(node, field)
            if type(child) is gast.Subscript and type(child.ctx) is gast.Load \
                    and _key(child) in known:
                setattr(node, field, name(known[_key(child)]))
            elif type(child) is list:
                for k, item in enumerate(child):
                    if type(item) is gast.Subscript and type(item.ctx) is gast.Load \
                            and _key(item) in known:
                        child[k] = name(known[_key(item)])


def _merge_updates(block: list) -> None:
    k = 0
    while k < len(block):
        first = block[k]
        key = _update_key(first)
        if key is not None:
            j = _next_update(block, k, key, first)
            if j is not None:
                second = block[j]
                op = gast.Add() if type(first.op) is type(second.op) else gast.Sub()
                second.value = gast.BinOp(left=first.value, op=op, right=second.value)
                if type(first.op) is not type(second.op):
                    second.op = first.op
                del block[k]
                continue
        k += 1


def _update_key(stmt: gast.stmt) -> tuple | None:
    if type(stmt) is gast.AugAssign and type(stmt.op) in (gast.Add, gast.Sub):
        return _key(stmt.target)
    return None


def _next_update(block: list, k: int, key: tuple, first: gast.AugAssign) -> int | None:
    """The position of the next update of the same item, if nothing between reads the
    list or assigns what the first update reads, and the next update's value does not read
    the list (it would see the first update's result)."""
    reads = _names(first.value) | {key[0]}
    if type(key[1]) is str:
        reads.add(key[1])
    for j in range(k + 1, len(block)):
        stmt = block[j]
        if _update_key(stmt) == key:
            return None if key[0] in _names(stmt.value) else j
        if isinstance(stmt, COMPOUND) or _reads_writes(stmt)[1] & reads \
                or key[0] in _names(stmt) or _calls(stmt):
            return None
    return None
