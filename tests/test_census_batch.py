"""The batched census of phase-diagram sweeps against the per-point census it replaces."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN

from analysis.attractor_census import census_batch
from analysis.classify import eps_components
from analysis.phase_diagrams import SWEEP_CENSUS, phase_diagram
from bifurcate.lyapunov import LyapunovOptions

SHORT = dict(SWEEP_CENSUS, t_align=2.0, t_total=20.0, dt=0.05, n_blocks=5)
LYAP = {k: v for k, v in SHORT.items() if k in LyapunovOptions.__dataclass_fields__}


def _same_partition(a, b):
    # equal as partitions: the map label -> label is a bijection
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eps_components_is_the_dbscan_partition(seed):
    rng = np.random.default_rng(seed)
    # clusters of various sizes plus chains (single linkage must join them)
    Z = np.concatenate([rng.normal(c, 0.3, size=(rng.integers(1, 8), 3)) for c in rng.uniform(-6, 6, size=(6, 3))])
    Z = np.concatenate([Z, np.linspace(0, 5, 11)[:, None] * np.ones(3)])
    for eps in (0.2, 0.9, 1.5):
        ours = eps_components(Z, eps)
        ref = DBSCAN(eps=eps, min_samples=1).fit(Z).labels_
        assert _same_partition(ours, ref)


def test_census_batch_matches_the_pre_grouping_and_symmetry_images(lmg_dimer):
    # (J, lam) = (1.5, 0): two Z2-mirror fixed points; the second is an image, never integrated
    pts = pd.DataFrame([lmg_dimer.params({"J": 1.5, "lam": 0.0})])[list(lmg_dimer.param_names)]
    fp = np.array([0.6, 0.0, -0.8, 0.6, 0.0, 0.8])  # stand-in state; only the statistics matter here
    Y = np.stack([fp, lmg_dimer.symmetries[0](fp), fp, fp])[None]
    mean = Y.copy()
    std = np.zeros_like(Y)
    res = census_batch(lmg_dimer, pts, Y, mean, std, np.ones((1, 4), bool), **LYAP)
    assert res["n_integrated"] == 1 and res["n_selected"] == 4
    # the two images are separate groups with the same kind and exponents
    atts = res["attractors"][0]
    assert sum(a["n_members"] for a in atts) == 4
    assert len({a["kind"] for a in atts}) == 1
    assert len(atts) == 2 and sorted(a["n_members"] for a in atts) == [1, 3]
    np.testing.assert_allclose(atts[0]["exponents"], atts[1]["exponents"])


def test_batch_and_point_census_give_the_same_phase_diagram(lmg_dimer):
    grid = {"J": np.linspace(-1.2, 1.2, 4), "lam": np.array([0.0, 0.45, 0.9])}
    kw = dict(n_initial=6, seed=3, t_end=60.0, progress=False, census_options=SHORT)
    a = phase_diagram(lmg_dimer, grid, census_method="batch", **kw).to_frame()
    b = phase_diagram(lmg_dimer, grid, census_method="point", **kw).to_frame()
    assert (a["status"] == 0).all() and (b["status"] == 0).all()
    assert (a["phase"] == b["phase"]).mean() >= 0.9
    assert (a["n_attractors"] == b["n_attractors"]).mean() >= 0.9
    # observables: the batch path averages each member over the transient window (30 g^-1 here),
    # the per-point census over its own Lyapunov run (20 g^-1); on regular attractors both are
    # the attractor average, on chaotic seas and neutral families they differ by sampling noise
    regular = ~a["phase"].str.contains("CH|NEUTRAL")
    assert regular.sum() >= 6
    np.testing.assert_allclose(a.loc[regular, "ZB"], b.loc[regular, "ZB"], atol=0.01)
    np.testing.assert_allclose(a["ZB"], b["ZB"], atol=0.3)


def test_census_batch_chained_closeness_loses_no_trajectory(lmg_dimer):
    # window statistics 0, 1.5e-3, 3e-3 apart at pre_tol 2e-3: 0~1 and 1~2 but not 0~2
    pts = pd.DataFrame([lmg_dimer.params({"J": 0.4, "lam": 0.9})])[list(lmg_dimer.param_names)]
    rng = np.random.default_rng(5)
    Y = lmg_dimer.random_states(3, rng)[None]
    mean = np.zeros((1, 3, 6)) + np.array([0.0, 1.5e-3, 3e-3])[None, :, None]
    std = np.full((1, 3, 6), 0.1)
    res = census_batch(lmg_dimer, pts, Y, mean, std, np.ones((1, 3), bool), pre_tol=2e-3, **LYAP)
    assert res["n_integrated"] == 1
    assert sum(a["n_members"] for a in res["attractors"][0]) == 3
    assert np.isclose(sum(a["fraction"] for a in res["attractors"][0]), 1.0)
