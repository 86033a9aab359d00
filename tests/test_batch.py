"""The batch pass (matrix-product adjoints of a loop summed by one product) and the
loop form of first writes: golden before/after, what must be left alone, and values."""
from __future__ import annotations

import re
import textwrap

import gast
import numpy as np
import pytest

import ast_ad
from ast_ad.naming import Namer
from ast_ad.npruntime import (
    dot_vjp_a,
    dot_vjp_a_many,
    dot_vjp_b,
    dot_vjp_b_many,
    matmul_vjp_a,
    matmul_vjp_a_many,
    matmul_vjp_b,
    matmul_vjp_b_many,
)
from ast_ad.passes.batch import batch
from ast_ad.runtime import add
from ast_ad.source import to_source
from ast_ad.templates import parse_generated
from ast_ad.testing import check_grad

OURS = {"add", "matmul_vjp_a", "matmul_vjp_b", "dot_vjp_b", "unbroadcast", "reduce_to",
        "add_at"}


def _batch(src: str) -> str:
    return to_source(batch(parse_generated(textwrap.dedent(src), OURS), Namer(set())))


def test_golden_two_products_in_one_loop() -> None:
    before = """
    def f(W, V, hs, gs, bW, bV):
        for t in range(3):
            g = unbroadcast(gs[t], hs[t])
            h = hs[t]
            bW = add(bW, matmul_vjp_a(g, W, h))
            bV = add(bV, dot_vjp_b(g, h, V))
        return bW
    """
    assert _batch(before) == textwrap.dedent("""\
    def f(W, V, hs, gs, bW, bV):
        _acc1 = []
        _acc2 = []
        for t in range(3):
            g = unbroadcast(gs[t], hs[t])
            h = hs[t]
            _acc1.append(g)
            _acc2.append(h)
        bW = add(bW, matmul_vjp_a_many(_acc1, _acc2, W))
        bV = add(bV, dot_vjp_b_many(_acc1, _acc2, V))
        return bW
    """)


def test_a_batched_sum_after_its_zero_start_is_assigned() -> None:
    """``bW = 0.0`` ... ``bW = add(bW, many(...))`` is ``bW = many(...)``; not when
    something reads ``bW`` in between."""
    before = """
    def f(W, hs, gs):
        bW = 0.0
        bV = 0.0
        z = bV
        for t in range(3):
            g = gs[t]
            h = hs[t]
            bW = add(bW, matmul_vjp_a(g, W, h))
            bV = add(bV, matmul_vjp_a(g, W, h))
        return (bW, bV, z)
    """
    out = _batch(before)
    assert "bW = 0.0" not in out and "    bW = matmul_vjp_a_many(_acc1, _acc2, W)\n" in out
    assert "    bV = 0.0\n" in out  # (and the same g and h: the same lists)
    assert "    bV = add(bV, matmul_vjp_a_many(_acc1, _acc2, W))\n" in out
    rng = np.random.default_rng(2)
    W, hs, gs = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 3))
    for pairs in ([(gs[t], hs[t]) for t in range(3)], []):
        got = matmul_vjp_a_many(*_lists(pairs), W)
        want = add(0.0, matmul_vjp_a_many(*_lists(pairs), W))
        assert type(got) is type(want) and np.array_equal(got, want)


@pytest.mark.parametrize("line", [
    "g += 1.0",                          # g changed in place after it is kept
    "y = g\n            y += 1.0",       # ... through a name that shares its array
    "y = g[0]\n            y += 1.0",    # ... through a view
    "y = add(bm, reduce_to(g, h))\n            y += 1.0",  # ... through helpers that pass it on
    "g[0] = 1.0",                        # item assignment
    "bm = add_at(g, W, (0,), 1.0)",      # a helper that changes its first argument
    "keep(g)",                           # handed to a function we do not know
    "W = W * 2.0",                       # the matrix changes in the loop
    "print(bW)",                         # the adjoint is read in the loop
])
def test_left_alone(line: str) -> None:
    src = f"""
    def f(W, hs, gs, bW, bm):
        for t in range(3):
            g = gs[t] * 2.0
            h = hs[t]
            bW = add(bW, matmul_vjp_a(g, W, h))
            {line}
        return bW
    """
    assert "_acc" not in _batch(src), line


def _lists(pairs: list) -> tuple[list, list]:
    """The ``g``s and the other operands of ``(g, other)`` pairs, as batch keeps them."""
    return [g for g, _ in pairs], [other for _, other in pairs]


def _pairs(kind: str, which: int, shape_like, n: int, dtype=np.float64):
    """(g, other) pairs of the shapes ``like @ other`` (which 0) or ``other @ like`` has."""
    r = np.random.default_rng(n)
    m, k = shape_like
    pairs = []
    for _ in range(n):
        if which == 0:
            other = r.normal(size=(k,) if kind == "vector" else (k, 3))
            g = r.normal(size=(m,) if kind == "vector" else (m, 3))
        else:
            other = r.normal(size=(m,) if kind == "vector" else (2, m))
            g = r.normal(size=(k,) if kind == "vector" else (2, k))
        pairs.append((g.astype(dtype), other.astype(dtype)))
    return pairs


