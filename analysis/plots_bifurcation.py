"""Bifurcation diagrams in the field's convention, and two-parameter curves in (J, lam).

* :func:`plot_branch`: one coordinate (or a function of the state) against the continuation
  parameter; stable parts solid, unstable parts dashed; special points marked and labelled
  (LP, BP, HB, ...; neutral saddles are not drawn unless asked).
* :func:`plot_codim2`: BP/LP and Hopf curves in the (J, lam) plane (neutral-saddle segments
  dotted, codimension-two points labelled), with the paper's Eq. (12) and Eq. (13) overlaid dashed.

Every function takes ``ax=None`` (a new figure) and returns the axes.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

from bifurcate.continuation.reference import eq12_Jc, eq13_lam_c
from bifurcate.results import Branch

__all__ = ["plot_branch", "plot_branches", "plot_codim2"]

_MARKERS = {"LP": ("s", "tab:red"), "BP": ("o", "tab:blue"), "HB": ("D", "tab:green"), "NSad": ("x", "0.5"),
            "BT": ("*", "tab:purple"), "GH": ("P", "tab:orange"), "ZH": ("^", "tab:brown"), "HH": ("v", "tab:pink"),
            "CP": ("h", "tab:olive")}


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.6))
    return ax


def _yvalues(branch: Branch, y: str | Callable) -> tuple[np.ndarray, str]:
    if callable(y):
        return np.array([y(s) for s in branch.states]), getattr(y, "__name__", "f(y)")
    names = list(branch.model.state_names)
    if y not in names:
        raise KeyError(f"unknown state name {y!r}; expected one of {names} or a callable")
    return branch.states[:, names.index(y)], y


def plot_branch(branch: Branch, y: str | Callable = "ZB", ax=None, color=None, label: str | None = None,
                show_points: bool = True, show_nsad: bool = False, annotate: bool = True, lw: float = 1.6):
    """Bifurcation diagram of one equilibrium branch.

    Parameters
    ----------
    branch : Branch
    y : str or callable
        State name (e.g. "XB") or a function of the state (n,) -> float.
    ax : matplotlib Axes, optional
    color, label : line colour and legend label.
    show_points, show_nsad, annotate : mark special points / neutral saddles / write their labels.

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    x = branch.param_values
    yv, yname = _yvalues(branch, y)
    st = np.asarray(branch.stable, bool)
    color = color or "k"
    # split into runs of equal stability; neighbouring runs share their end point so the line is unbroken
    start = 0
    first = True
    for k in range(1, len(x) + 1):
        if k == len(x) or st[k] != st[start]:
            seg = slice(start, min(k + 1, len(x)))
            ax.plot(x[seg], yv[seg], ls="-" if st[start] else "--", color=color, lw=lw,
                    label=label if first else None)
            first = False
            start = k
    if show_points:
        for p in branch.points:
            if p.kind == "NSad" and not show_nsad:
                continue
            mk, c = _MARKERS.get(p.kind, ("o", "k"))
            yp = float(y(p.state)) if callable(y) else float(p.state[list(branch.model.state_names).index(y)])
            ax.plot([p.param], [yp], marker=mk, color=c, ms=7, ls="none", mfc=c if p.located else "none")
            if annotate:
                ax.annotate(p.kind, (p.param, yp), textcoords="offset points", xytext=(4, 4), fontsize=8, color=c)
    ax.set_xlabel(branch.param)
    ax.set_ylabel(yname)
    return ax


def plot_branches(branches: Iterable[Branch], y: str | Callable = "ZB", ax=None, colors: Sequence | None = None,
                  **kwargs):
    """Several branches on one diagram (e.g. the normal state, the broken branch and its mirror)."""
    ax = _ax(ax)
    for k, br in enumerate(branches):
        plot_branch(br, y=y, ax=ax, color=(colors[k % len(colors)] if colors else None), **kwargs)
    return ax


def plot_codim2(curves: Iterable[Branch], ax=None, x: str = "J", y: str = "lam", paper: bool = True,
                g: float | None = None, gamma: float | None = None, annotate: bool = True,
                colors: Sequence | None = None, j_range: tuple[float, float] = (-2.0, 2.0),
                lam_range: tuple[float, float] = (0.0, 1.5)):
    """Two-parameter curves in the (J, lam) plane with the paper's approximations.

    Parameters
    ----------
    curves : iterable of Branch
        From :func:`bifurcate.continuation.continue_codim2` (kinds "BP", "LP", "HB").
    x, y : str
        Parameter names on the axes.
    paper : bool
        Overlay Eq. (12) (BP: J = +-J_c(lam)) and Eq. (13) (Hopf: lam_c(J)), dashed black.
    g, gamma : float, optional
        Parameters of the overlays (default: those of the first curve).

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    curves = list(curves)
    default_colors = {"BP": "tab:blue", "LP": "tab:red", "HB": "tab:green"}
    for k, c in enumerate(curves):
        d = c.to_frame()
        col = colors[k % len(colors)] if colors else default_colors.get(c.kind, "k")
        xs, ys = d[x].to_numpy(), d[y].to_numpy()
        if "segment" in d:
            seg = d["segment"].to_numpy()
            for kind, ls in (("HB", "-"), ("NSad", ":")):
                m = np.where(seg == kind, 1.0, np.nan)
                ax.plot(xs * m, ys * m, ls=ls, color=col, lw=1.8 if kind == "HB" else 1.0,
                        label=f"{c.kind} curve" if kind == "HB" else None)
        else:
            ax.plot(xs, ys, "-", color=col, lw=1.8, label=f"{c.kind} curve")
        for p in c.points:
            mk, mc = _MARKERS.get(p.kind, ("o", "k"))
            px, py = p.params[x], p.params[y]
            ax.plot([px], [py], marker=mk, color=mc, ms=9, ls="none", mfc=mc if p.located else "none")
            if annotate:
                ax.annotate(p.kind, (px, py), textcoords="offset points", xytext=(5, 3), fontsize=8, color=mc)
    if paper:
        ref = curves[0].params if curves else {}
        g = float(g if g is not None else ref.get("g", 1.0))
        gamma = float(gamma if gamma is not None else ref.get("gamma", 0.5))
        lam = np.linspace(*lam_range, 301)
        jc = eq12_Jc(lam, g, gamma)
        ax.plot(jc, lam, "k--", lw=1, label="Eq. (12)")
        ax.plot(-jc, lam, "k--", lw=1)
        J = np.linspace(-1.0, 1.0, 201)
        lc = eq13_lam_c(J, g)
        ok = (lc >= lam_range[0]) & (lc <= lam_range[1])
        ax.plot(J[ok], lc[ok], "k-.", lw=1, label="Eq. (13)")
    ax.set_xlim(*j_range)
    ax.set_ylim(*lam_range)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(fontsize=7, loc="best")
    return ax
