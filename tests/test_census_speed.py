"""The fast census path keeps the census's answers.

* grouping: ``group_by_touch`` on cell indices is the relation 'cells of j lie in the dilation of i'
  (the 3^n neighbourhood), on random occupations;
"""
from __future__ import annotations

import numpy as np

from analysis.attractors.grouping import components, dilate, group_by_touch, occupied_cells


def _touch_by_dilation(cells, grid):
    m = len(cells)
    dil = [dilate(c, grid) for c in cells]
    adj = np.zeros((m, m), dtype=bool)
    for i in range(m):
        for j in range(i + 1, m):
            if cells[j][0].size and np.isin(cells[j][0], dil[i], assume_unique=True).any():
                adj[i, j] = adj[j, i] = True
    return components(adj)


def test_group_by_touch_is_the_dilation_relation():
    rng = np.random.default_rng(3)
    for trial in range(30):
        n = int(rng.integers(1, 7))
        m = int(rng.integers(2, 9))
        # small clouds at random centres: some touch, some do not
        samples = [rng.normal(rng.uniform(-1, 1, n), rng.uniform(0.005, 0.2), size=(int(rng.integers(1, 60)), n))
                   for _ in range(m)]
        if trial % 5 == 0:
            samples[0] = samples[0][:0]   # an empty occupation touches nothing
        cells, grid = occupied_cells(samples, float(rng.choice([0.08, 0.2, 0.5])))
        np.testing.assert_array_equal(group_by_touch(cells, grid), _touch_by_dilation(cells, grid))
    # neighbours touch, cells two apart do not (a closed form on a 1-D grid of 10 cells)
    cells, grid = occupied_cells([np.array([[0.05]]), np.array([[0.15]]), np.array([[0.35]]), np.array([[0.95]])],
                                 0.1, lo=np.array([0.0]), hi=np.array([1.0]))
    np.testing.assert_array_equal(group_by_touch(cells, grid), [0, 0, 1, 2])


# ------------------------------------------------------------------------------------------------
# shared measurements keep the census's answers
# ------------------------------------------------------------------------------------------------
import pytest  # noqa: E402

from analysis.attractors import census_points  # noqa: E402
from analysis.attractors.options import CensusOptions  # noqa: E402


def _inherited_agree(old, new) -> list:
    """Initial conditions whose inherited label differs from the label their own run reached."""
    a, b = old.trajectories, new.trajectories
    bad = []
    for j in range(len(a)):
        if b.at[j, "decision"] == "inherited" and a.at[j, "decision"] in ("decided", "settled"):
            if (a.at[j, "kind"], a.at[j, "flavour"]) != (b.at[j, "kind"], b.at[j, "flavour"]):
                bad.append((j, a.at[j, "kind"], b.at[j, "kind"]))
    return bad


def test_shared_measurements_keep_the_answers_small(lmg_dimer):
    # a chaotic point (sharing saves runs), a torus beside a chaotic attractor of overlapping coarse
    # support (2QP+2CH: the spectrum check must keep the tori apart) and a fixed-point point
    from studies.benchmarks.fig2_compare import compare_points

    pts = [{"J": 1.1, "lam": 0.757}, {"J": 1.48, "lam": 0.548}, {"J": 0.5, "lam": 0.383}]
    rng = np.random.default_rng(5)
    Y0 = np.stack([lmg_dimer.random_states(16, rng) for _ in pts])
    old = census_points(lmg_dimer, pts, Y0, options=CensusOptions(share_attractors=False))
    new = census_points(lmg_dimer, pts, Y0, options=CensusOptions())
    tab = compare_points(old, new)
    assert tab.same_phase.all(), tab[["J", "lam", "phase_old", "phase_new"]]
    assert tab.same_n_att.all() and tab.basin_ok.all() and tab.exp_ok.all(), tab
    for a, b in zip(old, new):
        assert not _inherited_agree(a, b)
        assert "inherited" not in set(a.trajectories["decision"])
        inh = b.trajectories[b.trajectories["decision"] == "inherited"]
        assert inh["reason"].str.contains("initial condition").all()
        # an inherited run's partial exponents stay out of the tables (NaN), its support stays in
        assert inh["lyap_0"].isna().all()
    # the chaotic point: most trajectories inherit, the variational work drops
    assert tab.n_inherited.iloc[0] >= 4
    assert tab.t_measured_new.iloc[0] < 0.9 * tab.t_measured_old.iloc[0]


def test_share_options_are_validated():
    with pytest.raises(ValueError, match="share_overlap"):
        CensusOptions(share_overlap=0.0)
    with pytest.raises(ValueError, match="share_overlap"):
        CensusOptions(share_overlap=1.5)
    with pytest.raises(TypeError, match="share_attractors"):
        CensusOptions(share_attractors="yes")


