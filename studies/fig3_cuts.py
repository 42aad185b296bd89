"""Fig. 3: exact Z_B for several S against the mean field of the attracting sets (error bars), on four cuts.

Cuts (:data:`studies.common.CUTS`): (a) lam = 0.1 g, J swept: the LMG transitions, Z_B = 1 until
spin B breaks the Z2 symmetry at J ~ +0.63 g; (b) J = 0, lam swept: the PT transition, Z_B drops
from 1 to 0 at lam = g/2 (mean field averaged over the neutral orbits); (c) lam = g, J swept:
through the oscillating region around J = 0 and the irregular dynamics at large |J|; (d) J = 1.5 g,
lam swept: from the LMG phase through the broken states' Hopf point into cycles and chaos.

Mean field from tracked attractors: along each cut the attractors are continued
(:func:`analysis.track_attractors`: the converged census at each value, seeded from the previous
value's attracting sets plus fresh uniform initial conditions, sets matched by seed lineage with
stable IDs). Each attracting set is drawn as its own curve (thin line, one per ``attractor_id``,
in its kind's colour) with its basin fraction (among the fresh initial conditions) as the marker
area. Black: the attracting-only average (``TrackingResult.averages``: basin-weighted over the
attracting sets, renormalised to their share), with its error bar at every point (basin
sampling over the fresh trajectories plus each set's own error: member spread, block errors and
the window-length bias), clipped to [-1, 1]. Where no set attracts (phase ``none``: J = 0 above
lam = g/2, neutral families of closed orbits, and around J = 0 on cut (c), neutral orbits and
conservative chaos) the average over every classified set (``ZB`` +- ``ZB_err``) is drawn with
open markers. Exact (colours): the steady state of Eq. (5)
at each S (:func:`studies.common.exact_steady_state`); the full run solves S up to 12 on
every cut (S >= 10 on a coarser grid, see ``metadata.json``). Grey ticks along the bottom of a panel
mark the points where the exact Z_B approaches the mean field monotonically in S (the distance
decreases at every step of S; ``trend.parquet``). The inset of panel (a) draws the cuts on the
phase diagram (number of stable fixed points in Fig. 2's colours; Fig. 2's table is reused when
present).

Outputs (``<out>/fig3_cuts/``): ``fig3_cuts.png/.pdf``; ``exact.parquet`` (schema ``exact``, with
``cut``), ``mean_field.parquet`` (``tracked_mean_field``: one row per cut and value),
``tracked.parquet`` (``tracked_attractors``: one row per cut, value and set), ``trend.parquet``
(per cut and exact grid point: the mean field, the distance of each S and ``monotone``),
``metadata.json`` (with ``mean_field_average``, the finite-size trend per cut, the tracked events
per cut and the smoothness check of the mean field where the tracked attracting sets do not change,
and where the census phase alone does not).

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

from studies.common import mean_field_values as common_mean_field_values
from studies.common import CUTS, LABELS, errorbar, exact_sweep, finish, run_cli, save_figure, save_table, study_dir

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


#: what the black curve is (written into metadata.json)
MEAN_FIELD_AVERAGE = ("attracting sets only, from tracked attractors: TrackingResult.averages() (att_ZB +- att_ZB_err, "
                      "basin-weighted over the attracting sets with basins from the fresh uniform initial conditions, "
                      "the error with basin sampling, member spread, block errors and the window-length bias); where "
                      "no set attracts (neutral families) the average over every classified set (ZB +- ZB_err), "
                      "open markers; one thin curve per tracked attracting set, marker area ~ its basin fraction")


def tracked_cut(cut, n: int, *, n_initial: int, seed: int, options):
    """:func:`analysis.track_attractors` along ``cut`` (``n`` values): the converged census at each
    value, seeded from the previous value's attracting sets. No branch continuation and no event
    bisection (Fig. 3 needs the sets and their averages; the events are recorded as bracketed)."""
    from analysis.attractors.tracking import track_attractors
    from bifurcate.models import LMG_DIMER

    return track_attractors(LMG_DIMER, cut.param, cut.values(n), params=dict(cut.fixed), n_initial=n_initial,
                            seed=seed, options=options, continue_branches=False, max_bisect=0)


def tracked_tables(tr, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-value mean field, per-set table) of one cut's :class:`TrackingResult`, with ``cut`` and,
    per value, ``attracting_ids`` (the tracked regime: which sets attract)."""
    sets = tr.to_frame()
    x = tr.param
    av = tr.averages()
    ids = {float(v): ",".join(str(i) for i in sorted(g.loc[g["attracting"], "attractor_id"].astype(int)))
           for v, g in sets.groupby(x)} if len(sets) else {}
    av["attracting_ids"] = [ids.get(float(v), "") for v in av[x]]
    av.insert(0, "cut", key)
    sets.insert(0, "cut", key)
    return av, sets


