"""Beyond the paper: maps of the attractor kinds and of the largest Lyapunov exponent over (J, lam).

At every grid point :func:`analysis.phase_diagrams.phase_diagram` integrates an ensemble of initial
conditions; points whose trajectories all settle on stable equilibria are fixed-point points, the
others get the attractor census (Lyapunov spectra on the tangent space, 0-1 test, Poincare returns,
grouping): kinds FP (fixed point), LC (limit cycle), QP (torus), CH (chaos), NEUTRAL (families of
neutral orbits of a conservative, reversible flow, as on J = 0).

Panels: (left) the phase at each point from the converged census's labels: the attracting sets
with multiplicity, mirror pairs counted together (``FP``, ``2FP``, ``FP+2LC``, ``2CH``, ...; hatched
where attractors coexist; phases on fewer than 2 % of the points with more than one attracting
set are drawn lumped as ``<most complex kind>+others (rare)``, the table keeps every phase),
``NEUTRAL`` where no set attracts and non-attracting sets (neutral
families of closed orbits, conservative chaos) hold the basin (J = 0 above lam = g/2, and around
J = 0 at large lam); (middle) the largest
Lyapunov exponent over the attractors of the point (positive: chaos); (right) the basin-weighted,
attractor-averaged Z_B (what Fig. 3 compares with the exact results). The exact boundaries of the
fixed-point phases (continuation) are drawn solid, Eqs. (12)-(13) dashed; the cycles' fold (LPC,
dash-dotted) and period-doubling (PD, dotted) curves, continued in (J, lam) from points located on
one-parameter cycle branches (:func:`cycle_curves`, :data:`CYCLE_SCANS`), are overlaid with a white
outline, and the normal state's fold of cycles, which is not a generic LPC (a time-reversal
symmetric family: status -6 of :func:`bifurcate.cycles.codim2.continue_cycle_codim2`, no curve), is
marked by diamonds at its one-parameter locations (J = +-0.2, +-0.3, +-0.4). Blue bars on the left
panel mark phase changes between grid neighbours that no continued curve or marker explains
(:func:`analysis.phase_boundaries.phase_transitions` against all of them, tolerance one grid
step): global transitions (crises, homoclinic orbits), or flicker of the census label; their
counts, and the local ones by curve kind, are in ``metadata.json`` (``phase_transitions``).

Outputs (``<out>/attractor_map/``): ``attractor_map.png/.pdf``; ``attractor_map.parquet`` (schema
``phase_diagram``, plus ``dominant_kind``), ``metadata.json``; the cache of the cycle curves, in
``<out>/cycle_curves/`` (shared with ``fig2_phase_diagram``): ``cycle_curves.parquet`` (``curve``,
``kind``, ``segment``, ``J``, ``lam``, ``order``),
``cycle_markers.parquet`` (``curve``, ``kind``, ``J``, ``lam``, ``note``) and ``cycle_curves.json``
(settings, every continuation run with its call, status and wall time, the check against the
one-parameter reference points): a later run with the same settings reads them instead of
continuing again (``cycle_curves.cached`` in ``metadata.json``).

Run: ``python -m studies.attractor_map --out results [--quick]``. Quick: 17 x 13 points, 6 initial
conditions (~30 s on 2 cores), cycle curves on a coarse mesh (ntst = 10; the first PD curve then
passes J = 1 at lam 0.67423 against 0.67387 on a fine mesh; ~10-20 s the first time, cached after);
full: 81 x 61, 16 initial conditions, longer census windows, cycle curves at ntst = 20.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from studies.common import (LABELS, draw_boundaries, exact_boundaries, finish, run_cli, save_figure, save_table,
                            study_dir)

NAME = "attractor_map"
J_MAX, LAM_MAX = 2.0, 1.5
KIND_ORDER = ("FP", "LC", "QP", "CH", "NEUTRAL", "DIV", "unclassified")


def dominant_kind(df):
    """The kind with the largest basin fraction at each row (``frac_<kind>`` columns)."""
    cols = [f"frac_{k}" for k in KIND_ORDER if f"frac_{k}" in df]
    fr = df[cols].to_numpy(float)
    fr = np.where(np.isfinite(fr), fr, -1.0)
    out = np.array([c.removeprefix("frac_") for c in cols], dtype=object)[np.argmax(fr, axis=1)]
    out[np.max(fr, axis=1) <= 0] = "unclassified"
    return out


def shown_phase(df):
    """The phase drawn at each row: the census's ``phase``; where no set attracts (``none``),
    ``NEUTRAL`` (non-attracting: neutral families and conservative chaos) if those sets hold more of
    the basin than the undecided trajectories, else undecided (``-1``)."""
    ph = df["phase"].astype(str).to_numpy(object).copy()
    none = (ph == "none") | (ph == "nan") | (ph == "")

    def col(c):
        return df[c].to_numpy(float) if c in df else np.zeros(len(df))

    neutral = (col("frac_neutral") + col("frac_conservative")) > col("frac_unclassified")
    ph[none & neutral] = "NEUTRAL"
    ph[none & ~neutral] = "-1"
    return ph


#: phases holding less than this share of the grid's points are drawn lumped (see :func:`lump_rare`)
RARE_SHARE = 0.02


def lump_rare(ph, share: float = RARE_SHARE):
    """A handful of phases for the map's legend: a phase on fewer than ``share`` of the points that
    has more than one attracting set is drawn as ``<K>+others (rare)``, K its most complex kind
    (``2FP+LC+2CH`` -> ``CH+others (rare)``); the exact phase of every point stays in the table."""
    from analysis.style import phase_kinds

    order = ("CH", "QP", "LC", "NEUTRAL", "FP")
    ph = np.asarray(ph, dtype=object).copy()
    vals, counts = np.unique(ph.astype(str), return_counts=True)
    for v, c in zip(vals, counts):
        ks = [(k, n) for k, n in phase_kinds(v) if k in order]
        if c >= share * ph.size or sum(n for _, n in ks) < 2:
            continue
        top = min((k for k, _ in ks), key=order.index)
        ph[ph == v] = f"{top}+others (rare)"
    return ph


def cost_summary(pdg, cpu_s: float, wall_s: float, n_initial: int, target=(201, 201, 16)) -> dict:
    """What the converged census costs per grid point here, and the extrapolation to ``target``
    (nJ, nlam, n_initial): CPU seconds scale with the points and, through the census's per-trajectory
    integration, linearly with the initial conditions (the region mix of this grid is the target's:
    both span the same window). Stage sums are the census's own per-point timings."""
    n = len(pdg.table)
    per_point_cpu = cpu_s / n
    n_target = target[0] * target[1]
    extra = per_point_cpu * n_target * (target[2] / n_initial)
    stages = {k: round(v / n, 4) for k, v in pdg.timings().items()}
    return {"points": n, "n_initial": n_initial, "cpu_s": round(cpu_s, 1), "wall_s": round(wall_s, 1),
            "cpu_s_per_point": round(per_point_cpu, 4), "stage_wall_s_per_point": stages,
            "target": {"grid": list(target[:2]), "n_initial": target[2],
                       "extrapolated_cpu_s": round(extra, 0),
                       "extrapolated_wall_s_2_cores_ideal": round(extra / 2, 0)}}


