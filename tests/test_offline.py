"""Offline mode (ast_ad.offline): a module file's gradients written as a module.

Round trips run the written module in a fresh interpreter and compare its gradients with
``ast_ad.grad`` on the imported source and with finite differences. The golden outputs in
tests/golden/offline/ were checked by hand when frozen; when the generated code changes on
purpose, re-check and rewrite them with ``AST_AD_UPDATE_GOLDEN=1 pytest tests/test_offline.py``.
"""
from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ast_ad
from ast_ad.errors import TransformError
from ast_ad.offline import adjoint_source, transform_module
from ast_ad.static import Opaque, analyze_module, parse_module, read_module

TESTS = Path(__file__).resolve().parent
SRC = TESTS / "offline_src"
GOLDEN = TESTS / "golden" / "offline"
_count = itertools.count()

SCALAR_CASES = [("poly", (1.2, 0.7)), ("loop_branch", (0.9, 5)), ("while_loop", (0.3,)),
                ("helper", (0.4, 0.9)), ("caller", (0.5, 1.1)), ("recursive", (0.8, 3))]
NUMPY_CASES = [("layer", ([0.3, -0.2],)), ("loss", ([0.3, -0.2], [0.1, 0.5])),
               ("mixed", (1.0, 2.0))]
WRT = {"loss": ("x", "t"), "mixed": ("x", "y")}


def import_file(path: Path):
    """Import a module file the ordinary way, under a fresh name."""
    name = f"_offline_test_{path.stem}_{next(_count)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


# ---------------------------------------------------------------------- round trips

RUN = """
import json, sys
sys.path[:0] = {path!r}
{prelude}
import numpy as np
mod = __import__({name!r})

def plain(v):
    if isinstance(v, (tuple, list)):
        return [plain(e) for e in v]
    return np.asarray(v, dtype=float).tolist()

out = {{}}
for fn, args in {cases!r}:
    args = [np.array(a) if isinstance(a, list) else a for a in args]
    value, both = getattr(mod, "value_and_grad_" + fn)(*args)
    out[fn] = [plain(getattr(mod, "grad_" + fn)(*args)), plain(value), plain(both)]
print(json.dumps(out))
"""

NO_AST_AD = """
sys.modules["ast_ad"] = None  # and, with -I -S, no site-packages either: not importable
try:
    import ast_ad
except ImportError:
    pass
else:
    raise SystemExit("ast_ad is importable")
"""


