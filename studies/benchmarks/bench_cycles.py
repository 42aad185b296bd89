"""Benchmark: a 200-point cycle branch with Floquet multipliers, ours vs AUTO-07p on the same problem.

Problem: the LMG dimer at J = 1 (g = 1, gamma = 0.5), the cycles born at the Hopf point of the
spin-B ferromagnetic fixed point, continued in lam. Both codes use NTST = 60, NCOL = 4, a fixed
step ds = ds_max = 0.01, multipliers at every point and detection of LPC / PD / NS. AUTO-07p runs
through ``bifurcate.backends.auto07p`` (bifpy, compiled right-hand side with exact Jacobian); its
timing is skipped if bifpy is not installed.

Fairness. Both codes measure a step by the L2 norm of the orbit over the unit interval and the
parameter, the period with no weight (AUTO's default THL(PAR(11)) = 0; ours ``period_weight=0``),
so the same ds covers the same stretch: in 200 points both reach the homoclinic end (lam ~ 0.8171,
period 22 for ours, 25 for AUTO). Two comparisons are printed:

* ``per_point``: wall time per continuation point at the same NTST / NCOL, 200 points each (the
  work per point of a fixed-mesh collocation step does not depend on the period);
* ``same_stretch``: both codes stopped at the same period (``--stretch-period``, default 5.73:
  the Hopf point to lam ~ 0.809), each with its own step control at ds = ds_max = 0.01: steps
  and wall seconds of each, and the ratios ours / AUTO.

The runs are alternated (ours, AUTO, ours, AUTO, ...) ``--repeats`` times and the medians are
reported: on a shared machine only ratios measured in the same run mean anything.

Ours runs without the periodic normal-form coefficients (``normal_forms=False``: AUTO computes none);
``ours.ms_per_point_with_normal_forms`` is the same branch with them (our default).

Also printed: the special points of both codes on this branch and on the normal-state branch at
J = 0.2 (the LPC), as a cross-check.

Run: ``python -m studies.benchmarks.bench_cycles [--n-points 200] [--repeats 3] [--stretch-period 5.73]
[--out FILE]``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.optimize import brentq

from bifurcate.cycles import continue_cycles
from bifurcate.equilibria import newton_equilibrium
from bifurcate.models import LMG_DIMER, NORMAL_STATE


def broken_hopf(J: float = 1.0):
    """Hopf point of the spin-B ferromagnetic fixed point, located by equilibrium continuation in
    lam from lam = 0; returns (state, lam, omega)."""
    from bifurcate.continuation import continue_equilibria

    y = newton_equilibrium(LMG_DIMER, [0, 0, -1, -0.8155, -0.2185, 0.5359], {"J": J, "lam": 0.0})
    hb = continue_equilibria(LMG_DIMER, y, param="lam", params={"J": J, "lam": 0.0}, p_min=0.0,
                             p_max=1.0).special("HB")[0]
    return hb.state, hb.param, hb.data["omega"]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-points", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--stretch-period", type=float, default=5.73,
                    help="the same-stretch comparison runs from the Hopf point to this period")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    res: dict = {"n_points_requested": a.n_points, "ntst": 60, "ncol": 4, "repeats": a.repeats}

    yh, lh, om = broken_hopf(1.0)
    start = (yh, {"J": 1.0, "lam": lh}, "lam", om)
    continue_cycles(LMG_DIMER, start, max_points=3, ntst=60)  # compile / warm the kernel cache
    # AUTO computes no normal forms of cycles: the like-for-like runs leave them out, and a run with
    # them (our default) is timed alongside
    opts = dict(ntst=60, ncol=4, ds=0.01, ds_max=0.01, max_points=a.n_points, max_period_growth=1e3,
                normal_forms=False)

    def ours(max_period=None, normal_forms=False):
        t0 = time.perf_counter()
        kw = dict(opts, max_points=10 * a.n_points, max_period=max_period) if max_period else dict(opts)
        kw["normal_forms"] = normal_forms
        br = continue_cycles(LMG_DIMER, start, **kw)
        return br, time.perf_counter() - t0

    auto = None
    try:
        from bifurcate.backends import auto07p as A

        if not A.available():
            raise RuntimeError(A.INSTALL_HINT)
        prob = A.LMG_DIMER_AUTO
        base = {"g": 1.0, "gamma": 0.5, "J": 1.0, "lam": 0.0}
        yb = A.newton_equilibrium(prob, yh, dict(base, lam=lh))
        eq = A.auto_equilibria(prob, yb, dict(base, lam=lh - 0.02), "lam", bounds=(-0.01, 1.5))
        s = {"ntst": 60, "ncol": 4, "ds": 0.01, "dsmax": 0.01, "dsmin": 0.01, "nmx": a.n_points}
        A.auto_cycles_from_hopf(eq, bounds=(0.0, 1.5), settings=dict(s, nmx=5))  # warm (compile the problem)

        def auto(max_period=None):
            t0 = time.perf_counter()
            cyc = A.auto_cycles_from_hopf(eq, bounds=(0.0, 1.5), settings=s, max_period=max_period)
            return cyc, time.perf_counter() - t0
    except Exception as exc:  # the oracle is optional
        res["auto"] = {"error": f"{type(exc).__name__}: {exc}"}

    t_ours, t_auto, t_auto_int, t_auto_stretch, n_auto_stretch = [], [], [], [], []
    t_ours_stretch, n_ours_stretch, t_ours_nf = [], [], []
    br = cyc = bs = cs = None
    P = float(a.stretch_period)
    for _ in range(max(1, a.repeats)):
        br, t = ours()
        t_ours.append(t)
        _, t = ours(normal_forms=True)
        t_ours_nf.append(t)
        bs, t = ours(max_period=P)
        t_ours_stretch.append(t)
        n_ours_stretch.append(len(bs))
        if auto is not None:
            cyc, t = auto()
            t_auto.append(t)
            t_auto_int.append(cyc.stats.get("auto_time") or np.nan)
            cs, t = auto(max_period=P)
            t_auto_stretch.append(t)
            n_auto_stretch.append(len(cs.to_frame()))
    med = lambda v: float(np.median(v))  # noqa: E731
    res["ours"] = {"n_points": len(br), "wall_s": med(t_ours), "ms_per_point": 1e3 * med(t_ours) / len(br),
                   "all_wall_s": t_ours, "status": br.status, "message": br.message,
                   "lam_end": float(br.param_values[-1]), "period_end": float(br.columns["period"][-1]),
                   "labels": [(p.kind, p.param, p.data["period"]) for p in br.points],
                   "newton_iters": br.stats["newton_iters"],
                   "floquet_max_trivial_error": float(np.nanmax(br.columns["mu_trivial_err"])),
                   "ms_per_point_with_normal_forms": 1e3 * med(t_ours_nf) / len(br)}
    t0 = time.perf_counter()
    brf = continue_cycles(LMG_DIMER, start, floquet=False, detect=False, **opts)
    t_nf = time.perf_counter() - t0
    res["ours_no_floquet"] = {"n_points": len(brf), "ms_per_point": 1e3 * t_nf / len(brf)}
    if auto is not None:
        fr = cyc.to_frame()
        res["auto"] = {"n_points": len(fr), "wall_s": med(t_auto), "ms_per_point": 1e3 * med(t_auto) / max(len(fr), 1),
                       "all_wall_s": t_auto, "auto_internal_ms_per_point": 1e3 * med(t_auto_int) / max(len(fr), 1),
                       "status": cyc.status, "lam_end": float(fr["lam"].iloc[-1]),
                       "period_end": float(fr["period"].iloc[-1]),
                       "labels": [(str(x["kind"]), float(x["lam"]), float(x["period"]))
                                  for _, x in cyc.points.iterrows()]}
        res["per_point"] = {"ours_ms": res["ours"]["ms_per_point"], "auto_ms": res["auto"]["ms_per_point"],
                            "ratio_ours_over_auto": res["ours"]["ms_per_point"] / res["auto"]["ms_per_point"],
                            "what": "wall ms per point, NTST 60, NCOL 4, multipliers and detection at every point, "
                                    "medians of alternated runs"}
        fs = cs.to_frame()
        n_o, n_a = int(np.median(n_ours_stretch)), int(np.median(n_auto_stretch))
        res["same_stretch"] = {
            "period_stop": P, "ours_points": n_o, "ours_wall_s": med(t_ours_stretch),
            "ours_end": {"lam": float(bs.param_values[-1]), "period": float(bs.columns["period"][-1])},
            "auto_points": n_a, "auto_wall_s": med(t_auto_stretch),
            "auto_end": {"lam": float(fs["lam"].iloc[-1]), "period": float(fs["period"].iloc[-1])},
            "ratio_points_ours_over_auto": n_o / max(n_a, 1),
            "ratio_wall_ours_over_auto": med(t_ours_stretch) / med(t_auto_stretch),
            "what": f"Hopf point to period {P:g} (both stopped there by max_period), each code with its own "
                    "step control at ds = ds_max = 0.01, multipliers and detection at every point; medians of "
                    "alternated runs"}
    else:
        res["same_stretch"] = {"period_stop": P, "ours_points": int(np.median(n_ours_stretch)),
                               "ours_wall_s": med(t_ours_stretch)}

    # cross-check at J = 0.2 (LPC of the normal-state cycles)
    lead = lambda v: LMG_DIMER.tangent_eigenvalues(NORMAL_STATE, {"J": 0.2, "lam": v})[0]  # noqa: E731
    l2 = brentq(lambda v: lead(v).real, 0.3, 1.0, xtol=1e-14)
    b2 = continue_cycles(LMG_DIMER, (NORMAL_STATE, {"J": 0.2, "lam": l2}, "lam", abs(lead(l2).imag)))
    res["J0.2"] = {"hopf_lam": l2, "labels": [(p.kind, p.param, p.data["period"]) for p in b2.points],
                   "status": b2.status, "message": b2.message}
    print(json.dumps(res, indent=1, default=str))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(res, fh, indent=1, default=str)
    return res


if __name__ == "__main__":
    main()
