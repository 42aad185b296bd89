"""Curves of cycle bifurcations (LPC, PD, NS) in two parameters.

:func:`continue_cycle_codim2` continues a fold (LPC), flip (PD) or torus bifurcation (NS) of cycles, located on a
one-parameter cycle branch, as a curve in two parameters: pseudo-arclength continuation (the
core's :func:`~bifurcate.continuation.pseudo_arclength.continue_curve`) of the minimally augmented
collocation systems of :mod:`bifurcate.cycles.codim2_problems`. Along the curve the tangent-space
Floquet multipliers are monitored for codimension-two points:

==========  ==================================================================================
on LPC      R1 (1:1 resonance: a second multiplier at +1), LPPD (fold-flip: a multiplier at -1),
            LPNS (a complex pair on the unit circle), CPC (cusp of cycles: the fold coefficient
            ``b`` of :mod:`bifurcate.cycles.normal_forms` changes sign; ``data["velocity"]``, the
            curve's velocity in the parameter plane, is ~0 there), GH (the curve ends on a Hopf
            curve: cycles of zero size; a sign change of b next to it is not a cusp)
on PD       R2 (1:2 resonance: a second multiplier at -1), LPPD (fold-flip: a multiplier at +1),
            PDNS (a complex pair on the unit circle), GPD (generalised period doubling: the PD
            normal-form coefficient ``c`` changes sign)
on NS       R1, R2, R3, R4 (strong resonances: kappa = cos theta = 1, -1, -1/2, 0), LPNS and PDNS
            (another multiplier at +1 / -1), NSNS (a second complex pair on the unit circle), CH
            (Chenciner: the NS normal-form coefficient ``Re d`` changes sign)
==========  ==================================================================================

The normal-form coefficients (:func:`bifurcate.cycles.normal_forms.cycle_normal_form`, periodic
normalisation on the curve's own collocation mesh) are test functions evaluated at every point of
LPC, PD and NS curves; ``columns["nf_coefficient"]`` holds them (LPC: ``b``, PD: ``c``, NS: ``Re d``;
NaN beyond R1 / R2, where the NS curve is a neutral saddle). The fifth-order coefficients that
decide the side of the folds of doubled cycles / tori at GPD / CH are not computed.

R1 and R2 on NS curves come in two kinds, both reported, ``data["case"]`` saying which:
"crossing" -- kappa passes through +-1 and the pair leaves the circle as a real pair of product 1
(the generic 1:1 / 1:2 resonance, a Jordan block; ``data["pair_product"]``), and "touching" --
kappa reaches +-1 and turns back (the pair touches +-1 as a rotation by 0 or pi and returns along
the circle, as in uncoupled oscillators): found as a sign change of d kappa / ds, accepted only
where |kappa -+ 1| < 1e-6 at the located turn.

A fold where more than one nontrivial multiplier sits at +1 is not a
generic LPC (e.g. the LMG dimer's normal-state cycles, which join a Hopf point to its PT mirror
and carry a time-reversal symmetry): the minimally augmented system is singular there, and the
run returns at once with status -6 and a message that says so. A coarse mesh splits such a cluster
of multipliers by more than ``generic_tol`` (about 1e-2 at NTST 10): when a second multiplier lies
within :data:`GENERIC_SUSPECT` of the critical value, the start is corrected again on the doubled
mesh and a distance the refinement does not resolve counts as zero.

:func:`sample_codim2` is the older dense sampling (a cycle branch per value of the second
parameter, collecting its located points); it resolves nothing between samples.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from bifurcate.model import Model
from bifurcate.results import Branch

__all__ = ["sample_codim2", "continue_cycle_codim2", "CURVE_STATUS"]

#: statuses of :func:`continue_cycle_codim2` beyond the core's (0 success, -1 step below ds_min,
#: -2 non-finite values)
CURVE_STATUS = {
    -4: "the starting point could not be corrected onto the curve",
    -6: "not a generic point: more than one nontrivial Floquet multiplier at the critical value",
}


def sample_codim2(model: Model, make_start: Callable[[float], Any], values: Iterable[float], *, second: str,
                  param: str, params: Mapping[str, float] | None = None, kinds=("LPC", "PD"), options=None,
                  **option_overrides) -> dict:
    """Sample curves of cycle bifurcations in (second, param).

    Parameters
    ----------
    model : Model
    make_start : callable value -> start
        Builds the start of the cycle branch (anything :func:`continue_cycles` accepts) at
        ``second = value``; e.g. the Hopf point of an equilibrium found at that value.
    values : iterable of float, the samples of the second parameter
    second, param : str, the second parameter and the continuation parameter
    params : dict, other parameters
    kinds : labels to collect

    Returns
    -------
    dict
        ``{kind: Branch}`` with ``kind`` the label; each Branch has one row per located point
        (``param_values`` the first parameter, ``columns[second]`` the second, ``columns["period"]``,
        ``columns["order"]`` the rank of the point along its cycle branch), and the key ``"runs"``
        with a DataFrame of one row per sample (``status``, ``message``, number of points found).
    """
    from bifurcate.cycles import continue_cycles

    model.param_index(second)
    model.param_index(param)
    rows = {k: [] for k in kinds}
    runs = []
    for v in values:
        v = float(v)
        prm = dict(params or {})
        prm[second] = v
        try:
            start = make_start(v)
            br = continue_cycles(model, start, param=param, params=prm, options=options, **option_overrides)
            status, message = br.status, br.message
        except Exception as exc:  # one failing sample is recorded, never fatal
            runs.append({second: v, "status": -99, "message": f"{type(exc).__name__}: {exc}", "n_points": 0})
            continue
        found = 0
        for k in kinds:
            for order, p in enumerate(br.special(k)):
                if p.located:
                    rows[k].append((v, p, order))
                    found += 1
        runs.append({second: v, "status": status, "message": message, "n_points": found})
    out: dict[str, Any] = {}
    for k, lst in rows.items():
        m = len(lst)
        d = model.dim
        ev = np.full((m, d), np.nan + 0j)
        for i, (_, p, _) in enumerate(lst):
            if p.eigenvalues is not None:
                ev[i, : len(p.eigenvalues)] = p.eigenvalues
        states = np.array([p.state for _, p, _ in lst]).reshape(m, model.n)
        fixed = {kk: vv for kk, vv in model.params(params).items() if kk not in (param, second)}
        out[k] = Branch(model=model, param=param, kind=k, params=fixed,
                        param_values=np.array([p.param for _, p, _ in lst], dtype=float), states=states,
                        eigenvalues=ev, stable=np.zeros(m, bool), n_unstable=np.zeros(m, int),
                        columns={second: np.array([v for v, _, _ in lst], dtype=float),
                                 "period": np.array([p.data["period"] for _, p, _ in lst], dtype=float),
                                 "order": np.array([o for _, _, o in lst], dtype=int),
                                 "precision": np.array([p.precision for _, p, _ in lst], dtype=float)},
                        status=0, message="dense sampling (not a continued curve)", options=options)
    out["runs"] = pd.DataFrame(runs)
    return out


# ------------------------------------------------------------------------------------------
# continuation of LPC / PD curves
# ------------------------------------------------------------------------------------------
def _tests_for(problem, memo, stops):
    """Test functions on a cycle bifurcation curve (see the module docstring)."""
    import math

    from bifurcate.continuation.pseudo_arclength import TestFunction, tangent_at
    from bifurcate.cycles.normal_forms import cycle_normal_form

    crit = problem.critical_multiplier()

    def rest(x):
        key = x.tobytes()
        if memo.get("key") != key:
            fl = problem.floquet(x)
            mu = np.asarray(fl.multipliers)
            k = int(np.argmin(np.abs(mu - crit))) if mu.size else -1
            memo["key"], memo["fl"] = key, fl
            memo["rest"] = np.delete(mu, k) if k >= 0 else mu
        return memo["rest"]

    def norm_prod(z):
        return float(np.prod(z / (1.0 + np.abs(z))).real) if len(z) else 1.0

    def plus1(x, t):
        return norm_prod(rest(x) - 1.0)

    def minus1(x, t):
        return norm_prod(rest(x) + 1.0)

    def torus(x, t):
        r = rest(x)
        iu, ju = np.triu_indices(len(r), 1)
        q = r[iu] * r[ju]
        return norm_prod(q - 1.0) if q.size else 1.0

    def torus_classify(x, t, label):
        r = rest(x)
        iu, ju = np.triu_indices(len(r), 1)
        if not iu.size:
            return None, {}
        k = int(np.argmin(np.abs(r[iu] * r[ju] - 1.0)))
        a = r[iu[k]]
        if abs(a.imag) > 1e-8 * max(1.0, abs(a)):
            return label, {"theta": float(abs(np.angle(a)))}
        return None, {}  # a real pair with mu_i mu_j = 1: a neutral saddle cycle, not a torus

    def torus_classify_rest(x, label):
        r = memo.get("rest") if memo.get("key") == x.tobytes() else None
        if r is None or len(r) < 2:
            return None, {}
        iu, ju = np.triu_indices(len(r), 1)
        k = int(np.argmin(np.abs(r[iu] * r[ju] - 1.0)))
        a = r[iu[k]]
        return (label, {}) if abs(a.imag) > 1e-8 * max(1.0, abs(a)) else (None, {})

    def velocity(x, t):
        # projection of the current parameter-plane velocity on the previous one's direction
        tau = tangent_at(problem, x, t)
        ref = t[-2:]
        nr = np.linalg.norm(ref)
        return float(tau[-2:] @ ref / nr) if nr > 0 else 1.0

    w_nodes = problem.coll.node_w

    def deviation(x):
        U = problem.orbit(x)
        return U - w_nodes @ U

    ref = {"dev": deviation(problem.x_ref) if getattr(problem, "x_ref", None) is not None else None}

    def shrink(x, t):
        # <u - mean, u_ref - mean_ref>: changes sign where the family passes through zero size,
        # i.e. where the fold curve ends on a Hopf curve (a generalised Hopf point)
        if ref["dev"] is None:
            return 1.0
        return float(np.sum(w_nodes[:, None] * deviation(x) * ref["dev"]))

    def shrink_classify(x, t):
        amp = float(np.max(np.ptp(problem.orbit(x), axis=0)) / 2)
        return "GH", {"amplitude": amp, "note": "the LPC curve ends on a Hopf curve: cycles of zero size"}

    def cpc_classify(x, t):
        amp = float(np.max(np.ptp(problem.orbit(x), axis=0)) / 2)
        if ref.get("amp0") and amp < 0.05 * ref["amp0"]:
            return None, {}  # the reversal at a generalised Hopf end, not a cusp of cycles
        # the fold coefficient b there (zero at a cusp of cycles) and at the curve's start; and the
        # parameter-plane velocity (zero at a cusp: the curve turns back)
        nf_value(x)
        nf = nf_memo[x.tobytes()]
        data = {"nf_coefficient": nf.coefficient, "nf_status": nf.status, "velocity": velocity(x, t)}
        if ref.get("b0") is not None:
            data["nf_coefficient_start"] = ref["b0"]
        return "CPC", data

    nf_memo = memo.setdefault("nf", {})

    def nf_value(x, t=None):
        """The curve's normal-form coefficient at x (PD: c, NS: Re d, LPC: b; NaN where undefined)."""
        key = x.tobytes()
        if key not in nf_memo:
            theta = None
            if problem.kind == "NS":
                kap = problem.kappa(x)
                theta = math.acos(kap) if -1.0 < kap < 1.0 else None
            if problem.kind == "NS" and theta is None:
                nf_memo[key] = None  # beyond a 1:1 / 1:2 point: a neutral saddle, no torus coefficient
            else:
                nf_memo[key] = cycle_normal_form(problem.model, problem.kind, problem.orbit(x), problem.period(x),
                                                 problem.pvec(x), problem.coll.mesh, problem.m, theta=theta)
        nf = nf_memo[key]
        return nf.coefficient if nf is not None and nf.success else math.nan

    def nf_classify(x, t, label, note):
        nf_value(x)
        nf = nf_memo[x.tobytes()]
        return label, {"nf_coefficient": nf.coefficient, "nf_method": nf.method, "note": note}

    kap_i = problem.Nn + 1 if problem.kind == "NS" else None

    def kappa_velocity(x, t):
        # d kappa / ds along the curve: changes sign where kappa turns (e.g. where the pair touches -1
        # or +1 and returns along the unit circle without leaving it). Only turns near kappa = +-1
        # matter: for |kappa| < 0.8 the sign of the reference tangent's kappa component stands in
        # (no tangent solve there)
        if abs(problem.kappa(x)) < 0.8:
            return 1.0 if t[kap_i] >= 0 else -1.0
        return float(tangent_at(problem, x, t)[kap_i])

    def touch_classify(x, t):
        kap = problem.kappa(x)
        for label, target in (("R2", -1.0), ("R1", 1.0)):
            if abs(kap - target) < 1e-6:
                return label, {"case": "touching", "kappa": kap,
                               "note": f"the multiplier pair reaches {target:+g} and returns along the unit "
                                       "circle (kappa turns at the value; it never leaves the circle)"}
        return None, {}  # kappa turns elsewhere: nothing special

    def cross_classify(x, t, label, target):
        # kappa = cos theta crosses +-1: beyond it the pair is real with product 1 (a neutral saddle)
        fl = problem.floquet(x)
        mu = np.asarray(fl.multipliers)
        k = np.argsort(np.abs(mu - target))[:2]
        return label, {"case": "crossing", "kappa": problem.kappa(x), "pair_product": complex(np.prod(mu[k])),
                       "note": f"the pair meets at {target:+g} and leaves the unit circle as a real pair "
                               "(product 1) on the other side"}

    if ref["dev"] is not None:
        ref["amp0"] = float(np.max(np.ptp(problem.orbit(problem.x_ref), axis=0)) / 2)
        if problem.kind == "LPC":
            ref["b0"] = nf_value(problem.x_ref)
    problem.on_update = lambda x: ref.__setitem__("dev", deviation(x))
    kind = problem.kind
    tests = []
    if kind == "NS":
        def ns_rest(x):
            key = x.tobytes()
            if memo.get("key") != key:
                fl = problem.floquet(x)
                mu = np.asarray(fl.multipliers)
                kap = problem.kappa(x)
                target = kap + 1j * np.sqrt(max(0.0, 1.0 - kap * kap))
                k1 = int(np.argmin(np.abs(mu - target)))
                k2 = int(np.argmin(np.abs(mu - np.conj(target)) + (np.arange(mu.size) == k1) * 1e300))
                memo["key"], memo["fl"] = key, fl
                memo["rest"] = np.delete(mu, [k1, k2])
            return memo["rest"]

        def pair_rest(x, t):
            r = ns_rest(x)
            iu, ju = np.triu_indices(len(r), 1)
            return norm_prod(r[iu] * r[ju] - 1.0) if iu.size else 1.0

        tests += [TestFunction("R1", lambda x, t: problem.kappa(x) - 1.0, lambda x, t: cross_classify(x, t, "R1", 1.0),
                               0),
                  TestFunction("R2", lambda x, t: problem.kappa(x) + 1.0,
                               lambda x, t: cross_classify(x, t, "R2", -1.0), 0),
                  TestFunction("R2", kappa_velocity, touch_classify, 0),
                  TestFunction("R3", lambda x, t: problem.kappa(x) + 0.5, lambda x, t: ("R3", {}), 0),
                  TestFunction("R4", lambda x, t: problem.kappa(x), lambda x, t: ("R4", {}), 0),
                  TestFunction("LPNS", lambda x, t: norm_prod(ns_rest(x) - 1.0), lambda x, t: ("LPNS", {}), 0),
                  TestFunction("PDNS", lambda x, t: norm_prod(ns_rest(x) + 1.0), lambda x, t: ("PDNS", {}), 0),
                  TestFunction("NSNS", pair_rest, lambda x, t: torus_classify_rest(x, "NSNS"), 0),
                  TestFunction("CH", nf_value, lambda x, t: nf_classify(
                      x, t, "CH", "Chenciner point: Re d changes sign (the second Lyapunov coefficient of the "
                                  "torus, which decides the side of the fold of tori, is not computed)"), 0)]
    elif kind == "LPC":
        tests += [TestFunction("GH", shrink, lambda x, t: shrink_classify(x, t), 0, terminal=True),
                  TestFunction("R1", plus1, lambda x, t: ("R1", {}), 0),
                  TestFunction("LPPD", minus1, lambda x, t: ("LPPD", {}), 0),
                  TestFunction("LPNS", torus, lambda x, t: torus_classify(x, t, "LPNS"), 0),
                  TestFunction("CPC", nf_value, cpc_classify, 0)]
    else:
        tests += [TestFunction("R2", minus1, lambda x, t: ("R2", {}), 0),
                  TestFunction("LPPD", plus1, lambda x, t: ("LPPD", {}), 0),
                  TestFunction("PDNS", torus, lambda x, t: torus_classify(x, t, "PDNS"), 0),
                  TestFunction("GPD", nf_value, lambda x, t: nf_classify(
                      x, t, "GPD", "generalised period doubling: the PD coefficient c changes sign (the "
                                   "fifth-order coefficient, which decides the side of the fold of doubled "
                                   "cycles, is not computed)"), 0)]
    for name, idx, value in stops:
        tests.append(TestFunction("UZ", lambda x, t, i=idx, v=value: float(x[i] - v),
                                  lambda x, t, nm=name, v=value: ("UZ", {"stop": nm, "value": v}), 0))
    return tests


