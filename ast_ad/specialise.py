"""Specialised adjoints: an array-mode adjoint's run-time shape checks, answered once.

Array-mode adjoints call helpers that look at their arguments' types, dtypes and shapes
on every call: ``reduce_to(g, x)`` returns ``g`` itself when it already has ``x``'s shape
and float dtype, ``matmul_vjp_b(g, a, b)`` is ``a.T @ g`` for float64 matrices, and so
on. When :func:`ast_ad.analysis.fixed.shapes_fixed` holds for the function, what those
checks find is the same on every call whose arguments have one *signature* (each array's
shape and dtype, each number's type, each integer's value).

So the third call with a signature (a function called once or twice pays nothing) runs a
*recording* copy of the adjoint, in which each helper call ``f(...)`` is
``_seen(k, f, ...)``: the same call, and a note of which of its cheaper forms applied at
site ``k`` (every time, in a loop). Then the sites where one did are rewritten (the forms
are in :mod:`ast_ad.forms`; the function's own ``np.sum`` / ``np.max`` ... calls are
sites too, ``_seen_call(k, np.sum, ...)``), the variables the reverse sweep then no
longer reads lose their tape traffic, and the result is compiled: the *specialised*
adjoint, which the later calls with that signature run. Its value and gradient are the
general adjoint's, bit for bit: each cheaper form is what the helper itself returns in
that case.

Input: a :class:`~ast_ad.pipeline.Transformation` with its ``specialisable`` part. Output:
functions.
"""
from __future__ import annotations

import threading
import types

import gast
import numpy as np

from .forms import CALL_NAMES, CALLS, EXTRA, FORMS, JOIN, LOOSE, STACK, is_value
from .nodes import make
from .passes.batch import share_rows
from .passes.simplify import forward_copies
from .pipeline import Transformation, compile_factory
from .runtime import numbers_only
from .source import comment_at, is_comment, to_source
from .tally import Tally
from .templates import HELPER, clone, helper_call
from .walk import blocks, name_nodes, walk

MAX_SIGNATURES = 8  # per function: more signatures run the general adjoint
RECORD_AT = 3  # the call with a signature that records (the earlier ones: general adjoint)
STRICT = False  # raise when making a specialised adjoint fails (else: the general one)


_NDARRAY, _FLOAT64 = np.ndarray, np.float64  # (module constants: read on every call)


def call_key(args: tuple) -> tuple:
    """``(mode, key)`` of a call's positional arguments, in one pass. ``mode``: array mode
    for floats, ints, float arrays and lists of plain numbers (the common calls), None for
    anything else (the full checks decide, and refuse integer arrays). ``key``: the
    argument *signature*, each array's shape and dtype, each float's type, each integer's
    value; None if an argument is anything else (a list, a NumPy subclass, ...)."""
    arrays, known, key = False, True, []
    for value in args:
        kind = type(value)
        if kind is float:  # (the commonest arguments first: this runs on every call)
            if key is not None:
                key.append(float)
        elif kind is _NDARRAY:
            dtype = value.dtype
            arrays = True
            known = known and dtype.kind == "f"
            if key is not None:
                key += (value.shape, dtype)
        elif kind is int:
            if key is not None:
                key.append(value)
        elif kind is bool or kind is _FLOAT64:
            known = False
            if key is not None:
                key.append((kind, value) if kind is bool else kind)
        elif (kind is list or kind is tuple) and numbers_only(value):
            key = None
        else:
            return None, None
    return (arrays if known else None), (None if key is None else tuple(key))


def needs_met(args: tuple, needs: dict) -> bool:
    """Is each argument the function reads as a count or an index (``needs``, from the
    analysis) an int (or, for an index, an integer array)?"""
    for position, need in needs.items():
        if position >= len(args):
            return False
        kind = type(args[position])
        if not (kind is int or kind is bool or need == "index" and kind is np.ndarray
                and args[position].dtype.kind in "iu"):
            return False
    return True


def signature(args: tuple, needs: dict | None = None) -> tuple | None:
    """The key under which a call with ``args`` finds its specialised adjoint; None if
    it has none (see :func:`call_key` and :func:`needs_met`)."""
    key = call_key(args)[1]
    return key if key is not None and (not needs or needs_met(args, needs)) else None


# ------------------------------------------------------------------ the sites and their forms

_SEEN = "_seen"  # the recording adjoint's name for its note-taking wrapper
_SEEN_CALL = "_seen_call"  # the same for a call of NumPy's (``forms.CALLS``)
_SIMPLE = (gast.Name, gast.Constant)
MAKERS = frozenset({STACK, JOIN})  # the forms' calls that make one array of a list


