"""Rules for the ``math`` module: each line reads as d(result)/d(argument)."""
from .core import defrule as D

RULES = [
    # ------------------------------------------------------ trigonometric
    D("math.sin", "x", x="math.cos(x)"),
    D("math.cos", "x", x="-math.sin(x)"),
    D("math.tan", "x", x="1.0 + ans * ans"),
    D("math.asin", "x", x="1.0 / math.sqrt(1.0 - x * x)"),
    D("math.acos", "x", x="-1.0 / math.sqrt(1.0 - x * x)"),
    D("math.atan", "x", x="1.0 / (1.0 + x * x)"),
    D("math.atan2", "y, x", y="x / (x * x + y * y)", x="-y / (x * x + y * y)"),
    D("math.degrees", "x", x="180.0 / math.pi"),
    D("math.radians", "x", x="math.pi / 180.0"),
    # ------------------------------------------------------ hyperbolic
    D("math.sinh", "x", x="math.cosh(x)"),
    D("math.cosh", "x", x="math.sinh(x)"),
    D("math.tanh", "x", x="1.0 - ans * ans"),
    D("math.asinh", "x", x="1.0 / math.sqrt(x * x + 1.0)"),
    D("math.acosh", "x", x="1.0 / (math.sqrt(x - 1.0) * math.sqrt(x + 1.0))"),
    D("math.atanh", "x", x="1.0 / (1.0 - x * x)"),
    # ------------------------------------------------------ exponential and logarithmic
    D("math.exp", "x", x="ans"),
    D("math.expm1", "x", x="ans + 1.0"),
    D("math.exp2", "x", x="ans * math.log(2.0)"),
    D("math.log", "x", x="1.0 / x"),
    D("math.log", "x, base", x="1.0 / (x * math.log(base))",
      base="-math.log(x) / (base * math.log(base) ** 2)"),
    D("math.log1p", "x", x="1.0 / (1.0 + x)"),
    D("math.log2", "x", x="1.0 / (x * math.log(2.0))"),
    D("math.log10", "x", x="1.0 / (x * math.log(10.0))"),
    # ------------------------------------------------------ powers and roots
    D("math.sqrt", "x", x="0.5 / ans"),
    D("math.cbrt", "x", x="1.0 / (3.0 * ans * ans)"),
    D("math.pow", "x, y", x="0.0 if y == 0 else y * math.pow(x, y - 1.0)",
      y="ans * math.log(x) if x > 0 else (0.0 if x == 0 else math.nan)"),
    D("math.hypot", "*x", x="x / ans"),
    # ------------------------------------------------------ special functions
    D("math.erf", "x", x="2.0 / math.sqrt(math.pi) * math.exp(-x * x)"),
    D("math.erfc", "x", x="-2.0 / math.sqrt(math.pi) * math.exp(-x * x)"),
    # ------------------------------------------------------ sign, magnitude, remainders
    D("math.fabs", "x", x="math.copysign(1.0, x) if x else 0.0"),
    D("math.copysign", "x, y", x="math.copysign(1.0, x) * math.copysign(1.0, y)"),
    D("math.fmod", "x, y", x="1.0", y="-((x - ans) / y)"),
    D("math.remainder", "x, y", x="1.0", y="-((x - ans) / y)"),
    D("math.ldexp", "x, i", x="2.0 ** i"),
    D("math.fma", "x, y, z", x="y", y="x", z="1.0"),
]

# ------------------------------------------------------ piecewise constant
NONDIFF = [
    "math.floor", "math.ceil", "math.trunc", "math.isnan", "math.isinf", "math.isfinite",
    "math.isclose", "math.factorial", "math.comb", "math.perm", "math.gcd", "math.lcm",
    "math.isqrt", "math.nextafter", "math.ulp",
]
