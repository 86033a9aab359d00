"""Specialised adjoints: which functions may have them (analysis/fixed.py), that each cheaper
form is what its helper returns, and that the wrapper uses them per argument signature
with the same bits as the general adjoint."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from fuzz_numpy import same_bits

import ast_ad
from ast_ad import npruntime, runtime, specialise
from ast_ad.forms import EXTRA, FORMS, LOOSE
from ast_ad.pipeline import transform
from ast_ad.source import to_source
from ast_ad.specialise import signature

# ------------------------------------------------------------------ analysis/fixed.py

GLOBAL_ROWS = np.ones((3, 2))


def mlp(W, b, X):
    h = np.tanh(X @ W + b)
    m = np.max(h, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(h - m), axis=1)) + m[:, 0])


def rnn(W, xs):
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h ** 2)


def rows_and_lists(W, X):
    out = []
    for row in X:
        out.append(np.sum(row * W[0]))
    y = np.stack(out)
    return np.sum(y[1:] ** 2) + np.mean(X.T @ X) * X.shape[1]


def constant_index_and_methods(W, X):
    idx = np.array([0, 2, 2, 1])
    y = X @ W
    y = y.copy()
    y = y.astype(float)
    return np.sum(y[idx] ** 2) + np.sum(y[np.arange(y.shape[0]) > 1])


def branch_on_a_shape(W, X):
    if X.shape[0] > 2:
        y = X @ W
    else:
        y = X * 2.0
    return np.sum(y)


def masked(W, X):
    y = X @ W
    return np.sum(y[y > 0.0])


def slice_from_data(W, X):
    k = int(np.sum(W) > 0.0) + 1
    return np.sum(X[:k] @ W)


def branch_on_data(W, X):
    y = X @ W
    if np.sum(y) > 0.0:
        y = y[:, None] * y
    return np.sum(y)


def axis_from_data(W, X):
    return np.sum(np.sum(X @ W, axis=int(W[0, 0] > 0.0)))


def index_argument(W, X, labels):
    return np.sum((X @ W)[labels])


def count_argument(W, X, n):
    y = X @ W
    for _ in range(n):
        y = np.tanh(y)
    return np.sum(y)


def global_array(W, X):
    return np.sum(X @ W) + np.sum(GLOBAL_ROWS)


def builtin_max(W, X):
    return max(0, np.sum(X @ W)) * 2.0


def fractional_power(W, X):
    return np.sum(X @ W) ** 0.5


def while_loop(W, X):
    y = X @ W
    while np.sum(y) > 1.0:
        y = y * 0.5
    return np.sum(y)


def _fixed(fn) -> bool:
    return transform(fn, (0,), "value_and_grad", array_mode=True).specialisable is not None


@pytest.mark.parametrize("fn", [mlp, rnn, rows_and_lists, branch_on_a_shape,
                                constant_index_and_methods])
def test_shapes_that_follow_from_the_arguments(fn) -> None:
    assert _fixed(fn)


@pytest.mark.parametrize("fn", [masked, slice_from_data, branch_on_data, axis_from_data,
                                global_array, builtin_max, fractional_power, while_loop])
def test_shapes_that_may_follow_from_the_data(fn) -> None:
    assert not _fixed(fn)


def reassigned_count(W, X, n):
    n = n + int(np.sum(W) > 0.0)
    return np.sum(X[:n] @ W)


@pytest.mark.parametrize("fn, needs", [(index_argument, {2: "index"}),
                                       (count_argument, {2: "int"})])
def test_a_parameter_read_as_a_count_or_an_index_is_needed_as_one(fn, needs) -> None:
    assert transform(fn, (0,), "value_and_grad", array_mode=True).specialisable.needs == needs
    assert not _fixed(reassigned_count)


def test_counts_and_integer_labels_are_specialised_by_value_and_dtype() -> None:
    r = np.random.default_rng(4)
    W, X = r.normal(size=(3, 4)), r.normal(size=(5, 3))
    labels = np.array([0, 3, 3, 1, 2])
    for fn, extra in ((index_argument, labels), (index_argument, 2), (count_argument, 2),
                      (count_argument, 3)):
        vg = ast_ad.value_and_grad(fn, wrt=(0, 1))
        for _ in range(4):
            got = vg(W, X, extra)
        assert vg.__ast_ad__._built[True][2].functions, fn.__name__
        want = ast_ad.value_and_grad(fn, wrt=(0, 1))(W, X, extra)
        assert same_bits(got, want)
    vg = ast_ad.value_and_grad(index_argument, wrt=(0, 1))
    mask = np.array([True, False, True, True, False])  # a mask: shapes from the data
    for _ in range(3):
        vg(W, X, mask)
    assert not vg.__ast_ad__._built[True][2].functions
    assert signature((W, X, 2.0), {2: "int"}) is None
    assert signature((W, X, labels.astype(float)), {2: "index"}) is None


def test_closures_and_scalar_mode_are_not_specialised() -> None:
    scale = np.ones(2)

    def closure(W, X):
        return np.sum(X @ W * scale)

    def plain(x, n):
        s = 0.0
        for i in range(n):
            s = s + x * i
        return s

    assert not _fixed(closure)
    assert transform(plain, (0,), "value_and_grad").specialisable is None  # no checks there


# ------------------------------------------------------------------ the cheaper forms

def _cases():
    """(helper, arguments) pairs for each form: some where its cheaper form applies, some
    where it does not."""
    r = np.random.default_rng(3)
    m, v, w = r.normal(size=(3, 4)), r.normal(size=4), r.normal(size=3)
    big = r.normal(size=(300, 300))
    return {
        npruntime.reduce_to: [(m, m.copy()), (m, v), (m, m.astype(np.float32)), (1.5, 2.0),
                              (np.float64(1.5), 2.0), (m, np.ones((3, 4), int)),
                              (m, np.ones((3, 1))), (r.normal(size=(2, 3, 4)), np.ones((1, 4))),
                              (m, np.ones(())), (m, 2.0), (m, np.float64(1.0))],
        npruntime.shape_only: [(m,), (big,), (1.5,)],
        runtime.like: [(m, m), (v, m), (1.5, 2.0), (0.0, m), (m.astype(np.float32), m)],
        npruntime.unbroadcast: [(m, m), (m, v), (m.astype(np.float32), m), (1.5, 2.0),
                                (m, np.ones((1, 4))), (r.normal(size=(2, 3, 4)), np.ones((3, 1))),
                                (m, 2.0), (m, np.float64(1.0)),
                                (np.float64(1.5), np.float64(2.0)), (1.5, np.float64(2.0))],
        npruntime.sum_expand: [(v, m, 0, False), (1.5, m, None, False),
                               (np.float64(1.5), m, None, False), (w, m, 1, False),
                               (1.5, m.astype(np.float32), None, False)],
        runtime.seed_scalar: [(1.5, "f"), (np.float64(2.0), "f"), (np.array(1.0), "f")],
        runtime.add_at: [(None, m, ((None, slice(None), slice(None)),), m[None] * 2.0),
                         (None, m, ((slice(None), None),), m[:, None] * 2.0),
                         (0.0, m, ((None, slice(None), slice(None)),), m[None] * 2.0),
                         (None, m, ((0,),), v)],
        npruntime.sum_vjp: [(1.5, m, None, False), (w, m, 1, False), (v, m, 0, False),
                            (1.5, [1.0, 2.0], None, False), (np.ones((3, 1)), m, 1, True),
                            (w, m.astype(np.float32), -1, False)],
        npruntime.mean_vjp: [(1.5, m, None, False), (np.float64(2.0), m, None, False),
                             (w, m, 1, False), (1.5, [1.0, 2.0], None, False)],
        npruntime.lazy_product: [(None, m, v), (m.copy(), m, v), (np.zeros(4), m, v),
                                 (None, big, big), (None, 2.0, m)],
        npruntime.reduce_product: [(m, m.copy()), (m, v), (m, m.copy(), v), (m, v, v),
                                   (npruntime.lazy_product(None, big, big), big[0])],
        npruntime.reduce_product_scaled: [(m, v, m), (m, v, v),
                                          (npruntime.lazy_product(None, big, big), big[0],
                                           big[0])],
        npruntime.reduce_scaled: [(m, m.copy(), m), (m, v, m), (2.0, m, m), (m, v, v),
                                  (r.normal(size=(2, 3, 4)), r.normal(size=(2, 3, 4)), m),
                                  (r.normal(size=(2, 3, 4)), np.ones((3, 1)), np.ones((3, 1))),
                                  (r.normal(size=(2, 3, 4)), m, m), (m, m, m.astype(np.float32))],
        npruntime.add_into: [(m.copy(), v), (big.copy(), big), (1.5, 2.0)],
        npruntime.sub_into: [(m.copy(), v), (big.copy(), big)],
        npruntime.mul_into: [(m.copy(), v), (big.copy(), big)],
        npruntime.div_into: [(m.copy(), v + 3.0), (big.copy(), big + 9.0)],
        runtime.add: [(m, m), (m, v), (1.5, 2.0), (0.0, m), ([1.0], [2.0]), (m, 1.0),
                      (0.0, np.array(1.5)), (0.0, np.ones(3, int))],
        npruntime.matmul_vjp_a: [(r.normal(size=(3, 5)), m, r.normal(size=(4, 5))),
                                 (w, m, v), (r.normal(size=5), v, r.normal(size=(4, 5))),
                                 (r.normal(size=(3, 5)).astype(np.float32), m,
                                  r.normal(size=(4, 5)))],
        npruntime.matmul_vjp_b: [(w, m, v), (r.normal(size=(3, 5)), m, r.normal(size=(4, 5))),
                                 (r.normal(size=(2, 3, 5)), m, r.normal(size=(2, 4, 5))),
                                 (w.astype(np.float32), m, v)],
        **{many: _many_cases(r, m, which) for many, which in (
            (npruntime.matmul_vjp_a_many, 0), (npruntime.dot_vjp_a_many, 0),
            (npruntime.matmul_vjp_b_many, 1), (npruntime.dot_vjp_b_many, 1))},
    }


def _many_cases(r, like, which: int) -> list:
    """(gs, others, like) for a ``*_many`` helper: vectors and matrices (stacked), and
    matrices that its reshapes would change, vectors and matrices mixed, mixed dtypes and no
    pairs (not)."""
    m, n = like.shape
    g_size, other_size = (m, n) if which == 0 else (n, m)

    def vectors(size, count=4, dtype=np.float64):
        return [r.normal(size=size).astype(dtype) for _ in range(count)]

    def matrices(size, count):  # (size, 2) for like @ other, (2, size) for other @ like
        return [r.normal(size=(size, 2) if which == 0 else (2, size)) for _ in range(count)]
    return [(vectors(g_size), vectors(other_size), like),
            (vectors(g_size, 1), vectors(other_size, 1), like),
            (vectors(g_size, 3, np.float32), vectors(other_size, 3, np.float32),
             like.astype(np.float32)),
            ([r.normal(size=(g_size, 2))], [r.normal(size=(other_size, 2))], like),
            (matrices(g_size, 3), matrices(other_size, 3), like),
            (matrices(g_size, 2) + vectors(g_size, 1), matrices(other_size, 2)
             + vectors(other_size, 1), like),
            (vectors(g_size, 2, np.float32), vectors(other_size, 2), like),
            ([], [], like)]


def _evaluate(form, args, detail):
    """The cheaper form's tree, built from Names for ``args``, evaluated on them."""
    import gast

    names = [f"a{k}" for k in range(len(args))]
    tree = form([gast.Name(id=n, ctx=gast.Load(), annotation=None, type_comment=None)
                 for n in names], detail)
    text = to_source(gast.Module(body=[gast.Expr(value=tree)], type_ignores=[])).strip()
    return eval(text, dict(EXTRA), dict(zip(names, args)))  # noqa: S307 - ours


