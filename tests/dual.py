"""Forward-mode reference: dual numbers, a ``math`` look-alike for them, and a loader
that re-executes a module's source with ``math`` replaced by :data:`dualmath`.

The derivative formulas here are written independently of ``ast_ad.rules`` (often in
a different but equivalent form), so agreement is evidence that both are right.
Values are computed with exactly the float operations Python itself would use.
"""
from __future__ import annotations

import builtins
import inspect
import math
import numbers
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class Dual:
    """``val + der * eps`` with ``eps**2 == 0``."""

    __slots__ = ("val", "der")

    def __init__(self, val: float, der: float = 0.0):
        self.val = val
        self.der = der

    def __repr__(self) -> str:
        return f"Dual({self.val!r}, {self.der!r})"

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Dual:
        o = lift(other)
        return Dual(self.val + o.val, self.der + o.der)

    def __radd__(self, other: Any) -> Dual:
        o = lift(other)
        return Dual(o.val + self.val, o.der + self.der)

    def __sub__(self, other: Any) -> Dual:
        o = lift(other)
        return Dual(self.val - o.val, self.der - o.der)

    def __rsub__(self, other: Any) -> Dual:
        return lift(other) - self

    def __mul__(self, other: Any) -> Dual:
        o = lift(other)
        return Dual(self.val * o.val, self.der * o.val + self.val * o.der)

    def __rmul__(self, other: Any) -> Dual:
        o = lift(other)
        return Dual(o.val * self.val, o.der * self.val + o.val * self.der)

    def __truediv__(self, other: Any) -> Dual:
        o = lift(other)
        return Dual(self.val / o.val, (self.der * o.val - self.val * o.der) / (o.val * o.val))

    def __rtruediv__(self, other: Any) -> Dual:
        return lift(other) / self

    def __pow__(self, other: Any) -> Dual:
        return _power(self, lift(other), lambda a, b: a ** b)

    def __rpow__(self, other: Any) -> Dual:
        return _power(lift(other), self, lambda a, b: a ** b)

    def __floordiv__(self, other: Any) -> Dual:
        return Dual(self.val // lift(other).val, 0.0)

    def __rfloordiv__(self, other: Any) -> Dual:
        return Dual(lift(other).val // self.val, 0.0)

    def __mod__(self, other: Any) -> Dual:
        return _mod(self, lift(other))

    def __rmod__(self, other: Any) -> Dual:
        return _mod(lift(other), self)

    def __neg__(self) -> Dual:
        return Dual(-self.val, -self.der)

    def __pos__(self) -> Dual:
        return Dual(+self.val, self.der)

    def __abs__(self) -> Dual:
        return Dual(abs(self.val), _sign(self.val) * self.der)

    # ---------------------------------------------------------------- comparisons, conversions
    def __lt__(self, other: Any) -> bool:
        return self.val < lift(other).val

    def __le__(self, other: Any) -> bool:
        return self.val <= lift(other).val

    def __gt__(self, other: Any) -> bool:
        return self.val > lift(other).val

    def __ge__(self, other: Any) -> bool:
        return self.val >= lift(other).val

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Dual, numbers.Real)):
            return NotImplemented
        return self.val == lift(other).val

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, (Dual, numbers.Real)):
            return NotImplemented
        return self.val != lift(other).val

    def __hash__(self) -> int:
        return hash(self.val)

    def __bool__(self) -> bool:
        return bool(self.val)

    def __float__(self) -> float:
        return float(self.val)

    def __int__(self) -> int:
        return int(self.val)

    def __round__(self, ndigits: int | None = None) -> Any:
        return round(self.val, ndigits)

    def __floor__(self) -> int:
        return math.floor(self.val)

    def __ceil__(self) -> int:
        return math.ceil(self.val)

    def __trunc__(self) -> int:
        return math.trunc(self.val)


def lift(x: Any) -> Dual:
    if isinstance(x, Dual):
        return x
    if isinstance(x, numbers.Real):
        return Dual(x, 0.0)
    raise TypeError(f"not a real number: {x!r}")


def value(x: Any) -> Any:
    return x.val if isinstance(x, Dual) else x


def _sign(v: float) -> float:
    return 0.0 if v == 0 else math.copysign(1.0, v)


