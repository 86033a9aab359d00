"""The ``ast-ad`` command line: every error path with its message and exit status, safe
writes, packages, ``show`` (the same code as ``ast_ad.source``), and one real
``python -m ast_ad`` process."""
from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ast_ad
from ast_ad import cli
from ast_ad.cli import main

SRC = Path(__file__).resolve().parent / "offline_src"
_count = itertools.count()


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def import_file(path: Path):
    name = f"_cli_test_{path.stem}_{next(_count)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------------- transform

def test_transform_reports_skipped_functions(tmp_path: Path, capsys) -> None:
    out = tmp_path / "grads.py"
    status, stdout, err = run(capsys, "transform", SRC / "scalar_mod.py", "-o", out)
    assert status == 0 and stdout == ""
    src = SRC / "scalar_mod.py"
    assert err.splitlines() == [
        f"ast-ad: skipped opens_a_file: {src}:53:5: cannot differentiate a 'with' statement "
        "in opens_a_file()",
        f"ast-ad: wrote {out} (gradients of poly, loop_branch, while_loop, helper, caller, "
        "recursive; 1 skipped)"]
    written = import_file(out)
    assert written.grad_poly(1.0, 2.0) == pytest.approx(2 * 1.5 * 2.0)
    assert not hasattr(written, "grad_opens_a_file")
    assert files_in(tmp_path) == ["grads.py"]  # no temporary file left
    status, _, err = run(capsys, "transform", SRC / "scalar_mod.py", "-o", out, "--quiet")
    assert status == 0 and err == ""


def test_functions_and_wrt(tmp_path: Path, capsys) -> None:
    out = tmp_path / "grads.py"
    status, _, err = run(capsys, "transform", SRC / "scalar_mod.py", "-o", out,
                         "--functions", "poly,caller", "--wrt", "poly:x,y", "--wrt", "caller:y")
    assert status == 0, err
    written = import_file(out)
    assert [n for n in dir(written) if n.startswith("grad_")] == ["grad_caller", "grad_poly"]
    assert written.grad_poly(1.0, 2.0) == pytest.approx((6.0, 1.5 + __import__("math").cos(2)))
    module = import_file(SRC / "scalar_mod.py")
    assert written.grad_caller(0.5, 1.1) == ast_ad.grad(module.caller, wrt="y")(0.5, 1.1)


def test_a_requested_function_that_fails_is_an_error(tmp_path: Path, capsys) -> None:
    out = write(tmp_path / "grads.py", "previous = True\n")
    status, _, err = run(capsys, "transform", SRC / "scalar_mod.py", "-o", out,
                         "--functions", "poly,opens_a_file")
    assert status == 1
    assert err.startswith("ast-ad: error: cannot transform opens_a_file:\n"
                          f"{SRC / 'scalar_mod.py'}:53:5: cannot differentiate a 'with' "
                          "statement in opens_a_file()\n"
                          '        with open("data.txt") as handle:\n'
                          "        ^\n")
    assert err.endswith("nothing was written.\n")
    assert out.read_text() == "previous = True\n" and files_in(tmp_path) == ["grads.py"]


@pytest.mark.parametrize("argv, message", [
    (["--functions", "nope"], "--functions or --wrt names 'nope', which {src} does not "
     "define as a module-level function"),
    (["--wrt", "nope:x"], "--functions or --wrt names 'nope'"),
    (["--wrt", "poly:z"], "cannot transform poly:\n{src}:12:1: wrt='z' does not name a "
     "parameter of poly(x, y)"),
])
def test_bad_names_are_errors(tmp_path: Path, capsys, argv, message) -> None:
    src = SRC / "scalar_mod.py"
    status, _, err = run(capsys, "transform", src, "-o", tmp_path / "out.py", *argv)
    assert status == 1 and message.format(src=src) in err
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("argv", [
    ["transform", "x.py"],                               # no -o
    ["transform", "x.py", "-o", "y.py", "--wrt", "f"],   # no colon
    ["transform", "x.py", "-o", "y.py", "--wrt", "f:x-y"],
    ["transform", "x.py", "-o", "y.py", "--functions", ","],
    ["show", "x.py:f", "--mode", "forward"],
    ["frobnicate"],
    [],
])
def test_usage_errors_exit_2(capsys, argv) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 2 and "usage: ast-ad" in err