def curve_tables(curves) -> list:
    """The exact curves (:func:`studies.common.exact_boundaries`) as one table per connected curve
    (``J``, ``lam``, ``label`` = BP or HB, ``curve``) for :func:`analysis.phase_boundaries.phase_transitions`;
    neutral-saddle rows dropped, the two halves of the BP curve (J > 0, J < 0) kept apart."""
    out = []
    if curves is None or not len(curves):
        return out
    for (name, seg), g in curves.groupby(["curve", "segment"], sort=False):
        if seg == "NSad":
            continue
        parts = [(name + " +", g[g["J"] > 0]), (name + " -", g[g["J"] < 0])] if name == "BP normal" else [(name, g)]
        for nm, part in parts:
            if len(part) >= 2:
                out.append(part[["J", "lam"]].assign(label="BP" if name.startswith("BP") else "HB", curve=nm)
                           .reset_index(drop=True))
    return out


def transitions_summary(tr) -> dict:
    """Counts of the phase changes between grid neighbours: local (on a continued curve, by kind)
    and global, and the global ones by pair of phases (most frequent first)."""
    if not len(tr):
        return {"n": 0, "n_local": 0, "n_global": 0}
    glob = tr[tr["classification"] == "global"]
    pairs = glob.apply(lambda r: " | ".join(sorted((str(r["before"]), str(r["after"])))), axis=1) if len(glob) else []
    return {"n": int(len(tr)), "n_local": int((tr["classification"] == "local").sum()), "n_global": int(len(glob)),
            "local_by_curve_kind": {str(k): int(v) for k, v in
                                    tr.loc[tr["classification"] == "local", "curve_kind"].value_counts().items()},
            "global_by_phase_pair": {str(k): int(v) for k, v in pd.Series(pairs).value_counts().head(12).items()}
            if len(glob) else {}}


