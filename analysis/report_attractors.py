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
def _sphere_blocks(model) -> list[list[int]]:
    return [list(map(int, b)) for b in np.asarray(getattr(model.geometry, "sphere_blocks", np.zeros((0, 3))))]


def _spin_name(model, block: Sequence[int], k: int) -> str:
    """``"spin A"`` for a sphere whose state names share a suffix (XA, YA, ZA), else ``"sphere k"``."""
    tails = {model.state_names[i][1:] for i in block}
    if len(tails) == 1:
        t = tails.pop()
        if t:
            return f"spin {t}"
    return f"sphere {k}"


def branch_name(model, state: np.ndarray, tol: float = 1e-3, known: Mapping[str, Sequence[float]] | None = None) -> str:
    """A name for an equilibrium, from the model's own state names and geometry.

    ``known`` maps names to states (e.g. ``{"normal state": NORMAL_STATE}``, given by the study
    that knows them); an equilibrium within ``tol`` of one gets its name. Otherwise each spin
    (sphere of the phase space) is described as at a pole (``ZA = -1``) or tilted off it; for
    models without spheres: ``"equilibrium"``.
    """
    y = np.asarray(state, float)
    for name, ref in dict(known or {}).items():
        ref = np.asarray(ref, float)
        if ref.shape == y.shape and np.max(np.abs(ref - y)) < tol:
            return name
    blocks = _sphere_blocks(model)
    if not blocks:
        return "equilibrium"
    poles, tilted = [], []
    for k, b in enumerate(blocks):
        inplane = float(np.linalg.norm(y[b[:-1]]))
        if inplane < tol:
            poles.append(f"{model.state_names[b[-1]]} = {y[b[-1]]:+.0f}")
        else:
            tilted.append(_spin_name(model, b, k))
    if not tilted:
        return "poles (" + ", ".join(poles) + ")"
    return ("symmetry-broken: " + " and ".join(tilted) + " tilted"
            + (" (" + ", ".join(poles) + ")" if poles else ""))


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


