"""The benchmark runner: ``python -m bench.run [--quick] [--only NAME[,NAME]] [--json FILE]``.

For every workload and size: the primal, the hand-written adjoint, ast_ad and each peer
that is installed are checked against the hand-written gradient, then timed in one
process in interleaved rounds (each round times every contender once, a calibrated number
of calls, in an order rotated from round to round) with BLAS pinned to one thread. The
report gives ratios to the hand-written adjoint (the median over rounds of each round's
ratio) and median times, ast_ad's transformation time, what its tape holds, and PASS /
FAIL for each target. No timing is asserted anywhere. See docs/benchmarks.md.
"""
from __future__ import annotations

import os
import sys

# One thread for every BLAS / OpenMP pool, before NumPy (or a peer) is imported. The
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE this machine may set are left as they are.
_NUMPY_WAS_IMPORTED = "numpy" in sys.modules
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")
for _var in _THREAD_VARS:
    os.environ[_var] = "1"
os.environ["JAX_ENABLE_X64"] = "1"                   # every contender in float64
os.environ.setdefault("JAX_PLATFORMS", "cpu")
if "xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_cpu_multi_thread_eigen=false").strip()

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402

import ast_ad  # noqa: E402
from bench import thirty  # noqa: E402
from bench.common import close, directional_error  # noqa: E402
from bench.workloads import NAMES, load  # noqa: E402

# ------------------------------------------------------------------------------ settings

PEERS = ["autograd", "tangent", "torch", "torch-vec", "jax", "jax-jit"]
PEER_MODULE = {"autograd": "autograd", "tangent": "tangent", "torch": "torch",
               "torch-vec": "torch", "jax": "jax", "jax-jit": "jax"}
PEER_DIST = {"autograd": "autograd", "tangent": "tangent-ad", "torch": "torch",
             "jax": "jax", "jaxlib": "jaxlib"}
EXACT = "hand-exact"   # a workload's hand_exact: the hand-written adjoint keeping the primal's bits
INFORMATIONAL = {"torch-vec", EXACT}   # shown, but no target refers to them
FIXED = ["primal", "hand", "ast_ad"]

# targets (reported, never asserted)
MAX_RATIO = 1.25
MAX_GEOMEAN = 1.10
SCALAR_SPEEDUP = 10.0
MAX_TRANSFORM_S = 0.020


@dataclass
class Settings:
    rounds: int = 15          # interleaved rounds
    target_s: float = 0.025   # calibrated time of one contender's timing in a round
    budget_s: float = 4.0     # a slow contender takes part in fewer rounds, within this
    min_rounds: int = 3       # ... but in at least this many
    transform_repeats: int = 7


QUICK = Settings(rounds=5, target_s=0.006, budget_s=0.6, min_rounds=1, transform_repeats=3)


@dataclass
class Contender:
    name: str
    run: Callable | None = None
    status: str = "ok"          # ok | not installed | unsupported | MISMATCH | error
    detail: str = ""
    build_s: float = 0.0        # the peer's own set-up (tangent transforms here)
    first_call_s: float | None = None
    number: int = 1
    rounds: int = 0
    times: list = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def spread(self) -> float | None:
        """Interquartile range over the median (0 with fewer than 4 rounds)."""
        if len(self.times) < 4 or not self.median:
            return None
        q = statistics.quantiles(self.times, n=4)
        return (q[2] - q[0]) / self.median


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------- environment

def available(peer: str) -> bool:
    return importlib.util.find_spec(PEER_MODULE[peer]) is not None


def version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def pin_peer_threads() -> dict:
    """Import the installed heavy peers once, up front, and pin their thread pools."""
    info = {}
    if importlib.util.find_spec("torch") is not None:
        import torch
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        info["torch threads"] = torch.get_num_threads()
    if importlib.util.find_spec("jax") is not None:
        import jax
        info["jax x64"] = bool(jax.config.jax_enable_x64)
        info["jax devices"] = [str(d) for d in jax.devices()]
    return info


