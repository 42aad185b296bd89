"""Benchmark: the full Fig. 2 of the paper, 201 x 201 (J, lam) points, 16 initial conditions each.

Per point: every equilibrium (find_equilibria) -> n_stable_fp; a DOP853 transient of all 16
trajectories (batched over the chunk); trajectories settled on a stable equilibrium are assigned to
it; at every other point the attractor census from the end states of the transient, with the
sweep settings of ``analysis.phase_diagrams.SWEEP_CENSUS``: by default batched over each chunk
(``census_batch``: one Lyapunov run per pre-group of trajectories and per Z2 pair, all points of a
chunk in one parallel call); ``--census-method point`` runs the per-point census instead.

Run: ``python -m studies.benchmarks.bench_phase_diagram [--n 201] [--n-initial 16] [--n-workers 2]
[--store DIR] [--out FILE.json] [--fig FILE.png]``

The breakdown is the wall time of each stage summed over workers (with 2 worker processes it adds
up to about twice the elapsed time).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from analysis.phase_diagrams import phase_diagram
from bifurcate.models import LMG_DIMER


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=201, help="points per axis")
    ap.add_argument("--n-initial", type=int, default=16)
    ap.add_argument("--n-workers", type=int, default=2, help="local worker processes (1: in-process)")
    ap.add_argument("--J-max", type=float, default=2.0)
    ap.add_argument("--lam-max", type=float, default=1.5)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--store", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--fig", default=None)
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--census-method", choices=("batch", "point"), default="batch")
    a = ap.parse_args(argv)
    grid = {"J": np.linspace(-a.J_max, a.J_max, a.n), "lam": np.linspace(0.0, a.lam_max, a.n)}
    t0 = time.perf_counter()
    res = phase_diagram(LMG_DIMER, grid, n_initial=a.n_initial, seed=a.seed, n_workers=a.n_workers, store=a.store,
                        progress=not a.no_progress, census_method=a.census_method)
    wall = time.perf_counter() - t0
    df = res.to_frame()
    out = {
        "grid": f"{a.n} x {a.n}", "n_points": len(df), "n_initial": a.n_initial, "n_workers": a.n_workers, "census_method": a.census_method,
        "wall_s": round(wall, 1), "computed": res.n_computed, "cached": res.n_cached,
        "stage_s_summed_over_workers": {k: round(v, 1) for k, v in res.timings().items()},
        "points_settled_by_fp_shortcut": int((df["phase"] == "FP").sum() if "phase" in df else 0),
        "points_with_census": int((df["phase"] != "FP").sum()),
        "n_stable_fp_counts": {int(k): int(v) for k, v in df["n_stable_fp"].value_counts().sort_index().items()},
        "phase_counts": {str(k): int(v) for k, v in df["phase"].value_counts().head(12).items()},
        "failures": int((df["status"] != 0).sum()),
        "failure_summary": res.failure_summary(),
    }
    print(json.dumps(out, indent=2))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(out, fh, indent=2)
    if a.fig:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from analysis import plots_phase as pp

        fig, axs = plt.subplots(2, 2, figsize=(13, 10))
        pp.plot_fig2(res, axs[0, 0], insets=[{"J": 0.0, "lam": 0.2}, {"J": 1.2, "lam": 0.3}, {"J": 0.0, "lam": 1.0},
                                             {"J": 1.0, "lam": 1.0}])
        pp.plot_kinds(res, axs[0, 1])
        pp.plot_observable(res, "ZB", axs[1, 0])
        pp.plot_lyapunov(res, axs[1, 1])
        fig.tight_layout()
        fig.savefig(a.fig, dpi=110)
    return out


if __name__ == "__main__":
    main()