def _pure(node: gast.expr, injected: dict) -> bool:
    """A name, a constant, or a tuple of them and of ``slice(...)`` (an index path):
    nothing that evaluating, or not, could change."""
    kind = type(node)
    if kind in _SIMPLE:
        return True
    if kind is gast.Tuple:
        return all(_pure(e, injected) for e in node.elts)
    return kind is gast.Call and type(node.func) is gast.Name and not node.keywords \
        and getattr(node.func, HELPER, False) and injected.get(node.func.id, slice) is slice \
        and all(_pure(a, injected) for a in node.args)


def sites(funcs: list, injected: dict) -> list[gast.Call]:
    """The calls of helpers in :data:`FORMS`, each after the ones inside it, in a fixed
    order: positional arguments only, those a cheaper form may leave out or move names,
    constants or index paths (``forms.LOOSE``)."""
    out = []
    for func in funcs:
        for node in walk(func):
            if type(node) is gast.Call and type(node.func) is gast.Name \
                    and injected.get(node.func.id) in FORMS and not node.keywords \
                    and node.args and all(type(a) is not gast.Starred for a in node.args) \
                    and all(_pure(node.args[k], injected)
                            for k in LOOSE[injected[node.func.id]] if k < len(node.args)):
                out.append(node)
    return out[::-1]  # (the walk gives a call before the calls in its arguments)


def call_sites(funcs: list, injected: dict) -> list[gast.Call]:
    """The calls that may be of a function in :data:`forms.CALLS` (``np.sum(...)``,
    ``sum(...)``: by the name called; the recording looks at the function itself), not
    of a helper, without ``*`` or ``**`` arguments."""
    out = []
    for func in funcs:
        for node in walk(func):
            if type(node) is not gast.Call:
                continue
            callee = node.func
            called = callee.attr if type(callee) is gast.Attribute else \
                callee.id if type(callee) is gast.Name and callee.id not in injected else None
            if called in CALL_NAMES and all(type(a) is not gast.Starred for a in node.args) \
                    and all(k.arg is not None for k in node.keywords):
                out.append(node)
    return out


