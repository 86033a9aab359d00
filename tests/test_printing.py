"""ast_ad's own printer and ast-to-gast converter are faster copies of library functions:
here they are checked against the library on real trees (every function of the test
modules, before and after transformation, and a few standard-library modules)."""
from __future__ import annotations

import inspect
import json.encoder
import sys
import textwrap

import corpus
import fuse_cases
import gast
import golden_functions
import language_cases
import mix_cases
import numpy_workloads
import pytest

from ast_ad import pipeline, togast
from ast_ad.errors import TransformError
from ast_ad.printer import Unsupported, print_tree
from ast_ad.source import _to_source_slowly, parse_function

MODULES = [corpus, fuse_cases, golden_functions, language_cases, mix_cases, numpy_workloads]
FUNCTIONS = [fn for m in MODULES for _, fn in inspect.getmembers(m, inspect.isfunction)
             if fn.__module__ == m.__name__]


def _trees():
    """The parsed function and its generated adjoint(s), for every test function."""
    for fn in FUNCTIONS:
        yield fn.__name__, parse_function(fn).func
        try:
            built = pipeline.build(parse_function(fn), pipeline.Env.of(fn), 0, "value_and_grad")
        except TransformError:
            continue  # refused on purpose (the error tests' cases)
        for func in built.funcs:
            yield f"adjoint of {fn.__name__}", func


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the printer is used from 3.11 on")
def test_printer_prints_what_ast_unparse_prints() -> None:
    printed = 0
    for label, tree in _trees():
        try:
            fast = print_tree(tree)
        except Unsupported:
            continue  # printed the long way
        assert fast == _to_source_slowly(tree), label
        printed += 1
    assert printed > 200  # most trees take the fast way


@pytest.mark.parametrize("module", [textwrap, json.encoder, inspect, *MODULES],
                         ids=lambda m: m.__name__)
def test_togast_converts_like_gast(module) -> None:
    text = inspect.getsource(module)
    expected = gast.dump(gast.parse(text), include_attributes=True)
    assert gast.dump(togast.parse(text), include_attributes=True) == expected


@pytest.mark.parametrize("fn", FUNCTIONS + [f for f in vars(inspect).values()
                                            if inspect.isfunction(f)
                                            and f.__module__ == "inspect"],
                         ids=lambda f: f.__qualname__)
def test_quick_source_finds_inspects_function(fn) -> None:
    """The lines found without tokenizing give the same tree as inspect's lines."""
    from ast_ad.source import _quick_source, parse_lines

    quick = _quick_source(fn)
    if quick is None:
        return  # decorated, or not a plain def: inspect reads it
    lines, first = inspect.getsourcelines(fn)
    slow = parse_lines(lines, first, fn.__code__.co_filename, fn.__name__)
    try:
        fast = parse_lines(*quick, fn.__code__.co_filename, fn.__name__, alone=True)
    except TransformError:
        return  # not parseable alone: parse_function falls back to inspect's lines
    assert gast.dump(fast.func, include_attributes=True) == gast.dump(
        slow.func, include_attributes=True)
