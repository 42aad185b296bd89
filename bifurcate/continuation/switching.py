"""Branch switching at a branch point (BP), with the mirror image under the model's symmetries.

At a simple BP the Jacobian [F_y, F_p] (n x (n+1)) has a two-dimensional null space that holds
the tangents of both branches. The new branch leaves along the null direction orthogonal to the
old tangent (exact for a symmetric pitchfork, where the broken branch leaves with tangent
(phi, 0), phi the odd critical eigenvector; a good predictor otherwise). If a symmetry S of the
model fixes the BP state and reverses phi, the other half of the broken branch is S applied to
the first (no second continuation); otherwise both directions are continued.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from bifurcate.continuation.options import ContinuationOptions
from bifurcate.continuation.pseudo_arclength import (EquilibriumProblem, _run_equilibrium_branch, correct,
                                                     tangent_at)
from bifurcate.results import BifurcationPoint, Branch

__all__ = ["switch_branch", "mirror_branch", "branch_direction"]


def branch_direction(problem: EquilibriumProblem, x_bp: np.ndarray, t_old: np.ndarray) -> np.ndarray:
    """Unit tangent of the bifurcating branch at a BP: the null vector of [F_y, F_p] orthogonal
    to the old tangent, oriented so that its largest state component is positive."""
    _, _, Vt = np.linalg.svd(problem.jacobian(x_bp))
    N = Vt[-2:]                      # (2, n+1), orthonormal basis of the (numerical) null space
    c = N @ t_old
    v = N.T @ np.array([-c[1], c[0]]) if np.linalg.norm(c) > 0 else N[0]
    v /= np.linalg.norm(v)
    k = int(np.argmax(np.abs(v[:-1])))
    return v if v[k] > 0 else -v


def _symmetry_reversing(model, y: np.ndarray, phi: np.ndarray, tol: float = 1e-8):
    for s in model.symmetries:
        if s.reverses_time:
            continue
        if np.max(np.abs(s.matrix @ y - y)) < tol and np.max(np.abs(s.matrix @ phi + phi)) < 1e-6 * max(1.0, np.max(np.abs(phi))):
            return s
    return None


def mirror_branch(branch: Branch, symmetry) -> Branch:
    """The image of an equilibrium branch under an equivariant symmetry (same parameters and
    spectra, states S y)."""
    S = symmetry.matrix
    pts = tuple(BifurcationPoint(kind=p.kind, param=p.param, state=S @ p.state, params=dict(p.params), index=p.index,
                                 located=p.located, precision=p.precision, bracket=p.bracket,
                                 eigenvalues=p.eigenvalues,
                                 data={k: (S @ v if k == "null_vector" else v) for k, v in p.data.items()})
                for p in branch.points)
    stats = dict(branch.stats)
    stats["mirror"] = symmetry.name
    return replace(branch, states=branch.states @ S.T, points=pts, stats=stats)


def switch_branch(branch: Branch, point: BifurcationPoint | None = None, *, options: ContinuationOptions | None = None,
                  mirror: bool = True, **kwargs: Any) -> tuple[Branch, ...]:
    """Continue the branch(es) bifurcating at a BP of ``branch``.

    Parameters
    ----------
    branch : Branch
        An equilibrium branch from :func:`continue_equilibria`.
    point : BifurcationPoint, optional
        One of ``branch.points`` with kind "BP" (default: the first BP).
    options : ContinuationOptions, optional
        Defaults to ``branch.options``; ``|ds|`` is the first step off the BP. Keyword
        arguments override fields.
    mirror : bool
        For a symmetry-breaking BP, also return the mirror image of the new branch.

    Returns
    -------
    tuple of Branch
        (new branch, mirror image) for a symmetry-breaking pitchfork; (forward, backward) for a
        generic BP. ``stats["switched_at"]`` holds the BP parameter value. The new branches start
        at their first point off the BP.
    """
    if not isinstance(branch, Branch) or branch.kind != "equilibrium":
        raise TypeError(f"expected an equilibrium Branch, got {type(branch).__name__}")
    if point is None:
        bps = branch.special("BP")
        if not bps:
            raise ValueError(f"expected a branch with a BP point, got points {[p.kind for p in branch.points]}")
        point = bps[0]
    if point.kind != "BP":
        raise ValueError(f"expected a BP point, got {point.kind!r}")
    model = branch.model
    opts = options or branch.options or ContinuationOptions()
    if kwargs:
        opts = replace(opts, **kwargs)
    param = branch.param
    ip = model.param_index(param)
    p = model.pack_params({k: v for k, v in point.params.items() if k not in model.fixed})
    problem = EquilibriumProblem(model, p, ip, opts.fd_step)
    x_bp = np.concatenate([point.state, [point.param]])
    i = point.index
    j = min(i + 1, len(branch) - 1)
    xa = np.concatenate([branch.states[i], [branch.param_values[i]]])
    xb = np.concatenate([branch.states[j], [branch.param_values[j]]])
    t_old = (xb - xa) / np.linalg.norm(xb - xa)
    t_new = branch_direction(problem, x_bp, t_old)
    sym = _symmetry_reversing(model, point.state, t_new[:-1]) if mirror else None
    out = []
    for sgn in ((1.0,) if sym is not None else (1.0, -1.0)):
        t = sgn * np.sign(opts.ds) * t_new
        ds = abs(opts.ds)
        x1, ok = None, False
        while ds >= opts.ds_min:
            x1, ok, _ = correct(problem, x_bp + ds * t, t, x_bp, ds, opts.newton_tol, opts.newton_maxiter)
            if ok and np.max(np.abs(x1 - x_bp)) > 0.5 * ds:
                break
            ds *= 0.5
            ok = False
        if not ok:
            nan = np.full((1, model.n), np.nan)
            out.append(Branch(model=model, param=param, kind="equilibrium",
                              params={k: v for k, v in point.params.items() if k != param},
                              param_values=np.array([point.param]), states=point.state[None, :],
                              eigenvalues=np.full((1, model.dim), np.nan + 0j), stable=np.array([False]),
                              n_unstable=np.array([0]), status=-1,
                              message="branch switching failed: no point off the BP converged", options=opts,
                              stats={"switched_at": point.param}))
            del nan
            continue
        t1 = tangent_at(problem, x1, t)
        pd_ = dict(point.params)
        br = _run_equilibrium_branch(problem, x1, t1, opts, param, pd_,
                                     extra_stats={"switched_at": point.param, "first_step": ds})
        out.append(br)
    if sym is not None and out and out[0].status >= -1 and mirror:
        out.append(mirror_branch(out[0], sym))
    return tuple(out)