#: distance from the critical multiplier (+1 at LPC, -1 at PD) within which a second nontrivial
#: multiplier makes :func:`continue_cycle_codim2` check the genericity on a mesh twice as fine
GENERIC_SUSPECT = 0.1


def _mesh_resolved_near(model, point, problem, x1, param, param2, opts, crit, generic_tol):
    """How many nontrivial multipliers sit at ``crit``, decided on the doubled mesh.

    At a degenerate fold (several multipliers at +1 in exact arithmetic: a Jordan block, e.g. the
    time-reversal-symmetric fold of the LMG dimer's normal-state cycles) the collocation splits the
    cluster by far more than its error on a simple multiplier: about 1e-2 at NTST 10 and 2e-3 at
    NTST 20, so a fixed ``generic_tol`` calls the coarse fold generic. The corrected point is
    corrected again on the mesh with every interval halved; a multiplier counts as at ``crit`` when
    its distance there is below ``generic_tol`` or below twice the change the refinement made to it
    (the k-th smallest distance on each mesh compared: the distance is not resolved by the mesh).
    A genuinely separate multiplier moves by the collocation error only (orders below its
    distance). Returns (count, explanation), or None when the refined system does not converge
    (the coarse decision stands).
    """
    from dataclasses import replace

    from bifurcate.continuation.pseudo_arclength import correct
    from bifurcate.cycles.collocation import Collocation

    mesh = problem.coll.mesh
    fine = np.sort(np.concatenate([mesh, 0.5 * (mesh[:-1] + mesh[1:])]))
    U = problem.orbit(x1)
    Uf = problem.coll.sample(U, Collocation(model, problem.pvec(x1), problem.i1, fine, problem.m).times())
    allp = model.unpack_params(problem.pvec(x1))
    fpoint = replace(point, param=float(x1[-2]), params=allp,
                     data={**point.data, "orbit": Uf, "mesh": fine, "period": problem.period(x1)})
    try:
        fprob, xf0 = _curve_problem(model, fpoint, param, param2, opts.fd_step)
        fprob.init_borders(xf0)
        xf, ok, _ = correct(fprob, xf0, np.zeros(xf0.size), xf0, 0.0, opts.newton_tol, 3 * opts.newton_maxiter,
                            fixed=(xf0.size - 1, float(xf0[-1])))
        if not ok:
            return None
        fprob.update(xf)
        mu_f = np.asarray(fprob.floquet(xf).multipliers)
    except (FloatingPointError, ValueError, np.linalg.LinAlgError):
        return None
    mu_c = np.asarray(problem.floquet(x1).multipliers)
    if mu_c.size != mu_f.size:
        return None
    # the k-th smallest distance to crit on both meshes (no matching of individual multipliers needed)
    dist = np.sort(np.abs(mu_f - crit))
    change = np.abs(dist - np.sort(np.abs(mu_c - crit)))
    at = (dist < generic_tol) | (dist < 2.0 * change)
    n = int(np.sum(at))
    why = (f"(decided on the doubled mesh, NTST {len(fine) - 1}: multipliers {np.round(mu_f, 6).tolist()}, "
           f"sorted distances to {crit:+g} {np.array2string(dist, precision=2)} against their change from NTST "
           f"{len(mesh) - 1} {np.array2string(change, precision=2)}: a distance the mesh does not resolve counts "
           f"as at {crit:+g}) ")
    return n, why


