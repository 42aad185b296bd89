"""The attractor classification report: one self-contained HTML file for a point, a cut or a sweep.

* :func:`point_report`: the attractor census at one parameter point (kinds, basin fractions with
  errors, Lyapunov spectra, attractor-averaged observables), the continuation branch each
  attractor belongs to (fixed points: the equilibrium branch followed in J and lam, with the
  bifurcations that bound its stability; limit cycles: the cycle branch continued from the
  simulated orbit), the exact quantum comparison for the requested spin lengths, and provenance.
* :func:`cut_report`: a 1-D sweep table (``phase_diagram`` schema) with optional exact results:
  the phases along the cut, Z_B against the parameter, the table.
* :func:`sweep_report`: a 2-D sweep (a :class:`~analysis.phase_diagrams.PhaseDiagram` or its
  table): counts per phase, the maps (stable fixed points, kinds, exponent, Z_B), failures.

Each returns a :class:`analysis.report.Report` (``.write(path)``) and, for the point report, the
tables behind it.

References
----------
Kothe & Kirton, Figs. 2 and 3 (attractors, averaged Z_B, exact comparison).
"""
from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.report import Report

__all__ = ["point_report", "cut_report", "sweep_report", "attractor_branches", "exact_table", "branch_name"]


# --------------------------------------------------------------------------------------------
# branch membership
# --------------------------------------------------------------------------------------------
def branch_name(model, state: np.ndarray, tol: float = 1e-3) -> str:
    """A physical name for an equilibrium of the LMG dimer: normal state, spin A / B broken, other."""
    names = list(model.state_names)
    if names != ["XA", "YA", "ZA", "XB", "YB", "ZB"]:
        return "equilibrium"
    y = np.asarray(state, float)
    a_in, b_in = np.hypot(y[0], y[1]), np.hypot(y[3], y[4])
    if a_in < tol and b_in < tol:
        if y[2] < 0 < y[5]:
            return "normal state (A down, B up)"
        return f"pole state (Z_A={y[2]:+.0f}, Z_B={y[5]:+.0f})"
    if b_in >= tol > a_in:
        return "Z2-broken: spin B ferromagnetic (LMG phase, J > 0)"
    if a_in >= tol > b_in:
        return "Z2-broken: spin A ferromagnetic (LMG phase, J < 0)"
    return "Z2-broken: both spins tilted"


def _equilibrium_branch(model, state, params, param, lo, hi):
    """Continue an equilibrium both ways in ``param`` over [lo, hi]; the special points and the
    stability interval around the start."""
    from bifurcate.continuation import continue_equilibria

    p0 = float(params[param])
    pts, pv_all, st_all = [], [], []
    for ds in (0.01, -0.01):
        if (ds > 0 and p0 >= hi) or (ds < 0 and p0 <= lo):
            continue
        br = continue_equilibria(model, state, param=param, params=params, p_min=lo, p_max=hi, ds=ds)
        for q in br.points:
            if q.kind == "NSad":
                continue
            pts.append({"parameter": param, "kind": q.kind, "value": float(q.params[param]),
                        "located": bool(q.located), "criticality": q.data.get("criticality", "")})
        # walk away from the start while the branch stays stable
        st = np.asarray(br.stable, bool)
        k = 0
        while k < len(st) and st[k]:
            pv_all.append(float(br.param_values[k]))
            k += 1
        st_all.append(k)
    lo_s = min(pv_all, default=np.nan)
    hi_s = max(pv_all, default=np.nan)
    pts = sorted({(d["kind"], round(d["value"], 6)): d for d in pts}.values(), key=lambda d: d["value"])
    return pts, (lo_s, hi_s)


