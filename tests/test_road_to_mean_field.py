"""The road-to-mean-field study: its rate fits on synthetic data, its verdicts, and the quick run end to end."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from studies.road_to_mean_field import cut_points, fit_power, phase_table, trend


def test_fit_recovers_a_power_law_within_its_error():
    rng = np.random.default_rng(1)
    S = np.array([20.0, 50.0, 200.0, 1000.0])
    d0 = 0.3 * S ** -1.3
    sigma = 0.03 * d0
    d = d0 + sigma * rng.normal(size=S.size)
    f = fit_power(S, d, sigma)
    assert f["monotone"] and f["n_fit"] == 4
    assert abs(f["power"] - 1.3) < 3 * f["power_err"], f
    assert 0.005 < f["power_err"] < 0.05
    assert f["chi2_dof"] < 6


def test_fit_without_errors_is_least_squares_with_the_scatter_as_error():
    S = np.array([4.0, 6.0, 8.0, 12.0])
    f = fit_power(S, 2.0 * S ** -0.5, np.zeros(4))
    assert abs(f["power"] - 0.5) < 1e-12 and f["power_err"] < 1e-10 and f["rms_log_res"] < 1e-12
    # a curved approach (two power laws) shows up as a residual, and a non-zero error
    g = fit_power(S, S ** -0.5 + 5 * S ** -2.0, np.zeros(4))
    assert g["rms_log_res"] > 1e-3 and g["power_err"] > 1e-3


def test_fit_reports_non_monotone_and_the_noise_floor():
    S = np.array([20.0, 50.0, 200.0, 1000.0])
    f = fit_power(S, [0.01, 0.03, 0.005, 0.001], np.full(4, 1e-4))
    assert not f["monotone"]
    g = fit_power(S, [0.01, 1e-4, 5e-5, 1e-5], np.full(4, 1e-4))
    assert g["monotone"] and g["n_fit"] == 1 and g["noise_floor_from_S"] == 50.0 and np.isnan(g["power"])
    # the reference's error (common to every point) does not excuse a growing distance
    h = fit_power(S, [0.01, 0.02, 0.03, 0.04], np.full(4, 0.004), value_err=0.0)
    assert not h["monotone"] and h["n_fit"] == 4


def test_cut_points_are_on_their_cuts():
    pts = cut_points({"d": (0.0, 0.45), "a": (1.5,)})
    assert pts == [{"cut": "d", "J": 1.5, "lam": 0.0}, {"cut": "d", "J": 1.5, "lam": 0.45},
                   {"cut": "a", "lam": 0.1, "J": 1.5}]
    with pytest.raises(ValueError, match=r"cut 'b': expected lam in \[0.0, 1.5\], got 2.0"):
        cut_points({"b": (2.0,)})


def _frames(zb_mf=0.5, twa_status="ok", twa_shift=0.0):
    pt = {"cut": "d", "J": 1.5, "lam": 0.0}
    S_ex = np.array([1, 2, 4, 6, 8, 12], float)
    ex = pd.DataFrame({"cut": "d", "J": 1.5, "lam": 0.0, "S": S_ex, "ZB": 0.5 + 0.4 / S_ex})
    S_tw = np.array([12, 20, 50, 200, 1000], float)
    tw = pd.DataFrame({"cut": "d", "J": 1.5, "lam": 0.0, "S": S_tw, "ZB": 0.5 + 0.4 / S_tw + twa_shift,
                       "ZB_err": 1e-5, "status": [twa_status] + ["ok"] * 4})
    mf = pd.DataFrame([{"cut": "d", "J": 1.5, "lam": 0.0, "phase": "2FP", "att_ZB": zb_mf, "att_ZB_err": 0.0}])
    return [pt], ex, tw, mf


def test_trend_fits_a_clean_one_over_S_approach():
    tr = trend(*_frames())
    for kind in ("exact", "twa"):
        r = tr[tr["kind"] == kind].iloc[0]
        assert r["verdict"] == "fitted", r["verdict"]
        assert abs(r["power"] - 1.0) < 1e-6
    ph = phase_table(tr)
    assert set(ph["kind"]) == {"exact", "twa"} and np.allclose(ph["power"], 1.0)


def test_trend_refuses_to_fit_where_it_should_not():
    # no attracting set: no S -> infinity value
    tr = trend(*_frames(zb_mf=np.nan))
    assert tr["verdict"].str.contains("no attracting set").all() and tr["power"].isna().all()
    # the TWA disagrees with the exact value at the largest exact S
    tr = trend(*_frames(twa_shift=0.01))
    assert tr.loc[tr["kind"] == "twa", "verdict"].iloc[0].startswith("no fit: the TWA misses the exact Z_B at S = 12")
    assert tr.loc[tr["kind"] == "exact", "verdict"].iloc[0] == "fitted"
    # the distance grows with S: not an approach, no fit
    pts, ex, tw, mf = _frames()
    ex["ZB"] = 0.5 + 0.01 * np.log(ex["S"])
    tr = trend(pts, ex, tw, mf)
    assert tr.loc[tr["kind"] == "exact", "verdict"].iloc[0].startswith("no fit: the distance to the mean field does not")
    # a TWA distance that does not shrink significantly (flat within its large errors)
    pts, ex, tw, mf = _frames()
    tw["ZB"] = 0.6 + 0.001 * np.arange(5) % 2
    tw["ZB_err"] = 0.002
    ex["ZB"] = 0.5 + 0.1 / ex["S"] ** 0.01
    tr = trend(pts, ex, tw, mf)
    assert tr.loc[tr["kind"] == "twa", "verdict"].iloc[0].startswith("no fit: no significant approach")
    # a TWA status other than ok at a fitted S
    pts, ex, tw, mf = _frames()
    tw.loc[2, "status"] = "not_stationary"
    tr = trend(pts, ex, tw, mf)
    assert tr.loc[tr["kind"] == "twa", "verdict"].iloc[0] == "no fit: TWA status not_stationary at S = 50"


@pytest.mark.slow
def test_quick_study(tmp_path):
    from studies.road_to_mean_field import main

    paths = main(tmp_path, quick=True)
    tw = pd.read_parquet(paths["twa"])
    tr = pd.read_parquet(paths["trend"])
    ph = pd.read_parquet(paths["phases"])
    assert set(tw["status"]) == {"ok"}
    assert set(tr["cut"]) == {"b", "d"} and set(ph["phase"]) == {"FP", "2FP"}
    # the TWA agrees with the exact Z_B at the largest exact S (6) within 4 error bars
    assert (tr["twa_vs_exact_z"] < 4).all(), tr
    # at these fixed points both approach the mean field like 1/S
    t = tr[tr["kind"] == "twa"]
    assert (t["verdict"] == "fitted").all(), t["verdict"]
    assert (np.abs(t["power"] - 1.0) < 4 * t["power_err"] + 0.1).all(), t[["power", "power_err"]]
    e = tr[tr["kind"] == "exact"]
    assert ((e["power"] > 0.6) & (e["power"] < 1.4)).all(), e["power"]
    assert paths["figure_png"].exists()
    # the figure's texts neither overlap nor leave the canvas (analysis.style.layout_problems)
    meta = json.loads(paths["metadata"].read_text())
    assert meta["layout_problems"] == {"road_to_mean_field": []}, meta["layout_problems"]