def test_every_form_is_what_its_helper_returns() -> None:
    """For every cheaper form in FORMS: where its test says it applies, the form gives the
    helper's result (the same type, shape, dtype and bits); each form has cases on both
    sides, so a new form without cases fails."""
    cases = _cases()
    assert set(cases) == set(FORMS) == set(LOOSE)  # (a site asks LOOSE of every helper)
    for helper, forms in FORMS.items():
        for applies, form in forms:
            seen = set()
            for args in cases[helper]:
                fresh = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
                result = helper(*fresh)
                detail = applies(result, *fresh)  # as the recorder asks: after the call
                ok = detail is not None and detail is not False
                seen.add(ok)
                if ok:
                    cheaper = _evaluate(form, [a.copy() if isinstance(a, np.ndarray) else a
                                               for a in args], detail)
                    name = helper.__name__
                    assert type(cheaper) is type(result), name
                    assert np.shape(cheaper) == np.shape(result), name
                    assert np.asarray(cheaper).dtype == np.asarray(result).dtype, name
                    assert np.array_equal(cheaper, result), name
            assert seen == {True, False}, f"{helper.__name__}: cases on one side only"


class _Sub(np.ndarray):
    """An ndarray subclass with its own reductions, which NumPy's functions call."""

    def sum(self, *args, **keywords):
        return np.asarray(self).sum(*args, **keywords) + 1.0

    max = min = prod = sum


