"""Homoclinic orbits to a saddle: as cycles of large fixed period, and as a boundary-value problem.

A cycle branch that ends at a homoclinic orbit has a period growing like ``-log|p - p_hom| /
lambda`` (``lambda`` the leading eigenvalue of the saddle): fixing a large period ``T`` and
freeing two parameters turns the cycle into a curve that lies exponentially close (in ``T``) to
the homoclinic bifurcation curve (Doedel's large-period approach, AUTO-07p manual, and MatCont's
"continuation of a limit cycle with fixed large period"). The orbit spends most of its period
near the saddle: the saddle is found by Newton from the slowest point of the orbit, and its
tangent-space eigenvalues give the saddle quantity

    sigma = Re(lambda_u) + Re(lambda_s)      (the leading unstable and stable eigenvalues)

whose sign decides the cycle born from the homoclinic orbit (Shilnikov); ``sigma = 0`` is a
neutral saddle homoclinic orbit (label ``NSS``), detected and located along the curve.

Two steps, both through the one continuation core
(:func:`~bifurcate.continuation.pseudo_arclength.continue_curve`):

1. :func:`grow_period` continues a cycle in (period, parameter) with the other parameters fixed
   until the period reaches ``period`` (the cycle module's own loop stops near homoclinic limits;
   this one only bounds the period);
2. :func:`continue_homoclinic` continues the cycle of that fixed period in two parameters.

Both re-adapt the collocation mesh (same number of intervals) along the way, which a
large-period orbit needs (its fast excursion shrinks to a fraction ~1/T of [0, 1]).

Accuracy: the distance of the large-period curve to the true homoclinic curve decreases like
``exp(-lambda T / 2)``-ish; compare two periods to estimate it (the tests do).

3. :func:`continue_homoclinic_bvp` (better) solves the homoclinic orbit itself as a boundary-value
   problem on a truncated interval [-T, T] with the saddle among the unknowns and projection
   boundary conditions onto its unstable / stable subspaces (Beyn's method, as in AUTO's HomCont
   and MatCont's Homoclinic; :class:`HomoclinicProblem`), started from a large-period cycle.
   Along the curve it reports the saddle, its leading eigenvalues, sigma and NSS points.
   (Other codimension-two points of homoclinic curves, e.g. inclination flips, orbit flips,
   Bykov or Shilnikov-Hopf points, are not detected.)

References
----------
E. J. Doedel et al., AUTO-07p manual (HomCont chapter; the large-period approximation);
Yu. A. Kuznetsov, Elements of Applied Bifurcation Theory (3rd ed.), Ch. 6 and Sec. 10.5.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from bifurcate.continuation.options import options_with
from bifurcate.cycles.collocation import Collocation
from bifurcate.model import Model
from bifurcate.results import BifurcationPoint, Branch

__all__ = ["LargePeriodProblem", "saddle_of_orbit", "grow_period", "continue_homoclinic", "Saddle",
           "HomoclinicProblem", "continue_homoclinic_bvp"]


class Saddle(dict):
    """The saddle of a (near-)homoclinic orbit: ``state`` (n,), ``eigenvalues`` (d,) complex
    (tangent space, by decreasing real part), ``lambda_u``, ``lambda_s`` (leading unstable and
    stable), ``sigma`` (saddle quantity), ``n_unstable``, ``distance`` (closest approach of the
    orbit), ``kind`` ("saddle", "saddle-focus", "focus-focus" by the leading eigenvalues),
    ``fixed_by`` (names of the model's symmetries fixing it), ``name`` (from ``names``, or None)."""


def saddle_of_orbit(model: Model, U: np.ndarray, params: Mapping[str, float], guess=None,
                    names: Mapping[str, np.ndarray] | None = None) -> Saddle:
    """The equilibrium the orbit ``U`` (N, n) lingers near, with its leading eigenvalues.

    Newton (from ``guess``, else from the node where |f| is smallest) on the model's field.
    ``names`` maps names to known equilibria (e.g. ``{"normal state": NORMAL_STATE}``): the saddle
    gets the name of the one it equals (to 1e-6), and ``fixed_by`` lists the model's symmetries
    that fix it."""
    from bifurcate.equilibria import newton_equilibrium

    U = np.asarray(U, float)
    p = model.pack_params(params)
    f = np.empty(model.n)
    if guess is None:
        speeds = np.empty(len(U))
        for i, u in enumerate(U):
            model.rhs(np.ascontiguousarray(u), p, f)
            speeds[i] = np.linalg.norm(f)
        guess = U[int(np.argmin(speeds))]
    y = newton_equilibrium(model, guess, params, tol=1e-12)
    ev = model.tangent_eigenvalues(y, params)
    unst = ev[ev.real > 0]
    stab = ev[ev.real < 0]
    lu = unst[np.argmin(unst.real)] if unst.size else np.nan
    ls = stab[np.argmax(stab.real)] if stab.size else np.nan
    sigma = float(np.real(lu) + np.real(ls)) if (unst.size and stab.size) else float("nan")
    cu = unst.size and abs(np.imag(lu)) > 1e-9
    cs = stab.size and abs(np.imag(ls)) > 1e-9
    kind = "focus-focus" if (cu and cs) else ("saddle-focus" if (cu or cs) else "saddle")
    dist = float(np.min(np.linalg.norm(U - y[None, :], axis=1)))
    fixed_by = [sym.name for sym in model.symmetries if np.max(np.abs(sym.matrix @ y - y)) < 1e-8]
    name = None
    for nm, z in (names or {}).items():
        if np.max(np.abs(np.asarray(z, float) - y)) < 1e-6:
            name = nm
    return Saddle(state=y, eigenvalues=ev, lambda_u=complex(lu), lambda_s=complex(ls), sigma=sigma,
                  n_unstable=int(unst.size), distance=dist, kind=kind, fixed_by=fixed_by, name=name)


class LargePeriodProblem:
    """Periodic orbits with two free quantities among the parameters and the period.

    ``free`` names two of the model's parameters or ``"period"``; unknowns
    ``x = (U, a, b)`` for ``free = (a, b)`` (inner product weighted by the quadrature weights); equations: collocation and the integral phase
    condition (N n + 1). Implements ``residual``, ``jacobian`` (sparse), ``update`` (phase
    reference) and ``finalize`` (mesh adaptation every ``adapt_every`` points) of the core's
    problem interface.
    """

    def __init__(self, model: Model, p, free: tuple[str, str], mesh, ncol: int, U0, T: float,
                 fd_step: float = 1e-6, adapt_every: int = 3):
        self.model = model
        self.free = tuple(free)
        if len(self.free) != 2 or self.free[0] == self.free[1]:
            raise ValueError(f"expected two different free quantities, got {free!r}")
        self.idx = [None if f == "period" else model.param_index(f) for f in self.free]
        ip = next(i for i in self.idx if i is not None)
        self.T = float(T)
        self.fd = float(fd_step)
        self.adapt_every = int(adapt_every)
        self._since = 0
        self._set_coll(Collocation(model, np.array(p, float), ip, np.asarray(mesh, float), int(ncol)))
        self.phase_c = self.coll.phase_row(np.asarray(U0, float))

    def _set_coll(self, coll):
        self.coll = coll
        self.N, self.n = coll.N, coll.n
        self.Nn = self.N * self.n
        # unknowns are the node values themselves (so that points on different meshes read the same);
        # the core's inner product carries the quadrature weights instead
        self.s = np.ones(self.Nn)
        self.weights = np.concatenate([np.repeat(coll.node_w, self.n), [1.0, 1.0]])

    # -- packing ---------------------------------------------------------------------------------
    def pack(self, U, T, params: Mapping[str, float]) -> np.ndarray:
        vals = [T if f == "period" else float(params[f]) for f in self.free]
        return np.concatenate([np.asarray(U, float).ravel() * self.s, vals])

    def orbit(self, x):
        return (x[: self.Nn] / self.s).reshape(self.N, self.n)

    def period(self, x) -> float:
        for k, f in enumerate(self.free):
            if f == "period":
                return float(x[self.Nn + k])
        return self.T

    def pvec(self, x):
        p = self.coll.p.copy()
        for k, i in enumerate(self.idx):
            if i is not None:
                p[i] = x[self.Nn + k]
        return p

    def params(self, x) -> dict:
        return self.model.unpack_params(self.pvec(x))

    # -- interface -------------------------------------------------------------------------------
    def _R(self, x, p):
        c = self.coll
        c.p[:] = p
        X = np.concatenate([self.orbit(x).ravel(), [self.period(x), p[c.ip]]])
        return c.evaluate(X)

    def residual(self, x):
        R = self._R(x, self.pvec(x))[0]
        return np.concatenate([R.ravel(), [self.phase_c @ self.orbit(x).ravel()]])

    def jacobian(self, x):
        c = self.coll
        p = self.pvec(x)
        R, B, BT, _ = self._R(x, p)
        cols_extra = []
        for k, i in enumerate(self.idx):
            if i is None:
                cols_extra.append(BT.ravel())
            else:
                h = self.fd * max(1.0, abs(p[i]))
                pp = p.copy()
                pp[i] += h
                Rp = self._R(x, pp)[0]
                pp[i] -= 2 * h
                Rm = self._R(x, pp)[0]
                cols_extra.append(((Rp - Rm) / (2 * h)).ravel())
        c.p[:] = p
        Nn = self.Nn
        r = np.arange(Nn)
        rows = [c._rows_B, r, r, np.full(Nn, Nn)]
        cols = [c._cols_B, np.full(Nn, Nn), np.full(Nn, Nn + 1), r]
        data = [B.ravel() / self.s[c._cols_B], cols_extra[0], cols_extra[1], self.phase_c / self.s]
        return sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(Nn + 1, Nn + 2))

    def update(self, x):
        self.phase_c = self.coll.phase_row(self.orbit(x))

    def finalize(self, x, t):
        self._since += 1
        if not self.adapt_every or self._since < self.adapt_every:
            return None
        self._since = 0
        U = self.orbit(x)
        mesh = self.coll.adapted_mesh(U)
        if np.max(np.abs(mesh - self.coll.mesh)) < 1e-3 / self.coll.ntst:
            return None
        old = self.coll
        new = Collocation(self.model, old.p.copy(), old.ip, mesh, old.m)
        Un = old.sample(U, new.times())
        tU = (t[: self.Nn] / self.s).reshape(self.N, self.n)
        tUn = old.sample(tU, new.times())
        self._set_coll(new)
        xn = np.concatenate([Un.ravel() * self.s, x[self.Nn:]])
        tn = np.concatenate([tUn.ravel() * self.s, t[self.Nn:]])
        tn /= math.sqrt(float(np.sum(self.weights * tn * tn)))
        self.phase_c = new.phase_row(Un)
        return xn, tn


