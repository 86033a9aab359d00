"""Keep docs/*.md (and README.md) true: their code blocks are run or compared with what the
current code generates.

Markers are HTML comments on the line(s) just before a fenced block or a table::

    <!-- test: run -->                                    next ```python block is executed
    <!-- test: generated docs/examples/ex.py:f wrt=(0, 1) -->   next block == generated adjoint
    <!-- test: stage docs/examples/ex.py:f stage="jumps" -->    next block == that debug stage
    <!-- test: error docs/examples/ex.py:f -->            next ```text block == the error text
    <!-- test: quote ast_ad/rules/math.py -->             each line of the block is in that file
    <!-- test: supported docs/examples/ex_supported.py --> next table: examples checked vs FD
    <!-- test: refused docs/examples/ex_refused.py -->   next table: examples raise that error
    <!-- test: skip -->                                   next block is not checked

Paths are relative to the repository root. After ``file:function`` come keywords as in a
call (commas optional). ``generated`` compares with ``ast_ad.source(ast_ad.grad(f,
wrt=...))``; with ``kind="split"`` (etc.) with ``ast_ad.source(f, wrt=..., kind=...)``.
``stage`` compares with what ``AST_AD_DEBUG=1`` prints for that stage (one fresh process
for all of them). ``error`` takes ``args=(...)`` to call the gradient (else it only
transforms); the repository path is removed from the message. A ``run`` block is written
to a temporary module file and imported (docs/examples is on ``sys.path``).

Table rows name their example as ```name`: `code``` (several allowed): ``code`` must be in
the source of ``name`` in that file; ``supported`` checks ``ast_ad.grad`` against central
differences at the points of the file's ``CASES``; ``refused`` checks that the error
contains the backticked text of the columns "Error message contains" and "Suggested
rewrite" ("…" matches anything). In how-it-works.md and supported.md every ```python
block needs a marker (``skip`` for an illustration).

When the generated code changes on purpose, refresh the blocks and review the diff::

    python tests/test_docs.py --refresh          # docs/*.md; or name files: ... README.md
"""
from __future__ import annotations

import ast
import contextlib
import difflib
import functools
import importlib
import importlib.util
import inspect
import io
import itertools
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import ast_ad

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
REFRESH = "python tests/test_docs.py --refresh"
MARKER = re.compile(r"^\s*<!--\s*test:\s*(\w+)\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(```+)\s*(\w*)\s*$")
KINDS = {"run", "generated", "stage", "error", "quote", "supported", "refused", "skip"}
TABLE_KINDS = {"supported", "refused"}
STRICT = {"docs/how-it-works.md", "docs/supported.md"}  # every ```python block is checked


def doc_files() -> list[Path]:
    files = sorted((ROOT / "docs").glob("*.md"))
    readme = ROOT / "README.md"
    return files + [readme] if readme.exists() else files


# ----------------------------------------------------------------------- parsing

@dataclass
class Block:
    """A marked fenced block (or table) of a markdown file."""

    path: Path
    line: int            # 1-based line of the marker
    kind: str
    arg: str             # the rest of the marker
    lang: str = ""
    start: int = 0       # 0-based index of the first content line
    end: int = 0         # 0-based index of the closing fence (exclusive end of content)
    lines: list = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def parse(path: Path) -> tuple[list[Block], list[str]]:
    """The marked blocks of ``path``, and problems (unmarked python blocks in docs/)."""
    lines = path.read_text().splitlines()
    blocks, problems, pending = [], [], None
    k = 0
    strict = path.relative_to(ROOT).as_posix() in STRICT
    while k < len(lines):
        marker = MARKER.match(lines[k])
        fence = FENCE.match(lines[k])
        if marker:
            if pending is not None:
                problems.append(f"{path.name}:{pending.line}: marker without a block")
            kind, arg = marker.groups()
            pending = Block(path, k + 1, kind, arg)
            if kind not in KINDS:
                problems.append(f"{path.name}:{k + 1}: unknown marker kind {kind!r}")
            k += 1
            continue
        if pending is not None and pending.kind in TABLE_KINDS and lines[k].lstrip() \
                .startswith("|"):
            pending.start = k
            while k < len(lines) and lines[k].lstrip().startswith("|"):
                k += 1
            pending.end = k
            pending.lines = lines[pending.start:k]
            blocks.append(pending)
            pending = None
            continue
        if fence:
            indent, ticks, lang = fence.groups()
            close = next((j for j in range(k + 1, len(lines))
                          if lines[j].strip() == ticks), None)
            if close is None:
                problems.append(f"{path.name}:{k + 1}: unclosed code block")
                break
            content = [line[len(indent):] if line.startswith(indent) else line
                       for line in lines[k + 1:close]]
            if pending is not None and pending.kind not in TABLE_KINDS:
                pending.lang, pending.start, pending.end = lang, k + 1, close
                pending.lines = content
                blocks.append(pending)
                pending = None
            elif lang == "python" and strict:
                problems.append(f"{path.name}:{k + 1}: ```python block without a "
                                "'<!-- test: ... -->' marker (use '<!-- test: skip -->' "
                                "for an illustration)")
            k = close + 1
            continue
        if pending is not None and lines[k].strip():
            problems.append(f"{path.name}:{pending.line}: marker not followed by a block")
            pending = None
        k += 1
    if pending is not None:
        problems.append(f"{path.name}:{pending.line}: marker without a block")
    return blocks, problems