def run_written(out: Path, cases: list, standalone: bool = False) -> dict:
    """Import the written module in a fresh interpreter; its gradients at ``cases``."""
    path = [str(out.parent)]
    flags = []
    if standalone:  # only numpy's directory: not even the editable install of ast_ad
        path.append(str(Path(np.__file__).resolve().parent.parent))
        flags = ["-I", "-S"]
    script = RUN.format(path=path, prelude=NO_AST_AD if standalone else "", name=out.stem,
                        cases=cases)
    done = subprocess.run([sys.executable, *flags, "-c", script], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def as_arrays(args: tuple) -> list:
    return [np.array(a) if isinstance(a, list) else a for a in args]


def finite_differences(fn, args: list, wrt: tuple[int, ...], h: float = 1e-6) -> list:
    grads = []
    for k in wrt:
        x = np.asarray(args[k], dtype=float)
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            plus, minus = x.copy(), x.copy()
            plus[i] += h
            minus[i] -= h
            shift = lambda v: v if v.shape else float(v)
            up = fn(*args[:k], shift(plus), *args[k + 1:])
            down = fn(*args[:k], shift(minus), *args[k + 1:])
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def check_round_trip(src: Path, cases: list, written: dict, wrt: dict) -> None:
    module = import_file(src)
    for name, args in cases:
        fn = getattr(module, name)
        args = as_arrays(args)
        spec = wrt.get(name, 0)
        positions = tuple(range(len(spec))) if isinstance(spec, tuple) else (0,)
        expected = ast_ad.grad(fn, wrt=spec)(*args)
        grad, value, both = written[name]
        parts = (lambda g: list(g)) if isinstance(spec, tuple) else (lambda g: [g])
        for got, want, fd in zip(parts(grad), parts(expected),
                                 finite_differences(fn, args, positions)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7, err_msg=name)
        assert value == pytest.approx(float(fn(*args)), rel=1e-14), name
        np.testing.assert_allclose(np.asarray(both, dtype=float),
                                   np.asarray(grad, dtype=float), rtol=0, atol=0)


@pytest.mark.parametrize("standalone", [False, True], ids=["runtime", "standalone"])
def test_round_trip_scalar_module(tmp_path: Path, standalone: bool) -> None:
    out = tmp_path / "scalar_grads.py"
    result = transform_module(SRC / "scalar_mod.py", standalone=standalone)
    out.write_text(result.text)
    assert not result.array_mode
    assert [s.name for s in result.skipped] == ["opens_a_file"]
    check_round_trip(SRC / "scalar_mod.py", SCALAR_CASES,
                     run_written(out, SCALAR_CASES, standalone), {})


@pytest.mark.parametrize("standalone", [False, True], ids=["runtime", "standalone"])
def test_round_trip_numpy_module(tmp_path: Path, standalone: bool) -> None:
    out = tmp_path / "numpy_grads.py"
    result = transform_module(SRC / "numpy_mod.py", wrt=WRT, standalone=standalone)
    out.write_text(result.text)
    assert result.array_mode and result.transformed == ["layer", "loss", "mixed"]
    if standalone:
        assert "ast_ad" not in "".join(line for line in result.text.splitlines()
                                       if line.startswith(("import", "from")))
    cases = [c for c in NUMPY_CASES if c[0] != "layer"]  # layer returns a vector
    check_round_trip(SRC / "numpy_mod.py", cases, run_written(out, cases, standalone), WRT)


# ---------------------------------------------------------------------- golden outputs

@pytest.mark.parametrize("name, wrt", [("small", {"energy": ("x", "y")}),
                                       ("numpy_mod", WRT)])
def test_golden(name: str, wrt: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SRC)  # the header and comments name the file as given: small.py
    text = transform_module(f"{name}.py", wrt=wrt).text
    golden = GOLDEN / f"{name}.py"
    if os.environ.get("AST_AD_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()
    assert transform_module(f"{name}.py", wrt=wrt).text == text  # byte-identical re-run


def test_output_layout() -> None:
    text = transform_module(SRC / "small.py").text
    source = (SRC / "small.py").read_text()
    head, rest = text.split("\n\n", 1)
    assert head.startswith(f"# Generated by ast_ad {ast_ad.__version__} (ast-ad transform) "
                           f"from {SRC / 'small.py'}.")
    assert rest.startswith(source)  # the source, unchanged
    generated = rest[len(source):]
    assert "\nfrom ast_ad.runtime import seed_scalar\n" in generated
    assert "    # line 12: z = shrink(x) * y\n" in generated
    assert [line for line in generated.splitlines() if line.startswith("def ")] == [
        "def grad_shrink(x):", "def value_and_grad_shrink(x):", "def grad_energy(x, y):",
        "def value_and_grad_energy(x, y):"]  # shrink is inlined into energy
    assert "    bx += bz * y * RATE\n" in generated


# ---------------------------------------------------------------------- never executed

def test_source_is_never_executed(tmp_path: Path) -> None:
    src = tmp_path / "side_effects.py"
    shutil.copy(SRC / "side_effects.py", src)
    result = transform_module(src)
    assert result.transformed == ["f"]
    assert adjoint_source(src, "f").startswith("def grad_f(x):")
    assert not (tmp_path / "EXECUTED").exists()
    with pytest.raises(RuntimeError):  # the fixture does have the side effect when run
        import_file(src)
    assert (tmp_path / "EXECUTED").exists()


def test_modules_next_to_the_source_are_not_imported(tmp_path: Path) -> None:
    write(tmp_path, "mylib.py", """
        import pathlib
        pathlib.Path(__file__).with_name("IMPORTED").write_text("mylib was imported")
        def helper(x):
            return x
        """)
    src = write(tmp_path, "model.py", """
        import math
        import mylib
        from mylib import helper

        def f(x):
            return math.sin(x) + helper(x)
        """)
    module = analyze_module(read_module(src))
    assert isinstance(module.env.globals["mylib"], Opaque)
    assert isinstance(module.env.globals["helper"], Opaque)
    assert not (tmp_path / "IMPORTED").exists()
    (skip,) = transform_module(src).skipped
    assert "helper" in skip.error.message and skip.error.lineno == 6


# ---------------------------------------------------------------------- static names

def test_names_resolve_from_the_module_statements() -> None:
    import math
    module = analyze_module(parse_module("<static>", textwrap.dedent("""
        import math, os.path
        import numpy as np
        from math import sin as s, cos
        from . import sibling
        try:
            import numpy as maybe
        except ImportError:
            maybe = None
        act = math.tanh
        alias = s
        K = 2.0
        for LOOP in range(2):
            pass

        def f(x):
            return x

        def g(x):
            return x

        g = 3

        @staticmethod
        def decorated(x):
            return x

        class C:
            def method(self, y):
                inner = 1
        """)))
    names = module.env.globals
    assert names["math"] is math and names["os"] is os and names["np"] is np
    assert names["s"] is math.sin and names["cos"] is math.cos and names["alias"] is math.sin
    assert names["act"] is math.tanh and names["maybe"] is np
    for name in ("sibling", "K", "LOOP", "g", "decorated", "C"):
        assert isinstance(names[name], Opaque), name
    assert "inner" not in names and "y" not in names
    assert sorted(module.defs) == ["f"] and sorted(module.refused) == ["decorated"]
    assert module.imports_numpy
    assert "decorated with @staticmethod" in module.refused["decorated"].message


def test_refused_functions_are_reported_with_locations(tmp_path: Path) -> None:
    src = write(tmp_path, "refused.py", """
        import functools
        import math
        from textwrap import dedent

        @functools.lru_cache
        def cached(x):
            return x

        async def later(x):
            return x

        def grad_ok(x):
            return x

        def ok(x):
            return x

        def calls_library(x):
            return math.sin(dedent(x))

        def calls_refused(x):
            return cached(x) * x

        def fails(x):
            del x
            return 1.0

        def calls_fails(x):
            return fails(x) + x
        """)
    result = transform_module(src)
    skipped = {s.name: s for s in result.skipped}
    assert result.transformed == ["grad_ok"]
    assert sorted(skipped) == ["cached", "calls_fails", "calls_library", "calls_refused",
                               "fails", "later", "ok"]
    assert skipped["cached"].error.lineno == 6
    assert "async function" in skipped["later"].error.message
    assert skipped["ok"].error.message.endswith("already defines a module-level name 'grad_ok'")
    assert skipped["calls_library"].error.message.startswith(
        "cannot link the call to dedent() offline: it is defined in textwrap")
    assert skipped["calls_library"].error.lineno == 19
    assert skipped["calls_refused"].error.message.startswith("no derivative rule for cached()")
    assert skipped["calls_fails"].via == "fails"
    assert skipped["calls_fails"].error.lineno == skipped["fails"].error.lineno == 25


def test_helper_names_that_the_module_uses_are_renamed(tmp_path: Path) -> None:
    src = write(tmp_path, "clash.py", """
        import math

        __all__ = ["f"]
        seed_scalar = "the module's own"
        math_ = 1.0


        def add(a, b, depth=1):
            if depth > 0:  # recursive: its inner call is not inlined, it gets fwd_add
                return add(a, b, depth - 1)
            return a + b


        def f(x, fwd_add):
            item = 2.0
            return add(x * item, math.sin(fwd_add)) * math_
        """)
    for standalone in (False, True):
        text = transform_module(src, wrt={"f": (0, 1)}, standalone=standalone).text
        assert text.count("def fwd_add_1(") == 1 and "fwd_add_1(x * item, " not in text
        out = tmp_path / ("clash_sa.py" if standalone else "clash_rt.py")
        out.write_text(text)
        written = import_file(out)
        assert written.seed_scalar == "the module's own"
        assert written.__all__ == ["f", "grad_add", "value_and_grad_add", "grad_f",
                                   "value_and_grad_f"]
        got = written.grad_f(0.3, 0.8)
        want = ast_ad.grad(import_file(src).f, wrt=(0, 1))(0.3, 0.8)
        assert got == pytest.approx(want, rel=1e-14)
        if not standalone:
            assert "seed_scalar as seed_scalar_1" in text


def test_syntax_error_is_located(tmp_path: Path) -> None:
    src = write(tmp_path, "broken.py", "def f(x):\n    return x +\n")
    with pytest.raises(TransformError) as info:
        transform_module(src)
    assert info.value.message.startswith("syntax error")
    assert (info.value.filename, info.value.lineno) == (str(src), 2)
    assert "    return x +" in str(info.value)


# ---------------------------------------------------------------------- what show prints

@pytest.mark.parametrize("src, name, wrt, kind, arrays", [
    ("scalar_mod.py", "caller", 0, "grad", None),
    ("scalar_mod.py", "loop_branch", "x", "value_and_grad", None),
    ("scalar_mod.py", "recursive", 0, "grad", True),
    ("numpy_mod.py", "loss", ("x", "t"), "grad", None),
    ("numpy_mod.py", "mixed", 1, "value_and_grad", True),
])
def test_adjoint_source_is_what_source_returns(src, name, wrt, kind, arrays) -> None:
    module = import_file(SRC / src)
    expected = ast_ad.source(getattr(module, name), wrt=wrt, kind=kind, arrays=arrays)
    assert adjoint_source(SRC / src, name, wrt, kind, arrays) == expected


def test_local_functions_need_ast_ad_at_run_time(tmp_path: Path) -> None:
    src = write(tmp_path, "local.py", """
        #!/usr/bin/env python
        import math


        def outer(x, y):
            def scaled(v):
                return v * y
            return math.sin(scaled(x))
        """)
    result = transform_module(src)
    assert result.text.startswith("#!/usr/bin/env python\n# Generated by ast_ad")
    assert "from ast_ad.dynamic import call_fwd, call_rev" in result.text
    out = tmp_path / "local_grads.py"
    out.write_text(result.text)
    assert import_file(out).grad_outer(0.3, 0.7) == ast_ad.grad(import_file(src).outer)(0.3, 0.7)
    (skip,) = transform_module(src, standalone=True).skipped
    assert skip.error.message.startswith("it calls a function held in a variable")
    assert skip.error.lineno == 5


def test_modules_of_the_package_being_transformed_are_not_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "tree"
    pkg.mkdir()
    write(pkg, "leaf.py", """
        import pathlib
        pathlib.Path(__file__).with_name("IMPORTED").write_text("leaf was imported")
        """)
    src = write(pkg, "model.py", "import leaf\n\ndef f(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(pkg))  # as if run from inside the directory
    module = analyze_module(read_module(src), package=pkg)
    assert isinstance(module.env.globals["leaf"], Opaque)
    assert not (pkg / "IMPORTED").exists()
