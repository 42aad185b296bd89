"""Plots of cycle branches in the field's convention.

* :func:`plot_cycle_envelope`: max / min of a state variable along each cycle against the
  continuation parameter; stable cycles solid, unstable dashed; special points (LPC, PD, NS, BPC)
  marked and labelled.
* :func:`plot_cycles_plane`: selected cycles in a plane of two state variables (X_B - Y_B by
  default, as in the insets of Fig. 2 of the paper), coloured by the parameter.

Both take ``ax=None`` (a new figure) and return the axes.
"""
from __future__ import annotations

import numpy as np

__all__ = ["plot_cycle_envelope", "plot_cycles_plane"]

#: special points of cycles; shapes distinct from those of equilibria (LP square, BP circle, HB diamond
#: in analysis.plots_bifurcation), so a diagram with both reads unambiguously
_MARKERS = {"LPC": "p", "PD": "v", "NS": "X", "BPC": "^"}


def _runs(mask: np.ndarray):
    """(start, stop) slices of constant value, overlapping by one row so the line is continuous."""
    out = []
    i = 0
    m = len(mask)
    while i < m:
        j = i
        while j + 1 < m and mask[j + 1] == mask[i]:
            j += 1
        out.append((i, min(j + 2, m), bool(mask[i])))
        i = j + 1
    return out


def plot_cycle_envelope(branch, var: str | None = None, ax=None, color=None, label: str | None = None,
                        annotate: bool = True):
    """Max / min envelope of ``var`` along a cycle branch.

    Parameters
    ----------
    branch : CycleBranch (kind "cycle")
    var : str, a state name of the branch's model (default
        :func:`analysis.style.default_observable`: the last component of its last sphere)
    ax : matplotlib Axes, optional
    color : colour of both envelopes
    label : legend label (default: the branch's parameter values at its ends)
    annotate : mark and name the special points

    Returns
    -------
    ax
    """
    import matplotlib.pyplot as plt

    from analysis.style import default_observable

    if branch.kind != "cycle":
        raise ValueError(f"expected a cycle branch, got kind {branch.kind!r}")
    names = list(branch.model.state_names)
    var = var or default_observable(branch.model)
    if var not in names:
        raise KeyError(f"unknown state variable {var!r}; expected one of {names}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    x = branch.param_values
    hi = branch.columns[f"max_{var}"]
    lo = branch.columns[f"min_{var}"]
    color = color or f"C{len(ax.get_lines()) % 10}"
    first = True
    for a, b, stable in _runs(np.asarray(branch.stable)):
        ls = "-" if stable else "--"
        for y in (hi, lo):
            ax.plot(x[a:b], y[a:b], ls=ls, color=color, lw=1.5,
                    label=(label if first else None))
            first = False
    if annotate:
        k = names.index(var)
        for p in branch.points:
            orbit = np.asarray(p.data.get("orbit", p.state[None, :]))
            ymax = float(np.max(orbit[:, k]))
            ymin = float(np.min(orbit[:, k]))
            mk = _MARKERS.get(p.kind, "x")
            ax.plot([p.param, p.param], [ymax, ymin], ls="none", marker=mk, color="k", ms=5,
                    mfc="none" if not p.located else "k")
            ax.annotate(p.kind, (p.param, ymax), textcoords="offset points", xytext=(3, 4), fontsize=8)
    ax.set_xlabel(branch.param)
    ax.set_ylabel(f"max / min {var}")
    return ax


def plot_cycles_plane(branch, indices=None, x: str | None = None, y: str | None = None, ax=None, n_points: int = 400,
                      cmap: str | None = None, n_cycles: int = 8):
    """Cycles of a branch in the (x, y) plane, coloured by the continuation parameter.

    Parameters
    ----------
    branch : CycleBranch
    indices : rows to draw (default: ``n_cycles`` rows evenly spread along the branch)
    x, y : state names (default :func:`analysis.style.default_plane`: X_B and Y_B for the LMG
        dimer, the insets of Fig. 2 of the paper)
    cmap : colour map of the parameter (default ``analysis.style.CMAPS["parameter"]``)
    ax : matplotlib Axes, optional
    n_points : samples per cycle

    Returns
    -------
    ax
    """
    import matplotlib.pyplot as plt
    from matplotlib import colors, cm

    from analysis.style import CMAPS, default_plane

    dx, dy = default_plane(branch.model)
    x, y = x or dx, y or dy
    cmap = cmap or CMAPS["parameter"]
    names = list(branch.model.state_names)
    for v in (x, y):
        if v not in names:
            raise KeyError(f"unknown state variable {v!r}; expected one of {names}")
    if len(branch) == 0:
        raise ValueError("expected a non-empty cycle branch")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
    if indices is None:
        indices = np.unique(np.linspace(0, len(branch) - 1, min(n_cycles, len(branch))).astype(int))
    ix, iy = names.index(x), names.index(y)
    pv = branch.param_values
    norm = colors.Normalize(vmin=float(np.min(pv[indices])), vmax=float(np.max(pv[indices])) + 1e-300)
    cmap_ = plt.get_cmap(cmap)
    for i in indices:
        _, yy = branch.orbit(int(i), n_points)
        ls = "-" if branch.stable[i] else "--"
        ax.plot(yy[:, ix], yy[:, iy], ls=ls, color=cmap_(norm(pv[i])), lw=1.2)
    sm = cm.ScalarMappable(norm=norm, cmap=cmap_)
    ax.figure.colorbar(sm, ax=ax, label=branch.param)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_aspect("equal", adjustable="box")
    return ax
