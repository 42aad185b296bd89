"""Integrators: agreement with SciPy, invariants, symmetries, ensembles, failures, bad input."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from bifurcate import IntegrationOptions, integrate, integrate_ensemble, param_grid
from bifurcate.models import LMG_DIMER, NORMAL_STATE, SADDLE_NODE, STUART_LANDAU
from tests.test_model import paper_rhs

CHAOTIC = {"J": 1.5, "lam": 1.0}
Y0 = LMG_DIMER.geometry.project(np.array([0.3, -0.2, -0.9, 0.1, 0.4, 0.8]))


@pytest.mark.parametrize("method", ["DOP853", "DP5"])
def test_agrees_with_solve_ivp_dop853(method):
    p = {"g": 1.0, "gamma": 0.5, **CHAOTIC}
    ref = solve_ivp(lambda t, y: paper_rhs(y, **p), (0, 10), Y0, method="DOP853", rtol=1e-11, atol=1e-13)
    tr = integrate(LMG_DIMER, Y0, (0, 10), p, rtol=1e-11, atol=1e-13, method=method)
    assert tr.success
    # both at rtol 1e-11 over 10 time units of mild chaos: global errors ~1e-9
    np.testing.assert_allclose(tr.y_final, ref.y[:, -1], atol=1e-8)


def test_t_eval_hermite_samples_close_to_solution():
    te = np.linspace(0, 10, 41)
    ref = solve_ivp(lambda t, y: paper_rhs(y, 1.0, 0.5, **CHAOTIC), (0, 10), Y0, method="DOP853", rtol=1e-12,
                    atol=1e-13, t_eval=te)
    tr = integrate(LMG_DIMER, Y0, (0, 10), CHAOTIC, t_eval=te, rtol=1e-12, atol=1e-14)
    # DOP853 dense output is 7th order: as accurate as the steps themselves
    np.testing.assert_allclose(tr.y, ref.y.T, atol=1e-9)
    np.testing.assert_array_equal(tr.t, te)


def test_spin_lengths_stay_on_spheres_in_chaos():
    tr = integrate(LMG_DIMER, Y0, (0, 1000), CHAOTIC)
    assert tr.success and tr.n_steps > 1000
    c = LMG_DIMER.geometry.constraint(tr.y)
    assert np.abs(c).max() < 1e-12
    # without the projection the damping alone keeps the drift at the level of the tolerance
    tr = integrate(LMG_DIMER, Y0, (0, 1000), CHAOTIC, project=False, rtol=1e-11, atol=1e-13)
    assert np.abs(LMG_DIMER.geometry.constraint(tr.y)).max() < 1e-9


def test_radial_damping_pulls_back_to_spheres():
    y0 = Y0 * np.array([1.2, 1.2, 1.2, 0.8, 0.8, 0.8])
    tr = integrate(LMG_DIMER, y0, (0, 30), CHAOTIC, project=False)
    assert np.abs(LMG_DIMER.geometry.constraint(tr.y_final)).max() < 1e-8
    # the undamped paper equations let the same error grow where Z_A > 0 (rate 2 gamma Z_A)
    p = {"g": 1.0, "gamma": 0.5, **CHAOTIC}
    raw = solve_ivp(lambda t, y: paper_rhs(y, **p), (0, 30), y0, method="DOP853", rtol=1e-10, atol=1e-12)
    assert np.abs(LMG_DIMER.geometry.constraint(raw.y[:, -1])).max() > 1e-5


def test_z2_maps_solutions_to_solutions():
    Z2 = LMG_DIMER.symmetries[0]
    te = np.linspace(0, 50, 101)
    a = integrate(LMG_DIMER, Y0, (0, 50), CHAOTIC, t_eval=te)
    b = integrate(LMG_DIMER, Z2(Y0), (0, 50), CHAOTIC, t_eval=te)
    # negation commutes exactly with the arithmetic and the step control: identical to rounding
    np.testing.assert_allclose(Z2(a.y), b.y, atol=1e-12)


def test_pt_reversibility():
    PT = LMG_DIMER.symmetries[1]
    assert PT.reverses_time
    T = 3.0
    y1 = integrate(LMG_DIMER, Y0, (0, T), CHAOTIC, rtol=1e-12, atol=1e-14).y_final
    back = integrate(LMG_DIMER, PT(y1), (0, T), CHAOTIC, rtol=1e-12, atol=1e-14).y_final
    np.testing.assert_allclose(back, PT(Y0), atol=1e-8)


def test_normal_state_stays_fixed():
    tr = integrate(LMG_DIMER, NORMAL_STATE, (0, 100), {"J": 2.0, "lam": 1.2})
    np.testing.assert_array_equal(tr.y_final, NORMAL_STATE)


def test_rk4_is_fourth_order():
    y0 = np.array([0.1, 0.0])
    p = {"mu": 0.5, "omega": 1.0, "beta": 0.3}
    exact = integrate(STUART_LANDAU, y0, (0, 5), p, rtol=1e-13, atol=1e-15).y_final
    errs = [np.abs(integrate(STUART_LANDAU, y0, (0, 5), p, method="RK4", dt=dt).y_final - exact).max()
            for dt in (0.05, 0.025)]
    assert 13 < errs[0] / errs[1] < 19  # 2^4 = 16


def test_ensemble_matches_single_trajectories_and_time_averages():
    mu = 0.49
    period = 2 * np.pi
    p = {"mu": mu, "omega": 1.0, "beta": 0.0}
    y0 = np.array([[0.1, 0.0], [0.0, 1.5], [-2.0, 0.3]])
    ens = integrate_ensemble(STUART_LANDAU, p, y0, t_transient=30 * period, t_end=130 * period)
    assert ens.status.shape == (1, 3) and np.all(ens.status == 0)
    single = integrate(STUART_LANDAU, y0[1], (0, 130 * period), p)
    # same kernel; the ensemble also lands a step on t_transient, hence not bitwise equal
    np.testing.assert_allclose(ens.y_final[0, 1], single.y_final, atol=1e-10)
    # on the cycle x = sqrt(mu) cos(t + phi): mean 0, std sqrt(mu / 2), extrema +-sqrt(mu)
    np.testing.assert_allclose(ens.mean[0], 0.0, atol=1e-7)
    # the window quadrature is Simpson's rule with the Hermite midpoint, O(h^4) per unit time:
    # about 4e-5 relative with DOP853's long steps at rtol 1e-9 (documented on EnsembleResult)
    np.testing.assert_allclose(ens.std[0], np.sqrt(mu / 2), rtol=1e-4)
    np.testing.assert_allclose(ens.max[0], np.sqrt(mu), atol=1e-6)
    df = ens.to_frame()
    assert list(df.columns[:2]) == ["point", "ic"] and {"mu", "x", "mean_y", "std_x", "x_0"} <= set(df.columns)
    assert len(df) == 3


def test_ensemble_grid_and_seeded_initial_conditions():
    grid = param_grid(LMG_DIMER, {"J": [0.0, 1.5], "lam": [0.3, 1.0]})
    assert len(grid) == 4 and list(grid.columns) == ["g", "gamma", "J", "lam"]
    a = integrate_ensemble(LMG_DIMER, grid, n_initial=5, seed=7, t_end=50)
    b = integrate_ensemble(LMG_DIMER, grid, n_initial=5, seed=7, t_end=50)
    np.testing.assert_array_equal(a.y_final, b.y_final)
    assert a.y0.shape == (4, 5, 6)
    np.testing.assert_allclose(LMG_DIMER.geometry.constraint(a.y0), 0, atol=1e-15)
    # (J, lam) = (0, 0.3): every initial condition ends on the normal state
    i = grid.index[(grid.J == 0.0) & (grid.lam == 0.3)][0]
    b = integrate_ensemble(LMG_DIMER, grid.iloc[[i]], n_initial=5, seed=7, t_end=200)
    np.testing.assert_allclose(b.y_final[0], np.tile(NORMAL_STATE, (5, 1)), atol=1e-6)


def test_ensemble_independent_of_thread_count():
    import numba

    grid = {"J": [1.5, 1.0], "lam": [1.0, 0.8]}
    n0 = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = integrate_ensemble(LMG_DIMER, grid, n_initial=6, seed=3, t_end=100)
        numba.set_num_threads(n0)
        b = integrate_ensemble(LMG_DIMER, grid, n_initial=6, seed=3, t_end=100)
    finally:
        numba.set_num_threads(n0)
    np.testing.assert_array_equal(a.y_final, b.y_final)
    np.testing.assert_array_equal(a.mean, b.mean)


def test_divergent_trajectory_is_recorded_not_fatal():
    # dx/dt = mu - x^2 with mu = -1 from x = 0: x = -tan(t) blows up at t = pi/2
    y0 = np.array([[0.0, 1.0], [0.0, 1.0]])
    ens = integrate_ensemble(SADDLE_NODE, {"mu": [-1.0, 1.0]}, y0, t_end=20.0)
    assert ens.status[0, 0] < 0 and ens.status[1, 0] == 0
    assert "diverged" in ens.message[0, 0] or "underflow" in ens.message[0, 0]
    assert np.isnan(ens.mean[0, 0]).all() and np.isfinite(ens.mean[1, 0]).all()
    np.testing.assert_allclose(ens.y_final[1, 0, 0], np.tanh(20.0), atol=1e-9)  # x = tanh(t) for mu = 1
    tr = integrate(SADDLE_NODE, [0.0, 1.0], (0, 5), {"mu": -1.0})
    assert not tr.success and tr.t[-1] < np.pi / 2 + 1e-6


def test_max_steps_status():
    tr = integrate(LMG_DIMER, Y0, (0, 100), CHAOTIC, max_steps=10)
    assert tr.status == -1 and "maximum" in tr.message and tr.n_steps == 10


def test_bad_input():
    with pytest.raises(ValueError, match="t_end > t_start"):
        integrate(LMG_DIMER, Y0, (1.0, 1.0))
    with pytest.raises(KeyError, match="unknown parameter"):
        integrate(LMG_DIMER, Y0, (0, 1), {"Jz": 1.0})
    with pytest.raises(ValueError, match="finite"):
        integrate(LMG_DIMER, Y0, (0, 1), {"J": np.nan})
    with pytest.raises(ValueError, match="shape"):
        integrate(LMG_DIMER, Y0[:4], (0, 1))
    with pytest.raises(ValueError, match="method"):
        IntegrationOptions(method="Euler")
    with pytest.raises(ValueError, match="RK4 needs"):
        IntegrationOptions(method="RK4")
    with pytest.raises(ValueError, match="n_initial"):
        integrate_ensemble(LMG_DIMER, {"J": [1.0]})
    with pytest.raises(ValueError, match="equal length"):
        integrate_ensemble(LMG_DIMER, {"J": [1.0, 2.0], "lam": [0.1, 0.2, 0.3]}, n_initial=2)
    with pytest.raises(ValueError, match="t_transient"):
        integrate_ensemble(LMG_DIMER, n_initial=2, t_end=10, t_transient=20)


def test_kernels_agree_with_their_python_twin(tmp_path):
    """The same kernels run as plain Python (NUMBA_DISABLE_JIT=1) give the same numbers."""
    code = ("import numpy as np; from bifurcate import integrate; from bifurcate.models import LMG_DIMER;"
            "y0 = LMG_DIMER.geometry.project(np.array([0.3, -0.2, -0.9, 0.1, 0.4, 0.8]));"
            "tr = integrate(LMG_DIMER, y0, (0, 2), {'J': 1.5, 'lam': 1.0}, rtol=1e-10);"
            "print(repr(tr.y_final.tolist()), tr.n_steps)")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", BIFURCATE_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    vals, nsteps = out.stdout.strip().rsplit(" ", 1)
    tr = integrate(LMG_DIMER, Y0, (0, 2), CHAOTIC, rtol=1e-10)
    assert int(nsteps) == tr.n_steps
    np.testing.assert_allclose(eval(vals), tr.y_final, atol=1e-14)