def test_help_and_version(capsys) -> None:
    assert run(capsys, "--help")[0] == 0
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out == f"ast_ad {ast_ad.__version__}\n"


def test_unreadable_and_undecodable_files(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "missing.py"
    status, _, err = run(capsys, "transform", missing, "-o", tmp_path / "out.py")
    assert (status, err) == (1, f"ast-ad: error: cannot read {missing}: No such file or "
                                "directory\nnothing was written.\n")
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"x = '\xff\xfe'\n")
    status, _, err = run(capsys, "transform", binary, "-o", tmp_path / "out.py")
    assert status == 1 and err.startswith(f"ast-ad: error: cannot decode {binary}: ")
    assert files_in(tmp_path) == ["binary.py"]


def test_syntax_error(tmp_path: Path, capsys) -> None:
    src = write(tmp_path / "broken.py", "def f(x):\n    return x +\n")
    status, _, err = run(capsys, "transform", src, "-o", tmp_path / "out.py")
    assert status == 1
    assert err.startswith(f"ast-ad: error: {src}:2:15: syntax error: invalid syntax\n"
                          "        return x +\n")
    assert files_in(tmp_path) == ["broken.py"]


def test_refuses_to_overwrite_the_source(tmp_path: Path, capsys) -> None:
    src = tmp_path / "model.py"
    src.write_text((SRC / "small.py").read_text())
    for target in (src, tmp_path, tmp_path / "." / "model.py"):
        status, _, err = run(capsys, "transform", src, "-o", target)
        assert status == 1 and "refusing to overwrite the source file" in err
    assert src.read_text() == (SRC / "small.py").read_text()


def test_output_directory_and_atomic_write(tmp_path: Path, capsys, monkeypatch) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert run(capsys, "transform", SRC / "small.py", "-o", out_dir)[0] == 0
    assert files_in(out_dir) == ["small.py"]
    written = (out_dir / "small.py").read_text()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "replace", broken_replace)
    status, _, err = run(capsys, "transform", SRC / "small.py", "-o", out_dir, "--standalone")
    assert status == 1
    assert err == f"ast-ad: error: cannot write {out_dir / 'small.py'}: No space left on device\n"
    assert files_in(out_dir) == ["small.py"] and (out_dir / "small.py").read_text() == written


# ---------------------------------------------------------------------- packages

def test_package_is_mirrored(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    status, _, err = run(capsys, "transform", SRC / "pkg", "-o", out)
    assert status == 0, err
    assert files_in(out) == ["__init__.py", "core.py", "sub/__init__.py", "sub/extra.py"]
    assert "skipped uses_sibling: " in err and "[1/4]" not in err  # few files: no progress
    assert f"wrote {out / 'core.py'} (gradients of cube, wave; 1 skipped)" in err
    assert f"wrote {out / '__init__.py'} (no gradients)" in err
    sys.path.insert(0, str(tmp_path))
    try:
        import out.core as core  # the relative imports work in the mirrored tree
        import out.sub.extra as extra
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "out" or n.startswith("out.")]:
            del sys.modules[name]
    assert core.grad_wave(0.5) == pytest.approx(__import__("math").cos(0.5) + 0.75)
    assert extra.grad_twice(3.0) == 12.0


def test_big_package_shows_progress_and_fails_as_a_whole(tmp_path: Path, capsys) -> None:
    pkg = tmp_path / "big"
    for k in range(cli.PROGRESS_FROM):
        write(pkg / f"m{k}.py", f"def f{k}(x):\n    return x * {k}.0\n")
    status, _, err = run(capsys, "transform", pkg, "-o", tmp_path / "out")
    assert status == 0
    n = cli.PROGRESS_FROM
    assert f"ast-ad: [1/{n}] {pkg / 'm0.py'}" in err and f"[{n}/{n}]" in err
    write(pkg / "m3.py", "def f(x:\n")
    status, _, err = run(capsys, "transform", pkg, "-o", tmp_path / "out2")
    assert status == 1 and f"{pkg / 'm3.py'}:1:" in err and "syntax error" in err
    assert not (tmp_path / "out2").exists()


