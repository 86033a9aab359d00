"""The command line: ``ast-ad transform`` writes gradient modules, ``ast-ad show`` prints one
adjoint. Exit status: 0 done, 1 failed (a message says why), 2 bad command line.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import TransformError
from .offline import ModuleResult, adjoint_source, transform_module
from .sidebyside import html_page, side_by_side
from .static import read_module

PROGRESS_FROM = 8  # modules: from this many on, a package transform reports progress


class Failure(Exception):
    """A failed command: the message is printed, the exit status is 1."""


def main(argv: list[str] | None = None) -> int:
    """Run the ``ast-ad`` command with ``argv`` (default: ``sys.argv[1:]``); return its exit
    status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except SystemExit as exc:  # --help, or a usage error reported by argparse
        return exc.code if isinstance(exc.code, int) else 2
    except Failure as exc:
        _say(f"error: {exc}")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ast-ad", description="Source-to-source automatic differentiation, offline.")
    parser.add_argument("--version", action="version", version=f"ast_ad {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    transform = commands.add_parser(
        "transform", help="write a module with grad_f and value_and_grad_f for SRC's functions",
        description="Write OUT: a copy of SRC followed by grad_f and value_and_grad_f for "
        "each function f, like ast_ad.grad(f, wrt=...). SRC is read, never imported or run.")
    transform.add_argument("src", metavar="SRC", help="a module file, or a package directory")
    transform.add_argument("-o", "--output", required=True, metavar="OUT",
                           help="the module to write (a directory for a package)")
    transform.add_argument("--functions", type=_names, metavar="F,G",
                           help="transform only these (default: every function that can be)")
    transform.add_argument("--wrt", type=_wrt, action="append", default=[], metavar="F:X,Y",
                           help="differentiate F with respect to X, Y (names or positions; "
                           "default: the first argument). Repeat for more functions.")
    transform.add_argument("--standalone", action="store_true",
                           help="copy ast_ad's run-time helpers in: OUT needs no ast_ad")
    transform.add_argument("-q", "--quiet", action="store_true", help="report errors only")
    transform.set_defaults(run=run_transform)
    show = commands.add_parser(
        "show", help="print the adjoint that ast_ad generates for a function",
        description="Print the code ast_ad.source(f, ...) returns for the function FUNC of "
        "SRC, with the primal line of each reverse block in a comment above it.")
    show.add_argument("target", metavar="SRC.py:FUNC")
    show.add_argument("--wrt", metavar="X,Y", help="as ast_ad.grad's wrt (default: 0)")
    show.add_argument("--kind", choices=("grad", "value_and_grad"), default="grad")
    show.add_argument("--mode", choices=("reverse",), default="reverse",
                      help="the AD mode (reverse is the only one so far)")
    show.add_argument("--arrays", action="store_true",
                      help="the array-mode variant (what `transform` writes for a module "
                      "that imports numpy)")
    view = show.add_mutually_exclusive_group()
    view.add_argument("--side-by-side", action="store_true",
                      help="primal lines on the left, their adjoint blocks on the right")
    view.add_argument("--html", action="store_true", help="a side-by-side HTML page")
    show.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not to stdout")
    show.set_defaults(run=run_show)
    return parser


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or not all(n.isidentifier() for n in names):
        raise argparse.ArgumentTypeError(f"expected function names separated by commas: "
                                         f"{text!r}")
    return names


def _wrt_value(text: str) -> object:
    """A ``--wrt`` value as ``grad``'s ``wrt``: a name, a position, or a tuple of them.

    >>> _wrt_value("x"), _wrt_value("0"), _wrt_value("x,y"), _wrt_value("x,")
    ('x', 0, ('x', 'y'), ('x',))
    """
    items = [t.strip() for t in text.split(",")]
    values = [t for t in items if t]
    if not values or not all(v.isidentifier() or v.lstrip("-").isdigit() for v in values):
        raise argparse.ArgumentTypeError(f"expected parameter names or positions: {text!r}")
    values = [int(v) if v.lstrip("-").isdigit() else v for v in values]
    return tuple(values) if len(items) > 1 else values[0]


def _wrt(text: str) -> tuple[str, object]:
    func, colon, rest = text.partition(":")
    if not colon or not func.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"expected FUNC:X,Y (e.g. f:x,y), got {text!r}")
    return func.strip(), _wrt_value(rest)


def _say(message: str) -> None:
    print(f"ast-ad: {message}", file=sys.stderr)


# ---------------------------------------------------------------------- transform

@dataclass
class Job:
    """One module to transform, where its output goes, and what came of it."""

    src: Path
    out: Path
    result: ModuleResult | None = None
    errors: list[str] = field(default_factory=list)


