"""Branch switching at a period-doubling point onto the doubled cycle.

At a PD point the monodromy has the eigenvalue -1 with eigenvector v; the Floquet solution
w(t) (w(t + T) = -w(t)) is the propagated eigenvector. The doubled cycle bifurcates from the
PD cycle traversed twice (period 2T) in the direction (w, -w): a pitchfork in the doubled
problem, started exactly like a branch from a Hopf point (the PD cycle twice plays the
equilibrium, (w, -w) the eigenfunction).

References
----------
Y. A. Kuznetsov, Elements of Applied Bifurcation Theory (2004), sec. 10.3.2; AUTO-07p manual
(branch switching at period doubling, ISW = -1).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np

from bifurcate.cycles.collocation import Collocation, CycleOptions
from bifurcate.cycles.continuation import BPC_RESIDUAL_MAX, CycleBranch, CycleStart, _floquet, run_continuation
from bifurcate.cycles.detection import locate_bpc
from bifurcate.cycles.floquet import interval_propagators
from bifurcate.model import Model
from bifurcate.results import BifurcationPoint

__all__ = ["switch_at_pd", "doubled_start", "switch_at_bpc", "bpc_start"]


def doubled_start(model: Model, point: BifurcationPoint, param: str, params: Mapping[str, float],
                  options: CycleOptions) -> CycleStart:
    """The start (PD cycle twice, direction (w, -w)) of the period-doubled branch."""
    if point.kind != "PD":
        raise ValueError(f"expected a period-doubling point (kind 'PD'), got kind {point.kind!r}")
    for key in ("orbit", "mesh", "ncol", "period"):
        if key not in point.data:
            raise ValueError(f"expected the PD point to carry data[{key!r}] (as continue_cycles records it)")
    p = model.pack_params({**dict(params), param: point.param})
    ip = model.param_index(param)
    coll = Collocation(model, p, ip, point.data["mesh"], int(point.data["ncol"]))
    U = np.asarray(point.data["orbit"], dtype=float)
    X = coll.pack(U, point.data["period"], point.param)
    # converge at the PD parameter (fixed) to get the Jacobian blocks on this mesh
    phase_c = coll.phase_row(U)
    X, ok, _, B = coll.newton(X, phase_c, None, X, 0.0, options.newton_tol, 3 * options.newton_maxiter, fixed_param=True)
    if not ok:
        raise RuntimeError("the PD cycle did not re-converge at its parameter value")
    U = coll.split(X)[0]
    floq = _floquet(coll, X, B)
    k = int(np.argmin(np.abs(floq.multipliers + 1.0)))
    mu = floq.multipliers[k]
    if abs(mu + 1.0) > 0.05:
        raise ValueError(f"expected a multiplier near -1 at the PD point, nearest is {mu}")
    v = np.real(floq.eigenvector(-1.0))
    P = interval_propagators(B)  # (ntst, m, n, n)
    W = np.empty_like(U)
    w = v.copy()
    m = coll.m
    for j in range(coll.ntst):
        W[j * m] = w
        for l in range(1, m):
            W[j * m + l] = P[j, l - 1] @ w
        w = P[j, m - 1] @ w
    # w is now ~ mu * v: the Floquet solution changes sign over one period
    mesh2 = np.concatenate([coll.mesh / 2.0, 0.5 + coll.mesh[1:] / 2.0])
    coll2 = Collocation(model, p, ip, mesh2, m)
    U2 = np.concatenate([U, U])
    W2 = np.concatenate([W, -W])
    X2 = coll2.pack(U2, 2.0 * X[-2], X[-1])
    tau = coll2.pack(W2, 0.0, 0.0)
    tau /= coll2.norm(tau)
    return CycleStart(coll2, X2, tau, origin="PD", from_equilibrium=True,
                      info={"pd_param": float(X[-1]), "pd_multiplier": complex(mu)})


def switch_at_pd(model: Model, point: BifurcationPoint, *, param: str, params: Mapping[str, float] | None = None,
                 options: CycleOptions | None = None, **option_overrides) -> CycleBranch:
    """Continue the period-doubled cycle born at a PD point of a cycle branch.

    Parameters
    ----------
    model : Model
    point : BifurcationPoint of kind "PD" (from ``continue_cycles(...).special("PD")``)
    param : str, the continuation parameter of the parent branch
    params : dict, optional; the parent's fixed parameters (``point.params`` is used if omitted)
    options, **option_overrides : see :class:`CycleOptions` (``ntst`` is doubled automatically)
    """
    opts = CycleOptions.from_options(options, **option_overrides)
    allp = model.params({**dict(point.params), **dict(params or {})})
    cs = doubled_start(model, point, param, allp, opts)
    return run_continuation(model, param, allp, cs, replace(opts, ntst=cs.coll.ntst))


def bpc_start(model: Model, point: BifurcationPoint, param: str, params: Mapping[str, float],
              options: CycleOptions) -> CycleStart:
    """The start of the branch crossing a cycle branch at a branch point of cycles (BPC).

    At a BPC the Jacobian of the collocation system (collocation and phase rows, without the
    arclength row) has a two-dimensional kernel: the old branch's tangent and the new branch's
    direction. The point and the kernel come from the minimally augmented system
    (:func:`~bifurcate.cycles.detection.locate_bpc`, started from the point's cycle; a ValueError if
    it finds no branch point there). The old tangent is the kernel vector with the largest
    parameter component (a branch crossing a pitchfork of cycles of a symmetric family moves the parameter, the
    symmetry-breaking direction does not, to first order); the new direction is its orthogonal
    complement in the kernel (weighted inner product), which the driver steps along (AUTO-07p's
    switching at BP of periodic orbits, ISW = -1, does the same).
    """
    if point.kind != "BPC":
        raise ValueError(f"expected a branch point of cycles (kind 'BPC'), got kind {point.kind!r}")
    for key in ("orbit", "mesh", "ncol", "period"):
        if key not in point.data:
            raise ValueError(f"expected the BPC point to carry data[{key!r}] (as continue_cycles records it)")
    p = model.pack_params({**dict(params), param: point.param})
    ip = model.param_index(param)
    coll = Collocation(model, p, ip, point.data["mesh"], int(point.data["ncol"]))
    U = np.asarray(point.data["orbit"], dtype=float)
    X = coll.pack(U, point.data["period"], point.param)
    phase_c = coll.phase_row(U)
    # the branch point itself and its two-dimensional kernel, from the augmented system (a point
    # located by continue_cycles converges in one or two iterations)
    loc = locate_bpc(coll, X, phase_c, tol=1e-2 * options.newton_tol)
    if not (loc.converged and loc.residual <= BPC_RESIDUAL_MAX):
        raise ValueError(f"expected a branch point at the BPC point, but the augmented system gave: {loc.message} "
                         f"(unfolding residual {loc.residual:.3g}, BPC_RESIDUAL_MAX = {BPC_RESIDUAL_MAX:g}); "
                         f"not a branch point?")
    X = loc.X
    K = loc.kernel  # (nx, 2), W-orthonormal
    c = K[-1]  # parameter components
    old = K @ (c / np.linalg.norm(c)) if np.linalg.norm(c) > 0 else K[:, 0]
    new = K @ (np.array([-c[1], c[0]]) / np.linalg.norm(c)) if np.linalg.norm(c) > 0 else K[:, 1]
    new /= coll.norm(new)
    return CycleStart(coll, X, new, origin="BPC", from_equilibrium=True,
                      info={"bpc_param": float(X[-1]), "old_tangent_param_component": float(old[-1]),
                            "bpc_residual": loc.residual, "near_null": loc.near_null})


def switch_at_bpc(model: Model, point: BifurcationPoint, *, param: str, params: Mapping[str, float] | None = None,
                  options: CycleOptions | None = None, **option_overrides) -> CycleBranch:
    """Continue the cycle branch crossing a cycle branch at a branch point of cycles (BPC).

    Parameters are those of :func:`switch_at_pd`. ``direction`` (in the options) picks which
    half of the new branch (for a pitchfork of cycles the other half is its mirror image).
    """
    opts = CycleOptions.from_options(options, **option_overrides)
    allp = model.params({**dict(point.params), **dict(params or {})})
    cs = bpc_start(model, point, param, allp, opts)
    return run_continuation(model, param, allp, cs, replace(opts, ntst=cs.coll.ntst))
