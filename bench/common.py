"""Helpers shared by the workloads and the runner: flattening gradients of any tool to one
float vector for comparison, fixed-seed inputs, and the peers' shared run wrappers."""
from __future__ import annotations

import numpy as np

SEED = 20240611


def rng(offset: int = 0) -> np.random.Generator:
    """The fixed-seed generator every workload draws its inputs from."""
    return np.random.default_rng(SEED + offset)


def flatten(obj: object) -> np.ndarray:
    """Any tool's value or gradients (floats, NumPy / JAX / PyTorch arrays, nested lists,
    tuples and dicts of them) as one 1-D float64 vector, in a fixed order."""
    parts: list[np.ndarray] = []
    _collect(obj, parts)
    if not parts:
        return np.zeros(0)
    return np.concatenate(parts)


def _collect(obj: object, parts: list) -> None:
    if isinstance(obj, dict):
        for key in sorted(obj):
            _collect(obj[key], parts)
        return
    if isinstance(obj, (list, tuple)):
        for item in obj:
            _collect(item, parts)
        return
    if hasattr(obj, "detach") and hasattr(obj, "numpy"):        # a torch tensor
        obj = obj.detach().cpu().numpy()
    parts.append(np.asarray(obj, dtype=np.float64).reshape(-1))


def close(got: object, want: object, rtol: float = 1e-6, atol: float = 1e-9) -> tuple[bool, str]:
    """Do two values or gradient structures agree? ``atol`` is scaled by the largest entry
    of ``want``. Returns (ok, a one-line reason when not)."""
    g, w = flatten(got), flatten(want)
    if g.shape != w.shape:
        return False, f"{g.size} numbers where {w.size} were expected"
    if not np.all(np.isfinite(g)):
        return False, "non-finite entries"
    scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
    if np.allclose(g, w, rtol=rtol, atol=atol * scale):
        return True, ""
    err = np.abs(g - w)
    k = int(np.argmax(err))
    return False, (f"max abs error {err[k]:.3g} at entry {k} (got {g[k]:.6g}, "
                   f"want {w[k]:.6g})")


def unflatten_like(vec: np.ndarray, template: object) -> object:
    """``vec`` in the structure of ``template``: a float, a (nested) list or tuple of
    floats, or a NumPy array. The inverse of :func:`flatten` for these."""
    out, used = _build(np.asarray(vec, dtype=np.float64), 0, template)
    assert used == len(vec), "vector and template sizes differ"
    return out


def _build(vec: np.ndarray, at: int, template: object) -> tuple[object, int]:
    if isinstance(template, (list, tuple)):
        items = []
        for item in template:
            value, at = _build(vec, at, item)
            items.append(value)
        return (items if isinstance(template, list) else tuple(items)), at
    if isinstance(template, np.ndarray):
        n = template.size
        return vec[at:at + n].reshape(template.shape).copy(), at + n
    return float(vec[at]), at + 1


def wrt_positions(wrt: object) -> tuple:
    return wrt if isinstance(wrt, tuple) else (wrt,)


def shifted(args: tuple, wrt: object, directions: list, eps: float) -> tuple:
    """``args`` with each differentiated argument moved by ``eps`` times its direction."""
    args = list(args)
    for pos, d in zip(wrt_positions(wrt), directions):
        args[pos] = unflatten_like(flatten(args[pos]) + eps * d, args[pos])
    return tuple(args)


def directional_error(f, args: tuple, wrt: object, grads: object, seed: int = 0,
                      eps: float = 1e-6) -> float:
    """Relative disagreement between ``grads`` projected on a random direction and the
    central finite difference of ``f`` along it."""
    r = np.random.default_rng(seed)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    directions = [r.normal(size=flatten(args[p]).size) for p in wrt_positions(wrt)]
    analytic = sum(float(flatten(g) @ d) for g, d in zip(grads, directions))
    numeric = (float(f(*shifted(args, wrt, directions, eps)))
               - float(f(*shifted(args, wrt, directions, -eps)))) / (2 * eps)
    return abs(analytic - numeric) / max(1.0, abs(analytic), abs(numeric))


def tangent_runner(fn, wrt: tuple, args: tuple):
    """tangent-ad's gradient of ``fn`` as a benchmark run: ``() -> (value, grads)``, with one
    gradient (not a tuple) when ``wrt`` has one position, like the hand-written ones."""
    import tangent
    df = tangent.grad(fn, wrt=wrt, preserve_result=True, verbose=0)
    if len(wrt) == 1:
        def run():
            g, value = df(*args)
            return value, g
        return run

    def run_many():
        *grads, value = df(*args)
        return value, tuple(grads)
    return run_many


def torch_runner(f, params: list):
    """PyTorch eager reverse mode of ``f(*params)`` as a benchmark run."""
    def run():
        for p in params:
            p.grad = None
        loss = f(*params)
        loss.backward()
        return loss.detach(), tuple(p.grad for p in params)
    return run