def _curve_problem(model, point, param, param2, fd_step):
    from bifurcate.cycles.codim2_problems import LPCProblem, NSProblem, PDProblem

    for key in ("orbit", "mesh", "ncol", "period"):
        if key not in point.data:
            raise ValueError(f"expected a located point of a cycle branch (data[{key!r}] missing); got a "
                             f"{point.kind!r} point with data keys {sorted(point.data)}")
    i1, i2 = model.param_index(param), model.param_index(param2)
    if i1 == i2:
        raise ValueError(f"expected two different parameters, got {param!r} twice")
    p = model.pack_params({k: v for k, v in point.params.items() if k not in model.fixed})
    cls = {"LPC": LPCProblem, "PD": PDProblem, "NS": NSProblem}[point.kind]
    U0 = np.asarray(point.data["orbit"], float)
    problem = cls(model, p, i1, i2, point.data["mesh"], int(point.data["ncol"]), U0, fd_step)
    extra = ()
    if point.kind == "NS":
        mu = np.asarray(point.eigenvalues if point.eigenvalues is not None else [], complex)[1:]
        cand = mu[np.abs(mu.imag) > 1e-8]
        if not cand.size:
            raise ValueError("expected the NS point to carry its Floquet multipliers (a complex pair on the unit "
                             "circle)")
        z = cand[int(np.argmin(np.abs(np.abs(cand) - 1.0)))]
        extra = (float(z.real / abs(z)),)
    x0 = problem.pack(U0, float(point.data["period"]), p[i1], p[i2], extra)
    return problem, x0


