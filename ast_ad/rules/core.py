"""The Rule record and the one-line constructor used by every table module."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    """Partial derivatives of one primitive.

    ``params`` are the template names of its positional arguments; a single
    ``"*x"`` means any number of arguments, each bound in turn to ``x``.
    ``partials`` maps a parameter to the expression of its partial derivative.
    """

    key: str
    params: tuple[str, ...]
    partials: dict[str, str] = field(hash=False)
    target: object = field(default=None, compare=False, hash=False)

    @property
    def arity(self) -> int:
        return -1 if self.params[:1] and self.params[0].startswith("*") else len(self.params)

    @property
    def variadic(self) -> bool:
        return self.arity == -1

    def param_names(self, nargs: int) -> list[str]:
        """Template names for a call with ``nargs`` positional arguments."""
        if self.variadic:
            return [self.params[0][1:]] * nargs
        return list(self.params)


def defrule(key: str, params: str, **partials: str) -> Rule:
    """``defrule("math.sin", "x", x="math.cos(x)")``: one table line."""
    names = tuple(p.strip() for p in params.split(",") if p.strip())
    plain = {p.lstrip("*") for p in names}
    unknown = set(partials) - plain
    if unknown:
        raise ValueError(f"rule {key!r}: partials for unknown parameters {sorted(unknown)}")
    return Rule(key, names, dict(partials))