class Specialiser:
    """The specialised adjoints of one transformation for one user function."""

    def __init__(self, transformation: Transformation, fn: types.FunctionType) -> None:
        self.t, self.fn = transformation, fn
        self.info = transformation.specialisable
        self.functions: dict = {}   # signature -> specialised adjoint (or the general one)
        self.calls: dict = {}       # signature -> calls so far, until it is specialised
        self._recording = None      # (trees with numbered sites, recording adjoint)
        self._facts = threading.local()  # what the recording adjoint notes, per thread

    def call(self, key: tuple, general, args: tuple):
        """The adjoint's result for ``args`` (signature ``key``): the general adjoint's
        until the signature's ``RECORD_AT``-th call, which runs the recording adjoint and
        then specialises. No lock: threads that specialise at once make equal functions,
        and the last one is kept. Should making one fail (a bug of ours), the general
        adjoint answers and is kept for the signature; ``STRICT`` (the tests set it)
        raises instead."""
        if len(self.functions) >= MAX_SIGNATURES:
            return general(*args)  # (and no more counting: the table stays bounded)
        count = self.calls[key] = self.calls.get(key, 0) + 1
        if count < RECORD_AT:
            return general(*args)
        self.calls.pop(key, None)  # (counted again if this call raises)
        try:
            trees, recording = self._recorder()
        except Exception:
            if STRICT:
                raise
            self.functions[key] = general
            return general(*args)
        facts = self._facts.facts = {}
        before_last = self._facts.before_last = {}
        result = recording(*args)  # (an error of the user's code is raised as usual)
        try:
            special = self._specialised(trees, facts, before_last)
            self.functions[key] = self._compile(special, EXTRA) if special is not None \
                else general
        except Exception:
            if STRICT:
                raise
            self.functions[key] = general
        return result

    def _recorder(self) -> tuple:
        """The trees with each site ``f(...)`` as ``_seen(k, f, ...)``, and their adjoint
        (made once: the same for every signature)."""
        if self._recording is None:
            trees = clone(self.info.trees)
            helpers = sites(trees, self.t.injected)
            calls = call_sites(trees, self.t.injected)
            for k, site in enumerate(helpers + calls):
                site.args = [make(gast.Constant, value=k, kind=None), site.func] + site.args
                site.func = make(gast.Name, id=_SEEN if k < len(helpers) else _SEEN_CALL,
                                 ctx=make(gast.Load), annotation=None, type_comment=None)
            seen, seen_call = _recorders(self._facts)
            self._recording = trees, self._compile(trees, {_SEEN: seen, _SEEN_CALL: seen_call})
        return self._recording

    def _specialised(self, trees: list, facts: dict, before_last: dict) -> list | None:
        """A copy of the recording trees with each site whose cheaper form held every time
        rewritten, and the others back as they were; None if there is none. A site whose
        last result is never read (:func:`_last_unread`) needs its form to have held every
        time but the last (``before_last``): a loss summed in a loop from ``0.0``, whose
        adjoint is a float64 but for the unread last one, a float."""
        injected = self.t.injected
        facts = dict(facts)
        for k, helper in _last_unread(trees).items():
            forms = FORMS[injected[helper]]
            if not facts.get(k):  # (only the form that keeps the value: it cannot raise)
                facts[k] = {i: detail for i, detail in (before_last.get(k) or {}).items()
                            if forms[i][0] is is_value}
        if not any(facts.values()):
            return None

        def swap(node, copy):
            if not (type(node) is gast.Call and type(node.func) is gast.Name
                    and node.func.id in (_SEEN, _SEEN_CALL)):
                return None
            k, helper, args = node.args[0].value, node.args[1], copy(node.args[2:])
            keywords = copy(node.keywords)
            held = facts.get(k)
            if held:
                first = min(held)
                if node.func.id == _SEEN_CALL:
                    called, detail = held[first]
                    return CALLS[called][first][1](args, keywords, detail)
                return FORMS[injected[helper.id]][first][1](args, held[first])
            return make(gast.Call, func=copy(helper), args=args, keywords=keywords)

        special = clone(trees, swap)
        for func in special:
            _drop_self_assignments(func)
            tally = Tally()  # ``b_t6 = b_t7`` left by a form: b_t7 is read instead
            loads, stores, _ = tally.counts([func])
            forward_copies(func, loads, self.info.temps, stores, tally)
            share_rows(func, MAKERS)  # (lists that forwarding made one)
            _drop_dead_tape(func)
        return special

    def _compile(self, trees: list, extra: dict | None = None):
        text = "\n\n".join(to_source(f).rstrip("\n") for f in trees) + "\n"
        named = {n.id for f in trees for n in name_nodes(f)}  # (the factory takes only those)
        injected = {k: v for k, v in dict(self.t.injected, **(extra or {})).items()
                    if k in named}
        filename = self.t.filename.replace("<ast_ad ", "<ast_ad specialised ", 1)
        codes = compile_factory(text, [f.name for f in trees], set(injected), self.fn,
                                filename)
        used = {v: injected[v] for c in codes for v in c.co_freevars if v in injected}
        done = Transformation(codes, text, filename, used, self.t.guards, True)
        return done.instantiate(self.fn)[0]


def _recorders(local: threading.local) -> tuple:
    """The recording adjoint's ``_seen(k, helper, ...)`` and ``_seen_call(k, f, ...)``: the
    call, and a note of the forms that applied (:func:`_note`)."""
    def _seen(k, helper, *args):
        result = helper(*args)
        local.before_last[k] = local.facts.get(k)
        _note(local.facts, k, FORMS[helper], result, args, {}, None)
        return result

    def _seen_call(k, f, /, *args, **keywords):
        result = f(*args, **keywords)
        called = next((c for c in CALLS if c is f), None)  # (f may not be hashable)
        _note(local.facts, k, CALLS.get(called, ()), result, args, keywords, called)
        return result
    return _seen, _seen_call


def _note(facts: dict, k: int, forms: tuple, result, args: tuple, keywords: dict,
          called: object) -> None:
    """``facts[k]``: the forms of site ``k`` that applied every time so far, each with its
    detail (and, for a NumPy call, the function called: the same every time)."""
    held = facts.get(k)
    if held is None or held:
        now = {}
        for i, (applies, _) in enumerate(forms):
            if held is None or i in held:
                detail = applies(result, *args, **keywords)
                noted = detail if called is None else (called, detail)
                if detail is not None and detail is not False \
                        and (held is None or held[i] == noted):
                    now[i] = noted
        facts[k] = now