def _cycle_branch(model, res, att, param, lo, hi, max_points=30):
    """Continue the limit cycle of an LC attractor from one simulated period; a short summary."""
    from bifurcate import integrate
    from bifurcate.cycles import continue_cycles

    T = float(att.period)
    if not np.isfinite(T) or T <= 0:
        return {"status": "no period"}
    y0 = np.asarray(att.state, float)
    te = np.linspace(0.0, T, 400)
    tr = integrate(model, y0, (0.0, T), res.params, t_eval=te)
    y = tr.y
    if np.linalg.norm(y[-1] - y[0]) > 0.05 * max(np.ptp(y, axis=0).max(), 1e-9):
        # the final state may not be on the cycle yet: take one more period
        tr = integrate(model, y[-1], (0.0, T), res.params, t_eval=te)
        y = tr.y
    out = {}
    for direction in (1,):
        try:
            cb = continue_cycles(model, (te, y), param=param, params=res.params, max_points=max_points,
                                 p_min=lo, p_max=hi, direction=direction)
        except Exception as exc:  # noqa: BLE001 - reported, never fatal
            out["branch"] = f"failed: {type(exc).__name__}: {exc}"
            continue
        stable0 = bool(cb.stable[0]) if len(cb) else False
        sp = ", ".join(f"{q.kind} {param}={q.params[param]:.4g}" for q in cb.points) or "none"
        out["branch"] = (f"{len(cb)} cycles, {param} in [{cb.param_values.min():.4g}, "
                                     f"{cb.param_values.max():.4g}], start {'stable' if stable0 else 'unstable'}; "
                                     f"special points: {sp}; status {cb.status} ({cb.message})")
    return out


