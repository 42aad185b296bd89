"""Fig. 3: exact Z_B for several S against the attractor-averaged mean field, on four cuts.

Cuts (:data:`studies.common.CUTS`): (a) lam = 0.1 g, J swept: the LMG transitions, Z_B = 1 until
spin B breaks the Z2 symmetry at J ~ +0.63 g; (b) J = 0, lam swept: the PT transition, Z_B drops
from 1 to 0 at lam = g/2 (mean field averaged over the neutral orbits); (c) lam = g, J swept:
through the oscillating region around J = 0 and the irregular dynamics at large |J|; (d) J = 1.5 g,
lam swept: from the LMG phase through the broken states' Hopf point into cycles and chaos.

Mean field: the basin-weighted attractor averages of a 1-D sweep
(:func:`studies.common.mean_field_cut`: stable equilibria where every trajectory settles, the
attractor census elsewhere), error bars the census's standard errors where the sweep table has
them (``ZB_err``), clipped to [-1, 1]. Exact: the steady state of
Eq. (5) at each S (:func:`studies.common.exact_steady_state`). The inset of panel (a) draws the
cuts on the phase diagram (number of stable fixed points in Fig. 2's colours; Fig. 2's table is
reused when present).

Outputs (``<out>/fig3_cuts/``): ``fig3_cuts.png/.pdf``; ``exact.parquet`` (schema ``exact``, with
``cut``), ``mean_field.parquet`` (``phase_diagram`` 1-D sweeps, with ``cut``), ``metadata.json``.

Run: ``python -m studies.fig3_cuts --out results [--quick]``.

References
----------
Kothe & Kirton, Fig. 3.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from studies.common import (CUTS, LABELS, errorbar, exact_sweep, finish, mean_field_cut, run_cli, save_figure,
                            save_table, study_dir)

NAME = "fig3_cuts"


def inset_map(out_dir: Path, quick: bool):
    """(J, lam, n_stable_fp) for the inset: Fig. 2's table if it was written, else a coarse count."""
    p = Path(out_dir) / "fig2_phase_diagram" / "phase_diagram.parquet"
    if p.exists():
        return pd.read_parquet(p, columns=["J", "lam", "n_stable_fp"])
    from bifurcate.equilibria import find_equilibria
    from bifurcate.models import LMG_DIMER

    rows = []
    for J in np.linspace(-2, 2, 33):
        for lam in np.linspace(0, 1.5, 25):
            try:
                n = find_equilibria(LMG_DIMER, {"J": float(J), "lam": float(lam)}).n_stable
            except Exception:  # noqa: BLE001 - the inset is decoration
                n = -1
            rows.append((J, lam, n))
    return pd.DataFrame(rows, columns=["J", "lam", "n_stable_fp"])