def _start_from(model, start, index):
    """(U, T, mesh, ncol, params) from a CycleBranch row or a cycle BifurcationPoint."""
    from bifurcate.cycles.continuation import CycleBranch

    if isinstance(start, CycleBranch):
        if len(start) == 0:
            raise ValueError("expected a non-empty cycle branch")
        i = int(index)
        if not -len(start) <= i < len(start):
            raise IndexError(f"index must be in [-{len(start)}, {len(start)}), got {i}")
        allp = dict(start.params)
        allp[start.param] = float(start.param_values[i])
        return start.orbits[i][1], float(start.columns["period"][i]), start.meshes[i], start.ncol, allp
    if isinstance(start, BifurcationPoint) and "orbit" in start.data:
        return start.data["orbit"], float(start.data["period"]), start.data["mesh"], int(start.data["ncol"]), \
            dict(start.params)
    raise TypeError(f"expected a CycleBranch (with index) or a cycle BifurcationPoint, got {type(start).__name__}")


def _run(model, problem, x0, t0, opts, tests, bounds):
    from bifurcate.continuation.pseudo_arclength import continue_curve

    return continue_curve(problem, x0, t0, opts, tests, bounds=bounds)


def _initial_tangent(problem, x0, direction_index, direction):
    from bifurcate.continuation.pseudo_arclength import bordered_solve

    r = np.random.default_rng(7).standard_normal(x0.size)
    e = np.zeros(x0.size)
    e[-1] = 1.0
    t0 = bordered_solve(problem, problem.jacobian(x0), r, e)
    t0 /= np.linalg.norm(t0)
    if t0[direction_index] * direction < 0:
        t0 = -t0
    return t0


