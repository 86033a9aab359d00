"""Deterministic fresh names for generated code.

Convention (documented in docs/how-it-works.md):

* ``bx``       the adjoint of the user's variable ``x`` ("bar x");
* ``_t1``      temporaries made by normalisation, numbered in order of appearance;
* ``_cond1``   the value of an ``if`` test, kept for the reverse sweep;
* ``_trip1``   the trip count of a ``while`` loop;
* ``_tape``, ``_push``, ``_pop``   the tape (a list) and its bound methods.

A name that would collide with any name of the user's function (or a global it
reads) gets a numeric suffix: ``bx_1``. The same input always gives the same
names, so generated source is byte-identical across runs and processes.
"""
from __future__ import annotations

import gast

from .walk import walk as fast_walk


def names_in(tree: gast.AST) -> set[str]:
    """Every identifier used in ``tree``: variables, arguments, attributes' bases."""
    found: set[str] = set()
    for node in fast_walk(tree):
        if isinstance(node, gast.Name):
            found.add(node.id)
        elif isinstance(node, (gast.FunctionDef, gast.ClassDef)):
            found.add(node.name)
    return found


class Namer:
    """Hands out names that never collide with the user's or with each other."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)
        self.counters: dict[str, int] = {}
        self.adjoints: dict[str, str] = {}
        self.made: set[str] = set()  # every name handed out by fresh()

    def fresh(self, stem: str) -> str:
        """``_t1``, ``_t2``, ... for stem ``_t``; skips any name already taken."""
        while True:
            self.counters[stem] = self.counters.get(stem, 0) + 1
            name = f"{stem}{self.counters[stem]}"
            if name not in self.taken:
                self.taken.add(name)
                self.made.add(name)
                return name

    def exact(self, name: str) -> str:
        """``name`` itself if free, else ``name_1``, ``name_2``, ..."""
        candidate, k = name, 0
        while candidate in self.taken:
            k += 1
            candidate = f"{name}_{k}"
        self.taken.add(candidate)
        return candidate

    def adjoint(self, var: str) -> str:
        """The adjoint name of user variable ``var`` (stable for the whole function)."""
        if var not in self.adjoints:
            self.adjoints[var] = self.exact("b" + var)
        return self.adjoints[var]