@pytest.mark.parametrize("kind", ["vector", "matrix"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_many_equals_the_sum_of_single_adjoints(kind: str, dtype) -> None:
    like = np.ones((4, 5), dtype=dtype)
    for many, single, which in ((matmul_vjp_a_many, matmul_vjp_a, 0),
                                (dot_vjp_a_many, dot_vjp_a, 0),
                                (matmul_vjp_b_many, matmul_vjp_b, 1),
                                (dot_vjp_b_many, dot_vjp_b, 1)):
        pairs = _pairs(kind, which, like.shape, 6, dtype)
        if which == 0:
            expected = sum(single(g, like, b) for g, b in pairs)
        else:
            expected = sum(single(g, a, like) for g, a in pairs)
        got = many(*_lists(pairs), like)
        assert got.dtype == dtype and got.shape == like.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_many_falls_back_and_handles_empty() -> None:
    like = np.ones((3, 2))
    mixed = [(np.ones(3), np.arange(2.0)), (np.ones((3, 4)), np.ones((2, 4)))]
    np.testing.assert_allclose(matmul_vjp_a_many(*_lists(mixed), like),
                               sum(matmul_vjp_a(g, like, b) for g, b in mixed))
    batched = [(np.ones((5, 3)), np.ones((5, 2, 2)))]  # a stack of matrices: no batching
    np.testing.assert_allclose(matmul_vjp_b_many([np.ones(2)], [np.ones(3)], like),
                               matmul_vjp_b(np.ones(2), np.ones(3), like))
    assert matmul_vjp_a_many([], [], like) == 0.0
    assert batched  # the 3-D case is covered end to end below


def batched_rnn(W, U, xs, h0):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(h @ W + xs[t] @ U)
        loss = loss + np.sum(h * h)
    return loss


def vector_rnn(W, U, V, xs):
    h = np.zeros(W.shape[0])
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + np.dot(U, xs[t]))
        out = V @ h
        loss = loss + np.sum(out ** 2)
    return loss


def stacked(W, xs):
    total = 0.0
    for t in range(xs.shape[0]):
        total = total + np.sum(np.tanh(xs[t] @ W))  # xs[t] is a stack of matrices
    return total


def test_rnns_batch_and_match_finite_differences() -> None:
    r = np.random.default_rng(1)
    assert "matmul_vjp_b_many" in ast_ad.source(batched_rnn, wrt=(0, 1))
    check_grad(batched_rnn, (r.normal(size=(4, 4)) * 0.5, r.normal(size=(3, 4)),
                             r.normal(size=(5, 2, 3)), r.normal(size=(2, 4))), wrt=(0, 1, 3))
    source = ast_ad.source(vector_rnn, wrt=(0, 1, 2))
    assert "matmul_vjp_a_many" in source and "dot_vjp_a_many" in source
    check_grad(vector_rnn, (r.normal(size=(4, 4)) * 0.5, r.normal(size=(4, 3)),
                            r.normal(size=(2, 4)), r.normal(size=(6, 3))), wrt=(0, 1, 2))
    check_grad(stacked, (r.normal(size=(3, 2)), r.normal(size=(4, 2, 5, 3))), wrt=0)


def first_write_in_loop(x, n):
    s = 0.0
    for i in range(n):
        y = x * i
        s = s + y * y
    return s


def early_exit(x, n):
    s = 0.0
    for i in range(n):
        y = x * i
        if y > 3.0:
            break
        s = s + y * y
    return s


def test_loop_first_writes() -> None:
    """Each iteration starts ``by`` at zero, so its first ``+=`` is ``=``; not with a
    ``break`` in the loop."""
    assert "by = " in ast_ad.source(first_write_in_loop) \
        and "by +=" not in ast_ad.source(first_write_in_loop)
    check_grad(first_write_in_loop, (0.7, 4))
    check_grad(early_exit, (0.7, 9))
    assert ast_ad.grad(early_exit)(0.7, 9) == pytest.approx(sum(2 * 0.7 * i * i for i in range(5)))


RESETS = """
def f(xs, g, bq):
    by = 0.0
    bz = 0.0
    bw = 0.0
    for i in range(3):
        by = g * xs[i]
        bz = by * 2.0
        bq += bz
        LINE_9
        by = 0.0
        LINE_8
        bz += 1.0
        bw = bz
        bw = 0.0
    return bw
"""


def test_dead_resets() -> None:
    """``by = 0.0`` goes (the next iteration sets ``by`` first, nothing after the loop
    reads it) and so does the comment that headed only it; ``bw = 0.0`` stays (read after
    the loop); ``bz`` is read by ``+=`` after its write, and ends unreset."""
    from ast_ad.passes.simplify import _drop_dead_resets
    from ast_ad.source import comment, is_comment
    from ast_ad.tally import Tally

    func = parse_generated(textwrap.dedent(RESETS), set())
    body = func.body[3].body
    for k, stmt in enumerate(body):  # LINE_9 -> "# line 9: y = x"
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Name):
            body[k] = comment(f"line {stmt.value.id[-1]}: y = x")
    _drop_dead_resets(func, Tally())
    text = to_source(func)
    assert "        by = 0.0" not in text and "# line 9" not in text and "# line 8" in text
    assert "        bw = 0.0" in text and "    by = 0.0" in text and "        bz += 1.0" in text
    assert sum(is_comment(s) for s in body) == 1


