"""The items pass (``ast_ad/passes/items.py``): item reads reused and adjoint item updates
merged within a block, never across anything that could change the item. Golden
before/after listings and gradients against finite differences."""
from __future__ import annotations

import textwrap

import pytest

import ast_ad
from ast_ad.passes.items import items
from ast_ad.source import to_source
from ast_ad.templates import parse_generated


def run(src: str) -> str:
    """The pass on ``src``'s function body, put in a loop (the pass works in loops)."""
    head, *body = textwrap.dedent(src).strip().splitlines()
    looped = "\n".join([head, "    for _ in range(9):"] + ["    " + line for line in body])
    out = to_source(items(parse_generated(looped, {"add"}), {"bx", "by"}))
    lines = out.splitlines()
    return "\n".join([lines[0]] + [line[4:] for line in lines[2:]]) + "\n"


def test_golden_reuse_and_merge() -> None:
    assert run("""
        def f(x, bx, i):
            t = x[i]
            u = x[i] * x[3]
            w = x[3]
            bx[i] += t
            bx[i] -= u * w
            return u
        """) == textwrap.dedent("""\
        def f(x, bx, i):
            t = x[i]
            u = t * x[3]
            w = x[3]
            bx[i] += t - u * w
            return u
        """)


@pytest.mark.parametrize("between", ["x[0] = 2.0", "x = [1.0]", "i = 0", "t = 1.0",
                                     "print(i)", "x.append(1.0)"])
def test_reads_not_reused_across_a_change(between: str) -> None:
    out = run(f"""
        def f(x, i):
            t = x[i]
            {between}
            u = 1.0 - x[i]
            return t + u
        """)
    assert "u = 1.0 - x[i]" in out


@pytest.mark.parametrize("between", ["v = bx[0]", "i = i + 1", "a = 2.0", "print(a)"])
def test_updates_not_merged_across_a_read_or_change(between: str) -> None:
    out = run(f"""
        def f(bx, i, a, b):
            bx[i] -= a
            {between}
            bx[i] -= b
            return bx
        """)
    assert "bx[i] -= a\n" in out and "bx[i] -= b\n" in out


def test_adjoint_item_writes_do_not_stop_reuse() -> None:
    out = run("""
        def f(x, bx, i):
            t = x[i]
            bx[i] += t
            u = x[i]
            return u
        """)
    assert "u = t" in out


ROSENBROCK = """
def rosen(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s
"""


def test_rosenbrock_gradient(make_module) -> None:
    m = make_module(ROSENBROCK)
    src = ast_ad.source(m.rosen)
    assert "1.0 - x[i]" not in src.split("# line")[0]  # the item read once
    assert src.count("bx[i] = _c1 -") == 1  # the two updates one (then carried)
    x = [0.3, -1.1, 0.8, 1.7]
    value, g = ast_ad.value_and_grad(m.rosen)(x)
    assert value == m.rosen(x)
    want = [0.0] * len(x)
    for i in range(len(x) - 1):  # hand-derived
        t = x[i + 1] - x[i] ** 2
        want[i] += -400.0 * t * x[i] - 2.0 * (1.0 - x[i])
        want[i + 1] += 200.0 * t
    assert g == pytest.approx(want, rel=1e-13)


def test_golden_copy_read_once_moves_up() -> None:
    """``bx = by; by = by * x; g[k] += bx``: the update reads ``by`` before it changes."""
    assert run("""
        def f(g, k, by, x):
            bx = by
            by = by * x
            g[k] += bx
            return by
        """) == textwrap.dedent("""\
        def f(g, k, by, x):
            g[k] += by
            by = by * x
            return by
        """)


@pytest.mark.parametrize("body", [
    # one read that cannot move above what is between
    ["by = by * x", "x = g[k]", "g[k] += bx"], ["by = by * x", "g[k] = 0.0", "g[k] += bx"],
    ["by = by * x", "k = k + 1", "g[k] += bx"], ["by = by * x", "print(by)", "g[k] += bx"],
    # two reads, with the source or the copy changed between them
    ["a = bx * x", "by = by * x", "g[k] += bx * a"], ["a = bx * x", "bx += x", "g[k] += bx * a"],
])
def test_copy_stays(body: list) -> None:
    lines = "".join(f"    {line}\n" for line in body)
    assert "bx = by" in run(f"def f(g, k, by, x, a):\n    bx = by\n{lines}    return (by, a)\n")


def test_your_variables_are_not_renamed() -> None:
    out = run("""
        def f(g, k, s, x):
            c = s
            s = s * x
            g[k] += c
            return s
        """)
    assert "c = s" in out  # only adjoints (bx, by here) are forwarded


def test_copy_read_several_times_is_forwarded() -> None:
    out = run("""
        def f(g, by, x, k):
            bx = by * 2.0
            bx = by
            a = bx * x
            g[k] += bx * a
            return a
        """)
    assert "a = by * x" in out and "g[k] += by * a" in out




@pytest.mark.parametrize("change", ["by = by * x", "x = x * 2.0"])
def test_copy_written_again_before_its_read_is_kept(change: str) -> None:
    """``bx = by; bx = 0.0; g[k] += bx`` reads the 0.0, not ``by``."""
    out = run(f"""
        def f(g, k, by, x):
            bx = by
            {change}
            bx = 0.0
            g[k] += bx
            return by
        """)
    assert "g[k] += bx" in out and "bx = 0.0" in out


def test_adjoint_item_read_after_it_changes_is_read_again() -> None:
    """``t = bx[i]``, then ``bx[i] = 0.0``: a later ``bx[i]`` is 0.0, not ``t``."""
    out = run("""
        def f(bx, i, s):
            t = bx[i]
            bx[i] = 0.0
            u = bx[i] + s
            return t + u
        """)
    assert "u = bx[i] + s" in out


def test_update_reading_its_own_list_is_not_merged() -> None:
    """``bx[i] -= a`` then ``bx[i] -= bx[i] * b``: the second reads the first's result."""
    out = run("""
        def f(bx, i, a, b):
            bx[i] -= a
            bx[i] -= bx[i] * b
            return bx
        """)
    assert "bx[i] -= a\n" in out
