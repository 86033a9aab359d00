"""Classify the value of a normalised assignment: which primitive, which operands."""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from . import rules, walk
from .rules import Rule

BINOP_KEYS = {
    gast.Add: "operator.add", gast.Sub: "operator.sub", gast.Mult: "operator.mul",
    gast.Div: "operator.truediv", gast.Pow: "operator.pow", gast.Mod: "operator.mod",
    gast.MatMult: "operator.matmul",
}
UNARY_KEYS = {gast.USub: "operator.neg", gast.UAdd: "operator.pos"}


@dataclass
class Op:
    """One elementary operation.

    ``kind`` is ``"copy"`` (``y = x``), ``"rule"`` (a primitive with a rule),
    ``"call"`` (a call with no rule: an error if it turns out to be active) or
    ``"opaque"`` (no derivative at all). ``args`` pairs each operand atom with
    the rule's template name for it (``None``: not differentiable).
    """

    kind: str  # also "getitem", "build", "pop" (see classify)
    node: gast.expr
    key: str | None = None
    rule: Rule | None = None
    args: list = field(default_factory=list)

    def diff_args(self) -> list:
        """``(atom, template name)`` of the operands that have a partial derivative."""
        if self.kind == "copy":
            return [(self.node, None)]
        if self.kind in ("call", "getitem", "build", "pop"):
            return [(a, p) for a, p in self.args]
        if self.kind == "rule":
            return [(a, p) for a, p in self.args if p in self.rule.differentiable]
        return []


_MEMO: dict = walk.frozen_memo()  # id(value) -> (value, calls, Op), while a tree is frozen


def classify(value: gast.expr, calls: dict) -> Op:
    if walk._FROZEN:
        hit = _MEMO.get(id(value))
        if hit is not None and hit[0] is value and hit[1] is calls:
            return hit[2]
        op = _classify(value, calls)
        _MEMO[id(value)] = (value, calls, op)
        return op
    _MEMO.clear()
    return _classify(value, calls)


def _classify(value: gast.expr, calls: dict) -> Op:
    if isinstance(value, gast.Name):
        return Op("copy", value)
    if isinstance(value, gast.Subscript):
        return Op("getitem", value, args=[(value.value, None)])
    if isinstance(value, (gast.List, gast.Tuple)):
        return Op("build", value, args=[(e, k) for k, e in enumerate(value.elts)])
    if isinstance(value, gast.Dict):
        return Op("build", value, args=list(zip(value.values, value.keys)))
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
            and isinstance(value.func.value, gast.Name) \
            and getattr(calls.get(value), "kind", "unknown") == "unknown":
        if value.func.attr == "copy" and not value.args:
            return Op("copy", value.func.value)
        if value.func.attr == "pop":
            return Op("pop", value, args=[(value.func.value, None)])
    if isinstance(value, gast.BinOp) and type(value.op) in BINOP_KEYS:
        return _with_rule(value, BINOP_KEYS[type(value.op)], [value.left, value.right], {})
    if isinstance(value, gast.UnaryOp) and type(value.op) in UNARY_KEYS:
        return _with_rule(value, UNARY_KEYS[type(value.op)], [value.operand], {})
    if isinstance(value, gast.Call):
        target = calls.get(value)
        if target is None or target.kind == "nondiff":
            return Op("opaque", value)
        keywords = {k.arg: k.value for k in value.keywords}
        return _with_rule(value, target.key, value.args, keywords)
    return Op("opaque", value)


def _with_rule(node: gast.expr, key: str | None, args: list, keywords: dict) -> Op:
    everything = [(a, None) for a in args + list(keywords.values())]
    rule = rules.lookup(key, len(args) + len(keywords)) if key else None
    if rule is None:
        return Op("call", node, key, None, everything)
    if rule.variadic:
        if keywords:
            return Op("call", node, key, None, everything)
        return Op("rule", node, key, rule, list(zip(args, rule.param_names(len(args)))))
    bound = list(zip(args, rule.params))
    free = rule.params[len(args):]
    for kw, atom in keywords.items():
        if kw not in free:
            return Op("call", node, key, None, everything)
        bound.append((atom, kw))
    return Op("rule", node, key, rule, bound)