def _default_options(**kw):
    from bifurcate.continuation.options import ContinuationOptions

    base = dict(ds=0.02, ds_max=0.5, ds_min=1e-8, newton_tol=1e-9, locate_tol=1e-10, max_steps=400,
                max_angle=0.6)
    base.update(kw)
    return ContinuationOptions(**base)


def grow_period(model: Model, start, param: str, period: float, *, index: int = -1, options=None,
                **option_overrides):
    """Continue a cycle in (``param``, period) until its period reaches ``period``.

    Parameters
    ----------
    model : Model
    start : CycleBranch (with ``index``) or a cycle BifurcationPoint
    param : str, the parameter that moves with the period
    period : float, the target period (larger than the start's)

    Returns
    -------
    (problem, x, result) : the :class:`LargePeriodProblem` (free ``(param, "period")``), the last
    point (on the target period when ``result.status == 0`` and the message says the bound was
    reached), and the core's :class:`CurveResult`.
    """
    U, T, mesh, ncol, allp = _start_from(model, start, index)
    if not period > T:
        raise ValueError(f"expected a target period above the start's {T:.6g}, got {period}")
    opts = options_with(options, option_overrides, lambda: _default_options(ds_max=max(0.5, period / 20.0)))
    prob = LargePeriodProblem(model, model.pack_params(allp), (param, "period"), mesh, ncol, U, T)
    x0 = prob.pack(U, T, allp)
    t0 = _initial_tangent(prob, x0, -1, +1.0)
    res = _run(model, prob, x0, t0, opts, [], {x0.size - 1: (0.0, float(period))})
    return prob, res.xs[-1], res


