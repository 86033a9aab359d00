"""The iterate pass (``ast_ad/passes/iterate.py``): forward loops that count through
sequences only to read their items walk them instead. Golden listings, the loops it must
leave alone, and gradients against finite differences and hand-derived formulas."""
from __future__ import annotations

import textwrap

import pytest

import ast_ad

HORNER = """
def fit(coeffs, xs, ys):
    loss = 0.0
    for x, y in zip(xs, ys):
        p = 0.0
        for c in coeffs:
            p = p * x + c
        r = p - y
        loss += r * r
    return loss
"""
HORNER_SQUARED = HORNER.replace("return loss", "return loss * loss")  # not fused: a tape


def load(make_module, text: str):
    return make_module(textwrap.dedent(text))


def test_golden_forward_loops_walk_the_lists(make_module) -> None:
    m = load(make_module, HORNER_SQUARED)
    src = ast_ad.source(m.fit, wrt=0)
    forward = src[src.index("# forward sweep"):src.index("    _t6 = loss * loss")]
    assert forward == textwrap.dedent("""\
        # forward sweep
            _seq1 = sequence(coeffs)
            _n1 = len(_seq1)
            _seq2 = sequence(xs)
            _n2 = len(_seq2)
            _seq3 = sequence(ys)
            _n3 = len(_seq3)
            loss = 0.0
            _t1 = min(_n2, _n3)
            for x, y in zip(_seq2, _seq3):
                p = 0.0
                for c in _seq1:
                    p = p * x + c
                _push(r)
                r = p - y
                loss = loss + r * r
            """)
    assert "for _k2 in reversed(range(_t1)):" in src  # the reverse loop keeps its count


@pytest.mark.parametrize("xs, ys", [([0.5, -1.0, 2.0], [1.0, 0.0, -1.0]),
                                    ([0.5, -1.0, 2.0], [1.0]),          # zip stops early
                                    ([], [1.0, 2.0])])
def test_fit_gradients(make_module, xs: list, ys: list) -> None:
    m = load(make_module, HORNER)
    coeffs = [0.3, -1.2, 0.7]
    value, g = ast_ad.value_and_grad(m.fit)(coeffs, xs, ys)
    assert value == m.fit(coeffs, xs, ys)
    # hand-derived: d loss / d c_k = sum 2 r x ** (m - 1 - k)
    want = [0.0] * len(coeffs)
    for x, y in zip(xs, ys):
        p = 0.0
        for c in coeffs:
            p = p * x + c
        for k in range(len(coeffs)):
            want[k] += 2.0 * (p - y) * x ** (len(coeffs) - 1 - k)
    assert g == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_count_used_in_the_body_keeps_the_count(make_module) -> None:
    m = load(make_module, """
        def f(a, xs):
            s = 0.0
            for i, x in enumerate(xs):
                s = s + i * x * a
            return s
        """)
    src = ast_ad.source(m.f, wrt=(0, 1))
    assert "in range(" in src[:src.index("# reverse sweep")]
    ga, gx = ast_ad.grad(m.f, wrt=(0, 1))(1.5, [2.0, 3.0, 4.0])
    assert ga == pytest.approx(0 * 2.0 + 1 * 3.0 + 2 * 4.0)
    assert gx == pytest.approx([0.0, 1.5, 3.0])


def test_list_changed_in_place_is_indexed(make_module) -> None:
    """``ws`` changes inside the loop: the forward loop keeps indexing it."""
    m = load(make_module, """
        def f(a, n):
            ws = [1.0, 2.0, 3.0]
            s = 0.0
            for w in ws:
                s = s + a * w
            for k in range(n):
                ws[0] = ws[0] * 2.0
            for w in ws:
                s = s + a * w
            return s
        """)
    src = ast_ad.source(m.f)
    assert "for w in _seq" not in src and src.count("for _k") == 4
    assert ast_ad.grad(m.f)(0.5, 2) == pytest.approx(6.0 + 4.0 + 2.0 + 3.0)


def test_dict_keys(make_module) -> None:
    m = load(make_module, """
        def f(a, d):
            s = 0.0
            for k in d:
                s = s + a * k
            return s
        """)
    assert ast_ad.grad(m.f)(2.0, {1.0: "x", 2.5: "y"}) == pytest.approx(3.5)


def test_counts_nothing_reads_go(make_module) -> None:
    """Fused, Horner's outer loop walks zip(xs, ys) and no reverse loop counts it: its
    counts go (``_n2``, ``_n3``, ``_t1 = min(_n2, _n3)``); the inner loop's ``_n1`` stays
    for the reverse inner loop. Unfused (HORNER_SQUARED), the reverse loop keeps them."""
    src = ast_ad.source(load(make_module, HORNER).fit, wrt=0)
    assert "min(" not in src and "_n2" not in src and "_n3" not in src
    assert "_n1 = len(_seq1)" in src and "reversed(range(_n1))" in src
    kept = ast_ad.source(load(make_module, HORNER_SQUARED).fit, wrt=0)
    assert "_t1 = min(_n2, _n3)" in kept and "reversed(range(_t1))" in kept