# --------------------------------------------------------------------------------------------
# the cycles' curves (LPC, PD, NS): continued once, cached in the study's output
# --------------------------------------------------------------------------------------------
#: the sub-directory of the output that holds the cycle curves' cache (shared by the studies that draw them)
CYCLE_CACHE = "cycle_curves"
#: how the cycle curves are found (:func:`analysis.phase_boundaries.cycle_boundaries`): scan lines
#: at fixed J (the broken states' cycles from their Hopf points at J >= 1; the normal state's
#: subcritical-Hopf cycles at J = 0.2, 0.3, 0.4, whose fold is non-generic: markers). Quick: a
#: coarse mesh (ntst = 10), the first two curves met (the generic LPC from J = 1.5, lam = 0.4130,
#: and the first PD curve through J = 1.5, lam = 0.5039). Full: ntst = 20, every curve met (two
#: LPC and two PD curves for J > 0). J < 0 is drawn as the J -> -J mirror image of J > 0: the
#: diagram is symmetric, checked by continuing both signs independently (ntst = 20, scan lines
#: J = +-1, +-1.2, +-1.5, +-2, 769 s on a loaded machine: the same four curves each side, their J
#: and lam ranges equal to the 6 digits compared; at ntst = 10 the PD and the LPC at J = -1.5 and
#: +1.5 agree to 3e-8 in lam).
CYCLE_SCANS = {
    True: dict(scan=(1.5, 0.2, 0.3, 0.4), ntst=10, max_curves=2, max_curve_steps=150,
               curve_options={"ds_max": 0.2}, mirror=True),
    False: dict(scan=(1.0, 1.2, 1.5, 2.0, 0.2, 0.3, 0.4), ntst=20, max_curves=None, max_curve_steps=400,
                curve_options={"ds_max": 0.1}, mirror=True),
}
#: one-parameter reference points the curves must pass through (J, lam, kind): the first PD of the
#: broken state's cycles at J = 1 (collocation, ntst = 40, and AUTO-07p), and the generic LPC at J = 1.5
CYCLE_REFERENCES = ((1.0, 0.6738699962, "PD"), (1.5, 0.4130126, "LPC"))


def _mirror(b, name: str = "J"):
    """The J -> -J image of a Boundaries' curves and markers (names suffixed ``(J<0)``)."""
    from dataclasses import replace

    t = b.table.copy()
    t[name] = -t[name]
    t["curve"] = t["curve"].astype(str) + " (J<0)"
    m = b.markers.copy()
    if len(m):
        m[name] = -m[name]
        m["curve"] = m["curve"].astype(str) + " (J<0)"
    return replace(b, table=pd.concat([b.table, t], ignore_index=True),
                   markers=pd.concat([b.markers, m], ignore_index=True) if len(m) else b.markers)


