"""The Rule record and the one-line constructors used by every table module.

Two forms, both reading like the math:

* ``defrule(key, params, x="<partial>")`` for elementwise primitives: the partial
  derivative of the result with respect to each parameter, as an expression
  of the parameters and ``ans`` (the result). The adjoint is ``g * partial``
  (reduced to the parameter's shape for arrays), the tangent ``partial * dx``.
* ``defvjp(key, params, x="<vjp>")`` for everything else (reductions, linear
  algebra, shape functions): the contribution to the parameter's adjoint as an
  expression of the parameters, ``ans`` and ``g`` (the result's adjoint),
  already shaped like the parameter.

``params`` is a signature string: ``"a, b"``, ``"*x"`` (any number, each bound
to ``x``), or with defaults for optional arguments ``"a, axis=None,
keepdims=False"``; an omitted argument's hole is filled with its default.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    """The derivative of one primitive (see the module docstring for the two forms)."""

    key: str
    params: tuple[str, ...]
    partials: dict[str, str] = field(default_factory=dict, hash=False)
    vjps: dict[str, str] = field(default_factory=dict, hash=False)
    defaults: dict[str, str] = field(default_factory=dict, hash=False)
    target: object = field(default=None, compare=False, hash=False)
    namespace: dict | None = field(default=None, compare=False, hash=False)  # user rules

    @property
    def arity(self) -> int:
        """Number of parameters; -1 for variadic or with optional parameters."""
        if self.variadic or self.defaults:
            return -1
        return len(self.params)

    @property
    def variadic(self) -> bool:
        return bool(self.params) and self.params[0].startswith("*")

    @property
    def differentiable(self) -> tuple[str, ...]:
        """Parameters with a derivative."""
        return tuple(self.partials) + tuple(self.vjps)

    def accepts(self, nargs: int) -> bool:
        if self.variadic:
            return nargs >= 1
        required = len(self.params) - len(self.defaults)
        return required <= nargs <= len(self.params)

    def param_names(self, nargs: int) -> list[str]:
        """Template names for a call with ``nargs`` positional arguments."""
        if self.variadic:
            return [self.params[0][1:]] * nargs
        return list(self.params[:nargs])

    def expression(self, param: str) -> tuple[str, str]:
        """``("partial", text)`` or ``("vjp", text)`` for a differentiable parameter."""
        if param in self.partials:
            return "partial", self.partials[param]
        return "vjp", self.vjps[param]


def _signature(key: str, params: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """Parameter names and default texts of a signature string like ``"a, axes=(0, 1)"``."""
    try:
        args = ast.parse(f"def _({params}): pass").body[0].args
    except SyntaxError as exc:
        raise ValueError(f"rule {key!r}: bad parameter list {params!r}: {exc.msg}") from None
    if args.vararg is not None:
        return ("*" + args.vararg.arg,), {}
    names = tuple(a.arg for a in args.args)
    defaults = {a.arg: ast.unparse(d) for a, d in zip(args.args[len(names) - len(args.defaults):],
                                                      args.defaults)}
    return names, defaults


def _check(key: str, names: tuple[str, ...], given: dict) -> None:
    plain = {p.lstrip("*") for p in names}
    unknown = set(given) - plain
    if unknown:
        raise ValueError(f"rule {key!r}: derivatives for unknown parameters {sorted(unknown)}")


def defrule(key: str, params: str, **partials: str) -> Rule:
    """``defrule("math.sin", "x", x="math.cos(x)")``: one table line (elementwise form)."""
    names, defaults = _signature(key, params)
    _check(key, names, partials)
    return Rule(key, names, dict(partials), {}, defaults)


def defvjp(key: str, params: str, **vjps: str) -> Rule:
    """``defvjp("numpy.sum", "a, axis=None, keepdims=False", a="...")``: VJP form."""
    names, defaults = _signature(key, params)
    _check(key, names, vjps)
    return Rule(key, names, {}, dict(vjps), defaults)