def carried(x, n):
    s = 0.0
    for i in range(n):
        s = s * x + x        # the adjoint of s is carried from one iteration to the next
    return s


def test_dead_resets_keep_gradients_right() -> None:
    from ast_ad.testing import check_grad

    check_grad(first_write_in_loop, (0.7, 4))
    check_grad(carried, (0.7, 5))
    assert ast_ad.grad(carried)(0.5, 3) == pytest.approx(1 + 2 * 0.5 + 3 * 0.25, rel=1e-12)


# ------------------------------------------------- share_rows (specialised adjoints' lists)

def _share(src: str) -> str:
    from ast_ad.passes.batch import share_rows
    func = parse_generated(textwrap.dedent(src), {"rows", "join", "matmul_vjp_a_many"})
    return to_source(share_rows(func, frozenset({"rows", "join"})))


# two lists kept with the same g: the golden case and, changed, the ones left alone
_KEPT_TWICE = """
    def f(W, U, gs, hs, xs):
        _acc1 = []
        _acc2 = []
        _acc3 = []
        _acc4 = []
        for t in range(3):
            g = gs[t] * 2.0
            h = hs[t]
            _acc1.append(g)
            _acc2.append(h)
            x = xs[t]
            _acc3.append(g)
            _acc4.append(x)
        bW = rows(_acc1).T @ rows(_acc2)
        bU = matmul_vjp_a_many(_acc3, _acc4, U)
        return (bW, bU)
    """


def test_golden_a_value_kept_twice_is_kept_and_stacked_once() -> None:
    before = _KEPT_TWICE.replace("matmul_vjp_a_many(_acc3, _acc4, U)",
                                 "rows(_acc3).T @ rows(_acc4)")
    assert _share(before) == textwrap.dedent("""\
    def f(W, U, gs, hs, xs):
        _acc1 = []
        _acc2 = []
        _acc4 = []
        for t in range(3):
            g = gs[t] * 2.0
            h = hs[t]
            _acc1.append(g)
            _acc2.append(h)
            x = xs[t]
            _acc4.append(x)
        _acc1 = rows(_acc1)
        bW = _acc1.T @ rows(_acc2)
        bU = _acc1.T @ rows(_acc4)
        return (bW, bU)
    """)


@pytest.mark.parametrize("change", [
    ("x = xs[t]", "g = xs[t]"),                       # the value is written between
    ("    _acc3 = []\n", ""),                        # a list without its start ...
    ("return (bW, bU)", "return (bW, bU, len(_acc3))"),  # ... or read otherwise
    ("    _acc3 = []\n    _acc4 = []\n    for t in range(3):\n",
     "    _acc4 = []\n    for t in range(3):\n        _acc3 = []\n"),  # started elsewhere
])
def test_lists_that_may_differ_are_left_alone(change) -> None:
    src = textwrap.dedent(_KEPT_TWICE)
    assert change[0] in src
    src = src.replace(*change)
    out = _share(src)
    assert "_acc3.append(g)" in out and "rows(_acc1).T @ rows(_acc2)" in out, out
    assert not re.search(r"_acc\d = rows\(", out), out


def test_rows_of_a_list_used_once_or_filled_again_stay_where_they_are() -> None:
    src = """
    def f(gs, hs):
        _acc1 = []
        _acc2 = []
        for t in range(3):
            g = gs[t]
            _acc1.append(g)
            _acc2.append(g)
        bW = rows(_acc1).T @ rows(_acc1)
        for t in range(3):
            h = hs[t]
            _acc1.append(h)
        return (bW, rows(_acc2))
    """
    out = _share(src)
    assert not re.search(r"_acc\d = rows\(", out) and out.count("rows(_acc1)") == 2, out
    assert "rows(_acc2)" in out, out  # (_acc1 is appended twice: no list to share)


def test_a_list_made_into_arrays_two_ways_is_left_as_it_is() -> None:
    src = """
    def f(gs):
        _acc1 = []
        for t in range(3):
            g = gs[t]
            _acc1.append(g)
        return join(_acc1, axis=0) @ join(_acc1, axis=1)
    """
    out = _share(src)
    assert "_acc1 = join(" not in out and out.count("join(_acc1, axis=") == 2, out
    assert "_acc1 = join(_acc1, axis=0)" in _share(src.replace("axis=1", "axis=0"))


def test_rows_are_not_made_inside_a_loop_that_fills_the_list_again() -> None:
    src = """
    def f(gs):
        _acc1 = []
        for s in range(2):
            for t in range(3):
                g = gs[t]
                _acc1.append(g)
            bW = rows(_acc1).T @ rows(_acc1)
        return bW
    """
    out = _share(src)
    assert "_acc1 = rows(" not in out and out.count("rows(_acc1)") == 2, out
