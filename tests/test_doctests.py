"""The doctests in every ast_ad module pass (what ``pytest --doctest-modules ast_ad`` runs,
with pytest's default ELLIPSIS flag). Modules are found by walking the package, so new
modules are covered without editing this file."""
from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import ast_ad

# module -> why its doctest fails today; strict, so fixing one makes this list fail loudly
KNOWN_FAILING: dict[str, str] = {}

MODULES = ["ast_ad"] + sorted(m.name for m in pkgutil.walk_packages(ast_ad.__path__, "ast_ad."))


def _param(name: str):
    if name in KNOWN_FAILING:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True,
                                                          reason=KNOWN_FAILING[name]))
    return name


@pytest.mark.parametrize("name", [_param(n) for n in MODULES])
def test_module_doctests(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = io.StringIO()
    for test in finder.find(module, name):
        runner.run(test, out=out.write)
    failed, _ = runner.summarize(verbose=False)
    assert failed == 0, out.getvalue()


def test_doctests_exist() -> None:
    """Guard against a walk that silently finds nothing."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    examples = sum(len(t.examples) for n in MODULES
                   for t in finder.find(importlib.import_module(n), n))
    assert examples >= 10
    assert "ast_ad.passes.normalize" in MODULES
