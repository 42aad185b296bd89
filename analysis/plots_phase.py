"""Plots of two-parameter phase diagrams: counts of stable fixed points (the paper's Fig. 2),
maps of attractor kinds, averaged observables and the largest Lyapunov exponent.

Every function takes ``ax=None`` (a new figure) and returns the axes. Colours come from
:mod:`analysis.style`: counts in :data:`~analysis.style.COUNT_COLORS`, kinds in
:data:`~analysis.style.KIND_COLORS` (sets of kinds such as ``FP+LC`` or ``2FP`` in the colour of
the most complex kind, hatched where attractors coexist), one colour map per quantity.

Boundaries are generic: :func:`exact_boundaries` continues the stable state at the bottom edge of
the grid and its BP and Hopf points in the two grid parameters (for the LMG dimer: Eq. (12)
exactly and the Hopf curve whose lowest order is Eq. (13)), drawn solid. The paper's own closed
forms, Eq. (12)

    J_c^2 = ((gamma^2 - lam^2 + g^2)^2 + 4 lam^2 g^2) / (4 (lam^2 + g^2))      (both signs of J)

and Eq. (13), lam_c / g ~ (1 + 2 J^2 / g^2) / 2, are drawn dashed by :func:`plot_boundaries`,
which takes ``g`` and ``gamma`` from the caller (the model's defaults).

References
----------
Kothe & Kirton, Fig. 2, Eqs. (12) and (13).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["eq12_Jc", "eq13_lamc", "dominant_kind", "plot_n_stable", "plot_kinds", "plot_observable", "plot_lyapunov",
           "plot_boundaries", "plot_curves", "add_trajectory_insets", "exact_boundaries", "plot_fig2", "plot_phase_map",
           "CURVE_STYLES", "MARKER_STYLE", "mark_global_transitions", "GLOBAL_COLOR"]


# --------------------------------------------------------------------------------------------
# the paper's closed forms (the flagship's formulas live with its continuation reference)
# --------------------------------------------------------------------------------------------
from bifurcate.continuation.reference import eq12_Jc  # noqa: E402
from bifurcate.continuation.reference import eq13_lam_c as eq13_lamc  # noqa: E402


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    return ax


def _base(pdg) -> dict:
    t = pdg.table
    return {k: float(t[k].iloc[0]) for k in pdg.model.param_names if k not in pdg.grid}


def _edges(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.size == 1:
        return np.array([a[0] - 0.5, a[0] + 0.5])
    mid = 0.5 * (a[1:] + a[:-1])
    return np.r_[a[0] - (mid[0] - a[0]), mid, a[-1] + (a[-1] - mid[-1])]


def _labels(ax, pv, names: Mapping[str, str] | None = None):
    """Axis labels: the parameter names, or ``names[param]`` (e.g. ``{"lam": r"$\\lambda/g$"}``)."""
    names = dict(names or {})
    ax.set_xlabel(names.get(pv.x_name, pv.x_name))
    ax.set_ylabel(names.get(pv.y_name, pv.y_name))


# --------------------------------------------------------------------------------------------
# boundaries
# --------------------------------------------------------------------------------------------
def exact_boundaries(model, base: Mapping[str, float] | None = None, *,
                     grid: Mapping[str, Sequence[float]] | None = None, **kwargs) -> list[pd.DataFrame]:
    """BP and Hopf curves, in the two grid parameters, of the stable state at the grid's bottom edge.

    Generic: the unique stable equilibrium at ``x`` = the grid value nearest 0 and ``y`` = the
    grid's lowest value (for the LMG dimer: the normal state) is continued in ``x`` both ways (its
    first BP each way is continued in (x, y)) and in ``y`` (its first Hopf point is continued in
    (x, y), neutral saddles dropped). Returns tables with the two parameter columns and ``label``;
    empty when there is no unique stable state there or the continuation fails (a plot never dies
    on an optional overlay).
    """
    if grid is None or len(grid) != 2:
        return []
    try:
        return _bottom_state_curves(model, dict(base or {}), {k: np.asarray(v, float) for k, v in grid.items()},
                                    **kwargs)
    except Exception:  # noqa: BLE001 - a plot never dies on an optional overlay
        return []


def _bottom_state_curves(model, base, grid) -> list[pd.DataFrame]:
    from bifurcate.continuation import continue_codim2, continue_equilibria
    from bifurcate.equilibria import find_equilibria

    (x, xs), (y, ys) = list(grid.items())
    x0 = float(xs[np.argmin(np.abs(xs))])
    x_lo, x_hi, y_lo, y_hi = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    start = {**base, x: x0, y: y_lo}
    st = find_equilibria(model, start).stable_states()
    if len(st) != 1:
        return []
    y0 = st[0]
    bounds = {x: (x_lo, x_hi), y: (y_lo, y_hi)}
    curves = []
    span = max(x_hi - x_lo, 1e-12)
    for sign in (1.0, -1.0):
        lo, hi = (x0, x_hi) if sign > 0 else (x_lo, x0)
        if hi - lo <= 1e-12:
            continue
        br = continue_equilibria(model, y0, x, params=start, ds=0.0025 * span * sign, p_min=lo, p_max=hi)
        for pt in [p for p in br.points if p.kind == "BP"][:1]:
            df = continue_codim2(model, pt, y, bounds=bounds).to_frame()
            curves.append(df.assign(label="BP (continuation)")[[x, y, "label"]])
    br = continue_equilibria(model, y0, y, params=start, p_min=y_lo, p_max=y_hi)
    for pt in [p for p in br.points if p.kind == "HB"][:1]:
        df = continue_codim2(model, pt, x, bounds=bounds).to_frame()
        if "segment" in df:
            df = df[df["segment"] == "HB"]
        curves.append(df.assign(label="HB (continuation)")[[x, y, "label"]])
        # above the point where the Hopf curve ends (Bogdanov-Takens) the BP belongs to an already
        # unstable state and bounds no phase
        y_bt = float(curves[-1][y].max()) if len(curves[-1]) else np.inf
        curves = [c[c[y] <= y_bt + 1e-9] if c["label"].iloc[0].startswith("BP") else c for c in curves]
    return curves


def plot_boundaries(ax=None, *, g: float, gamma: float, J_range=None, lam_range=None,
                    curves: Sequence[pd.DataFrame] | None = None, eq12: bool = True, eq13: bool = True,
                    color: str = "k", clip: bool = True, **kw):
    """The paper's Eq. (12) (both signs of J) and Eq. (13) dashed, plus exact curves (solid) if given.

    The axes are (J on x, lam on y); ``g`` and ``gamma`` are the model's (no defaults here: they
    come from the model, e.g. ``LMG_DIMER.defaults``); the current limits are kept. With ``clip``
    each formula is drawn only up to where the two meet (where they bound the normal phase).
    """
    ax = _ax(ax)
    xl, yl = ax.get_xlim(), ax.get_ylim()
    J_range = J_range or xl
    lam_range = lam_range or yl
    lam = np.linspace(max(0.0, min(lam_range)), max(lam_range), 400)
    Jc = eq12_Jc(lam, g=g, gamma=gamma)
    # where Eq. (12) meets Eq. (13): above it the BP belongs to an already unstable normal state
    cross = lam >= eq13_lamc(Jc, g=g)
    lam_x = float(lam[np.argmax(cross)]) if (clip and cross.any()) else float(lam[-1])
    if eq12:
        keep = lam <= lam_x
        ax.plot(Jc[keep], lam[keep], ls="--", color=color, lw=1.2, label="Eq. (12)", **kw)
        ax.plot(-Jc[keep], lam[keep], ls="--", color=color, lw=1.2, **kw)
    if eq13:
        Jmax = float(eq12_Jc(lam_x, g=g, gamma=gamma)) if clip else max(abs(v) for v in J_range)
        J = np.linspace(-Jmax, Jmax, 200)
        ax.plot(J, eq13_lamc(J, g=g), ls="--", color=color, lw=1.2, label="Eq. (13)" if not eq12 else None, **kw)
    plot_curves(ax, curves, color=color)
    ax.set_xlim(xl)
    ax.set_ylim(yl)
    return ax


def plot_curves(ax, curves: Sequence[pd.DataFrame] | None, *, color: str = "k", lw: float = 1.0):
    """Two-parameter curves (tables from :func:`exact_boundaries`: two parameter columns and
    ``label``) drawn solid; the axes limits are kept."""
    ax = _ax(ax)
    xl, yl = ax.get_xlim(), ax.get_ylim()
    seen = set()
    for c in curves or ():
        cols = [k for k in c.columns if k != "label"]
        if len(cols) < 2 or not len(c):
            continue
        x, y = cols[:2]
        lab = str(c["label"].iloc[0]) if "label" in c else None
        c = c.sort_values(y if (lab or "").startswith("BP") else x)
        ax.plot(c[x], c[y], color=color, lw=lw, ls="-", alpha=0.9, label=lab if lab not in seen else None)
        seen.add(lab)
    ax.set_xlim(xl)
    ax.set_ylim(yl)
    return ax


# --------------------------------------------------------------------------------------------
# maps
# --------------------------------------------------------------------------------------------
def plot_n_stable(pdg, ax=None, *, boundaries: bool = True, curves=None, colorbar: bool = True,
                  names: Mapping[str, str] | None = None):
    """Fig. 2: colour = number of stable fixed points over the grid (the count colours of
    :data:`analysis.style.COUNT_COLORS`, never an attractor kind's colour); exact boundaries solid."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    from analysis.style import count_colors

    ax = _ax(ax)
    pv = pdg.pivot("n_stable_fp")
    vals = np.where(pv.values < 0, np.nan, pv.values).astype(float)
    nmax = int(np.nanmax(vals)) if np.isfinite(vals).any() else 0
    cm = ListedColormap(count_colors(max(nmax, 1))[:nmax + 1] if nmax else count_colors(1)[:1])
    norm = BoundaryNorm(np.arange(-0.5, nmax + 1.5), cm.N)
    m = ax.pcolormesh(_edges(pv.x), _edges(pv.y), vals, cmap=cm, norm=norm, shading="flat")
    if colorbar:
        cb = ax.figure.colorbar(m, ax=ax, ticks=np.arange(nmax + 1))
        cb.set_label("stable fixed points")
    _labels(ax, pv, names)
    if boundaries:
        _overlay(pdg, ax, curves)
    return ax


def _overlay(pdg, ax, curves):
    if curves is None:
        curves = exact_boundaries(pdg.model, _base(pdg), grid=pdg.grid) if len(pdg.grid) == 2 else []
    plot_curves(ax, curves, color="k")


def dominant_kind(df: pd.DataFrame) -> pd.Series:
    """Per row, the kind with the largest total basin fraction (``frac_<kind>`` columns; ties go to
    the more complex kind: CH > QP > LC > NEUTRAL > FP). Rows with no fraction: ``"-1"``."""
    order = ["CH", "QP", "LC", "NEUTRAL", "FP", "DIV", "unclassified"]
    cols = [f"frac_{k}" for k in order if f"frac_{k}" in df]
    if not cols:
        return pd.Series("-1", index=df.index)
    F = np.nan_to_num(df[cols].to_numpy(float), nan=-1.0)
    lab = np.array([c.removeprefix("frac_") for c in cols], dtype=object)[np.argmax(F, axis=1)]
    lab = np.where(lab == "unclassified", "-1", lab)
    return pd.Series(np.where(np.max(F, axis=1) > 0, lab, "-1"), index=df.index)


def _category_order(cat: str):
    from analysis.style import KIND_ORDER, phase_kinds

    ks = phase_kinds(cat)
    return (len(ks), sum(n for _, n in ks), [KIND_ORDER.index(k) if k in KIND_ORDER else 99 for k, _ in ks], cat)


def plot_kinds(pdg, ax=None, *, column: str = "dominant", boundaries: bool = True, curves=None, legend: bool = True,
               names: Mapping[str, str] | None = None, hatches: Mapping[str, str] | None = None):
    """Map of the kinds of dynamics, in the colours of :data:`analysis.style.KIND_COLORS`.

    ``column="dominant"`` (default) colours each point by the kind holding the largest basin
    fraction (:func:`dominant_kind`); ``column="phase"`` (or any column of kind sets such as
    ``FP+LC``, ``2FP``, ``FP+2LC``) by the colour of the most complex kind present, hatched where
    more than one attractor coexists. The legend sits below the axes. ``hatches`` maps a category
    to its hatching (overriding :func:`analysis.style.phase_hatch`, e.g. for lumped categories).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    import matplotlib.pyplot as plt

    from analysis.style import KIND_COLORS, KIND_LABELS, kind_of, phase_color, phase_hatch_color
    from analysis.style import phase_hatch as _phase_hatch

    ax = _ax(ax)
    if column == "dominant":
        t = pdg.table.assign(dominant=dominant_kind(pdg.table))
        pv = type(pdg)(table=t, grid=pdg.grid, model=pdg.model, options=pdg.options).pivot("dominant")
    else:
        pv = pdg.pivot(column)
    vals = np.array([[("-1" if v is None or str(v) in ("", "nan") else str(v)) for v in row] for row in pv.values],
                    dtype=object).reshape(pv.values.shape)
    cats = sorted(set(vals.ravel().tolist()), key=_category_order)
    hatches = dict(hatches or {})

    def phase_hatch(c):
        return hatches[c] if c in hatches else _phase_hatch(c)

    code = np.full(vals.shape, np.nan)
    for i, c in enumerate(cats):
        code[vals == c] = i
    ex, ey = _edges(pv.x), _edges(pv.y)
    cm = ListedColormap([phase_color(c) for c in cats] or [KIND_COLORS["-1"]])
    ax.pcolormesh(ex, ey, code, cmap=cm, vmin=-0.5, vmax=max(len(cats), 1) - 0.5, shading="flat")
    for i, c in enumerate(cats):   # coexisting attractors: hatching in the colour of the other kind
        if not phase_hatch(c):
            continue
        h = np.where(code == i, 1.0, np.nan)
        with plt.rc_context({"hatch.color": phase_hatch_color(c), "hatch.linewidth": 1.2}):
            ax.pcolor(ex, ey, np.ma.masked_invalid(h), cmap=ListedColormap([(0, 0, 0, 0)]), hatch=phase_hatch(c),
                      edgecolor=phase_hatch_color(c), lw=0.0)
    if legend and cats:
        handles = [Patch(facecolor=phase_color(c), hatch=phase_hatch(c) or None,
                         edgecolor=phase_hatch_color(c) if phase_hatch(c) else "0.25",
                         label=KIND_LABELS.get(kind_of(c), c) if "+" not in c and not c[:1].isdigit() else c)
                   for c in cats]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small",
                  ncol=min(len(cats), 3), frameon=False)
    _labels(ax, pv, names)
    ax.set_xlim(ex[0], ex[-1])
    ax.set_ylim(ey[0], ey[-1])
    if boundaries:
        _overlay(pdg, ax, curves)
    return ax


def plot_observable(pdg, column: str, ax=None, *, cmap: str | None = None, boundaries: bool = True,
                    curves=None, colorbar: bool = True, vmin=None, vmax=None, label: str | None = None,
                    names: Mapping[str, str] | None = None):
    """Map of an attractor-averaged observable (basin-weighted time average of a state variable,
    e.g. one of ``pdg.model.state_names``); the colour map of the quantity from
    :func:`analysis.style.cmap_for` unless given."""
    from analysis.style import cmap_for

    ax = _ax(ax)
    pv = pdg.pivot(column)
    vals = pv.values.astype(float)
    m = ax.pcolormesh(_edges(pv.x), _edges(pv.y), vals, cmap=cmap or cmap_for(column), shading="flat", vmin=vmin,
                      vmax=vmax)
    if colorbar:
        ax.figure.colorbar(m, ax=ax).set_label(label or rf"$\langle$ {column} $\rangle$")
    _labels(ax, pv, names)
    if boundaries:
        _overlay(pdg, ax, curves)
    return ax


def plot_lyapunov(pdg, ax=None, *, column: str = "lyap_max", cmap: str | None = None, boundaries: bool = True,
                  curves=None, colorbar: bool = True, names: Mapping[str, str] | None = None):
    """Map of the largest Lyapunov exponent (max over the attractors of a point), a diverging
    map centred at 0 (:data:`analysis.style.CMAPS` ``["lyapunov"]``)."""
    vals = pdg.table[column].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    vmax = float(np.max(np.abs(finite))) if finite.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    return plot_observable(pdg, column, ax, cmap=cmap, boundaries=boundaries, curves=curves, colorbar=colorbar,
                           vmin=-vmax, vmax=vmax, label=r"largest Lyapunov exponent $\Lambda_1$", names=names)


# --------------------------------------------------------------------------------------------
# insets
# --------------------------------------------------------------------------------------------
_INSET_SLOTS = [(0.01, 0.72, 0.25, 0.27), (0.74, 0.72, 0.25, 0.27), (0.01, 0.42, 0.25, 0.27),
                (0.74, 0.42, 0.25, 0.27), (0.375, 0.72, 0.25, 0.27), (0.375, 0.42, 0.25, 0.27)]


def add_trajectory_insets(ax, model, points: Iterable[Mapping[str, float]], *, base: Mapping[str, float] | None = None,
                          n_initial: int = 4, seed: int = 0, t_end: float = 60.0, t_show: float | None = None,
                          x: str | None = None, y: str | None = None, slots: Sequence[tuple] | None = None,
                          marker_color: str = "w"):
    """Insets of trajectories in a plane of two state variables (one colour per initial condition)
    at chosen points of a two-parameter map.

    Parameters
    ----------
    ax : Axes of the map (the first parameter of each point on x, the second on y).
    points : iterable of dicts, e.g. ``[{"J": 0.0, "lam": 0.2}, {"J": 1.0, "lam": 0.8}]``.
    t_end, t_show : the last ``t_show`` (default: all) of ``[0, t_end]`` is drawn, transients included
        so that the approach to a fixed point shows.
    x, y : state names (default :func:`analysis.style.default_plane`: the first two components of
        the model's last sphere, e.g. X_B and Y_B).
    slots : inset boxes in axes fraction ``(x0, y0, w, h)``.

    Returns
    -------
    ax, with one inset per point and a lettered marker at each point.
    """
    from analysis.style import IC_COLORS, default_plane
    from bifurcate.integrate import integrate_ensemble

    dx, dy = default_plane(model)
    x, y = x or dx, y or dy
    ix, iy = model.state_names.index(x), model.state_names.index(y)
    slots = list(slots or _INSET_SLOTS)
    for k, pt in enumerate(points):
        params = dict(base or {})
        params.update(pt)
        px, py = list(pt.values())[:2]
        te = np.linspace(0.0 if t_show is None else max(0.0, t_end - t_show), t_end, 1500)
        ens = integrate_ensemble(model, params, n_initial=n_initial, seed=seed, t_end=t_end, t_eval=te)
        ins = ax.inset_axes(slots[k % len(slots)])
        for j in range(ens.n_initial):
            s = ens.samples[0, j]
            ins.plot(s[:, ix], s[:, iy], lw=0.7, color=IC_COLORS[j % len(IC_COLORS)])
        if model.geometry.n_spheres:
            ins.set_xlim(-1.05, 1.05)
            ins.set_ylim(-1.05, 1.05)
        ins.set_aspect("equal")
        ins.set_xticks([])
        ins.set_yticks([])
        letter = chr(ord("a") + k)
        ins.set_title(f"({letter})", fontsize="x-small", pad=1)
        ax.plot(px, py, "o", ms=4, mfc=marker_color, mec="k")
        ax.annotate(f"({letter})", (px, py), textcoords="offset points", xytext=(3, 3), fontsize="x-small",
                    color="k", bbox=dict(boxstyle="round,pad=0.1", fc="w", ec="none", alpha=0.8))
    return ax


def plot_fig2(pdg, ax=None, *, curves=None, insets: Sequence[Mapping[str, float]] | None = None,
              paper: bool = True, **kw):
    """The paper's Fig. 2: the count map with the exact boundaries (solid), the paper's Eqs. (12)
    and (13) dashed (``paper``; drawn when the grid is the paper's (J, lam) plane and the model has
    the paper's g and gamma, taken from the sweep's own parameter values), and optional
    trajectory insets."""
    ax = plot_n_stable(pdg, ax, curves=curves)
    b = _base(pdg)
    if paper and list(pdg.grid) == ["J", "lam"] and {"g", "gamma"} <= set(b):
        plot_boundaries(ax, g=b["g"], gamma=b["gamma"])
    if insets:
        add_trajectory_insets(ax, pdg.model, insets, base=b, **kw)
    return ax


#: line styles of continued curves by kind (equilibria solid/dashed, cycles dash-dotted/dotted)
CURVE_STYLES = {"BP": dict(ls="-", color="k"), "LP": dict(ls="-", color="0.35"), "HB": dict(ls="--", color="k"),
                "LPC": dict(ls="-.", color="k"), "PD": dict(ls=":", color="k"), "NS": dict(ls=(0, (5, 1, 1, 1)), color="k")}


#: how :attr:`analysis.phase_boundaries.Boundaries.markers` are drawn (white diamonds, black edge)
MARKER_STYLE = dict(marker="D", ms=5, mfc="w", mec="k", mew=1.1, ls="none", zorder=5)


def plot_phase_map(pdg, ax=None, *, boundaries=None, transitions: pd.DataFrame | None = None, column: str = "phase",
                   tol: float = 1.0, legend: bool = True, names: Mapping[str, str] | None = None,
                   hatches: Mapping[str, str] | None = None, fragile: bool = True):
    """The census phase over a (refined) phase diagram, the continued curves overlaid, the phase
    changes no curve explains marked, fragile phases dotted (:func:`mark_fragile`).

    Parameters
    ----------
    pdg : PhaseDiagram
    boundaries : analysis.phase_boundaries.Boundaries, optional
        Continued BP, LP, Hopf, LPC, PD and NS curves (:func:`analysis.phase_boundaries.continued_boundaries`,
        :func:`analysis.phase_boundaries.cycle_boundaries`), drawn in the styles of :data:`CURVE_STYLES`
        (neutral-saddle parts of Hopf curves left out); its ``markers`` (non-generic folds) as
        :data:`MARKER_STYLE` diamonds.
    transitions : DataFrame, optional
        :func:`analysis.phase_boundaries.phase_transitions` of ``pdg`` (computed here from
        ``boundaries`` with ``tol`` when not given); each *global* one is marked by a blue bar (white
        outline) on the cell boundary between the pair of points it separates.
    column, names, hatches
        As in :func:`plot_kinds`.
    fragile : bool
        Mark the points whose phase the census flags as fragile (column ``fragile``, when present).
    """
    from matplotlib.lines import Line2D

    from analysis.phase_boundaries import phase_transitions

    ax = plot_kinds(pdg, ax, column=column, boundaries=False, legend=legend, names=names, hatches=hatches)
    first_legend = ax.get_legend()
    xn, yn = list(pdg.grid)
    handles = []
    if boundaries is not None:
        xl, yl = ax.get_xlim(), ax.get_ylim()
        seen = set()
        for c in boundaries.curves():
            kind = str(c["label"].iloc[0])
            st = CURVE_STYLES.get(kind, dict(ls="-", color="k"))
            ax.plot(c[xn], c[yn], lw=1.3, **st)
            if kind not in seen:
                handles.append(Line2D([], [], lw=1.3, label=kind, **st))
                seen.add(kind)
        m = getattr(boundaries, "markers", None)
        if m is not None and len(m):
            # special points kept as points (a non-generic fold of cycles: no curve to continue)
            ax.plot(m[xn], m[yn], **MARKER_STYLE)
            for kind in dict.fromkeys(m["kind"].astype(str)):
                handles.append(Line2D([], [], label=f"{kind} (non-generic)", **MARKER_STYLE))
        ax.set_xlim(xl)
        ax.set_ylim(yl)
    if transitions is None:
        transitions = phase_transitions(pdg, boundaries, columns=(column,), tol=tol)
    if mark_global_transitions(ax, pdg, transitions):
        handles.append(Line2D([], [], color=GLOBAL_COLOR, lw=2.2, label="global transition"))
    if fragile and mark_fragile(ax, pdg):
        handles.append(Line2D([], [], ls="", **FRAGILE_STYLE, label="fragile phase"))
    if handles and legend:
        # one legend below the axes: the phases (plot_kinds), then the curves and the global mark
        old = list(first_legend.legend_handles) if first_legend is not None else []
        if first_legend is not None:
            first_legend.remove()
        allh = old + handles
        ax.legend(handles=allh, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small",
                  ncol=min(len(allh), 3), frameon=False)
    return ax


#: colour of the marks of global transitions (blue: no kind's colour; drawn with a white outline so
#: that it shows on every phase colour)
GLOBAL_COLOR = "#0a5cff"


def mark_global_transitions(ax, pdg, transitions: pd.DataFrame, *, color: str = GLOBAL_COLOR, lw: float = 2.2) -> int:
    """A short bar across the middle of each pair of grid neighbours that a *global* transition
    (:func:`analysis.phase_boundaries.phase_transitions`) separates: the cell boundary between them,
    one grid step long. Returns the number of marks."""
    import matplotlib.patheffects as pe

    if transitions is None or not len(transitions):
        return 0
    glob = transitions[transitions["classification"] == "global"]
    fx = [pe.Stroke(linewidth=lw + 1.6, foreground="w"), pe.Normal()]
    xn, yn = list(pdg.grid)
    xa, ya = np.asarray(pdg.grid[xn], float), np.asarray(pdg.grid[yn], float)
    dx = float(np.diff(xa).min()) if len(xa) > 1 else 1.0
    dy = float(np.diff(ya).min()) if len(ya) > 1 else 1.0
    for _, e in glob.iterrows():
        mx, my = 0.5 * (e[f"{xn}_0"] + e[f"{xn}_1"]), 0.5 * (e[f"{yn}_0"] + e[f"{yn}_1"])
        if e["axis"] == xn:
            ax.plot([mx, mx], [my - 0.5 * dy, my + 0.5 * dy], color=color, lw=lw, solid_capstyle="butt",
                    path_effects=fx, zorder=4)
        else:
            ax.plot([mx - 0.5 * dx, mx + 0.5 * dx], [my, my], color=color, lw=lw, solid_capstyle="butt",
                    path_effects=fx, zorder=4)
    return int(len(glob))


#: marker of a point whose census phase is fragile (:mod:`analysis.attractors.fragility`): a small
#: black-edged white dot, visible on every phase colour, smaller than a cell of a 51 x 51 grid
FRAGILE_STYLE = dict(marker="o", ms=2.6, mfc="w", mec="k", mew=0.5)


def mark_fragile(ax, pdg, *, column: str = "fragile", style: Mapping | None = None) -> int:
    """A small dot on every grid point whose phase the census flags as fragile (``column`` True;
    unknown flags, NA, are not marked). Returns the number of marks (0 if the table has no such
    column, as a sweep stored before the flag existed)."""
    df = pdg.to_frame() if hasattr(pdg, "to_frame") else pdg
    if column not in df:
        return 0
    f = df[column].astype("boolean").fillna(False).to_numpy(bool)
    if not f.any():
        return 0
    xn, yn = list(pdg.grid)
    ax.plot(df.loc[f, xn], df.loc[f, yn], ls="", zorder=5, **{**FRAGILE_STYLE, **dict(style or {})})
    return int(f.sum())