def blas_info() -> list:
    try:
        import threadpoolctl
    except ImportError:
        return ["threadpoolctl not installed: pinned by environment variables only"]
    threadpoolctl.threadpool_limits(1)
    return [" ".join(str(x) for x in (p.get("internal_api"), p.get("version"),
                                       p.get("architecture")) if x)
            + f" [{os.path.basename(p.get('filepath', '?'))}], {p.get('num_threads')} thread(s)"
            for p in threadpoolctl.threadpool_info()]


def environment() -> dict:
    env = {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "numpy": np.__version__,
        "ast_ad": getattr(ast_ad, "__version__", "?"),
        "thread variables": {v: os.environ.get(v) for v in _THREAD_VARS},
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "numpy imported before pinning": _NUMPY_WAS_IMPORTED,
        "peers": {d: version(d) for d in PEER_DIST.values()},
    }
    env.update(pin_peer_threads())
    env["blas"] = blas_info()
    return env


# ---------------------------------------------------------------------------- timing

WARM_UP = 3  # calls before calibrating (after the first, checked call)


def _per_call(run: Callable, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        run()
    return (time.perf_counter() - t0) / number


def calibrate(c: Contender, s: Settings) -> None:
    """Pick the number of calls per timing (about ``target_s``) and the contender's share
    of the rounds (all of them, unless that would exceed ``budget_s``)."""
    if c.first_call_s is not None and c.first_call_s > s.budget_s:
        one = c.first_call_s          # too slow to spend a call on calibration
    else:
        for _ in range(WARM_UP):      # steady state: ast_ad specialises on the third call
            c.run()                   # with a signature, a jit has compiled on the first
        one = _per_call(c.run, 1)
        if one < s.target_s / 10:
            n = max(1, int(s.target_s / 10 / one))
            one = _per_call(c.run, n)
    c.number = max(1, int(s.target_s / one))
    per_round = c.number * one
    c.rounds = max(s.min_rounds, min(s.rounds, int(s.budget_s / per_round)))


def time_interleaved(contenders: list, s: Settings) -> None:
    order = [c for c in contenders if c.status == "ok"]
    for c in order:
        calibrate(c, s)
    gc.collect()
    gc.freeze()                 # later collections skip what setup left behind
    try:
        for r in range(max((c.rounds for c in order), default=0)):
            k = r % len(order)
            for c in order[k:] + order[:k]:
                if len(c.times) < c.rounds:
                    c.times.append(_per_call(c.run, c.number))
    finally:
        gc.unfreeze()


# ------------------------------------------------------------------------- contenders

def build_contenders(w, args: tuple, peers: list) -> list:
    cs = [Contender("primal", lambda: w.primal(*args)),
          Contender("hand", lambda: w.hand(*args))]
    if hasattr(w, "hand_exact"):
        cs.append(Contender(EXACT, lambda: w.hand_exact(*args)))
    clear_ast_ad_caches()           # so that ast_ad's first call transforms, like a user's
    vg = ast_ad.value_and_grad(w.primal, wrt=w.WRT)
    cs.append(Contender("ast_ad", lambda: vg(*args)))
    for peer in peers:
        c = Contender(peer)
        builder = w.PEERS.get(peer)
        if builder is None:
            c.status, c.detail = "n/a", "no version of this workload for this peer"
        elif not available(peer):
            c.status, c.detail = "not installed", f"{PEER_MODULE[peer]} is not installed"
        else:
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    c.run = builder(args)
            except ImportError as exc:
                c.status, c.detail = "not installed", str(exc)
            except Exception as exc:  # noqa: BLE001 - a peer refusing the code
                c.status, c.detail = "unsupported", f"{type(exc).__name__}: {exc}"
            c.build_s = time.perf_counter() - t0
        cs.append(c)
    return cs


def check(c: Contender, want_value: object, want_grads: object) -> None:
    """The first call: must agree with the hand-written adjoint, or the contender is
    excluded. Records the first call's time (with any transformation or compilation)."""
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = c.run()
    except Exception as exc:  # noqa: BLE001
        c.status = "error" if c.name in FIXED else "unsupported"
        c.detail = f"{type(exc).__name__}: {exc}"
        if c.name in FIXED:
            log(f"  !!! ERROR: {c.name}: {c.detail}")
        return
    elapsed = time.perf_counter() - t0
    c.first_call_s = c.build_s + elapsed
    if c.name == "primal":
        ok, why = close(out, want_value)
        value_ok = ok
    else:
        if not (isinstance(out, tuple) and len(out) == 2):
            c.status, c.detail = "MISMATCH", "did not return (value, gradients)"
            return
        value_ok, why = close(out[0], want_value)
        ok, why_g = close(out[1], want_grads)
        why = why if not value_ok else why_g
        ok = ok and value_ok
    if not ok:
        c.status = "MISMATCH"
        c.detail = ("value " if not value_ok else "gradient ") + why
        log(f"  !!! MISMATCH: {c.name}: {c.detail}; excluded from timing")


# ---------------------------------------------------------------------- ast_ad extras

def clear_ast_ad_caches() -> bool:
    """Forget every transformation ast_ad has cached; False if the caches moved."""
    found = False
    for mod_name, attrs in (("ast_ad.api", ("_CACHE",)),
                            ("ast_ad.pipeline", ("_SPLITS", "_CLOSURE_SPLITS"))):
        mod = importlib.import_module(mod_name)
        for attr in attrs:
            cache = getattr(mod, attr, None)
            if isinstance(cache, dict):
                cache.clear()
                found = True
    return found


class TransformCounter:
    """Counts calls of ast_ad's ``transform`` (patched in this process only)."""

    def __init__(self) -> None:
        self.count = 0
        self.patched: list = []

    def __enter__(self) -> TransformCounter:
        for mod_name in ("ast_ad.api", "ast_ad.pipeline"):
            mod = importlib.import_module(mod_name)
            original = getattr(mod, "transform", None)
            if callable(original):
                def counting(*a, _original=original, **k):
                    self.count += 1
                    return _original(*a, **k)
                mod.transform = counting
                self.patched.append((mod, original))
        return self

    def __exit__(self, *exc) -> None:
        for mod, original in self.patched:
            mod.transform = original


def transformation_time(f: Callable, wrt: object, args: tuple, repeats: int) -> dict:
    """First call of a fresh ``ast_ad.value_and_grad(f)`` with ast_ad's caches cleared,
    minus a normal (cached) call; then whether later calls transform again."""
    baseline_vg = ast_ad.value_and_grad(f, wrt=wrt)
    baseline_vg(*args)
    normal = min(_per_call(lambda: baseline_vg(*args), 1) for _ in range(5))
    firsts = []
    cleared = True
    for _ in range(repeats):
        cleared = clear_ast_ad_caches() and cleared
        vg = ast_ad.value_and_grad(f, wrt=wrt)
        t0 = time.perf_counter()
        vg(*args)
        firsts.append(time.perf_counter() - t0 - normal)
    with TransformCounter() as counter:
        later = [_per_call(lambda: vg(*args), 1) for _ in range(20)]
        again = ast_ad.value_and_grad(f, wrt=wrt)      # a new wrapper: the cache serves it
        again(*args)
    return {"first_s": firsts[0], "median_s": statistics.median(firsts),
            "normal_call_s": normal, "later_call_s": statistics.median(later),
            "later_transforms": counter.count if counter.patched else None,
            "caches_cleared": cleared}


_COLD_SCRIPT = """
import json, sys, time
import ast_ad
if sys.argv[1] == "thirty_lines":
    from bench import thirty
    f, wrt, args = thirty.thirty_lines, 0, thirty.inputs()
else:
    from bench.workloads import load
    w = load(sys.argv[1])
    f, wrt, args = w.primal, w.WRT, w.inputs("small")
vg = ast_ad.value_and_grad(f, wrt=wrt)
t0 = time.perf_counter(); vg(*args); t1 = time.perf_counter(); vg(*args)
t2 = time.perf_counter()
print(json.dumps({"first_s": t1 - t0, "second_s": t2 - t1}))
"""


def fresh_process_transform(name: str) -> float | None:
    """The first call's extra time in a new Python process (ast_ad and NumPy imported
    beforehand): the transformation as a program's first gradient pays it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    try:
        proc = subprocess.run([sys.executable, "-c", _COLD_SCRIPT, name], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120)
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError, OSError):
        return None
    return out["first_s"] - out["second_s"]


def tape_report(f: Callable, wrt: object, args: tuple) -> dict:
    """What ast_ad's tape holds for one call, from ``ast_ad.tape_report`` if the installed
    ast_ad has it: ``{"summary": "N values, B bytes", "detail": its full text}``."""
    report = getattr(ast_ad, "tape_report", None)
    if report is None:
        return {"summary": "n/a (tape_report not available)", "detail": ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = report(f, *args, wrt=wrt)
            except TypeError:
                out = report(f, *args)
    except Exception as exc:  # noqa: BLE001
        return {"summary": f"error: {type(exc).__name__}", "detail": str(exc)}
    if isinstance(out, dict):
        count, nbytes = out.get("count", out.get("entries")), out.get("bytes")
    else:
        count = getattr(out, "count", None)
        if count is None:
            count = getattr(out, "entries", None)
        nbytes = getattr(out, "bytes", None)
    if isinstance(count, (list, tuple)):
        count = len(count)
    if count is None:
        return {"summary": str(out).splitlines()[0] if str(out) else "?", "detail": str(out)}
    return {"summary": f"{count} values, {fmt_bytes(nbytes)}", "detail": str(out)}


def peak_bytes(run: Callable) -> int:
    """Peak memory allocated during one call (tracemalloc; NumPy reports to it)."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------------------- running

def run_cell(w, size: str, peers: list, s: Settings) -> dict:
    args = w.inputs(size)
    want_value, want_grads = w.hand(*args)
    primal_value = w.primal(*args)
    ok, why = close(want_value, primal_value, rtol=1e-9)
    fd = max(directional_error(w.primal, args, w.WRT, want_grads, seed=k) for k in range(2))
    hand_note = "" if ok and fd < 1e-5 else \
        f"hand-written adjoint suspicious: value {why or 'ok'}, directional FD error {fd:.1e}"
    if hand_note:
        log(f"  !!! {w.NAME}/{size}: {hand_note}")
    cs = build_contenders(w, args, peers)
    for c in cs:
        if c.status == "ok":
            check(c, want_value, want_grads)
    time_interleaved(cs, s)
    hand = next(c for c in cs if c.name == "hand")
    mem = {c.name: peak_bytes(c.run) for c in cs
           if c.name in FIXED and c.status == "ok"}
    return {
        "workload": w.NAME, "kind": w.KIND, "size": size, "params": w.SIZES[size],
        "hand_check": hand_note or f"ok (directional FD error {fd:.1e})",
        "contenders": {c.name: {
            "status": c.status, "detail": c.detail, "median_s": c.median,
            "ratio": paired_ratio(c.times, hand.times),
            "spread": c.spread, "first_call_s": c.first_call_s, "number": c.number,
            "rounds": len(c.times), "times_s": c.times} for c in cs},
        "peak_bytes": mem,
        "tape": tape_report(w.primal, w.WRT, args),
    }


MIN_PAIRED = 3  # rounds with both times, for a ratio of the rounds' ratios


def paired_ratio(times: list, hand: list) -> float | None:
    """A contender's time over the hand-written adjoint's: the median over rounds of the
    ratio within each round (each round times every contender once, so a slow spell of the
    machine that spans a round falls on both sides of its ratio); the ratio of the medians
    when fewer than ``MIN_PAIRED`` rounds have both times. ``times[k]`` and ``hand[k]``
    are from round ``k`` (a slow contender takes part in the first rounds only)."""
    ratios = [t / h for t, h in zip(times, hand) if h > 0]
    if len(ratios) >= MIN_PAIRED:
        return statistics.median(ratios)
    if times and hand and statistics.median(hand) > 0:
        return statistics.median(times) / statistics.median(hand)
    return None


def run(names: list, sizes: list, peers: list, s: Settings) -> dict:
    t_start = time.perf_counter()
    env = environment()
    log("peers: " + ", ".join(f"{d} {v or 'not installed'}" for d, v in env["peers"].items()))
    cells, transforms = [], {}
    for name in names:
        w = load(name)
        transforms[name] = transformation_time(w.primal, w.WRT, w.inputs("small"),
                                               s.transform_repeats)
        transforms[name]["fresh_process_s"] = fresh_process_transform(name)
        for size in sizes:
            t0 = time.perf_counter()
            log(f"{name}/{size} ...")
            cells.append(run_cell(w, size, peers, s))
            log(f"{name}/{size} done in {time.perf_counter() - t0:.1f} s")
    transforms["thirty_lines"] = transformation_time(thirty.thirty_lines, 0, thirty.inputs(),
                                                     max(5, s.transform_repeats))
    transforms["thirty_lines"]["fresh_process_s"] = fresh_process_transform("thirty_lines")
    result = {"env": env, "settings": s.__dict__, "workloads": names, "sizes": sizes,
              "peers": peers, "cells": cells, "transform": transforms}
    result["targets"] = targets(result)
    result["elapsed_s"] = time.perf_counter() - t_start
    return result


# -------------------------------------------------------------------------- targets

def _ratio(cell: dict, name: str) -> float | None:
    c = cell["contenders"].get(name)
    return c["ratio"] if c and c["status"] == "ok" else None


def _status(cell: dict, name: str) -> str:
    c = cell["contenders"].get(name)
    return c["status"] if c else "not selected"


def targets(result: dict) -> list:
    cells = result["cells"]
    out = []

    def add(name: str, verdict: str, detail: str) -> None:
        out.append({"target": name, "verdict": verdict, "detail": detail})

    ratios = [(c, _ratio(c, "ast_ad")) for c in cells]
    have = [(c, r) for c, r in ratios if r is not None]
    over = [f"{c['workload']}/{c['size']} {r:.2f}x" for c, r in have if r > MAX_RATIO]
    missing = [f"{c['workload']}/{c['size']}" for c, r in ratios if r is None]
    if not have:
        add(f"ast_ad <= {MAX_RATIO}x hand-written on every workload and size", "SKIP",
            "no measurements")
    else:
        add(f"ast_ad <= {MAX_RATIO}x hand-written on every workload and size",
            "FAIL" if over or missing else "PASS",
            (f"{len(over)} of {len(ratios)} cells over: " + ", ".join(over) if over else
             f"all {len(have)} cells within") + (f"; not measured: {', '.join(missing)}"
                                                 if missing else ""))
        gm = math.exp(statistics.fmean(math.log(r) for _, r in have))
        add(f"geometric mean of ast_ad / hand-written <= {MAX_GEOMEAN}x",
            "PASS" if gm <= MAX_GEOMEAN and not missing else "FAIL",
            f"{gm:.2f}x over {len(have)} cells")
    scalar = [c for c in cells if c["kind"] == "scalar"]
    for peer in ("autograd", "tangent"):
        name = f">= {SCALAR_SPEEDUP:.0f}x faster than {peer} on the scalar workloads"
        pairs = [(c, _ratio(c, peer), _ratio(c, "ast_ad")) for c in scalar]
        measured = [(c, p / a) for c, p, a in pairs if p is not None and a is not None]
        unmeasured = [f"{c['workload']}/{c['size']} ({_status(c, peer)})"
                      for c, p, a in pairs if p is None or a is None]
        if not measured:
            add(name, "SKIP", f"{peer} not measured" + (f": {', '.join(unmeasured)}"
                                                         if unmeasured else ""))
            continue
        slow = [f"{c['workload']}/{c['size']} {x:.1f}x" for c, x in measured
                if x < SCALAR_SPEEDUP]
        detail = ", ".join(f"{c['workload']}/{c['size']} {x:.1f}x" for c, x in measured)
        if unmeasured:
            detail += f"; not measured: {', '.join(unmeasured)}"
        add(name, "FAIL" if slow else "PASS", detail)
    for peer in ("autograd", "torch"):
        name = f"faster than {peer} on every workload"
        pairs = [(c, _ratio(c, peer), _ratio(c, "ast_ad")) for c in cells]
        measured = [(c, p / a) for c, p, a in pairs if p is not None and a is not None]
        unmeasured = [f"{c['workload']}/{c['size']} ({_status(c, peer)})"
                      for c, p, a in pairs if p is None or a is None]
        if not measured:
            add(name, "SKIP", f"{peer} not measured")
            continue
        slower = [f"{c['workload']}/{c['size']} ({x:.2f}x)" for c, x in measured if x <= 1.0]
        detail = (f"ast_ad slower on: {', '.join(slower)}" if slower
                  else f"faster on all {len(measured)} measured cells")
        if unmeasured:
            detail += f"; not measured: {', '.join(unmeasured)}"
        add(name, "FAIL" if slower else "PASS", detail)
    t30 = result["transform"]["thirty_lines"]
    name = f"transformation of a {thirty.LINES}-line function <= {MAX_TRANSFORM_S * 1e3:.0f} ms"
    cold = t30.get("fresh_process_s")
    detail = (f"{t30['median_s'] * 1e3:.1f} ms (median of fresh transformations; the first "
              f"in this process {t30['first_s'] * 1e3:.1f} ms"
              + (f", in a new process {cold * 1e3:.1f} ms)" if cold is not None else ")"))
    if not t30["caches_cleared"]:
        add(name, "SKIP", "ast_ad's caches were not found, so no fresh transformation was "
            "timed in this process; " + (f"in a new process: {cold * 1e3:.1f} ms"
                                          if cold is not None else "no measurement"))
    else:
        add(name, "PASS" if t30["median_s"] <= MAX_TRANSFORM_S else "FAIL", detail)
    later = [(n, t["later_transforms"]) for n, t in result["transform"].items()]
    if any(v is None for _, v in later):
        add("no transformation on later calls (cached)", "SKIP",
            "could not count transformations (ast_ad.api.transform not found)")
    else:
        redo = [n for n, v in later if v]
        add("no transformation on later calls (cached)", "FAIL" if redo else "PASS",
            f"transformed again: {', '.join(redo)}" if redo else
            f"0 transformations in 21 later calls of each of {len(later)} functions")
    return out


# ------------------------------------------------------------------------- reporting

def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, scale in (("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


SHORT = {"not installed": "n/i", "unsupported": "unsup", "MISMATCH": "MISMATCH",
         "n/a": "-", "error": "error"}


def cell_text(c: dict) -> str:
    if c["status"] != "ok":
        return SHORT.get(c["status"], c["status"])
    return f"{c['ratio']:.2f}"


def table(headers: list, rows: list) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(x).ljust(w) if i < 2 else str(x).rjust(w) for i, (x, w) in enumerate(zip(cells,
                                                                                   widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])]
                     + [line(r) for r in rows])


def report(result: dict) -> str:
    env, cells = result["env"], result["cells"]
    exact = [EXACT] if any(EXACT in c["contenders"] for c in cells) else []
    names = FIXED + exact + [p for p in result["peers"]]
    ratio_names = [n for n in names if n != "hand"]
    out = ["# ast_ad benchmark", ""]
    out.append(f"python {env['python']} on {env['machine']}; numpy {env['numpy']}; "
               f"ast_ad {env['ast_ad']}")
    out.append("BLAS: " + "; ".join(env["blas"]) + " (thread variables set to 1"
               + (", but NumPy was imported before they were set" if
                  env["numpy imported before pinning"] else "") + ")")
    peer_threads = []
    if "torch threads" in env:
        peer_threads.append(f"torch {env['torch threads']} thread(s)")
    if "jax devices" in env:
        peer_threads.append(f"jax on {', '.join(env['jax devices'])}, x64 {env['jax x64']}, "
                            f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')}")
    if peer_threads:
        out.append("peer threads: " + "; ".join(peer_threads))
    if env["OPENBLAS_CORETYPE"] or env["OPENBLAS_L2_SIZE"]:
        out.append(f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']} "
                   f"OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE']} (left as set)")
    out.append("peers: " + ", ".join(f"{d} {v}" if v else f"{d} NOT INSTALLED (skipped)"
                                     for d, v in env["peers"].items()))
    s = result["settings"]
    out.append(f"timing: {s['rounds']} interleaved rounds, ~{s['target_s'] * 1e3:.0f} ms "
               f"per timing; slow contenders take fewer rounds (>= {s['min_rounds']}) "
               f"within {s['budget_s']:.1f} s")
    out.append("")
    out.append("## value + gradient, time as a ratio to the hand-written adjoint: the median "
               "over rounds of each round's ratio (lower is better)")
    out.append("")
    headers = ["workload", "size", "hand"] + ratio_names
    rows = []
    for cell in cells:
        cs = cell["contenders"]
        rows.append([cell["workload"], cell["size"], fmt_time(cs["hand"]["median_s"])]
                    + [cell_text(cs[n]) if n in cs else "-" for n in ratio_names])
    out.append("```")
    out.append(table(headers, rows))
    have = [r for r in (_ratio(c, "ast_ad") for c in cells) if r]
    if have:
        gm = math.exp(statistics.fmean(math.log(r) for r in have))
        out.append(f"\ngeometric mean of ast_ad's ratios: {gm:.2f}x over {len(have)} cells")
    out.append("```")
    out.append("columns: hand = the hand-written adjoint's median time per call; "
               "primal = the function alone; the rest are ratios to hand. "
               "n/i = peer not installed (skipped), unsup = the peer cannot run this code, "
               "MISMATCH = wrong gradient (excluded), - = no version."
               + "".join(f" {p} is informational (no target uses it)."
                         for p in result["peers"] if p in INFORMATIONAL)
               + (f" {EXACT} = the hand-written adjoint computing the value with the primal's "
                  "own operations (its value is the primal's bit for bit on every input, as "
                  "ast_ad's is); informational." if exact else ""))
    out.append("")
    out.append("## median time per call (interquartile range / median, rounds)")
    out.append("")
    rows = []
    for cell in cells:
        cs = cell["contenders"]
        row = [cell["workload"], cell["size"]]
        for n in names:
            c = cs.get(n)
            if not c or c["status"] != "ok":
                row.append(SHORT.get(c["status"], "-") if c else "-")
                continue
            spread = f"{c['spread'] * 100:.0f}%" if c["spread"] is not None else "-"
            row.append(f"{fmt_time(c['median_s'])} ({spread},{c['rounds']})")
        rows.append(row)
    out.append("```")
    out.append(table(["workload", "size"] + names, rows))
    out.append("```")
    out.append("")
    out.append("## first call (transformation, tracing or compilation included)")
    out.append("")
    rows = []
    tr = result["transform"]
    for cell in cells:
        cs = cell["contenders"]
        row = [cell["workload"], cell["size"]]
        for n in ["ast_ad"] + [p for p in result["peers"]]:
            c = cs.get(n)
            row.append(fmt_time(c["first_call_s"]) if c and c["status"] == "ok" else
                       SHORT.get(c["status"], "-") if c else "-")
        rows.append(row)
    out.append("```")
    out.append(table(["workload", "size", "ast_ad"] + list(result["peers"]), rows))
    out.append("```")
    out.append("")
    out.append("## ast_ad: transformation time, tape and memory")
    out.append("")
    rows = []
    for name, t in tr.items():
        by_size = {c["size"]: c for c in cells if c["workload"] == name}
        row = [name, fmt_time(t["median_s"]) + ("" if t["caches_cleared"] else " (!)"),
               fmt_time(t["first_s"]), fmt_time(t.get("fresh_process_s")),
               fmt_time(t["later_call_s"]), str(t["later_transforms"])]
        for size in ("small", "large"):
            c = by_size.get(size)
            row.append(c["tape"]["summary"] if c else "-")
        for size in ("small", "large"):
            c = by_size.get(size)
            mem = c["peak_bytes"] if c else {}
            row.append(" / ".join(fmt_bytes(mem.get(k)) for k in ("ast_ad", "hand", "primal"))
                       if mem else "-")
        rows.append(row)
    out.append("```")
    out.append(table(["function", "transform", "1st in process", "new process", "later call",
                      "re-transforms", "tape small", "tape large",
                      "peak small: ast_ad / hand / primal", "peak large"], rows))
    out.append("```")
    out.append("transform = first call of a fresh value_and_grad with ast_ad's caches cleared, "
               "minus a cached call (median of repeats; '1st in process' is the first of "
               "them; 'new process' the same in a new Python process, the first gradient a "
               "program takes; (!) = ast_ad's caches were not found, so not fresh); "
               "later call = a cached call's time; re-transforms = transformations "
               "counted over 21 later calls; tape = ast_ad.tape_report for one call; peak = "
               "memory allocated during one call (tracemalloc).")
    out.append("")
    out.append("## targets")
    out.append("")
    for t in result["targets"]:
        out.append(f"- {t['verdict']}: {t['target']} -- {t['detail']}")
    notes = [(c["workload"], c["size"], n, v) for c in cells
             for n, v in c["contenders"].items()
             if v["status"] in ("unsupported", "MISMATCH", "error")]
    bad_hand = [c for c in cells if not c["hand_check"].startswith("ok")]
    if notes or bad_hand:
        out.append("")
        out.append("## problems")
        out.append("")
        for c in bad_hand:
            out.append(f"- {c['workload']}/{c['size']}: {c['hand_check']}")
        for w, size, n, v in notes:
            out.append(f"- {w}/{size} {n}: {v['status']}: {v['detail'][:300]}")
    out.append("")
    out.append(f"total time {result['elapsed_s']:.0f} s")
    return "\n".join(out)


# ------------------------------------------------------------------------------ main

def parse(argv: list | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="fewer rounds and shorter timings (about a minute)")
    p.add_argument("--only", default="", help=f"comma-separated workloads: {', '.join(NAMES)}")
    p.add_argument("--sizes", default="small,large", help="comma-separated: small,large")
    p.add_argument("--peers", default=",".join(PEERS),
                   help="comma-separated peers to try (default: all); '' for none")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds")
    p.add_argument("--json", default=None, metavar="FILE", help="also write raw results")
    return p.parse_args(argv)


def main(argv: list | None = None) -> int:
    a = parse(argv)
    s = QUICK if a.quick else Settings()
    if a.rounds:
        s.rounds = a.rounds
    names = [n.strip() for n in a.only.split(",") if n.strip()] or list(NAMES)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        print(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}",
              file=sys.stderr)
        return 2
    sizes = [x.strip() for x in a.sizes.split(",") if x.strip()]
    peers = [x.strip() for x in a.peers.split(",") if x.strip()]
    bad = [x for x in peers if x not in PEERS] + [x for x in sizes if x not in
                                                 ("small", "large")]
    if bad:
        print(f"unknown peer(s) or size(s): {', '.join(bad)}", file=sys.stderr)
        return 2
    result = run(names, sizes, peers, s)
    print(report(result))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(result, fh, indent=1, default=str)
        log(f"raw results written to {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
