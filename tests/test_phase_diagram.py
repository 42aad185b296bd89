"""Phase diagrams: the grid against the paper's exact boundary, determinism, pivot, refinement, plots."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.phase_diagrams import SWEEP_CENSUS, PhaseDiagramOptions, phase_diagram, point_seeds
from analysis.plots_phase import eq12_Jc, eq13_lamc

# cheap per-point work: the equilibria decide n_stable_fp; trajectories settled on a stable
# equilibrium are assigned to it; no census (the others are left unclassified)
FAST = dict(t_end=100.0, census=False, progress=False)
# a short census for the points that do not settle (LC / QP / CH / NEUTRAL)
CENSUS = dict(t_end=60.0, progress=False,
              census_options=dict(SWEEP_CENSUS, t_align=2.0, t_total=20.0, dt=0.05, n_blocks=5))


@pytest.fixture(scope="module")
def coarse(lmg_dimer):
    J = np.linspace(-1.5, 1.5, 16)
    lam = np.linspace(0.0, 0.4, 5)
    return phase_diagram(lmg_dimer, {"J": J, "lam": lam}, n_initial=2, seed=7, **FAST)


def test_n_stable_fp_agrees_with_eq12_away_from_boundary(coarse):
    # Kothe & Kirton Eq. (12): the normal state loses stability at |J| = J_c(lam) (a pitchfork,
    # claimed exact); below the Hopf line of Eq. (13) (lam < 0.5 here) the normal phase has one
    # stable fixed point and the two LMG phases two. Cells within one grid step of the curve
    # are not judged.
    df = coarse.to_frame()
    dJ = np.diff(coarse.grid["J"]).max()
    Jc = eq12_Jc(df["lam"].to_numpy(), g=1.0, gamma=0.5)
    dist = np.abs(df["J"].abs().to_numpy() - Jc)
    far = dist > dJ
    assert far.sum() > 0.7 * len(df)
    want = np.where(df["J"].abs().to_numpy() < Jc, 1, 2)
    got = df["n_stable_fp"].to_numpy()
    bad = far & (got != want)
    assert not bad.any(), df.loc[bad, ["J", "lam", "n_stable_fp"]]
    assert (df["status"] == 0).all()


def test_pivot_orientation_and_columns(coarse):
    pv = coarse.pivot("n_stable_fp")
    assert pv.values.shape == (5, 16) and pv.x_name == "J" and pv.y_name == "lam"
    df = coarse.to_frame()
    r = df.iloc[37]
    assert pv.values[int(r["i_lam"]), int(r["i_J"])] == r["n_stable_fp"]
    assert pv.x[int(r["i_J"])] == r["J"] and pv.y[int(r["i_lam"])] == r["lam"]
    for c in ["J", "lam", "g", "gamma", "n_stable_fp", "phase", "kinds", "basin_fractions", "ZA", "ZB", "lyap_max",
              "status", "message", "frac_FP"]:
        assert c in df
    assert not any(c.startswith("time_") for c in df)
    assert all(c in coarse.to_frame(timings=True) for c in ["time_equilibria", "time_integrate"])
    # basin fractions of a point add up to one
    fr = df["basin_fractions"].map(lambda s: sum(float(v) for v in s.split(",")))
    np.testing.assert_allclose(fr, 1.0, atol=1e-5)
    with pytest.raises(KeyError, match="unknown column"):
        coarse.pivot("nope")


def test_rows_do_not_depend_on_chunking_or_grid_extent(lmg_dimer):
    J = np.linspace(-1.0, 1.0, 5)
    lam = np.array([0.1, 0.7])
    a = phase_diagram(lmg_dimer, {"J": J, "lam": lam}, n_initial=3, seed=11, chunk_size=1, **CENSUS).to_frame()
    b = phase_diagram(lmg_dimer, {"J": J, "lam": lam}, n_initial=3, seed=11, chunk_size=100, **CENSUS).to_frame()
    pd.testing.assert_frame_equal(a, b)
    # status 1 is honest bookkeeping (issue 11): with 3 initial conditions a point may miss one of
    # its stable equilibria or leave a trajectory undecided; it must never fail outright
    assert (a["status"] >= 0).all() and a["XB"].notna().all()
    assert a.loc[a["lam"] > 0.6, "kinds"].str.contains("LC|QP|CH|NEUTRAL").any()  # the census ran there
    c = phase_diagram(lmg_dimer, {"J": J, "lam": lam}, n_initial=3, seed=12, chunk_size=100, **CENSUS).to_frame()
    assert not np.allclose(a["XB"], c["XB"])  # the seed matters
    # per-point seeds are SeedSequence(seed).spawn children keyed by the flat grid index
    kids = np.random.SeedSequence(11).spawn(4)
    assert [s.generate_state(2).tolist() for s in point_seeds(11, range(4))] == \
        [s.generate_state(2).tolist() for s in kids]


def test_refinement_computes_fewer_points_and_the_same_rows(lmg_dimer):
    grid = {"J": np.linspace(-1.6, 1.6, 17), "lam": np.linspace(0.0, 0.4, 5)}
    opts = dict(n_initial=2, seed=3, **FAST)
    full = phase_diagram(lmg_dimer, grid, **opts).to_frame()
    ref = phase_diagram(lmg_dimer, grid, refine=2, refine_on=("n_stable_fp",), **opts)
    r = ref.to_frame()
    assert ref.n_computed < len(full)
    comp = r["computed"].to_numpy()
    # ``level`` is the refinement bookkeeping (the full sweep is all level 0); every result is the same
    pd.testing.assert_frame_equal(r[comp].drop(columns="level").reset_index(drop=True),
                                  full[comp].drop(columns="level").reset_index(drop=True))
    assert (full["level"] == 0).all() and set(r["level"]) == {0, 1, 2}
    # the boundary is a vertical line here: refinement finds every cell of the full grid
    np.testing.assert_array_equal(r["n_stable_fp"], full["n_stable_fp"])
    np.testing.assert_array_equal(r[["J", "lam"]], full[["J", "lam"]])


def test_bad_input_raises(lmg_dimer):
    from bifurcate.models import PT_DIMER

    with pytest.raises(KeyError, match="unknown parameter"):
        phase_diagram(lmg_dimer, {"K": [0.0, 1.0]}, progress=False)
    with pytest.raises(ValueError, match="strictly increasing"):
        phase_diagram(lmg_dimer, {"J": [1.0, 0.0]}, progress=False)
    with pytest.raises(ValueError, match="fixed"):
        phase_diagram(PT_DIMER, {"J": [0.0, 1.0]}, progress=False)
    with pytest.raises(TypeError, match="unknown option"):
        phase_diagram(lmg_dimer, {"J": [0.0]}, t_edn=3.0, progress=False)
    with pytest.raises(ValueError, match="n_initial"):
        PhaseDiagramOptions(n_initial=0)
    with pytest.raises(TypeError, match="seed"):
        phase_diagram(lmg_dimer, {"J": [0.0]}, seed=-1, progress=False)


def test_plots_return_axes(coarse, lmg_dimer):
    import matplotlib.pyplot as plt

    from analysis import plots_phase as pp

    fig, axs = plt.subplots(2, 2)
    try:
        assert pp.plot_fig2(coarse, axs[0, 0], insets=[{"J": 0.0, "lam": 0.2}], t_end=5.0) is axs[0, 0]
        assert pp.plot_kinds(coarse, axs[0, 1]) is axs[0, 1]
        assert pp.plot_observable(coarse, "ZB", axs[1, 0]) is axs[1, 0]
        assert pp.plot_lyapunov(coarse, axs[1, 1]) is axs[1, 1]
        # the dashed Eq. (12) line passes through J_c(0) = (gamma^2 + g^2) / (2 g) = 0.625 at lam = 0
        xs = [ln.get_xdata() for ln in axs[0, 0].get_lines() if ln.get_label() == "Eq. (12)"][0]
        assert np.isclose(xs[0], 0.625)
        ax = pp.plot_n_stable(coarse)
        assert ax is not None
    finally:
        plt.close("all")


def test_closed_forms():
    # Eq. (12) at lam = 0 is the LMG critical point (g^2 + gamma^2) / (2 g); Eq. (13) at J = 0 is g / 2
    assert np.isclose(eq12_Jc(0.0, g=1.0, gamma=0.5), 0.625)
    assert np.isclose(eq13_lamc(0.0, g=2.0), 1.0)
    # Eq. (12) against the normal state's tangent spectrum: one eigenvalue crosses zero at J_c
    from bifurcate.models import LMG_DIMER, NORMAL_STATE

    for lam in (0.0, 0.2, 0.35):
        Jc = float(eq12_Jc(lam))
        ev = [LMG_DIMER.tangent_eigenvalues(NORMAL_STATE, {"J": Jc * s, "lam": lam}) for s in (0.99, 1.01)]
        assert ev[0].real.max() < 0 < ev[1].real.max()


def test_n_stable_fp_agrees_with_the_exact_hopf_curve(lmg_dimer):
    # the normal state's Hopf curve, exact: J^2 (lam^2 + g^2) = (g^2 + gamma^2)(lam^2 - gamma^2)
    # (bifurcate.continuation.reference; lowest order in J it is the paper's Eq. (13)). Inside
    # |J| < J_c of Eq. (12): one stable fixed point below it, none above.
    from bifurcate.continuation.reference import hopf_lam_exact

    res = phase_diagram(lmg_dimer, {"J": np.linspace(-0.5, 0.5, 9), "lam": np.linspace(0.3, 1.0, 8)}, n_initial=1,
                        seed=2, **FAST)
    df = res.to_frame()
    dlam = np.diff(res.grid["lam"]).max()
    lam_h = hopf_lam_exact(df["J"].to_numpy())
    far = np.abs(df["lam"].to_numpy() - lam_h) > dlam
    assert far.sum() > 0.6 * len(df)
    want = np.where(df["lam"].to_numpy() < lam_h, 1, 0)
    bad = far & (df["n_stable_fp"].to_numpy() != want)
    assert not bad.any(), df.loc[bad, ["J", "lam", "n_stable_fp"]]
