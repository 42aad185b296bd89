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

__all__ = ["plot_branch", "plot_branches", "plot_codim2", "annotate_points"]

#: special points: marker shape per kind, all in near black (the colours of the figures belong to the
#: attractor kinds, analysis.style.KIND_COLORS)
_MARKERS = {"LP": ("s", "0.1"), "BP": ("o", "0.1"), "HB": ("D", "0.1"), "NSad": ("x", "0.5"),
            "BT": ("*", "0.1"), "GH": ("P", "0.1"), "ZH": ("^", "0.1"), "HH": ("v", "0.1"),
            "CP": ("h", "0.1")}


def annotate_points(ax, points, *, min_sep: float = 0.07, fontsize=8, offset=(4, 4)):
    """Label special points without overlapping labels.

    ``points`` is a sequence of ``(x, y, text, color)`` in data coordinates. Points closer than
    ``min_sep`` (fraction of the axes, in both directions) are merged into one label (their texts
    joined by commas, in the colour of the first), written once next to the group.
    """
    pts = [(float(x), float(y), str(t), c) for x, y, t, c in points if np.isfinite(x) and np.isfinite(y)]
    if not pts:
        return []
    to_ax = ax.transData + ax.transAxes.inverted()
    P = to_ax.transform(np.array([[p[0], p[1]] for p in pts]))
    groups: list[list[int]] = []
    for i, (u, v) in enumerate(P):
        for g in groups:
            if any(abs(u - P[j, 0]) < min_sep and abs(v - P[j, 1]) < min_sep for j in g):
                g.append(i)
                break
        else:
            groups.append([i])
    out = []
    for g in groups:
        texts = list(dict.fromkeys(pts[j][2] for j in g))
        j0 = max(g, key=lambda j: P[j, 1])           # label above the highest point of the group
        u = P[j0, 0]
        ha = "right" if u > 0.85 else "left"
        dx = -offset[0] if ha == "right" else offset[0]
        out.append(ax.annotate(", ".join(texts), (pts[j0][0], pts[j0][1]), textcoords="offset points",
                               xytext=(dx, offset[1]), fontsize=fontsize, color=pts[j0][3], ha=ha))
    return out


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
    return ax


def _yvalues(branch: Branch, y: str | Callable) -> tuple[np.ndarray, str]:
    if callable(y):
        return np.array([y(s) for s in branch.states]), getattr(y, "__name__", "f(y)")
    names = list(branch.model.state_names)
    if y not in names:
        raise KeyError(f"unknown state name {y!r}; expected one of {names} or a callable")
    return branch.states[:, names.index(y)], y


def plot_branch(branch: Branch, y: str | Callable | None = None, ax=None, color=None, label: str | None = None,
                show_points: bool = True, show_nsad: bool = False, annotate: bool = True, lw: float = 1.6):
    """Bifurcation diagram of one equilibrium branch.

    Parameters
    ----------
    branch : Branch
    y : str or callable, optional
        State name (e.g. "XB") or a function of the state (n,) -> float; default
        :func:`analysis.style.default_observable` (the last component of the model's last sphere).
    ax : matplotlib Axes, optional
    color, label : line colour and legend label.
    show_points, show_nsad, annotate : mark special points / neutral saddles / write their labels.

    Returns
    -------
    Axes
    """
    from analysis.style import default_observable

    ax = _ax(ax)
    y = default_observable(branch.model) if y is None else y
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
        labels = []
        for p in branch.points:
            if p.kind == "NSad" and not show_nsad:
                continue
            mk, c = _MARKERS.get(p.kind, ("o", "k"))
            yp = float(y(p.state)) if callable(y) else float(p.state[list(branch.model.state_names).index(y)])
            ax.plot([p.param], [yp], marker=mk, color=c, ms=7, ls="none", mfc=c if p.located else "none")
            labels.append((p.param, yp, p.kind, c))
        if annotate:
            annotate_points(ax, labels)
    ax.set_xlabel(branch.param)
    ax.set_ylabel(yname)
    return ax


