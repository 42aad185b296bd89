"""Lyapunov spectra: a ladder of systems with known exponents, the tangent space of S^2 x S^2,
the SciPy twin, thread-count invariance and error paths."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from bifurcate.lyapunov import (LyapunovOptions, kaplan_yorke, lyapunov_extend, lyapunov_spectra, lyapunov_spectrum,
                                lyapunov_spectrum_reference)
from bifurcate.models import LINEAR3, LMG_DIMER, LORENZ, NORMAL_STATE, SADDLE_NODE, STUART_LANDAU, TORUS


def _linear_params(A):
    return {f"a{i + 1}{j + 1}": float(A[i, j]) for i in range(3) for j in range(3)}


@pytest.mark.parametrize("A, tol", [
    # diagonal: the QR factors are exact, only rounding remains
    (np.diag([-1.0, -2.0, -3.0]), 1e-9),
    # non-normal (upper triangular, eigenvalues -0.5, -1, -2): finite-time bias ~ log(cond V) / T
    (np.array([[-1.0, 5.0, 0.0], [0.0, -2.0, 3.0], [0.0, 0.0, -0.5]]), 2e-3),
    # complex pair -1 +- 4i and a real -0.3, plus non-normal coupling
    (np.array([[-1.0, -4.0, 2.0], [4.0, -1.0, 0.0], [0.0, 0.0, -0.3]]), 2e-3),
])
def test_linear_exponents_are_real_parts_of_eigenvalues(A, tol):
    ls = lyapunov_spectrum(LINEAR3, [1.0, 0.5, -0.3], _linear_params(A), t_transient=0.0, t_total=2000.0)
    expected = np.sort(np.linalg.eigvals(A).real)[::-1]
    assert ls.success
    np.testing.assert_allclose(ls.exponents, expected, atol=tol)
    # the trace is exact whatever the orientation: sum of exponents = tr A (RK4 error ~ (h l)^5)
    assert abs(ls.sum - np.trace(A)) < 1e-6


@pytest.mark.parametrize("mu, beta", [(0.5, 0.0), (0.3, 0.7)])
def test_stuart_landau_cycle(mu, beta):
    # closed form (bifurcate/models/stuart_landau.py): exponents 0 and -2 mu, also with shear beta
    ls = lyapunov_spectrum(STUART_LANDAU, [0.1, 0.0], {"mu": mu, "beta": beta}, t_total=300.0)
    np.testing.assert_allclose(ls.exponents, [0.0, -2 * mu], atol=1e-3 if beta else 1e-9)


def test_torus_has_two_zero_exponents():
    ls = lyapunov_spectrum(TORUS, [0.3, 0.0, 0.0, 0.2], t_total=300.0)
    np.testing.assert_allclose(ls.exponents, [0.0, 0.0, -0.5, -1.0], atol=1e-6)


def test_lorenz_largest_exponent_and_sum():
    ls = lyapunov_spectrum(LORENZ, [1.0, 1.0, 1.0], t_transient=50.0, t_total=1000.0)
    p = LORENZ.params()
    # l1 = 0.9056 (Sprott, Chaos and Time-Series Analysis, 2003); T = 1000 gives ~0.01 noise
    assert abs(ls.exponents[0] - 0.9056) < 0.04
    assert abs(ls.exponents[1]) < 0.01
    # the sum is the (constant) divergence -(sigma + 1 + beta); RK4 at dt = 0.01 with l3 ~ -14.6
    assert abs(ls.sum + (p["sigma"] + 1 + p["beta"])) < 1e-3
    assert 2.0 < ls.kaplan_yorke_dimension < 2.1


def test_lmg_dimer_radial_directions_do_not_leak():
    # at the stable normal state the exponents are the real parts of the tangent eigenvalues
    # (lam = 0, J = 0.3, gamma = 0.5: -0.5 +- 1.26i, -0.5 +- 0.63i); the embedding's radial
    # eigenvalues (-2 kappa -+ 2 gamma = -5, -3) must not appear
    params = {"J": 0.3, "lam": 0.0, "gamma": 0.5}
    y0 = LMG_DIMER.geometry.project(NORMAL_STATE + [0.01, 0.0, 0.0, 0.0, 0.01, 0.0])
    ls = lyapunov_spectrum(LMG_DIMER, y0, params, t_transient=0.0, t_total=2000.0)
    assert ls.exponents.shape == (4,)
    np.testing.assert_allclose(ls.exponents, -0.5, atol=5e-4)
    ev = LMG_DIMER.tangent_eigenvalues(NORMAL_STATE, params)
    np.testing.assert_allclose(np.sort(ev.real), -0.5, atol=1e-12)
    assert ls.radial_leak < 1e-8
    # J = 0.6, lam = 0.2: distinct real parts (-0.0567, -0.5 +- 1.45i, -0.9433); the complex pair's
    # finite-time exponents oscillate with O(1/T) amplitude, their sum does not
    params = {"J": 0.6, "lam": 0.2}
    ls = lyapunov_spectrum(LMG_DIMER, y0, params, t_transient=0.0, t_total=2000.0)
    ev = np.sort(LMG_DIMER.tangent_eigenvalues(NORMAL_STATE, params).real)[::-1]
    np.testing.assert_allclose(ls.exponents, ev, atol=1e-3)
    np.testing.assert_allclose(ls.exponents[[0, 3]], ev[[0, 3]], atol=1e-4)
    assert abs(ls.sum - ev.sum()) < 1e-6


def test_kernel_matches_scipy_twin_on_lmg_dimer():
    # a limit cycle (J = 1.5, lam = 0.5): same algorithm, independent code (solve_ivp DOP853 at
    # rtol 1e-10 + numpy QR); both started from the same state with the same QR interval
    params = {"J": 1.5, "lam": 0.5}
    y0 = LMG_DIMER.geometry.project(np.array([0.3, 0.1, -0.9, 0.5, 0.2, 0.6]))
    ref = lyapunov_spectrum_reference(LMG_DIMER, y0, params, t_total=20.0, dt_ortho=0.5)
    ls = lyapunov_spectrum(LMG_DIMER, y0, params, t_transient=0.0, t_align=0.0, t_total=20.0, dt_ortho=0.5,
                           n_blocks=4)
    np.testing.assert_allclose(ls.exponents, ref, atol=1e-6)


def test_step_halving_changes_little():
    params = {"J": 1.5, "lam": 0.5}
    y0 = LMG_DIMER.geometry.project(np.array([0.3, 0.1, -0.9, 0.5, 0.2, 0.6]))
    a = lyapunov_spectrum(LMG_DIMER, y0, params, t_transient=50.0, t_total=100.0, dt=0.01)
    b = lyapunov_spectrum(LMG_DIMER, y0, params, t_transient=50.0, t_total=100.0, dt=0.005)
    np.testing.assert_allclose(a.exponents, b.exponents, atol=1e-6)


def test_batched_independent_of_thread_count():
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = lyapunov_spectra(LMG_DIMER, {"J": 1.5, "lam": 1.0}, n_initial=6, seed=3, t_transient=20.0,
                             t_total=40.0)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = lyapunov_spectra(LMG_DIMER, {"J": 1.5, "lam": 1.0}, n_initial=6, seed=3, t_transient=20.0,
                             t_total=40.0)
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(a.exponents, b.exponents)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_running_estimates_and_frames():
    ls = lyapunov_spectrum(STUART_LANDAU, [0.1, 0.0], t_total=100.0, n_blocks=10)
    assert ls.running.shape == (10, 2)
    np.testing.assert_allclose(ls.running[-1], ls.exponents)
    df = ls.to_frame()
    assert list(df["exponent"]) == list(ls.exponents) and "mu" in df
    assert len(ls.running_frame()) == 20
    ens = lyapunov_spectra(STUART_LANDAU, {"mu": [0.5, 0.2]}, n_initial=3, seed=0, t_total=50.0)
    df = ens.to_frame()
    assert len(df) == 6 and {"lyap_0", "lyap_err_1", "mean_x", "point", "ic"} <= set(df.columns)
    assert ens.throughput > 0


def test_divergence_is_a_status_not_an_exception():
    # saddle-node with mu < 0: x' = mu - x^2 blows up in finite time
    ens = lyapunov_spectra(SADDLE_NODE, {"mu": -1.0}, y0=[[0.0, 0.0], [-1.0, 0.0]], t_transient=0.0,
                           t_total=10.0)
    assert np.all(ens.status == -3)
    assert "diverged" in ens.message[0]
    assert np.all(np.isnan(ens.mean))


def test_kaplan_yorke():
    assert kaplan_yorke(np.array([-0.1, -1.0])) == 0.0
    assert kaplan_yorke(np.array([0.0, -1.0])) == 1.0
    assert kaplan_yorke(np.array([1.0, 0.0, -2.0])) == pytest.approx(2.5)


def test_bad_input_raises():
    with pytest.raises(ValueError, match=r"t_total must lie in \(0, inf\)"):
        LyapunovOptions(t_total=-1.0)
    with pytest.raises(ValueError, match="dt_ortho must be >= dt"):
        LyapunovOptions(dt=0.1, dt_ortho=0.01)
    with pytest.raises(ValueError, match="n_blocks must be an integer >= 2"):
        LyapunovOptions(n_blocks=1)
    with pytest.raises(ValueError, match=r"must have shape \(6,\)"):
        lyapunov_spectrum(LMG_DIMER, [0.0, 1.0])
    with pytest.raises(TypeError, match="options must be a LyapunovOptions"):
        lyapunov_spectrum(LMG_DIMER, NORMAL_STATE, options={"dt": 0.1})
    with pytest.raises(TypeError, match="unexpected keyword"):
        lyapunov_spectrum(LMG_DIMER, NORMAL_STATE, bogus=1.0)


# -- blocks, resumable segments (lyapunov_extend) ------------------------------------------------

_EXT = dict(t_transient=10.0, t_align=5.0, dt=0.01, sample_dt=0.05)


@pytest.mark.parametrize("method", ["dop853", "rk4"])
def test_extend_in_pieces_equals_one_run(method):
    # same block length (5), same steps (the adaptive step size is carried over): t1 + t2 in two
    # calls is the same arithmetic as one run of t1 + t2 (calls end at re-orthonormalisation
    # times), so equality is to rounding
    p = {"J": 1.5, "lam": 1.0}
    a = lyapunov_spectra(LMG_DIMER, p, n_initial=3, seed=1, t_total=20.0, n_blocks=4, method=method, **_EXT)
    b = lyapunov_extend(LMG_DIMER, a, 10.0)
    c = lyapunov_extend(LMG_DIMER, b, 10.0)
    one = lyapunov_spectra(LMG_DIMER, p, n_initial=3, seed=1, t_total=40.0, n_blocks=8, steps_per_call=7,
                           method=method, **_EXT)
    assert a.block_time == one.block_time == 5.0
    np.testing.assert_array_equal(c.n_blocks_done, [8, 8, 8])
    np.testing.assert_allclose(c.exponents, one.exponents, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.stderr, one.stderr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.block_logs, one.block_logs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.block_means, one.block_means, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.mean, one.mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.y_final, one.y_final, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(c.n_steps, one.n_steps)
    np.testing.assert_allclose(c.t_measured, 40.0)
    # the newest segment's samples start where b stopped
    np.testing.assert_allclose(c.samples[:, 0], b.y_final, atol=0)
    np.testing.assert_allclose(c.segment_start, 30.0)
    np.testing.assert_allclose(c.samples[:, -1], c.y_final, atol=0)
    # block bookkeeping: exponents are the block means, block_means average to the time means
    np.testing.assert_allclose(c.block_logs.sum(axis=1) / c.t_measured[:, None], c.exponents, atol=1e-12)
    np.testing.assert_allclose(c.block_means.mean(axis=1), c.mean, atol=1e-12)
    # the frame stays orthonormal and tangent to the spheres
    QtQ = np.einsum("mik,mil->mkl", c.q_final, c.q_final)
    np.testing.assert_allclose(QtQ, np.broadcast_to(np.eye(4), QtQ.shape), atol=1e-12)
    for blk in LMG_DIMER.geometry.sphere_blocks:
        radial = np.einsum("mi,mik->mk", c.y_final[:, blk], c.q_final[:, blk, :])
        assert np.abs(radial).max() < 1e-10


def test_extend_selected_rows_only():
    a = lyapunov_spectra(STUART_LANDAU, {"mu": [0.5, 0.2]}, n_initial=2, seed=0, t_total=20.0, n_blocks=4,
                         method="rk4")
    b = lyapunov_extend(STUART_LANDAU, a, 12.0, active=np.array([1, 3]))  # rounded up to 3 blocks of 5
    np.testing.assert_array_equal(b.n_blocks_done, [4, 7, 4, 7])
    assert b.block_logs.shape == (4, 7, 2)
    for i in (0, 2):  # inactive rows unchanged
        np.testing.assert_array_equal(b.exponents[i], a.exponents[i])
        np.testing.assert_array_equal(b.y_final[i], a.y_final[i])
        assert np.all(np.isnan(b.block_logs[i, 4:])) and np.all(np.isnan(b.samples[i]))
        assert b.n_steps[i] == a.n_steps[i]
    assert np.all(b.n_steps[[1, 3]] == a.n_steps[[1, 3]] + 1500)
    mask = np.array([True, False, False, False])
    c = lyapunov_extend(STUART_LANDAU, b, 5.0, active=mask, keep_samples=False)
    np.testing.assert_array_equal(c.n_blocks_done, [5, 7, 4, 7])
    assert c.samples is None
    # the cycle's exponents (0, -2 mu) hold over all blocks
    mu = np.array([0.5, 0.5, 0.2, 0.2])
    np.testing.assert_allclose(c.exponents[:, 1], -2 * mu, atol=0.05)


@pytest.mark.parametrize("method", ["rk4", "dop853"])
def test_call_cap_does_not_change_results(method):
    kw = dict(n_initial=2, seed=5, t_transient=3.0, t_align=1.0, t_total=4.0, n_blocks=2, method=method)
    a = lyapunov_spectra(LMG_DIMER, {"J": 1.5, "lam": 1.0}, steps_per_call=1, **kw)
    b = lyapunov_spectra(LMG_DIMER, {"J": 1.5, "lam": 1.0}, **kw)
    np.testing.assert_array_equal(a.exponents, b.exponents)
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.block_means, b.block_means)
    np.testing.assert_array_equal(a.n_steps, b.n_steps)
    if method == "rk4":
        # cost accounting: transient + alignment + measured RK4 steps
        np.testing.assert_array_equal(a.n_steps, 300 + 100 + 400)
        np.testing.assert_array_equal(a.kernel_state, b.kernel_state)
    else:
        # a resumed transient re-evaluates the field once per call: only n_fev may differ
        assert np.all(a.n_steps < 800) and np.all(a.n_fev >= b.n_fev)


def test_extend_bad_input():
    a = lyapunov_spectra(STUART_LANDAU, {"mu": 0.5}, n_initial=2, seed=0, t_total=4.0, n_blocks=2)
    with pytest.raises(ValueError, match="t_more must be finite and > 0"):
        lyapunov_extend(STUART_LANDAU, a, 0.0)
    with pytest.raises(ValueError, match=r"active as a mask must have shape \(2,\)"):
        lyapunov_extend(STUART_LANDAU, a, 1.0, active=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="active indices must lie in"):
        lyapunov_extend(STUART_LANDAU, a, 1.0, active=np.array([5]))
    with pytest.raises(TypeError, match="ens must be a LyapunovEnsemble"):
        lyapunov_extend(STUART_LANDAU, {"exponents": 0}, 1.0)
    with pytest.raises(ValueError, match="was computed with model"):
        lyapunov_extend(LORENZ, a, 1.0)


def test_failed_rows_are_not_extended():
    ens = lyapunov_spectra(SADDLE_NODE, {"mu": -1.0}, y0=[[0.0, 0.0]], t_transient=0.0, t_total=10.0)
    ext = lyapunov_extend(SADDLE_NODE, ens, 5.0)
    assert ext.status[0] == -3 and ext.n_steps[0] == ens.n_steps[0]


# -- accuracy control (DOP853 default, RK4 step doubling), adversarial cases -----------------------

CHAOS = {"J": 1.5, "lam": 1.0}
Y_CHAOS = LMG_DIMER.geometry.project(np.array([0.3, 0.1, -0.9, 0.5, 0.2, 0.6]))


def _log_growth_second_half(ens):
    """Log growth of the leading direction over the second half of the measured blocks."""
    B = ens.block_logs[:, :, 0]
    return B[:, B.shape[1] // 2:].sum(axis=1)


def test_adaptive_default_matches_tight_scipy_twin_at_the_chaotic_point():
    # before the trajectories decorrelate (l1 ~ 0.2: a 1e-8 error grows to ~1e-6 over t = 20),
    # the default DOP853 (rtol 1e-8 per step) agrees with solve_ivp at rtol 1e-12; measured 5e-8
    assert LyapunovOptions().method == "dop853"
    ref = lyapunov_spectrum_reference(LMG_DIMER, Y_CHAOS, CHAOS, t_total=20.0, dt_ortho=0.5, rtol=1e-12,
                                      atol=1e-14)
    ls = lyapunov_spectrum(LMG_DIMER, Y_CHAOS, CHAOS, t_transient=0.0, t_align=0.0, t_total=20.0, dt_ortho=0.5,
                           n_blocks=4)
    assert ls.success
    np.testing.assert_allclose(ls.exponents, ref, atol=1e-6)
    # a tighter tolerance gets closer: the error is controlled, not accidental
    tight = lyapunov_spectrum(LMG_DIMER, Y_CHAOS, CHAOS, t_transient=0.0, t_align=0.0, t_total=20.0,
                              dt_ortho=0.5, n_blocks=4, rtol=1e-11, atol=1e-13)
    assert np.abs(tight.exponents - ref).max() < 0.1 * np.abs(ls.exponents - ref).max() + 1e-10


def test_rk4_step_doubling_flags_a_step_too_large():
    kw = dict(t_transient=5.0, t_align=1.0, t_total=10.0, n_blocks=2, method="rk4")
    ok = lyapunov_spectra(LMG_DIMER, CHAOS, n_initial=2, seed=0, dt=0.01, **kw)
    assert np.all(ok.status == 0) and np.all((ok.err_ratio > 0) & (ok.err_ratio < 1))
    bad = lyapunov_spectra(LMG_DIMER, CHAOS, n_initial=2, seed=0, dt=0.05, **kw)
    assert np.all(bad.status == -5)
    assert bad.message[0].startswith("accuracy not met: RK4 step dt = 0.05")
    assert np.all(np.isnan(bad.mean))
    # RK4's local error ~ dt^5: the estimate scales accordingly (4^5 ~ 1e3 between dt and 4 dt)
    assert np.all(bad.err_ratio > 100 * ok.err_ratio)


def test_unreachable_tolerance_is_a_status():
    ens = lyapunov_spectra(LMG_DIMER, CHAOS, n_initial=2, seed=0, t_transient=1.0, t_total=2.0, rtol=1e-16)
    assert np.all(ens.status == -2) and np.all(np.isnan(ens.exponents))
    assert "below the rounding floor" in ens.message[0]


@pytest.mark.parametrize("J, T", [(10.0, 200.0), (100.0, 200.0), (1000.0, 20.0)])
def test_decoupled_planar_flows_show_no_chaos(J, T):
    # lam = 0: two decoupled planar flows on S^2, chaos impossible. The old fixed-step RK4 gave
    # l1 ~ 1.4 with success at J = 100 and 1000. Now: success only with exponents that are the
    # shear of neutral orbits (tangent growth linear in t: l1 <= ln(c T) / T, the log growth over
    # the second half ~ ln 2, not l1 T / 2), or a status that says the run is not trusted
    ens = lyapunov_spectra(LMG_DIMER, {"J": J, "lam": 0.0}, n_initial=4, seed=1, t_transient=T / 4, t_align=1.0,
                           t_total=T, n_blocks=10)
    ok = ens.status == 0
    assert np.all(ok | (ens.status < 0))
    t_tan = 1.0 + ens.t_measured
    assert np.all(ens.exponents[ok, 0] <= np.log(10 * t_tan[ok]) / t_tan[ok] + 3 * ens.stderr[ok, 0])
    assert np.all(_log_growth_second_half(ens)[ok] < 2.0)
    # the old default fixed step cannot meet the accuracy here: a status, never a number
    if J >= 100:
        rk = lyapunov_spectra(LMG_DIMER, {"J": J, "lam": 0.0}, n_initial=2, seed=1, t_transient=1.0, t_align=1.0,
                              t_total=2.0, method="rk4", dt=0.01)
        assert np.all(rk.status < 0)


def test_decoupled_planar_flows_accurate_against_scipy_twin():
    # J = 100, lam = 0 over a short window: the controlled integration is correct, not only
    # consistent (solve_ivp DOP853 at rtol 1e-12 on the same state)
    params = {"J": 100.0, "lam": 0.0}
    y0 = LMG_DIMER.geometry.project(np.array([0.3, -0.5, 0.8, -0.6, 0.2, 0.7]))
    ref = lyapunov_spectrum_reference(LMG_DIMER, y0, params, t_total=2.0, dt_ortho=0.1, rtol=1e-12, atol=1e-14)
    ls = lyapunov_spectrum(LMG_DIMER, y0, params, t_transient=0.0, t_align=0.0, t_total=2.0, n_blocks=2)
    assert ls.success
    np.testing.assert_allclose(ls.exponents, ref, atol=1e-5)


def test_strong_dissipation_large_J_is_accurate_or_flagged():
    # gamma = 50, J = 1e4: the old RK4 gave 302, 3.7, 2.45 for dt = 1e-2, 1e-4, 1e-5, all success
    params = {"J": 1e4, "gamma": 50.0, "lam": 1.0}
    kw = dict(n_initial=2, seed=0, t_transient=0.1, t_align=0.1, t_total=0.5, n_blocks=5)
    a = lyapunov_spectra(LMG_DIMER, params, **kw)
    b = lyapunov_spectra(LMG_DIMER, params, rtol=1e-11, atol=1e-13, **kw)
    ok = (a.status == 0) & (b.status == 0)
    assert np.all(ok | (a.status < 0))
    # where trusted, the exponents are converged in the tolerance ...
    np.testing.assert_allclose(a.exponents[ok], b.exponents[ok], rtol=2e-3)
    # ... and their large finite-time values are shear (log growth ~ ln 2 over the second half),
    # not exponential growth at rate l1 (which would give l1 T / 2 ~ 1 here and grow with T)
    assert np.all(_log_growth_second_half(a)[ok] < 1.2)
    # the default length would need ~5e4 steps per unit time: the step budget says so
    c = lyapunov_spectra(LMG_DIMER, params, n_initial=1, seed=0, max_steps=20_000)
    assert c.status[0] == -1 and c.message[0].startswith("max steps reached (20000) at t = ")
    rk = lyapunov_spectra(LMG_DIMER, params, method="rk4", dt=1e-4, **kw)
    assert np.all(rk.status < 0)


def test_reversible_neutral_family_exponents_shrink_like_log_t_over_t():
    # two undamped Duffing oscillators (bifurcate/models/duffing.py): volume preserving, so the
    # sum is 0 to the tolerance; pairs (l1, l2, -l2, -l1); tangent growth linear in t (shear),
    # so l1 T ~ ln(c T) and l1 halves (roughly) when T doubles
    from bifurcate.models.duffing import DUFFING2

    y0 = np.array([[1.0, 0.0, 0.5, 0.3], [0.2, 0.9, 1.2, 0.0]])
    a = lyapunov_spectra(DUFFING2, None, y0=y0, t_transient=0.0, t_align=1.0, t_total=100.0, n_blocks=10)
    b = lyapunov_extend(DUFFING2, a, 100.0)
    assert np.all(b.status == 0)
    np.testing.assert_allclose(b.exponents.sum(axis=1), 0.0, atol=1e-7)
    np.testing.assert_allclose(b.exponents, -b.exponents[:, ::-1], atol=1e-7)
    T = 1.0 + b.t_measured
    assert np.all(b.exponents[:, 0] > 0) and np.all(b.exponents[:, 0] * T < np.log(20 * T))
    assert np.all(b.exponents[:, 0] < 0.7 * a.exponents[:, 0])


def test_lyapunov_kernel_agrees_with_its_python_twin(tmp_path):
    """The same kernels run as plain Python (NUMBA_DISABLE_JIT=1) give the same numbers."""
    import os
    import subprocess
    import sys

    code = ("import numpy as np; from bifurcate.lyapunov import lyapunov_spectra; from bifurcate.models import "
            "LMG_DIMER; y0 = np.array([[0.3, 0.1, -0.9, 0.5, 0.2, 0.6]]);"
            "e = lyapunov_spectra(LMG_DIMER, {'J': 1.5, 'lam': 1.0}, y0=y0, t_transient=0.5, t_align=0.2, "
            "t_total=0.6, n_blocks=2, method=METHOD);"
            "print(repr(e.exponents[0].tolist()), int(e.n_steps[0]))")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", BIFURCATE_CACHE_DIR=str(tmp_path))
    for method in ("dop853", "rk4"):
        out = subprocess.run([sys.executable, "-c", code.replace("METHOD", repr(method))], capture_output=True,
                             text=True, env=env, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        vals, nsteps = out.stdout.strip().rsplit(" ", 1)
        e = lyapunov_spectra(LMG_DIMER, CHAOS, y0=[[0.3, 0.1, -0.9, 0.5, 0.2, 0.6]], t_transient=0.5, t_align=0.2,
                             t_total=0.6, n_blocks=2, method=method)
        assert int(nsteps) == e.n_steps[0]
        np.testing.assert_allclose(eval(vals), e.exponents[0], atol=1e-12)


def test_step_size_underflow_is_a_status():
    # x' = mu - x^2 with mu < 0 blows up in finite time; with no divergence bound to stop it the
    # controller shrinks the step to the rounding floor near the singularity
    ens = lyapunov_spectra(SADDLE_NODE, {"mu": -1.0}, y0=[[0.0, 0.0]], t_transient=0.0, t_total=10.0,
                           div_bound=1e300)
    assert ens.status[0] == -2
    assert ens.message[0].startswith("accuracy not met: step size below")
    assert 0.5 < ens.t_final[0] < 2.0  # the singularity of x(t) = -tan(t) at t = pi / 2


def test_early_reorthonormalisation_changes_nothing_but_rounding():
    # re-orthonormalising inside the intervals (growth_bound barely above 1) adds the same log
    # growth to the same blocks: the exponents agree to the tolerance, at the non-normal linear
    # system (strong transient growth) and at the chaotic point over a short window
    A = np.array([[-1.0, 5.0, 0.0], [0.0, -2.0, 3.0], [0.0, 0.0, -0.5]])
    kw = dict(t_transient=0.0, t_align=0.0, t_total=20.0, n_blocks=4, dt_ortho=1.0)
    a = lyapunov_spectrum(LINEAR3, [1.0, 0.5, -0.3], _linear_params(A), **kw)
    b = lyapunov_spectrum(LINEAR3, [1.0, 0.5, -0.3], _linear_params(A), growth_bound=1.0001, **kw)
    np.testing.assert_allclose(a.block_exponents, b.block_exponents, atol=1e-7)
    assert not np.array_equal(a.block_exponents, b.block_exponents)  # the early path did run
    a = lyapunov_spectrum(LMG_DIMER, Y_CHAOS, CHAOS, **kw)
    b = lyapunov_spectrum(LMG_DIMER, Y_CHAOS, CHAOS, growth_bound=1.0001, **kw)
    np.testing.assert_allclose(a.exponents, b.exponents, atol=1e-6)


def _plain_dop_step(y, Q, p, h, model, rtol, atol):
    """The DOP853 step of (y, Q) written as the plain triple loops of the first kernel (every stage
    sum in stage order, zero coefficients included): the compiled kernel's stage sums were reordered
    (stage by stage over all tangent components, zero coefficients skipped, four accumulators for
    d = 4) and must give the same numbers bit for bit."""
    from bifurcate.tableaux import DOP853 as T

    n, d = Q.shape
    f = np.empty(n)
    Jw = np.empty((n, n))

    def aug(yy, QQ):
        model.rhs(yy, p, f)
        model.jac(yy, p, Jw)
        dQ = np.empty((n, d))
        for i in range(n):
            for k in range(d):
                acc = 0.0
                for j in range(n):
                    acc += Jw[i, j] * QQ[j, k]
                dQ[i, k] = acc
        return f.copy(), dQ

    KY = np.zeros((13, n))
    KQ = np.zeros((13, n, d))
    KY[0], KQ[0] = aug(y, Q)
    for s in range(1, 12):
        yt = np.empty(n)
        Qt = np.empty((n, d))
        for i in range(n):
            acc = 0.0
            for j in range(s):
                acc += T.A[s, j] * KY[j, i]
            yt[i] = y[i] + h * acc
            for k in range(d):
                acc = 0.0
                for j in range(s):
                    acc += T.A[s, j] * KQ[j, i, k]
                Qt[i, k] = Q[i, k] + h * acc
        KY[s], KQ[s] = aug(yt, Qt)
    ynew = np.empty(n)
    Qnew = np.empty((n, d))
    for i in range(n):
        acc = 0.0
        for j in range(12):
            acc += T.B[j] * KY[j, i]
        ynew[i] = y[i] + h * acc
        for k in range(d):
            acc = 0.0
            for j in range(12):
                acc += T.B[j] * KQ[j, i, k]
            Qnew[i, k] = Q[i, k] + h * acc
    KY[12], KQ[12] = aug(ynew, Qnew)
    e5 = e3 = 0.0
    for i in range(n):
        sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
        a5 = a3 = 0.0
        for j in range(13):
            a5 += T.E5[j] * KY[j, i]
            a3 += T.E3[j] * KY[j, i]
        e5 += (a5 / sc) ** 2
        e3 += (a3 / sc) ** 2
    for k in range(d):
        sc = atol + rtol * np.sqrt(max(float(np.sum(Q[:, k] ** 2)), float(np.sum(Qnew[:, k] ** 2))))
        for i in range(n):
            a5 = a3 = 0.0
            for j in range(13):
                a5 += T.E5[j] * KQ[j, i, k]
                a3 += T.E3[j] * KQ[j, i, k]
            e5 += (a5 / sc) ** 2
            e3 += (a3 / sc) ** 2
    err = abs(h) * e5 / np.sqrt((e5 + 0.01 * e3) * (n + n * d))
    return ynew, Qnew, KY, KQ, err


@pytest.mark.parametrize("model, params", [(LMG_DIMER, CHAOS), (LORENZ, None)])
def test_reordered_stage_sums_give_the_same_numbers_bit_for_bit(model, params):
    from bifurcate.lyapunov import lyapunov_kernels

    kern = lyapunov_kernels(model)
    rng = np.random.default_rng(5)
    p = model.pack_params(params)
    n, d = model.n, model.dim
    for trial in range(3):
        y = model.geometry.project(model.random_states(1, rng)[0]) if model.geometry.n_spheres else rng.normal(size=n)
        Q = np.ascontiguousarray(np.linalg.qr(rng.normal(size=(n, d)))[0])
        h = 0.05 * (trial + 1)
        ynew_ref, Qnew_ref, KY_ref, KQ_ref, err_ref = _plain_dop_step(y, Q, p, h, model, 1e-8, 1e-10)
        KY = np.zeros((13, n))
        KQ = np.zeros((13, n, d))
        Jw = np.empty((n, n))
        kern._aug_field(y, Q, p, KY[0], KQ[0], Jw)
        np.testing.assert_array_equal(KQ[0], KQ_ref[0])
        ynew, Qnew = np.empty(n), np.empty((n, d))
        err = kern._dop_step(y, Q, p, h, True, KY, KQ, np.empty(n), np.empty((n, d)), Jw, ynew, Qnew, 1e-8, 1e-10,
                             np.empty((2, n, d)))
        np.testing.assert_array_equal(ynew, ynew_ref)
        np.testing.assert_array_equal(Qnew, Qnew_ref)
        np.testing.assert_array_equal(KQ, KQ_ref)
        assert err == err_ref


@pytest.mark.parametrize("J, lam", [(1.52, 0.87), (1.04, 1.41), (-0.8, 0.99), (1.52, 0.42)])
def test_exponent_sum_is_the_time_average_of_the_divergence_on_the_spheres(J, lam):
    # Liouville on S^2 x S^2: the sum of all four exponents is the time average of the divergence
    # of the field on the product of spheres (the tangent space, not the ambient R^6), here
    # div_M f = tr Df - sum_spheres u^T Df u = 4 gamma (ZA - ZB) - 2 gamma (ZA - ZB) = 2 gamma (ZA - ZB).
    # Block by block, not only on average: the finite-time sum has no shear term (a shear has unit
    # determinant), so its error is that of a time average of the state (the block means' error).
    g = LMG_DIMER.defaults["gamma"]
    za, zb = LMG_DIMER.state_names.index("ZA"), LMG_DIMER.state_names.index("ZB")
    ens = lyapunov_spectra(LMG_DIMER, {"J": J, "lam": lam}, n_initial=3, seed=1, t_transient=200.0, t_total=200.0,
                           n_blocks=20)
    assert ens.success.all()
    # the ambient divergence would be 4 gamma (ZA - ZB): the two differ wherever ZA != ZB
    assert np.max(np.abs(ens.block_means[:, :, za] - ens.block_means[:, :, zb])) > 1e-2
    for i in range(3):
        sums = ens.block_exponents[i].sum(axis=1)
        div = 2 * g * (ens.block_means[i][:, za] - ens.block_means[i][:, zb])
        np.testing.assert_allclose(sums, div, rtol=0, atol=1e-5)