def _power(a: Dual, b: Dual, op: Callable[[Any, Any], Any]) -> Dual:
    v = op(a.val, b.val)
    der = 0.0
    if a.der != 0 and b.val != 0:  # d(a**0)/da is 0, even at a == 0
        der += b.val * op(a.val, b.val - 1) * a.der
    if b.der != 0:
        der += (v * math.log(a.val) if a.val > 0 else 0.0 if a.val == 0 else math.nan) * b.der
    return Dual(v, der)


def _mod(a: Dual, b: Dual) -> Dual:
    v = a.val % b.val
    quotient = round((a.val - v) / b.val)  # the integer k with a == k * b + (a % b)
    return Dual(v, a.der - quotient * b.der)


# -------------------------------------------------------------------- dualmath
def _unary(real: Callable[[float], float], deriv: Callable[[float, float], float]):
    """A math function whose derivative at ``x`` (with result ``v``) is ``deriv(x, v)``."""
    def fn(x: Any) -> Any:
        d = lift(x)
        v = real(d.val)
        return Dual(v, deriv(d.val, v) * d.der if d.der != 0 else 0.0)
    fn.__name__ = real.__name__
    return fn


def _nondiff(real: Callable[..., Any]):
    def fn(*args: Any) -> Any:
        return real(*(value(a) for a in args))
    fn.__name__ = real.__name__
    return fn


def _atan2(y: Any, x: Any) -> Dual:
    y, x = lift(y), lift(x)
    return Dual(math.atan2(y.val, x.val),
                (x.val * y.der - y.val * x.der) / (x.val * x.val + y.val * y.val))


def _log(x: Any, base: Any = None) -> Dual:
    x = lift(x)
    if base is None:
        return Dual(math.log(x.val), x.der / x.val)
    b = lift(base)
    lx, lb = math.log(x.val), math.log(b.val)
    # quotient rule on log(x) / log(b)
    return Dual(math.log(x.val, b.val), (x.der / x.val * lb - lx * b.der / b.val) / (lb * lb))


def _pow_fn(x: Any, y: Any) -> Dual:
    return _power(lift(x), lift(y), math.pow)


def _hypot(*xs: Any) -> Dual:
    ds = [lift(x) for x in xs]
    v = math.hypot(*(d.val for d in ds))
    return Dual(v, sum(d.val * d.der for d in ds) / v)


def _copysign(x: Any, y: Any) -> Dual:
    x, y = lift(x), lift(y)
    flip = math.copysign(1.0, x.val) != math.copysign(1.0, y.val)
    return Dual(math.copysign(x.val, y.val), -x.der if flip else x.der)


def _remainder_like(real: Callable[[float, float], float]):
    def fn(x: Any, y: Any) -> Dual:
        x, y = lift(x), lift(y)
        v = real(x.val, y.val)
        quotient = round((x.val - v) / y.val)
        return Dual(v, x.der - quotient * y.der)
    fn.__name__ = real.__name__
    return fn


def _ldexp(x: Any, i: int) -> Dual:
    x = lift(x)
    return Dual(math.ldexp(x.val, i), math.ldexp(x.der, i))


def _fma(x: Any, y: Any, z: Any) -> Dual:
    x, y, z = lift(x), lift(y), lift(z)
    return Dual(math.fma(x.val, y.val, z.val), x.der * y.val + x.val * y.der + z.der)


_SQRT_PI = math.sqrt(math.pi)
_LN2, _LN10 = math.log(2.0), math.log(10.0)

