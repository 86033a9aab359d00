"""The benchmark's workloads, one module each.

A workload module defines:

``NAME``, ``KIND``
    its name and kind: "scalar" (Python loops over floats), "vectorised" (NumPy) or
    "array-loop" (a Python loop whose body works on arrays).
``SIZES``
    ``{"small": ..., "large": ...}``, the size parameters (shown in the report).
``WRT``
    the ``wrt`` given to ``ast_ad.value_and_grad``.
``inputs(size)``
    the primal's arguments at that size, drawn from a fixed seed.
``primal(*args)``
    the function, written as a plain Python / NumPy user would.
``hand(*args)``
    the hand-written, optimised adjoint: ``(value, gradients)``, gradients structured like
    ast_ad's (one per ``WRT`` entry). It computes the value with the primal's own
    algorithm; only the reverse sweep is the author's.
``PEERS``
    ``{peer name: builder}``; ``builder(args)`` imports the peer (``ImportError`` when it
    is not installed), prepares inputs in that peer's form and returns a zero-argument
    callable giving ``(value, gradients)`` in any nesting of floats and arrays.
``NOTES``
    ``{peer name: how that peer's version is written}``, for the docs.
"""
from __future__ import annotations

import importlib

NAMES = ["rosenbrock", "horner", "rk4", "logreg", "mlp", "gmm", "rnn"]


def load(name: str):
    return importlib.import_module(f"bench.workloads.{name}")


def all_workloads() -> list:
    return [load(n) for n in NAMES]