@pytest.mark.slow
def test_shared_measurements_keep_the_answers_on_fig2_sample():
    # 60 points of Fig. 2's 201 x 201 grid (fixed seed), 16 initial conditions each, both ways
    from studies.benchmarks.fig2_compare import fig2_sample, run_both, compare_points

    pts, Y0 = fig2_sample(60, 11)
    old, new, _, _ = run_both(pts, Y0)
    tab = compare_points(old, new)
    assert tab.basin_ok.all() and tab.exp_ok.all(), tab[~(tab.basin_ok & tab.exp_ok)]
    # the phase may differ only where the old labels themselves split one object into kinds
    # (LC family vs QP on a second exponent inside the zero band): at most 1 in 30 points
    assert tab.same_phase.mean() >= 29 / 30, tab[~tab.same_phase]
    assert tab.t_measured_new.sum() < 0.85 * tab.t_measured_old.sum()
    bad = [(i, _inherited_agree(a, b)) for i, (a, b) in enumerate(zip(old, new)) if _inherited_agree(a, b)]
    assert len(bad) <= 2, bad


def test_group_by_touch_many_orbits_and_timing():
    # more orbits than bits in a mask (the pairwise fallback), and chaotic-size occupations
    rng = np.random.default_rng(4)
    samples = [rng.uniform(-1, 1, size=(3, 2)) * 0.05 + rng.uniform(-1, 1, 2) for _ in range(70)]
    cells, grid = occupied_cells(samples, 0.05)
    np.testing.assert_array_equal(group_by_touch(cells, grid), _touch_by_dilation(cells, grid))
    samples = [rng.normal(rng.uniform(-1, 1, 6) * 0.3, 0.3, size=(800, 6)) for _ in range(16)]
    cells, grid = occupied_cells(samples, 0.2)
    np.testing.assert_array_equal(group_by_touch(cells, grid), _touch_by_dilation(cells, grid))


def test_group_by_touch_beyond_one_mask_word():
    # 200 orbits (four 64-bit words; links within and across words), a few with no cells, on a dense and
    # on a sparse grid: the relation is the dilation relation
    rng = np.random.default_rng(11)
    for n, frac, spread in ((2, 0.05, 0.02), (6, 0.05, 0.03)):
        centres = rng.uniform(-1, 1, size=(25, n)) * 0.8
        samples = [rng.normal(centres[rng.integers(25)], spread, size=(int(rng.integers(1, 30)), n))
                   for _ in range(200)]
        for k in (3, 64, 130):
            samples[k] = samples[k][:0]
        cells, grid = occupied_cells(samples, frac)
        labels = group_by_touch(cells, grid)
        np.testing.assert_array_equal(labels, _touch_by_dilation(cells, grid))
        assert 3 <= len(np.unique(labels)) < 200   # some groups, not all one, not all apart


def test_lyapunov_extend_active_samples_are_the_same_numbers(lmg_dimer):
    # the compact extension (kernel on the continued rows only) gives the same exponents, states and
    # samples as the full one; samples come for the continued rows only, named by sample_rows
    import pandas as pd

    from bifurcate.lyapunov import LyapunovOptions, lyapunov_extend, lyapunov_spectra

    rng = np.random.default_rng(2)
    Y = lmg_dimer.random_states(5, rng)
    tab = pd.DataFrame([{"J": 1.5, "lam": 1.0}])
    opts = LyapunovOptions(t_transient=20.0, t_align=5.0, t_total=20.0, n_blocks=4, sample_dt=0.5)
    ens = lyapunov_spectra(lmg_dimer, tab, Y[None], options=opts)
    act = np.array([1, 3])
    full = lyapunov_extend(lmg_dimer, ens, 10.0, active=act, keep_samples=True)
    comp = lyapunov_extend(lmg_dimer, ens, 10.0, active=act, keep_samples="active")
    np.testing.assert_array_equal(comp.sample_rows, act)
    np.testing.assert_array_equal(comp.samples, full.samples[act])
    np.testing.assert_array_equal(comp.block_exponents, full.block_exponents)
    np.testing.assert_array_equal(comp.y_final, full.y_final)
    np.testing.assert_array_equal(comp.spectrum(3).samples, full.samples[3])
    assert np.isnan(comp.spectrum(0).samples).all()
    with pytest.raises(ValueError, match="keep_samples"):
        lyapunov_extend(lmg_dimer, ens, 10.0, keep_samples="some")


def test_group_by_touch_sparse_grid():
    # a grid too large for the dense path (20^6 cells): the offset search gives the same relation
    rng = np.random.default_rng(8)
    samples = [rng.normal(rng.uniform(-1, 1, 6) * 0.2, 0.05, size=(40, 6)) for _ in range(8)]
    cells, grid = occupied_cells(samples, 0.05)
    assert int(np.prod(grid[2])) > 4_000_000
    np.testing.assert_array_equal(group_by_touch(cells, grid), _touch_by_dilation(cells, grid))