def continue_cycle_codim2(model: Model, point, param2: str, *, param: str | None = None, options=None,
                          bounds: Mapping[str, tuple[float, float]] | None = None, bidirectional: bool = True,
                          stops: Mapping[str, Iterable[float]] | None = None, generic_tol: float = 1e-3,
                          **option_overrides):
    """Continue a fold (LPC), flip (PD) or torus bifurcation (NS) of cycles in two parameters.

    Parameters
    ----------
    model : Model
    point : BifurcationPoint
        A located LPC, PD or NS point of a cycle branch (``CycleBranch.special("PD")[0]``); its
        ``data`` carries the orbit, mesh, ``ncol`` and period (and, for NS, its multipliers).
    param2 : str
        The second free parameter.
    param : str, optional
        The branch parameter of ``point`` (default ``point.data["param_name"]``).
    options : ContinuationOptions, optional
        Step control of the core (any subclass, e.g. a ``CycleOptions``, is read by its core
        fields; the mesh comes from ``point``); ``p_min``/``p_max`` bound ``param2``. Keyword
        arguments override fields (e.g. ``ds=0.02, max_steps=200``). The arclength is measured in the
        L2-in-time norm of the orbit plus the period and the two parameters.
    bounds : mapping name -> (lo, hi), optional
        Bounds for either parameter.
    bidirectional : bool
        Continue both ways from the point and join the two halves.
    stops : mapping name -> values, optional
        Values of either parameter at which a point is located on the curve (label ``UZ``), e.g.
        ``{"J": [1.2, 1.5]}``.
    generic_tol : float
        A nontrivial multiplier within this distance of the critical one (+1 for LPC, -1 for PD)
        besides the critical one makes the start non-generic (status -6). A second multiplier
        within :data:`GENERIC_SUSPECT` is decided on the doubled mesh: it also counts when its
        distance is below twice the change the refinement made to it.

    Returns
    -------
    CycleBranch
        ``kind`` "LPC", "PD" or "NS", ``param`` the first parameter and ``columns[param2]`` the
        second, ``columns["period"]``, ``columns["arclength"]`` (NS: ``columns["kappa"]``, cos theta); ``eigenvalues`` the Floquet multipliers
        (trivial first); ``orbits`` the cycles; ``points`` the codimension-two points (see the
        module docstring) and the ``UZ`` stops, each with both parameters in ``params``.
        ``status`` 0 on success, negative with a message otherwise (see :data:`CURVE_STATUS`).

    References
    ----------
    Doedel, Govaerts, Kuznetsov, SIAM J. Numer. Anal. 41 (2003) 401-435; Kuznetsov, Elements of
    Applied Bifurcation Theory (3rd ed.), Sec. 10.3.
    """
    import math
    import time

    from bifurcate.continuation.codim2 import _merge
    from bifurcate.continuation.options import ContinuationOptions, options_with
    from bifurcate.continuation.pseudo_arclength import continue_curve, correct, two_parameter_bounds
    from bifurcate.cycles.continuation import CycleBranch
    from bifurcate.results import BifurcationPoint

    t_start = time.perf_counter()
    if not isinstance(model, Model):
        raise TypeError(f"expected a Model, got {type(model).__name__}")
    if not isinstance(point, BifurcationPoint):
        raise TypeError(f"expected a BifurcationPoint of a cycle branch, got {type(point).__name__}")
    if point.kind not in ("LPC", "PD", "NS"):
        raise ValueError(f"expected an LPC, PD or NS point of a cycle branch, got {point.kind!r}")
    param = param or point.data.get("param_name")
    if param is None:
        raise ValueError("expected the first parameter: pass param=... (the point has no 'param_name')")
    opts = options_with(options, option_overrides, lambda: ContinuationOptions(ds=0.01, ds_max=0.05, newton_tol=1e-9,
                                                                              locate_tol=1e-10))
    problem, x0 = _curve_problem(model, point, param, param2, opts.fd_step)
    nx = x0.size
    index_of, bnds = two_parameter_bounds(nx, param, param2, opts, bounds)
    stop_list = []
    for k, vals in (stops or {}).items():
        if k not in index_of:
            raise KeyError(f"stops: expected {param!r} or {param2!r}, got {k!r}")
        stop_list += [(k, index_of[k], float(v)) for v in np.atleast_1d(vals)]
    fixed_params = {k: v for k, v in model.params({k: v for k, v in point.params.items()
                                                   if k not in model.fixed}).items() if k not in (param, param2)}

    def fail(status, message, xs):
        return _assemble_curve(model, problem, np.atleast_2d(xs), param, param2, fixed_params, (), status, message,
                               opts, {"wall_time": time.perf_counter() - t_start}, CycleBranch)

    # land exactly on the curve at the point's second parameter
    problem.init_borders(x0)
    x1, ok, _ = correct(problem, x0, np.zeros(nx), x0, 0.0, opts.newton_tol, 3 * opts.newton_maxiter,
                        fixed=(nx - 1, float(x0[-1])))
    if not ok:
        return fail(-4, f"{CURVE_STATUS[-4]} (Newton on the augmented system did not converge from the "
                        f"located {point.kind} point at {param} = {point.param:.10g})", x0)
    problem.update(x1)
    # genericity: exactly one nontrivial multiplier at the critical value
    fl = problem.floquet(x1)
    crit = problem.critical_multiplier()
    generic_note = ""
    if crit is None:  # NS: a complex pair on the unit circle, nothing else there
        near = int(np.sum(np.abs(np.abs(fl.multipliers) - 1.0) < generic_tol)) - 1
        crit = complex(problem.kappa(x1), math.sqrt(max(0.0, 1 - problem.kappa(x1) ** 2)))
    else:
        near = int(np.sum(np.abs(fl.multipliers - crit) < generic_tol))
        if near == 1:
            # a multiplier close to the critical one (within GENERIC_SUSPECT) may sit exactly at it, the
            # coarse mesh splitting a degenerate cluster by more than generic_tol: decide on a mesh twice
            # as fine whether its distance is resolved (see _mesh_resolved_near)
            dist = np.abs(fl.multipliers - crit)
            if int(np.sum(dist < GENERIC_SUSPECT)) > 1:
                resolved = _mesh_resolved_near(model, point, problem, x1, param, param2, opts, crit,
                                               generic_tol)
                if resolved is not None:
                    near, why = resolved
                    if near != 1:
                        generic_note = why
    if near != 1:
        return fail(-6, f"{CURVE_STATUS[-6]}: {near} nontrivial multipliers within {generic_tol:g} of {crit:+g} "
                        f"{generic_note}"
                        f"at {param} = {x1[-2]:.10g}, {param2} = {x1[-1]:.10g} (multipliers "
                        f"{np.round(fl.multipliers, 6).tolist()}); the {point.kind} is degenerate (e.g. a family "
                        f"of cycles with a time-reversal symmetry, whose fold is not a generic codimension-one "
                        f"point), so the minimally augmented system is singular and no curve is continued",
                    x1)
    # tangent: [G_x; r] t = e, r a fixed random row (cheaper than an SVD of the dense Jacobian)
    from bifurcate.continuation.pseudo_arclength import bordered_solve

    r = np.random.default_rng(12345).standard_normal(nx)
    e = np.zeros(nx)
    e[-1] = 1.0
    t0 = bordered_solve(problem, problem.jacobian(x1), r, e)
    t0 /= np.linalg.norm(t0)
    direction = math.copysign(1.0, opts.ds)
    if (t0[-1] if abs(t0[-1]) > 1e-8 else t0[-2]) * direction < 0:
        t0 = -t0
    memo: dict = {}
    problem.x_ref = x1.copy()
    tests = _tests_for(problem, memo, stop_list) if (opts.detect_codim2 or stop_list) else []
    if not opts.detect_codim2:
        tests = [tf for tf in tests if tf.kind == "UZ"]
    saved = problem.save_state()
    fwd = continue_curve(problem, x1, t0, opts, tests, bounds=bnds)
    back = None
    if bidirectional:
        problem.restore_state(saved)
        problem.update(x1)
        back = continue_curve(problem, x1, -t0, opts, tests, bounds=bnds)
    xs, sig, events, _ = _merge(back, fwd)
    status = fwd.status if back is None else min(fwd.status, back.status)
    message = fwd.message if back is None else f"forward: {fwd.message}; backward: {back.message}"
    points = []
    for ev in events:
        tf = tests[ev["test"]]
        x = ev["x"]
        lab, data = tf.classify(x, ev["t"]) if tf.classify else (tf.kind, {})
        if lab is None:
            continue
        fl = problem.floquet(x)
        row = int(ev["row"])
        U = problem.orbit(x)
        data = dict(data)
        data.update(param_name=param, param2=param2, curve=problem.kind, period=problem.period(x), orbit=U.copy(),
                    sigma=float(ev["sigma"]),
                    mesh=problem.coll.mesh.copy(), ncol=problem.m)
        prec = float(max(abs(ev["x_hi"][-1] - ev["x_lo"][-1]), abs(ev["x_hi"][-2] - ev["x_lo"][-2])))
        allp = model.unpack_params(problem.pvec(x))
        points.append(BifurcationPoint(kind=lab, param=float(x[-2]), state=U[0].copy(), params=allp,
                                       index=max(0, min(row, len(xs) - 2)), located=bool(ev["located"]),
                                       precision=prec,
                                       bracket=(float(xs[max(0, min(row, len(xs) - 1)), -2]),
                                                float(xs[max(0, min(row + 1, len(xs) - 1)), -2])),
                                       eigenvalues=fl.all, data=data))
    points.sort(key=lambda q: (q.index, q.data.get("sigma", 0.0)))
    stats = {"forward": fwd.stats, "backward": back.stats if back else None,
             "wall_time": time.perf_counter() - t_start}
    return _assemble_curve(model, problem, xs, param, param2, fixed_params, tuple(points), status, message, opts,
                           stats, CycleBranch, sig, memo.get("nf"))


