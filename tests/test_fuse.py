"""The fuse pass: which loops run their own adjoint, and that their gradients are right."""
from __future__ import annotations

import fuse_cases as cases
import pytest

import ast_ad
from ast_ad.testing import numerical_grad

FUSED = "loop and adjoint in one"
POINTS = {
    "rosen": ([0.3, -1.1, 0.8, 1.7, -0.4],), "fit": (0.7, -0.2, [0.5, 1.5, -1.0], [1.0, 0.1, 2.0]),
    "wave": (0.9, 1.3), "product": ([0.5, 1.5, -0.7],), "squared_sum": ([0.5, 1.5, -0.7],),
    "early_stop": ([0.5, 1.5, 2.5, -0.7],), "grows": ([0.5, 1.5, -0.7],),
    "carried": ([0.5, 1.5, -0.7], 0.8),
    "horner": ([0.3, -1.2, 0.7], [0.5, -1.0, 2.0], [1.0, 0.0, -1.0]),
    "horner_squared": ([0.3, -1.2, 0.7], [0.5, -1.0, 2.0], [1.0, 0.0, -1.0]),
    "inner_tape": ([0.3, -1.2, 0.7], [0.5, -1.0, 2.0]),
    "chained": (0.9, [0.5, -1.0, 2.0]),
    "doubling": (0.9, [0.5, -1.0, 2.0]),  # the nested reverse loop carries bx over
    "last_item": (0.9, [0.5, -1.0, 2.0]),  # w, which the nested reverse loop sets, is read
    "keep_tape": (0.9, [0.5, -1.0, 2.0]),  # fused, but the tape still holds y for later
}
SHOULD_FUSE = {"rosen", "fit", "wave", "horner", "keep_tape"}  # horner: a nested loop


@pytest.mark.parametrize("name", sorted(POINTS))
def test_fused_only_when_safe_and_gradients_match(name: str) -> None:
    fn, args = getattr(cases, name), POINTS[name]
    wrt = tuple(i for i, a in enumerate(args) if i < 2 or not isinstance(a, list))
    wrt = tuple(i for i in wrt if not (name == "fit" and i > 1))
    if name in ("horner", "horner_squared", "inner_tape", "doubling", "last_item",
                "keep_tape"):
        wrt = (0,)  # the coefficients, as a fit does
    source = ast_ad.source(fn, wrt=wrt)
    assert (FUSED in source) == (name in SHOULD_FUSE), source
    value, grads = ast_ad.value_and_grad(fn, wrt=wrt)(*args)
    assert value == fn(*args)
    for index, grad in zip(wrt, grads):
        arg = args[index]
        items = list(enumerate(arg)) if isinstance(arg, list) else [(None, arg)]
        for k, value in items:
            def moved(v, k=k, index=index, arg=arg):
                changed = list(args)
                changed[index] = v if k is None else arg[:k] + [v] + arg[k + 1:]
                return fn(*changed)
            got = grad if k is None else grad[k]
            assert got == pytest.approx(numerical_grad(moved, (value,)), rel=1e-7, abs=1e-9)


def test_fused_loop_layout() -> None:
    """The seed is set before the loop, the adjoint follows the primal statements in the
    loop body, and the result is still checked after it."""
    assert ast_ad.source(cases.wave, wrt=(0, 1)) == '''\
def grad_wave(x, y):
    # forward sweep
    z = x * y
    # the loop below runs its own adjoint: the adjoints start here
    bz = 1.0
    bx = 0.0
    # loop and adjoint in one (the terms of the loop are independent)
    for i in range(3):
        _t1 = x * i
        z = z + math.sin(_t1)
        # line 24: z = z + math.sin(x * i)
        bx += math.cos(_t1) * i
    # reverse sweep
    seed_scalar(z, 'wave')
    # line 22: z = x * y
    bx += bz * y
    by = bz * x
    return (bx, by)
'''


def test_fused_result_still_checked() -> None:
    """The seed is set before the loop, but a result that is not a number is still refused
    (after the loop, where the unfused adjoint refuses it)."""
    assert FUSED in ast_ad.source(cases.doubled)
    assert ast_ad.grad(cases.doubled)([1.5, 2.0]) == [2.0, 2.0]
    with pytest.raises(ast_ad.GradientError, match="return a real scalar"):
        ast_ad.grad(cases.doubled)(["a", "b"])


def test_side_by_side_of_a_fused_loop() -> None:
    """Each primal line gets its adjoint statements, never the loop's forward ones."""
    from ast_ad.sidebyside import adjoint_blocks
    blocks = adjoint_blocks(ast_ad.source(cases.fit, wrt=(0, 1)))
    assert blocks == {16: ["bb += br", "ba += br * _t2"],
                      17: ["br = 2.0 * (bloss * r)"], 18: ["bloss = 1.0 / _t7"]}


@pytest.mark.parametrize("name", ["reuse_index", "hoist_order"])
def test_order_sensitive_loops(name: str) -> None:
    """A loop variable used before the loop, a statement after the loop that must not move
    before it: whether fused or not, the gradient is right."""
    fn = getattr(cases, name)
    x, xs = 0.7, [0.5, -1.25, 2.0]
    value, (gx, gxs) = ast_ad.value_and_grad(fn, wrt=(0, 1))(x, xs)
    assert value == fn(x, xs)
    assert gx == pytest.approx(numerical_grad(lambda v: fn(v, xs), (x,)), rel=1e-9)
    for k in range(len(xs)):
        moved = numerical_grad(lambda v, k=k: fn(x, xs[:k] + [v] + xs[k + 1:]), (xs[k],))
        assert gxs[k] == pytest.approx(moved, rel=1e-9, abs=1e-12)


def test_nested_loop_and_taped_value_fuse_without_a_tape() -> None:
    """Horner's rule: the reverse of the inner loop runs inside the outer loop, and the
    residual the tape kept for it is read as the iteration left it: no tape at all."""
    source = ast_ad.source(cases.horner, wrt=0)
    fused = source[source.index(FUSED):source.index("# reverse sweep")]
    assert "for x, y in zip(_seq2, _seq3):" in fused
    assert "        for _k1 in reversed(range(_n1)):\n" in fused
    assert "_tape" not in source and "_push" not in source and "_pop" not in source
    assert "r = None" not in source
    lines = source.splitlines()  # the inner loop's heading is not repeated inside it
    at = next(k for k, line in enumerate(lines) if "for _k1 in reversed" in line)
    assert lines[at + 1].strip() != lines[at - 1].strip()
    assert lines[at - 1].strip().startswith("# line") and "for c in coeffs" in lines[at - 1]
    squared = ast_ad.source(cases.horner_squared, wrt=0)  # its seed needs the loop's result
    assert FUSED not in squared and "_push(r)" in squared
