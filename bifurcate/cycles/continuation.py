"""The cycle continuation driver: starts (Hopf point, simulated orbit, doubled cycle), the
pseudo-arclength loop, detection, degenerate-case guards, and the :class:`CycleBranch` result.

Status codes of a cycle branch
------------------------------
==  =========================================================================================
 0  finished: ``max_points`` reached, the parameter left [p_min, p_max], or the cycle shrank
    to an equilibrium
-1  Newton failed at the smallest step (``ds_min``)
-2  vertical family: the parameter stays fixed while the cycle changes (a degenerate, e.g.
    reversible or conservative, family of cycles); stopped, no labels are emitted on it
-3  period grows without bound (beyond ``max_period`` or ``max_period_growth`` times the first
    period): a homoclinic or heteroclinic limit is near and the multipliers lose meaning
-4  the start could not be converged
-5  the Floquet multipliers lost accuracy (the trivial one is off by more than ``floquet_tol``)
==  =========================================================================================
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np
import pandas as pd

from bifurcate.cycles.collocation import Collocation, CycleOptions
from bifurcate.cycles.detection import TEST_KINDS, classify_crossing, illinois, test_functions
from bifurcate.cycles.floquet import Floquet, floquet_multipliers, transfer_blocks
from bifurcate.model import Model
from bifurcate.results import BifurcationPoint, Branch

__all__ = ["CycleBranch", "CycleStart", "run_continuation", "STATUS_MESSAGES"]

STATUS_MESSAGES = {
    0: "success",
    -1: "Newton failed at the smallest step",
    -2: "vertical family of cycles (degenerate)",
    -3: "period grows without bound (homoclinic limit)",
    -4: "the start could not be converged",
    -5: "Floquet multipliers lost accuracy",
}


@dataclass(frozen=True, eq=False)
class CycleBranch(Branch):
    """A cycle branch: a :class:`~bifurcate.results.Branch` of kind ``"cycle"`` plus the orbits.

    Attributes (beyond Branch)
    --------------------------
    orbits : tuple of (times (N,), nodes (N, n))
        The collocation node values of each cycle over one period, times in [0, 1) (multiply by
        the ``period`` column for physical time).
    ncol : int
        Degree of the piecewise polynomials (for exact evaluation with :meth:`orbit`).
    meshes : tuple of ndarray
        Mesh (ntst + 1,) of each cycle.
    """

    orbits: tuple = ()
    meshes: tuple = ()
    ncol: int = 4

    def orbit(self, i: int, n_points: int = 400) -> tuple[np.ndarray, np.ndarray]:
        """Cycle ``i`` sampled at ``n_points`` equally spaced times: (t (n_points,), y (n_points, n)),
        t in physical time over one period (closed: the last sample repeats the first)."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"cycle index must be in [-{len(self)}, {len(self)}), got {i}")
        coll = Collocation(self.model, self.model.pack_params(self.params), 0, self.meshes[i], self.ncol,
                           use_numba=False)
        s = np.linspace(0.0, 1.0, n_points)
        y = coll.sample(self.orbits[i][1], s)
        return s * self.columns["period"][i], y


@dataclass
class CycleStart:
    """Everything the driver needs to begin: the system, a solution (or a Hopf point with the
    initial direction), and where it came from."""

    coll: Collocation
    X: np.ndarray
    tau: np.ndarray
    origin: str
    from_equilibrium: bool = False  # X is the equilibrium, tau the eigenfunction: step first
    info: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# one converged point
# ------------------------------------------------------------------------------------------
@dataclass
class _Point:
    coll: Collocation
    X: np.ndarray
    tau: np.ndarray
    floq: Floquet | None
    tests: dict
    newton_iters: int

    @property
    def param(self) -> float:
        return float(self.X[-1])

    @property
    def period(self) -> float:
        return float(self.X[-2])


def _floquet(coll: Collocation, X: np.ndarray, B: np.ndarray) -> Floquet:
    U, T, _ = coll.split(X)
    Phi = transfer_blocks(B)
    starts = U[np.arange(coll.ntst) * coll.m]
    geom = coll.model.geometry
    bases = np.stack([geom.tangent_basis(x) for x in starts])
    f0 = np.empty(coll.n)
    coll.model.rhs(np.ascontiguousarray(U[0]), coll.params_of(X), f0)
    return floquet_multipliers(Phi, bases, f0)