def continue_homoclinic(model: Model, start, param: str, param2: str, *, period: float = 100.0,
                        index: int = -1, stops: Mapping[str, list] | None = None,
                        bounds: Mapping[str, tuple[float, float]] | None = None, bidirectional: bool = True,
                        names: Mapping[str, np.ndarray] | None = None, options=None, **option_overrides) -> Branch:
    """Trace a homoclinic bifurcation curve in (``param``, ``param2``) by a cycle of fixed large period.

    Parameters
    ----------
    model : Model
    start : CycleBranch (row ``index``, default the last) or a cycle BifurcationPoint
        A cycle near the homoclinic limit of its branch (in ``param``).
    param, param2 : str, the two free parameters (``param`` the branch's)
    period : float
        The fixed period. The cycle is first continued in (``param``, period) up to it
        (:func:`grow_period`), then in the two parameters.
    stops : mapping name -> values, optional
        Parameter values where points are located (label ``UZ``), e.g. ``{"J": [1.0]}``.
    bounds : mapping name -> (lo, hi), optional
    bidirectional : bool
    names : mapping name -> state, optional
        Known equilibria to name the saddle (see :func:`saddle_of_orbit`).

    Returns
    -------
    Branch
        ``kind`` "HOM"; ``param_values`` the first parameter, ``columns`` the second, ``period``,
        the saddle (``saddle_<state>``), its leading eigenvalues (``lambda_u``, ``lambda_s``, real
        parts, and ``lambda_u_im``, ``lambda_s_im``), ``sigma`` and ``distance`` (closest approach
        of the orbit to the saddle); ``states`` are the saddles. ``points``: ``UZ`` stops and
        ``NSS`` (neutral saddle: sigma = 0), each with ``data["saddle"]`` (a :class:`Saddle`).
        ``stats["grow"]`` reports the period-growing run.
    """
    from bifurcate.continuation.pseudo_arclength import two_parameter_bounds

    t_start = time.perf_counter()
    if not isinstance(model, Model):
        raise TypeError(f"expected a Model, got {type(model).__name__}")
    i1, i2 = model.param_index(param), model.param_index(param2)
    if i1 == i2:
        raise ValueError(f"expected two different parameters, got {param!r} twice")
    if not (np.isfinite(period) and period > 0):
        raise ValueError(f"expected a finite period > 0, got {period}")
    opts = options_with(options, option_overrides, _default_options)
    U, T, mesh, ncol, allp = _start_from(model, start, index)
    grow_stats = None
    if period > T * (1 + 1e-12):
        # steps in the period direction may be long: the period dominates the norm there
        gopts = replace(opts, ds_max=max(opts.ds_max, period / 20.0), max_steps=max(opts.max_steps, 400))
        gp, xg, gres = grow_period(model, start, param, period, index=index, options=gopts)
        if abs(gp.period(xg) - period) > 1e-8 * period:
            return _fail(model, param, param2, allp, -4,
                         f"the cycle could not be continued to period {period:g} (reached {gp.period(xg):.6g} at "
                         f"{param} = {gp.params(xg)[param]:.10g}: {gres.message})", opts)
        U, mesh, allp = gp.orbit(xg), gp.coll.mesh.copy(), gp.params(xg)
        grow_stats = dict(gres.stats, message=gres.message)
    prob = LargePeriodProblem(model, model.pack_params(allp), (param, param2), mesh, ncol, U, period)
    x0 = prob.pack(U, period, allp)
    nx = x0.size
    index_of, bnds = two_parameter_bounds(nx, param, param2, opts, bounds)
    saddle = _saddle_memo(model, prob, names)

    tests = _curve_tests(saddle, stops, index_of, param, param2)
    t0 = _initial_tangent(prob, x0, -1, math.copysign(1.0, opts.ds))
    state0 = (prob.coll, prob.phase_c.copy(), x0.copy())
    fwd = _run(model, prob, x0, t0, opts, tests, bnds)
    rows = [(prob.orbit(x), prob.params(x), prob.coll.mesh.copy()) for x in fwd.xs]
    pts_f = _events(model, prob, fwd, tests, saddle, param, param2)
    back, rows_b, pts_b = None, [], []
    if bidirectional:
        prob._set_coll(state0[0])
        prob.phase_c = state0[1]
        prob._since = 0
        back = _run(model, prob, state0[2], -t0, opts, tests, bnds)
        rows_b = [(prob.orbit(x), prob.params(x), prob.coll.mesh.copy()) for x in back.xs]
        pts_b = _events(model, prob, back, tests, saddle, param, param2)
    allrows = rows_b[::-1] + rows[1:] if back is not None else rows
    mb = len(rows_b) - 1 if back is not None else 0
    points = _joined_points(pts_f, pts_b, mb)
    for k, vals in (stops or {}).items():  # a stop at the starting value: no sign change to see
        for v in np.atleast_1d(vals):
            if abs(x0[index_of[k]] - float(v)) <= 1e-12 * max(1.0, abs(float(v))):
                prob._set_coll(state0[0])
                points.append(_point(model, prob, x0, "UZ", {"stop": k, "value": float(v)}, mb, True, 0.0,
                                     (float(x0[-2]), float(x0[-2])), saddle, param, param2))
    status = fwd.status if back is None else min(fwd.status, back.status)
    message = fwd.message if back is None else f"forward: {fwd.message}; backward: {back.message}"
    m = len(allrows)
    states = np.empty((m, model.n))
    ev = np.full((m, model.dim), np.nan + 0j)
    cols = {param2: np.empty(m), "period": np.full(m, float(period)), "sigma": np.empty(m),
            "lambda_u": np.empty(m), "lambda_u_im": np.empty(m), "lambda_s": np.empty(m),
            "lambda_s_im": np.empty(m), "distance": np.empty(m)}
    p1 = np.empty(m)
    n_uns = np.zeros(m, int)
    guess = None
    for r, (Ur, pr, _) in enumerate(allrows):
        s = saddle_of_orbit(model, Ur, pr, guess, names)
        guess = s["state"]
        states[r] = s["state"]
        ev[r, : len(s["eigenvalues"])] = s["eigenvalues"]
        n_uns[r] = s["n_unstable"]
        p1[r] = pr[param]
        cols[param2][r] = pr[param2]
        cols["sigma"][r] = s["sigma"]
        cols["lambda_u"][r], cols["lambda_u_im"][r] = s["lambda_u"].real, s["lambda_u"].imag
        cols["lambda_s"][r], cols["lambda_s_im"][r] = s["lambda_s"].real, s["lambda_s"].imag
        cols["distance"][r] = s["distance"]
    for k, nm in enumerate(model.state_names):
        cols[f"saddle_{nm}"] = states[:, k]
    fixed = {k: v for k, v in allp.items() if k not in (param, param2) and k not in model.fixed}
    stats = {"grow": grow_stats, "forward": fwd.stats, "backward": back.stats if back else None,
             "wall_time": time.perf_counter() - t_start, "orbits": [r[0] for r in allrows]}
    return Branch(model=model, param=param, kind="HOM", params=fixed, param_values=p1, states=states, eigenvalues=ev,
                  stable=np.zeros(m, bool), n_unstable=n_uns, points=tuple(sorted(points, key=lambda q: q.index)),
                  columns=cols, status=status, message=message, options=opts, stats=stats)


