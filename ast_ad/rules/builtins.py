"""Rules for Python builtins. ``max``/``min`` of several arguments and ``sum`` of a
list literal are rewritten into two-argument steps by normalisation."""
from .core import defrule as D
from .core import defvjp as V

RULES = [
    D("builtins.abs", "x", x="1.0 if x > 0 else (-1.0 if x < 0 else 0.0)"),
    D("builtins.float", "x", x="1.0"),
    D("builtins.pow", "base, exp", base="0.0 if exp == 0 else exp * base ** (exp - 1)",
      exp="ans * math.log(base) if base > 0 else (0.0 if base == 0 else math.nan)"),
    # max(a, b) is b if b > a else a (the first of equal values), and min alike
    D("builtins.max", "a, b", a="0.0 if b > a else 1.0", b="1.0 if b > a else 0.0"),
    D("builtins.min", "a, b", a="0.0 if b < a else 1.0", b="1.0 if b < a else 0.0"),
    # ------------------------------------------------------ over a sequence
    V("builtins.sum", "xs, start=0", xs="fill_like(xs, g)", start="g"),
    V("builtins.max", "xs", xs="pick(xs, ans, g)"),
    V("builtins.min", "xs", xs="pick(xs, ans, g)"),
    V("builtins.list", "xs", xs="g"),
    V("builtins.tuple", "xs", xs="g"),
    # for x in v: loops index ast_ad.runtime.sequence(v) (v itself, or a dict's keys)
    V("ast_ad.runtime.sequence", "xs", xs="sequence_vjp(g, xs, ans)"),
]

# sum([a, b, c]) of a literal is rewritten by normalisation into (0 + a) + b + c
# ------------------------------------------------------ piecewise constant or not numeric
NONDIFF = [
    "builtins.int", "builtins.round", "builtins.len", "builtins.bool", "builtins.range",
    "builtins.isinstance", "builtins.print", "builtins.str", "builtins.repr", "builtins.hash",
    "builtins.id", "builtins.type", "builtins.any", "builtins.all", "builtins.callable",
    "builtins.ord", "builtins.chr", "builtins.format",
    "ast_ad.runtime.stop_gradient",
    "ast_ad.runtime.unpacked",  # a, b = v: the check that v holds two items, then v[0], v[1]
]
