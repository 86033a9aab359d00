"""Generated source is a pure function of the input: byte-identical across processes (with
different hash seeds, so set and dict iteration orders differ) and across repeated
transforms within one process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import corpus

import ast_ad
from ast_ad.pipeline import transform

TESTS = Path(__file__).resolve().parent

# (function name, wrt, kind) for every corpus case, in both kinds
TARGETS = [(fn.__name__, wrt, kind) for fn, _, wrt in corpus.CASES
           for kind in ("grad", "value_and_grad")]

SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import ast_ad, corpus
for name, wrt, kind in {targets!r}:
    try:
        text = ast_ad.source(getattr(corpus, name), wrt=wrt, kind=kind)
    except ast_ad.TransformError as exc:
        text = 'TransformError: ' + str(exc)
    sys.stdout.write('#### ' + name + ' ' + repr(wrt) + ' ' + kind + '\\n' + text + '\\n')
"""


def sources_in_subprocess(hash_seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    code = SCRIPT.format(tests=str(TESTS), targets=TARGETS)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    return done.stdout


def test_byte_identical_across_processes() -> None:
    first = sources_in_subprocess("1")
    second = sources_in_subprocess("12345")
    assert first.count("#### ") == len(TARGETS)
    assert "def grad_logistic_map" in first
    if first != second:  # show the first differing function
        a, b = first.split("#### "), second.split("#### ")
        diff = next(x for x, y in zip(a, b) if x != y)
        raise AssertionError(f"generated source differs between processes:\n{diff}")


def test_identical_across_repeated_transforms() -> None:
    for fn in (corpus.logistic_map, corpus.nested_while, corpus.and_or_values,
               corpus.triple_nested, corpus.math_special, corpus.name_collisions):
        for kind in ("grad", "value_and_grad"):
            texts = {transform(fn, (0,), kind).source for _ in range(3)}
            assert len(texts) == 1, f"{fn.__name__} ({kind}) transforms differently"
            assert texts == {ast_ad.source(fn, wrt=(0,), kind=kind)}
