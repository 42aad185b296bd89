"""From S = 1 to S = infinity on one cut: exact Z_B, truncated-Wigner Z_B and the mean field.

On the cut J = 1.5 of the LMG dimer (lam = 0, 0.2, 0.45), per point: the exact steady-state Z_B for
S = 1 ... S_max (what the exact solver reaches in minutes), the truncated-Wigner (TWA,
:func:`bifurcate.twa.truncated_wigner`) Z_B with its error bar at S = 8, 20, 50, 200 and 1000, and the
mean field's basin-weighted attractor average (census, S -> infinity). The table reports, per point,
the distance of each to the mean field and the fitted power of its decay in S (|Z_B - Z_B^MF| ~ S^-a).

Outputs (``<out>/road_to_mean_field/``): ``road_to_mean_field.png/.pdf``; ``exact.parquet``,
``twa.parquet``, ``mean_field.parquet``, ``trend.parquet``; ``metadata.json``.

Run: ``python -m studies.road_to_mean_field --out results [--quick]``.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from studies.common import exact_sweep, finish, run_cli, save_figure, save_table, study_dir

NAME = "road_to_mean_field"
CUT_J = 1.5
LAMS = (0.0, 0.2, 0.45)
TWA_S = (8, 20, 50, 200, 1000)


def twa_sweep(points, S_values, *, n_traj: int, t_end: float, seed: int) -> pd.DataFrame:
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM
    from bifurcate.twa import truncated_wigner

    rows = []
    for pt in points:
        for S in S_values:
            t = time.perf_counter()
            r = truncated_wigner(LMG_DIMER_SYSTEM, S, pt, n_traj=n_traj, t_end=t_end, seed=seed)
            rows.append({"S": float(S), **pt, "ZB": r.mean["ZB"], "ZB_err": r.error["ZB"], "ZA": r.mean["ZA"],
                         "ZA_err": r.error["ZA"], "n_traj": n_traj, "t_end": t_end, "status": r.status,
                         "message": r.message, "wall_time": time.perf_counter() - t})
    return pd.DataFrame(rows)


def mean_field(points, *, n_initial: int, seed: int) -> pd.DataFrame:
    from analysis.attractor_census import census
    from bifurcate.models import LMG_DIMER

    rows = []
    for pt in points:
        res = census(LMG_DIMER, pt, n_initial=n_initial, seed=seed)
        r = res.summary_frame()
        rows.append(r)
    return pd.concat(rows, ignore_index=True)


def _power(S, d) -> float:
    S, d = np.asarray(S, float), np.asarray(d, float)
    ok = np.isfinite(d) & (d > 0)
    return float(-np.polyfit(np.log(S[ok]), np.log(d[ok]), 1)[0]) if ok.sum() >= 2 else np.nan


def trend(ex, tw, mf) -> pd.DataFrame:
    rows = []
    for lam in sorted(ex["lam"].unique()):
        m = mf[np.isclose(mf["lam"], lam)].iloc[0]
        zb = float(m["bw_ZB"])
        for kind, df in (("exact", ex), ("twa", tw)):
            d = df[np.isclose(df["lam"], lam)].sort_values("S")
            dist = np.abs(d["ZB"].to_numpy(float) - zb)
            rows.append({"J": CUT_J, "lam": lam, "kind": kind, "ZB_mf": zb,
                         "ZB_mf_err": float(m.get("bw_ZB_err", np.nan)),
                         "S_min": float(d["S"].min()), "S_max": float(d["S"].max()),
                         "distance_at_S_max": float(dist[-1]), "power": _power(d["S"], dist)})
    return pd.DataFrame(rows)


def plot(ex, tw, mf):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for k, lam in enumerate(sorted(ex["lam"].unique())):
        c = f"C{k}"
        e = ex[np.isclose(ex["lam"], lam)].sort_values("S")
        t = tw[np.isclose(tw["lam"], lam)].sort_values("S")
        m = mf[np.isclose(mf["lam"], lam)].iloc[0]
        ax.plot(1 / e["S"], e["ZB"], "o-", color=c, ms=4, label=f"exact, λ={lam:g}")
        ax.errorbar(1 / t["S"], t["ZB"], yerr=t["ZB_err"], fmt="s", color=c, mfc="none", ms=5, capsize=2,
                    label=f"TWA, λ={lam:g}")
        ax.errorbar([0.0], [m["bw_ZB"]], yerr=[m.get("bw_ZB_err", 0.0)], fmt="*", color=c, ms=11, mec="k")
    ax.set_xscale("symlog", linthresh=1e-3)
    ax.set(xlabel=r"$1/S$", ylabel=r"$Z_B$", title=f"J = {CUT_J}: exact, truncated Wigner and mean field (stars)")
    ax.legend(fontsize="x-small", ncol=2)
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 4) -> dict:
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    lams = LAMS[:1] if quick else LAMS
    points = [{"J": CUT_J, "lam": lam} for lam in lams]
    S_exact = (1, 2, 3, 4, 6, 8) if quick else tuple(range(1, 13)) + (14, 16)
    S_twa = TWA_S[:3] if quick else TWA_S
    times = {}
    t = time.perf_counter()
    ex = exact_sweep(points, S_exact)
    times["exact"] = time.perf_counter() - t
    t = time.perf_counter()
    tw = twa_sweep(points, S_twa, n_traj=100 if quick else 1000, t_end=60.0 if quick else 200.0, seed=seed)
    times["twa"] = time.perf_counter() - t
    t = time.perf_counter()
    mf = mean_field(points, n_initial=16 if quick else 128, seed=seed)
    times["mean_field"] = time.perf_counter() - t
    tr = trend(ex, tw, mf)
    fig = plot(ex, tw, mf)
    paths = save_figure(fig, out, NAME)
    paths["exact"] = save_table(ex, out, "exact")
    paths["twa"] = save_table(tw, out, "twa")
    paths["mean_field"] = save_table(mf, out, "mean_field")
    paths["trend"] = save_table(tr, out, "trend")
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"exact.parquet": "exact", "mean_field.parquet": "census_summary"}, seed=seed,
                  S_exact=list(S_exact), S_twa=list(S_twa), points=points, stage_times_s=times,
                  twa_status=sorted(tw["status"].unique().tolist()))


if __name__ == "__main__":
    run_cli(main, __doc__)