def test_package_output_inside_the_package_is_refused(tmp_path: Path, capsys) -> None:
    pkg = write(tmp_path / "pkg" / "m.py", "def f(x):\n    return x\n").parent
    for out in (pkg, pkg / "out", tmp_path):
        status, _, err = run(capsys, "transform", pkg, "-o", out)
        assert status == 1 and "refusing to write" in err
    write(tmp_path / "file.py", "")
    status, _, err = run(capsys, "transform", pkg, "-o", tmp_path / "file.py")
    assert status == 1 and "-o must be one too" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(capsys, "transform", empty, "-o", tmp_path / "o")[2].endswith(
        f"no Python modules (*.py) in {empty}\n")


# ---------------------------------------------------------------------- show

@pytest.mark.parametrize("func, options, kwargs", [
    ("caller", [], {}),
    ("loop_branch", ["--wrt", "x,n", "--kind", "value_and_grad"],
     {"wrt": ("x", "n"), "kind": "value_and_grad"}),
    ("recursive", ["--wrt", "recursive:0", "--arrays"], {"wrt": 0, "arrays": True}),
])
def test_show_prints_what_source_returns(capsys, func, options, kwargs) -> None:
    status, out, err = run(capsys, "show", f"{SRC / 'scalar_mod.py'}:{func}", *options)
    assert status == 0, err
    module = import_file(SRC / "scalar_mod.py")
    assert out == ast_ad.source(getattr(module, func), **kwargs)


def test_show_side_by_side(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    status, out, _ = run(capsys, "show", f"{SRC / 'small.py'}:energy", "--side-by-side")
    assert status == 0
    assert out.splitlines()[2:] == [
        "  11  def energy(x, y):           │",
        "  12      z = shrink(x) * y       │ bx += bz * y * RATE",
        "  13      if z > 0.0:             │ if _cond1:",
        "  14          z = z + math.sin(x) │ bx = bz * math.cos(x)",
        "  15      return z                │"]
    assert out.startswith("primal" + " " * 28 + "│ adjoint (reverse sweep)\n")
    docs = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    shown = docs.split("$ ast-ad show small.py:energy --side-by-side\n", 1)[1].split("```")[0]
    assert shown == out  # the page shows this very output
    page = tmp_path / "energy.html"
    status, out, _ = run(capsys, "show", f"{SRC / 'small.py'}:energy", "--html", "-o", page)
    assert status == 0 and out == ""
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<td>  12      z = shrink(x) * y</td>" in html
    assert "def grad_energy(x, y):" in html


@pytest.mark.parametrize("target, options, message", [
    ("{src}", [], "expected SRC.py:FUNC"),
    ("{src}:nope", [], "{src} defines no module-level function 'nope'"),
    ("{src}:opens_a_file", [], "cannot differentiate a 'with' statement in opens_a_file()"),
    ("{src}:poly", ["--wrt", "z"], "wrt='z' does not name a parameter of poly(x, y)"),
    ("{src}:poly", ["--wrt", "other:x"], "--wrt other:x is for other, but the function "
     "shown is poly"),
    ("{src}:poly", ["--wrt", "x y"], "--wrt: expected parameter names or positions"),
    ("missing.py:f", [], "cannot read missing.py: No such file or directory"),
])
def test_show_errors(capsys, target, options, message) -> None:
    src = SRC / "scalar_mod.py"
    status, out, err = run(capsys, "show", target.format(src=src), *options)
    assert status == 1 and out == ""
    assert err.startswith("ast-ad: error: ") and message.format(src=src) in err


# ---------------------------------------------------------------------- a real process

def test_python_m_ast_ad(tmp_path: Path) -> None:
    """``python -m ast_ad`` runs the same command, and its output (in a process with another
    hash seed) is byte-identical to the in-process one."""
    out = tmp_path / "grads.py"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    done = subprocess.run([sys.executable, "-m", "ast_ad", "transform", "numpy_mod.py",
                           "-o", str(out), "--wrt", "loss:x,t", "--wrt", "mixed:x,y"],
                          cwd=SRC, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"ast-ad: wrote {out} (gradients of layer, loss, mixed)\n"
    expected = (Path(__file__).parent / "golden" / "offline" / "numpy_mod.py").read_text()
    assert out.read_text() == expected
    failed = subprocess.run([sys.executable, "-m", "ast_ad", "show", "numpy_mod.py:nope"],
                            cwd=SRC, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "defines no module-level function 'nope'" in failed.stderr