def _point(model, prob, x, lab, data, row, located, prec, bracket, saddle, param, param2):
    s = saddle(x)
    data = dict(data, saddle=s, sigma=s["sigma"], param_name=param, param2=param2, period=prob.period(x),
                orbit=prob.orbit(x).copy(), mesh=prob.coll.mesh.copy(), ncol=prob.coll.m)
    pr = prob.params(x)
    return BifurcationPoint(kind=lab, param=float(pr[param]), state=s["state"].copy(), params=pr, index=int(row),
                            located=bool(located), precision=float(prec), bracket=bracket,
                            eigenvalues=s["eigenvalues"], data=data)


def _events(model, prob, res, tests, saddle, param, param2):
    out = []
    for e in res.events:
        tf = tests[e["test"]]
        x = e["x"]
        lab, data = tf.classify(x, e["t"])
        if lab is None:
            continue
        row = int(e["row"])
        prec = float(max(abs(e["x_hi"][-1] - e["x_lo"][-1]), abs(e["x_hi"][-2] - e["x_lo"][-2])))
        out.append(_point(model, prob, x, lab, data, row, e["located"], prec,
                          (float(res.xs[row][-2]), float(res.xs[min(row + 1, len(res.xs) - 1)][-2])), saddle, param,
                          param2))
    return out


def _saddle_memo(model, prob, names, guess_of=None):
    """saddle(x): the saddle of the orbit of the curve's point x (:func:`saddle_of_orbit`), kept for
    the last x; Newton starts from ``guess_of(x)`` or else from the last saddle found."""
    memo = {}

    def saddle(x):
        key = x.tobytes()
        if memo.get("key") != key:
            memo["key"] = key
            guess = guess_of(x) if guess_of is not None else memo.get("guess")
            memo["s"] = saddle_of_orbit(model, prob.orbit(x), prob.params(x), guess, names)
            memo["guess"] = memo["s"]["state"]
        return memo["s"]

    return saddle


def _curve_tests(saddle, stops, index_of, param, param2) -> list:
    """Test functions of a homoclinic curve: the saddle quantity (NSS, a neutral saddle) and one
    UZ per requested value in ``stops`` ({parameter name: values})."""
    from bifurcate.continuation.pseudo_arclength import TestFunction

    tests = [TestFunction("NSS", lambda x, t: saddle(x)["sigma"], lambda x, t: ("NSS", {}), 0)]
    for k, vals in (stops or {}).items():
        if k not in index_of:
            raise KeyError(f"stops: expected {param!r} or {param2!r}, got {k!r}")
        for v in np.atleast_1d(vals):
            tests.append(TestFunction("UZ", lambda x, t, i=index_of[k], v=float(v): float(x[i] - v),
                                      lambda x, t, nm=k, v=float(v): ("UZ", {"stop": nm, "value": v}), 0))
    return tests


def _joined_points(pts_f, pts_b, mb: int) -> list:
    """Points of the backward run (``mb`` rows, reversed) then of the forward run, re-indexed on
    the joined rows."""
    return [replace(q, index=max(0, mb - 1 - q.index)) for q in pts_b] + [replace(q, index=q.index + mb)
                                                                           for q in pts_f]


def _fail(model, param, param2, allp, status, message, opts) -> Branch:
    fixed = {k: v for k, v in allp.items() if k not in (param, param2) and k not in model.fixed}
    return Branch(model=model, param=param, kind="HOM", params=fixed, param_values=np.zeros(0),
                  states=np.zeros((0, model.n)), eigenvalues=np.zeros((0, model.dim), complex), stable=np.zeros(0, bool),
                  n_unstable=np.zeros(0, int), columns={param2: np.zeros(0)}, status=status, message=message,
                  options=opts)


# ------------------------------------------------------------------------------------------------
# the homoclinic boundary-value problem (HomCont / MatCont's Homoclinic)
# ------------------------------------------------------------------------------------------------
def _split_spaces(A: np.ndarray):
    """Orthonormal bases (Q_s, Q_u) of (E^u)^perp and (E^s)^perp of the matrix A (no eigenvalue on
    the imaginary axis): u - x0 in E^u  <=>  Q_s^T (u - x0) = 0, and likewise for E^s."""
    from scipy.linalg import schur

    n = A.shape[0]
    _, Zr, nu = schur(A, output="real", sort="rhp")
    _, Zl, ns = schur(A, output="real", sort="lhp")
    if nu + ns != n:
        raise ValueError(f"the saddle has eigenvalues on the imaginary axis ({n - nu - ns} of them)")
    return Zr[:, nu:].copy(), Zl[:, ns:].copy(), int(nu), int(ns)


