"""Benchmarks for ast_ad against a hand-written adjoint and peer AD tools.

Run ``python -m bench.run`` (see docs/benchmarks.md). Importing this package has no side
effects: the runner pins BLAS threads itself before it imports NumPy.
"""
