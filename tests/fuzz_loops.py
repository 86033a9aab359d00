"""Random scalar loop programs: ast_ad's gradient against central finite differences.

Long-running, so not part of the test suite (the suite runs a few seeds of it in
``tests/test_fuzz_smoke.py``). Run it with::

    python tests/fuzz_loops.py --n 500 [--seed 1]

Each program is a loop over a list with accumulations, products, carried locals,
branches and early exits, in the shapes the passes treat specially (a loop whose adjoint
runs inside it, also around nested loops, adjoints known to be zero, taped values),
followed by a result expression. Points stay away from the branch thresholds, so finite
differences apply.
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ast_ad  # noqa: E402
from ast_ad.testing import numerical_grad  # noqa: E402

TERMS = ["a * xs[i]", "b * xs[i]", "xs[i] * xs[i]", "math.sin(a * xs[i])", "math.cos(b + xs[i])",
         "a * b", "t * xs[i]", "math.exp(0.1 * xs[i])", "(xs[i] - a) ** 2", "xs[j] * b",
         "xs[0] * a", "xs[1] * xs[i]", "a * b * xs[0]", "helper(xs[i], xs)"]
STATEMENTS = [
    "s += {e}", "s = s + {e} * {e2}", "s = s * (1.0 + 0.1 * {e})", "t = {e}", "t = t * 0.5 + {e}",
    "u = {e}\n{ind}s += u * u", "if xs[i] > 0.0:\n{ind}    s += {e}",
    "if xs[i] > 1.5:\n{ind}    break", "q = {e}\n{ind}q = q * {e2}\n{ind}s += q",
    "for k in range(2):\n{ind}    s += {e} * xs[k]", "s += helper({e}, xs) * {e2}",
    "for w in xs:\n{ind}    s += 0.1 * w * {e}",
    "for w, v in zip(xs, xs[1:]):\n{ind}    s += w * v",
    # Horner's rule inside: a nested loop, and a residual the reverse sweep reads
    "p = 0.0\n{ind}for w in xs:\n{ind}    p = p * 0.3 + {e} * w\n{ind}r = p - {e2}"
    "\n{ind}s += r * r",
    "r = {e}\n{ind}for k in range(2):\n{ind}    s += r * xs[k] * {e2}",
    "p = {e}\n{ind}for k in range(2):\n{ind}    p = p * {e2}\n{ind}s += p",
    "s += (xs[j] - xs[i] * xs[i]) ** 2 + (1.0 - xs[i]) ** 2",  # Rosenbrock's term
]
# a helper that is inlined: its parameters' fixed items are the same in every iteration
HELPER = ["def helper(v, p):", "    c, d = p[0], p[1]", "    return c * v - d * v * v", "", ""]
RESULTS = ["s", "s * s", "s / len(xs)", "s + t", "math.sin(s) + t * a"]
PAIRS = ["(xs[j] - xs[i] * xs[i]) ** 2 * a", "xs[i] * xs[j + 0] - b * xs[j]",
         "math.sin(xs[i] - a * xs[j])", "xs[j] * a - xs[i] * b", "(xs[i + 1] - xs[i]) ** 2"]


def program(r: random.Random) -> str:
    """The source of one random function ``f(a, b, xs)``."""
    ind = " " * 8
    short = r.choice([0, 1])  # the loop stops before the last item: j may be i + 1
    steps = ["j = min(i + 1, len(xs) - 1)", "j = i"] + ["j = i + 1"] * short
    lines = ["import math", "", "", *HELPER, "def f(a, b, xs):", "    s = 0.0", "    t = 1.0",
             f"    for i in range(len(xs) - {short}):", ind + r.choice(steps)]
    paired = short and r.random() < 0.3
    if paired:  # neighbours: the adjoint of xs[i + 1] is carried to the next iteration
        lines[-1] = ind + "j = i + 1"
        lines.append(ind + f"s += {r.choice(PAIRS)}")
    for _ in range(r.randint(0 if paired else 1, 3 if paired else 4)):
        e, e2 = r.choice(TERMS), r.choice(TERMS)
        lines.append(ind + r.choice(STATEMENTS).format(e=e, e2=e2, ind=ind))
    lines.append(f"    return {r.choice(RESULTS)}")
    return "\n".join(lines) + "\n"


def load(source: str, directory: Path, k: int):
    path = directory / f"fuzz_{k}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"fuzz_{k}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def point(r: random.Random) -> tuple:
    def away() -> float:  # not within 0.05 of the branch thresholds 0 and 1.5
        while True:
            v = r.uniform(-1.2, 2.0)
            if abs(v) > 0.05 and abs(v - 1.5) > 0.05:
                return round(v, 3)
    return r.uniform(-1, 1), r.uniform(-1, 1), [away() for _ in range(r.randint(2, 5))]


def check(f, args) -> str | None:
    """None if ast_ad's gradient agrees with finite differences, else a description."""
    a, b, xs = args
    value, (ga, gb, gxs) = ast_ad.value_and_grad(f, wrt=(0, 1, 2))(*args)
    if value != f(*args):
        return f"value {value!r} != {f(*args)!r}"
    expected = [numerical_grad(lambda v: f(v, b, xs), (a,)),
                numerical_grad(lambda v: f(a, v, xs), (b,))]
    for k in range(len(xs)):
        expected.append(numerical_grad(
            lambda v, k=k: f(a, b, xs[:k] + [v] + xs[k + 1:]), (xs[k],)))
    got = [ga, gb, *gxs]
    for name, g, e in zip(["a", "b"] + [f"xs[{k}]" for k in range(len(xs))], got, expected):
        if not abs(g - e) <= 1e-6 + 1e-5 * max(abs(g), abs(e)):
            return f"d/d{name}: ast_ad {g!r}, finite differences {e!r}"
    return None


def run(n: int, seed: int) -> list[str]:
    """Check ``n`` programs; the failures, each with its program and point."""
    return run_programs(n, seed, program, point, check)


def run_programs(n: int, seed: int, make, point_of, check_one) -> list[str]:
    """``n`` programs from ``make(r)``, each checked at ``point_of(r)`` by ``check_one``
    (None when right); the failures, each with its program and point. A program that
    itself fails at its point (overflow, division by zero) is skipped."""
    r = random.Random(seed)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(n):
            source = make(r)
            f = load(source, Path(tmp), k)
            args = point_of(r)
            try:
                problem = check_one(f, args)
            except (OverflowError, ZeroDivisionError):
                continue
            except Exception as exc:  # noqa: BLE001 - report anything else
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                failures.append(f"{problem}\nat {args}\n{source}")
    return failures


def main(run_n=None, doc: str = __doc__, default_n: int = 200) -> int:
    """The command line: ``--n`` programs from ``--seed``, failures printed."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--n", type=int, default=default_n)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    failures = (run_n or run)(options.n, options.seed)
    for failure in failures:
        print(failure, "-" * 60, sep="\n")
    print(f"{options.n} programs, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