class HomoclinicProblem:
    """A homoclinic orbit to a hyperbolic saddle as a truncated boundary-value problem.

    Unknowns ``x = (U, x0, p1, p2)``: the orbit at the ``N + 1`` collocation nodes of [0, 1] (time
    rescaled from [-T, T], ``T`` fixed), the saddle ``x0`` and the two parameters. Equations:

    * collocation of ``u' = 2 T f(u; p)`` on the mesh (not periodic), N n equations;
    * the saddle: ``f(x0; p) = 0``, n equations;
    * projection boundary conditions: ``u(0) - x0`` in the unstable subspace of ``f_x(x0)``
      (``Q_s^T (u(0) - x0) = 0``) and ``u(1) - x0`` in the stable subspace
      (``Q_u^T (u(1) - x0) = 0``), n equations together (Beyn 1990; AUTO's HomCont, MatCont);
    * the integral phase condition against the previous orbit, 1 equation.

    The projections ``Q_s``, ``Q_u`` (orthonormal Schur bases) are frozen during a corrector run
    and refreshed at every accepted point (:meth:`update`); their change over a step multiplies
    ``u(0) - x0``, which is exponentially small in ``T``.
    """

    def __init__(self, model: Model, p, i1: int, i2: int, mesh, ncol: int, U0, x0, T: float, fd_step: float = 1e-6):
        self.model = model
        self.i1, self.i2 = int(i1), int(i2)
        self.T2 = 2.0 * float(T)
        self.coll = Collocation(model, np.array(p, float), self.i1, np.asarray(mesh, float), int(ncol))
        c = self.coll
        self.n, self.ntst, self.m = c.n, c.ntst, c.m
        self.N = c.N + 1  # nodes, the last one separate (not periodic)
        self.Nn = self.N * self.n
        self.fd = float(fd_step)
        w = np.zeros(self.N)
        for j in range(self.ntst):
            w[j * self.m + np.arange(self.m + 1)] += c.h[j] * c.wq
        self.node_w = w
        self.weights = np.concatenate([np.repeat(w, self.n), np.ones(self.n), [1.0, 1.0]])
        ntst, m, n = self.ntst, self.m, self.n
        jj, kk, ii, ll, i2_ = np.meshgrid(np.arange(ntst), np.arange(m), np.arange(n), np.arange(m + 1),
                                          np.arange(n), indexing="ij")
        self._rows_B = ((jj * m + kk) * n + ii).ravel()
        self._cols_B = ((jj * m + ll) * n + i2_).ravel()
        self._set_reference(np.asarray(U0, float))
        self._set_projections(np.asarray(x0, float), np.array(p, float))

    @property
    def size(self) -> int:
        return self.Nn + self.n + 2

    def pack(self, U, x0, p1, p2):
        return np.concatenate([np.asarray(U, float).ravel(), np.asarray(x0, float), [p1, p2]])

    def orbit(self, x):
        return x[: self.Nn].reshape(self.N, self.n)

    def saddle_state(self, x):
        return x[self.Nn: self.Nn + self.n]

    def pvec(self, x):
        p = self.coll.p.copy()
        p[self.i1], p[self.i2] = x[-2], x[-1]
        return p

    def params(self, x) -> dict:
        return self.model.unpack_params(self.pvec(x))

    def times(self) -> np.ndarray:
        xi = np.linspace(0.0, 1.0, self.m + 1)[:-1]
        t = (self.coll.mesh[:-1, None] + self.coll.h[:, None] * xi[None, :]).ravel()
        return np.concatenate([t, [1.0]])

    def _set_reference(self, Uref):
        c, m = self.coll, self.m
        cc = np.zeros((self.N, self.n))
        for j in range(self.ntst):
            idx = j * m + np.arange(m + 1)
            dref = c.Dn @ Uref[idx] / c.h[j]
            cc[idx] += (c.h[j] * c.wq)[:, None] * dref
        self.phase_c = cc.ravel()
        self.phase_0 = float(self.phase_c @ Uref.ravel())

    def _set_projections(self, x0, p):
        J = np.empty((self.n, self.n))
        self.model.jac(np.ascontiguousarray(x0), p, J)
        self.Qs, self.Qu, self.n_u, self.n_s = _split_spaces(J)

    def _colloc(self, U, p):
        c = self.coll
        R = np.empty((self.ntst, self.m, self.n))
        B = np.empty((self.ntst, self.m, self.n, self.m + 1, self.n))
        BT, BP = np.empty_like(R), np.empty_like(R)
        eps = 1e-6 * max(1.0, abs(p[self.i1]))
        st = c._kern(np.ascontiguousarray(U), self.T2, p, self.i1, c.h, c.L, c.D, eps, R, B, BT, BP)
        if st != 0:
            raise FloatingPointError("non-finite value in the homoclinic collocation residual")
        return R, B, BP

    def residual(self, x):
        U, x0, p = self.orbit(x), self.saddle_state(x), self.pvec(x)
        R = self._colloc(U, p)[0]
        f0 = np.empty(self.n)
        self.model.rhs(np.ascontiguousarray(x0), p, f0)
        return np.concatenate([R.ravel(), f0, self.Qs.T @ (U[0] - x0), self.Qu.T @ (U[-1] - x0),
                               [self.phase_c @ U.ravel() - self.phase_0]])

    def jacobian(self, x):
        n, Nn = self.n, self.Nn
        U, x0, p = self.orbit(x), self.saddle_state(x), self.pvec(x)
        R, B, BP1 = self._colloc(U, p)
        h = self.fd * max(1.0, abs(p[self.i2]))
        pp = p.copy()
        pp[self.i2] += h
        Rp = self._colloc(U, pp)[0]
        pp[self.i2] -= 2 * h
        Rm = self._colloc(U, pp)[0]
        BP2 = (Rp - Rm) / (2 * h)
        cN = self.ntst * self.m * n  # collocation rows
        J0 = np.empty((n, n))
        self.model.jac(np.ascontiguousarray(x0), p, J0)
        fp = []
        for i in (self.i1, self.i2):
            hh = self.fd * max(1.0, abs(p[i]))
            q = p.copy()
            q[i] += hh
            f1 = np.empty(n)
            self.model.rhs(np.ascontiguousarray(x0), q, f1)
            q[i] -= 2 * hh
            f2 = np.empty(n)
            self.model.rhs(np.ascontiguousarray(x0), q, f2)
            fp.append((f1 - f2) / (2 * hh))
        rows, cols, data = [self._rows_B], [self._cols_B], [B.ravel()]
        r = np.arange(cN)
        rows += [r, r]
        cols += [np.full(cN, self.size - 2), np.full(cN, self.size - 1)]
        data += [BP1.ravel(), BP2.ravel()]
        # saddle rows
        ri, ci = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        rows += [(cN + ri).ravel(), cN + np.arange(n), cN + np.arange(n)]
        cols += [(Nn + ci).ravel(), np.full(n, self.size - 2), np.full(n, self.size - 1)]
        data += [J0.ravel(), fp[0], fp[1]]
        # projection rows
        r0 = cN + n
        for Q, node in ((self.Qs, 0), (self.Qu, self.N - 1)):
            k = Q.shape[1]
            rr, cc = np.meshgrid(np.arange(k), np.arange(n), indexing="ij")
            rows += [(r0 + rr).ravel(), (r0 + rr).ravel()]
            cols += [(node * n + cc).ravel(), (Nn + cc).ravel()]
            data += [Q.T.ravel(), -Q.T.ravel()]
            r0 += k
        rows.append(np.full(Nn, r0))
        cols.append(np.arange(Nn))
        data.append(self.phase_c)
        return sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(r0 + 1, self.size))

    def update(self, x):
        self._set_reference(self.orbit(x).copy())
        self._set_projections(self.saddle_state(x).copy(), self.pvec(x))


