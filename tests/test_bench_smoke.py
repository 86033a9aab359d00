"""The benchmark's correctness, without timing anything and without its peers: every
workload's hand-written adjoint agrees with central finite differences at the small size,
ast_ad's value and gradient agree with it, and the runner runs end to end."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:        # `bench/` is not installed: import it from the checkout
    sys.path.insert(0, str(ROOT))

import ast_ad  # noqa: E402
from bench.common import close, flatten, unflatten_like, wrt_positions  # noqa: E402
from bench.workloads import NAMES, load  # noqa: E402

WORKLOADS = [load(n) for n in NAMES]


def finite_differences(f, args: tuple, wrt: object) -> list:
    """Central differences of ``f`` for every entry of every differentiated argument."""
    grads = []
    for pos in wrt_positions(wrt):
        x = flatten(args[pos])
        g = np.empty_like(x)
        for k in range(x.size):
            h = 1e-6 * max(1.0, abs(x[k]))
            values = []
            for step in (h, -h):
                moved = x.copy()
                moved[k] += step
                shifted = list(args)
                shifted[pos] = unflatten_like(moved, args[pos])
                values.append(float(f(*shifted)))
            g[k] = (values[0] - values[1]) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("w", WORKLOADS, ids=NAMES)
def test_workload_is_well_formed(w):
    assert w.KIND in ("scalar", "vectorised", "array-loop")
    assert set(w.SIZES) == {"small", "large"}
    assert callable(w.primal) and callable(w.hand)
    assert set(w.NOTES) <= set(w.PEERS) | {"jax"}


@pytest.mark.parametrize("w", WORKLOADS, ids=NAMES)
def test_hand_written_adjoint_matches_finite_differences(w):
    args = w.inputs("small")
    value, grads = w.hand(*args)
    ok, why = close(value, w.primal(*args), rtol=1e-12, atol=1e-12)
    assert ok, f"hand-written value differs from the primal's: {why}"
    grads = grads if isinstance(w.WRT, tuple) else (grads,)
    assert len(grads) == len(wrt_positions(w.WRT))
    for pos, got, want in zip(wrt_positions(w.WRT), grads, finite_differences(w.primal, args,
                                                                              w.WRT)):
        ok, why = close(got, want, rtol=1e-5, atol=1e-6)
        assert ok, f"gradient for argument {pos}: {why}"


@pytest.mark.parametrize("w", WORKLOADS, ids=NAMES)
def test_ast_ad_matches_hand_written_adjoint(w):
    args = w.inputs("small")
    value, grads = w.hand(*args)
    got_value, got_grads = ast_ad.value_and_grad(w.primal, wrt=w.WRT)(*args)
    ok, why = close(got_value, value, rtol=1e-12, atol=1e-12)
    assert ok, f"value: {why}"
    ok, why = close(got_grads, grads, rtol=1e-8, atol=1e-10)
    assert ok, f"gradient: {why}"


@pytest.mark.parametrize("w", [w for w in WORKLOADS if hasattr(w, "hand_exact")],
                         ids=[n for n, w in zip(NAMES, WORKLOADS) if hasattr(w, "hand_exact")])
def test_hand_exact_keeps_the_primal_value_bit_for_bit(w):
    """The informational ``hand_exact`` adjoint returns exactly the primal's value (the
    point of it) and the hand-written gradient; ``hand`` itself need not."""
    rng = np.random.default_rng(5)
    for args in (w.inputs("small"), w.inputs("large")) + tuple(
            (rng.uniform(-1.5, 1.5, n).tolist(),) for n in (2, 3, 50)):
        value, grads = w.hand_exact(*args)
        assert value == w.primal(*args)
        ok, why = close(grads, w.hand(*args)[1], rtol=1e-12, atol=1e-12)
        assert ok, why


def test_ratio_is_paired_by_round():
    """A slow spell that spans a round cancels in that round's ratio: the median of the
    rounds' ratios is 1.1 where the ratio of the medians is 5.5; with fewer than three
    rounds that have both times, the ratio of the medians."""
    from bench.run import paired_ratio
    hand = [1.0, 1.0, 1.0, 5.0, 5.0]
    ast = [1.1, 1.1, 5.5, 5.5, 5.5]
    assert paired_ratio(ast, hand) == pytest.approx(1.1)
    assert np.median(ast) / np.median(hand) == pytest.approx(5.5)
    assert paired_ratio([2.0, 9.0, 9.0], hand) == pytest.approx(9.0)  # slow rounds 1 and 2
    assert paired_ratio([3.0, 6.0], [1.0, 4.0]) == pytest.approx(4.5 / 2.5)
    assert paired_ratio([], hand) is None


def test_inputs_are_deterministic():
    for w in WORKLOADS:
        assert np.array_equal(flatten(w.inputs("small")), flatten(w.inputs("small")))


def test_thirty_line_function():
    import inspect

    from bench import thirty

    source = inspect.getsource(thirty.thirty_lines).rstrip("\n").splitlines()
    assert len(source) - 1 == thirty.LINES
    args = thirty.inputs()
    value, grad = ast_ad.value_and_grad(thirty.thirty_lines)(*args)
    ok, why = close(grad, finite_differences(thirty.thirty_lines, args, 0), rtol=1e-5,
                    atol=1e-7)
    assert ok, why


def test_runner_end_to_end_without_peers():
    """One workload, one size, one round, no peers: the runner runs and reports its
    targets (nothing about the timings is checked)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--only", "rosenbrock", "--sizes",
         "small", "--peers", "", "--rounds", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "## targets" in proc.stdout
    assert "## problems" not in proc.stdout, proc.stdout