def _make_point(coll, X, tau, B, n_iter, opts) -> _Point:
    floq = _floquet(coll, X, B) if opts.floquet else None
    mult = floq.multipliers if floq is not None else np.zeros(0)
    return _Point(coll, X, tau, floq, test_functions(tau[-1], mult), n_iter)


def _amplitude(U: np.ndarray) -> float:
    return float(np.max(np.ptp(U, axis=0)) / 2.0)


def _correct(coll, X, tau, ds, opts, Xprev=None):
    """Pseudo-arclength corrector from ``X`` (or ``Xprev``) along ``tau`` by ``ds``."""
    Xprev = X if Xprev is None else Xprev
    Xp = Xprev + ds * tau
    U, _, _ = coll.split(Xp)
    phase_c = coll.phase_row(U)
    Xn, ok, it, B = coll.newton(Xp, phase_c, tau, Xprev, ds, opts.newton_tol, opts.max_newton)
    if not ok:
        return None
    taun = coll.tangent(Xn, phase_c, tau)
    if ds > 0 and coll.dot(taun, Xn - Xprev) < 0:
        taun = -taun  # orient along the secant: robust through sharp folds
    return Xn, taun, B, it


# ------------------------------------------------------------------------------------------
# the loop
# ------------------------------------------------------------------------------------------
def run_continuation(model: Model, param: str, params: Mapping[str, float], start: CycleStart,
                     opts: CycleOptions) -> CycleBranch:
    """Continue cycles from ``start`` (see :func:`bifurcate.cycles.continue_cycles`)."""
    t_wall = time.perf_counter()
    coll = start.coll
    stats = {"newton_iters": 0, "failed_steps": 0, "remeshes": 0, "origin": start.origin}
    ds = opts.ds
    sign = 1.0
    # first point
    if start.from_equilibrium:
        first = None
        while ds >= opts.ds_min:
            res = _correct(coll, start.X, start.tau * opts.direction, ds, opts)
            if res is not None:
                first = res
                break
            ds *= 0.5
            stats["failed_steps"] += 1
        if first is None:
            return _empty(model, param, params, opts, -4, "could not converge the first cycle from the Hopf "
                          "point (check omega and the eigenvector)", stats)
        X, tau, B, it = first
    else:
        U, _, _ = coll.split(start.X)
        phase_c = coll.phase_row(U)
        X, ok, it, B = coll.newton(start.X, phase_c, None, start.X, 0.0, opts.newton_tol, 3 * opts.max_newton,
                                   fixed_param=True)
        if not ok:
            return _empty(model, param, params, opts, -4, "the starting orbit did not converge to a cycle "
                          "(is it periodic, sampled over exactly one period?)", stats)
        tau = coll.tangent(X, phase_c, start.tau)
        if start.tau[-1] * opts.direction < 0 and tau[-1] * start.tau[-1] > 0:
            tau = -tau
        if opts.direction < 0:
            tau = -tau
    stats["newton_iters"] += it
    pts = [_make_point(coll, X, tau, B, it, opts)]
    status, message = 0, f"reached max_points = {opts.max_points}"
    labels: list[BifurcationPoint] = []
    T_first = pts[0].period
    doubled = start.origin == "PD"
    end_what = "the parent cycle (a period-doubling point)" if doubled else "an equilibrium (a Hopf point)"

    def size(pt):
        Uq = pt.coll.split(pt.X)[0]
        if not doubled:
            return _amplitude(Uq)
        # distance from the double cover of a cycle of half the period
        t = pt.coll.times()
        return float(np.max(np.abs(Uq - pt.coll.sample(Uq, t + 0.5))) / 2.0)

    amp_first = size(pts[0])
    amp_max = amp_first
    n_vertical = 0
    since_remesh = 0

    while len(pts) < opts.max_points:
        cur = pts[-1]
        coll = cur.coll
        # predictor-corrector with step control
        res = None
        while ds >= opts.ds_min:
            res = _correct(coll, cur.X, cur.tau, ds, opts)
            if res is not None and (coll.dot(res[1], cur.tau) > opts.max_turn_cos or ds < 4 * opts.ds_min):
                break
            res = None
            ds *= 0.5
            stats["failed_steps"] += 1
        if res is None:
            status, message = -1, f"Newton failed at ds < ds_min = {opts.ds_min:g} after {len(pts)} points"
            break
        Xn, taun, B, it = res
        stats["newton_iters"] += it
        new = _make_point(coll, Xn, taun, B, it, opts)
        new_ds = ds
        if it <= 3:
            new_ds = min(ds * 1.5, opts.ds_max)
        elif it >= 6:
            new_ds = max(ds * 0.6, opts.ds_min)

        # degenerate: vertical family (parameter frozen, a second multiplier at 1)
        if new.floq is not None and abs(new.tau[-1]) < opts.vertical_tol:
            mu = new.floq.multipliers
            if mu.size and np.min(np.abs(mu - 1.0)) < 1e-3:
                n_vertical += 1
            else:
                n_vertical = 0
        else:
            n_vertical = 0
        U, _, _ = coll.split(Xn)
        amp = size(new)
        amp_max = max(amp_max, amp)
        shrunk = amp < opts.amplitude_min or (len(pts) > 2 and amp < 2.0 * amp_first and amp_max > 10.0 * amp_first
                                              and amp < size(cur))
        pts.append(new)
        if opts.detect and new.floq is not None and cur.floq is not None:
            found = _detect(cur, new, len(pts) - 2, ds, opts, model, param, params, n_vertical)
            ends = [(b, q) for b, q in found if b.kind == "LPC" and size(q) < 0.02 * amp_max]
            if ends:
                # the "fold" is the family passing through zero size: an equilibrium (Hopf point)
                # or, for a doubled cycle, the parent cycle (its other PD point) ends the branch;
                # beyond it the same cycles are retraced with a shifted phase
                pts.pop()
                labels.extend(b for b, q in found if b.kind != "LPC" and q.param != new.param
                              and (b.param - cur.param) * (ends[0][0].param - b.param) > 0)
                message = (f"the cycle shrank to {end_what} at {param} = {ends[0][0].param:.10g} (size "
                           f"{size(ends[0][1]):.2g}): the branch ends there")
                break
            labels.extend(b for b, _ in found)
        if shrunk:
            message = (f"the cycle shrank to {end_what} at {param} = {new.param:.10g} (size {amp:.3g}): "
                       f"the branch ends there")
            break
        if n_vertical >= opts.vertical_points:
            status = -2
            message = (f"vertical family: {param} stays at {new.param:.10g} (|d{param}/ds| < {opts.vertical_tol:g} "
                       f"on {n_vertical} points, a second Floquet multiplier at 1): a degenerate (reversible or "
                       f"conservative) family of cycles, not a generic branch; stopped")
            labels = [p for p in labels if p.index < len(pts) - 1 - n_vertical]
            break
        Ts = [q.period for q in pts[-10:]]
        ps = [q.param for q in pts]
        p_span = max(ps) - min(ps)
        stalled = (len(pts) > 10 and new.period > 3.0 * T_first and Ts[-1] > Ts[0]
                   and max(ps[-10:]) - min(ps[-10:]) < 0.05 * p_span)
        triv_err = abs(new.floq.trivial - 1.0) if new.floq is not None else 0.0
        if stalled or (triv_err > opts.floquet_tol and new.period > 2.0 * T_first):
            status = -3
            why = (f"the parameter has stalled while the period grew from {T_first:.6g} to {new.period:.6g}"
                   if stalled else f"the trivial Floquet multiplier is off by {triv_err:.2g} while the period grew "
                   f"from {T_first:.6g} to {new.period:.6g}")
            message = (f"approaching a homoclinic (or heteroclinic) orbit near {param} = {new.param:.10g}: {why}; "
                       f"the period grows without bound and the multipliers lose meaning; stopped")
            break
        if triv_err > opts.floquet_tol:
            status = -5
            message = (f"Floquet multipliers lost accuracy at {param} = {new.param:.10g} (trivial multiplier off by "
                       f"{triv_err:.2g}; refine ntst/ncol); stopped")
            break
        if new.period > opts.max_period or new.period > opts.max_period_growth * T_first:
            status = -3
            message = (f"period {new.period:.6g} at {param} = {new.param:.10g} exceeds "
                       f"{min(opts.max_period, opts.max_period_growth * T_first):.6g}: approaching a homoclinic "
                       f"(or heteroclinic) orbit, the period grows without bound; stopped")
            break
        if not (opts.p_min <= new.param <= opts.p_max):
            message = f"{param} left [{opts.p_min:g}, {opts.p_max:g}]"
            break
        ds = new_ds
        since_remesh += 1
        if opts.adapt_every and since_remesh >= opts.adapt_every:
            since_remesh = 0
            mesh = coll.adapted_mesh(U)
            if np.max(np.abs(mesh - coll.mesh)) > 1e-3 / coll.ntst:
                ncoll, Xr = coll.remesh(Xn, mesh)
                taur = coll.remesh_vector(ncoll, new.tau)
                taur /= ncoll.norm(taur)
                phase_c = ncoll.phase_row(ncoll.split(Xr)[0])
                Xc, ok, it2, B2 = ncoll.newton(Xr, phase_c, taur, Xr, 0.0, opts.newton_tol, opts.max_newton)
                if ok:
                    taur = ncoll.tangent(Xc, phase_c, taur)
                    pts[-1] = _make_point(ncoll, Xc, taur, B2, new.newton_iters, opts)
                    stats["remeshes"] += 1
    stats["wall_time"] = time.perf_counter() - t_wall
    stats["n_points"] = len(pts)
    return _assemble(model, param, params, pts, labels, status, message, opts, stats)