def all_blocks() -> list[Block]:
    return [b for path in doc_files() for b in parse(path)[0]]


def target(arg: str) -> tuple[Path, str, dict]:
    """``docs/examples/ex.py:f wrt=(0, 1), kind="split"`` -> (file, name, keywords)."""
    spec, _, rest = arg.partition(" ")
    file, _, name = spec.partition(":")
    keywords = {}
    if rest.strip():
        # keywords as in a call; commas between them may be left out: stage="jumps" wrt=0
        rest = re.sub(r"\s+(?=[A-Za-z_]\w*=)", ", ", rest.strip()).replace(",,", ",")
        call = ast.parse(f"_({rest})", mode="eval").body
        keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    return ROOT / file, name, keywords


# ----------------------------------------------------------------------- examples

_LOADED: dict = {}


def example_module(path: Path):
    """Import the file of a marker: docs/examples files by their plain name (as the docs'
    runnable blocks do), any other file (e.g. examples/quickstart.py) from its path."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    if path.parent == EXAMPLES:
        return importlib.import_module(path.stem)
    if path not in _LOADED:
        assert path.exists(), f"{path} does not exist"
        name = f"_docs_{path.stem}_{len(_LOADED)}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _LOADED[path] = module
    return _LOADED[path]


def example_function(path: Path, name: str):
    module = example_module(path)
    fn = getattr(module, name, None)
    assert fn is not None, f"{path.relative_to(ROOT)} has no {name!r}"
    return fn


def generated(arg: str) -> str:
    path, name, keywords = target(arg)
    fn = example_function(path, name)
    kind = keywords.pop("kind", "grad")
    if kind == "grad" and "arrays" not in keywords:
        return ast_ad.source(ast_ad.grad(fn, **keywords))
    return ast_ad.source(fn, kind=kind, **keywords)


def error_text(arg: str) -> str:
    path, name, keywords = target(arg)
    fn = example_function(path, name)
    args = keywords.pop("args", None)
    try:
        if args is None:
            ast_ad.source(ast_ad.grad(fn, **keywords))
        else:
            ast_ad.grad(fn, **keywords)(*args)
    except (ast_ad.TransformError, ast_ad.GradientError) as err:
        return str(err).replace(str(ROOT) + "/", "") + "\n"
    raise AssertionError(f"{name} did not raise")


_STAGE = re.compile(r"^---- (.+) ----$", re.M)

STAGE_SCRIPT = """
import importlib.util, json, sys
import ast_ad
sys.path.insert(0, sys.argv[1])
for k, (path, name, wrt) in enumerate(json.loads(sys.argv[2])):
    spec = importlib.util.spec_from_file_location(f"_stage_module_{k}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    print(f"==== {k} ====", file=sys.stderr, flush=True)
    ast_ad.source(ast_ad.grad(getattr(module, name), wrt=eval(wrt)))
"""


def stage_item(arg: str) -> tuple:
    path, name, keywords = target(arg)
    return str(path), name, repr(keywords.get("wrt", 0))


@functools.lru_cache(maxsize=1)
def stage_outputs() -> dict:
    """``{(path, name, wrt repr): {stage: text}}`` for every stage marker, from one process
    run with AST_AD_DEBUG=1 (fresh, so that nothing is cached)."""
    items = []
    for block in all_blocks():
        if block.kind == "stage" and stage_item(block.arg) not in items:
            items.append(stage_item(block.arg))
    if not items:
        return {}
    env = {"AST_AD_DEBUG": "1", "PATH": "", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", STAGE_SCRIPT, str(EXAMPLES),
                           json.dumps(items)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    out: dict = {}
    for chunk in done.stderr.split("==== ")[1:]:
        head, _, body = chunk.partition(" ====\n")
        item = items[int(head)]
        name = item[1]
        stages: dict = {}
        parts = _STAGE.split(body)
        for stage, text in zip(parts[1::2], parts[2::2]):
            text = text.strip("\n") + "\n"
            first = text.split("(", 1)[0]
            own = first in (f"def {name}", f"def grad_{name}")
            if own and stage not in stages:
                stages[stage] = text
        out[item] = stages
    return out


def stage_text(arg: str) -> str:
    stages = stage_outputs()[stage_item(arg)]
    stage = target(arg)[2]["stage"]
    assert stage in stages, f"no debug stage {stage!r} for {arg}; stages: {sorted(stages)}"
    return stages[stage]


EXPECTED = {"generated": generated, "stage": stage_text, "error": error_text}


# ----------------------------------------------------------------------- numerical checks

def numerical(fn, args: tuple, wrt: int, h: float = 1e-6):
    """Central differences of ``fn`` in argument ``wrt``: a float, a list or an array."""
    args = list(args)
    x = args[wrt]

    def at(value):
        moved = list(args)
        moved[wrt] = value
        return float(fn(*moved))

    if isinstance(x, float):
        return (at(x + h) - at(x - h)) / (2 * h)
    if isinstance(x, (list, tuple)):
        grads = []
        for k in range(len(x)):
            up, down = list(x), list(x)
            up[k] += h
            down[k] -= h
            grads.append((at(type(x)(up)) - at(type(x)(down))) / (2 * h))
        return grads
    if isinstance(x, dict):
        grads = {}
        for key in x:
            up, down = dict(x), dict(x)
            up[key] += h
            down[key] -= h
            grads[key] = (at(up) - at(down)) / (2 * h)
        return grads
    x = np.asarray(x, dtype=float)
    grads = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        grads[index] = (at(up) - at(down)) / (2 * h)
    return grads


def close(ad, fd) -> bool:
    if isinstance(fd, dict):
        return isinstance(ad, dict) and all(close(ad.get(k, 0.0), v) for k, v in fd.items())
    return bool(np.allclose(np.asarray(ad, dtype=float), np.asarray(fd, dtype=float),
                            rtol=1e-5, atol=1e-6))


EXAMPLE_PAIR = re.compile(r"`(\w+)`: `([^`]+)`")


def rows(block: Block) -> list[tuple[dict, list]]:
    """``(cells by header, example pairs)`` for each body row of a table."""
    header = [c.strip().lower() for c in block.lines[0].strip().strip("|").split("|")]
    out = []
    for line in block.lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        out.append((dict(zip(header, cells)), EXAMPLE_PAIR.findall(line)))
    return out


def in_source(fn, code: str) -> bool:
    squash = functools.partial(re.sub, r"\s+", " ")
    return squash(code) in squash(inspect.getsource(fn))


def contains_in_order(text: str, snippet: str) -> bool:
    """Is ``snippet`` in ``text``, with "…" standing for any text?"""
    pos = 0
    for part in snippet.split("…"):
        found = text.find(part.strip(), pos)
        if found < 0:
            return False
        pos = found + len(part.strip())
    return True


def check_supported(block: Block) -> None:
    path = ROOT / block.arg.split()[0]
    module = example_module(path)
    problems = []
    for cells, pairs in rows(block):
        if not pairs:
            problems.append(f"row without a `name`: `code` example: {cells}")
        for name, code in pairs:
            fn = getattr(module, name, None)
            if fn is None or not in_source(fn, code):
                problems.append(f"`{code}` is not in {name}() of {path.name}")
                continue
            for args, wrt in module.CASES[name]:
                ad = ast_ad.grad(fn, wrt=wrt)(*args)
                fd = numerical(fn, args, wrt)
                if not close(ad, fd):
                    problems.append(f"{name}{args} wrt={wrt}: ast_ad {ad!r} != FD {fd!r}")
    assert not problems, "\n".join(problems)


def check_refused(block: Block) -> None:
    path = ROOT / block.arg.split()[0]
    module = example_module(path)
    problems = []
    for cells, pairs in rows(block):
        error = re.findall(r"`([^`]+)`", cells.get("error message contains", ""))
        hint = re.findall(r"`([^`]+)`", cells.get("suggested rewrite", ""))
        if not pairs or not error:
            problems.append(f"row needs a `name`: `code` example and an error snippet: {cells}")
            continue
        name, code = pairs[0]
        fn = getattr(module, name, None)
        if fn is None or (inspect.isfunction(fn) and not in_source(fn, code)):
            problems.append(f"`{code}` is not in {name}() of {path.name}")
            continue
        args, wrt = module.CASES.get(name, ((1.0,), 0))
        try:
            ast_ad.grad(fn, wrt=wrt)(*args)
        except (ast_ad.TransformError, ast_ad.GradientError) as err:
            message = str(err)
            for snippet in error + hint:
                if not contains_in_order(message, snippet):
                    problems.append(f"{name}: {snippet!r} not in the error:\n{message}")
        else:
            problems.append(f"{name}: no error raised")
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------- the tests

_counter = itertools.count()


def run_block(block: Block, tmp_path: Path) -> None:
    """Execute the block as a module file (ast_ad reads the source of what it defines)."""
    name = f"_docs_block_{next(_counter)}"
    file = tmp_path / f"{name}.py"
    file.write_text(block.text)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    except Exception as exc:
        pytest.fail(f"{block.where}: the runnable block failed: {type(exc).__name__}: {exc}"
                    f"\n{textwrap.indent(block.text, '    ')}")
    finally:
        sys.modules.pop(name, None)


BLOCKS = all_blocks()


def test_markers_are_well_formed():
    problems = [p for path in doc_files() for p in parse(path)[1]]
    assert not problems, "\n".join(problems)


def test_docs_exist():
    assert (ROOT / "docs" / "how-it-works.md").exists()
    assert (ROOT / "docs" / "supported.md").exists()


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.where}:{b.kind}" for b in BLOCKS])
def test_block(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    if block.kind == "skip":
        return
    if block.kind == "run":
        assert block.lang == "python", f"{block.where}: 'run' needs a ```python block"
        run_block(block, tmp_path)
    elif block.kind in EXPECTED:
        expected = EXPECTED[block.kind](block.arg)
        if block.text.rstrip("\n") != expected.rstrip("\n"):
            diff = "\n".join(difflib.unified_diff(
                block.lines, expected.rstrip("\n").splitlines(), "docs", "current code",
                lineterm=""))
            pytest.fail(f"{block.where}: the {block.kind} block is out of date "
                        f"({block.arg}).\nIf the change is intended, run `{REFRESH}` and "
                        f"review the new text (and the prose around it).\n{diff}")
    elif block.kind == "quote":
        text = (ROOT / block.arg).read_text()
        missing = [line for line in block.lines if line.strip() and line.strip() not in text]
        assert not missing, f"{block.where}: lines not found in {block.arg}: {missing}"
    elif block.kind == "supported":
        check_supported(block)
    elif block.kind == "refused":
        check_refused(block)


# ----------------------------------------------------------------------- refreshing

def refresh(paths: list[Path]) -> None:
    """Rewrite the generated/stage/error blocks of ``paths`` with the current output."""
    for path in paths:
        blocks, _ = parse(path)
        lines = path.read_text().splitlines()
        changed = 0
        for block in sorted(blocks, key=lambda b: b.start, reverse=True):
            if block.kind not in EXPECTED:
                continue
            new = EXPECTED[block.kind](block.arg).rstrip("\n").splitlines()
            if new != block.lines:
                lines[block.start:block.end] = new
                changed += 1
        if changed:
            path.write_text("\n".join(lines) + "\n")
        print(f"{path.relative_to(ROOT)}: {changed} block(s) refreshed")


if __name__ == "__main__":
    if sys.argv[1:2] != ["--refresh"]:
        sys.exit(__doc__)
    sys.path.insert(0, str(ROOT))
    given = [ROOT / p for p in sys.argv[2:]]
    refresh(given or sorted((ROOT / "docs").glob("*.md")))
