"""The cycle continuation driver: starts (Hopf point, simulated orbit, doubled cycle), the
pseudo-arclength loop, detection, degenerate-case guards, and the :class:`CycleBranch` result.

Status codes of a cycle branch
------------------------------
==  =========================================================================================
 0  finished: ``max_points`` reached, the parameter left [p_min, p_max], or the cycle shrank
    to an equilibrium
-1  Newton failed at the smallest step (``ds_min``); a numerical exception (overflow, singular
    system) in the corrector counts as a failed step, never escapes
-2  vertical family: the parameter stays fixed while the cycle changes (a degenerate, e.g.
    reversible or conservative, family of cycles); stopped, no labels are emitted on it
-3  approaching a homoclinic orbit: evidence from the cycles themselves (the period grows
    logarithmically in the parameter at the rate of a saddle's eigenvalues while the orbit
    closes in on that saddle; see :mod:`bifurcate.cycles.limits`); the message names the saddle
    and the extrapolated limit ``p_hom`` (also in ``stats["homoclinic"]``). Also: the period beyond
    ``max_period`` or ``max_period_growth`` times the first period
-4  the start could not be converged
-5  the branch ended regularly but the Floquet multipliers lost accuracy on some rows (the
    trivial one off by more than ``floquet_tol``): the branch goes on (the orbits are still
    converged), those rows have ``floquet_ok`` False (:attr:`CycleBranch.floquet_ok`) and carry no
    labels, and the message says from which row (``stats["floquet_lost"]``)
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
from bifurcate.continuation.pseudo_arclength import NUMERICAL_ERRORS
from bifurcate.cycles.floquet import Floquet, cycle_floquet, floquet_multipliers, transfer_blocks
from bifurcate.cycles.limits import homoclinic_evidence, saddle_of_cycle
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

    @property
    def floquet_ok(self) -> np.ndarray:
        """(m,) bool: the row's multipliers are trusted (the trivial one within ``floquet_tol`` of
        1, checked on every point); rows without are not labelled (folds excepted)."""
        tol = getattr(self.options, "floquet_tol", 1e-4)
        return np.asarray(self.columns["mu_trivial_err"]) <= tol

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
    s: float = 0.0  # arclength from the point the probe started at (localisation)

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
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            floq = cycle_floquet(coll, X, B, tol=opts.floquet_tol) if opts.floquet else None
    except NUMERICAL_ERRORS:
        floq = None  # no multipliers at this point: no stability, no detection across it
    mult = floq.multipliers if floq is not None else np.zeros(0)
    return _Point(coll, X, tau, floq, test_functions(tau[-1], mult), n_iter)


def _amplitude(U: np.ndarray) -> float:
    return float(np.max(np.ptp(U, axis=0)) / 2.0)


def _correct(coll, X, tau, ds, opts, Xprev=None):
    """Pseudo-arclength corrector from ``X`` (or ``Xprev``) along ``tau`` by ``ds``; None if it
    fails, also by a numerical exception (overflow, singular matrix) in the collocation system."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return _correct_raw(coll, X, tau, ds, opts, Xprev)
    except NUMERICAL_ERRORS:
        return None