def plot(mf: pd.DataFrame, ex: pd.DataFrame, nmap: pd.DataFrame):
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap

    from analysis.style import CMAPS, count_colors

    fig, axes = plt.subplots(2, 2, figsize=(10.5, 7.6), constrained_layout=True)
    Ss = sorted(ex["S"].unique())
    cmap = plt.get_cmap(CMAPS["spin_length"])
    cols = {S: cmap(0.15 + 0.7 * k / max(len(Ss) - 1, 1)) for k, S in enumerate(Ss)}
    for ax, (key, cut) in zip(axes.ravel(), CUTS.items()):
        x = cut.param
        for S in Ss:
            g = ex[(ex["cut"] == key) & (ex["S"] == S)].sort_values(x)
            ax.plot(g[x], g["ZB"], "-", color=cols[S], lw=1.3, label=f"$S={S:g}$")
        m = mf[mf["cut"] == key].sort_values(x)
        # error bars: the census's standard errors of the attractor averages where the table has
        # them (ZB_err), clipped to [-1, 1]
        errorbar(ax, m[x], m["ZB"], m["ZB_err"] if "ZB_err" in m else None, fmt="o-", color="k", ms=3, lw=1.2,
                 label="mean field")
        ax.set(xlim=(cut.lo, cut.hi), ylim=(-1.05, 1.08), xlabel=LABELS[x], ylabel=LABELS["ZB"])
        ax.set_title(f"({key}) {cut.description}", color="k")
        ax.axhline(0, color="0.85", lw=0.6, zorder=-1)
    axes[0, 0].legend(fontsize="x-small", loc="lower left")
    # inset in (a), whose lower half is empty: the cuts on the phase diagram (counts of stable
    # fixed points in the colours of Fig. 2)
    ins = axes[0, 0].inset_axes([0.5, 0.2, 0.47, 0.34])
    piv = nmap.pivot_table(index="lam", columns="J", values="n_stable_fp")
    J, lam = piv.columns.to_numpy(float), piv.index.to_numpy(float)
    cm = ListedColormap(count_colors(2))
    ins.pcolormesh(J, lam, np.clip(piv.to_numpy(float), 0, 2), cmap=cm, norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3),
                   shading="nearest")
    for key, cut in CUTS.items():
        (j0, j1), (l0, l1) = cut.segment()
        ins.plot([j0, j1], [l0, l1], "-", color="k", lw=1.6)
        at = (j1 - 0.05, l1 + 0.04) if cut.param == "J" else (j1 + 0.08, l1 - 0.3)
        ins.text(*at, key, color="k", fontsize="x-small", fontweight="bold", ha="right" if cut.param == "J" else "left",
                 va="bottom" if cut.param == "J" else "top",
                 bbox=dict(boxstyle="round,pad=0.05", fc="w", ec="none", alpha=0.8))
    ins.set(xlim=(-2, 2), ylim=(0, 1.5), xticks=[-2, 0, 2], yticks=[0, 1])
    ins.set_xlabel(r"$J/g$", fontsize="x-small", labelpad=0)
    ins.set_ylabel(r"$\lambda/g$", fontsize="x-small", labelpad=0)
    ins.tick_params(labelsize="xx-small", length=2, pad=1)
    fig.suptitle(r"Fig. 3: exact $Z_B$ (colours, spin length $S$) vs attractor-averaged mean field (black), "
                 r"$\gamma = 0.5g$", fontsize="medium")
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 2025) -> dict:
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    n_mf, n_ex = (21, 21) if quick else (81, 81)
    S_values = (1, 2, 4) if quick else (2, 4, 6, 8)
    n_init = 32 if quick else 128
    mfs, exs, times = [], [], {}
    for key, cut in CUTS.items():
        t = time.perf_counter()
        pdg = mean_field_cut(cut, n_mf, n_initial=n_init, seed=seed, t_end=400.0 if quick else 1000.0,
                             census_options={"t_total": 100.0 if quick else 400.0})
        df = pdg.to_frame()
        df.insert(0, "cut", key)
        mfs.append(df)
        times[f"mean_field_{key}"] = time.perf_counter() - t
        t = time.perf_counter()
        e = exact_sweep(cut.points(n_ex), S_values)
        e.insert(0, "cut", key)
        exs.append(e)
        times[f"exact_{key}"] = time.perf_counter() - t
    mf = pd.concat(mfs, ignore_index=True)
    ex = pd.concat(exs, ignore_index=True)
    fig = plot(mf, ex, inset_map(out_dir, quick))
    paths = save_figure(fig, out, NAME)
    paths["table"] = save_table(ex, out, "exact")
    paths["mean_field"] = save_table(mf, out, "mean_field")
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"exact.parquet": "exact", "mean_field.parquet": "phase_diagram"}, seed=seed,
                  S_values=list(S_values), n_initial=n_init, cuts={k: vars(c) for k, c in CUTS.items()},
                  stage_times_s=times, exact_methods=sorted(ex["method"].unique().tolist()),
                  max_residual=float(ex["residual"].max()))


if __name__ == "__main__":
    run_cli(main, __doc__)
