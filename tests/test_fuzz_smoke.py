"""A few seeds of the random programs of ``tests/fuzz_loops.py`` and
``tests/fuzz_numpy.py`` (the long runs: ``python tests/fuzz_loops.py --n 500`` and
``python tests/fuzz_numpy.py --n 300``)."""
from __future__ import annotations

import fuzz_loops


def test_random_loop_programs_match_finite_differences() -> None:
    failures = fuzz_loops.run(40, seed=3)
    assert not failures, "\n".join(failures[:3])


def test_inactive_list_argument_gets_a_list_of_zeros() -> None:
    """A list that only steers control flow has a zero gradient of its own shape."""
    import ast_ad

    source = "def f(a, xs):\n    s = a * 2.0\n    for x in xs:\n        if x > 1.5:\n" \
             "            break\n    return s\n"
    f = fuzz_loops.load(source, fuzz_loops.Path(__import__("tempfile").mkdtemp()), 0)
    assert ast_ad.grad(f, wrt=(0, 1))(1.0, [1.0, 2.0]) == (2.0, [0.0, 0.0])


def test_random_numpy_programs_match_finite_differences() -> None:
    import fuzz_numpy

    failures = fuzz_numpy.run(15, seed=2)
    assert not failures, "\n".join(failures[:3])


def test_random_numpy_programs_specialised_at_their_small_sizes() -> None:
    import fuzz_numpy

    failures = fuzz_numpy.run(15, seed=4, small_as_large=False)
    assert not failures, "\n".join(failures[:3])