def _correct_raw(coll, X, tau, ds, opts, Xprev=None):
    Xprev = X if Xprev is None else Xprev
    Xp = Xprev + ds * tau
    U, _, _ = coll.split(Xp)
    phase_c = coll.phase_row(U)
    Xn, ok, it, B = coll.newton(Xp, phase_c, tau, Xprev, ds, opts.newton_tol, opts.newton_maxiter)
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
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                phase_c = coll.phase_row(U)
                X, ok, it, B = coll.newton(start.X, phase_c, None, start.X, 0.0, opts.newton_tol,
                                           3 * opts.newton_maxiter, fixed_param=True)
                if ok:
                    tau = coll.tangent(X, phase_c, start.tau)
        except NUMERICAL_ERRORS as exc:
            return _empty(model, param, params, opts, -4, f"the starting orbit did not converge to a cycle: "
                          f"{type(exc).__name__} in Newton ({exc}); is it periodic, sampled over exactly one "
                          f"period?", stats)
        if not ok:
            return _empty(model, param, params, opts, -4, "the starting orbit did not converge to a cycle "
                          "(is it periodic, sampled over exactly one period?)", stats)
        # the first step goes towards the parameter's ``direction`` (a tangent with no parameter
        # component, at a fold, keeps the orientation of the start's direction vector)
        if tau[-1] * opts.direction < 0:
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
    prox: list = []  # saddle proximity of the last points whose period grew
    lost = None  # (row, param, error) where the multipliers first lost accuracy
    evidence = None
    T_min = T_first

    while len(pts) < opts.max_points:
        cur = pts[-1]
        coll = cur.coll
        # predictor-corrector with step control
        res = None
        while ds >= opts.ds_min:
            res = _correct(coll, cur.X, cur.tau, ds, opts)
            if res is not None and (coll.dot(res[1], cur.tau) > math.cos(opts.max_angle) or ds < 4 * opts.ds_min):
                break
            res = None
            ds *= 0.5
            stats["failed_steps"] += 1
        if res is None:
            status, message = -1, f"Newton failed at ds < ds_min = {opts.ds_min:g} after {len(pts)} points"
            if evidence is not None:
                status, message = -3, _homoclinic_message(param, cur, evidence, message)
            break
        Xn, taun, B, it = res
        stats["newton_iters"] += it
        new = _make_point(coll, Xn, taun, B, it, opts)
        # multipliers drifting (trivial one off): a discretisation error; refine the mesh
        ntst_max = opts.ntst_max if opts.ntst_max is not None else 4 * opts.ntst
        while (new.floq is not None and abs(new.floq.trivial - 1.0) > opts.floquet_tol
               and 2 * new.coll.ntst <= ntst_max):
            finer = _refined(new, 2 * new.coll.ntst, opts)
            if finer is None:
                break
            new = finer
            coll, Xn = new.coll, new.X
            stats["refinements"] = stats.get("refinements", 0) + 1
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
        trusted = [q.floq is not None and abs(q.floq.trivial - 1.0) <= opts.floquet_tol for q in (cur, new)]
        if opts.detect:
            # folds (the tangent's parameter component) need no multipliers: detected everywhere;
            # PD, NS, BPC only between rows whose multipliers are trusted
            found = _detect(cur, new, len(pts) - 2, ds, opts, model, param, params, n_vertical,
                            only_lpc=not all(trusted))
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
        # homoclinic evidence: the orbit closes in on a saddle while the period grows by the log law
        if new.period > 1.2 * T_min:
            prox.append(saddle_of_cycle(model, U, {**dict(params), param: new.param}))
            evidence = homoclinic_evidence([q.param for q in pts[-len(prox):]], [q.period for q in pts[-len(prox):]],
                                           prox) or evidence
        else:
            prox.clear()
        T_min = min(T_min, new.period)
        triv_err = abs(new.floq.trivial - 1.0) if new.floq is not None else 0.0
        if evidence is not None and abs(new.param - evidence["p_hom"]) <= opts.homoclinic_tol * max(
                1.0, abs(new.param)):
            status, message = -3, _homoclinic_message(param, new, evidence, "the parameter is within "
                                                      f"homoclinic_tol = {opts.homoclinic_tol:g} of the limit")
            break
        if triv_err > opts.floquet_tol and lost is None:
            lost = (len(pts) - 1, new.param, triv_err)
        if new.period > opts.max_period or new.period > opts.max_period_growth * T_first:
            status = -3
            why = (f"period {new.period:.6g} exceeds "
                   f"{min(opts.max_period, opts.max_period_growth * T_first):.6g}")
            message = (_homoclinic_message(param, new, evidence, why) if evidence is not None else
                       f"{why} at {param} = {new.param:.10g}: the period grows without bound (a homoclinic or "
                       f"heteroclinic orbit, no saddle identified); stopped")
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
                Xc, ok, it2, B2 = ncoll.newton(Xr, phase_c, taur, Xr, 0.0, opts.newton_tol, opts.newton_maxiter)
                if ok:
                    taur = ncoll.tangent(Xc, phase_c, taur)
                    pts[-1] = _make_point(ncoll, Xc, taur, B2, new.newton_iters, opts)
                    stats["remeshes"] += 1
    if lost is not None:
        stats["floquet_lost"] = {"row": lost[0], param: lost[1], "trivial_error": lost[2]}
        note = (f"; the Floquet multipliers are not trusted from row {lost[0]} ({param} = {lost[1]:.10g}, trivial "
                f"multiplier off by {lost[2]:.2g} > floquet_tol): rows with floquet_ok False carry no stability "
                f"labels (refine ntst)")
        message += note
        if status == 0:
            status = -5
    if evidence is not None:
        stats["homoclinic"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in evidence.items()}
    stats["wall_time"] = time.perf_counter() - t_wall
    stats["n_points"] = len(pts)
    return _assemble(model, param, params, pts, labels, status, message, opts, stats)



