"""What a gradient records on its tape: ``ast_ad.tape_report(f, *args, wrt=...)``.

The generated code keeps values on a plain list only where the reverse sweep
reads a value after it has been overwritten (or a loop's trip count, a branch
test); this report runs the gradient once with a counting tape and says, for
each recorded variable, where it is pushed, how many times, and how many bytes.
"""
from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .api import Adjoint
from .pipeline import Transformation, compile_factory, has_arrays

_PUSH = re.compile(r"^\s*_push(?:_\d+)?\((.*)\)\s*$")


@dataclass
class TapeEntry:
    variable: str
    statement: str   # the generated statement the value is saved before
    count: int = 0
    bytes: int = 0


@dataclass
class TapeReport:
    function: str
    entries: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(e.count for e in self.entries)

    @property
    def bytes(self) -> int:
        return sum(e.bytes for e in self.entries)

    def __str__(self) -> str:
        if not self.entries:
            return f"{self.function}: no tape (nothing is recorded)"
        lines = [f"{self.function}: {self.count} values, {self.bytes} bytes on the tape"]
        for e in self.entries:
            lines.append(f"  {e.variable:<12} {e.count:>8} x  {e.bytes:>10} B   before: "
                         f"{e.statement}")
        return "\n".join(lines)


class _CountingTape(list):
    def __init__(self, report: TapeReport, sites: dict):
        super().__init__()
        self.report, self.sites = report, sites

    def append(self, value: Any) -> None:  # called as _push(value)
        line = sys._getframe(1).f_lineno
        entry = self.sites.get(line)
        if entry is not None:
            entry.count += 1
            entry.bytes += value.nbytes if isinstance(value, np.ndarray) else sys.getsizeof(value)
        super().append(value)


def tape_report(fn: Callable, *args: Any, wrt: Any = 0, **kwargs: Any) -> TapeReport:
    """Run ``value_and_grad(fn, wrt=wrt)(*args, **kwargs)`` once, counting its tape."""
    adjoint = Adjoint(getattr(fn, "__ast_ad__", None) and fn.__ast_ad__.fn or fn, wrt,
                      "value_and_grad")
    arrays = has_arrays(args)
    t = adjoint.transformation(arrays)
    report = TapeReport(getattr(adjoint.fn, "__qualname__", "f"))
    lines = t.source.splitlines()
    sites: dict = {}
    for k, text in enumerate(lines):
        match = _PUSH.match(text)
        if match:
            following = lines[k + 1].strip() if k + 1 < len(lines) else ""
            entry = TapeEntry(match.group(1), following)
            report.entries.append(entry)
            sites[k + 2] = entry  # +1: 1-based; +1: the factory's first line
    text = t.source.replace("_tape = []", "_tape = _counting_tape()", 1)
    function = _compile(text, t, adjoint.fn, lambda: _CountingTape(report, sites))
    function(*args, **kwargs)
    report.entries = [e for e in report.entries if e.count]
    return report


def _compile(text: str, t: Transformation, fn: types.FunctionType,
             factory: Callable) -> Callable:
    """``t``'s first function compiled from ``text``, with ``_counting_tape`` injected."""
    injected = dict(t.injected, _counting_tape=factory)
    name = t.codes[0].co_name
    codes = compile_factory(text, [name], set(injected), fn, t.filename + " (tape report)")
    return Transformation(codes, text, t.filename, injected, t.guards).instantiate(fn)[0]