def plot_branches(branches: Iterable[Branch], y: str | Callable | None = None, ax=None, colors: Sequence | None = None,
                  **kwargs):
    """Several branches on one diagram (e.g. the normal state, the broken branch and its mirror)."""
    ax = _ax(ax)
    for k, br in enumerate(branches):
        plot_branch(br, y=y, ax=ax, color=(colors[k % len(colors)] if colors else None), **kwargs)
    return ax


def _curve_params(curves) -> tuple[str, str]:
    """The two parameters of two-parameter curves: the continuation parameter and the other free
    parameter that appears as a column."""
    c = curves[0]
    d = c.to_frame()
    others = [k for k in c.model.param_names if k != c.param and k in d.columns and d[k].nunique() > 1]
    if not others:
        raise ValueError(f"cannot tell the second parameter of the {c.kind} curve; give x and y")
    return c.param, others[0]


def plot_codim2(curves: Iterable[Branch], ax=None, x: str | None = None, y: str | None = None,
                paper: bool | None = None, g: float | None = None, gamma: float | None = None, annotate: bool = True,
                colors: Sequence | None = None, j_range: tuple[float, float] | None = None,
                lam_range: tuple[float, float] | None = None):
    """Two-parameter curves (BP/LP solid, Hopf solid with its neutral-saddle part dotted,
    codimension-two points marked), optionally with the paper's approximations.

    Parameters
    ----------
    curves : iterable of Branch
        From :func:`bifurcate.continuation.continue_codim2` (kinds "BP", "LP", "HB").
    x, y : str, optional
        Parameter names on the axes (default: the curves' two parameters).
    paper : bool, optional
        Overlay the paper's Eq. (12) (BP: J = +-J_c(lam)) and Eq. (13) (Hopf: lam_c(J)), dashed
        black. Default: only when the axes are the paper's (J, lam) and the model has g and gamma.
    g, gamma : float, optional
        Parameters of the overlays (default: those of the first curve, then its model's defaults).
    j_range, lam_range : axis limits (default: the data's range, padded).

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    curves = list(curves)
    if curves and (x is None or y is None):
        cx, cy = _curve_params(curves)
        x, y = x or cx, y or cy
    x, y = x or "x", y or "y"
    default_colors = {"BP": "tab:blue", "LP": "tab:red", "HB": "tab:green"}
    labels = []
    allx, ally = [], []
    for k, c in enumerate(curves):
        d = c.to_frame()
        col = colors[k % len(colors)] if colors else default_colors.get(c.kind, "k")
        xs, ys = d[x].to_numpy(), d[y].to_numpy()
        allx.append(xs)
        ally.append(ys)
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
            labels.append((px, py, p.kind, mc))

    def _lim(arrs, given):
        if given is not None:
            return tuple(given)
        v = np.concatenate(arrs) if arrs else np.array([0.0, 1.0])
        v = v[np.isfinite(v)]
        lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
        pad = 0.05 * (hi - lo or 1.0)
        return lo - pad, hi + pad

    xr, yr = _lim(allx, j_range), _lim(ally, lam_range)
    ax.set_xlim(*xr)
    ax.set_ylim(*yr)
    if annotate:
        annotate_points(ax, labels)
    ref = dict(curves[0].model.defaults) if curves else {}
    ref.update(curves[0].params if curves else {})
    if paper is None:
        paper = (x, y) == ("J", "lam") and (g is not None or "g" in ref) and (gamma is not None or "gamma" in ref)
    if paper:
        if (g is None and "g" not in ref) or (gamma is None and "gamma" not in ref):
            raise ValueError("paper=True needs g and gamma (given, or parameters of the curves' model)")
        g = float(g if g is not None else ref["g"])
        gamma = float(gamma if gamma is not None else ref["gamma"])
        lam = np.linspace(max(yr[0], 0.0), yr[1], 301)
        jc = eq12_Jc(lam, g, gamma)
        ax.plot(jc, lam, "k--", lw=1, label="Eq. (12)")
        ax.plot(-jc, lam, "k--", lw=1)
        J = np.linspace(-1.0, 1.0, 201)
        lc = eq13_lam_c(J, g)
        ok = (lc >= yr[0]) & (lc <= yr[1])
        ax.plot(J[ok], lc[ok], "k-.", lw=1, label="Eq. (13)")
    ax.set_xlim(*xr)
    ax.set_ylim(*yr)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(fontsize=7, loc="best")
    return ax
