"""Fig. 4: spin B's Wigner function at S = 3 in the normal, LMG and PT phases.

The exact steady state of Eq. (5) at S = 3 is reduced to spin B (rho_B = Tr_A rho) and its spin
Wigner function W(theta, phi) (Tilma et al., the paper's ref. [37], via
:func:`analysis.quantum.spin_wigner`: (2S + 1) / (4 pi) * integral W dOmega = 1; QuTiP's
``spin_wigner`` differs by the factor sqrt(4 pi / (2S + 1))) is evaluated on a grid of the sphere:

(a) normal phase, J = lam = 0: a single peak at the north pole (spin B points up);
(b) LMG phase, J = 1.5 g, lam = 0: two lobes where mean field puts its two stable fixed points;
(c) J = 1.5 g, lam = 0.5 g, which the paper calls the PT phase: a more diffuse distribution over
    the region the mean-field oscillations visit. The suite's own analysis differs from that
    label: at this point the two Z2-broken fixed points are still stable (their subcritical Hopf
    point is at lam ~ 0.51 g on this cut, see the bifurcation diagrams) and the attractor census
    finds, besides them, a pair of mirror-image limit cycles holding almost the whole basin (the
    fixed points' basins are small). The figure therefore marks the stable fixed points (stars)
    and the census's attractors; its title states what the census found (also in
    ``metadata.json``, ``census``).

Top row: W on the sphere (viewed from above the x axis); bottom row: the same on the (phi, cos theta)
plane with the mean-field attractors of spin B overlaid (stable fixed points as stars, late
trajectory samples as dots).

Outputs (``<out>/fig4_wigner/``): ``fig4_wigner.png/.pdf``; ``wigner.parquet`` (schema ``wigner``:
``panel``, ``J``, ``lam``, ``S``, ``theta``, ``phi``, ``W``), ``mean_field.parquet``
(``trajectory_samples`` of spin B), ``metadata.json``.

Run: ``python -m studies.fig4_wigner --out results [--quick]``.

References
----------
Kothe & Kirton, Fig. 4; Tilma et al., PRL 117, 180401 (2016); Agarwal, PRA 24, 2889 (1981).
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from studies.common import exact_steady_state, finish, run_cli, save_figure, save_table, study_dir

NAME = "fig4_wigner"
S_SPIN = 3
#: the paper's panels: (name the paper gives the phase, point)
PANELS = {
    "a": ("normal", {"J": 0.0, "lam": 0.0}),
    "b": ("LMG", {"J": 1.5, "lam": 0.0}),
    "c": ("PT", {"J": 1.5, "lam": 0.5}),
}


def census_summary(params, *, n_initial: int, seed: int) -> dict:
    """What the suite's attractor census finds at a point: kinds with basin fractions, e.g.
    ``{"kinds": "2 LC", "fractions": {...}, "text": "2 LC (0.97)"}``, plus the stable equilibria."""
    from analysis.attractor_census import census
    from bifurcate.equilibria import find_equilibria
    from bifurcate.models import LMG_DIMER

    res = census(LMG_DIMER, params, n_initial=n_initial, seed=seed, t_transient=300.0, t_total=400.0,
                 nolds_check=False, n_keep=0)
    frac: dict[str, float] = {}
    count: dict[str, int] = {}
    for a in res.attractors:
        frac[a.kind] = frac.get(a.kind, 0.0) + float(a.basin_fraction)
        count[a.kind] = count.get(a.kind, 0) + 1
    n_fp = int(find_equilibria(LMG_DIMER, params).n_stable)
    parts = [f"{count[k]} {k} ({frac[k]:.2f})" for k in sorted(frac, key=lambda k: -frac[k])]
    return {"kinds": count, "fractions": frac, "n_stable_fp": n_fp, "status": int(res.status),
            "text": ", ".join(parts) + (f"; {n_fp} stable FP" if n_fp else "")}


def spin_wigner(rho_B: np.ndarray, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """W[i_phi, i_theta] of a single-spin density matrix (basis m = S..-S): the Tilma et al.
    spin Wigner function of :func:`analysis.quantum.spin_wigner` (the paper's ref. [37])."""
    from analysis.quantum import spin_wigner as tilma

    return np.asarray(tilma(rho_B, theta, phi).W, dtype=float).T


def mean_field_spin_B(params, *, n_initial: int, seed: int, t_end: float):
    """Stable equilibria (spin B part) and late trajectory samples of spin B at one point."""
    from bifurcate import integrate_ensemble
    from bifurcate.equilibria import find_equilibria
    from bifurcate.models import LMG_DIMER

    eq = find_equilibria(LMG_DIMER, params)
    fps = eq.stable_states()[:, 3:6] if eq.n_stable else np.zeros((0, 3))
    te = np.linspace(t_end - 100.0, t_end, 1000)
    ens = integrate_ensemble(LMG_DIMER, params, n_initial=n_initial, seed=seed, t_end=t_end, t_eval=te)
    df = ens.sample_frame()[["ic", "t", "XB", "YB", "ZB"]]
    return fps, df


def plot(W_tabs, theta, phi, mf, census=None):
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    from analysis.style import CMAPS

    fig = plt.figure(figsize=(12, 8.4), constrained_layout=True)
    gs = fig.add_gridspec(2, 3, height_ratios=[1.0, 1])
    TH, PH = np.meshgrid(theta, phi)            # W[i_phi, i_theta]
    xs, ys, zs = np.sin(TH) * np.cos(PH), np.sin(TH) * np.sin(PH), np.cos(TH)
    for k, (key, (name, params)) in enumerate(PANELS.items()):
        W = W_tabs[key]
        vmax = float(np.max(np.abs(W)))
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax)
        ax3 = fig.add_subplot(gs[0, k], projection="3d")
        ax3.plot_surface(xs, ys, zs, facecolors=plt.get_cmap(CMAPS["wigner"])(norm(W)), rstride=1, cstride=1,
                         linewidth=0, antialiased=False, shade=False)
        fps, samples = mf[key]
        if len(fps):
            f = fps * 1.02
            ax3.scatter(f[:, 0], f[:, 1], f[:, 2], marker="*", s=80, color="gold", edgecolor="k", depthshade=False)
        # seen from -y, 55 deg above the equator: the two LMG lobes (near +-x) sit left and right
        ax3.view_init(elev=55, azim=-90)
        ax3.set_box_aspect((1, 1, 1), zoom=1.45)
        for lab, pos in (("$+x$", (1.25, 0, 0)), ("$+z$", (0, 0, 1.25))):
            ax3.text(*pos, lab, fontsize="small", ha="center")
        ax3.set_axis_off()
        title = f"({key}) paper: {name}; $J={params['J']:g}g$, $\\lambda={params['lam']:g}g$, $S={S_SPIN}$"
        if census and key in census:
            title += f"\nmean-field census: {census[key]['text']}"
        ax3.set_title(title, fontsize="medium")
        ax2 = fig.add_subplot(gs[1, k])
        m = ax2.pcolormesh(np.degrees(phi), np.cos(theta), W.T, cmap=CMAPS["wigner"], norm=norm, shading="nearest")
        if len(samples):
            ph = np.degrees(np.mod(np.arctan2(samples["YB"], samples["XB"]), 2 * np.pi))
            ax2.plot(ph, samples["ZB"], ".", ms=0.8, color="k", alpha=0.25)
            ax2.plot([], [], ".", color="k", label="mean-field trajectories (late)")
        if len(fps):
            ax2.plot(np.degrees(np.mod(np.arctan2(fps[:, 1], fps[:, 0]), 2 * np.pi)), fps[:, 2], "*", ms=11,
                     color="gold", mec="k", label="mean-field stable FP")
            ax2.legend(fontsize="x-small", loc="lower right")
        ax2.set(xlabel=r"$\phi$ (deg)", xlim=(0, 360), ylim=(-1, 1), xticks=[0, 90, 180, 270, 360])
        if k == 0:      # one y label for the row: it would collide with the colour-bar label on its left
            ax2.set_ylabel(r"$\cos\theta = Z_B$")
        else:
            ax2.set_yticklabels([])
        cb = fig.colorbar(m, ax=ax2, shrink=0.85)
        if k == len(PANELS) - 1:
            cb.set_label(r"$W_B(\theta,\phi)$")
    fig.suptitle("Fig. 4: spin-B Wigner function of the exact steady state (dots: mean-field trajectories of spin B)",
                 fontsize="medium")
    return fig