def cycle_curves(out, *, quick: bool, J_max: float = J_MAX, lam_max: float = LAM_MAX):
    """The LPC / PD / NS curves and the non-generic fold markers over the map's rectangle, read from
    ``<out>/cycle_curves.parquet`` (+ ``cycle_markers.parquet``, ``cycle_curves.json`` with the
    settings and the runs) when those were written with the same settings, else computed
    (:func:`analysis.phase_boundaries.cycle_boundaries`) and written. Returns ``(Boundaries,
    info)``, ``info`` with ``cached``, ``wall_s`` (of the computation), the settings and the runs."""
    import json
    from pathlib import Path

    from analysis.phase_boundaries import Boundaries, cycle_boundaries
    from bifurcate.models import LMG_DIMER

    cfg = dict(CYCLE_SCANS[bool(quick)])
    key = {"model": LMG_DIMER.name, "J": [-J_max, J_max], "lam": [0.0, lam_max],
           **{k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}}
    out = Path(out)
    pc, pm, pj = out / "cycle_curves.parquet", out / "cycle_markers.parquet", out / "cycle_curves.json"
    if pc.exists() and pm.exists() and pj.exists():
        try:
            info = json.loads(pj.read_text())
            if info.get("key") == key:
                b = Boundaries(table=pd.read_parquet(pc), x="J", y="lam", markers=pd.read_parquet(pm),
                               status=int(info["status"]), message=str(info["message"]),
                               runs=pd.DataFrame(info["runs"]))
                return b, dict(info, cached=True)
        except (OSError, ValueError, KeyError):
            pass  # an unreadable cache is recomputed
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    mirror = cfg.pop("mirror")
    b = cycle_boundaries(LMG_DIMER, {"J": [-J_max, J_max], "lam": [0.0, lam_max]}, {"J": list(cfg.pop("scan"))},
                         **cfg)
    if mirror:
        b = _mirror(b)
    wall = time.perf_counter() - t
    b.table.to_parquet(pc)
    b.markers.to_parquet(pm)
    info = {"key": key, "status": b.status, "message": b.message, "wall_s": round(wall, 1),
            "runs": b.runs.to_dict(orient="records"), "references": reference_check(b)}
    pj.write_text(json.dumps(info, indent=1, default=str))
    return b, dict(info, cached=False)


def reference_check(b) -> list[dict]:
    """Each curve of :data:`CYCLE_REFERENCES`'s kind, at the reference's J: the lam of the curve
    nearest the reference point (linear interpolation between curve rows)."""
    out = []
    for J, lam, kind in CYCLE_REFERENCES:
        best = None
        for c in b.curves():
            if c["label"].iloc[0] != kind:
                continue
            x, y = c["J"].to_numpy(float), c["lam"].to_numpy(float)
            for k in np.flatnonzero((x[:-1] - J) * (x[1:] - J) <= 0):
                if x[k + 1] == x[k]:
                    continue
                v = y[k] + (y[k + 1] - y[k]) * (J - x[k]) / (x[k + 1] - x[k])
                if best is None or abs(v - lam) < abs(best[0] - lam):
                    best = (float(v), str(c["curve"].iloc[0]))
        out.append({"J": J, "kind": kind, "reference_lam": lam, "curve_lam": best[0] if best else None,
                    "curve": best[1] if best else None,
                    "abs_diff": abs(best[0] - lam) if best else None})
    return out


#: how the cycle curves and fold markers are drawn on the maps (black with a white outline: visible
#: on every phase colour; the fixed points' curves are plain black, solid)
CYCLE_STYLES = {"LPC": dict(ls=(0, (6, 2, 1.5, 2)), color="k", lw=1.4),
                "PD": dict(ls=(0, (1.2, 1.4)), color="k", lw=2.0),
                "NS": dict(ls=(0, (4, 1.5)), color="0.3", lw=1.4)}