def _call_cases():
    """(args, keywords) for NumPy's reductions: ndarrays of several dtypes, shapes and axes
    (where the form applies), and a list, a subclass, a number and other keywords (where
    it does not)."""
    r = np.random.default_rng(3)
    a = r.normal(size=(3, 4, 2))
    arrays = [a, a.astype(np.float32), (a * 10).astype(np.int64), a[:, 1, :].T,
              np.asarray(2.5), r.normal(size=5) > 0, np.ones((0, 3)),
              np.array([2 ** 62, 2 ** 62, 3]), r.normal(size=(40, 3)).astype(np.float16)]
    out = []
    for x in arrays:
        out += [((x,), {}), ((x,), {"keepdims": True})]
        for axis in (0, -1, (0, 1))[:x.ndim]:
            out += [((x, axis), {}), ((x,), {"axis": axis}),
                    ((x,), {"axis": axis, "keepdims": True})]
    return out + [(([1.0, 3.0],), {}), ((a.view(_Sub),), {"axis": 1}), ((2.0,), {}),
                  ((a,), {"initial": 0.0}), ((a, 1), {"initial": 9.0, "where": a > 0})]


def _quiet_call(f, args, keywords):
    """``f(*args, **keywords)``, or None where NumPy refuses (the maximum of nothing,
    ``mean(initial=...)``)."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f(*args, **keywords)
    except (ValueError, TypeError):
        return None


def _check_call_form(form, args, keywords, detail, result, what) -> None:
    """The call form (built from Names) evaluated on ``args``: ``result``'s type, dtype,
    shape and bits."""
    import gast

    def load(ident):
        return gast.Name(id=ident, ctx=gast.Load(), annotation=None, type_comment=None)
    names = [f"a{k}" for k in range(len(args))]
    tree = form([load(n) for n in names],
                [gast.keyword(arg=k, value=load(k)) for k in keywords], detail)
    text = to_source(gast.Module(body=[gast.Expr(value=tree)], type_ignores=[])).strip()
    assert "_ast_ad_" in text and "np." not in text, text
    got = eval(text, dict(EXTRA), dict(zip(names, args), **keywords))  # noqa: S307 - ours
    assert type(got) is type(result) and got.dtype == result.dtype, (what, text)
    assert np.shape(got) == np.shape(result), (what, text)
    assert same_bits(got, result), (what, text)


def test_every_numpy_call_form_is_the_call() -> None:
    """For every NumPy function in ``forms.CALLS``: where its test says the form applies,
    the form (built from Names, with ``axis`` written or not) gives the call's result, the
    same type, dtype, shape and bits; cases on both sides."""
    from ast_ad.forms import CALLS

    for func, forms in CALLS.items():
        for applies, form in forms:
            seen = set()
            for args, keywords in _call_cases():
                result = _quiet_call(func, args, keywords)
                if result is None:
                    continue
                detail = applies(result, *args, **keywords)
                ok = detail is not None and detail is not False
                seen.add(ok)
                if ok:
                    _check_call_form(form, args, keywords, detail, result, func.__name__)
            assert seen == {True, False}, f"{func.__name__}: cases on one side only"


def test_numpy_reductions_in_the_code_become_the_ufuncs_reduce() -> None:
    """In the specialised adjoint, the function's ``np.sum`` / ``np.max`` calls are the
    ufuncs' ``reduce`` (and nothing is left of NumPy's dispatch); the result stays the
    general adjoint's, bit for bit."""
    vg = ast_ad.value_and_grad(mlp, wrt=(0, 1))
    args = _mlp_args()
    want = [vg(*args) for _ in range(3)][-1]
    special = vg.__ast_ad__._built[True][2]
    function = next(iter(special.functions.values()))
    text = "".join(line for line in __import__("linecache").getlines(
        function.__code__.co_filename) if not line.lstrip().startswith("#"))
    assert "np.sum" not in text and "np.max" not in text, text
    assert "_ast_ad_maximum_reduce(h, axis=1, keepdims=True)" in text, text
    header, body = text.split("\n", 1)  # the factory takes the names its code uses, only
    params = header[header.index("(") + 1:header.index(")")].split(", ")
    assert params and all(re.search(rf"\b{p}\b", body) for p in params), header
    assert same_bits(vg(*args), want)
    other = _mlp_args(seed=4)
    assert same_bits(vg(*other), ast_ad.value_and_grad(mlp, wrt=(0, 1))(*other))


