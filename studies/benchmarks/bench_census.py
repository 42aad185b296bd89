"""Benchmark: attractor census with Lyapunov spectra vs the solve_ivp + numpy QR loop a user would write.

At one chaotic point of the LMG dimer (J = 1.5, lam = 1.0, gamma = 0.5) the census integrates 64
initial conditions: transient 200, then 500 time units of the joint state + tangent system with a
re-orthonormalisation every 0.1 (the defaults of :class:`bifurcate.lyapunov.LyapunovOptions`),
then features, classification and grouping. The baseline is
:func:`bifurcate.lyapunov.lyapunov_spectrum_reference` (solve_ivp DOP853 at rtol 1e-8 between
QR steps, numpy projection and QR): it is timed on ``--n-scipy`` trajectories and scaled
linearly to 64 (trajectories are independent; the baseline is serial).

Run: ``python -m studies.benchmarks.bench_census [--n-initial 64] [--n-scipy 2] [--out FILE]``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from analysis.attractor_census import census
from bifurcate.lyapunov import lyapunov_spectrum_reference
from bifurcate.models import LMG_DIMER

PARAMS = {"J": 1.5, "lam": 1.0, "gamma": 0.5, "g": 1.0}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-initial", type=int, default=64)
    ap.add_argument("--n-scipy", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    census(LMG_DIMER, PARAMS, n_initial=2, seed=args.seed, t_transient=1.0, t_total=2.0)  # compile / load cache
    t0 = time.perf_counter()
    res = census(LMG_DIMER, PARAMS, n_initial=args.n_initial, seed=args.seed)
    t_census = time.perf_counter() - t0
    o = res.options

    Y0 = LMG_DIMER.random_states(args.n_initial, args.seed)
    t0 = time.perf_counter()
    ref = [lyapunov_spectrum_reference(LMG_DIMER, Y0[i], PARAMS, t_transient=o.t_transient, t_align=o.t_align,
                                       t_total=o.n_steps * o.dt, dt_ortho=o.steps_per_ortho * o.dt, rtol=1e-8,
                                       atol=1e-10) for i in range(args.n_scipy)]
    t_scipy_each = (time.perf_counter() - t0) / args.n_scipy
    t_scipy = t_scipy_each * args.n_initial
    ours = res.trajectories[[f"lyap_{k}" for k in range(LMG_DIMER.dim)]].to_numpy()[: args.n_scipy]
    out = {
        "n_initial": args.n_initial, "params": PARAMS, "t_transient": o.t_transient, "t_total": o.n_steps * o.dt,
        "census_wall_s": t_census, "lyapunov_kernel_wall_s": res.lyapunov_wall_time,
        "trajectories_per_s": args.n_initial / res.lyapunov_wall_time,
        "scipy_wall_s_per_traj": t_scipy_each, "scipy_wall_s_extrapolated": t_scipy,
        "ratio": t_scipy / t_census,
        "kinds": res.kinds(), "basin_fractions": [a.basin_fraction for a in res.attractors],
        "largest_exponent_ours": ours[:, 0].tolist(), "largest_exponent_scipy": [r[0] for r in ref],
        "nolds": [a.nolds_lyap for a in res.attractors],
    }
    print(f"census of {args.n_initial} ICs with Lyapunov spectra: {t_census:.2f} s "
          f"(kernel {res.lyapunov_wall_time:.2f} s, {out['trajectories_per_s']:.1f} traj/s)")
    print(f"solve_ivp + numpy QR: {t_scipy_each:.1f} s per trajectory -> {t_scipy:.0f} s for {args.n_initial}")
    print(f"ratio: {out['ratio']:.0f}x")
    print("attractors:", list(zip(out["kinds"], np.round(out["basin_fractions"], 3))))
    print("largest exponent, ours vs scipy (same ICs; chaos decorrelates them):",
          np.round(out["largest_exponent_ours"], 3), np.round(out["largest_exponent_scipy"], 3))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main()
