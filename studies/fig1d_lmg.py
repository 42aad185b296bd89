"""Fig. 1(d): steady state of the single dissipative LMG spin (gamma = 0.5 g) versus J.

Mean field of Eq. (3) (the model :data:`bifurcate.models.LMG`). The normal state X = Y = 0, Z = -1
is continued in J from J = 1 downwards; it loses stability in a Z2-breaking pitchfork at
J_c = -(g^2 + gamma^2) / (2 g) = -0.625 g, where the two ferromagnetic branches (X, Y) and
(-X, -Y) are switched onto and continued to J = -2 g. Stable parts are solid, unstable dashed.
Dots: end states of time integrations from random initial conditions (an independent check that
the stable branches are the attractors). Y is finite on the broken branches because the loss tilts
the spin in the x-y plane (the paper's remark).

Outputs (``<out>/fig1d_lmg/``): ``fig1d_lmg.png/.pdf``; ``branches.parquet`` (schema ``branch``:
one row per continuation point), ``simulations.parquet`` (schema ``ensemble``),
``metadata.json``.

Run: ``python -m studies.fig1d_lmg --out results [--quick]``.

References
----------
Kothe & Kirton, Eq. (3) and Fig. 1(d); Morrison & Parkins, PRL 100, 040403 (2008).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from studies.common import IC_COLORS, finish, run_cli, save_figure, save_table, study_dir

NAME = "fig1d_lmg"
J_MIN, J_MAX = -2.0, 1.0


def critical_J(g: float = 1.0, gamma: float = 0.5) -> float:
    """The pitchfork of the normal state of the single dissipative LMG spin."""
    return -(g ** 2 + gamma ** 2) / (2 * g)


def compute(*, quick: bool = False, seed: int = 11):
    from bifurcate import integrate_ensemble
    from bifurcate.continuation import continue_equilibria
    from bifurcate.continuation.switching import switch_branch
    from bifurcate.models import LMG

    normal = continue_equilibria(LMG, [0.0, 0.0, -1.0], param="J", params={"J": J_MAX}, p_min=J_MIN, p_max=J_MAX,
                                 ds=-0.01)
    bps = normal.special("BP")
    branches = [("normal", normal)]
    if bps:
        for k, br in enumerate(switch_branch(normal, bps[0], p_min=J_MIN, p_max=J_MAX)):
            branches.append((f"broken {'+-'[k]}", br))
    tabs = []
    for name, br in branches:
        df = br.to_frame()
        df.insert(0, "branch", name)
        tabs.append(df)
    table = pd.concat(tabs, ignore_index=True)
    # simulations: end states from random initial conditions
    Js = np.linspace(J_MIN, J_MAX, 13 if quick else 31)
    n_init = 4 if quick else 8
    ens = integrate_ensemble(LMG, {"J": Js}, n_initial=n_init, seed=seed, t_end=150.0 if quick else 400.0)
    sims = ens.to_frame()          # one row per trajectory: end state X, Y, Z, time averages
    return table, sims, branches, bps


def plot(table: pd.DataFrame, sims: pd.DataFrame, bps, ax=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 3.8), constrained_layout=True)
    # components in neutral colours (green, orange, crimson ... are the attractor kinds' colours)
    colors = {"X": IC_COLORS[0], "Y": IC_COLORS[1], "Z": IC_COLORS[3]}
    for name, g in table.groupby("branch", sort=False):
        J = g["J"].to_numpy()
        st = g["stable"].to_numpy(bool)
        for comp, c in colors.items():
            v = g[comp].to_numpy()
            for mask, ls in ((st, "-"), (~st, "--")):
                vv = np.where(mask, v, np.nan)
                ax.plot(J, vv, ls=ls, color=c, lw=1.8 if ls == "-" else 1.1,
                        label=f"${comp}$" if (name == "normal" and ls == "-") else None)
    for comp, c in colors.items():
        if comp in sims:
            ax.plot(sims["J"], sims[comp], "o", ms=2.5, mfc="none", mec=c, alpha=0.8, zorder=0)
    for bp in bps:
        ax.axvline(bp.params["J"], color="0.6", lw=0.8, ls=":")
        ax.annotate("BP", (bp.params["J"], 0.9), fontsize="small", color="0.4", ha="right", xytext=(-3, 0),
                    textcoords="offset points")
    ax.set(xlabel=r"$J/g$", ylabel="steady state", xlim=(J_MIN, J_MAX), ylim=(-1.08, 1.08),
           title=r"Fig. 1(d): dissipative LMG spin, $\gamma = 0.5g$")
    ax.plot([], [], "o", ms=3, mfc="none", mec="0.4", label="simulation")
    ax.plot([], [], "--", color="0.4", label="unstable")
    ax.legend(fontsize="small", loc="upper right", ncol=2)
    ax.axhline(0, color="0.85", lw=0.6, zorder=-1)
    return ax


def main(out_dir="results", *, quick: bool = False, seed: int = 11) -> dict:
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    table, sims, branches, bps = compute(quick=quick, seed=seed)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.8), constrained_layout=True)
    plot(table, sims, bps, ax)
    paths = save_figure(fig, out, NAME)
    paths["table"] = save_table(table, out, "branches")
    paths["simulations"] = save_table(sims, out, "simulations")
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"branches.parquet": "branch", "simulations.parquet": "ensemble"},
                  seed=seed, model="lmg", params={"g": 1.0, "gamma": 0.5}, J_range=[J_MIN, J_MAX],
                  critical_J_closed_form=critical_J(), critical_J_continuation=[bp.params["J"] for bp in bps],
                  branch_status={n: [int(b.status), b.message] for n, b in branches})


if __name__ == "__main__":
    run_cli(main, __doc__)
