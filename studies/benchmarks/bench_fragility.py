"""Validation of the census's fragility flag: does it mark the phases that a 1 % tolerance change flips?

The sample is that of :mod:`studies.benchmarks.bench_fig2_converged` (random neighbour pairs of the
51 x 51 coarse grid of Fig. 2, 16 initial conditions per point, drawn from ``--seed``). Every point
gets the census at the defaults and at the variational integrator's ``rtol`` times 0.99 and 1.01
(same initial conditions, same everything else). A point *flips* when either changed run gives
another phase. The flag (:func:`analysis.attractors.fragility.phase_fragility`, ``k_sigma`` fixed
a priori at 2) is read from the default run only. Reported: the flip rate, the flagged share,
recall (flips that were flagged), the flip rate among flagged and unflagged points, and per reason
how many points it flags and how many of the flips it catches. The default run's tables are written
(``--out DIR``: ``points.parquet``, one row per point, and ``summary.json``) so the flag can be
re-read for another ``k_sigma`` without integrating again (reported as a sensitivity, not a fit).

Run: ``python -m studies.benchmarks.bench_fragility [--n-pairs 60] [--seed 5] [--chunk 20] [--out DIR]``
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

REASONS = ("one initial condition", "undecided", "pooled only", "exponent near the band",
           "sum near the flavour threshold")


def _runs(pts, Y0, chunk: int):
    from analysis.attractors import census_points
    from analysis.attractors.fragility import phase_fragility
    from analysis.attractors.options import CensusOptions
    from bifurcate.lyapunov import LyapunovOptions
    from bifurcate.models import LMG_DIMER

    base = CensusOptions()
    rtol = (base.lyapunov or LyapunovOptions()).rtol
    arms = {"default": base, "rtol_x0.99": base.with_overrides(rtol=rtol * 0.99),
            "rtol_x1.01": base.with_overrides(rtol=rtol * 1.01)}
    rows = [dict(p) for p in pts]
    frames = []
    cpu = {}
    for arm, opts in arms.items():
        c0 = time.process_time()
        for s in range(0, len(pts), chunk):
            res = census_points(LMG_DIMER, pts[s:s + chunk], Y0[s:s + chunk], options=opts)
            for i, r in enumerate(res):
                row = rows[s + i]
                row[f"phase_{arm}"] = r.phase
                if arm == "default":
                    f = phase_fragility(r)
                    row["fragile"], row["fragile_reason"] = f.fragile, f.reason
                    row["status"] = r.status
                    sf = r.to_frame().assign(point=s + i)
                    sf["mirror_of"] = sf["mirror_of"].astype(str)
                    tf = r.trajectories.assign(point=s + i)
                    frames.append((sf, tf))
        cpu[arm] = time.process_time() - c0
    return pd.DataFrame(rows), frames, cpu, rtol


def summarise(df: pd.DataFrame) -> dict:
    flips = (df["phase_default"] != df["phase_rtol_x0.99"]) | (df["phase_default"] != df["phase_rtol_x1.01"])
    fl = df["fragile"].astype(bool)
    out = {"n_points": int(len(df)), "n_flips": int(flips.sum()), "flip_rate": float(flips.mean()),
           "n_flagged": int(fl.sum()), "flagged_share": float(fl.mean()),
           "recall": float((flips & fl).sum() / flips.sum()) if flips.any() else float("nan"),
           "flip_rate_flagged": float(flips[fl].mean()) if fl.any() else float("nan"),
           "flip_rate_unflagged": float(flips[~fl].mean()) if (~fl).any() else float("nan"),
           "per_reason": {}, "flips": []}
    for why in REASONS:
        has = df["fragile_reason"].fillna("").str.contains(why, regex=False)
        out["per_reason"][why] = {"flagged": int(has.sum()), "flips_caught": int((has & flips).sum())}
    for _, r in df[flips].iterrows():
        out["flips"].append({"J": r["J"], "lam": r["lam"], "default": r["phase_default"],
                             "x0.99": r["phase_rtol_x0.99"], "x1.01": r["phase_rtol_x1.01"],
                             "fragile": bool(r["fragile"]), "reason": r["fragile_reason"]})
    return out


def main(argv=None) -> dict:
    from studies.benchmarks.bench_fig2_converged import _sample

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-pairs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument("--out", type=str, default=None)
    a = ap.parse_args(argv)
    pts, Y0, nc = _sample(a.n_pairs, a.seed)
    t0 = time.perf_counter()
    df, frames, cpu, rtol = _runs(pts, Y0, a.chunk)
    out = summarise(df)
    out.update(sample=f"{a.n_pairs} random neighbour pairs of the {nc} x {nc} coarse grid (seed {a.seed}), "
                      f"16 initial conditions", rtol_default=rtol, cpu_s=cpu, wall_s=time.perf_counter() - t0)
    if a.out:
        d = Path(a.out)
        d.mkdir(parents=True, exist_ok=True)
        df.to_parquet(d / "points.parquet")
        pd.concat([f[0] for f in frames]).to_parquet(d / "sets.parquet")
        pd.concat([f[1] for f in frames]).to_parquet(d / "trajectories.parquet")
        (d / "summary.json").write_text(json.dumps(out, indent=1, default=str))
    print(json.dumps({k: v for k, v in out.items() if k != "flips"}, indent=1, default=str))
    for f in out["flips"]:
        print(f)
    return out


if __name__ == "__main__":
    main()