def attractor_branches(res, *, ranges: Mapping[str, tuple[float, float]] | None = None,
                       known: Mapping[str, Sequence[float]] | None = None) -> pd.DataFrame:
    """For every FP / LC attractor of a census: the continuation branch it belongs to.

    Returns one row per (attractor, parameter): ``label``, ``kind``, ``branch``, ``parameter``,
    ``stable_from``, ``stable_to`` (the stability interval of the fixed point's branch around the
    point), ``special_points`` (kind and value of each LP / BP / HB on the branch) or, for cycles,
    a summary of the continued cycle branch. Other kinds get a row saying they lie on no branch.

    ``ranges`` maps each parameter to continue in to its interval (default: every free parameter
    over [p - 1, p + 1] around the point); ``known`` names known equilibria (:func:`branch_name`).
    """
    model = res.model
    if ranges is None:
        ranges = {k: (float(res.params[k]) - 1.0, float(res.params[k]) + 1.0) for k in model.free_params
                  if k in res.params}
    ranges = dict(ranges)
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
                    r.update(branch=branch_name(model, a.state, known=known), stable_from=s0, stable_to=s1,
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


def _steady_state_observables(st, model) -> dict[str, float]:
    """The state-name observables a steady state carries (``ZA``, ``ZB`` ... for the LMG dimer: the
    names of the model's state that are attributes of the result); NaN for a failed solve."""
    names = list(model.state_names) if model is not None else []
    if st is None:
        return {n: np.nan for n in names}
    out = {n: float(getattr(st, n)) for n in names if hasattr(st, n)}
    if not out:      # no model given: what the result carries
        out = {k: float(getattr(st, k)) for k in dir(st) if len(k) == 2 and k[0] in "XYZ" and not k.startswith("_")
               and isinstance(getattr(st, k, None), (int, float, np.floating))}
    return out


def exact_table(params: Mapping[str, float], S_values: Sequence[float], model=None) -> pd.DataFrame:
    """Exact Z_A, Z_B, purity of the master equation (5) at each S (a failed row says why).

    A model built from a specification (:mod:`bifurcate.spec`) is solved from that specification
    (:func:`bifurcate.quantum.steady_state_system`), so any such model gets its own exact quantum
    cross-check; otherwise (``model`` None, or the hand-built LMG dimer) :func:`analysis.quantum.steady_state`
    solves the LMG dimer. The parameters not given come from ``model``'s defaults (the quantum
    module's own defaults when ``model`` is None).
    """
    from bifurcate.spec import system_of

    rows = []
    base = dict(model.defaults) if model is not None else {}
    system = system_of(model) if model is not None else None
    for S in S_values:
        t0 = time.perf_counter()
        try:
            full = {**base, **{k: float(v) for k, v in params.items()}}
            if system is not None:
                from bifurcate.quantum import steady_state_system

                st = steady_state_system(system, S, {k: v for k, v in full.items() if k in system.parameters})
                how = "bifurcate.quantum.steady_state_system"
            else:
                from analysis.quantum import steady_state

                st = steady_state(S, full)
                how = "analysis.quantum"
            obs = _steady_state_observables(st, model)
            rows.append({"S": float(S), **{k: float(v) for k, v in params.items()}, **obs,
                         "purity": float(st.purity), "method": f"{how} ({st.method}, {st.sector})",
                         "wall_time": time.perf_counter() - t0,
                         # status 1: solved and validated, but its error is not certified (st.message says why)
                         "status": 0 if st.success else 1, "message": st.message})
        except Exception as exc:  # noqa: BLE001
            rows.append({"S": float(S), **params, **_steady_state_observables(None, model), "purity": np.nan,
                         "method": "",
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
                 title: str | None = None, report: Report | None = None,
                 ranges: Mapping[str, tuple[float, float]] | None = None,
                 known_states: Mapping[str, Sequence[float]] | None = None,
                 plane: tuple[str, str] | None = None, level: int = 2) -> tuple[Report, dict[str, pd.DataFrame]]:
    """Attractor classification report at one parameter point.

    Parameters
    ----------
    params : dict
        The point (e.g. ``{"J": 1.5, "lam": 1.0}``); the other parameters take the model's defaults.
    model : Model
        The model (required: its state names, defaults and geometry drive the report).
    n_initial, seed : census ensemble size and seed.
    S_values : spin lengths for the exact comparison (empty: none).
    branches : continue the FP / LC attractors to name their branches.
    census_options : extra keyword arguments of :func:`analysis.attractor_census.census`.
    report : append to this report instead of starting a new one (its provenance then gets this
        point's entries as one section: provenance is written once per report).
    ranges : parameter intervals of the branch continuation (:func:`attractor_branches`).
    known_states : names of known equilibria (:func:`branch_name`), e.g. a model's normal state.
    plane : the two state names of the trajectory plot (default :func:`analysis.style.default_plane`).
    level : heading level of the point when appended to ``report`` (2 or 3); its sections one deeper.

    Returns
    -------
    (Report, tables)
        tables: ``attractors`` (schema ``census_attractors``), ``summary`` (``census_summary``),
        ``branches``, ``exact`` (``exact``).
    """
    import matplotlib.pyplot as plt

    from analysis.attractor_census import census
    from analysis.plots_attractors import plot_basin_fractions, plot_trajectories
    from analysis.report import format_value_error
    from analysis.style import default_plane

    if model is None:
        raise TypeError("point_report needs model=<a bifurcate Model> (its state names, defaults and geometry "
                        "drive the report); got None")
    t0 = time.perf_counter()
    res = census(model, dict(params), n_initial=n_initial, seed=seed, **dict(census_options or {}))
    label = title or f"Point {_fmt_params(params)}"
    rep = report or Report(title or f"Attractor report: {model.name} at {_fmt_params(params)}")
    if level not in (2, 3):
        raise ValueError(f"level must be 2 or 3, got {level!r}")
    sub = level + 1 if report is not None else 3
    if report is not None:
        rep.heading(label, level)
    att = res.to_frame()
    summ = res.summary_frame()
    kinds = ", ".join(f"{a.kind}{' (' + a.flavour + ')' if a.flavour else ''}: "
                      f"{format_value_error(a.basin_fraction, a.basin_fraction_err)}"
                      for a in res.attractors) or "none"
    rep.text(f"{res.n_attractors} attractor(s) from {res.n_initial} initial conditions (seed {seed}); basin "
             f"fractions: {kinds}. Diverged {res.fraction_diverged:.2f}, unclassified "
             f"{res.fraction_unclassified:.2f}. Census status {res.status}: {res.message}. Wall time "
             f"{res.wall_time:.1f} s.", cls=None if res.status == 0 else "note", markup=False)
    rep.heading("Attractors", sub)
    lyaps = [c for c in att.columns if c.startswith("lyap_")]
    obs = [c for n in model.state_names for c in (n, f"{n}_err") if c in att]
    cols = [c for c in ["label", "kind", "flavour", "basin_fraction", "basin_fraction_err", "n_members", "period"]
            + lyaps + obs + ["confidence", "eq_match"] if c in att]
    rep.table(att[cols], caption="Kinds, basin fractions ± binomial standard errors, Lyapunov exponents (largest "
                                 "first), attractor time averages ± standard errors.")
    bw = dict(res.basin_weighted)
    rep.text("Basin-weighted attractor averages (the mean-field value compared with exact results): "
             + ", ".join(f"{k} = {format_value_error(v, res.basin_weighted_err.get(k, np.nan))}"
                         for k, v in bw.items()) + ".", markup=False)
    x, y = plane or default_plane(model)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    if res.samples or any(a.kind == "FP" for a in res.attractors):
        plot_trajectories(res, ax=axes[0], x=x, y=y)
    plot_basin_fractions(res, ax=axes[1])
    rep.figure(fig, caption=f"Attractors in the {x}-{y} plane (each in the colour of its kind) and basin "
                            "fractions with binomial standard errors (clipped to [0, 1]).")
    plt.close(fig)
    tables = {"attractors": att, "summary": summ}
    if branches:
        rep.heading("Continuation branches", sub)
        br = attractor_branches(res, ranges=ranges, known=known_states)
        tables["branches"] = br
        rep.table(br, caption="Branch of each attractor: fixed points continued in each parameter (stable stretch "
                              "around the point, LP/BP/HB on the branch); limit cycles continued from one "
                              "simulated period.")
    if len(S_values):
        rep.heading("Exact quantum comparison", sub)
        ex = exact_table(params, S_values, model=model)
        tables["exact"] = ex
        shown = ex
        z = default_observable_name(model)
        if len(ex) and z in bw and z in ex:
            shown = ex.assign(**{f"{z}_minus_meanfield": ex[z] - bw[z]})
        shown = shown.drop(columns=[c for c in ("method", "message") if c in shown and (shown["status"] == 0).all()])
        rep.table(shown, caption=f"Steady state of the master equation at spin length S; {z}_minus_meanfield = "
                                 "exact minus the basin-weighted mean field.")
    prov = dict(params=dict(res.params), seed=seed, n_initial=n_initial, options=res.options,
                census_options=dict(census_options or {}), S_values=list(S_values),
                report_wall_time_s=round(time.perf_counter() - t0, 2))
    if report is None:
        rep.provenance(model=model.name, **prov)
    else:
        rep.provenance(section=label, model=model.name, **prov)
    return rep, tables


def default_observable_name(model) -> str:
    """The observable a report compares by default (:func:`analysis.style.default_observable`)."""
    from analysis.style import default_observable

    return default_observable(model)


def _state_columns(table: pd.DataFrame) -> list[str]:
    """The state-name columns of a ``phase_diagram`` table: those between the ``frac_<kind>``
    columns and ``lyap_max`` (the table's own layout), without ``_err`` partners."""
    cols = list(table.columns)
    fr = [i for i, c in enumerate(cols) if c.startswith("frac_")]
    if fr and "lyap_max" in cols:
        out = cols[fr[-1] + 1:cols.index("lyap_max")]
        return [c for c in out if not c.endswith("_err") and pd.api.types.is_numeric_dtype(table[c])]
    # a reduced table (e.g. written by hand): the numeric columns that are no bookkeeping, in order
    skip = {"point", "computed", "n_stable_fp", "n_attractors", "n_fp_attractors", "lyap_max", "status", "S"}
    return [c for c in cols if c not in skip and not c.startswith(("frac_", "i_", "t_", "lyap_"))
            and not c.endswith("_err") and pd.api.types.is_numeric_dtype(table[c]) and table[c].nunique() > 1]


def cut_report(table: pd.DataFrame, param: str, *, exact: pd.DataFrame | None = None, title: str | None = None,
               report: Report | None = None, observable: str | None = None,
               domain: tuple[float, float] | None = (-1.0, 1.0)) -> Report:
    """Report for a 1-D sweep (``phase_diagram`` schema): phases along the cut, one observable
    (mean field, with its ``<name>_err`` error bars when the table has them, and exact), and the table.

    ``observable`` defaults to the last state column of the table (Z_B for the LMG dimer);
    ``domain`` clips the error bars (spin components: [-1, 1]; None: no clipping).
    """
    import matplotlib.pyplot as plt

    from analysis.style import CMAPS, KIND_COLORS, clip_errorbars, phase_color

    if param not in table:
        raise KeyError(f"unknown cut parameter {param!r}; expected a column of the table, got {list(table.columns)}")
    states = [c for c in _state_columns(table) if c != param]
    obs = observable or (states[-1] if states else None)
    if obs is None or obs not in table:
        raise KeyError(f"unknown observable {obs!r}; expected a column of the table, got {list(table.columns)}")
    rep = report or Report(title or f"Cut report ({param} swept)")
    if report is not None:
        rep.heading(title or f"Cut ({param} swept)", 3)
    t = table.sort_values(param)
    seg, prev, start = [], None, None
    last = None
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
    y = t[obs].to_numpy(float)
    err = t[f"{obs}_err"].to_numpy(float) if f"{obs}_err" in t else None
    yerr = clip_errorbars(y, err, *domain) if (err is not None and domain is not None) else err
    ax.errorbar(t[param], y, yerr=yerr, fmt="-", color="k", lw=1.0, elinewidth=0.7, capsize=1.5, zorder=2,
                label="mean field (attractor average)")
    # each mean-field point in the colour of its phase (analysis.style: the same colours as the maps)
    ax.scatter(t[param], y, s=14, c=[phase_color(p) if str(p) else KIND_COLORS["-1"] for p in t["phase"].astype(str)],
               edgecolors="k", linewidths=0.4, zorder=3)
    if exact is not None and len(exact) and obs in exact:
        Ss = sorted(exact["S"].unique())
        cmap = plt.get_cmap(CMAPS["spin_length"])
        for k, (S, g) in enumerate(exact.groupby("S")):
            g = g.sort_values(param)
            ax.plot(g[param], g[obs], "-", lw=1.1, color=cmap(0.15 + 0.7 * k / max(len(Ss) - 1, 1)),
                    label=f"exact S={S:g}")
    ax.set(xlabel=param, ylabel=obs)
    if domain is not None:
        ax.set_ylim(domain[0] - 0.05, domain[1] + 0.05)
    ax.legend(fontsize="small")
    rep.figure(fig, caption=f"{obs} along the cut: mean field (markers in the colour of the phase: the kind "
                            "colours of the maps), with the census's standard errors where the table has them; "
                            "exact results for each S.")
    plt.close(fig)
    cols = [c for c in [param, "n_stable_fp", "phase", "kinds", "basin_fractions", obs, f"{obs}_err", "lyap_max",
                        "status"] if c in t]
    rep.table(t[cols], caption="The sweep (schema phase_diagram).")
    return rep


def sweep_report(pdg, *, title: str | None = None, report: Report | None = None,
                 observable: str | None = None) -> Report:
    """Report for a 2-D sweep (a PhaseDiagram): counts per phase, maps, failures.

    ``observable``: the averaged state variable mapped (default
    :func:`analysis.style.default_observable` of the sweep's model).
    """
    import matplotlib.pyplot as plt

    from analysis.plots_phase import plot_kinds, plot_lyapunov, plot_n_stable, plot_observable
    from analysis.style import default_observable

    df = pdg.to_frame()
    obs = observable or default_observable(pdg.model)
    rep = report or Report(title or f"Sweep report: {pdg.model.name} over {', '.join(pdg.grid)}")
    if report is not None:
        rep.heading(title or "Sweep")
    rep.text(f"{len(df)} points ({pdg.n_computed} computed, {pdg.n_cached} from the store), seed {pdg.seed}, "
             f"{pdg.options.n_initial} initial conditions each. {pdg.failure_summary()}", markup=False)
    agg = {"points": ("phase", "size")}
    if obs in df:
        agg[f"mean_{obs}"] = (obs, "mean")
    if "lyap_max" in df:
        agg["max_lyap"] = ("lyap_max", "max")
    counts = df.groupby("phase").agg(**agg).reset_index().sort_values("points", ascending=False)
    rep.table(counts, caption=f"Points per phase (set of attractor kinds), mean attractor-averaged {obs}, largest "
                              "exponent.")
    if len(pdg.grid) == 2:
        fig, axes = plt.subplots(2, 2, figsize=(12, 9.5), constrained_layout=True)
        plot_n_stable(pdg, axes[0, 0])
        if df["phase"].nunique() > 0:
            plot_kinds(pdg, axes[0, 1])
        plot_lyapunov(pdg, axes[1, 0])
        if obs in df:
            plot_observable(pdg, obs, axes[1, 1], vmin=-1, vmax=1)
        rep.figure(fig, caption=f"Stable fixed points (count colours; exact boundaries from continuation), dominant "
                                f"attractor kind (kind colours), largest Lyapunov exponent, attractor-averaged {obs}.")
        plt.close(fig)
    if not pdg.failures().empty:
        rep.table(pdg.failures(), caption="Failed points.")
    return rep
