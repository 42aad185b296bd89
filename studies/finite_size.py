"""Beyond the paper: the finite-size trend of the exact steady states toward mean field.

At representative points of each phase, the exact Z_B (and purity) of Eq. (5) for S = 1, 2, ...
is compared with the mean-field value (S -> infinity): the census's average over the attracting
sets (``CensusResult.attractor_average``) with its error bar, or, where no set attracts (J = 0,
lam = g: neutral families; open star), the average over every classified set. Left: Z_B against
1/S, the mean-field value drawn at 1/S = 0.
Right: the deviation |Z_B(S) - Z_B^MF| against S (log-log): where it decreases, the exact results
approach mean field (the paper's "general trend"); where mean field averages over oscillations
or chaos the approach is slower and noisier.

Outputs (``<out>/finite_size/``): ``finite_size.png/.pdf``; ``exact.parquet`` (schema ``exact``,
with ``point``), ``mean_field.parquet`` (schema ``census_summary``), ``metadata.json``.

Run: ``python -m studies.finite_size --out results [--quick]``.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from studies.common import (IC_COLORS, errorbar, exact_sweep, finish, mean_field_values, run_cli, save_figure,
                            save_table, study_dir)

NAME = "finite_size"
#: representative points; each label is what the suite's own census finds there (checked: at
#: (J, lam) = (1.25, 0.5) two mirror limit cycles hold the whole basin and no fixed point is
#: stable; the former "cycles" point (1.5, 0.6) is chaotic by the census, 80-90 % of its basin)
POINTS = {
    "normal (J=0, λ=0.3)": {"J": 0.0, "lam": 0.3},
    "LMG (J=1.5, λ=0)": {"J": 1.5, "lam": 0.0},
    "LMG, spin A (J=-1.5, λ=0.1)": {"J": -1.5, "lam": 0.1},
    "PT (J=0, λ=1)": {"J": 0.0, "lam": 1.0},
    "limit cycles (J=1.25, λ=0.5)": {"J": 1.25, "lam": 0.5},
    "chaotic (J=1.5, λ=1.2)": {"J": 1.5, "lam": 1.2},
}


def mean_field(points, *, n_initial: int, seed: int, t_total: float) -> pd.DataFrame:
    from analysis.attractor_census import census
    from bifurcate.models import LMG_DIMER

    rows = []
    for name, pt in points.items():
        res = census(LMG_DIMER, pt, n_initial=n_initial, seed=seed, t_transient=200.0, t_total=t_total,
                     nolds_check=False, n_keep=0)
        r = res.summary_frame()
        r.insert(0, "point", name)
        rows.append(r)
    return pd.concat(rows, ignore_index=True)


def plot(ex, mf):
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.3), constrained_layout=True)
    for k, (name, _) in enumerate(POINTS.items()):
        c = IC_COLORS[k % len(IC_COLORS)]      # no attractor-kind colour: these are points, not kinds
        e = ex[ex["point"] == name].sort_values("S")
        v, er, att = mean_field_values(mf[mf["point"] == name].iloc[:1], "ZB", prefix="bw_")
        zb, err = float(v[0]), float(er[0])
        a1.plot(1 / e["S"], e["ZB"], "o-", color=c, ms=4, label=name)
        # the mean field with its error bar (filled: attracting sets; open: no set attracts)
        errorbar(a1, [0.0], [zb], [err], fmt="*", color=c, ms=10, mec="k", mfc=c if att[0] else "w", capsize=2)
        a1.plot([0, 1 / e["S"].max()], [zb, float(e["ZB"].iloc[-1])], ":", color=c, lw=0.8)
        dev = np.abs(e["ZB"].to_numpy() - zb)
        a2.loglog(e["S"], np.maximum(dev, 1e-6), "o-", color=c, ms=4, label=name)
        if np.isfinite(err) and err > 1e-3:       # fixed points have errors ~1e-16: not drawn
            a2.axhline(err, color=c, lw=0.6, ls="--")
        # the distance's error is the mean field's: bars on every point (clipped at the axis floor)
        if np.isfinite(err):
            d = np.maximum(dev, 1e-6)
            a2.errorbar(e["S"], d, yerr=[np.minimum(err, 0.9 * d), np.full(d.size, err)], fmt="none", ecolor=c,
                        elinewidth=0.7, capsize=1.5)
    S = np.array(sorted(ex["S"].unique()), float)
    a2.loglog(S, 0.5 / S, "k--", lw=0.8, label=r"$\propto 1/S$")
    a1.set(xlabel=r"$1/S$", ylabel=r"$Z_B$", xlim=(-0.03, 1.03), ylim=(-1.05, 1.05),
           title=r"exact $Z_B$ vs $1/S$ (stars: mean field)")
    a1.legend(fontsize="x-small", loc="lower right")
    a2.set_ylim(1e-3, 2.0)
    a2.set_xticks(S, [f"{v:g}" for v in S])
    a2.minorticks_off()
    a2.set(xlabel=r"$S$", ylabel=r"$|Z_B(S) - Z_B^{\rm MF}|$",
           title="distance to mean field\n(dashed: mean-field standard error)")
    a2.legend(fontsize="x-small", loc="lower left")
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 9, resume: bool = True) -> dict:
    """Run the study. ``resume``: the exact steady states are kept in ``cache_exact.parquet`` in the output folder
    as they are solved and reused by the next run (delete it, or pass ``resume=False``, to recompute)."""
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    S_values = (1, 2, 3, 4, 5, 6) if quick else tuple(range(1, 11))
    times = {}
    t = time.perf_counter()
    mf = mean_field(POINTS, n_initial=24 if quick else 128, seed=seed, t_total=200.0 if quick else 1000.0)
    times["mean_field"] = time.perf_counter() - t
    t = time.perf_counter()
    exs = []
    for name, pt in POINTS.items():
        e = exact_sweep([pt], S_values, cache=out / "cache_exact.parquet" if resume else None)
        e.insert(0, "point", name)
        exs.append(e)
    ex = pd.concat(exs, ignore_index=True)
    times["exact"] = time.perf_counter() - t
    fig = plot(ex, mf)
    paths = save_figure(fig, out, NAME)
    paths["table"] = save_table(ex, out, "exact")
    paths["mean_field"] = save_table(mf, out, "mean_field")
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"exact.parquet": "exact", "mean_field.parquet": "census_summary"}, seed=seed,
                  S_values=list(S_values), points=POINTS, stage_times_s=times,
                  exact_methods=sorted(ex["method"].unique().tolist()))


if __name__ == "__main__":
    run_cli(main, __doc__)