def _readout_rnn(W, U, V, xs):
    h = np.zeros(W.shape[0])
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + np.dot(U, xs[t]))
        loss = loss + np.sum((V @ h) ** 2)
    return loss


def test_batched_products_of_vectors_are_stacked_in_the_specialised_adjoint() -> None:
    """A loop's ``matmul_vjp_a_many`` / ``dot_vjp_a_many`` of vectors is, in the specialised
    adjoint, the stacked product itself (``_batched``'s first way, without its checks of
    every pair), bit for bit; the ``g``s that two products keep (two names in the general
    adjoint, one once its forms forwarded a copy) are kept, and stacked, once."""
    vg = ast_ad.value_and_grad(_readout_rnn, wrt=(0, 1, 2))
    r = np.random.default_rng(5)
    args = r.normal(size=(4, 4)) * 0.5, r.normal(size=(4, 3)), r.normal(size=(2, 4)), \
        r.normal(size=(6, 3))
    want = [vg(*args) for _ in range(3)][-1]
    general, special = vg.__ast_ad__._built[True][1:3]
    function = next(iter(special.functions.values()))
    assert function is not general
    text = "".join(line for line in __import__("linecache").getlines(
        function.__code__.co_filename) if not line.lstrip().startswith("#"))
    assert "_many(" not in text and text.count("_ast_ad_rows(") == 5, text
    assert len(re.findall(r"_acc\d+ = \[\]", text)) == 5, text
    shared = re.search(r"(_acc\d+) = _ast_ad_rows\(\1\)", text)
    assert shared and text.count(f"= {shared[1]}.T @ _ast_ad_rows(") == 2, text
    assert same_bits(vg(*args), want)
    other = tuple(a * 0.9 for a in args)
    assert same_bits(vg(*other), ast_ad.value_and_grad(_readout_rnn, wrt=(0, 1, 2))(*other))
    from ast_ad.testing import check_grad
    check_grad(_readout_rnn, args, wrt=(0, 1, 2))