def _refined(pt: _Point, ntst: int, opts) -> _Point | None:
    """The cycle ``pt`` re-converged on an adapted mesh of ``ntst`` intervals (None on failure)."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            U = pt.coll.split(pt.X)[0]
            ncoll, Xr = pt.coll.remesh(pt.X, pt.coll.adapted_mesh(U, ntst))
            taur = pt.coll.remesh_vector(ncoll, pt.tau)
            taur /= ncoll.norm(taur)
            phase_c = ncoll.phase_row(ncoll.split(Xr)[0])
            Xc, ok, it, B = ncoll.newton(Xr, phase_c, taur, Xr, 0.0, opts.newton_tol, opts.newton_maxiter)
            if not ok:
                return None
            taur = ncoll.tangent(Xc, phase_c, taur)
    except NUMERICAL_ERRORS:
        return None
    return _make_point(ncoll, Xc, taur, B, pt.newton_iters + it, opts)


def _homoclinic_message(param, pt, ev, why) -> str:
    sad = ", ".join(f"{v:.6g}" for v in ev["saddle"])
    lam = ev["eigenvalues"]
    return (f"approaching a homoclinic orbit of the saddle ({sad}) at {param} = {ev['p_hom']:.10g} "
            f"(log-period fit; last cycle at {param} = {pt.param:.10g}, period {pt.period:.6g}, closest distance "
            f"{ev['distance']:.2g} of its extent; period rate {ev['rate']:.4g} vs saddle eigenvalues "
            f"{np.round(lam.real, 4).tolist()}): {why}; stopped")


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
        cache[s].s = s
        return cache[s]

    return probe


def _detect(cur: _Point, new: _Point, index: int, ds: float, opts, model, param, params, n_vertical,
            only_lpc: bool = False):
    out = []
    a, b = cur.tests, new.tests
    changed = [k for k in TEST_KINDS if np.sign(a[k]) != np.sign(b[k]) and a[k] != 0]
    if only_lpc:
        changed = [k for k in changed if k == "LPC"]
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

        # bracket in arclength, not in the parameter: at a fold the parameter is quadratically
        # flat, and a parameter bracket of locate_tol would leave the orbit and period accurate
        # only to sqrt(locate_tol)
        r = illinois(fun, 0.0, a[kind], ds, b[kind], lambda pt: pt.s, opts.locate_tol)
        if r is None:
            pt, located, prec, br = new, False, abs(new.param - cur.param), (cur.param, new.param)
        else:
            _, pt, located, prec, (lo, hi) = r
            br = (lo.param if lo is not None else cur.param, hi.param if hi is not None else new.param)
            prec = abs(br[1] - br[0]) if (lo is not None and hi is not None) else abs(new.param - cur.param)
        if kind == "NS":
            mu = pt.floq.multipliers
            on_circle = np.abs(np.abs(mu) - 1.0) < 1e-3
            if not np.any(on_circle & (np.abs(mu.imag) > 1e-6)):
                continue  # a real pair with mu_i mu_j = 1: neutral saddle of cycles, not a torus
        bp = _bif_point(kind, pt, index, located, prec, br, model, param, params)
        if kind == "LPC" and also:
            bp.data["also_crossing"] = ",".join(also)
        out.append((bp, pt))
    if (not only_lpc and not changed and not also and cur.floq is not None and new.floq is not None
            and cur.floq.n_unstable != new.floq.n_unstable):
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