def attractor_branches(res, *, ranges: Mapping[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """For every FP / LC attractor of a census: the continuation branch it belongs to.

    Returns one row per (attractor, parameter): ``label``, ``kind``, ``branch``, ``parameter``,
    ``stable_from``, ``stable_to`` (the stability interval of the fixed point's branch around the
    point), ``special_points`` (kind and value of each LP / BP / HB on the branch) or, for cycles,
    a summary of the continued cycle branch. Other kinds get a row saying they lie on no branch.
    """
    model = res.model
    ranges = dict(ranges or {"J": (-2.0, 2.0), "lam": (0.0, 1.5)})
    rows = []
    for a in res.attractors:
        for param, (lo, hi) in ranges.items():
            if param not in model.free_params:
                continue
            lo_, hi_ = min(lo, res.params[param]), max(hi, res.params[param])
            r = {"label": a.label, "kind": a.kind, "parameter": param}
            try:
                if a.kind == "FP":
                    pts, (s0, s1) = _equilibrium_branch(model, a.state, res.params, param, lo_, hi_)
                    r.update(branch=branch_name(model, a.state), stable_from=s0, stable_to=s1,
                             special_points="; ".join(f"{d['kind']} {param}={d['value']:.4g}"
                                                      + (f" ({d['criticality']})" if d["criticality"] else "")
                                                      for d in pts) or "none")
                elif a.kind == "LC":
                    cyc = _cycle_branch(model, res, a, param, lo_, hi_)
                    r.update(branch="limit cycle (continued from the simulated orbit)", stable_from=np.nan,
                             stable_to=np.nan, special_points=" | ".join(str(v) for v in cyc.values()))
                else:
                    r.update(branch="none (no continuation of tori, chaos or neutral families)",
                             stable_from=np.nan, stable_to=np.nan, special_points="")
            except Exception as exc:  # noqa: BLE001 - reported, never fatal
                r.update(branch="continuation failed", stable_from=np.nan, stable_to=np.nan,
                         special_points=f"{type(exc).__name__}: {exc}")
            rows.append(r)
    return pd.DataFrame(rows, columns=["label", "kind", "parameter", "branch", "stable_from", "stable_to",
                                       "special_points"])


def exact_table(params: Mapping[str, float], S_values: Sequence[float]) -> pd.DataFrame:
    """Exact Z_A, Z_B, purity of the master equation (5) at each S (empty if the quantum code is
    unavailable). Uses :func:`analysis.quantum.steady_state` when present, else a sparse LU of the
    Z2-reduced Liouvillian."""
    rows = []
    for S in S_values:
        t0 = time.perf_counter()
        try:
            from analysis.quantum import steady_state

            st = steady_state(S, {"g": 1.0, "gamma": 0.5, **{k: float(v) for k, v in params.items()}})
            ZA, ZB, pur, method = st.ZA, st.ZB, st.purity, f"analysis.quantum ({st.method}, {st.sector})"
            rows.append({"S": float(S), **{k: float(v) for k, v in params.items()}, "ZA": float(ZA), "ZB": float(ZB),
                         "purity": float(pur), "method": method, "wall_time": time.perf_counter() - t0,
                         "status": 0, "message": "success"})
        except Exception as exc:  # noqa: BLE001
            rows.append({"S": float(S), **params, "ZA": np.nan, "ZB": np.nan, "purity": np.nan, "method": "",
                         "wall_time": time.perf_counter() - t0, "status": -1,
                         "message": f"{type(exc).__name__}: {exc}"})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# reports
# --------------------------------------------------------------------------------------------
def _fmt_params(params: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in params.items())


def point_report(params: Mapping[str, float], *, model=None, n_initial: int = 32, seed: int = 0,
                 S_values: Sequence[float] = (), branches: bool = True, census_options: Mapping[str, Any] | None = None,
                 title: str | None = None, report: Report | None = None) -> tuple[Report, dict[str, pd.DataFrame]]:
    """Attractor classification report at one parameter point.

    Parameters
    ----------
    params : dict
        The point (e.g. ``{"J": 1.5, "lam": 1.0}``; defaults g = 1, gamma = 0.5 for the rest).
    model : Model, optional
        Default :data:`bifurcate.models.LMG_DIMER`.
    n_initial, seed : census ensemble size and seed.
    S_values : spin lengths for the exact comparison (empty: none).
    branches : continue the FP / LC attractors to name their branches.
    census_options : extra keyword arguments of :func:`analysis.attractor_census.census`.
    report : append to this report instead of starting a new one.

    Returns
    -------
    (Report, tables)
        tables: ``attractors`` (schema ``census_attractors``), ``summary`` (``census_summary``),
        ``branches``, ``exact`` (``exact``).
    """
    import matplotlib.pyplot as plt

    from analysis.attractor_census import census
    from analysis.plots_attractors import plot_basin_fractions, plot_trajectories

    if model is None:
        from bifurcate.models import LMG_DIMER as model
    t0 = time.perf_counter()
    res = census(model, dict(params), n_initial=n_initial, seed=seed, **dict(census_options or {}))
    rep = report or Report(title or f"Attractor report: {model.name} at {_fmt_params(params)}")
    if report is not None:
        rep.heading(title or f"Point {_fmt_params(params)}")
    att = res.to_frame()
    summ = res.summary_frame()
    kinds = ", ".join(f"{a.kind}{' (' + a.flavour + ')' if a.flavour else ''}: {a.basin_fraction:.2f}"
                      for a in res.attractors) or "none"
    rep.text(f"{res.n_attractors} attractor(s) from {res.n_initial} initial conditions (seed {seed}): {kinds}. "
             f"Diverged {res.fraction_diverged:.2f}, unclassified {res.fraction_unclassified:.2f}. "
             f"Census status {res.status}: {res.message}. Wall time {res.wall_time:.1f} s.",
             cls=None if res.status == 0 else "note")
    rep.heading("Attractors", 3)
    cols = [c for c in ["label", "kind", "flavour", "basin_fraction", "basin_fraction_err", "n_members", "period",
                        "lyap_0", "lyap_1", "lyap_2", "lyap_sum", "ZA", "ZA_err", "ZB", "ZB_err", "RB", "confidence",
                        "eq_match"] if c in att]
    rep.table(att[cols], caption="Kinds, basin fractions (binomial errors), Lyapunov exponents (units of g, "
                                 "largest first), attractor time averages with standard errors.")
    bw = {k: v for k, v in res.basin_weighted.items()}
    rep.text("Basin-weighted averages (what Fig. 3 plots as mean field): "
             + ", ".join(f"{k} = {v:.4f} ± {res.basin_weighted_err.get(k, np.nan):.1e}" for k, v in bw.items()
                         if k in ("ZA", "ZB", "RA", "RB")))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    if res.samples or any(a.kind == "FP" for a in res.attractors):
        plot_trajectories(res, ax=axes[0])
    plot_basin_fractions(res, ax=axes[1])
    rep.figure(fig, caption="Attractors in the X_B-Y_B plane (coloured by attractor) and basin fractions.")
    plt.close(fig)
    tables = {"attractors": att, "summary": summ}
    if branches:
        rep.heading("Continuation branches", 3)
        br = attractor_branches(res)
        tables["branches"] = br
        rep.table(br, caption="Branch of each attractor: fixed points continued in J and in lam (stable stretch "
                              "around the point, LP/BP/HB on the branch); limit cycles continued from one "
                              "simulated period.")
    if len(S_values):
        rep.heading("Exact quantum comparison", 3)
        ex = exact_table(params, S_values)
        tables["exact"] = ex
        if len(ex) and "ZB" in bw:
            ex = ex.assign(ZB_minus_meanfield=ex["ZB"] - bw["ZB"])
        rep.table(ex, caption="Steady state of the master equation (5) at spin length S: Z_A, Z_B, purity; "
                              "ZB_minus_meanfield = exact - basin-weighted mean field.")
    rep.provenance(params=dict(res.params), seed=seed, n_initial=n_initial, options=res.options,
                   census_options=dict(census_options or {}), S_values=list(S_values),
                   report_wall_time_s=round(time.perf_counter() - t0, 2))
    return rep, tables


def cut_report(table: pd.DataFrame, param: str, *, exact: pd.DataFrame | None = None, title: str | None = None,
               report: Report | None = None) -> Report:
    """Report for a 1-D sweep (``phase_diagram`` schema): phases along the cut, Z_B (mean field and
    exact), and the table."""
    import matplotlib.pyplot as plt

    if param not in table:
        raise KeyError(f"unknown cut parameter {param!r}; expected a column of the table, got {list(table.columns)}")
    rep = report or Report(title or f"Cut report ({param} swept)")
    if report is not None:
        rep.heading(title or f"Cut ({param} swept)")
    t = table.sort_values(param)
    seg, prev, start = [], None, None
    for v, ph in zip(t[param], t["phase"].astype(str)):
        if ph != prev:
            if prev is not None:
                seg.append((prev, start, last))
            prev, start = ph, v
        last = v
    if prev is not None:
        seg.append((prev, start, last))
    rep.table(pd.DataFrame(seg, columns=["phase", f"{param} from", f"{param} to"]),
              caption="Attractor kinds along the cut (consecutive points with the same set of kinds).")
    fig, ax = plt.subplots(figsize=(6.5, 3.8), constrained_layout=True)
    ax.plot(t[param], t["ZB"], "o-", color="k", ms=3, label="mean field (attractor average)")
    if exact is not None and len(exact):
        for S, g in exact.groupby("S"):
            g = g.sort_values(param)
            ax.plot(g[param], g["ZB"], "-", label=f"exact S={S:g}")
    ax.set(xlabel=param, ylabel="Z_B", ylim=(-1.05, 1.05))
    ax.legend(fontsize="small")
    rep.figure(fig, caption="Z_B along the cut.")
    plt.close(fig)
    cols = [c for c in [param, "n_stable_fp", "phase", "kinds", "basin_fractions", "ZA", "ZB", "lyap_max", "status"]
            if c in t]
    rep.table(t[cols], caption="The sweep (schema phase_diagram).")
    return rep


def sweep_report(pdg, *, title: str | None = None, report: Report | None = None) -> Report:
    """Report for a 2-D sweep (a PhaseDiagram): counts per phase, maps, failures."""
    import matplotlib.pyplot as plt

    from analysis.plots_phase import plot_kinds, plot_lyapunov, plot_n_stable, plot_observable

    df = pdg.to_frame()
    rep = report or Report(title or f"Sweep report: {pdg.model.name} over {', '.join(pdg.grid)}")
    if report is not None:
        rep.heading(title or "Sweep")
    rep.text(f"{len(df)} points ({pdg.n_computed} computed, {pdg.n_cached} from the store), seed {pdg.seed}, "
             f"{pdg.options.n_initial} initial conditions each. {pdg.failure_summary()}")
    counts = df.groupby("phase").agg(points=("phase", "size"), mean_ZB=("ZB", "mean"),
                                     max_lyap=("lyap_max", "max")).reset_index().sort_values("points", ascending=False)
    rep.table(counts, caption="Points per phase (set of attractor kinds), mean attractor-averaged Z_B, largest "
                              "exponent.")
    if len(pdg.grid) == 2:
        fig, axes = plt.subplots(2, 2, figsize=(12, 9), constrained_layout=True)
        plot_n_stable(pdg, axes[0, 0])
        if df["phase"].nunique() > 0:
            plot_kinds(pdg, axes[0, 1])
        plot_lyapunov(pdg, axes[1, 0])
        plot_observable(pdg, "ZB", axes[1, 1], vmin=-1, vmax=1)
        rep.figure(fig, caption="Stable fixed points (Eqs. (12)-(13) dashed), attractor kinds, largest Lyapunov "
                                "exponent, attractor-averaged Z_B.")
        plt.close(fig)
    if not pdg.failures().empty:
        rep.table(pdg.failures(), caption="Failed points.")
    return rep