def _batched_rnn(W, U, xs):
    h = np.zeros((xs.shape[1], W.shape[0]))
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(h @ W + xs[t] @ U)
        loss = loss + np.sum(h * h)
    return loss


def test_batched_products_of_matrices_are_joined_in_the_specialised_adjoint() -> None:
    """A minibatch RNN (``h @ W`` of a batch of rows): its ``matmul_vjp_b_many`` of
    matrices is, in the specialised adjoint, the joined product (np.concatenate), bit for
    bit; the ``g``s both products keep are kept, and joined, once."""
    r = np.random.default_rng(9)
    args = r.normal(size=(4, 4)) * 0.5, r.normal(size=(3, 4)), r.normal(size=(5, 2, 3))
    vg = ast_ad.value_and_grad(_batched_rnn, wrt=(0, 1))
    want = ast_ad.value_and_grad(_batched_rnn, wrt=(0, 1))(*args)
    text = _special_text(vg, args)
    assert "_many(" not in text and text.count("_ast_ad_join(") == 3, text
    assert re.search(r"(_acc\d+) = _ast_ad_join\(\1, axis=0\)", text), text
    assert same_bits(vg(*args), want)
    other = tuple(a * 0.7 for a in args)
    assert same_bits(vg(*other), ast_ad.value_and_grad(_batched_rnn, wrt=(0, 1))(*other))
    from ast_ad.testing import check_grad
    check_grad(_batched_rnn, args, wrt=(0, 1))


def _loss_from(W, xs, start):
    h = np.zeros(W.shape[0])
    loss = start
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        loss = loss + np.sum(h ** 2)
    return loss


def _loss_from_zero(W, xs):
    return _loss_from(W, xs, 0.0)


def _special_text(vg, args) -> str:
    """The specialised adjoint's text after the third call (the general one's results
    are returned for comparison)."""
    [vg(*args) for _ in range(3)]
    general, special = vg.__ast_ad__._built[True][1:3]
    function = next(iter(special.functions.values()))
    assert function is not general
    return "".join(line for line in __import__("linecache").getlines(
        function.__code__.co_filename) if not line.lstrip().startswith("#"))


