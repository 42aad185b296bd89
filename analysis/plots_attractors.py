"""Plots of the attractor census. Every function takes ``ax=None`` and returns the axes.

* :func:`plot_trajectories` — sampled orbits in a plane (default X_B-Y_B, the insets of the
  paper's Fig. 2), coloured by attractor.
* :func:`plot_lyapunov_convergence` — running exponent estimates against time.
* :func:`plot_basin_fractions` — basin fractions with their binomial error bars.
"""
from __future__ import annotations

import numpy as np

__all__ = ["plot_trajectories", "plot_lyapunov_convergence", "plot_basin_fractions", "attractor_name"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(layout="constrained")
    return ax


def attractor_name(a) -> str:
    """Short legend text, e.g. ``"CH (dissipative) 0.84"``."""
    fl = f" ({a.flavour})" if a.flavour and a.kind == "CH" else ""
    return f"{a.kind}{fl} {a.basin_fraction:.2f}"


def plot_trajectories(result, *, x: str | None = None, y: str | None = None, ax=None, n_per_attractor: int = 3,
                      max_points: int = 4000, lw: float = 0.6):
    """Orbits of a :class:`analysis.attractor_census.CensusResult` in the (x, y) plane.

    Each attractor is drawn in the colour of its kind (:data:`analysis.style.KIND_COLORS`, the
    same in every figure); attractors of the same kind differ by line style. Fixed points are
    drawn as markers. ``x``, ``y`` default to :func:`analysis.style.default_plane` (X_B, Y_B for
    the LMG dimer). References: Kothe & Kirton, Fig. 2 insets (X_B-Y_B plane).
    """
    from analysis.style import default_plane, kind_color

    ax = _axes(ax)
    dx, dy = default_plane(result.model)
    x, y = x or dx, y or dy
    names = list(result.model.state_names)
    for nm in (x, y):
        if nm not in names:
            raise KeyError(f"unknown state name {nm!r}; expected one of {names}")
    ix, iy = names.index(x), names.index(y)
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "D", "^", "v", "P"]
    n_seen: dict[str, int] = {}
    for a in result.attractors:
        c = kind_color(a.kind)
        j = n_seen.get(a.kind, 0)
        n_seen[a.kind] = j + 1
        orbits = result.samples.get(a.label)
        if a.kind == "FP" or orbits is None:
            ax.plot(a.state[ix], a.state[iy], markers[j % len(markers)], color=c, mec="k", ms=7,
                    label=attractor_name(a))
            continue
        for k, Y in enumerate(orbits[:n_per_attractor]):
            stride = max(1, Y.shape[0] // max_points)
            ax.plot(Y[::stride, ix], Y[::stride, iy], color=c, ls=styles[j % len(styles)], lw=lw, alpha=0.8,
                    label=attractor_name(a) if k == 0 else None)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if result.model.geometry.n_spheres:
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal", adjustable="box")
    ax.set_title(", ".join(f"{k}={v:g}" for k, v in result.params.items() if k in result.model.free_params))
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_lyapunov_convergence(spectrum, *, ax=None, indices=None):
    """Running estimates of a :class:`bifurcate.lyapunov.LyapunovSpectrum` against time, with the
    final values and their standard errors as bands."""
    ax = _axes(ax)
    d = spectrum.exponents.size
    idx = range(d) if indices is None else indices
    for k in idx:
        line, = ax.plot(spectrum.running_t, spectrum.running[:, k], label=f"$\\lambda_{k + 1}$")
        e, s = spectrum.exponents[k], spectrum.stderr[k]
        if np.isfinite(s):
            ax.axhspan(e - s, e + s, color=line.get_color(), alpha=0.15)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("t (after transient)")
    ax.set_ylabel("running exponent estimate")
    ax.legend(fontsize="small")
    return ax


def plot_basin_fractions(result, *, ax=None):
    """Bar chart of the basin fractions (+- binomial standard error, clipped to [0, 1]) of a census,
    each bar in the colour of its kind."""
    from analysis.style import clip_errorbars, kind_color

    ax = _axes(ax)
    atts = result.attractors
    xs = np.arange(len(atts))
    fr = [a.basin_fraction for a in atts]
    ax.bar(xs, fr, yerr=clip_errorbars(fr, [a.basin_fraction_err for a in atts], 0.0, 1.0) if atts else None,
           color=[kind_color(a.kind) for a in atts], edgecolor="0.3", lw=0.5, capsize=3)
    ax.set_xticks(xs, [f"{a.label}: {a.kind}" + (f"\n{a.flavour}" if a.flavour else "") for a in atts],
                  fontsize="small" if len(atts) <= 4 else "x-small", rotation=0 if len(atts) <= 4 else 35,
                  ha="center" if len(atts) <= 4 else "right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("basin fraction")
    if result.fraction_diverged:
        ax.set_title(f"diverged: {result.fraction_diverged:.2f}")
    return ax
