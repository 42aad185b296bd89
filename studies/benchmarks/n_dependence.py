"""How the census phase at one point depends on the number of initial conditions.

At (J, lam) = (0.4, 1.0) (Fig. 3's cut (c)) one session reported "CH" with 256 initial conditions
and "none" with 64; the next found "none" with both (seed 0). This script draws ``--n-max``
initial conditions per seed and runs the census on nested subsets (the first N of them, N in
``--ns``), so a change with N comes from the added trajectories or from statistics pooled over
them, not from a new draw. Per run: the phase, the decisions by kind and flavour, and the evidence
of every trajectory decided or joined as dissipative chaos (its exponent sum, error and the zero
band), and the smallest distance of a conservative / undecided trajectory's sum from the
dissipative threshold (``(S + b) / eS``: the census calls a sum dissipative below ``-n_sigma``), and
the mean exponent sum over the conservative and undecided trajectories with its standard error
(a bias of the finite-time sums that pooling over many orbits would turn into a verdict).

Run: ``python -m studies.benchmarks.n_dependence [--J 0.4] [--lam 1.0] [--seeds 0 1 2] [--ns 16 64 256]
[--n-max 256] [--out FILE.json]``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def one(model, params, Y, opts) -> dict:
    from analysis.attractors import census_points

    t0 = time.process_time()
    r = census_points(model, [params], Y[None], options=opts)[0]
    T = r.trajectories
    band = opts.zero_band(np.maximum(T["t_measured"].to_numpy(float), 1.0))
    z = (T["lyap_sum"].to_numpy(float) + band) / T["lyap_sum_err"].to_numpy(float)
    dis = (T["kind"] == "CH") & (T["flavour"] == "dissipative")
    cons = ((T["kind"] == "CH") & (T["flavour"] == "conservative")) | T["decision"].isin(["undecided"])
    ev = [{"ic": int(t.ic), "decision": t.decision, "sum": float(t.lyap_sum), "sum_err": float(t.lyap_sum_err),
           "lyap_0": float(t.lyap_0), "t_measured": float(t.t_measured), "band": float(b), "z": float(zz)}
          for (_, t), b, zz in zip(T[dis].iterrows(), band[dis.to_numpy()], z[dis.to_numpy()])]
    zc = z[cons.to_numpy()]
    zc = zc[np.isfinite(zc)]
    ss = T.loc[cons, "lyap_sum"].to_numpy(float)
    ss = ss[np.isfinite(ss)]
    counts = T.groupby(["kind", "flavour", "decision"]).size()
    # the pool of orbits undecided at the cap (census.pool_undecided_sums), now and under the rule
    # before the fix (candidates only those whose own sum is negative by 2 errors), with every
    # candidate linked (an upper bound on the links: one connected sea)
    bc = float(opts.zero_band(opts.t_cap))
    zs = opts.n_sigma
    U = T[T["decision"] == "undecided"]
    cand = U[(U["lyap_0"] - zs * U["lyap_err_0"] > bc) & np.isfinite(U["lyap_sum_err"])]
    pools = {}
    for rule, sel in (("now", cand), ("before_fix", cand[cand["lyap_sum"] + 2 * cand["lyap_sum_err"] < 0])):
        if len(sel) >= 2:
            w = 1.0 / np.maximum(sel["lyap_sum_err"].to_numpy(float), 1e-12) ** 2
            sp = float(np.sum(w * sel["lyap_sum"].to_numpy(float)) / w.sum())
            ep = float(1.0 / np.sqrt(w.sum()))
            pools[rule] = {"n": int(len(sel)), "sum": sp, "err": ep, "dissipative": bool(sp + zs * ep < -bc)}
        else:
            pools[rule] = {"n": int(len(sel)), "sum": float("nan"), "err": float("nan"), "dissipative": False}
    return {"N": int(len(T)), "phase": r.phase, "status": int(r.status), "fragile": r.fragility().reason,
            "counts": {"/".join(k): int(v) for k, v in counts.items()}, "dissipative": ev,
            "min_z_sea": float(zc.min()) if zc.size else float("nan"),
            "n_sea_measured": int(zc.size),
            "sea_sum_mean": float(ss.mean()) if ss.size else float("nan"),
            "sea_sum_sem": float(ss.std(ddof=1) / np.sqrt(ss.size)) if ss.size > 1 else float("nan"),
            "band_cap": bc, "pool": pools, "cpu_s": time.process_time() - t0}


def main(argv=None) -> list[dict]:
    from analysis.attractors.options import CensusOptions
    from bifurcate.models import LMG_DIMER

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--J", type=float, default=0.4)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--ns", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--n-max", type=int, default=256)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    opts = CensusOptions()
    params = {"J": a.J, "lam": a.lam}
    out = []
    for seed in a.seeds:
        Y = LMG_DIMER.random_states(a.n_max, np.random.default_rng(seed))
        for N in a.ns:
            r = one(LMG_DIMER, params, Y[:N], opts)
            r["seed"] = seed
            out.append(r)
            print(json.dumps({k: v for k, v in r.items() if k != "dissipative"}), flush=True)
            for e in r["dissipative"]:
                print("   dissipative:", json.dumps(e), flush=True)
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    main()
