"""Fig. 1(b): the PT dimer (the LMG dimer at J = 0): Z_A, Z_B and purity versus lam.

Mean field (S -> infinity): at every lam, the attractor census of Eqs. (6)-(11) at J = 0 gives the
attractor-averaged Z_A, Z_B (basin-weighted over random initial conditions). Below lam = g/2 the
normal state (Z_A = -1, Z_B = 1) is the only attractor; above, the Hopf point at lam = g/2 is
degenerate and the motion fills neutral families of closed orbits (the PT dimer is conservative
and reversible there), whose averages give Z_A = Z_B = 0: the infinite-temperature state. Every
mean-field point carries its error bar (the census's error: basin sampling, member spread, block
errors and the window-length bias): filled markers the average over the attracting sets, open
markers (no set attracts) the average over the neutral families.

Exact: steady states of the master equation (1) (Eq. (5) at J = 0) for several S: Z_A, Z_B
(left) and the purity Tr rho^2 (right; the paper's inset, drawn beside the main panel so that it
hides no curve). The transition sharpens with S toward the mean-field
step at lam = g/2; the purity drops from 1 to ~1/(2S+1)^2.

Outputs (``<out>/fig1b_pt_dimer/``): ``fig1b_pt_dimer.png/.pdf``; ``exact.parquet`` (schema
``exact``), ``mean_field.parquet`` (``phase_diagram``: a 1-D sweep), ``metadata.json``.

Run: ``python -m studies.fig1b_pt_dimer --out results [--quick]``.

References
----------
Kothe & Kirton, Eq. (1) and Fig. 1(b); Huber, Kirton, Rotter, Rabl, SciPost Phys. 9, 052 (2020).
"""
from __future__ import annotations

import time

import numpy as np

from studies.common import (CUTS, errorbar, exact_sweep, finish, mean_field_cut, mean_field_values, run_cli,
                            save_figure, save_table, study_dir)

NAME = "fig1b_pt_dimer"
LAM_MAX = 1.5


def plot(mf, ex):
    import matplotlib.pyplot as plt

    from analysis.style import CMAPS

    # the purity in its own panel (an inset would hide the Z_A curves of the main panel)
    fig, (ax, ins) = plt.subplots(1, 2, figsize=(8.4, 4.0), constrained_layout=True, width_ratios=[2.1, 1])
    Ss = sorted(ex["S"].unique())
    cmap = plt.get_cmap(CMAPS["spin_length"])
    cols = {S: cmap(0.15 + 0.7 * k / max(len(Ss) - 1, 1)) for k, S in enumerate(Ss)}
    for S in Ss:
        g = ex[ex["S"] == S].sort_values("lam")
        ax.plot(g["lam"], g["ZB"], "-", color=cols[S], lw=1.3, label=f"$S={S:g}$")
        ax.plot(g["lam"], g["ZA"], "--", color=cols[S], lw=1.1)
    m = mf.sort_values("lam")
    # mean field with an error bar at every point (the census's errors, window-length bias
    # included, clipped to [-1, 1]): the attracting-only average where a set attracts (filled),
    # the average over the neutral families where none does (lam > g/2, open markers)
    lam = m["lam"].to_numpy(float)
    for name, fmt, ls, lab in (("ZB", "o", "-", r"mean field ($S\to\infty$)"), ("ZA", "s", "--", None)):
        v, e, att = mean_field_values(m, name)
        ax.plot(lam, v, ls, color="k", lw=1.3 if name == "ZB" else 1.1, zorder=3)
        z = 5 if name == "ZB" else 4            # Z_B's circles over Z_A's squares where both are ~0
        errorbar(ax, lam[att], v[att], e[att], fmt=fmt, color="k", ms=3, zorder=z, label=lab)
        errorbar(ax, lam[~att], v[~att], e[~att], fmt=fmt, color="k", mfc="w", ms=3.5, zorder=z,
                 label="no attractor:\nneutral orbits" if name == "ZB" and (~att).any() else None)
    ax.axvline(0.5, color="0.7", lw=0.8, ls=":")
    ax.text(0.03, 0.88, "$Z_B$ (solid)", transform=ax.transAxes, fontsize="small")
    ax.text(0.03, 0.09, "$Z_A$ (dashed)", transform=ax.transAxes, fontsize="small")
    ax.set(xlabel=r"$\lambda/g$", ylabel=r"$Z_A$, $Z_B$", xlim=(0, LAM_MAX), ylim=(-1.08, 1.08),
           title=r"Fig. 1(b): PT dimer ($J=0$, $\gamma=0.5g$)")
    ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(0.0, 0.42))
    for S in Ss:
        g = ex[ex["S"] == S].sort_values("lam")
        ins.plot(g["lam"], g["purity"], "-", color=cols[S], lw=1.2)
    ins.plot([0, 0.5, 0.5, LAM_MAX], [1, 1, 0, 0], "k-", lw=1.0, label=r"$S\to\infty$")
    ins.set(xlim=(0, LAM_MAX), ylim=(0, 1.05), xlabel=r"$\lambda/g$", ylabel=r"purity $\mathrm{Tr}\,\rho^2$",
            title="purity")
    ins.legend(fontsize="x-small", loc="upper right")
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 7, resume: bool = True) -> dict:
    """Run the study. ``resume``: the exact steady states are kept in ``cache_exact.parquet`` in the output folder
    as they are solved and reused by the next run (delete it, or pass ``resume=False``, to recompute)."""
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    cut = CUTS["b"]
    n_mf, n_ex = (16, 31) if quick else (61, 121)
    S_values = (1, 2, 4, 6) if quick else (1, 2, 4, 6, 8, 10)
    times = {}
    t = time.perf_counter()
    pdg = mean_field_cut(cut, n_mf, n_initial=48 if quick else 256, seed=seed, t_end=300.0 if quick else 1000.0,
                         census_options={"t_total": 100.0 if quick else 400.0})
    times["mean_field"] = time.perf_counter() - t
    mf = pdg.to_frame()
    t = time.perf_counter()
    ex = exact_sweep([{"J": 0.0, "lam": float(v)} for v in np.linspace(0.0, LAM_MAX, n_ex)], S_values,
                     cache=out / "cache_exact.parquet" if resume else None)
    times["exact"] = time.perf_counter() - t
    fig = plot(mf, ex)
    paths = save_figure(fig, out, NAME)
    paths["table"] = save_table(ex, out, "exact")
    paths["mean_field"] = save_table(mf, out, "mean_field")
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"exact.parquet": "exact", "mean_field.parquet": "phase_diagram"}, seed=seed,
                  S_values=list(S_values), options=pdg.options, stage_times_s=times,
                  mean_field_error_bars={"points": int(len(mf)),
                                         "with_finite_error": int(np.isfinite(mean_field_values(mf, "ZB")[1]).sum())},
                  exact_methods=sorted(ex["method"].unique().tolist()), max_residual=float(ex["residual"].max()))


if __name__ == "__main__":
    run_cli(main, __doc__)