def _probe_factory(cur: _Point, opts):
    """fun(s) -> (payload) converging the cycle at arclength s from ``cur`` along its tangent."""
    cache = {}

    def probe(s):
        if s in cache:
            return cache[s]
        res = _correct(cur.coll, cur.X, cur.tau, s, opts)
        if res is None:
            cache[s] = None
            return None
        Xn, taun, B, it = res
        cache[s] = _make_point(cur.coll, Xn, taun, B, it, opts)
        return cache[s]

    return probe


def _detect(cur: _Point, new: _Point, index: int, ds: float, opts, model, param, params, n_vertical):
    out = []
    a, b = cur.tests, new.tests
    changed = [k for k in TEST_KINDS if np.sign(a[k]) != np.sign(b[k]) and a[k] != 0]
    also = []
    if "LPC" in changed:
        # a fold moves a multiplier through +1 (the BPC test changes sign too); a pair
        # (mu, 1/mu) through the unit circle at the same fold is the signature of a
        # reversible-symmetric cycle (PT), not a torus bifurcation: recorded, not labelled
        also = [k for k in ("BPC", "NS") if k in changed]
        changed = [k for k in changed if k not in also]
    probe = _probe_factory(cur, opts)
    for kind in changed:
        def fun(s, kind=kind):
            pt = probe(s)
            return (np.nan, None) if pt is None else (pt.tests[kind], pt)

        r = illinois(fun, 0.0, a[kind], ds, b[kind], lambda pt: pt.param, opts.locate_tol)
        if r is None:
            pt, located, prec, br = new, False, abs(new.param - cur.param), (cur.param, new.param)
        else:
            _, pt, located, prec, (lo, hi) = r
            br = (lo.param if lo is not None else cur.param, hi.param if hi is not None else new.param)
        if kind == "NS":
            mu = pt.floq.multipliers
            on_circle = np.abs(np.abs(mu) - 1.0) < 1e-3
            if not np.any(on_circle & (np.abs(mu.imag) > 1e-6)):
                continue  # a real pair with mu_i mu_j = 1: neutral saddle of cycles, not a torus
        bp = _bif_point(kind, pt, index, located, prec, br, model, param, params)
        if kind == "LPC" and also:
            bp.data["also_crossing"] = ",".join(also)
        out.append((bp, pt))
    if not changed and not also and cur.floq.n_unstable != new.floq.n_unstable:
        kind = classify_crossing(cur.floq.multipliers, new.floq.multipliers)
        out.append((_bif_point(kind, new, index, False, abs(new.param - cur.param), (cur.param, new.param), model,
                               param, params), new))
    return out


