"""Benchmark: cost of the converged census per point against today's fixed windows, in one run.

Over a (J, lam) grid of the LMG dimer (gamma = g / 2; default 9 x 7 points over Fig. 2's
J in [-2, 2], lam in [0, 1.5]), with the same ``n_initial`` initial conditions per point:

* ``converged``: :func:`analysis.attractors.census` at its defaults (DOP853 transient of 200,
  settlement on equilibria, variational integration from 100 up to a cap of 1600, extended only
  where a label is undecided);
* ``fixed``: what the fixed-window census integrated for every initial condition: the Lyapunov
  kernels (fixed-step RK4 at dt = 0.01, as it ran) over a transient of 200, an alignment of 20 and
  a window of 500, no classification (a lower bound of its cost).

The two are alternated point by point (A/B in the same run, the machine is shared). Reported:
median and 90th percentile of the wall time per point, the integrated time per trajectory, and
one batched sweep (:func:`analysis.phase_diagrams.phase_diagram`, in-process, numba threads) over
the same grid, whose wall time per point extrapolates to the full Fig. 2 (201 x 201 x 16).

Run: ``python -m studies.benchmarks.bench_census [--nJ 9] [--nlam 7] [--n-initial 16] [--out FILE]``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from analysis.attractors import census
from analysis.phase_diagrams import phase_diagram
from bifurcate.lyapunov import lyapunov_spectra
from bifurcate.models import LMG_DIMER

FIG2_POINTS = 201 * 201


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nJ", type=int, default=9)
    ap.add_argument("--nlam", type=int, default=7)
    ap.add_argument("--n-initial", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    Js = np.linspace(-2.0, 2.0, a.nJ)
    lams = np.linspace(0.0, 1.5, a.nlam)
    # compile / load the caches outside the timings
    census(LMG_DIMER, {"J": 1.5, "lam": 1.0}, n_initial=2, seed=0, t_cap=200.0)
    lyapunov_spectra(LMG_DIMER, [{"J": 1.5, "lam": 1.0}], LMG_DIMER.random_states(2, 0), t_transient=1.0, t_total=2.0)
    rows = []
    for i, lam in enumerate(lams):
        for j, J in enumerate(Js):
            p = {"J": float(J), "lam": float(lam)}
            Y0 = LMG_DIMER.random_states(a.n_initial, np.random.default_rng([a.seed, i, j]))
            order = ("converged", "fixed") if (i + j) % 2 == 0 else ("fixed", "converged")
            r = {"J": float(J), "lam": float(lam)}
            for what in order:
                t0 = time.perf_counter()
                if what == "converged":
                    res = census(LMG_DIMER, p, y0=Y0)
                    r["phase"] = res.phase
                    r["status"] = res.status
                    r["t_per_traj_converged"] = float(res.trajectories["t_integrated"].mean())
                    r["undecided"] = res.fraction_undecided
                else:
                    lyapunov_spectra(LMG_DIMER, [p], Y0, t_transient=200.0, t_align=20.0, t_total=500.0,
                                     method="rk4", dt=0.01, keep_samples=False)
                r[f"wall_{what}"] = time.perf_counter() - t0
            rows.append(r)
            print(f"J={J:+.2f} lam={lam:.2f} {r['phase']:>10s} converged {r['wall_converged']:6.2f} s "
                  f"({r['t_per_traj_converged']:6.0f} per traj)  fixed {r['wall_fixed']:6.2f} s", flush=True)
    wc = np.array([r["wall_converged"] for r in rows])
    wf = np.array([r["wall_fixed"] for r in rows])
    tpt = np.array([r["t_per_traj_converged"] for r in rows])
    t0 = time.perf_counter()
    pdg = phase_diagram(LMG_DIMER, {"J": Js, "lam": lams}, n_initial=a.n_initial, seed=a.seed, progress=False)
    sweep_wall = time.perf_counter() - t0
    per_pt = sweep_wall / len(rows)
    out = {
        "grid": f"{a.nJ} x {a.nlam}", "n_initial": a.n_initial,
        "converged_wall_s_per_point": {"median": float(np.median(wc)), "p90": float(np.percentile(wc, 90)),
                                       "mean": float(wc.mean())},
        "fixed_wall_s_per_point": {"median": float(np.median(wf)), "p90": float(np.percentile(wf, 90)),
                                   "mean": float(wf.mean())},
        "ratio_converged_over_fixed": {"median": float(np.median(wc / wf)), "mean_walls": float(wc.mean() / wf.mean())},
        "integrated_time_per_trajectory": {"converged_median": float(np.median(tpt)),
                                           "converged_p90": float(np.percentile(tpt, 90)), "fixed": 720.0},
        "sweep_wall_s": sweep_wall, "sweep_wall_s_per_point": per_pt,
        "fig2_estimate_s": per_pt * FIG2_POINTS,
        "fig2_estimate_note": "sweep wall per point on this grid x 201^2 (in-process, numba threads of this machine); "
                              "the coarse grid over-weights no region: it samples Fig. 2 uniformly",
        "phases": {ph: int(sum(r["phase"] == ph for r in rows)) for ph in sorted({r["phase"] for r in rows})},
        "sweep_phases": {str(k): int(v) for k, v in pdg.to_frame()["phase"].value_counts().items()},
        "points": rows,
    }
    print(json.dumps({k: v for k, v in out.items() if k != "points"}, indent=2))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main()
