"""Rules for Python builtins. ``max``/``min`` of several arguments and ``sum`` of a
list literal are rewritten into two-argument steps by normalisation."""
from .core import defrule as D

RULES = [
    D("builtins.abs", "x", x="1.0 if x > 0 else (-1.0 if x < 0 else 0.0)"),
    D("builtins.float", "x", x="1.0"),
    D("builtins.pow", "a, b", a="b * a ** (b - 1)",
      b="ans * math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)"),
    # max(a, b) is b if b > a else a (the first of equal values), and min alike
    D("builtins.max", "a, b", a="0.0 if b > a else 1.0", b="1.0 if b > a else 0.0"),
    D("builtins.min", "a, b", a="0.0 if b < a else 1.0", b="1.0 if b < a else 0.0"),
]

# rewritten by normalisation into the rules above: sum([a, b, c]) is (0 + a + b) + c
REWRITTEN = ["builtins.sum"]

# ------------------------------------------------------ piecewise constant or not numeric
NONDIFF = [
    "builtins.int", "builtins.round", "builtins.len", "builtins.bool", "builtins.range",
    "builtins.isinstance", "builtins.print", "builtins.str", "builtins.repr", "builtins.hash",
    "builtins.id", "builtins.type", "builtins.any", "builtins.all", "builtins.callable",
    "builtins.ord", "builtins.chr", "builtins.format",
]