def _assemble_curve(model, problem, xs, param, param2, fixed, points, status, message, opts, stats, cls,
                    sig=None, nf_memo=None):
    m = len(xs)
    d = model.dim
    ev = np.full((m, d), np.nan + 0j)
    n_unst = np.full(m, -1, dtype=int)  # -1: multipliers not available at that row (not stable, not unstable)
    orbits, states, periods = [], np.empty((m, model.n)), np.empty(m)
    for i, x in enumerate(xs):
        U = problem.orbit(x)
        states[i] = U[0]
        periods[i] = problem.period(x)
        orbits.append((problem.coll.times(), U.copy()))
        try:
            fl = problem.floquet(x)
            ev[i, : fl.all.size] = fl.all
            n_unst[i] = fl.n_unstable
        except (FloatingPointError, ValueError, np.linalg.LinAlgError):
            continue  # the row keeps NaN multipliers and n_unstable -1: never reported stable
    cols = {param2: xs[:, -1].copy(), "period": periods,
            "arclength": np.zeros(m) if sig is None else np.asarray(sig, float)}
    if problem.kind == "NS":
        cols["kappa"] = np.array([problem.kappa(x) for x in xs])
    if nf_memo is not None:
        # the normal-form coefficient of the curve's bifurcation at each row (LPC: b, PD: c, NS: Re d),
        # as the CPC / GPD / CH test functions evaluated it; NaN where not evaluated or undefined
        nfs = [nf_memo.get(x.tobytes()) for x in xs]
        cols["nf_coefficient"] = np.array([nf.coefficient if nf is not None else np.nan for nf in nfs])
    return cls(model=model, param=param, kind=problem.kind, params=fixed, param_values=xs[:, -2].copy(),
               states=states, eigenvalues=ev, stable=n_unst == 0, n_unstable=n_unst, points=points, columns=cols,
               status=status, message=message, options=opts, stats=stats, orbits=tuple(orbits),
               meshes=tuple(problem.coll.mesh.copy() for _ in range(m)), ncol=problem.m)