DIFFERENTIABLE: dict[str, Callable[..., Any]] = {
    "sin": _unary(math.sin, lambda x, v: math.cos(x)),
    "cos": _unary(math.cos, lambda x, v: -math.sin(x)),
    "tan": _unary(math.tan, lambda x, v: 1.0 / math.cos(x) ** 2),
    "asin": _unary(math.asin, lambda x, v: 1.0 / math.sqrt((1.0 - x) * (1.0 + x))),
    "acos": _unary(math.acos, lambda x, v: -1.0 / math.sqrt((1.0 - x) * (1.0 + x))),
    "atan": _unary(math.atan, lambda x, v: 1.0 / (1.0 + x ** 2)),
    "atan2": _atan2,
    "degrees": _unary(math.degrees, lambda x, v: 180.0 / math.pi),
    "radians": _unary(math.radians, lambda x, v: math.pi / 180.0),
    "sinh": _unary(math.sinh, lambda x, v: math.cosh(x)),
    "cosh": _unary(math.cosh, lambda x, v: math.sinh(x)),
    "tanh": _unary(math.tanh, lambda x, v: 1.0 / math.cosh(x) ** 2),
    "asinh": _unary(math.asinh, lambda x, v: 1.0 / math.hypot(x, 1.0)),
    "acosh": _unary(math.acosh, lambda x, v: 1.0 / math.sqrt(x * x - 1.0)),
    "atanh": _unary(math.atanh, lambda x, v: 1.0 / ((1.0 - x) * (1.0 + x))),
    "exp": _unary(math.exp, lambda x, v: math.exp(x)),
    "expm1": _unary(math.expm1, lambda x, v: math.exp(x)),
    "log": _log,
    "log1p": _unary(math.log1p, lambda x, v: 1.0 / (1.0 + x)),
    "log2": _unary(math.log2, lambda x, v: 1.0 / x / _LN2),
    "log10": _unary(math.log10, lambda x, v: 1.0 / x / _LN10),
    "sqrt": _unary(math.sqrt, lambda x, v: 0.5 / math.sqrt(x)),
    "pow": _pow_fn,
    "hypot": _hypot,
    "erf": _unary(math.erf, lambda x, v: 2.0 * math.exp(-x * x) / _SQRT_PI),
    "erfc": _unary(math.erfc, lambda x, v: -2.0 * math.exp(-x * x) / _SQRT_PI),
    "fabs": _unary(math.fabs, lambda x, v: _sign(x)),
    "copysign": _copysign,
    "fmod": _remainder_like(math.fmod),
    "remainder": _remainder_like(math.remainder),
    "ldexp": _ldexp,
}
if hasattr(math, "exp2"):
    DIFFERENTIABLE["exp2"] = _unary(math.exp2, lambda x, v: 2.0 ** x * _LN2)
if hasattr(math, "cbrt"):
    DIFFERENTIABLE["cbrt"] = _unary(math.cbrt, lambda x, v: 1.0 / (3.0 * math.cbrt(x) ** 2))
if hasattr(math, "fma"):
    DIFFERENTIABLE["fma"] = _fma

NONDIFF = ["floor", "ceil", "trunc", "isnan", "isinf", "isfinite", "isclose", "factorial",
           "comb", "perm", "gcd", "lcm", "isqrt", "nextafter", "ulp", "prod", "fsum"]
CONSTANTS = ["pi", "e", "tau", "inf", "nan"]

dualmath = types.ModuleType("dualmath", "math for Dual numbers (tests only)")
dualmath.__dict__.update(DIFFERENTIABLE)
dualmath.__dict__.update({n: _nondiff(getattr(math, n)) for n in NONDIFF if hasattr(math, n)})
dualmath.__dict__.update({n: getattr(math, n) for n in CONSTANTS})


def _dual_float(x: Any = 0.0) -> Any:
    return x if isinstance(x, Dual) else float(x)


def _dual_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                 level: int = 0) -> Any:
    if name == "math" and level == 0:
        return dualmath
    return builtins.__import__(name, globals, locals, fromlist, level)


def dual_namespace(path: str | Path) -> dict[str, Any]:
    """Execute the module at ``path`` afresh with ``math`` (however imported or aliased)
    replaced by :data:`dualmath` and ``float`` made Dual-aware; return its namespace."""
    path = Path(path)
    fake_builtins = dict(builtins.__dict__, __import__=_dual_import, float=_dual_float)
    namespace: dict[str, Any] = {"__builtins__": fake_builtins, "__name__": f"dual_{path.stem}",
                                 "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def positional_indices(f: Callable, wrt: Any) -> list[int]:
    params = list(inspect.signature(f).parameters)
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return [params.index(w) if isinstance(w, str) else w for w in items]


def dual_grad(f: Callable, args: Sequence[Any], wrt: Any = 0) -> Any:
    """Forward-mode gradient of ``f`` (already bound to dualmath) shaped like ``ast_ad.grad``."""
    out = []
    for index in positional_indices(f, wrt):
        moved = list(args)
        moved[index] = Dual(args[index], 1.0)
        result = f(*moved)
        out.append(result.der if isinstance(result, Dual) else 0.0)
    return tuple(out) if isinstance(wrt, tuple) else out[0]


def dual_value(f: Callable, args: Sequence[Any]) -> Any:
    return value(f(*args))