def draw_cycle_curves(ax, cyc, *, legend: bool = True) -> list:
    """The cycle curves (``Boundaries``) and the non-generic fold markers on ``ax``; returns the
    legend handles (one per kind drawn)."""
    import matplotlib.patheffects as pe
    from matplotlib.lines import Line2D

    from analysis.plots_phase import MARKER_STYLE  # the markers' style, the same in every map

    if cyc is None:
        return []
    xl, yl = ax.get_xlim(), ax.get_ylim()
    fx = [pe.Stroke(linewidth=3.2, foreground="w", alpha=0.8), pe.Normal()]
    handles, seen = [], set()
    for c in cyc.curves():
        kind = str(c["label"].iloc[0])
        st = CYCLE_STYLES.get(kind, CYCLE_STYLES["NS"])
        ax.plot(c["J"], c["lam"], path_effects=fx, zorder=3, **st)
        if kind not in seen:
            seen.add(kind)
            handles.append(Line2D([], [], label=f"{kind} curve", path_effects=fx, **st))
    if len(cyc.markers):
        m = cyc.markers
        ax.plot(m["J"], m["lam"], **MARKER_STYLE)
        for kind in m["kind"].unique():
            handles.append(Line2D([], [], label=f"{kind} (non-generic, 1-par.)", **MARKER_STYLE))
    ax.set_xlim(xl)
    ax.set_ylim(yl)
    return handles if legend else []


def _fragile_summary(df) -> dict:
    """Share of points whose phase the census flags as fragile, and how often each reason occurs."""
    if "fragile" not in df:
        return {"share": None}
    f = df["fragile"].astype("boolean").fillna(False).to_numpy(bool)
    reasons = {}
    for r in df.loc[f, "fragile_reason"]:
        for part in str(r).split("; "):
            key = part.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
    return {"share": float(f.mean()) if len(f) else None, "n": int(f.sum()), "reasons": reasons,
            "meaning": "the phase rests on evidence near a threshold (analysis.attractors.fragility); "
                       "validated on 300 Fig. 2 points (bench_fragility): under a 1 % rtol change 10.3 % of the "
                       "flagged phases flipped, 0.5 % of the others; 11 of 12 flips were flagged"}