def main(out_dir="results", *, quick: bool = False, seed: int = 4) -> dict:
    t0 = time.perf_counter()
    out = study_dir(out_dir, NAME)
    n_th, n_ph = (61, 121) if quick else (181, 361)
    theta = np.linspace(0.0, np.pi, n_th)
    phi = np.linspace(0.0, 2 * np.pi, n_ph)
    W_tabs, mf, rows, mf_rows, info = {}, {}, [], [], {}
    for key, (name, params) in PANELS.items():
        st = exact_steady_state(S_SPIN, params)
        W = spin_wigner(st.rho_B, theta, phi)
        W_tabs[key] = W
        TH, PH = np.meshgrid(theta, phi)
        rows.append(pd.DataFrame({"panel": key, "phase": name, "S": float(S_SPIN), "J": params["J"],
                                  "lam": params["lam"], "theta": TH.ravel(), "phi": PH.ravel(), "W": W.ravel()}))
        fps, samples = mean_field_spin_B(params, n_initial=4 if quick else 8, seed=seed,
                                         t_end=300.0 if quick else 1000.0)
        mf[key] = (fps, samples)
        samples = samples.assign(panel=key, J=params["J"], lam=params["lam"])
        mf_rows.append(samples)
        # normalisation check (Tilma et al.): (2S+1) / (4 pi) * integral W dOmega = 1
        dth, dph = theta[1] - theta[0], phi[1] - phi[0]
        integ = float(np.sum(W[:-1, :] * np.sin(theta)[None, :]) * dth * dph)
        info[key] = {"ZA": st.ZA, "ZB": st.ZB, "purity": st.purity, "residual": st.residual, "method": st.method,
                     "wigner_norm": integ * (2 * S_SPIN + 1) / (4 * np.pi),
                     "W_min": float(W.min()), "W_max": float(W.max()),
                     "mean_field_stable_fp_B": fps.tolist()}
    census = {key: census_summary(params, n_initial=16 if quick else 64, seed=seed)
              for key, (_, params) in PANELS.items()}
    fig = plot(W_tabs, theta, phi, mf, census)
    paths = save_figure(fig, out, NAME)
    paths["table"] = save_table(pd.concat(rows, ignore_index=True), out, "wigner")
    paths["mean_field"] = save_table(pd.concat(mf_rows, ignore_index=True), out, "mean_field")
    return finish(out, NAME, quick=quick, t_start=t0, paths=paths,
                  tables={"wigner.parquet": "wigner", "mean_field.parquet": "trajectory_samples"}, seed=seed,
                  S=S_SPIN, panels={k: {"phase": v[0], **v[1]} for k, v in PANELS.items()}, grid=[n_th, n_ph],
                  exact=info, census=census)


if __name__ == "__main__":
    run_cli(main, __doc__)