def test_a_loss_summed_from_zero_in_a_loop_needs_no_tape_in_the_specialised_adjoint() -> None:
    """``loss = 0.0`` then ``loss = loss + np.sum(...)`` in a loop: the loss's adjoint is
    ``unbroadcast(b, loss)``, a float64 at every step but the last, where ``loss`` is the
    float 0.0 and the result, a float, is never read. The specialised adjoint keeps the
    value (``unbroadcast``'s form) and drops the loss's tape; the same bits. Where the
    start is an argument we differentiate, the last result is read: left alone."""
    r = np.random.default_rng(8)
    args = r.normal(size=(4, 4)) * 0.5, r.normal(size=(5, 4))
    vg = ast_ad.value_and_grad(_loss_from_zero, wrt=0)
    want = ast_ad.value_and_grad(_loss_from_zero, wrt=0)(*args)
    text = _special_text(vg, args)
    assert "unbroadcast(" not in text and "_push(loss)" not in text, text
    assert same_bits(vg(*args), want)
    other = tuple(a * 0.8 for a in args)
    assert same_bits(vg(*other), ast_ad.value_and_grad(_loss_from_zero, wrt=0)(*other))
    vg = ast_ad.value_and_grad(_loss_from, wrt=(0, 2))
    args = (*args, 0.5)
    want = ast_ad.value_and_grad(_loss_from, wrt=(0, 2))(*args)
    text = _special_text(vg, args)
    assert "unbroadcast(" in text and "_push(loss)" in text, text
    got = vg(*args)
    assert same_bits(got, want) and type(got[1][1]) is float
    from ast_ad.testing import check_grad
    check_grad(_loss_from, args, wrt=(0, 2))


@pytest.mark.parametrize("case", ["plain", "read after", "read later", "break", "nested",
                                  "else"])
def test_a_site_whose_last_result_may_be_read_is_not_unread(case) -> None:
    import gast

    from ast_ad.specialise import _last_unread
    loop = {"plain": "for t in range(3):\n    a = b\n    v = _seen(0, f, a)\n",
            "read after": "for t in range(3):\n    v = _seen(0, f, a)\n    a = v\n",
            "read later": "for t in range(3):\n    v = _seen(0, f, a)\nz = v\n",
            "break": "for t in range(3):\n    v = _seen(0, f, a)\n    if a:\n        break\n",
            "nested": "for s in range(2):\n    for t in range(3):\n        v = _seen(0, f, a)\n",
            "else": "for t in range(3):\n    v = _seen(0, f, a)\nelse:\n    pass\n"}[case]
    src = "def g(a, b, f):\n" + "".join(f"    {line}\n" for line in loop.splitlines())
    found = _last_unread([gast.parse(src).body[0]])
    assert found == ({0: "f"} if case == "plain" else {}), (case, found)


def _methods_mlp(W, X):
    h = np.tanh(X @ W)
    m = h.max(axis=1, keepdims=True)
    return (np.log(np.exp(h - m).sum(axis=1)) + m[:, 0]).mean() + h.sum() * 0.1


def test_ndarray_methods_in_the_code_become_the_ufuncs_reduce() -> None:
    """``h.max(...)``, ``e.sum(...)``, ``.mean()``: normalisation made them NumPy's
    functions (passes/methods.py), so they are sites like ``np.sum``."""
    vg = ast_ad.value_and_grad(_methods_mlp, wrt=0)
    r = np.random.default_rng(2)
    args = r.normal(size=(3, 4)), r.normal(size=(5, 3))
    want = [vg(*args) for _ in range(3)][-1]
    function = next(iter(vg.__ast_ad__._built[True][2].functions.values()))
    text = "".join(line for line in __import__("linecache").getlines(
        function.__code__.co_filename) if not line.lstrip().startswith("#"))
    assert ".sum(" not in text and ".max(" not in text and ".mean(" not in text, text
    assert "_ast_ad_maximum_reduce(h, axis=1, keepdims=True)" in text, text
    assert same_bits(vg(*args), want)
    other = r.normal(size=(3, 4)), r.normal(size=(5, 3))
    assert same_bits(vg(*other), ast_ad.value_and_grad(_methods_mlp, wrt=0)(*other))