def plot(pdg, curves, transitions=None, cyc=None):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from analysis.plots_phase import (FRAGILE_STYLE, GLOBAL_COLOR, mark_fragile, mark_global_transitions, plot_kinds,
                                      plot_lyapunov, plot_observable)

    names = {"J": LABELS["J"], "lam": LABELS["lam"]}
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2), constrained_layout=True)
    # the kind colours of analysis.style.KIND_COLORS (the same in every figure, the CLI and the reports)
    lumped = {c: ".." for c in set(pdg.table["phase_shown"].astype(str)) if c.endswith("(rare)")}
    plot_kinds(pdg, axes[0], column="phase_shown", boundaries=False, names=names, hatches=lumped)
    axes[0].set_title("phase: attracting sets (converged census)")
    plot_lyapunov(pdg, axes[1], boundaries=False, names=names)
    axes[1].set_title(r"largest Lyapunov exponent $\Lambda_1$ ($g$)")
    plot_observable(pdg, "ZB", axes[2], boundaries=False, vmin=-1, vmax=1, names=names,
                    label=r"attractor-averaged $\langle Z_B\rangle$")
    axes[2].set_title(r"basin-weighted $\langle Z_B \rangle$")
    extra = []
    for k, ax in enumerate(axes):
        draw_boundaries(ax, curves, color="k", lw=0.9, legend=False)
        h = draw_cycle_curves(ax, cyc)
        if k == 0:
            extra = [Line2D([], [], color="k", lw=0.9, label="BP, Hopf (fixed points)")] + h
    if transitions is not None and mark_global_transitions(axes[0], pdg, transitions, lw=1.6):
        extra.append(Line2D([], [], color=GLOBAL_COLOR, lw=1.6, label="global transition"))
    if mark_fragile(axes[0], pdg):
        extra.append(Line2D([], [], ls="", **FRAGILE_STYLE, label="fragile phase (1 % tolerance may flip it)"))
    leg = axes[0].get_legend()
    handles = list(leg.legend_handles) if leg is not None else []
    if leg is not None:
        leg.remove()
    axes[0].legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small",
                   ncol=3, frameon=False)
    if extra:
        # the curves' legend under the middle panel: the phases keep the left one
        axes[1].legend(handles=extra, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small",
                       ncol=2, frameon=False)
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 2025, n_workers: int | None = None) -> dict:
    from analysis.phase_diagrams import SWEEP_CENSUS, phase_diagram
    from bifurcate.models import LMG_DIMER

    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    nJ, nl, n_init = (17, 13, 6) if quick else (81, 61, 16)
    grid = {"J": np.linspace(-J_MAX, J_MAX, nJ), "lam": np.linspace(0.0, LAM_MAX, nl)}
    # Near the broken states' Hopf curve the foci attract at rates ~0.03 g: with the sweep defaults
    # (t_end = 200, census window 50) such points end up in the census, whose zero-exponent
    # tolerance at T = 50 exceeds 0.03, and are called QP. A longer (cheap, batched) transient
    # and a longer census window shrink that band; a trajectory whose late window (the last 100)
    # varies by less than 1e-4 and ends within 1e-4 of a stable equilibrium is that fixed point.
    census_opts = dict(SWEEP_CENSUS)
    census_opts.update(t_total=100.0 if quick else 300.0)
    t, c = time.perf_counter(), time.process_time()
    pdg = phase_diagram(LMG_DIMER, grid, n_initial=n_init, seed=seed, t_end=600.0 if quick else 1000.0,
                        t_transient=500.0 if quick else 900.0, fp_std_tol=1e-4,
                        census_options=census_opts, progress=not quick, n_workers=n_workers)
    t_pd, c_pd = time.perf_counter() - t, time.process_time() - c
    cost = cost_summary(pdg, c_pd, t_pd, n_init)
    pdg.table["dominant_kind"] = dominant_kind(pdg.table)
    pdg.table["phase_shown"] = lump_rare(shown_phase(pdg.table))
    curves = exact_boundaries(J_MAX, LAM_MAX)
    # the cache is shared with Fig. 2 (whichever study runs first continues the curves)
    cyc, cyc_info = cycle_curves(study_dir(out_dir, CYCLE_CACHE), quick=quick)
    # phase changes between grid neighbours: local when a continued curve (the fixed points' BP
    # and Hopf curves, the cycles' LPC / PD / NS curves, a non-generic fold's marker) passes within
    # one grid step, else global
    from analysis.phase_boundaries import phase_transitions

    trans = phase_transitions(pdg, curve_tables(curves) + cyc.curves() + cyc.marker_tables(), columns=("phase",),
                              tol=1.0)
    fig = plot(pdg, curves, trans, cyc)
    paths = save_figure(fig, out, NAME)
    df = pdg.to_frame()
    # the drawn phase is shown_phase() of the stored columns: not stored twice
    paths["table"] = save_table(df.drop(columns=["phase_shown"]), out, NAME)
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths, tables={f"{NAME}.parquet": "phase_diagram"},
                  seed=seed, model=LMG_DIMER.name, base={k: LMG_DIMER.defaults[k] for k in ("g", "gamma")},
                  grid_shape=[nJ, nl],
                  n_initial=n_init, options=pdg.options, phase_diagram_time_s=round(t_pd, 1),
                  census_cost=cost,
                  phase_counts={str(k): int(v) for k, v in df["phase"].value_counts().items()},
                  phase_counts_drawn={str(k): int(v) for k, v in df["phase_shown"].value_counts().items()},
                  dominant_kind_counts={str(k): int(v) for k, v in df["dominant_kind"].value_counts().items()},
                  failures=pdg.failure_summary(),
                  fragile=_fragile_summary(df),
                  phase_transitions=dict(transitions_summary(trans), tol_grid_steps=1.0,
                                         curves="BP and Hopf curves of the fixed points (exact_boundaries); "
                                                "LPC / PD / NS curves of the cycles and non-generic fold "
                                                "markers (cycle_curves)"),
                  cycle_curves={"cached": bool(cyc_info["cached"]), "wall_s": cyc_info.get("wall_s"),
                                "status": int(cyc.status), "message": cyc.message[:500],
                                "settings": cyc_info["key"], "references": cyc_info.get("references"),
                                "curves": {str(k): int(v) for k, v in
                                           cyc.table.groupby("curve")["kind"].size().items()},
                                "markers": cyc.markers[["curve", "J", "lam"]].to_dict(orient="records")})


if __name__ == "__main__":
    run_cli(main, __doc__)