def mean_field_values(m: pd.DataFrame, name: str = "ZB") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`studies.common.mean_field_values` (the attracting-only average where a set attracts)."""
    return common_mean_field_values(m, name)


def finite_size_trend(mf: pd.DataFrame, ex: pd.DataFrame) -> pd.DataFrame:
    """Per cut and exact grid point that has a mean-field point and every S: the mean field, the
    distance ``dev_S<S>`` = |Z_B(S) - Z_B^MF| of each S and ``monotone`` (the distance decreases at
    every step of S: the exact results approach the mean field monotonically)."""
    rows = []
    for key, cut in CUTS.items():
        x = cut.param
        m = mf[mf["cut"] == key].sort_values(x)
        v, e, _ = mean_field_values(m)
        mx = m[x].to_numpy(float)
        e_ = ex[(ex["cut"] == key) & (ex["status"] == 0)]
        Ss = sorted(e_["S"].unique())
        for xv, g in e_.groupby(x):
            j = np.flatnonzero(np.isclose(mx, xv, atol=1e-9))
            if not j.size or set(g["S"]) != set(Ss) or not np.isfinite(v[j[0]]):
                continue
            g = g.sort_values("S")
            dev = np.abs(g["ZB"].to_numpy(float) - v[j[0]])
            r = {"cut": key, "param": x, "x": float(xv), "ZB_mf": float(v[j[0]]), "ZB_mf_err": float(e[j[0]])}
            r.update({f"dev_S{S:g}": float(d) for S, d in zip(g["S"], dev)})
            r["monotone"] = bool(len(dev) > 1 and np.all(np.diff(dev) < 0))
            rows.append(r)
    return pd.DataFrame(rows)


def smoothness(m: pd.DataFrame, x: str, *, n_sigma: float = 3.0, tol: float = 0.05,
               by: tuple[str, ...] = ("phase",)) -> pd.DataFrame:
    """Is the mean field smooth where the phase does not change? For each interior point whose two
    neighbours on the cut have its phase (the columns ``by``: the census phase, and with
    ``("phase", "attracting_ids")`` also the same tracked attracting sets) and an attracting-only
    average, the residual from the neighbours' midpoint, ``r = |y_i - (y_{i-1} + y_{i+1}) / 2|``,
    against ``n_sigma`` times its standard error plus ``tol`` (curvature a smooth curve has on the
    grid); ``rough`` where it is larger. One row per such point."""
    m = m.sort_values(x).reset_index(drop=True)
    v, e, att = mean_field_values(m)
    for c in by:
        if c not in m:
            raise KeyError(f"by: expected columns of the mean-field table, got {c!r}")
    ph = m[list(by)].astype(str).agg("|".join, axis=1).to_numpy() if len(m) else np.array([], dtype=object)
    rows = []
    for i in range(1, len(m) - 1):
        if not (att[i - 1] and att[i] and att[i + 1]) or not (ph[i - 1] == ph[i] == ph[i + 1]):
            continue
        r = abs(v[i] - 0.5 * (v[i - 1] + v[i + 1]))
        sig = float(np.sqrt(np.nan_to_num(e[i]) ** 2 + 0.25 * (np.nan_to_num(e[i - 1]) ** 2 + np.nan_to_num(e[i + 1]) ** 2)))
        rows.append({x: float(m[x].iloc[i]), "phase": str(m["phase"].iloc[i]), "value": float(v[i]),
                     "residual": float(r), "sigma": sig,
                     "rough": bool(r > n_sigma * sig + tol)})
    return pd.DataFrame(rows, columns=[x, "phase", "value", "residual", "sigma", "rough"])


def plot(mf: pd.DataFrame, ex: pd.DataFrame, nmap: pd.DataFrame, trend: pd.DataFrame | None = None,
         sets: pd.DataFrame | None = None):
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap

    from analysis.style import CMAPS, count_colors, kind_color

    fig, axes = plt.subplots(2, 2, figsize=(10.5, 7.6), constrained_layout=True)
    Ss = sorted(ex["S"].unique())
    cmap = plt.get_cmap(CMAPS["spin_length"])
    cols = {S: cmap(0.15 + 0.7 * k / max(len(Ss) - 1, 1)) for k, S in enumerate(Ss)}
    for ax, (key, cut) in zip(axes.ravel(), CUTS.items()):
        x = cut.param
        for S in Ss:
            g = ex[(ex["cut"] == key) & (ex["S"] == S)].sort_values(x)
            ax.plot(g[x], g["ZB"], "-", color=cols[S], lw=1.3, label=f"$S={S:g}$" if key == "a" else None)
        if sets is not None and len(sets):
            # one thin curve per tracked attracting set, marker area ~ its basin fraction
            st = sets[(sets["cut"] == key) & sets["attracting"]]
            for aid, g in st.groupby("attractor_id"):
                g = g.sort_values(x)
                col = kind_color(str(g["kind"].iloc[0]))
                ax.plot(g[x], g["ZB"], "-", color=col, lw=0.7, alpha=0.8, zorder=2)
                ax.scatter(g[x], g["ZB"], s=4.0 + 60.0 * np.nan_to_num(g["basin_fraction"].to_numpy(float)),
                           color=[kind_color(k) for k in g["kind"].astype(str)], alpha=0.6, linewidths=0, zorder=2)
            if key == "b":
                ax.scatter([], [], s=30, color="0.5", alpha=0.6, linewidths=0,
                           label="tracked attracting sets\n(area: basin fraction)")
        m = mf[mf["cut"] == key].sort_values(x)
        # the attracting-only average with its error bar at every point (open markers: no set
        # attracts, the average over the neutral families), bars clipped to [-1, 1]
        v, e, att = mean_field_values(m)
        xv = m[x].to_numpy(float)
        ax.plot(xv, v, "-", color="k", lw=1.1, zorder=3)
        errorbar(ax, xv[att], v[att], e[att], fmt="o", color="k", ms=3, zorder=4,
                 label="mean field (attracting sets)" if key == "b" else None)
        if (~att).any():
            errorbar(ax, xv[~att], v[~att], e[~att], fmt="o", color="k", mfc="w", ms=3.5, zorder=4,
                     label="mean field (no attractor:\nnon-attracting orbits)" if key == "b" else None)
        if trend is not None and len(trend):
            tr = trend[(trend["cut"] == key) & trend["monotone"]]
            ax.plot(tr["x"], np.full(len(tr), -1.0), "|", color="0.45", ms=7, mew=1.2,
                    label=r"exact $\to$ MF monotone in $S$" if key == "b" else None)
        ax.set(xlim=(cut.lo, cut.hi), ylim=(-1.05, 1.08), xlabel=LABELS[x], ylabel=LABELS["ZB"])
        ax.set_title(f"({key}) {cut.description}", color="k")
        ax.axhline(0, color="0.85", lw=0.6, zorder=-1)
    axes[0, 1].legend(fontsize="x-small", loc="upper right")
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
    fig.suptitle(r"Fig. 3: exact $Z_B$ (colours, spin length $S$) vs the mean field averaged over the attracting "
                 r"sets (black), $\gamma = 0.5g$", fontsize="medium")
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 2025, resume: bool = True) -> dict:
    """Run the study. ``resume``: every exact steady state is kept in ``cache_exact.parquet`` in the output folder
    as soon as it is solved and reused by the next run (the publication run's exact solves to S = 12 take hours;
    an interrupted run goes on where it stopped; delete the file, or pass ``resume=False``, to recompute)."""
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    n_mf = 21 if quick else 81
    # exact grids: (S values, points per cut). A Krylov solve at S = 12 off J = 0 costs 15-30 s of
    # CPU per point (S = 10: 5-11 s, S = 8: 1.5-3 s; the J = 0 cut takes the U(1) direct solve,
    # under 1 s), so the largest S run on every fourth point of the mean-field grid
    exact_grids = [((1, 2, 4), 21)] if quick else [((2, 4, 6, 8), 81), ((10, 12), 21)]
    n_init = 32 if quick else 128
    census_options = {"t_transient": 400.0 if quick else 1000.0, "t_total": 100.0 if quick else 400.0}
    mfs, sets, exs, times, events = [], [], [], {}, {}
    for key, cut in CUTS.items():
        t = time.perf_counter()
        tr = tracked_cut(cut, n_mf, n_initial=n_init, seed=seed, options=census_options)
        av, st = tracked_tables(tr, key)
        mfs.append(av)
        sets.append(st)
        ev = tr.events()
        events[key] = {"n_events": int(len(ev)), "by_kind": {str(k): int(v) for k, v in ev["event"].value_counts().items()},
                       "brackets": [[str(r["event"]), str(r["attractor_ids"]), round(float(r["lo"]), 6),
                                     round(float(r["hi"]), 6)] for _, r in ev.iterrows()],
                       "n_attractor_ids": int(st["attractor_id"].nunique()) if len(st) else 0}
        times[f"mean_field_{key}"] = time.perf_counter() - t
        t = time.perf_counter()
        for S_values, n_ex in exact_grids:
            e = exact_sweep(cut.points(n_ex), S_values, cache=out / "cache_exact.parquet" if resume else None)
            e.insert(0, "cut", key)
            exs.append(e)
        times[f"exact_{key}"] = time.perf_counter() - t
    mf = pd.concat(mfs, ignore_index=True)
    sets_df = pd.concat(sets, ignore_index=True)
    ex = pd.concat(exs, ignore_index=True)
    trend = finite_size_trend(mf, ex)

    def smooth_summary(by):
        out_ = {}
        for key, cut in CUTS.items():
            sm = smoothness(mf[mf["cut"] == key], cut.param, by=by)
            out_[key] = {"n_checked": int(len(sm)), "n_rough": int(sm["rough"].sum()),
                         "rough_at": [round(float(v), 6) for v in sm.loc[sm["rough"], cut.param]],
                         # the largest residual and its margin to the bound 3 sigma + 0.05 (< 0: smooth)
                         "max_residual": float(sm["residual"].max()) if len(sm) else float("nan"),
                         "max_excess_over_bound": float((sm["residual"] - 3.0 * sm["sigma"] - 0.05).max())
                         if len(sm) else float("nan")}
        return out_

    # the phase of the mean field: the census phase and the tracked attracting sets (a set that
    # dies while another of the same kind takes over changes the average but not the phase label)
    smooth = smooth_summary(("phase", "attracting_ids"))
    smooth_phase_only = smooth_summary(("phase",))
    fig = plot(mf, ex, inset_map(out_dir, quick), trend, sets_df)
    paths = save_figure(fig, out, NAME)
    paths["table"] = save_table(ex, out, "exact")
    paths["mean_field"] = save_table(mf, out, "mean_field")
    paths["tracked"] = save_table(sets_df, out, "tracked")
    paths["trend"] = save_table(trend, out, "trend")
    v, e, att = mean_field_values(mf)
    S_all = sorted(float(S) for S in ex["S"].unique())
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"exact.parquet": "exact", "mean_field.parquet": "tracked_mean_field",
                          "tracked.parquet": "tracked_attractors"}, seed=seed,
                  S_values=S_all, exact_grids=[{"S": list(S), "points_per_cut": n} for S, n in exact_grids],
                  n_initial=n_init, cuts={k: vars(c) for k, c in CUTS.items()},
                  mean_field_average=MEAN_FIELD_AVERAGE,
                  mean_field_error_bars={"points": int(len(mf)), "with_finite_error": int(np.isfinite(e).sum()),
                                         "attracting_only": int(att.sum())},
                  finite_size_trend={k: {"points": int((trend["cut"] == k).sum()) if len(trend) else 0,
                                         "monotone": int(trend.loc[trend["cut"] == k, "monotone"].sum())
                                         if len(trend) else 0} for k in CUTS},
                  smoothness=smooth, smoothness_by_census_phase=smooth_phase_only, tracked_events=events,
                  census_options=census_options, stage_times_s=times,
                  exact_methods=sorted(ex["method"].dropna().unique().tolist()),
                  exact_max_wall_s={f"S={S:g}": float(ex.loc[ex["S"] == S, "wall_time"].max()) for S in S_all},
                  max_residual=float(ex["residual"].max()))


if __name__ == "__main__":
    run_cli(main, __doc__)
