"""The census's fragility flag (analysis.attractors.fragility): every reason on hand-made tables whose
numbers sit on either side of its threshold, and the flag carried into summary rows and sweeps."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.attractors.fragility import fragility_from_frames
from analysis.attractors.options import CensusOptions

OPTS = CensusOptions()
T = 1600.0
BAND = float(OPTS.zero_band(T))   # 1.5 ln(1600) / 1600 = 6.9e-3


def _set(label, kind, flavour="", attracting=True, n=4, N=16):
    return dict(label=label, kind=kind, flavour=flavour, attracting=attracting, n_members=n, basin_fraction=n / N,
                basin_fraction_err=0.1)


def _traj(label, kind, lam, err, s, es, decision="decided", n=1, t=T):
    rows = []
    for _ in range(n):
        r = dict(label=label, kind=kind, decision=decision, t_measured=t, lyap_sum=s, lyap_sum_err=es)
        for k, (v, e) in enumerate(zip(lam, err)):
            r[f"lyap_{k}"], r[f"lyap_err_{k}"] = v, e
        rows.append(r)
    return rows


def _frag(sets, trajs, **kw):
    return fragility_from_frames(pd.DataFrame(sets), pd.DataFrame(trajs), OPTS, **kw)


def test_band_is_what_the_census_uses():
    assert BAND == pytest.approx(1.5 * np.log(T) / T)


def test_clear_dissipative_chaos_and_fixed_points_are_not_fragile():
    sets = [_set(0, "FP", n=1), _set(1, "CH", "dissipative", n=15)]
    tr = [dict(label=0, kind="FP", decision="settled", t_measured=0.0, lyap_sum=np.nan, lyap_sum_err=np.nan,
               lyap_0=np.nan, lyap_err_0=np.nan, lyap_1=np.nan, lyap_err_1=np.nan)]
    tr += _traj(1, "CH", [0.1, -0.2], [0.004, 0.004], -0.1, 0.004, n=15)
    f = _frag(sets, tr)
    # an FP set of one member does not make the phase fragile: stable equilibria are listed exactly
    assert not f.fragile and f.reasons == () and f.reason == ""


def test_one_initial_condition_only_for_measured_attracting_sets():
    tr = _traj(0, "LC", [0.0, -0.3], [1e-3, 2e-3], -0.3, 2e-3)
    f = _frag([_set(0, "LC", n=1)], tr)
    assert f.fragile and f.reasons[0].startswith("one initial condition")
    assert not _frag([_set(0, "LC", n=2)], tr * 2).fragile
    # three members, one decided on its own, two that inherited its label: still one initial condition
    inh = _traj(0, "LC", [np.nan] * 2, [np.nan] * 2, np.nan, np.nan, decision="inherited", n=2)
    f = _frag([_set(0, "LC", n=3)], tr + inh)
    assert f.fragile and "3 member(s), 2 of them inherited or joined" in f.reason
    # "; " separates the reasons in ``reason`` and the tables: no reason may contain it
    assert all("; " not in r for r in f.reasons) and len(f.reason.split("; ")) == len(f.reasons)
    assert not _frag([_set(0, "LC", n=4)], tr * 2 + inh).fragile
    # a one-member conservative sea is not an attractor: its phase weight comes from the sum test
    sea = _traj(0, "CH", [0.1, -0.1], [1e-3, 1e-3], 0.0, 1e-4)
    assert not _frag([_set(0, "CH", "conservative", attracting=False, n=1)], sea).fragile


@pytest.mark.parametrize("s, es, fragile", [
    (-0.1, 2e-3, False),            # far below -b
    (-1.5 * BAND, 1e-3, True),      # between -2b and -b: either verdict can fire first
    (-BAND - 3.5e-3, 1e-3, True),   # dissipative by 3.5 errors, inside the interval
    (-2 * BAND - 3e-3, 1e-3, False),  # 3 errors below the interval
    (0.0, 1e-4, False),             # conservative, clear
    (-2 * BAND + 1.5e-3, 1e-3, True),
])
def test_sum_near_the_flavour_threshold(s, es, fragile):
    lo, hi = -2 * BAND - 2 * es, -BAND + 2 * es
    assert fragile == (lo < s < hi)   # the parametrisation itself is checked against the rule
    tr = _traj(0, "CH", [0.1, -0.1], [1e-3, 1e-3], s, es, n=4)
    f = _frag([_set(0, "CH", "dissipative" if s < -BAND else "conservative", attracting=s < -BAND)], tr)
    assert f.fragile == fragile
    assert all(r.startswith("sum near the flavour threshold") for r in f.reasons)
    # k_sigma = 0: only the interval itself
    assert _frag([_set(0, "CH", "dissipative")], tr, k_sigma=0).fragile == (-2 * BAND < s < -BAND)


def _near(f):
    # the one-member sets of these cases also rest on one initial condition: test this reason alone
    return any(r.startswith("exponent near the band") for r in f.reasons)


def test_exponent_near_the_band_tests_the_deciding_exponent_only():
    # chaos by the largest exponent: 0.02 +- 2.5e-3 is 5.2 errors above the band (clear at 3, fragile below 5)
    for lam0, fragile in ((BAND + 4.9 * 2.5e-3, True), (BAND + 5.1 * 2.5e-3, False)):
        tr = _traj(0, "CH", [lam0, -0.05, -0.3], [2.5e-3, 5e-2, 1e-3], -0.3, 1e-3)
        f = _frag([_set(0, "CH", "dissipative")], tr)
        assert _near(f) == fragile, lam0
        # the second exponent (0.05 +- 0.05) never counts for chaos
    # a cycle: zero exponent inside the band (its error is not used), the next one decides
    for lam1, fragile in ((-(BAND + 4 * 3e-3), True), (-(BAND + 6 * 3e-3), False)):
        tr = _traj(0, "LC", [0.001, lam1, -0.4], [0.05, 3e-3, 1e-3], lam1 - 0.4, 1e-3)
        f = _frag([_set(0, "LC")], tr)
        assert _near(f) == fragile, lam1
        if fragile:
            assert "exponent 1 of LC set 0" in f.reason
    # the errors of several members pool: 3 members shrink the error by sqrt(3)
    lam1 = -(BAND + 4 * 3e-3)
    tr = _traj(0, "LC", [0.001, lam1, -0.4], [0.05, 3e-3 * np.sqrt(3), 1e-3], lam1 - 0.4, 1e-3, n=3)
    assert _near(_frag([_set(0, "LC")], tr))


def test_undecided_and_pooled_only():
    tr = _traj(0, "CH", [0.1, -0.2], [1e-3, 1e-3], -0.1, 1e-3, n=3, decision="joined")
    tr += _traj(-1, "-1", [0.1, -0.1], [1e-2, 1e-2], 0.0, 1e-2, decision="undecided")
    f = _frag([_set(0, "CH", "dissipative", n=3)], tr)
    assert [r.split(":")[0] for r in f.reasons] == ["undecided", "pooled only"]
    assert "1/4 trajectories undecided" in f.reason
    # a set with one member decided on its own is no longer 'pooled only', but rests on one
    # initial condition; with two such members on neither
    tr[0]["decision"] = "decided"
    assert [r.split(":")[0] for r in _frag([_set(0, "CH", "dissipative", n=3)], tr).reasons] == \
        ["undecided", "one initial condition"]
    tr[1]["decision"] = "decided"
    assert [r.split(":")[0] for r in _frag([_set(0, "CH", "dissipative", n=3)], tr).reasons] == ["undecided"]


def test_bad_k_sigma():
    for bad in (-1.0, np.nan, True, "2"):
        with pytest.raises(ValueError, match="k_sigma"):
            _frag([], [], k_sigma=bad)


def test_summary_rows_and_sweeps_carry_the_flag(lmg_dimer):
    from analysis.attractor_census import census
    from analysis.phase_diagrams import phase_diagram

    quick = dict(t_transient=100.0, t_min=60.0, t_cap=480.0, t_zero_min=240.0, block_time=6.0)
    res = census(lmg_dimer, {"J": 1.5, "lam": 0.6}, n_initial=4, seed=2, **quick)
    row = res.summary_row()
    f = res.fragility()
    assert row["fragile"] == f.fragile and row["fragile_reason"] == f.reason
    assert isinstance(row["fragile"], bool)
    pdg = phase_diagram(lmg_dimer, {"J": np.array([0.0, 1.5]), "lam": np.array([0.3])}, n_initial=3, seed=1,
                        progress=False, census_options=quick)
    df = pdg.to_frame()
    assert str(df["fragile"].dtype) == "boolean" and df["fragile"].notna().all()
    assert (df["fragile_reason"].astype(bool) == df["fragile"].astype(bool)).all()


def test_mark_fragile_dots_only_flagged_points():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.plots_phase import mark_fragile

    class _P:
        grid = {"J": np.array([0.0, 1.0]), "lam": np.array([0.0, 1.0])}

        def __init__(self, flags):
            self.df = pd.DataFrame({"J": [0.0, 1.0, 0.0, 1.0], "lam": [0.0, 0.0, 1.0, 1.0],
                                    "fragile": pd.array(flags, dtype="boolean")})

        def to_frame(self):
            return self.df

    fig, ax = plt.subplots()
    try:
        assert mark_fragile(ax, _P([True, False, pd.NA, True])) == 2
        (line,) = ax.lines
        np.testing.assert_array_equal(line.get_xdata(), [0.0, 1.0])
        np.testing.assert_array_equal(line.get_ydata(), [0.0, 1.0])
        assert mark_fragile(ax, _P([False] * 4)) == 0 and len(ax.lines) == 1
        old = _P([True] * 4)
        old.df = old.df.drop(columns="fragile")     # a sweep stored before the flag existed
        assert mark_fragile(ax, old) == 0
    finally:
        plt.close(fig)
