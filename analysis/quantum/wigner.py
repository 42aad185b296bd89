"""Plots of spin Wigner functions (maps and Bloch spheres) with mean-field overlays.

The Wigner function itself (:func:`spin_wigner`, Tilma et al.) is engine code in
:mod:`bifurcate.quantum.wigner` and re-exported here.
"""
from __future__ import annotations

import numpy as np

from bifurcate.quantum.wigner import SpinWigner, angles_of, parity_kernel, spin_wigner  # noqa: F401 (re-export)

__all__ = ["SpinWigner", "spin_wigner", "parity_kernel", "plot_wigner_map", "plot_wigner_sphere",
           "angles_of"]


def plot_wigner_map(w: SpinWigner, ax=None, *, overlay=None, overlay_kw=None, cmap="RdBu_r", colorbar=True,
                    **kw):
    """Draw ``W`` on the ``(phi, theta)`` plane, optionally with mean-field points on top.

    Parameters
    ----------
    w : SpinWigner
    ax : matplotlib Axes, optional
    overlay : array ``(k, 3)`` of ``(X, Y, Z)`` or list of such arrays, optional
        Mean-field fixed points (markers) or trajectories (lines, when ``k > 20``).
    overlay_kw : dict, optional
        Passed to ``ax.plot``.

    Returns
    -------
    ax
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4))
    vmax = float(np.abs(w.W).max()) or 1.0
    mesh = ax.pcolormesh(w.phi, w.theta, w.W, shading="auto", cmap=cmap, vmin=-vmax, vmax=vmax, **kw)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="W")
    for pts in _overlays(overlay):
        th, ph = angles_of(pts)
        style = {"color": "k", "marker": "o" if len(pts) <= 20 else "", "ls": "" if len(pts) <= 20 else "-",
                 "ms": 6, "lw": 0.8, **(overlay_kw or {})}
        ax.plot(ph, th, **style)
    ax.set_xlabel(r"$\phi$")
    ax.set_ylabel(r"$\theta$")
    ax.set_ylim(np.pi, 0)
    return ax


def plot_wigner_sphere(w: SpinWigner, ax=None, *, overlay=None, overlay_kw=None, cmap="RdBu_r", elev=25, azim=-60):
    """Draw ``W`` on the Bloch sphere (3-D axes), optionally with mean-field points or trajectories.

    Returns
    -------
    ax : a 3-D matplotlib Axes
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib import colors

    if ax is None:
        fig = plt.figure(figsize=(4.5, 4.5))
        ax = fig.add_subplot(projection="3d")
    TH, PH = np.meshgrid(w.theta, w.phi, indexing="ij")
    X, Y, Z = np.sin(TH) * np.cos(PH), np.sin(TH) * np.sin(PH), np.cos(TH)
    vmax = float(np.abs(w.W).max()) or 1.0
    norm = colors.Normalize(-vmax, vmax)
    ax.plot_surface(X, Y, Z, facecolors=matplotlib.colormaps[cmap](norm(w.W)), rstride=1, cstride=1,
                    linewidth=0, antialiased=False, shade=False)
    for pts in _overlays(overlay):
        P = np.atleast_2d(np.asarray(pts, dtype=float))
        P = P / np.linalg.norm(P, axis=1, keepdims=True).clip(1e-300) * 1.02
        style = {"color": "k", "marker": "o" if len(P) <= 20 else "", "ls": "" if len(P) <= 20 else "-",
                 "ms": 5, "lw": 0.8, **(overlay_kw or {})}
        ax.plot(P[:, 0], P[:, 1], P[:, 2], **style)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    ax.set_xlabel("X")
    ax.set_ylabel("Y")
    ax.set_zlabel("Z")
    return ax


def _overlays(overlay):
    if overlay is None:
        return []
    if isinstance(overlay, (list, tuple)) and len(overlay) and np.ndim(overlay[0]) == 2:
        return [np.asarray(o, dtype=float) for o in overlay]
    return [np.atleast_2d(np.asarray(overlay, dtype=float))]