def run_transform(args: argparse.Namespace) -> int:
    src, out = Path(args.src), Path(args.output)
    wrt = dict(args.wrt)
    package = src.is_dir()
    jobs = _package_jobs(src, out) if package else [_file_job(src, out)]
    wanted = set(args.functions or ()) | set(wrt)
    found: set = set()
    for k, job in enumerate(jobs, 1):
        if len(jobs) >= PROGRESS_FROM and not args.quiet:
            _say(f"[{k}/{len(jobs)}] {job.src}")
        _transform(job, args, wrt, package, wanted)
        if job.result:
            found |= set(job.result.transformed) | {s.name for s in job.result.skipped}
    errors = [e for job in jobs for e in job.errors]
    errors += [f"--functions or --wrt names '{n}', which {args.src} does not define as a "
               "module-level function" for n in sorted(wanted - found)
               if all(job.result for job in jobs)]
    if errors:
        raise Failure("\n".join(errors) + "\nnothing was written.")
    for job in jobs:
        try:
            write_atomic(job.out, job.result.text)
        except OSError as exc:
            raise Failure(f"cannot write {job.out}: {exc.strerror or exc}") from None
        if not args.quiet:
            _report(job)
    return 0


def _transform(job: Job, args: argparse.Namespace, wrt: dict, package: bool,
               wanted: set) -> None:
    """Transform ``job.src`` into ``job.result``; problems that fail the run go to
    ``job.errors``, functions merely skipped are reported."""
    try:
        job.result = transform_module(job.src, args.functions, wrt, args.standalone,
                                      Path(args.src) if package else None)
    except OSError as exc:
        job.errors.append(f"cannot read {job.src}: {exc.strerror or exc}")
        return
    except TransformError as exc:
        job.errors.append(str(exc))
        return
    for skip in job.result.skipped:
        via = f" (it calls {skip.via})" if skip.via and skip.via != skip.name else ""
        if skip.name in wanted:
            job.errors.append(f"cannot transform {skip.name}{via}:\n{skip.error}")
        elif not args.quiet:
            _say(f"skipped {skip.name}{via}: {str(skip.error).splitlines()[0]}")


def _report(job: Job) -> None:
    done = job.result.transformed
    skipped = len(job.result.skipped)
    what = f"gradients of {', '.join(done)}" if done else "no gradients"
    _say(f"wrote {job.out} ({what}" + (f"; {skipped} skipped)" if skipped else ")"))


def _file_job(src: Path, out: Path) -> Job:
    if out.is_dir():
        out = out / src.name
    if _same_file(src, out):
        raise Failure(f"refusing to overwrite the source file {src}: give -o another path")
    return Job(src, out)


def _package_jobs(src: Path, out: Path) -> list[Job]:
    """One job per module of the package ``src``, writing to the same place under ``out``."""
    if out.exists() and not out.is_dir():
        raise Failure(f"{src} is a directory, so -o must be one too, but {out} is a file")
    top, dest = src.resolve(), out.resolve()
    if dest == top or top in dest.parents or dest in top.parents:
        raise Failure(f"refusing to write {out} inside or over the package {src}: "
                      "give -o a directory outside it")
    modules = sorted(p for p in src.rglob("*.py") if not any(
        part.startswith(".") or part == "__pycache__" for part in p.relative_to(src).parts))
    if not modules:
        raise Failure(f"no Python modules (*.py) in {src}")
    return [Job(p, out / p.relative_to(src)) for p in modules]


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all at once: a temporary file next to it, then a rename, so
    that ``path`` is never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(text)
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------- show

def run_show(args: argparse.Namespace) -> int:
    path, colon, name = args.target.rpartition(":")
    if not colon or not name.isidentifier() or not path:
        raise Failure(f"expected SRC.py:FUNC (e.g. model.py:loss), got {args.target!r}")
    wrt = 0
    if args.wrt:
        func, _, spec = args.wrt.rpartition(":")
        if func and func != name:
            raise Failure(f"--wrt {args.wrt} is for {func}, but the function shown is {name}")
        try:
            wrt = _wrt_value(spec)
        except argparse.ArgumentTypeError as exc:
            raise Failure(f"--wrt: {exc}") from None
    try:
        file = read_module(path)
        code = adjoint_source(file, name, wrt, args.kind, args.arrays)
    except OSError as exc:
        raise Failure(f"cannot read {path}: {exc.strerror or exc}") from None
    except TransformError as exc:
        raise Failure(str(exc)) from None
    node = [s for s in file.tree.body if getattr(s, "name", None) == name][-1]
    primal = file.lines[node.lineno - 1:node.end_lineno]
    if args.side_by_side:
        code = side_by_side(primal, node.lineno, code)
    elif args.html:
        code = html_page(primal, node.lineno, code, f"{args.kind} of {name} ({path})")
    if args.output:
        if _same_file(Path(path), Path(args.output)):
            raise Failure(f"refusing to overwrite the source file {path}")
        try:
            write_atomic(Path(args.output), code)
        except OSError as exc:
            raise Failure(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(code)
    return 0
