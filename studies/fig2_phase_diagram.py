"""Fig. 2: the mean-field phase diagram of the LMG dimer (gamma = 0.5 g).

Colour: the number of stable fixed points over (J, lam), counted exactly at every grid point by
:func:`bifurcate.equilibria.find_equilibria` (every equilibrium, tangent-space eigenvalues), through
:func:`analysis.phase_diagrams.phase_diagram` (which also integrates an ensemble per point; the
attractor census is left to ``studies.attractor_map``). Normal phase: 1; the two LMG phases (spin
B broken for J > 0, spin A for J < 0): 2; the PT phase: 0.

Lines: the exact boundaries from two-parameter continuation (solid: the normal state's pitchfork
below the Bogdanov-Takens point, its Hopf curve, and the Hopf curves of the broken states), and the
paper's Eq. (12) and Eq. (13) dashed; beyond the paper, the cycles' fold (LPC) and period-doubling
(PD) curves and the normal state's non-generic folds of cycles (diamonds), as in
``studies.attractor_map`` (:func:`studies.attractor_map.cycle_curves`, cache in
``<out>/cycle_curves/``, shared by the two studies). Insets: X_B-Y_B trajectories at the lettered points, one
colour per initial condition (the same initial conditions at every point).

Outputs (``<out>/fig2_phase_diagram/``): ``fig2_phase_diagram.png/.pdf``; ``phase_diagram.parquet``
(schema ``phase_diagram``), ``boundaries.parquet`` (``boundaries``), ``insets.parquet``
(``trajectory_samples``), ``metadata.json``.

Run: ``python -m studies.fig2_phase_diagram --out results [--quick]``. Quick: 41 x 31 grid, 6
initial conditions (~20 s); full: 201 x 151, 16 initial conditions.

References
----------
Kothe & Kirton, Fig. 2, Eqs. (12) and (13).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from studies.common import (IC_COLORS, LABELS, draw_boundaries, exact_boundaries, finish, run_cli, save_figure,
                            save_table, study_dir)

NAME = "fig2_phase_diagram"
#: insets: the last T_SHOW time units drawn bold, the transient before them faint
T_SHOW = 40.0
J_MAX, LAM_MAX = 2.0, 1.5

#: inset points: normal, both LMG phases, the PT phase on J = 0 (closed orbits), the pair of
#: cycles born at the broken states' Hopf curve, and the irregular region
INSETS = [
    {"J": 0.0, "lam": 0.25},
    {"J": 1.2, "lam": 0.2},
    {"J": -1.2, "lam": 0.2},
    {"J": 0.0, "lam": 1.0},
    {"J": 1.5, "lam": 0.5},
    {"J": 1.5, "lam": 1.2},
]


def inset_trajectories(points, *, n_initial: int = 4, seed: int = 3, t_end: float = 150.0, n_samples: int = 3000):
    """X_B-Y_B trajectories (t in [0, t_end]) at each point from the same ``n_initial`` initial conditions."""
    from bifurcate import integrate_ensemble
    from bifurcate.models import LMG_DIMER

    te = np.linspace(0.0, t_end, n_samples)
    params = {"J": [p["J"] for p in points], "lam": [p["lam"] for p in points]}
    ens = integrate_ensemble(LMG_DIMER, params, n_initial=n_initial, seed=seed, t_end=t_end, t_eval=te)
    df = ens.sample_frame()
    df["J"] = np.asarray(params["J"])[df["point"].to_numpy()]
    df["lam"] = np.asarray(params["lam"])[df["point"].to_numpy()]
    df["label"] = [chr(ord("a") + int(k)) for k in df["point"].to_numpy()]
    return df


def plot(pdg, curves: pd.DataFrame, insets: pd.DataFrame, cyc=None):
    import matplotlib.pyplot as plt

    from analysis.plots_phase import plot_n_stable
    from studies.attractor_map import draw_cycle_curves

    fig = plt.figure(figsize=(12.5, 6.4), constrained_layout=True)
    gs = fig.add_gridspec(3, 3, width_ratios=[2.6, 1, 1])
    ax = fig.add_subplot(gs[:, 0])
    # the count colours of analysis.style.COUNT_COLORS (never an attractor kind's colour)
    plot_n_stable(pdg, ax, boundaries=False, names={"J": LABELS["J"], "lam": LABELS["lam"]})
    draw_boundaries(ax, curves, color="k")
    extra = draw_cycle_curves(ax, cyc)
    h, lab_ = ax.get_legend_handles_labels()
    ax.legend(h + extra, [x.replace("Eq. (12)", "Eqs. (12), (13)") for x in lab_] + [e.get_label() for e in extra],
              loc="lower center", fontsize="small", framealpha=0.85, ncol=2 if extra else 1)
    ax.set_title(r"Fig. 2: number of stable fixed points, $\gamma = 0.5g$")
    labels = list(dict.fromkeys(insets["label"]))
    axes_ins = [fig.add_subplot(gs[i, 1 + j]) for i in range(3) for j in range(2)]
    # one colour per initial condition, none of them an attractor kind's colour (analysis.style)
    colors = IC_COLORS
    t_end = float(insets["t"].max())
    for k, lab in enumerate(labels):
        g = insets[insets["label"] == lab]
        a = axes_ins[k]
        for ic, gi in g.groupby("ic"):
            c = colors[int(ic) % len(colors)]
            early = gi["t"] <= t_end - T_SHOW
            # transient faint, the last T_SHOW time units bold: fixed points show as the end of a
            # spiral, cycles and irregular motion as the bold set
            a.plot(gi.loc[early, "XB"], gi.loc[early, "YB"], lw=0.4, color=c, alpha=0.35)
            a.plot(gi.loc[~early, "XB"], gi.loc[~early, "YB"], lw=0.8, color=c)
            a.plot(gi["XB"].iloc[-1], gi["YB"].iloc[-1], "o", ms=3, color=c, mec="k", mew=0.4)
        a.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), aspect="equal", xticks=[-1, 0, 1], yticks=[-1, 0, 1])
        a.tick_params(labelsize="x-small", length=2, pad=1)
        J, lam = float(g["J"].iloc[0]), float(g["lam"].iloc[0])
        a.set_title(f"({lab})  $J={J:g}$, $\\lambda={lam:g}$", fontsize="small", pad=2)
        a.set_xlabel("$X_B$", fontsize="small", labelpad=0)
        a.set_ylabel("$Y_B$", fontsize="small", labelpad=0)
        ax.plot(J, lam, "o", ms=5, mfc="w", mec="k")
        ax.annotate(f"({lab})", (J, lam), textcoords="offset points", xytext=(4, 3), fontsize="small", color="k",
                    bbox=dict(boxstyle="round,pad=0.1", fc="w", ec="none", alpha=0.8))
    for a in axes_ins[len(labels):]:
        a.axis("off")
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 2025, n_workers: int | None = None) -> dict:
    from analysis.phase_diagrams import phase_diagram
    from bifurcate.models import LMG_DIMER

    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    nJ, nl, n_init = (41, 31, 6) if quick else (201, 151, 16)
    grid = {"J": np.linspace(-J_MAX, J_MAX, nJ), "lam": np.linspace(0.0, LAM_MAX, nl)}
    times = {}
    t = time.perf_counter()
    # the count of stable fixed points needs no census: every equilibrium is found and its
    # tangent spectrum read (the ensemble stage still runs and fills the fixed-point rows)
    pdg = phase_diagram(LMG_DIMER, grid, n_initial=n_init, seed=seed, t_end=100.0 if quick else 200.0,
                        census=False, progress=not quick, n_workers=n_workers)
    times["phase_diagram"] = time.perf_counter() - t
    t = time.perf_counter()
    curves = exact_boundaries(J_MAX, LAM_MAX)
    times["continuation"] = time.perf_counter() - t
    t = time.perf_counter()
    # the cycles' LPC / PD curves and the normal state's non-generic folds, from the cache shared
    # with the attractor map (continued here when this study runs first)
    from studies.attractor_map import CYCLE_CACHE, cycle_curves

    cyc, cyc_info = cycle_curves(study_dir(out_dir, CYCLE_CACHE), quick=quick)
    times["cycle_curves"] = time.perf_counter() - t
    t = time.perf_counter()
    ins = inset_trajectories(INSETS, seed=seed)
    times["insets"] = time.perf_counter() - t
    fig = plot(pdg, curves, ins, cyc)
    paths = save_figure(fig, out, NAME)
    paths["table"] = save_table(pdg.to_frame(), out, "phase_diagram")
    paths["boundaries"] = save_table(curves, out, "boundaries")
    paths["insets"] = save_table(ins, out, "insets")
    counts = pdg.to_frame()["n_stable_fp"].value_counts().sort_index()
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"phase_diagram.parquet": "phase_diagram", "boundaries.parquet": "boundaries",
                          "insets.parquet": "trajectory_samples"},
                  seed=seed, model=LMG_DIMER.name, base={k: LMG_DIMER.defaults[k] for k in ("g", "gamma")},
                  grid_shape=[nJ, nl],
                  n_initial=n_init, options=pdg.options, insets=INSETS, stage_times_s=times,
                  n_stable_fp_counts={int(k): int(v) for k, v in counts.items()}, failures=pdg.failure_summary(),
                  cycle_curves={"cached": bool(cyc_info["cached"]), "status": int(cyc.status),
                                "settings": cyc_info["key"], "references": cyc_info.get("references")})


if __name__ == "__main__":
    run_cli(main, __doc__)
