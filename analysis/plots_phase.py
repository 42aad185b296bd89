"""Plots of (J, lam) phase diagrams: the paper's Fig. 2 and maps of kinds, ZB and the exponent.

Every function takes ``ax=None`` (a new figure) and returns the axes. The analytic boundaries of
the paper are drawn dashed: Eq. (12), the branch point (pitchfork) of the normal state, exact,

    J_c^2 = ((gamma^2 - lam^2 + g^2)^2 + 4 lam^2 g^2) / (4 (lam^2 + g^2))      (both signs of J)

and Eq. (13), the onset of oscillations near J = 0 to lowest order in J,

    lam_c / g ~ (1 + 2 J^2 / g^2) / 2.

Exact curves from continuation (:func:`exact_boundaries`) are drawn solid when available.

References
----------
Kothe & Kirton, Fig. 2, Eqs. (12) and (13).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["eq12_Jc", "eq13_lamc", "dominant_kind", "plot_n_stable", "plot_kinds", "plot_observable", "plot_lyapunov",
           "plot_boundaries", "add_trajectory_insets", "exact_boundaries", "plot_fig2"]


# --------------------------------------------------------------------------------------------
# the paper's closed forms
# --------------------------------------------------------------------------------------------
def eq12_Jc(lam, g: float = 1.0, gamma: float = 0.5) -> np.ndarray:
    """|J_c|(lam) of Eq. (12): where the normal state has a zero tangent eigenvalue (BP)."""
    lam = np.asarray(lam, dtype=float)
    return np.sqrt(((gamma ** 2 - lam ** 2 + g ** 2) ** 2 + 4 * lam ** 2 * g ** 2) / (4 * (lam ** 2 + g ** 2)))


def eq13_lamc(J, g: float = 1.0) -> np.ndarray:
    """lam_c(J) of Eq. (13), lowest order in J: lam_c = g (1 + 2 J^2 / g^2) / 2."""
    J = np.asarray(J, dtype=float)
    return 0.5 * g * (1.0 + 2.0 * J ** 2 / g ** 2)


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4.5))
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


def _labels(ax, pv):
    names = {"lam": r"$\lambda / g$", "J": r"$J / g$", "gamma": r"$\gamma / g$"}
    ax.set_xlabel(names.get(pv.x_name, pv.x_name))
    ax.set_ylabel(names.get(pv.y_name, pv.y_name))


# --------------------------------------------------------------------------------------------
# boundaries
# --------------------------------------------------------------------------------------------
def exact_boundaries(model, base: Mapping[str, float] | None = None, **kwargs) -> list[pd.DataFrame]:
    """Exact BP and Hopf curves of the normal state in (J, lam) from two-parameter continuation.

    Returns a list of tables with columns ``J``, ``lam`` and ``label`` (empty if the continuation
    module is not available or fails; plots then show only the paper's formulas).
    """
    try:
        from bifurcate.continuation import continue_codim2  # noqa: F401
    except ImportError:
        return []
    if model.name != "lmg_dimer":
        return []
    try:
        curves = _normal_state_curves(model, base, **kwargs)
    except Exception:  # noqa: BLE001 - a plot never dies on an optional overlay
        return []
    return curves


def _normal_state_curves(model, base, J_max: float = 2.5, lam_max: float = 2.0) -> list[pd.DataFrame]:
    """BP curves (both signs of J) and the Hopf curve (true Hopf segment only, neutral saddles
    dropped) of the normal state, each continued in (J, lam) from a point located in one parameter."""
    from bifurcate.continuation import continue_codim2, continue_equilibria
    from bifurcate.models.lmg_dimer import NORMAL_STATE

    base = dict(base or {})
    bounds = {"J": (-J_max, J_max), "lam": (0.0, lam_max)}
    curves = []
    for sign in (1.0, -1.0):
        br = continue_equilibria(model, NORMAL_STATE, "J", params={**base, "J": 0.0, "lam": 0.05},
                                 ds=0.01 * sign, p_min=-J_max if sign < 0 else 0.0, p_max=J_max if sign > 0 else 0.0)
        for pt in [p for p in br.points if p.kind == "BP"][:1]:
            df = continue_codim2(model, pt, "lam", bounds=bounds).to_frame()
            curves.append(df.assign(label="BP (continuation)")[["J", "lam", "label"]])
    br = continue_equilibria(model, NORMAL_STATE, "lam", params={**base, "J": 0.0, "lam": 0.0}, p_min=0.0, p_max=lam_max)
    for pt in [p for p in br.points if p.kind == "HB"][:1]:
        df = continue_codim2(model, pt, "J", bounds=bounds).to_frame()
        if "segment" in df:
            df = df[df["segment"] == "HB"]
        curves.append(df.assign(label="HB (continuation)")[["J", "lam", "label"]])
        # above the Bogdanov-Takens point (where the Hopf curve ends) the BP belongs to an already
        # unstable normal state and bounds no phase
        lam_bt = float(curves[-1]["lam"].max()) if len(curves[-1]) else np.inf
        curves = [c[c["lam"] <= lam_bt + 1e-9] if c["label"].iloc[0].startswith("BP") else c for c in curves]
    return curves


def plot_boundaries(ax=None, *, g: float = 1.0, gamma: float = 0.5, J_range=None, lam_range=None,
                    curves: Sequence[pd.DataFrame] | None = None, eq12: bool = True, eq13: bool = True,
                    color: str = "k", clip: bool = True, **kw):
    """Eq. (12) (both signs of J) and Eq. (13) dashed, plus exact curves (solid) if given.

    The axes are (J on x, lam on y); the current limits are kept. With ``clip`` each formula is
    drawn only up to where the two meet (where they bound the normal phase).
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
    for c in curves or ():
        if {"J", "lam"} <= set(c.columns) and len(c):
            c = c.sort_values("lam" if str(c["label"].iloc[0]).startswith("BP") else "J") if "label" in c else c
            ax.plot(c["J"], c["lam"], color="w", lw=1.0, ls="-", alpha=0.9,
                    label=str(c["label"].iloc[0]) if "label" in c else None)
    ax.set_xlim(xl)
    ax.set_ylim(yl)
    return ax


# --------------------------------------------------------------------------------------------
# maps
# --------------------------------------------------------------------------------------------
def plot_n_stable(pdg, ax=None, *, boundaries: bool = True, curves=None, cmap: str = "viridis",
                  colorbar: bool = True):
    """Fig. 2: colour = number of stable fixed points over (J, lam), boundaries dashed."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap

    ax = _ax(ax)
    pv = pdg.pivot("n_stable_fp")
    vals = np.where(pv.values < 0, np.nan, pv.values).astype(float)
    nmax = int(np.nanmax(vals)) if np.isfinite(vals).any() else 0
    base_cmap = plt.get_cmap(cmap)
    colors = base_cmap(np.linspace(0.0, 1.0, nmax + 1)) if nmax > 0 else base_cmap([0.0])
    cm = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(-0.5, nmax + 1.5), cm.N)
    m = ax.pcolormesh(_edges(pv.x), _edges(pv.y), vals, cmap=cm, norm=norm, shading="flat")
    if colorbar:
        cb = ax.figure.colorbar(m, ax=ax, ticks=np.arange(nmax + 1))
        cb.set_label("stable fixed points")
    _labels(ax, pv)
    if boundaries:
        _overlay(pdg, ax, curves)
    return ax


def _overlay(pdg, ax, curves):
    b = _base(pdg)
    if set(pdg.grid) == {"J", "lam"}:
        if curves is None:
            curves = exact_boundaries(pdg.model, b)
        plot_boundaries(ax, g=b.get("g", 1.0), gamma=b.get("gamma", 0.5), curves=curves)


def dominant_kind(df: pd.DataFrame) -> pd.Series:
    """Per row, the kind with the largest total basin fraction (``frac_<kind>`` columns; ties go to
    the more complex kind: CH > QP > LC > NEUTRAL > FP)."""
    order = ["CH", "QP", "LC", "NEUTRAL", "FP", "DIV", "unclassified"]
    cols = [f"frac_{k}" for k in order if f"frac_{k}" in df]
    F = df[cols].to_numpy(float)
    lab = np.array([c.removeprefix("frac_") for c in cols], dtype=object)[np.argmax(F, axis=1)]
    return pd.Series(np.where(np.nanmax(F, axis=1) > 0, lab, "-1"), index=df.index)


def plot_kinds(pdg, ax=None, *, column: str = "dominant", boundaries: bool = True, curves=None, legend: bool = True):
    """Map of the kinds of dynamics.

    ``column="dominant"`` (default) colours each point by the kind holding the largest basin
    fraction (:func:`dominant_kind`); ``column="phase"`` by the set of kinds present (e.g.
    ``FP+LC``; many categories in the PT phase).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    ax = _ax(ax)
    if column == "dominant":
        t = pdg.table.assign(dominant=dominant_kind(pdg.table))
        pv = type(pdg)(table=t, grid=pdg.grid, model=pdg.model, options=pdg.options).pivot("dominant")
        fixed = {"FP": "#21918c", "LC": "#fde725", "QP": "#3b528b", "CH": "#440154", "NEUTRAL": "#f4a261",
                 "DIV": "#e63946", "unclassified": "#adb5bd", "-1": "#adb5bd"}
    else:
        pv = pdg.pivot(column)
        fixed = {}
    cats = sorted({str(v) for v in pv.values.ravel() if v is not None and str(v) != ""},
                  key=lambda s: (len(s.split("+")), s))
    code = {c: i for i, c in enumerate(cats)}
    arr = np.full(pv.values.shape, np.nan)
    for (i, j), v in np.ndenumerate(pv.values):
        if v is not None and str(v) in code:
            arr[i, j] = code[str(v)]
    palette = ["#440154", "#21918c", "#fde725", "#e76f51", "#3b528b", "#5ec962", "#f4a261", "#9d4edd", "#adb5bd",
               "#264653", "#e9c46a", "#2a9d8f"]
    colors = [fixed.get(c, palette[i % len(palette)]) for i, c in enumerate(cats)] or ["#adb5bd"]
    cm = ListedColormap(colors)
    ax.pcolormesh(_edges(pv.x), _edges(pv.y), arr, cmap=cm, vmin=-0.5, vmax=len(colors) - 0.5, shading="flat")
    if legend and cats:
        ax.legend(handles=[Patch(color=colors[code[c]], label=c) for c in cats], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    _labels(ax, pv)
    if boundaries:
        _overlay(pdg, ax, curves)
    return ax


def plot_observable(pdg, column: str = "ZB", ax=None, *, cmap: str = "RdBu_r", boundaries: bool = True,
                    curves=None, colorbar: bool = True, vmin=None, vmax=None, label: str | None = None):
    """Map of an attractor-averaged observable (basin-weighted time average, e.g. ``ZB``)."""
    ax = _ax(ax)
    pv = pdg.pivot(column)
    vals = pv.values.astype(float)
    m = ax.pcolormesh(_edges(pv.x), _edges(pv.y), vals, cmap=cmap, shading="flat", vmin=vmin, vmax=vmax)
    if colorbar:
        ax.figure.colorbar(m, ax=ax).set_label(label or rf"$\langle {column} \rangle$")
    _labels(ax, pv)
    if boundaries:
        _overlay(pdg, ax, curves)
    return ax


def plot_lyapunov(pdg, ax=None, *, column: str = "lyap_max", cmap: str = "magma", boundaries: bool = True,
                  curves=None, colorbar: bool = True):
    """Map of the largest Lyapunov exponent (max over the attractors of a point)."""
    vals = pdg.table[column].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    vmax = float(np.max(np.abs(finite))) if finite.size else 1.0
    return plot_observable(pdg, column, ax, cmap=cmap, boundaries=boundaries, curves=curves, colorbar=colorbar,
                           vmin=-vmax if cmap in ("RdBu_r", "coolwarm") else None, vmax=vmax,
                           label=r"largest Lyapunov exponent $\Lambda_1$")


# --------------------------------------------------------------------------------------------
# insets
# --------------------------------------------------------------------------------------------
_INSET_SLOTS = [(0.01, 0.72, 0.25, 0.27), (0.74, 0.72, 0.25, 0.27), (0.01, 0.42, 0.25, 0.27),
                (0.74, 0.42, 0.25, 0.27), (0.375, 0.72, 0.25, 0.27), (0.375, 0.42, 0.25, 0.27)]


def add_trajectory_insets(ax, model, points: Iterable[Mapping[str, float]], *, base: Mapping[str, float] | None = None,
                          n_initial: int = 4, seed: int = 0, t_end: float = 60.0, t_show: float | None = None,
                          x: str = "XB", y: str = "YB", slots: Sequence[tuple] | None = None,
                          marker_color: str = "w"):
    """Insets of X_B-Y_B trajectories (one colour per initial condition) at chosen points.

    Parameters
    ----------
    ax : Axes of the phase diagram (J on x, lam on y).
    points : iterable of dicts, e.g. ``[{"J": 0.0, "lam": 0.2}, {"J": 1.0, "lam": 0.8}]``.
    t_end, t_show : the last ``t_show`` (default: all) of ``[0, t_end]`` is drawn, transients included
        so that the approach to a fixed point shows.
    slots : inset boxes in axes fraction ``(x0, y0, w, h)``.

    Returns
    -------
    ax, with one inset per point and a lettered marker at each point.
    """
    from bifurcate.integrate import integrate_ensemble

    ix, iy = model.state_names.index(x), model.state_names.index(y)
    slots = list(slots or _INSET_SLOTS)
    for k, pt in enumerate(points):
        params = dict(base or {})
        params.update(pt)
        te = np.linspace(0.0 if t_show is None else max(0.0, t_end - t_show), t_end, 1500)
        ens = integrate_ensemble(model, params, n_initial=n_initial, seed=seed, t_end=t_end, t_eval=te)
        ins = ax.inset_axes(slots[k % len(slots)])
        for j in range(ens.n_initial):
            s = ens.samples[0, j]
            ins.plot(s[:, ix], s[:, iy], lw=0.7)
        ins.set_xlim(-1.05, 1.05)
        ins.set_ylim(-1.05, 1.05)
        ins.set_aspect("equal")
        ins.set_xticks([])
        ins.set_yticks([])
        letter = chr(ord("a") + k)
        ins.set_title(f"({letter})", fontsize="x-small", pad=1)
        ax.plot(pt.get("J", 0.0), pt.get("lam", 0.0), "o", ms=4, mfc=marker_color, mec="k")
        ax.annotate(f"({letter})", (pt.get("J", 0.0), pt.get("lam", 0.0)), textcoords="offset points",
                    xytext=(3, 3), fontsize="x-small", color=marker_color)
    return ax


def plot_fig2(pdg, ax=None, *, insets: Sequence[Mapping[str, float]] | None = None, curves=None, **inset_kw):
    """The paper's Fig. 2: number of stable fixed points, Eqs. (12)-(13) dashed, X_B-Y_B insets."""
    ax = plot_n_stable(pdg, ax, curves=curves)
    if insets:
        add_trajectory_insets(ax, pdg.model, insets, base=_base(pdg), **inset_kw)
    return ax
