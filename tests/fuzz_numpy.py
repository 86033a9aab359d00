"""Random NumPy programs: ast_ad's gradient against central finite differences.

Long-running, so not part of the test suite (a few seeds run in
``tests/test_fuzz_smoke.py``). Run it with::

    python tests/fuzz_numpy.py --n 300 [--seed 1]

(``--n`` programs with every large-array path forced, and ``--n`` more as they come).
Each program's third gradient, which runs the specialised adjoint, is also compared bit
for bit with a new gradient's general adjoint.

Each program mixes matrix products, broadcasting against a vector, elementwise
functions, reductions with and without ``axis``/``keepdims``, log-sum-exps with a
stabilising shift, a recurrence over rows
(the loop shape the batch pass rewrites) and a scalar parameter, then sums to a number.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_loops import main, run_programs  # noqa: E402

import ast_ad  # noqa: E402
from ast_ad.testing import numerical_grad  # noqa: E402

STARTS = ["A = X @ W.T", "A = np.tanh(X @ W.T + v)", "A = np.dot(X, W.T) * s"]
STEPS = ["A = A * v", "A = A / (1.5 + v ** 2)", "A = np.exp(0.1 * A)", "A = A ** 2",
         "A = np.sin(A) * s", "A = A - np.max(A, axis=1, keepdims=True)",
         "A = A / np.sum(np.exp(A), axis=1, keepdims=True)", "A = A - np.mean(A, axis=0)",
         "A = (A - v) * (A + 1.0)", "A = A @ U", "A = np.maximum(A, 0.1 * A)",
         # a broadcast product only summed (contracted when large); tanh keeps the
         # magnitudes of A where a later exp does not overflow
         "A = A + 0.1 * np.tanh(np.sum((A - v) ** 2, axis=1, keepdims=True))",
         "A = A * np.tanh(np.sum(((A - v) / (1.0 + v * v)) ** 2, axis=0))",
         # log-sum-exps with a stabilising shift (which gets no adjoint)
         "m = np.max(A, axis=1, keepdims=True)\n    "
         "A = A - (np.log(np.sum(np.exp(A - m), axis=1)) + m[:, 0])[:, None]",
         "m = np.max(A)\n    A = A * (np.log(np.sum(np.exp(A - m))) + m)",
         "m = np.min(A, axis=0, keepdims=True)\n    "
         "A = A + s * (m + np.log(np.sum(np.exp(A - m), axis=0, keepdims=True)))"]
LOOPS = ["h = np.zeros(v.shape[0])\n    for t in range(X.shape[0]):\n"
         "        h = np.tanh(W @ X[t] + U @ h + v)\n        A = A + s * np.sum(h * v)",
         "h = np.zeros(v.shape[0])\n    for t in range(X.shape[0]):\n"
         "        h = np.tanh(X[t] @ W.T + h @ U) * s\n        A = A + h",
         ""]
ENDS = ["np.sum(A)", "np.mean(A ** 2)", "np.sum(np.sum(A, axis=1) ** 2)",
        "np.sum(np.max(A, axis=0))", "np.sum(A * A) / A.shape[0] + s * s"]


def program(r: random.Random) -> str:
    body = [r.choice(STARTS)] + [r.choice(STEPS) for _ in range(r.randint(1, 4))]
    loop = r.choice(LOOPS)
    if loop:
        body.append(loop)
    return ("import numpy as np\n\n\ndef f(W, U, v, s, X):\n"
            + "".join(f"    {line}\n" for line in body) + f"    return {r.choice(ENDS)}\n")


def point(r: random.Random) -> tuple:
    g = np.random.default_rng(r.randrange(2 ** 32))
    m, n, k = 3, 4, 5
    v = g.uniform(0.2, 1.2, size=m) * g.choice([-1.0, 1.0], size=m)  # away from 0: a
    # v near 0 puts np.maximum(A * v, 0.1 * A * v) at its kink within a finite-difference step
    return (g.normal(size=(m, n)) * 0.5, g.normal(size=(m, m)) * 0.5, v,
            float(g.uniform(0.5, 1.5)), g.normal(size=(k, n)))


def check(f, args) -> str | None:
    wrt = (0, 1, 2, 3)
    value_and_grad = ast_ad.value_and_grad(f, wrt=wrt)
    value, grads = value_and_grad(*args)
    if value != f(*args) and not (np.isnan(value) and np.isnan(f(*args))):
        return f"value {value!r} != {f(*args)!r}"
    if not np.isfinite(value):
        return None  # overflowed: no derivative to compare (the values agree above)
    problem = _specialised_differs(value_and_grad, f, args, wrt)
    if problem:
        return problem
    for index, grad in zip(wrt, grads):
        expected = numerical_grad(f, args, index)
        if np.shape(grad) != np.shape(expected):
            return f"argument {index}: shape {np.shape(grad)}, expected {np.shape(expected)}"
        if not np.allclose(grad, expected, rtol=1e-5, atol=1e-6):
            # a program of high degree (sin of a power of a power) has derivatives large
            # enough to spoil the default step: a mismatch must hold at a smaller one too
            expected = numerical_grad(f, args, index, step=1e-6)
            if not np.allclose(grad, expected, rtol=1e-5, atol=1e-6) \
                    and not _complex_step_agrees(f, args, index, grad):
                return f"argument {index}: ast_ad\n{grad}\nfinite differences\n{expected}"
    return None


def _specialised_differs(value_and_grad, f, args, wrt) -> str | None:
    """The third call records, the fourth runs the specialised adjoint (when the program
    allows one), here on other numbers of the same shapes: the same bits as a new
    gradient's general adjoint on them?"""
    value_and_grad(*args)
    value_and_grad(*args)
    other = tuple(a * 1.25 for a in args)
    got = value_and_grad(*other)
    want = ast_ad.value_and_grad(f, wrt=wrt)(*other)
    if not same_bits(got, want):
        return f"specialised adjoint\n{got}\ngeneral adjoint\n{want}"
    return None