def _last_unread(trees: list) -> dict:
    """The helper sites ``v = _seen(k, f, ...)`` whose last result is never read (k -> the
    name of ``f``): a statement
    of the body of a loop at the top of its function (no ``else``, no ``break``,
    ``continue`` or ``return`` in it: the site's last run is in the loop's last step),
    and ``v`` read neither by the statements after it in the body nor after the loop."""
    out = {}
    for func in trees:
        for at, loop in enumerate(func.body):
            if type(loop) is not gast.For or loop.orelse or any(
                    type(n) in (gast.Break, gast.Continue, gast.Return) for n in walk(loop)):
                continue
            after = func.body[at + 1:]
            for j, stmt in enumerate(loop.body):
                if type(stmt) is gast.Assign and len(stmt.targets) == 1 \
                        and type(stmt.targets[0]) is gast.Name \
                        and type(stmt.value) is gast.Call \
                        and type(stmt.value.func) is gast.Name \
                        and stmt.value.func.id == _SEEN \
                        and not _reads(loop.body[j + 1:] + after, stmt.targets[0].id):
                    out[stmt.value.args[0].value] = stmt.value.args[1].id
    return out


def _reads(stmts: list, ident: str) -> bool:
    return any(type(n) is gast.Name and n.id == ident and type(n.ctx) is gast.Load
               for s in stmts for n in walk(s))


def _drop_dead_tape(func: gast.FunctionDef) -> None:
    """A variable the reverse sweep no longer reads (a ``reduce_to`` that read its shape
    is gone) needs no tape: its pushes and pops go together (each pop takes what a push
    of the same variable put, so the others still pair up)."""
    split = comment_at(func.body, "reverse sweep")
    if split is None or not _plain_tape(func):
        return
    read = {n.id for s in func.body[split:] for n in name_nodes(s) if type(n.ctx) is gast.Load}
    dropped, kept_tape = set(), set()
    for owner, field in list(blocks(func)):
        kept = []
        for s in getattr(owner, field):
            variable = _tape_variable(s)
            if variable is None or variable in read:
                kept.append(s)
                kept_tape.add(variable)
            else:
                dropped.add(variable)
        setattr(owner, field, kept or [make(gast.Pass)])
    kept_tape.discard(None)
    _drop_tape_set_up(func, dropped - kept_tape, tape_used=bool(kept_tape))


def _drop_tape_set_up(func: gast.FunctionDef, gone: set, tape_used: bool) -> None:
    """Before the forward sweep: the ``v = None`` starts of variables no longer pushed
    (they were there for the first push), and the tape itself if nothing uses it."""
    start = comment_at(func.body, "forward sweep")
    if start is None:
        return
    setup = {"_tape", "_push", "_pop"}
    head = [s for s in func.body[:start] if not (
        type(s) is gast.Assign and len(s.targets) == 1 and type(s.targets[0]) is gast.Name
        and (s.targets[0].id in gone and type(s.value) is gast.Constant
             or not tape_used and s.targets[0].id in setup))
        and not (not tape_used and is_comment(s) and s.value.args[0].value.startswith("tape:"))]
    func.body[:start] = head


def _plain_tape(func: gast.FunctionDef) -> bool:
    """Is every use of the tape a ``_push(v)`` or ``v = _pop()`` statement (so that the
    pairs of a variable can go without unpairing others)?"""
    plain = {id(s.value) for owner, field in blocks(func) for s in getattr(owner, field)
             if _tape_variable(s) is not None}
    return all(id(node) in plain for node in walk(func)
               if helper_call(node) in ("_push", "_pop"))


def _tape_variable(stmt: gast.stmt) -> str | None:
    """``v`` of ``_push(v)`` or ``v = _pop()``; None for any other statement."""
    if type(stmt) is gast.Expr and helper_call(stmt.value) == "_push" \
            and len(stmt.value.args) == 1 and type(stmt.value.args[0]) is gast.Name:
        return stmt.value.args[0].id
    if type(stmt) is gast.Assign and len(stmt.targets) == 1 \
            and type(stmt.targets[0]) is gast.Name and helper_call(stmt.value) == "_pop" \
            and not stmt.value.args:
        return stmt.targets[0].id
    return None


def _drop_self_assignments(func: gast.FunctionDef) -> None:
    """``_t1 = _t1`` (a ``shape_only`` that kept its array) does nothing: it goes."""
    for owner, field in list(blocks(func)):
        kept = [s for s in getattr(owner, field) if is_comment(s) or not (
            type(s) is gast.Assign and len(s.targets) == 1 and type(s.targets[0]) is gast.Name
            and type(s.value) is gast.Name and s.targets[0].id == s.value.id)]
        setattr(owner, field, kept or [make(gast.Pass)])
