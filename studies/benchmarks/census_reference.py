"""Reference for the attractor census: many initial conditions, long windows, tight tolerances.

An independent, deliberately plain computation at a few LMG dimer points, against which the
census at its defaults is compared (kinds of attracting sets with multiplicity, and Z_B averaged
over the attracting sets):

* ``n_ref`` initial conditions (default 96), a DOP853 transient of 3000 at rtol 1e-10;
* trajectories at rest (window standard deviation < 1e-8) on a stable equilibrium: FP of that
  equilibrium (exact);
* the others: RK4 variational integration at dt = 0.005 over one fixed window of 3000 (no
  convergence control), then fixed thresholds: l1 > 0.05 -> CH (sum < -0.05: attracting), all
  |l| < 0.02 -> neutral (not attracting), |l1| < 0.01 and l2 < -0.01 -> LC, two |l| < 0.01 with
  sum < -0.05 -> QP; anything else -> unresolved;
* sets: FP by equilibrium, LC / QP by their window means rounded to 0.02, CH by the sign pattern
  of the means of the X and Y components (Z2 images apart); Z_B averaged over attracting
  trajectories.

Run: ``python -m studies.benchmarks.census_reference [--n-ref 96] [--n-initial 64] [--out FILE]``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from analysis.attractors import census
from bifurcate.equilibria import find_equilibria
from bifurcate.integrate import integrate_ensemble
from bifurcate.lyapunov import lyapunov_spectra
from bifurcate.models import LMG_DIMER

POINTS = [(0.0, 0.3), (1.5, 0.0), (1.5, 0.5), (1.5, 0.49), (0.0, 0.8), (1.5, 1.0), (0.5, 0.6), (-1.0, 0.6),
          (1.0, 1.2), (-1.5, 0.9)]


def reference(p: dict, n_ref: int, seed: int) -> dict:
    M = LMG_DIMER
    Y0 = M.random_states(n_ref, np.random.default_rng(seed))
    ens = integrate_ensemble(M, [p], Y0, t_end=3000.0, t_transient=2000.0, rtol=1e-10, atol=1e-12)
    eq = find_equilibria(M, p, n_seeds=200)
    kinds = np.full(n_ref, "?", dtype=object)
    key = np.full(n_ref, "", dtype=object)
    zb = np.full(n_ref, np.nan)
    att = np.zeros(n_ref, bool)
    rest = np.all(ens.std[0] < 1e-8, axis=1)
    for i in np.nonzero(rest)[0]:
        d = np.max(np.abs(eq.states - ens.y_final[0, i]), axis=1)
        k = int(np.argmin(d))
        if d[k] < 1e-6 and eq.stable[k]:
            kinds[i], key[i], zb[i], att[i] = "FP", f"eq{k}", eq.states[k, 5], True
    todo = np.nonzero(kinds == "?")[0]
    if todo.size:
        ls = lyapunov_spectra(M, [p], ens.y_final[0, todo], t_transient=0.0, t_align=50.0, t_total=3000.0, dt=0.005,
                              n_blocks=30, keep_samples=False)
        for a, i in enumerate(todo):
            lam = ls.exponents[a]
            s = lam.sum()
            zb[i] = ls.mean[a, 5]
            m = ls.mean[a]
            if not np.all(np.isfinite(lam)):
                continue
            if lam[0] > 0.05:
                kinds[i] = "CH" if s < -0.05 else "CHcons"
                att[i] = s < -0.05
                key[i] = "CH" + "".join("+" if v > 0.05 else ("-" if v < -0.05 else "0") for v in m[[0, 1, 3, 4]])
            elif np.all(np.abs(lam) < 0.02):
                kinds[i] = "NEUTRAL"
            elif abs(lam[0]) < 0.01 and lam[1] < -0.01:
                kinds[i], att[i] = "LC", True
                key[i] = "LC" + ",".join(f"{v:.2f}" for v in np.round(m / 0.02) * 0.02)
            elif abs(lam[0]) < 0.01 and abs(lam[1]) < 0.01 and s < -0.05:
                kinds[i], att[i] = "QP", True
                key[i] = "QP" + ",".join(f"{v:.2f}" for v in np.round(m / 0.02) * 0.02)
    sets = {}
    for i in range(n_ref):
        if att[i]:
            sets.setdefault(key[i], kinds[i])
    # stable equilibria no initial condition reached are attractors too (exactly known)
    for k in np.nonzero(eq.stable)[0]:
        sets.setdefault(f"eq{k}", "FP")
    counts = {}
    for v in sets.values():
        counts[v] = counts.get(v, 0) + 1
    return {"kind_counts": counts, "att_ZB": float(np.nanmean(zb[att])) if att.any() else float("nan"),
            "att_ZB_sem": float(np.nanstd(zb[att]) / np.sqrt(max(att.sum(), 1))) if att.any() else float("nan"),
            "shares": {k: float(np.mean(kinds == k)) for k in set(kinds.tolist())}}


def census_counts(res) -> dict:
    counts = {}
    for a in res.attractors:
        if a.attracting:
            counts[a.kind] = counts.get(a.kind, 0) + 1
    return counts


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-ref", type=int, default=96)
    ap.add_argument("--n-initial", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--points", default=None, help="J,lam;J,lam;... (default: the issue's points)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    pts = POINTS if a.points is None else [tuple(float(v) for v in s.split(",")) for s in a.points.split(";")]
    out = []
    n_agree = 0
    for J, lam in pts:
        p = {"J": J, "lam": lam}
        t0 = time.perf_counter()
        ref = reference(p, a.n_ref, a.seed + 1000)
        t_ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = census(LMG_DIMER, p, n_initial=a.n_initial, seed=a.seed)
        t_c = time.perf_counter() - t0
        got = census_counts(res)
        v, e = res.attractor_average("ZB")
        kinds_ok = got == ref["kind_counts"]
        zb_ok = bool(np.isfinite(v) and abs(v - ref["att_ZB"]) <= 3 * np.hypot(e, ref["att_ZB_sem"]) + 0.02) or \
            (not np.isfinite(v) and not np.isfinite(ref["att_ZB"]))
        n_agree += kinds_ok and zb_ok
        row = {"J": J, "lam": lam, "phase": res.phase, "census_kinds": got, "reference_kinds": ref["kind_counts"],
               "kinds_agree": kinds_ok, "att_ZB": v, "att_ZB_err": e, "reference_att_ZB": ref["att_ZB"],
               "reference_att_ZB_sem": ref["att_ZB_sem"], "ZB_agrees": zb_ok,
               "census_frac_neutral": res.summary_row()["frac_neutral"],
               "census_frac_conservative": res.summary_row()["frac_conservative"],
               "census_frac_undecided": res.fraction_undecided, "reference_shares": ref["shares"],
               "wall_reference_s": round(t_ref, 1), "wall_census_s": round(t_c, 1)}
        out.append(row)
        print(json.dumps(row), flush=True)
    summary = {"points": len(pts), "agree": n_agree, "rows": out}
    print(f"kinds and attractor-averaged Z_B agree at {n_agree} of {len(pts)} points")
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(summary, fh, indent=2, default=float)
    return summary


if __name__ == "__main__":
    main()
