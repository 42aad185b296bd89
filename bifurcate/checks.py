"""Checks of a model's kernels: :func:`check_model` (for hand-written models).

A wrong Jacobian entry silently moves every bifurcation point; a field that leaves the spheres or a
declared symmetry that does not hold break the analysis as quietly. :func:`check_model` tests the
three at random points of the phase space and returns a report; it raises only on bad input.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["check_model", "ModelCheck", "check_symmetries"]


@dataclass(frozen=True)
class ModelCheck:
    """Result of :func:`check_model`.

    Attributes
    ----------
    status : str
        ``"success"`` if every check passed, else ``"failure"``.
    messages : tuple of str
        One line per check (``"ok: ..."`` or ``"FAIL: ..."``).
    checks : dict
        check name -> bool.
    max_errors : dict
        check name -> largest relative error seen.
    """

    model: str
    status: str
    messages: tuple
    checks: dict = field(default_factory=dict)
    max_errors: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status == "success"

    def __str__(self) -> str:
        return f"check_model({self.model}): {self.status}\n  " + "\n  ".join(self.messages)


def _points(model, n_points, rng, params):
    y = model.geometry.random_points(n_points, rng)
    return y


def check_symmetries(model, params=None, n_points: int = 8, seed: int = 0, rtol: float = 1e-9):
    """[(ok, message), ...] for each declared symmetry: f(M y) = s M f(y) on the phase space."""
    rng = np.random.default_rng(seed)
    out = []
    p = model.params(params)
    for sym in model.symmetries:
        M = np.asarray(sym.matrix, dtype=float)
        s = -1.0 if sym.reverses_time else 1.0
        worst = 0.0
        for y in _points(model, n_points, rng, p):
            lhs = model.f(M @ y, p)
            rhs = s * (M @ model.f(y, p))
            worst = max(worst, float(np.max(np.abs(lhs - rhs)) / max(1.0, np.max(np.abs(rhs)))))
        ok = worst <= rtol
        kind = "time-reversing " if sym.reverses_time else ""
        out.append((ok, f"{kind}symmetry {sym.name!r}: f(My) {'=' if ok else '!='} {'-' if s < 0 else ''}M f(y) "
                        f"(max relative error {worst:.2e}, tolerance {rtol:g})"))
    return out


def check_model(model, params=None, *, n_points: int = 8, seed: int = 0, rtol: float = 1e-6):
    """Check a model's kernels at random points of its phase space.

    * Jacobian: ``jac`` against central differences of ``rhs`` (relative error <= ``rtol``);
    * phase space: the field is tangent to each sphere on the spheres (r . f = 0) and finite;
    * declared symmetries: f(M y) = s M f(y) (s = -1 for a time-reversing one).

    Parameters
    ----------
    model : bifurcate.Model
    params : mapping, optional
        Parameter values (defaults otherwise); random points are drawn with ``seed``.

    Returns
    -------
    ModelCheck
        ``status`` "success" or "failure" and one message per check; never raises on a failed check.
    """
    from bifurcate.model import Model

    if not isinstance(model, Model):
        raise TypeError(f"check_model expects a bifurcate.Model, got {model!r} of type {type(model).__name__}")
    if n_points < 1:
        raise ValueError(f"n_points must be >= 1, got {n_points}")
    p = model.params(params)
    rng = np.random.default_rng(seed)
    ys = _points(model, n_points, rng, p)
    checks, errors, messages = {}, {}, []

    # finite values
    try:
        fs = np.array([model.f(y, p) for y in ys])
        finite = bool(np.all(np.isfinite(fs)))
    except Exception as exc:   # a kernel that fails is a failed check, reported
        finite, fs = False, None
        messages.append(f"FAIL: rhs raised {type(exc).__name__}: {exc}")
    checks["finite"] = finite
    if fs is not None:
        messages.append(("ok" if finite else "FAIL") + ": rhs finite at the test points")

    # Jacobian against central differences (step ~ eps^(1/3))
    worst = 0.0
    try:
        for y in ys:
            J = model.jacobian(y, p)
            scale = max(1.0, float(np.max(np.abs(y))))
            Jfd = np.empty_like(J)
            for j in range(model.n):
                h = 6e-6 * scale
                e = np.zeros(model.n)
                e[j] = h
                Jfd[:, j] = (model.f(y + e, p) - model.f(y - e, p)) / (2 * h)
            err = float(np.max(np.abs(J - Jfd)) / max(1.0, float(np.max(np.abs(Jfd)))))
            worst = max(worst, err)
            if not np.isfinite(err):
                worst = np.inf
        ok = worst <= rtol
    except Exception as exc:
        ok, worst = False, np.inf
        messages.append(f"FAIL: jac raised {type(exc).__name__}: {exc}")
    checks["jacobian"] = ok
    errors["jacobian"] = worst
    if np.isfinite(worst):
        messages.append(("ok" if ok else "FAIL") + f": jac against central differences, max relative error "
                        f"{worst:.2e} (tolerance {rtol:g})")
        if not ok:
            J = model.jacobian(ys[-1], p)
            bad = np.argwhere(np.abs(J - Jfd) > rtol * max(1.0, float(np.max(np.abs(Jfd)))))
            names = [f"d{model.state_names[i]}/d{model.state_names[j]}" for i, j in bad[:6]]
            messages.append(f"      suspicious entries: {', '.join(names)}")

    # tangency to the spheres
    if model.geometry.n_spheres:
        worst = 0.0
        for y, f in zip(ys, fs if fs is not None else []):
            for blk in model.geometry.sphere_blocks:
                worst = max(worst, abs(float(np.dot(y[blk], f[blk]))) / max(1.0, float(np.linalg.norm(f))))
        ok = fs is not None and worst <= 1e-10
        checks["phase_space"] = ok
        errors["phase_space"] = worst
        messages.append(("ok" if ok else "FAIL") + f": field tangent to the spheres, max |r.f|/|f| {worst:.2e}")

    for k, (ok, msg) in enumerate(check_symmetries(model, p, n_points, seed)):
        checks[f"symmetry_{model.symmetries[k].name}"] = ok
        messages.append(("ok: " if ok else "FAIL: ") + msg)

    status = "success" if all(checks.values()) else "failure"
    return ModelCheck(model.name, status, tuple(messages), checks, errors)
