"""Golden tests: dedented source in, expected source out, for single passes and for the
whole pipeline. Each expected text was checked by hand when it was frozen (evaluation
order kept, one elementary operation per statement, a ``# line N: ...`` comment over
each reverse block, a tape only where the reverse sweep reads an overwritten value).

When a pass changes on purpose, re-check the new output by hand and update the string.
Pipeline goldens use the functions in golden_functions.py, whose line numbers appear in
the generated comments: do not reorder that file.
"""
from __future__ import annotations

import linecache
import math
import textwrap

import golden_functions as golden
import numpy as np
import pytest

import ast_ad
from ast_ad.passes.desugar import Desugar
from ast_ad.passes.jumps import Jumps
from ast_ad.passes.normalize import Normalize
from ast_ad.passes.resolve import Env, resolve
from ast_ad.source import parse_lines, to_source


def parse(src: str):
    text = textwrap.dedent(src).lstrip("\n")
    return parse_lines(text.splitlines(True), 1, "<golden>", "f")


def normalize(src: str) -> str:
    parsed = parse(src)
    calls, _ = resolve(parsed, Env({"math": math}, {}))
    return to_source(Normalize(parsed, calls).run().func)


def expect(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ----------------------------------------------------------------------- normalize

NORMALIZE = {
    "nested_expression": ("""
        def f(x, y):
            return math.sin(x * y) + x / (y - 1.0)
        """, """
        def f(x, y):
            _t1 = x * y
            _t2 = math.sin(_t1)
            _t3 = y - 1.0
            _t4 = x / _t3
            _t5 = _t2 + _t4
            return _t5
        """),
    "augmented_assignment": ("""
        def f(x):
            y = 1.0
            y *= x
            y += x * x
            return y
        """, """
        def f(x):
            y = 1.0
            _t1 = y * x
            y = _t1
            _t2 = x * x
            y = y + _t2
            return y
        """),
    "self_reference_but_not_increment": ("""
        def f(x):
            x = x * x
            s = 0.0
            s = s + x
            s = x - s
            return s
        """, """
        def f(x):
            _t1 = x * x
            x = _t1
            s = 0.0
            s = s + x
            _t2 = x - s
            s = _t2
            return s
        """),
    "conditional_expression": ("""
        def f(x):
            y = x if x > 0 else -x
            return y
        """, """
        def f(x):
            _cond1 = x > 0
            if _cond1:
                _t1 = x
            else:
                _t1 = -x
            y = _t1
            return y
        """),
    "and_or_values": ("""
        def f(x, y):
            z = x and y or 2.0
            return z
        """, """
        def f(x, y):
            _t2 = x
            _cond1 = _t2
            if _cond1:
                _t2 = y
            _t1 = _t2
            _cond2 = not _t1
            if _cond2:
                _t1 = 2.0
            z = _t1
            return z
        """),
    "if_elif_tests_saved": ("""
        def f(x):
            if x * x > 1.0:
                y = x
            elif x < 0:
                y = -x
            else:
                pass
            return y
        """, """
        def f(x):
            _cond1 = x * x > 1.0
            if _cond1:
                y = x
            else:
                _cond2 = x < 0
                if _cond2:
                    y = -x
            return y
        """),
    "while_trip_counter": ("""
        def f(x):
            while x < 10.0:
                x = x * 2.0
            return x
        """, """
        def f(x):
            _trip1 = 0
            while x < 10.0:
                _t1 = x * 2.0
                x = _t1
            return x
        """),
    "for_bound_rebound_in_body": ("""
        def f(x, n):
            for i in range(n):
                n = n - 1
                x = x * x
            return x
        """, """
        def f(x, n):
            _t1 = n
            for i in range(_t1):
                n = n - 1
                _t2 = x * x
                x = _t2
            return x
        """),
    "tuple_assignment_swap": ("""
        def f(x, y):
            a, b = x, y
            a, b = b, a * b
            return a
        """, """
        def f(x, y):
            a = x
            b = y
            _t1 = a * b
            _t2 = b
            a = _t2
            b = _t1
            return a
        """),
    "chained_assignment": ("""
        def f(x):
            a = b = x * 2.0
            return a + b
        """, """
        def f(x):
            a = x * 2.0
            b = a
            _t1 = a + b
            return _t1
        """),
    "max_of_three_and_sum_of_literal": ("""
        def f(x, y, z):
            m = max(x, y, z * 2.0)
            s = sum([x, y, z])
            return m + s
        """, """
        def f(x, y, z):
            _t1 = z * 2.0
            _t2 = max(x, y)
            m = max(_t2, _t1)
            _t3 = 0 + x
            _t4 = _t3 + y
            s = _t4 + z
            _t5 = m + s
            return _t5
        """),
    "docstring_pass_annotation_dropped": ('''
        def f(x):
            """doc"""
            pass
            y: float = x + 1.0
            z: float
            return y
        ''', """
        def f(x):
            y = x + 1.0
            return y
        """),
    "opaque_values_kept": ("""
        def f(x):
            n = int(x) + x // 2.0
            c = not x > 1.0
            k = -3
            return x * n + k
        """, """
        def f(x):
            _t1 = int(x)
            _t2 = x // 2.0
            n = _t1 + _t2
            c = not x > 1.0
            k = -3
            _t3 = x * n
            _t4 = _t3 + k
            return _t4
        """),
    "return_tuple": ("""
        def f(x, y):
            return x * y, x + 1.0
        """, """
        def f(x, y):
            _t1 = x * y
            _t2 = x + 1.0
            return (_t1, _t2)
        """),
}


@pytest.mark.parametrize("case", sorted(NORMALIZE))
def test_normalize(case: str) -> None:
    src, expected = NORMALIZE[case]
    assert normalize(src) == expect(expected)


def test_normalize_output_is_a_fixed_point() -> None:
    """Normalised code is already elementary: normalising it again changes nothing."""
    for case in ("nested_expression", "augmented_assignment", "max_of_three_and_sum_of_literal"):
        once = normalize(NORMALIZE[case][0])
        assert normalize(once) == once


# ----------------------------------------------------------------------- jumps, desugar

JUMPS = {
    "continue": ("""
        def f(x):
            for i in range(3):
                if i == 1:
                    continue
                x = x * 2.0
            return x
        """, """
        def f(x):
            for i in range(3):
                _go1 = True
                if i == 1:
                    _go1 = False
                if _go1:
                    x = x * 2.0
            return x
        """),
    "early_return": ("""
        def f(x):
            if x > 0.0:
                return x
            y = -x
            return y
        """, """
        def f(x):
            _result1 = None
            _live1 = True
            if x > 0.0:
                _result1 = x
                _live1 = False
            if _live1:
                y = -x
                _result1 = y
                _live1 = False
            return _result1
        """),
    "while_else_with_break": ("""
        def f(x):
            while x < 10.0:
                if x < 0.0:
                    break
                x = x * 2.0
            else:
                x = x + 1.0
            return x
        """, """
        def f(x):
            _broke1 = False
            _stop1 = False
            while x < 10.0:
                _go1 = True
                if x < 0.0:
                    _broke1 = True
                    _go1 = False
                    _stop1 = True
                if _go1:
                    x = x * 2.0
                if _stop1:
                    break
            if not _broke1:
                x = x + 1.0
            return x
        """),
    "for_else_without_break": ("""
        def f(x):
            for i in range(3):
                x = x * 2.0
            else:
                x = x + 1.0
            return x
        """, """
        def f(x):
            for i in range(3):
                x = x * 2.0
            x = x + 1.0
            return x
        """),
}

DESUGAR = {
    "enumerate": ("""
        def f(xs):
            s = 0.0
            for i, x in enumerate(xs):
                s = s + i * x
            return s
        """, """
        def f(xs):
            _seq1 = sequence(xs)
            _n1 = len(_seq1)
            s = 0.0
            for _k1 in range(_n1):
                i, x = (_k1, _seq1[_k1])
                s = s + i * x
            return s
        """),
    "zip": ("""
        def f(xs, ys):
            s = 0.0
            for x, y in zip(xs, ys):
                s = s + x * y
            return s
        """, """
        def f(xs, ys):
            _seq1 = sequence(xs)
            _n1 = len(_seq1)
            _seq2 = sequence(ys)
            _n2 = len(_seq2)
            s = 0.0
            for _k1 in range(min(_n1, _n2)):
                x, y = (_seq1[_k1], _seq2[_k1])
                s = s + x * y
            return s
        """),
    "unpack_non_literal": ("""
        def f(t):
            a, b = t
            return a * b
        """, """
        def f(t):
            unpacked(t, 2)
            a = t[0]
            b = t[1]
            return a * b
        """),
    "list_comprehension": ("""
        def f(x):
            v = [x * i for i in range(3)]
            return v
        """, """
        def f(x):
            _list1 = []
            for _i1 in range(3):
                _list1.append(x * _i1)
            v = _list1
            return v
        """),
}


@pytest.mark.parametrize("case", sorted(JUMPS))
def test_jumps(case: str) -> None:
    src, expected = JUMPS[case]
    assert to_source(Jumps(parse(src).func).run()) == expect(expected)


@pytest.mark.parametrize("case", sorted(DESUGAR))
def test_desugar(case: str) -> None:
    src, expected = DESUGAR[case]
    assert to_source(Desugar(parse(src).func).run()) == expect(expected)


# ----------------------------------------------------------------------- whole pipeline

PIPELINE = {
    "straight_line": ({}, """
        def grad_straight_line(x, y):
            # forward sweep
            z = x * y + math.sin(x)
            _t3 = z / y
            # reverse sweep
            b_t3 = seed_scalar(_t3, 'straight_line')
            # line 11: return z / y
            bz = b_t3 * (1.0 / y)
            # line 10: z = x * y + math.sin(x)
            bx = bz * math.cos(x)
            bx += bz * y
            return bx
        """),
    "straight_line wrt both": ({"wrt": (0, "y")}, """
        def grad_straight_line(x, y):
            # forward sweep
            z = x * y + math.sin(x)
            _t3 = z / y
            # reverse sweep
            b_t3 = seed_scalar(_t3, 'straight_line')
            # line 11: return z / y
            bz = b_t3 * (1.0 / y)
            by = b_t3 * (-_t3 / y)
            # line 10: z = x * y + math.sin(x)
            bx = bz * math.cos(x)
            bx += bz * y
            by += bz * x
            return (bx, by)
        """),
    "if_else": ({}, """
        def grad_if_else(x):
            # forward sweep
            _cond1 = x > 0.0
            if _cond1:
                y = x * x
            else:
                y = -x
            # reverse sweep
            by = seed_scalar(y, 'if_else')
            # line 15: if x > 0.0:
            if _cond1:
                # line 16: y = x * x
                bx = 2.0 * (by * x)
            else:
                # line 18: y = -x
                bx = -by
                by = 0.0
            return bx
        """),
    "for_loop": ({}, """
        def grad_for_loop(x):
            # forward sweep
            s = 0.0
            # the loop below runs its own adjoint: the adjoints start here
            bs = 1.0
            bx = 0.0
            # loop and adjoint in one (the terms of the loop are independent)
            for i in range(3):
                s = s + x * i
                # line 25: s = s + x * i
                bx += bs * i
            # reverse sweep
            seed_scalar(s, 'for_loop')
            return bx
        """),
    "while_loop": ({}, """
        def grad_while_loop(x):
            # forward sweep
            _trip1 = 0
            while x < 10.0:
                _trip1 += 1
                x = x * 2.0
            # reverse sweep
            bx = seed_scalar(x, 'while_loop')
            # line 30: while x < 10.0:
            for _ in range(_trip1):
                # line 31: x = x * 2.0
                bx = bx * 2.0
            return bx
        """),
    "loop_reassign": ({}, """
        def grad_loop_reassign(x):
            # tape: values the reverse sweep reads after they are overwritten
            _t1 = None
            _tape = []
            _push = _tape.append
            _pop = _tape.pop
            # forward sweep
            y = x
            for i in range(3):
                _push(_t1)
                _t1 = math.sin(y)
                _push(y)
                y = _t1 * x
            # reverse sweep
            by = seed_scalar(y, 'loop_reassign')
            bx = 0.0
            # line 37: for i in range(3):
            for i in range(3):
                # line 38: y = math.sin(y) * x
                b_t1 = by * x
                bx += by * _t1
                y = _pop()
                by = b_t1 * math.cos(y)
                _t1 = _pop()
            # line 36: y = x
            bx = add(bx, by)
            return bx
        """),
    "loop_reassign value_and_grad": ({"kind": "value_and_grad"}, """
        def value_and_grad_loop_reassign(x):
            # tape: values the reverse sweep reads after they are overwritten
            _t1 = None
            _tape = []
            _push = _tape.append
            _pop = _tape.pop
            # forward sweep
            y = x
            for i in range(3):
                _push(_t1)
                _t1 = math.sin(y)
                _push(y)
                y = _t1 * x
            _value1 = y
            # reverse sweep
            by = seed_scalar(y, 'loop_reassign')
            bx = 0.0
            # line 37: for i in range(3):
            for i in range(3):
                # line 38: y = math.sin(y) * x
                b_t1 = by * x
                bx += by * _t1
                y = _pop()
                by = b_t1 * math.cos(y)
                _t1 = _pop()
            # line 36: y = x
            bx = add(bx, by)
            return (_value1, bx)
        """),
}


@pytest.mark.parametrize("case", list(PIPELINE))
def test_pipeline(case: str) -> None:
    options, expected = PIPELINE[case]
    fn = getattr(golden, case.split()[0])
    assert ast_ad.source(fn, **options) == expect(expected)


def test_tape_only_where_needed() -> None:
    for name in ("straight_line", "if_else", "for_loop", "while_loop"):
        assert "_tape" not in ast_ad.source(getattr(golden, name))
    assert "_tape = []" in ast_ad.source(golden.loop_reassign)


def test_every_reverse_block_has_a_line_comment() -> None:
    for case in PIPELINE:
        fn = getattr(golden, case.split()[0])
        reverse = ast_ad.source(fn).split("# forward sweep\n", 1)[1].splitlines()
        comments = [line.strip() for line in reverse if line.strip().startswith("# line ")]
        assert comments, case
        for comment in comments:  # each names a real line of golden_functions.py
            number, text = comment[len("# line "):].split(": ", 1)
            with open(golden.__file__) as fh:
                assert fh.read().splitlines()[int(number) - 1].strip() == text


GOLDEN_POINTS = {"straight_line": [(0.7, 1.9), (-1.2, 0.4)], "if_else": [(-0.8,), (1.1,)],
                 "for_loop": [(1.3,), (-0.4,)], "while_loop": [(0.9,), (3.7,)],
                 "loop_reassign": [(0.6,), (-1.4,)]}


@pytest.mark.parametrize("name", sorted(GOLDEN_POINTS))
def test_golden_gradients_are_right(name: str) -> None:
    """The frozen adjoints compute the right numbers (central differences)."""
    fn = getattr(golden, name)
    for point in GOLDEN_POINTS[name]:
        h = 1e-6
        up, down = (point[0] + h,) + point[1:], (point[0] - h,) + point[1:]
        expected = (fn(*up) - fn(*down)) / (2 * h)
        value, grad = ast_ad.value_and_grad(fn)(*point)
        assert value == fn(*point)
        assert grad == pytest.approx(expected, rel=1e-6, abs=1e-8)


# ----------------------------------------------------------------------- inline and tuples

def test_inline_and_tuples() -> None:
    """A small helper of the same module is inlined (its names renamed apart, the constant
    argument substituted), and the tuple it returns is never built."""
    from ast_ad import pipeline
    from ast_ad.passes.inline import Inliner
    from ast_ad.passes.normalize import Normalize
    from ast_ad.passes.resolve import Env, resolve
    from ast_ad.passes.tuples import forward_tuples
    from ast_ad.source import parse_function

    parsed = parse_function(golden.inline_caller)
    env = Env.of(golden.inline_caller)
    calls, _ = resolve(parsed, env)
    namer = pipeline.Namer(pipeline.names_in(parsed.func))
    pipeline.Desugar(parsed.func, namer, calls, parsed.error).run()
    inliner = Inliner(env.globals, namer, (parsed.filename, parsed.func.lineno), False)
    norm = Normalize(parsed, calls, namer, False, inliner).run()
    before = to_source(norm.func)
    forward_tuples(norm.func, namer.made)
    assert before == expect("""
        def inline_caller(x):
            v_1 = x * 2.0
            _t2 = v_1 * v_1
            _t3 = v_1 + 1.0
            _t1 = (_t2, _t3)
            _seq1 = _t1
            unpacked(_seq1, 2)
            a = _seq1[0]
            b = _seq1[1]
            _t4 = a + b
            return _t4
        """)
    assert to_source(norm.func) == expect("""
        def inline_caller(x):
            v_1 = x * 2.0
            _t2 = v_1 * v_1
            _t3 = v_1 + 1.0
            a = _t2
            b = _t3
            _t4 = a + b
            return _t4
        """)
    assert ast_ad.source(golden.inline_caller) == expect("""
        def grad_inline_caller(x):
            # forward sweep
            v_1 = x * 2.0
            _t2 = v_1 * v_1
            _t3 = v_1 + 1.0
            a = _t2
            b = _t3
            _t4 = a + b
            # reverse sweep
            b_t4 = seed_scalar(_t4, 'inline_caller')
            # line 49: return a + b
            ba = b_t4
            bb = b_t4
            # line 48: a, b = inline_helper(x, 2.0)
            bv_1 = bb
            bv_1 += 2.0 * (ba * v_1)
            bx = bv_1 * 2.0
            return bx
        """)


def test_simplify_inlines_across_tape_pops() -> None:
    """A temporary used once is put into its use past tape pops in between, unless a pop
    sets a name the temporary's value reads."""
    from ast_ad.passes.simplify import simplify
    from ast_ad.templates import parse_generated
    src = textwrap.dedent("""\
        def f(g, a, r, q):
            b_t1 = g * a
            r = _pop()
            q = b_t1 * r
            b_t2 = g * r
            r = _pop()
            q = q + b_t2
            return q
        """)
    func = simplify(parse_generated(src, {"_pop"}), {"b_t1", "b_t2"}, arrays=False)
    assert to_source(func) == textwrap.dedent("""\
        def f(g, a, r, q):
            r = _pop()
            q = g * a * r
            b_t2 = g * r
            r = _pop()
            q = q + b_t2
            return q
        """)


def test_simplify_inlines_a_sum_adjoint_into_arithmetic() -> None:
    """``sum_vjp`` of names goes into the arithmetic that uses it (where the peephole pass
    makes it ``sum_expand``), but not into a statement that calls a helper that may change
    an adjoint (``add_at``), nor into a call's argument, nor when it reads a popped name."""
    from ast_ad.passes.peephole import peephole
    from ast_ad.passes.simplify import simplify
    from ast_ad.templates import parse_generated
    helpers = {"sum_vjp", "reduce_to", "add_at", "_pop"}
    src = textwrap.dedent("""\
        def f(g, _t1, _t2, bx, x, i):
            b_t1 = sum_vjp(g, _t1, 1, False)
            bz = reduce_to(b_t1 * _t1, _t2)
            b_t2 = sum_vjp(g, _t1, 1, False)
            bx = add_at(bx, x, (i,), b_t2 * _t1)
            b_t3 = sum_vjp(g, _t1, 1, False)
            bz = reduce_to(b_t3, _t2)
            b_t4 = sum_vjp(g, _t1, 1, False)
            _t1 = _pop()
            bz = reduce_to(b_t4 * _t1, _t2)
            return bz
        """)
    temps = {"b_t1", "b_t2", "b_t3", "b_t4", "_t1", "_t2"}  # (none is last evaluated)
    func = peephole(simplify(parse_generated(src, helpers), temps, arrays=True), arrays=True)
    assert to_source(func) == textwrap.dedent("""\
        def f(g, _t1, _t2, bx, x, i):
            bz = reduce_to(sum_expand(g, _t1, 1, False) * _t1, _t2)
            b_t2 = sum_vjp(g, _t1, 1, False)
            bx = add_at(bx, x, (i,), b_t2 * _t1)
            b_t3 = sum_vjp(g, _t1, 1, False)
            bz = reduce_to(b_t3, _t2)
            b_t4 = sum_vjp(g, _t1, 1, False)
            _t1 = _pop()
            bz = reduce_to(b_t4 * _t1, _t2)
            return bz
        """)


def test_dead_starts_go_and_live_ones_stay() -> None:
    """A zero start goes when every way on sets the adjoint first: after ``if`` branches
    that both set it, or a top-level set. It stays when a loop (which may run no
    iteration) is the only setter before a read, when one branch alone sets it, and when
    a loop body reads it before setting it."""
    from ast_ad.passes.starts import dead_starts
    from ast_ad.templates import parse_generated
    src = textwrap.dedent("""\
        def f(g, c, n):
            ba = 0.0
            bb = 0.0
            bc = 0.0
            bd = 0.0
            be = 0.0
            if c:
                ba = g
                bb = g
            else:
                ba = -g
            for i in range(n):
                bc = g * i
                bd = bd + g
            be = g * 2.0
            return (ba, bb, bc, bd, be)
        """)
    out = to_source(dead_starts(parse_generated(src, set()), {"ba", "bb", "bc", "bd", "be"}))
    assert out.splitlines()[1:4] == ["    bb = 0.0", "    bc = 0.0", "    bd = 0.0"]
    assert "ba = 0.0" not in out and "be = 0.0" not in out


def _last_of_loop(x, n):
    y = 0.0
    for i in range(n):
        y = x * i
    return y + x


@pytest.mark.parametrize("n", [0, 1, 3])
def test_gradients_after_dead_starts(n: int) -> None:
    from ast_ad.testing import check_grad
    check_grad(_last_of_loop, (0.7, n))
    for x in (0.7, -0.4):
        check_grad(golden.if_else, (x,))


def test_zero_start_of_a_list_adjoint_passes_the_list_through() -> None:
    """``bxs = 0.0; bxs = add(bxs, sequence_vjp(b_seq1, xs, _seq1))`` is ``bxs =
    sequence_vjp(...)`` when ``b_seq1`` is a new list of zeros changed only item by item;
    not when it is also read as a whole (``bq = b_seq1``), where it could be held twice."""
    from ast_ad.passes.starts import dead_starts
    from ast_ad.templates import parse_generated
    helpers = {"zeros_like", "add", "sequence_vjp"}
    src = textwrap.dedent("""\
        def f(xs, _seq1, g):
            b_seq1 = zeros_like(_seq1)
            bxs = 0.0
            for k in range(2):
                b_seq1[k] += g
            bxs = add(bxs, sequence_vjp(b_seq1, xs, _seq1))
            return bxs
        """)
    adjoints = {"b_seq1", "bxs", "bq"}
    out = to_source(dead_starts(parse_generated(src, helpers), adjoints))
    assert "bxs = 0.0" not in out and "    bxs = sequence_vjp(b_seq1, xs, _seq1)\n" in out
    held = src.replace("    bxs = add(", "    bq = b_seq1\n    bxs = add(")
    held = held.replace("return bxs", "return (bxs, bq)")
    out = to_source(dead_starts(parse_generated(held, helpers), adjoints))
    assert "bxs = 0.0" in out and "add(bxs, sequence_vjp" in out


def test_zero_start_read_first_by_add_at_is_a_fresh_start() -> None:
    """``bx = 0.0 ... bx = add_at(bx, x, path, g)`` is ``bx = add_at(None, x, path, g)``;
    not when ``bx`` is also in ``g``, nor when a loop holds the first ``add_at``. An
    ``add_at`` of a zero into a fresh start still gives a number, not None."""
    from ast_ad.passes.starts import dead_starts
    from ast_ad.runtime import add_at
    from ast_ad.templates import parse_generated
    helpers = {"add_at"}
    src = textwrap.dedent("""\
        def f(x, g, n):
            bx = 0.0
            by = 0.0
            bz = 0.0
            by = add_at(by, x, (0,), g * by)
            for i in range(n):
                bz = add_at(bz, x, (i,), g)
            bx = add_at(bx, x, (1,), g)
            bx = add_at(bx, x, (0,), g)
            return (bx, by, bz)
        """)
    out = to_source(dead_starts(parse_generated(src, helpers), {"bx", "by", "bz"}))
    assert "bx = 0.0" not in out and "    bx = add_at(None, x, (1,), g)\n" in out
    assert "    bx = add_at(bx, x, (0,), g)\n" in out
    assert "by = 0.0" in out and "bz = 0.0" in out and out.count("add_at(None") == 1
    assert add_at(None, np.ones(3), (0,), 0.0) == 0.0
    assert add_at(None, [1.0, 2.0], (1,), 0.0) == 0.0


def _spread_means(means, X):
    diff = X[:, None, :] - means[None, :, :]
    return np.sum(diff ** 2 * 0.5)


def test_gradient_through_a_fresh_add_at_start() -> None:
    """A wrt argument's adjoint started fresh by ``add_at(None, ...)`` (above): against
    finite differences and the formula sum_n (means_k - x_n), in the general adjoint and
    the specialised one (fourth call)."""
    from ast_ad.testing import check_grad
    r = np.random.default_rng(7)
    means, X = r.normal(size=(3, 2)), r.normal(size=(5, 2))
    source = ast_ad.source(_spread_means, wrt=0, arrays=True)
    assert "bmeans = add_at(None, means," in source and "bmeans = 0.0" not in source, source
    want = X.shape[0] * means - X.sum(axis=0)
    check_grad(_spread_means, (means, X))
    g = ast_ad.grad(_spread_means)
    for _ in range(4):
        assert np.allclose(g(means, X), want, rtol=1e-12, atol=1e-12)
    general, special = g.__ast_ad__._built[True][1:3]
    function = next(iter(special.functions.values()))  # the one the fourth call ran
    assert function is not general, "the fourth call ran the general adjoint"
    text = "".join(linecache.getlines(function.__code__.co_filename))
    assert "bmeans = (-bdiff).reshape(means.shape)" in text and "add_at" not in text, text


def test_list_gradient_is_a_new_list_each_call() -> None:
    def fit(coeffs, xs):
        s = 0.0
        for x in xs:
            p = 0.0
            for c in coeffs:
                p = p * x + c
            s += p * p
        return s

    g = ast_ad.grad(fit)
    coeffs, xs = [0.5, -1.0, 2.0], [0.3, 0.7]
    first = g(coeffs, xs)
    second = g(coeffs, xs)
    assert first == second and first is not second and type(first) is list
    want = [sum(2.0 * (0.5 * x * x - x + 2.0) * x ** (2 - k) for x in xs) for k in range(3)]
    assert first == pytest.approx(want, rel=1e-12)


def test_reset_set_again_in_its_block_goes() -> None:
    """In a loop body, ``bh = 0.0`` followed in the same block by ``bh = ...`` (not reading
    it) goes; a reset at the end of the body, which the next iteration reads, stays."""
    from ast_ad.passes.starts import dead_starts
    from ast_ad.templates import parse_generated
    src = textwrap.dedent("""\
        def f(g, n, w):
            bh = 0.0
            bk = 0.0
            for i in range(n):
                bx = bh * w
                __ast_ad_comment__("line 3: h = w * h")
                bh = 0.0
                __ast_ad_comment__("line 2: k = h + 1")
                bh = bx * w
                bk = bk + bh
                bk = 0.0
            return (bh, bk)
        """)  # (the comment calls are how comment lines are held in the tree)
    out = to_source(dead_starts(parse_generated(src, set()), {"bh", "bk", "bx"}))
    assert out == textwrap.dedent("""\
        def f(g, n, w):
            bh = 0.0
            bk = 0.0
            for i in range(n):
                bx = bh * w
                # line 2: k = h + 1
                bh = bx * w
                bk = bk + bh
                bk = 0.0
            return (bh, bk)
        """)
