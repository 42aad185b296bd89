"""Beyond the paper: bifurcation diagrams (Z_B) along the four cuts of Fig. 3.

On each cut (:data:`studies.common.CUTS`) the study continues, by pseudo-arclength:

* the normal state (X = Y = 0, Z_A = -1, Z_B = 1) with its BP (Eq. (12)) and HB points;
* the Z2-broken (LMG) branches switched onto at each BP, and the stable equilibria found at either
  end of the cut (continued across it);
* the limit cycles born at every Hopf point (orthogonal collocation, Floquet multipliers), drawn as
  max/min envelopes of Z_B.

Stable parts solid, unstable dashed. Grey dots: the min and max of Z_B over the late window of
direct simulations from random initial conditions (a brute-force bifurcation diagram), which shows
where the attractors are not on any continued branch (neutral families on J = 0, tori and chaos).

Findings drawn on the figure: on J = 0 the Hopf point at lam = g/2 is degenerate (first Lyapunov
coefficient 0): the cycle continuation stops with a *vertical family* (the conservative, reversible
PT dimer has a one-parameter family of neutral orbits, not an isolated cycle).

Outputs (``<out>/bifurcation_diagrams/``): ``bifurcation_diagrams.png/.pdf``; ``branches.parquet``
(schema ``branch``: every continuation point, with ``cut`` and ``branch`` names),
``special_points.parquet`` (``special_points``), ``simulations.parquet`` (``ensemble``),
``metadata.json``.

Run: ``python -m studies.bifurcation_diagrams --out results [--quick]``.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from analysis.plots_cycles import _MARKERS as _CYCLE_MARKERS  # cycle points: shapes unlike the equilibria's
from studies.common import CUTS, LABELS, finish, run_cli, save_figure, save_table, study_dir

NAME = "bifurcation_diagrams"


def _same_branch(a, b, param_values, tol=1e-3) -> bool:
    """Do two equilibrium branches coincide (same state at a shared parameter value)?"""
    pa, pb = a.param_values, b.param_values
    lo, hi = max(pa.min(), pb.min()), min(pa.max(), pb.max())
    if hi <= lo:
        return False
    v = 0.5 * (lo + hi)
    ia, ib = np.argmin(np.abs(pa - v)), np.argmin(np.abs(pb - v))
    if abs(pa[ia] - pb[ib]) > 0.05 * (hi - lo) + 1e-9:
        return False
    return float(np.max(np.abs(a.states[ia] - b.states[ib]))) < 0.05


def continue_cut(cut, *, quick: bool = False):
    """Equilibrium and cycle branches along one cut; returns (list of (name, Branch), messages)."""
    from bifurcate.continuation import continue_equilibria
    from bifurcate.continuation.switching import switch_branch
    from bifurcate.cycles import continue_cycles
    from bifurcate.equilibria import find_equilibria
    from bifurcate.models import LMG_DIMER, NORMAL_STATE

    p = cut.param
    kw = dict(p_min=cut.lo, p_max=cut.hi)
    notes = []
    eq_branches = []
    normal = continue_equilibria(LMG_DIMER, NORMAL_STATE, param=p, params={**cut.fixed, p: cut.lo}, ds=0.01, **kw)
    eq_branches.append(("normal", normal))
    for k, bp in enumerate(normal.special("BP")):
        try:
            for j, br in enumerate(switch_branch(normal, bp, **kw)):
                eq_branches.append((f"broken (BP {bp.params[p]:+.3f}){' mirror' if j else ''}", br))
        except Exception as exc:  # noqa: BLE001 - a diagram never dies on one branch
            notes.append(f"switch at BP {bp.params[p]:.3f}: {type(exc).__name__}: {exc}")
    # stable equilibria at the ends of the cut that are on no branch yet
    for end, ds in ((cut.lo, 0.01), (cut.hi, -0.01)):
        try:
            eq = find_equilibria(LMG_DIMER, {**cut.fixed, p: end})
        except Exception as exc:  # noqa: BLE001
            notes.append(f"find_equilibria at {p}={end}: {exc}")
            continue
        for y in eq.stable_states():
            try:
                br = continue_equilibria(LMG_DIMER, y, param=p, params={**cut.fixed, p: end}, ds=ds, **kw)
            except Exception as exc:  # noqa: BLE001
                notes.append(f"continuation from {p}={end}: {exc}")
                continue
            if not any(_same_branch(br, b, None) for _, b in eq_branches):
                eq_branches.append((f"stable at {p}={end:g}", br))
    cyc_branches = []
    max_points = 40 if quick else 200
    for name, br in eq_branches:
        for hb in br.special("HB"):
            # a Z2 image of a Hopf point already followed gives the mirror cycle: skip it
            if any(abs(c.stats.get("hopf_param", np.nan) - hb.params[p]) < 1e-6
                   and abs(c.stats.get("hopf_ZB", np.nan) - hb.state[5]) < 1e-6 for _, c in cyc_branches):
                continue
            try:
                cb = continue_cycles(LMG_DIMER, hb, param=p, max_points=max_points, **kw)
            except Exception as exc:  # noqa: BLE001
                notes.append(f"cycles from HB {p}={hb.params[p]:.3f}: {type(exc).__name__}: {exc}")
                continue
            cb.stats["hopf_param"] = float(hb.params[p])
            cb.stats["hopf_ZB"] = float(hb.state[5])
            cyc_branches.append((f"cycles from HB {hb.params[p]:.3f} ({name})", cb))
            if cb.status != 0:
                notes.append(f"cycles from HB {p}={hb.params[p]:.3f}: {cb.message}")
    return eq_branches + cyc_branches, notes


def brute_force(cut, *, quick: bool, seed: int):
    """Direct simulations along the cut: min/max/mean of Z_B over the late window, per trajectory."""
    from bifurcate import integrate_ensemble
    from bifurcate.models import LMG_DIMER

    vals = cut.values(41 if quick else 201)
    params = {cut.param: vals, **{k: np.full(vals.size, v) for k, v in cut.fixed.items()}}
    ens = integrate_ensemble(LMG_DIMER, params, n_initial=6 if quick else 16, seed=seed,
                             t_end=300.0 if quick else 1000.0, t_transient=200.0 if quick else 700.0)
    df = ens.to_frame()
    df.insert(0, "cut", cut.name)
    return df


def plot(cuts, results, sims):
    import matplotlib.pyplot as plt

    from analysis.plots_bifurcation import _MARKERS, annotate_points, plot_branch
    from analysis.plots_cycles import plot_cycle_envelope
    from analysis.style import KIND_COLORS

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.6), constrained_layout=True)
    for ax, (key, cut) in zip(axes.ravel(), cuts.items()):
        s = sims[sims["cut"] == key]
        x = s[cut.param].to_numpy()
        ax.plot(np.r_[x, x], np.r_[s["min_ZB"], s["max_ZB"]], ".", ms=2, color="0.7", zorder=0,
                label="simulation min/max")
        branches, notes = results[key]
        ci = 0
        seen: set = set()
        labels = []
        for name, br in branches:
            if br.kind == "cycle":
                if len(br) < 2:
                    continue
                plot_cycle_envelope(br, "ZB", ax=ax, color=KIND_COLORS["LC"],
                                    label="cycles (max/min)" if ci == 0 else None, annotate=False)
                for q in br.points:
                    orbit = np.asarray(q.data.get("orbit", q.state[None, :]))
                    mk = _CYCLE_MARKERS.get(q.kind, "x")
                    ax.plot([q.param, q.param], [orbit[:, 5].max(), orbit[:, 5].min()], ls="none", marker=mk,
                            color="k", ms=4, mfc="k" if q.located else "none")
                    seen.add(q.kind)
                ci += 1
            else:
                plot_branch(br, "ZB", ax=ax, color="k" if name == "normal" else KIND_COLORS["FP"], lw=1.4,
                            label="normal state" if name == "normal" else None, annotate=False)
                labels += [(q.param, q.state[5], q.kind, _MARKERS.get(q.kind, ("o", "k"))[1]) for q in br.points
                           if q.kind != "NSad"]
        ax.set(xlim=(cut.lo, cut.hi), ylim=(-1.08, 1.16), xlabel=LABELS[cut.param], ylabel=LABELS["ZB"])
        ax.set_title(f"({key}) {cut.description}")
        # nearby special points (HB and BP of the normal state and its mirror images) share one label
        annotate_points(ax, labels, min_sep=0.09)
        if key == "b" and any("vertical family" in n for n in notes):
            ax.annotate("degenerate Hopf:\nvertical family of\nneutral orbits", (0.5, 1.0), xytext=(0.75, 0.45),
                        fontsize="small", arrowprops=dict(arrowstyle="->", color="0.3"), color="0.2")
        for kind in sorted(seen):
            ax.plot([], [], ls="none", marker=_CYCLE_MARKERS.get(kind, "x"), color="k", ms=4, label=kind)
        ax.plot([], [], "-", color=KIND_COLORS["FP"], label="broken / other equilibria")
        ax.plot([], [], "--", color="0.3", label="unstable")
    for ax in axes.ravel():
        ax.legend(fontsize="x-small", loc="lower left", ncol=2, framealpha=0.85)
    fig.suptitle(r"Bifurcation diagrams along the cuts of Fig. 3 ($\gamma = 0.5g$): equilibria, cycles, simulations")
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 5) -> dict:
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    results, tabs, pts, sims, times = {}, [], [], [], {}
    for key, cut in CUTS.items():
        t = time.perf_counter()
        branches, notes = continue_cut(cut, quick=quick)
        results[key] = (branches, notes)
        times[f"continuation_{key}"] = time.perf_counter() - t
        for name, br in branches:
            df = br.to_frame()
            keep = [c for c in df.columns if not (c.startswith("ev") and c[2:3].isdigit())]
            df = df[keep]
            df.insert(0, "branch", name)
            df.insert(0, "cut", key)
            df["branch_status"] = br.status
            tabs.append(df)
            if br.points:
                pf = br.points_frame()
                pf.insert(0, "branch", name)
                pf.insert(0, "cut", key)
                pts.append(pf)
        t = time.perf_counter()
        sims.append(brute_force(cut, quick=quick, seed=seed))
        times[f"simulation_{key}"] = time.perf_counter() - t
    table = pd.concat(tabs, ignore_index=True)
    points = pd.concat(pts, ignore_index=True) if pts else pd.DataFrame()
    for c in points.columns:
        if points[c].dtype == object:
            points[c] = points[c].astype(str)
    simtab = pd.concat(sims, ignore_index=True)
    fig = plot(CUTS, results, simtab)
    paths = save_figure(fig, out, NAME)
    paths["table"] = save_table(table, out, "branches")
    paths["special_points"] = save_table(points, out, "special_points")
    paths["simulations"] = save_table(simtab, out, "simulations")
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"branches.parquet": "branch", "special_points.parquet": "special_points",
                          "simulations.parquet": "ensemble"},
                  seed=seed, cuts={k: vars(c) for k, c in CUTS.items()}, stage_times_s=times,
                  notes={k: v[1] for k, v in results.items()},
                  branches={k: [[n, int(b.status), b.message, len(b)] for n, b in v[0]] for k, v in results.items()})


if __name__ == "__main__":
    run_cli(main, __doc__)