def same_bits(a, b) -> bool:
    """The same values, types, shapes and dtypes, bit for bit (tuples item by item)."""
    if isinstance(a, tuple):
        return type(b) is tuple and len(a) == len(b) and all(map(same_bits, a, b))
    return type(a) is type(b) and np.shape(a) == np.shape(b) \
        and np.asarray(a).dtype == np.asarray(b).dtype \
        and np.array_equal(a, b, equal_nan=True)


def _complex_step_agrees(f, args, index, grad) -> bool:
    """Does the complex-step derivative (exact to rounding, for the analytic programs
    here: a far larger value than its small entries spoils finite differences) agree?"""
    x = np.asarray(args[index], dtype=float)
    exact = np.zeros(x.shape)
    try:
        for k in range(x.size):
            moved = x.astype(complex)
            moved.flat[k] += 1e-30j
            value = moved if x.ndim else complex(moved)
            exact.flat[k] = np.imag(f(*args[:index], value, *args[index + 1:])) / 1e-30
    except (TypeError, ValueError):
        return False
    return bool(np.allclose(grad, exact, rtol=1e-9, atol=1e-12))


def run(n: int, seed: int, small_as_large: bool = True) -> list[str]:
    """Check ``n`` programs; with ``small_as_large``, every released array is replaced by
    its stand-in, every allowed in-place operation done in place and every product only
    summed contracted (however small the array), so that those paths are exercised too
    (else the specialised adjoints drop those calls on these small arrays)."""
    from ast_ad import npruntime, specialise
    specialise.STRICT = True  # a failure to specialise is reported, not passed over
    kept = npruntime._STAND_IN_BYTES, npruntime._IN_PLACE_ELEMENTS, npruntime._CONTRACT_ELEMENTS
    if small_as_large:
        npruntime._STAND_IN_BYTES = npruntime._IN_PLACE_ELEMENTS = 0
        npruntime._CONTRACT_ELEMENTS = 0
    try:
        return _run(n, seed)
    finally:
        (npruntime._STAND_IN_BYTES, npruntime._IN_PLACE_ELEMENTS,
         npruntime._CONTRACT_ELEMENTS) = kept


def _run(n: int, seed: int) -> list[str]:
    with np.errstate(all="ignore"):
        return run_programs(n, seed, program, point, check)


def both(n: int, seed: int) -> list[str]:
    """``n`` programs with large-array paths forced, and ``n`` others as they come."""
    return run(n, seed) + run(n, seed + 10 ** 6, small_as_large=False)


if __name__ == "__main__":
    sys.exit(main(both, __doc__, 100))