def _bif_point(kind, pt: _Point, index, located, prec, bracket, model, param, params) -> BifurcationPoint:
    U, T, pv = pt.coll.split(pt.X)
    allp = dict(params)
    allp[param] = float(pv)
    mult = pt.floq.all if pt.floq is not None else None
    data = {"param_name": param, "period": float(T), "amplitude": _amplitude(U), "orbit": U.copy(), "mesh": pt.coll.mesh.copy(),
            "ncol": pt.coll.m, "test": float(pt.tests[kind])}
    if kind == "PD" and pt.floq is not None:
        data["eigenvector"] = pt.floq.eigenvector(-1.0)
    return BifurcationPoint(kind=kind, param=float(pv), state=U[0].copy(), params=allp, index=int(index),
                            located=bool(located), precision=float(prec), bracket=tuple(float(b) for b in bracket),
                            eigenvalues=mult, data=data)


# ------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------
def _assemble(model, param, params, pts, labels, status, message, opts, stats) -> CycleBranch:
    m = len(pts)
    n = model.n
    names = model.state_names
    pv = np.array([p.param for p in pts])
    Ts = np.array([p.period for p in pts])
    states = np.empty((m, n))
    cols: dict[str, np.ndarray] = {"period": Ts}
    amp = np.empty(m)
    l2 = np.empty(m)
    mins, maxs, means = np.empty((m, n)), np.empty((m, n)), np.empty((m, n))
    orbits, meshes = [], []
    d = model.dim
    ev = np.full((m, d), np.nan + 0j)
    n_unst = np.zeros(m, dtype=int)
    for i, p in enumerate(pts):
        U, T, _ = p.coll.split(p.X)
        states[i] = U[0]
        # extrema of the polynomial, not only the nodes (dense sampling)
        fine = p.coll.sample(U, np.linspace(0.0, 1.0, 8 * p.coll.N, endpoint=False))
        mins[i], maxs[i] = fine.min(axis=0), fine.max(axis=0)
        means[i] = p.coll.node_w @ U
        amp[i] = float(np.max(maxs[i] - mins[i]) / 2.0)
        l2[i] = math.sqrt(float(p.coll.node_w @ np.sum(U * U, axis=1)))
        orbits.append((p.coll.times(), U.copy()))
        meshes.append(p.coll.mesh.copy())
        if p.floq is not None:
            allm = p.floq.all
            ev[i, : allm.size] = allm
            n_unst[i] = p.floq.n_unstable
    cols["amplitude"] = amp
    cols["norm_l2"] = l2
    for k, nm in enumerate(names):
        cols[f"min_{nm}"] = mins[:, k]
        cols[f"max_{nm}"] = maxs[:, k]
        cols[f"mean_{nm}"] = means[:, k]
    cols["mu_trivial_err"] = np.abs(ev[:, 0] - 1.0)
    cols["newton_iters"] = np.array([p.newton_iters for p in pts])
    fixed = {k: v for k, v in params.items() if k != param}
    return CycleBranch(model=model, param=param, kind="cycle", params=fixed, param_values=pv, states=states,
                       eigenvalues=ev, stable=(n_unst == 0) if opts.floquet else np.zeros(m, bool),
                       n_unstable=n_unst, points=tuple(labels), columns=cols, status=status, message=message,
                       options=opts, stats=stats, orbits=tuple(orbits), meshes=tuple(meshes), ncol=opts.ncol)


def _empty(model, param, params, opts, status, message, stats) -> CycleBranch:
    fixed = {k: v for k, v in params.items() if k != param}
    d = model.dim
    return CycleBranch(model=model, param=param, kind="cycle", params=fixed, param_values=np.zeros(0),
                       states=np.zeros((0, model.n)), eigenvalues=np.zeros((0, d), complex),
                       stable=np.zeros(0, bool), n_unstable=np.zeros(0, int), points=(), columns={"period": np.zeros(0)},
                       status=status, message=message, options=opts, stats=stats, ncol=opts.ncol)
