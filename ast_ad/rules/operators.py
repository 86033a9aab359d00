"""Rules for Python's arithmetic operators (keys from the ``operator`` module)."""
from .core import defrule as D
from .core import defvjp as V

# -------------------------------------------------------------- arithmetic
RULES = [
    D("operator.add", "a, b", a="1.0", b="1.0"),
    D("operator.sub", "a, b", a="1.0", b="-1.0"),
    D("operator.mul", "a, b", a="b", b="a"),
    D("operator.truediv", "a, b", a="1.0 / b", b="-ans / b"),
    D("operator.pow", "a, b", a="0.0 if b == 0 else b * a ** (b - 1)",
      b="ans * math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)"),
    D("operator.mod", "a, b", a="1.0", b="-(a // b)"),
    D("operator.neg", "a", a="-1.0"),
    D("operator.pos", "a", a="1.0"),
    # ---------------------------------------------------------- arrays
    V("operator.matmul", "a, b", a="matmul_vjp_a(g, a, b)", b="matmul_vjp_b(g, a, b)"),
]

# -------------------------------------------------- piecewise constant
NONDIFF = [
    "operator.floordiv", "operator.not_", "operator.lt", "operator.le", "operator.eq",
    "operator.ne", "operator.gt", "operator.ge", "operator.truth",
]