def _homoclinic_guess(model, U, T_cyc, mesh, ncol, saddle, T, ntst):
    """Initial orbit on [-T, T] (rescaled to [0, 1]) cut from a large-period cycle, centred on its
    excursion, on a mesh equidistributing arclength (with a floor)."""
    c = Collocation(model, model.pack_params(model.defaults), 0, np.asarray(mesh, float), int(ncol), use_numba=False)
    s = np.linspace(0.0, 1.0, 20 * c.N, endpoint=False)
    Y = c.sample(U, s)
    k = int(np.argmax(np.linalg.norm(Y - saddle[None, :], axis=1)))
    frac = float(T) / float(T_cyc)
    if not 2 * frac < 1.0:
        raise ValueError(f"expected a half-length T < period / 2 = {T_cyc / 2:.6g}, got {T}")
    tt = np.linspace(0.0, 1.0, 40 * ntst + 1)
    Yw = c.sample(U, s[k] + (tt - 0.5) * 2 * frac)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(Yw, axis=0), axis=1))])
    arc = arc / max(arc[-1], 1e-300) + tt  # half arclength, half time
    mesh_new = np.interp(np.linspace(0.0, arc[-1], ntst + 1), arc, tt)
    mesh_new[0], mesh_new[-1] = 0.0, 1.0
    return mesh_new, lambda t: c.sample(U, s[k] + (np.asarray(t) - 0.5) * 2 * frac)


