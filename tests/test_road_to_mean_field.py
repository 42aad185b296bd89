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


def test_zb_error_bound_is_cauchy_schwarz_and_sharp():
    """A perturbation of rho along 1 (x) S_z^B reaches the bound; random perturbations stay below it."""
    from studies.road_to_mean_field import zb_error_bound

    rng = np.random.default_rng(3)
    S = 3
    n = 2 * S + 1
    sz = np.diag(np.arange(S, -S - 1, -1.0))
    ZB_op = np.kron(np.eye(n), sz) / S
    X = rng.normal(size=(n * n, n * n)) + 1j * rng.normal(size=(n * n, n * n))
    rho = X @ X.conj().T
    rho /= np.trace(rho).real
    purity = float(np.trace(rho @ rho).real)
    eps = 1e-3
    rho_norm = np.linalg.norm(rho)
    bound = zb_error_bound(eps, purity, S)
    D = eps * rho_norm * ZB_op / np.linalg.norm(ZB_op)      # ||D||_F = eps ||rho||_F, along the observable
    assert np.isclose(np.trace(D @ ZB_op).real, bound, rtol=1e-12)
    for _ in range(20):
        H = rng.normal(size=(n * n, n * n))
        H = H + H.T
        H *= eps * rho_norm / np.linalg.norm(H)
        assert abs(np.trace(H @ ZB_op)) <= bound * (1 + 1e-12)


def test_exact_stage_records_certified_errors_and_skips_beyond_the_budget():
    from analysis.quantum import steady_state
    from studies.road_to_mean_field import exact_stage

    pts = cut_points({"d": (0.45,)})
    ex = exact_stage(pts, (1, 2), extra={("d", 0.45): (3,)})
    assert list(ex["S"]) == [1.0, 2.0, 3.0] and (ex["status"] == 0).all(), ex["message"].tolist()
    assert (ex["error_estimate"] < 1e-6).all() and (ex["ZB_err"] < 1e-4).all() and (ex["ZB_err"] > 0).all()
    assert np.isclose(ex["ZB"].iloc[1], steady_state(2, {"J": 1.5, "lam": 0.45}).ZB, atol=1e-10)
    # a budget of 0 s: the first S is solved, the rest are skipped and say why
    sk = exact_stage(pts, (1, 2, 3), budget_s=0.0)      # any predicted time is over it
    assert list(sk["status"]) == [0, -1, -1] and sk["message"].iloc[1].startswith("skipped")


def test_twa_check_verdicts():
    from studies.road_to_mean_field import twa_check

    pts = cut_points({"b": (0.3,), "d": (0.45,)})
    ex = pd.DataFrame({"cut": ["b", "b", "d", "d"], "J": [0.0, 0.0, 1.5, 1.5], "lam": [0.3, 0.3, 0.45, 0.45],
                       "S": [8.0, 16.0, 8.0, 16.0], "ZB": [0.96, 0.98, 0.5, 0.5], "ZB_err": 1e-9})
    tw = pd.DataFrame({"cut": ["b", "b", "d", "d"], "J": [0.0, 0.0, 1.5, 1.5], "lam": [0.3, 0.3, 0.45, 0.45],
                       "S": [8.0, 16.0, 8.0, 16.0], "ZB": [0.961, 0.983, 0.51, 0.53], "ZB_err": 1e-3,
                       "status": ["ok", "ok", "ok", "not_stationary"]})
    c = twa_check(pts, ex, tw)
    assert list(c["judged"]) == ["normal", "normal", "", ""]
    assert np.allclose(c["z"], [1.0, 3.0, 10.0, 30.0], rtol=1e-5)
    assert list(c["verdict"]) == ["agrees (|z| <= 2)", "marginal (2 < |z| <= 4)", "disagrees (|z| > 4)",
                                  "no check: TWA status not_stationary"]


@pytest.mark.slow
def test_twa_agrees_with_exact_at_the_judged_points():
    """The issue's claim at the normal point (0, 0.3) and the LMG point (1.5, 0): the TWA Z_B (the study's
    settings: 300 trajectories, t_end = 200) agrees with the certified exact Z_B at S = 8 and 16 within
    3 combined errors, carries most of the finite-S correction, and at S = 200 stands far closer to the
    mean field (normal state: Z_B = 1; LMG: 2 - ... = 0.3431, the fixed points of tests/test_twa.py)
    than the exact Z_B at S = 16."""
    from studies.road_to_mean_field import JUDGED_POINTS, exact_stage, twa_check, twa_sweep

    pts = cut_points({cut: (v,) for cut, v in JUDGED_POINTS.values()})
    ex = exact_stage(pts, (8, 16))
    assert (ex["status"] == 0).all(), ex["message"].tolist()
    tw = twa_sweep(pts, (8, 16, 200), n_traj=300, t_end=200.0, seed=4)
    assert (tw["status"] == "ok").all(), tw["message"].tolist()
    c = twa_check(pts, ex, tw)
    assert set(c["judged"]) == {"normal", "LMG"} and len(c) == 4
    assert (np.abs(c["z"]) < 3).all(), c[["judged", "S", "ZB_exact", "ZB_twa", "ZB_twa_err", "z"]]
    mf = {"normal": 1.0, "LMG": 0.3431457505}
    for _, r in c.iterrows():
        shift = abs(r["ZB_exact"] - mf[r["judged"]])
        assert abs(r["ZB_twa"] - r["ZB_exact"]) < 0.2 * shift, r
    for pt in pts:
        m = mf["normal" if pt["cut"] == "b" else "LMG"]
        e16 = ex[(ex["cut"] == pt["cut"]) & (ex["S"] == 16)]["ZB"].iloc[0]
        t200 = tw[(tw["cut"] == pt["cut"]) & (tw["S"] == 200)].iloc[0]
        assert abs(t200["ZB"] - m) + 2 * t200["ZB_err"] < 0.25 * abs(e16 - m), (pt, t200["ZB"], e16, m)


def test_stages_resume_from_their_cache(tmp_path):
    from studies.road_to_mean_field import exact_stage, twa_sweep

    pts = cut_points({"d": (0.45,)})
    cache = tmp_path / "cache_exact.parquet"
    a = exact_stage(pts, (1, 2), cache=cache)
    b = exact_stage(pts, (1, 2, 3), cache=cache)            # S = 1, 2 reused, S = 3 new
    assert np.array_equal(a["wall_time"], b["wall_time"].iloc[:2]) and len(b) == 3
    assert len(pd.read_parquet(cache)) == 3
    tc = tmp_path / "cache_twa.parquet"
    t1 = twa_sweep(pts, (4,), n_traj=4, t_end=2.0, seed=1, cache=tc)
    t2 = twa_sweep(pts, (4,), n_traj=4, t_end=2.0, seed=1, cache=tc)
    t3 = twa_sweep(pts, (4,), n_traj=4, t_end=2.0, seed=2, cache=tc)   # another seed: recomputed
    assert t1["wall_time"].iloc[0] == t2["wall_time"].iloc[0] and t3["seed"].iloc[0] == 2
