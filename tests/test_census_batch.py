"""One census for every caller: the batched census and the sweep against the point census.

(Issue 11 replaced the sweep's own batched census, with its window-statistics pre-grouping, by the
point census run over a chunk; the tests of that pre-grouping went with it. What stays is the
contract: a sweep row is the census of that point with the sweep's initial conditions.)
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN

from analysis.attractor_census import census, census_batch
from analysis.classify import eps_components
from analysis.phase_diagrams import _draw_y0, phase_diagram

# short but converging settings (the census's own rules, a lower cap and shorter windows)
QUICK = dict(t_transient=100.0, t_min=60.0, t_cap=480.0, t_zero_min=240.0, block_time=6.0)


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


def _rows_equal(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], float):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=0, equal_nan=True, err_msg=k)
        else:
            assert a[k] == b[k], k


def test_batched_census_equals_the_point_census(lmg_dimer):
    pts = [{"J": 1.5, "lam": 0.0}, {"J": 1.5, "lam": 0.49}, {"J": 0.0, "lam": 0.3}]
    y0 = np.stack([lmg_dimer.random_states(6, np.random.default_rng(k)) for k in range(3)])
    batch = census_batch(lmg_dimer, pts, y0, **QUICK)
    for p, Y, rb in zip(pts, y0, batch):
        rp = census(lmg_dimer, p, y0=Y, **QUICK)
        _rows_equal(rb.summary_row(), rp.summary_row())
        pd.testing.assert_frame_equal(rb.trajectories, rp.trajectories)


def test_sweep_rows_are_census_summary_rows(lmg_dimer):
    grid = {"J": np.array([-1.5, 0.0, 1.5]), "lam": np.array([0.3, 0.49])}
    pdg = phase_diagram(lmg_dimer, grid, n_initial=4, seed=3, progress=False, census_options=QUICK)
    df = pdg.to_frame()
    y0 = _draw_y0(lmg_dimer, 3, df["point"].to_numpy(), 4)
    for (_, row), Y in zip(df.iterrows(), y0):
        res = census(lmg_dimer, {"J": row["J"], "lam": row["lam"]}, y0=Y, **QUICK)
        want = res.summary_row()
        for k, v in want.items():
            if k in ("g", "gamma", "J", "lam"):
                continue
            if isinstance(v, float):
                np.testing.assert_allclose(row[k], v, rtol=1e-12, equal_nan=True, err_msg=k)
            else:
                assert row[k] == v, k


def test_identical_transients_share_one_measurement(lmg_dimer):
    # two copies of one initial condition: one measured run, the other takes its label
    y = lmg_dimer.random_states(1, np.random.default_rng(4))
    res = census(lmg_dimer, {"J": 1.5, "lam": 0.49}, y0=np.r_[y, y], **QUICK)
    t = res.trajectories
    assert t["kind"].nunique() == 1 and t["label"].nunique() == 1
    assert "shares the run of initial condition 0" in t["reason"].iat[1]
    off = census(lmg_dimer, {"J": 1.5, "lam": 0.49}, y0=np.r_[y, y], share_work=False, **QUICK)
    assert "shares" not in off.trajectories["reason"].iat[1]
    assert list(off.trajectories["kind"]) == list(t["kind"])