def test_spread_of_a_new_array_is_not_copied_again() -> None:
    """``add_at(None, x, ((None, :, :),), -g)``'s form: ``g`` an operator's result is
    reshaped without a copy (nothing else holds it); a Name's value is copied."""
    import gast

    from ast_ad.forms import _spread_form
    x, g = np.ones((3, 2)), np.arange(6.0).reshape(1, 3, 2)
    path = ((None, slice(None), slice(None)),)
    want = runtime.add_at(None, x, path, -g)
    assert _spread_form is FORMS[runtime.add_at][0][1]

    def load(ident):
        return gast.Name(id=ident, ctx=gast.Load(), annotation=None, type_comment=None)
    for arg, copies in ((gast.UnaryOp(op=gast.USub(), operand=load("g")), False),
                        (load("g"), True)):
        tree = _spread_form([load("adj"), load("x"), load("path"), arg], None)
        text = to_source(gast.Module(body=[gast.Expr(value=tree)], type_ignores=[])).strip()
        assert text.endswith(".copy()") is copies, text
        got = eval(text, {}, {"adj": None, "x": x, "path": path, "g": g})  # noqa: S307
        assert np.array_equal(got, want if not copies else g.reshape(x.shape))
        assert not np.shares_memory(got, g) and got.shape == x.shape


def test_the_forms_full_is_numpys() -> None:
    """The forms' ``_ast_ad_full``: np.full's array, bit for bit, for numbers and arrays
    broadcast, float64 and float32, a float64 value rounded into a float32 array."""
    fill = EXTRA["_ast_ad_full"]
    r = np.random.default_rng(4)
    for shape, value in (((3, 4), 0.1), ((3, 4), np.float64(1.0) / 3.0), ((2, 3), 7),
                         ((4, 3), r.normal(size=(4, 1))), ((5,), r.normal(size=5)), ((), 2.5)):
        for dtype in (np.dtype(np.float64), np.dtype(np.float32)):
            got, want = fill(shape, value, dtype), np.full(shape, value, dtype)
            assert type(got) is type(want) and got.dtype == want.dtype
            assert got.shape == want.shape and got.tobytes() == want.tobytes()


def test_a_form_that_keeps_the_value_is_that_value() -> None:
    m = np.ones((2, 3))
    for helper in (npruntime.reduce_to, npruntime.shape_only, runtime.like):
        args = (m, m) if helper is not npruntime.shape_only else (m,)
        assert FORMS[helper][0][0](helper(*args), *args) and helper(*args) is m


# ------------------------------------------------------------------ the wrapper

def _mlp_args(n: int = 5, seed: int = 0):
    r = np.random.default_rng(seed)
    return r.normal(size=(4, 3)), r.normal(size=3), r.normal(size=(n, 4))


def test_the_third_call_records_and_later_calls_run_the_specialised_adjoint() -> None:
    vg = ast_ad.value_and_grad(mlp, wrt=(0, 1))
    args = _mlp_args()
    first = vg(*args)
    special = vg.__ast_ad__._built[True][2]
    assert same_bits(vg(*args), first) and not special.functions  # called twice: as is
    assert same_bits(vg(*args), first)  # the recording run
    key = signature(args)
    assert key in special.functions
    text = "".join(__import__("linecache").getlines(
        special.functions[key].__code__.co_filename)).split("def value_and_grad_mlp")[1]
    assert "reduce_to(" not in text and "matmul_vjp_b(" not in text and "add_into" not in text
    copies = re.findall(r"^ +(b?_t\d+) = ([A-Za-z_]\w*)$", text, re.M)
    assert not copies, copies  # what a form left as a copy is forwarded (b_t1 = b_t2)
    for seed in range(3):  # other numbers of the same shapes
        other = _mlp_args(seed=seed + 1)
        assert same_bits(vg(*other), ast_ad.value_and_grad(mlp, wrt=(0, 1))(*other))


def test_each_signature_has_its_own_adjoint_and_integers_count_by_value() -> None:
    def scaled(W, b, X, k):
        return np.sum(np.tanh(X @ W + b) * k)

    vg = ast_ad.value_and_grad(scaled, wrt=(0, 1))
    for n, k in [(5, 2), (7, 2), (5, 3), (5, 2), (7, 2), (5, 3)] * 2:
        args = (*_mlp_args(n), k)
        assert same_bits(vg(*args), ast_ad.value_and_grad(scaled, wrt=(0, 1))(*args))
    assert len(vg.__ast_ad__._built[True][2].functions) == 3


def test_signatures_beyond_the_limit_run_the_general_adjoint() -> None:
    vg = ast_ad.grad(mlp, wrt=0)
    for n in range(2, 4 + specialise.MAX_SIGNATURES):
        for _ in range(3):
            vg(*_mlp_args(n))
    special = vg.__ast_ad__._built[True][2]
    assert len(special.functions) == specialise.MAX_SIGNATURES
    args = _mlp_args(3 + specialise.MAX_SIGNATURES)
    assert same_bits(vg(*args), ast_ad.grad(mlp, wrt=0)(*args))
    for n in range(20, 40):  # ever new shapes: nothing more is kept for them
        vg(*_mlp_args(n))
    assert special.calls == {} and len(special.functions) == specialise.MAX_SIGNATURES


