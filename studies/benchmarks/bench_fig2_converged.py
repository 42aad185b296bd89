"""Benchmark: cost of Fig. 2 with converged attractor kinds, measured on a random sub-grid, extrapolated.

A uniform random sample of the 201 x 201 (J, lam) grid of Fig. 2 (J in [-J_max, J_max], lam in
[0, lam_max]) goes through the converged census (``analysis.census_points``, default
``CensusOptions``, 16 initial conditions per point, one batched call as a sweep chunk does). The
random sample makes the mean cost per point an unbiased estimate of the full grid's (the cost is very
uneven: settled fixed-point points cost ~0.1 s, chaotic ones up to the cap); its standard error
(bootstrap over points) is reported. Stage breakdown: ``CensusResult.timings`` (equilibria,
transient integration, Lyapunov measurement, grouping).

Extrapolation to the full grid on ``n_cores`` workers assumes perfect parallel scaling (an upper
bound on the speed; the shared machine gives less). Also printed: the cost of a coarse grid
(``--coarse``^2 points) plus refinement of a fraction ``--refine-frac`` of the fine grid's points
(the cells where the phase changes), the budget a refined picture would need.

Run: ``python -m studies.benchmarks.bench_fig2_converged [--n-sample 24] [--seed 7] [--out FILE.json]``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main(argv=None) -> dict:
    from analysis.attractors import census_points
    from bifurcate.models import LMG_DIMER

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-sample", type=int, default=24)
    ap.add_argument("--n-initial", type=int, default=16)
    ap.add_argument("--n", type=int, default=201)
    ap.add_argument("--J-max", type=float, default=2.0)
    ap.add_argument("--lam-max", type=float, default=1.5)
    ap.add_argument("--n-cores", type=int, default=2)
    ap.add_argument("--coarse", type=int, default=51)
    ap.add_argument("--refine-frac", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    Js = np.linspace(-a.J_max, a.J_max, a.n)
    lams = np.linspace(0.0, a.lam_max, a.n)
    pts = [{"J": float(Js[i]), "lam": float(lams[j])} for i, j in zip(rng.integers(0, a.n, a.n_sample),
                                                                       rng.integers(0, a.n, a.n_sample))]
    # warm the kernels (compile / cache load) outside the measurement
    census_points(LMG_DIMER, [pts[0]], LMG_DIMER.random_states(2, rng)[None])
    Y0 = np.stack([LMG_DIMER.random_states(a.n_initial, rng) for _ in pts])
    t0 = time.perf_counter()
    res = census_points(LMG_DIMER, pts, Y0)
    wall = time.perf_counter() - t0
    per_point = wall / len(pts)
    stages = {k: float(np.sum([r.timings.get(k, 0.0) for r in res])) for k in res[0].timings}
    # cost per point is shared in a batched call; its spread is from the integrated time per point
    t_int = np.array([r.trajectories["t_integrated"].sum() for r in res])
    boot = [wall * rng.choice(t_int, t_int.size).sum() / t_int.sum() / len(pts) for _ in range(2000)]
    n_full = a.n * a.n
    out = {
        "n_sample": len(pts), "n_initial": a.n_initial, "wall_s": wall, "per_point_s": per_point,
        "per_point_s_se": float(np.std(boot)), "stages_s": stages,
        "phases": {p: int(sum(r.phase == p for r in res)) for p in sorted({r.phase for r in res})},
        "full_grid_points": n_full,
        "full_grid_h_on_n_cores": per_point * n_full / a.n_cores / 3600.0,
        "coarse_plus_refine_h_on_n_cores": per_point * (a.coarse ** 2 + a.refine_frac * n_full) / a.n_cores / 3600.0,
        "per_point_budget_for_10_min_s": 600.0 * a.n_cores / n_full,
    }
    print(json.dumps(out, indent=1))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    main()