def continue_homoclinic_bvp(model: Model, start, param: str, param2: str, *, T: float = 20.0, ntst: int = 60,
                            stops: Mapping[str, list] | None = None,
                            bounds: Mapping[str, tuple[float, float]] | None = None, bidirectional: bool = True,
                            names: Mapping[str, np.ndarray] | None = None, options=None,
                            **option_overrides) -> Branch:
    """Continue a homoclinic orbit to a saddle in two parameters as a boundary-value problem.

    Parameters
    ----------
    model : Model
    start : tuple
        The result ``(problem, x, result)`` of :func:`grow_period`, or ``(U, period, mesh, ncol,
        params)`` of a large-period cycle (node values ``U`` (N, n) on ``mesh``)
    param, param2 : str, the two free parameters
    T : float
        Half-length of the truncated time interval [-T, T] (must be below half the cycle's period).
    ntst : int, mesh intervals (ncol from the start)
    stops, bounds, bidirectional, names, options : as in :func:`continue_homoclinic`

    Returns
    -------
    Branch
        ``kind`` "HOM" with the columns of :func:`continue_homoclinic` (``sigma``, ``lambda_u``,
        ``lambda_s``, the saddle) plus ``end_distance`` (max of |u(0) - x0|, |u(1) - x0|: the
        truncation); ``stats["orbits"]`` the orbits at the nodes of ``stats["mesh"]`` on [0, 1]
        (physical time 2 T (t - 1/2)).
        Status -4 if the start cannot be corrected onto the curve.
    """
    from bifurcate.continuation.pseudo_arclength import continue_curve, correct, two_parameter_bounds

    t_start = time.perf_counter()
    i1, i2 = model.param_index(param), model.param_index(param2)
    if i1 == i2:
        raise ValueError(f"expected two different parameters, got {param!r} twice")
    if isinstance(start, tuple) and len(start) == 3 and isinstance(start[0], LargePeriodProblem):
        gp, xg = start[0], start[1]
        U, Tc, mesh, ncol, allp = gp.orbit(xg), gp.period(xg), gp.coll.mesh.copy(), gp.coll.m, gp.params(xg)
    elif isinstance(start, tuple) and len(start) == 5:
        U, Tc, mesh, ncol, allp = start
        Tc = float(Tc)
    else:
        raise TypeError(f"expected the result (problem, x, result) of grow_period or a tuple (U, period, mesh, ncol, "
                        f"params) of a large-period cycle, got {type(start).__name__}")
    allp = model.params({k: v for k, v in allp.items() if k not in model.fixed})
    s0 = saddle_of_orbit(model, U, allp, names=names)
    mesh_new, guess = _homoclinic_guess(model, U, Tc, mesh, ncol, s0["state"], T, int(ntst))
    p = model.pack_params(allp)
    coll0 = Collocation(model, p, i1, mesh_new, int(ncol))
    xi = np.linspace(0.0, 1.0, int(ncol) + 1)[:-1]
    tnodes = np.concatenate([(coll0.mesh[:-1, None] + coll0.h[:, None] * xi[None, :]).ravel(), [1.0]])
    U0 = guess(tnodes)
    prob = HomoclinicProblem(model, p, i1, i2, mesh_new, int(ncol), U0, s0["state"], T)
    opts = options_with(options, option_overrides, lambda: _default_options(ds=0.01, ds_max=0.05))
    x0 = prob.pack(U0, s0["state"], p[i1], p[i2])
    nx = x0.size
    x1, ok, _ = correct(prob, x0, np.zeros(nx), x0, 0.0, opts.newton_tol, 40, fixed=(nx - 1, float(x0[-1])))
    if not ok:
        return _fail(model, param, param2, allp, -4, "the homoclinic boundary-value problem could not be corrected "
                     f"from the large-period cycle (T = {T:g}, cycle period {Tc:.6g})", opts)
    prob.update(x1)
    index_of, bnds = two_parameter_bounds(nx, param, param2, opts, bounds)
    saddle = _saddle_memo(model, prob, names, prob.saddle_state)

    tests = _curve_tests(saddle, stops, index_of, param, param2)
    t0 = _initial_tangent(prob, x1, -1, math.copysign(1.0, opts.ds))
    saved = (prob.phase_c.copy(), prob.phase_0, prob.Qs.copy(), prob.Qu.copy())
    prob.period = lambda x: prob.T2
    fwd = continue_curve(prob, x1, t0, opts, tests, bounds=bnds)
    back = None
    if bidirectional:
        prob.phase_c, prob.phase_0, prob.Qs, prob.Qu = saved[0].copy(), saved[1], saved[2].copy(), saved[3].copy()
        back = continue_curve(prob, x1, -t0, opts, tests, bounds=bnds)
    prob.coll_mesh = prob.coll.mesh
    pts_f = _events(model, prob, fwd, tests, saddle, param, param2)
    pts_b = _events(model, prob, back, tests, saddle, param, param2) if back is not None else []
    xs = np.concatenate([back.xs[::-1], fwd.xs[1:]]) if back is not None else fwd.xs
    mb = len(back.xs) - 1 if back is not None else 0
    points = _joined_points(pts_f, pts_b, mb)
    for k, vals in (stops or {}).items():
        for v in np.atleast_1d(vals):
            if abs(x1[index_of[k]] - float(v)) <= 1e-12 * max(1.0, abs(float(v))):
                points.append(_point(model, prob, x1, "UZ", {"stop": k, "value": float(v)}, mb, True, 0.0,
                                     (float(x1[-2]), float(x1[-2])), saddle, param, param2))
    status = fwd.status if back is None else min(fwd.status, back.status)
    message = fwd.message if back is None else f"forward: {fwd.message}; backward: {back.message}"
    m = len(xs)
    states = np.array([prob.saddle_state(x) for x in xs])
    ev = np.full((m, model.dim), np.nan + 0j)
    cols = {param2: xs[:, -1].copy(), "T": np.full(m, float(T)), "sigma": np.empty(m), "lambda_u": np.empty(m),
            "lambda_u_im": np.empty(m), "lambda_s": np.empty(m), "lambda_s_im": np.empty(m),
            "end_distance": np.empty(m)}
    n_uns = np.zeros(m, int)
    for r, x in enumerate(xs):
        s = saddle(x)
        ev[r, : len(s["eigenvalues"])] = s["eigenvalues"]
        n_uns[r] = s["n_unstable"]
        cols["sigma"][r] = s["sigma"]
        cols["lambda_u"][r], cols["lambda_u_im"][r] = s["lambda_u"].real, s["lambda_u"].imag
        cols["lambda_s"][r], cols["lambda_s_im"][r] = s["lambda_s"].real, s["lambda_s"].imag
        Ux = prob.orbit(x)
        x0s = prob.saddle_state(x)
        cols["end_distance"][r] = float(max(np.linalg.norm(Ux[0] - x0s), np.linalg.norm(Ux[-1] - x0s)))
    for k, nm in enumerate(model.state_names):
        cols[f"saddle_{nm}"] = states[:, k]
    fixed = {k: v for k, v in allp.items() if k not in (param, param2) and k not in model.fixed}
    stats = {"forward": fwd.stats, "backward": back.stats if back else None, "wall_time": time.perf_counter() - t_start,
             "orbits": [prob.orbit(x).copy() for x in xs], "mesh": prob.coll.mesh.copy(), "ncol": prob.m}
    return Branch(model=model, param=param, kind="HOM", params=fixed, param_values=xs[:, -2].copy(), states=states,
                  eigenvalues=ev, stable=np.zeros(m, bool), n_unstable=n_uns,
                  points=tuple(sorted(points, key=lambda q: q.index)), columns=cols, status=status, message=message,
                  options=opts, stats=stats)