def test_loops_are_specialised_too() -> None:
    vg = ast_ad.value_and_grad(rnn, wrt=0)
    r = np.random.default_rng(1)
    W, xs = r.normal(size=(4, 4)) * 0.5, r.normal(size=(6, 4))
    for _ in range(3):
        got = vg(W, xs)
    assert vg.__ast_ad__._built[True][2].functions
    assert same_bits(vg(W * 0.9, xs), ast_ad.value_and_grad(rnn, wrt=0)(W * 0.9, xs))
    from ast_ad.testing import check_grad
    check_grad(rnn, (W, xs), wrt=0)
    assert got[0] == rnn(W, xs)


def test_other_arguments_take_the_general_adjoint() -> None:
    assert signature((np.ones(2), 1.5, 3, True)) is not None
    for odd in ([1.0, 2.0], np.ones(2).view(np.matrix), "a", None, (1.0,)):
        assert signature((np.ones(2), odd)) is None


def test_tape_pairs_of_variables_no_longer_read_go() -> None:
    """``_push(a)`` / ``a = _pop()`` go when the reverse sweep reads no ``a``, and so does
    ``a = None`` before the forward sweep; ``b``'s stay. With nothing pushed, the tape's
    set-up goes too; nothing goes when the tape is used in any other form."""
    from ast_ad.source import comment
    from ast_ad.templates import parse_generated

    def tree(extra: str = "", reads_b: bool = True):
        lines = ["def f(x):", "    a = None", "    b = None", "    _tape = []",
                 "    _push = _tape.append", "    _pop = _tape.pop",
                 "    for i in range(3):", "        _push(a)", "        a = x * i",
                 "        _push(b)", "        b = a + 1.0", *([extra] if extra else []),
                 "    bb = 0.0", "    for i in range(3):",
                 "        bb = b * 2.0" if reads_b else "        bb = bb * 2.0",
                 "        b = _pop()", "        a = _pop()", "    return bb"]
        func = parse_generated("\n".join(lines) + "\n", {"_push", "_pop", "_tape"})
        func.body.insert(6, comment("reverse sweep"))
        func.body.insert(5, comment("forward sweep"))
        func.body.insert(0, comment("tape: values the reverse sweep reads after they are "
                                    "overwritten"))
        return func

    func = tree()
    specialise._drop_dead_tape(func)
    out = to_source(func)
    assert "_push(a)" not in out and "a = _pop()" not in out and "a = None" not in out
    assert "_push(b)" in out and "b = _pop()" in out and "b = None" in out
    assert "_tape = []" in out and "# tape:" in out
    none_read = tree(reads_b=False)
    specialise._drop_dead_tape(none_read)
    out = to_source(none_read)
    assert "_push" not in out and "_pop" not in out and "_tape" not in out
    assert "# tape:" not in out and "= None" not in out
    odd = tree("        _push((a, b))")
    specialise._drop_dead_tape(odd)
    assert "_push(a)" in to_source(odd) and "a = _pop()" in to_source(odd)


def test_threads_specialising_at_once_get_the_general_adjoints_bits() -> None:
    from concurrent.futures import ThreadPoolExecutor

    vg = ast_ad.value_and_grad(mlp, wrt=(0, 1))
    args = _mlp_args()
    want = ast_ad.value_and_grad(mlp, wrt=(0, 1))(*args)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: vg(*args), range(40)))
    assert all(same_bits(r, want) for r in results)
    assert vg.__ast_ad__._built[True][2].functions


def test_views_and_memory_orders_share_a_signature_and_its_bits() -> None:
    """A signature is shapes and dtypes: a transposed view, a Fortran-ordered copy or a
    read-only array of the same shape runs the specialised adjoint, with the general
    adjoint's bits."""
    vg = ast_ad.value_and_grad(mlp, wrt=(0, 1))
    W, b, X = _mlp_args(6)
    for _ in range(3):
        vg(W, b, X)
    frozen = X.copy()
    frozen.flags.writeable = False
    for other in (np.asfortranarray(X), np.ascontiguousarray(X.T).T, frozen, X[::1]):
        assert signature((W, b, other)) in vg.__ast_ad__._built[True][2].functions
        assert same_bits(vg(W, b, other), ast_ad.value_and_grad(mlp, wrt=(0, 1))(W, b, other))
