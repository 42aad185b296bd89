"""The census with and without shared measurements, point by point, on a sample of Fig. 2's grid.

``CensusOptions.share_attractors`` lets trajectories of one point that land on one attractor share
one measurement (see :func:`analysis.attractors.census._share_round`). This module draws a fixed
sample of Fig. 2's (J, lam) grid with its initial conditions, runs the census both ways on the
same initial conditions, and compares the answers point by point:

* the phase (:func:`analysis.attractors.census.phase_label`) and the number of attracting sets;
* the basin fraction of every kind (summed over its sets, and the unclassified share) within
  ``z`` combined binomial errors (floor: one initial condition);
* the largest exponent of every attracting set, the sets of the two runs matched by kind and
  nearest mean state, within ``z`` combined standard errors plus the zero band at the cap (a
  zero exponent is only resolved to the band).

The old run is also without the certified fast path (``CensusOptions.certify``, the default of the
new run). With ``--certify`` the two runs are the census with sharing but without certification and
the default census (sharing and the certified fast path,
``certify=True``, :mod:`analysis.attractors.certify`) on the same initial conditions.

Run: ``python -m studies.benchmarks.fig2_compare [--n-points 60] [--seed 11] [--certify] [--out FILE.csv]``
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

KINDS = ("FP", "LC", "QP", "CH", "NEUTRAL", "unclassified")


def fig2_sample(n_points: int, seed: int = 11, *, n: int = 201, J_max: float = 2.0, lam_max: float = 1.5,
                n_initial: int = 16):
    """``n_points`` grid points of Fig. 2 (uniform over the n x n grid, without repetition) and
    their initial conditions (P, n_initial, 6), all drawn from ``seed``."""
    from bifurcate.models import LMG_DIMER

    rng = np.random.default_rng(seed)
    Js = np.linspace(-J_max, J_max, n)
    lams = np.linspace(0.0, lam_max, n)
    flat = rng.choice(n * n, size=n_points, replace=False)
    pts = [{"J": float(Js[k // n]), "lam": float(lams[k % n])} for k in flat]
    Y0 = np.stack([LMG_DIMER.random_states(n_initial, rng) for _ in pts])
    return pts, Y0


def _fractions(r) -> dict:
    row = r.summary_row()
    return {k: float(row[f"frac_{k}"]) for k in KINDS}


def _sets(r) -> list:
    return [a for a in r.attractors if a.attracting and a.n_members > 0]


def compare_points(old: list, new: list, *, z: float = 3.0) -> pd.DataFrame:
    """One row per point: both phases, agreement flags and the largest deviations (in errors)."""
    rows = []
    for a, b in zip(old, new):
        N = a.n_initial
        fa, fb = _fractions(a), _fractions(b)
        dev_basin = 0.0
        for k in KINDS:
            pa, pb = fa[k], fb[k]
            se = np.hypot(np.sqrt(max(pa * (1 - pa), 1.0 / N) / N), np.sqrt(max(pb * (1 - pb), 1.0 / N) / N))
            dev_basin = max(dev_basin, abs(pa - pb) / se)
        band = float(a.options.zero_band(a.options.t_cap))
        dev_exp = 0.0
        unmatched = 0
        sb = _sets(b)
        for s in _sets(a):
            cand = [t for t in sb if t.kind == s.kind]
            if not cand:
                unmatched += 1
                continue
            ms = np.array([s.observables[k] for k in a.model.state_names])
            t = min(cand, key=lambda t: np.max(np.abs(np.array([t.observables[k] for k in a.model.state_names]) - ms)))
            x, y = float(s.exponents[0]), float(t.exponents[0])
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            ex, ey = float(np.nan_to_num(s.exponents_err[0])), float(np.nan_to_num(t.exponents_err[0]))
            dev_exp = max(dev_exp, max(0.0, abs(x - y) - band) / max(np.hypot(ex, ey), 1e-12))
        ta = float(a.trajectories["t_measured"].sum())
        tb = float(b.trajectories["t_measured"].sum())
        rows.append(dict(
            **a.params, phase_old=a.phase, phase_new=b.phase, same_phase=a.phase == b.phase,
            n_att_old=a.n_attractors, n_att_new=b.n_attractors, same_n_att=a.n_attractors == b.n_attractors,
            basin_dev=dev_basin, basin_ok=dev_basin <= z, exp_dev=dev_exp, exp_ok=dev_exp <= z,
            sets_unmatched=unmatched, status_old=a.status, status_new=b.status,
            frac_uncl_old=fa["unclassified"], frac_uncl_new=fb["unclassified"],
            lyap_max_old=a.summary_row()["lyap_max"], lyap_max_new=b.summary_row()["lyap_max"],
            t_measured_old=ta, t_measured_new=tb,
            n_inherited=int((b.trajectories["decision"] == "inherited").sum())))
    return pd.DataFrame(rows)


def run_both(pts, Y0, *, new_options=None, old_options=None, **overrides):
    """The census of ``pts`` from ``Y0`` without shared measurements (looks at doubling lengths),
    or ``old_options``, and with the defaults, or ``new_options`` (A then B, same process); returns
    (old, new, wall_old, wall_new)."""
    from analysis.attractors import census_points
    from analysis.attractors.options import CensusOptions
    from bifurcate.models import LMG_DIMER

    t0 = time.perf_counter()
    old = census_points(LMG_DIMER, pts, Y0, options=old_options or CensusOptions(share_attractors=False, look_factor=2.0,
                                                                                  certify=False, **overrides))
    t1 = time.perf_counter()
    new = census_points(LMG_DIMER, pts, Y0, options=new_options or CensusOptions(**overrides))
    t2 = time.perf_counter()
    return old, new, t1 - t0, t2 - t1


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-points", type=int, default=60)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--n-initial", type=int, default=16)
    ap.add_argument("--look-factor", type=float, default=None, help="look factor of the new run")
    ap.add_argument("--certify", action="store_true",
                    help="compare the census without certification (old) with the certified fast path (new)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    from analysis.attractors.options import CensusOptions

    new_opts = CensusOptions(look_factor=a.look_factor) if a.look_factor else None
    old_opts = None
    if a.certify:
        old_opts, new_opts = CensusOptions(certify=False), CensusOptions(certify=True)
    pts, Y0 = fig2_sample(a.n_points, a.seed, n_initial=a.n_initial)
    old, new, w_old, w_new = run_both(pts[:1], Y0[:1], new_options=new_opts, old_options=old_opts)   # warm up
    old, new, w_old, w_new = run_both(pts, Y0, new_options=new_opts, old_options=old_opts)
    tab = compare_points(old, new)
    pd.set_option("display.width", 250)
    print(tab[["J", "lam", "phase_old", "phase_new", "n_att_old", "n_att_new", "basin_dev", "exp_dev", "frac_uncl_old",
               "frac_uncl_new", "t_measured_old", "t_measured_new", "n_inherited"]].round(3).to_string())
    print(f"wall old {w_old:.1f} s, new {w_new:.1f} s (ratio {w_old / w_new:.2f}); variational time "
          f"{tab.t_measured_old.sum():.0f} -> {tab.t_measured_new.sum():.0f}")
    print(f"same phase {tab.same_phase.mean():.1%}, same number of attractors {tab.same_n_att.mean():.1%}, "
          f"basins within 3 errors {tab.basin_ok.mean():.1%}, exponents within 3 errors {tab.exp_ok.mean():.1%}")
    if a.out:
        tab.to_csv(a.out, index=False)
    return tab


if __name__ == "__main__":
    main()
