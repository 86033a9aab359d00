"""Shared fixtures: ``make_module`` writes source text as a real module file and imports it,
so that ast_ad (which reads source with ``inspect``) can transform its functions."""
from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

_counter = itertools.count()

import ast_ad.specialise  # noqa: E402

ast_ad.specialise.STRICT = True  # a failure to specialise is a bug the tests must see


def load_module(directory: Path, text: str) -> ModuleType:
    """Write ``text`` to a fresh ``.py`` file under ``directory`` and import it."""
    name = f"_ast_ad_test_module_{next(_counter)}"
    path = directory / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def make_module(tmp_path: Path) -> Iterator[Callable[[str], ModuleType]]:
    made: list[str] = []

    def make(text: str) -> ModuleType:
        module = load_module(tmp_path, text)
        made.append(module.__name__)
        return module

    yield make
    for name in made:
        sys.modules.pop(name, None)
