"""Truncated Wigner approximation: kernel vs numpy twin, an exactly solvable case, exact steady states."""
from __future__ import annotations

import math

import numpy as np
import pytest

from bifurcate.spec import OpenSystem, S, boson, parameters, spin
from bifurcate.twa import _heun_step, sample_coherent, truncated_wigner, twa_numpy, twa_problem

h_, gam_ = parameters(h_deph=0.0, gamma_deph=1.0)
_D = spin("D")
#: pure collective dephasing: <S^x>(t) = S e^{-gamma t / (2 S)} from a coherent state along x (exact),
#: and the TWA is exact for it (linear jump and Hamiltonian)
DEPHASING = OpenSystem(h_ * _D.z, jumps=[(gam_ / S, _D.z)], name="dephasing")


def _btc():
    from bifurcate.models.btc import BTC_SYSTEM

    return BTC_SYSTEM


def _dimer():
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM

    return LMG_DIMER_SYSTEM


def test_problem_tables_of_the_dimer():
    P = twa_problem(_dimer(), 4.0, {"J": 1.5, "lam": 0.45})
    # jumps: S_A^- on spin 0 (l = (1, -i, 0)), S_B^+ on spin 1 (l = (1, i, 0)), rate gamma / S * S = gamma
    # (the coefficient vectors run over all six coordinates since bosons and mixed jumps came in)
    np.testing.assert_allclose(P.jump_lr, [[1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]])
    np.testing.assert_allclose(P.jump_li, [[0, -1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0]])
    np.testing.assert_allclose(P.jump_rate, [0.5, 0.5])
    np.testing.assert_allclose(P.jump_c, 0.0)
    assert P.state_names == ("XA", "YA", "ZA", "XB", "YB", "ZB")


def test_drift_is_the_mean_field_on_the_unit_sphere(lmg_dimer, rng):
    """On |x_s| = 1 the TWA drift (noise off) equals the derived mean-field vector field."""
    from bifurcate.twa import _drift

    params = {"J": 1.5, "lam": 0.45}
    P = twa_problem(_dimer(), 7.0, params)
    for _ in range(5):
        y = rng.normal(size=6)
        y[:3] /= np.linalg.norm(y[:3])
        y[3:] /= np.linalg.norm(y[3:])
        out, grad = np.empty(6), np.empty(6)
        _drift(y, *P.kernel_args(), grad, out)
        np.testing.assert_allclose(out, lmg_dimer.f(y, params), atol=1e-12)


def test_kernel_step_equals_numpy_twin(rng):
    P = twa_problem(_dimer(), 5.0, {"J": 1.5, "lam": 0.45})
    x0 = sample_coherent(rng.normal(size=(3, 6)), 5.0, rng)
    dW = rng.normal(size=(4, 3, 4))
    dt = 0.03
    path = twa_numpy(P, x0, dW, dt)
    R = math.sqrt(1 + 1 / 5.0)
    amp = np.sqrt(P.jump_rate / 5.0)
    ws = [np.empty(6) for _ in range(6)]
    for r in range(3):
        x = x0[r].copy()
        for s in range(4):
            _heun_step(x, dt, math.sqrt(dt), *P.kernel_args(), amp, dW[s, r].copy(), R, *ws)
        np.testing.assert_allclose(x, path[-1, r], atol=1e-13)
        np.testing.assert_allclose(np.linalg.norm(x[:3]), R, atol=1e-13)


def test_coherent_samples_have_the_coherent_moments():
    rng = np.random.default_rng(3)
    Sv = 10.0
    x = sample_coherent(np.tile([0.0, 0.0, 1.0], (200000, 1)), Sv, rng)
    # <S^z>/S = 1, <(S^x)^2>/S^2 = 1/(2S) for a coherent state along z, to leading order (the projection
    # onto the sphere changes them at O(1/S^2)); the radius is sqrt(S(S+1))/S exactly
    assert abs(x[:, 2].mean() - 1.0) < 1 / Sv ** 2
    assert abs((x[:, 0] ** 2).mean() - 1 / (2 * Sv)) < 0.5 / Sv ** 2
    assert abs((x[:, 1] ** 2).mean() - 1 / (2 * Sv)) < 0.5 / Sv ** 2
    np.testing.assert_allclose(np.sum(x ** 2, axis=1), 1 + 1 / Sv, rtol=1e-12)


def test_dephasing_decay_is_exact():
    """Window average of <X> under collective dephasing, against the closed form."""
    Sv, gamma, T = 4.0, 1.0, 8.0
    r = truncated_wigner(DEPHASING, Sv, {"gamma_deph": gamma}, n_traj=4000, t_end=T, seed=5, dt=0.01, t_burn=0.0,
                         initial=[1.0, 0.0, 0.0])
    rate = gamma / (2 * Sv)
    exact = (1 - math.exp(-rate * T)) / (rate * T)
    assert r.status == "ok", r.message
    assert abs(r.mean["XD"] - exact) < 4 * r.error["XD"] + 1 / Sv ** 2, (r.mean["XD"], exact, r.error["XD"])
    assert abs(r.mean["ZD"]) < 4 * r.error["ZD"] + 1e-3


@pytest.mark.parametrize("S_val", [8, 16])
def test_btc_below_transition_matches_exact(S_val):
    system = _btc()
    p = {"omega": 0.5, "kappa": 1.0}
    ex = system.steady_state(S_val, p).observables()
    r = truncated_wigner(system, S_val, p, n_traj=300, t_end=60.0, seed=11)
    assert r.status == "ok", r.message
    for k in ("YA", "ZA"):
        assert abs(r.mean[k] - ex[k]) < 4 * r.error[k], (k, r.mean[k], r.error[k], ex[k])


def test_btc_time_crystal_phase_matches_exact():
    """Above omega = kappa (neutral orbits in the mean field) the TWA still matches the exact Y, Z at S = 16."""
    system = _btc()
    p = {"omega": 1.5, "kappa": 1.0}
    ex = system.steady_state(16, p).observables()
    r = truncated_wigner(system, 16, p, n_traj=300, t_end=120.0, seed=13)
    for k in ("YA", "ZA"):
        assert abs(r.mean[k] - ex[k]) < 4 * r.error[k], (k, r.mean[k], r.error[k], ex[k])


def _dimer_check(S_val, J, lam, seed):
    system = _dimer()
    p = {"J": J, "lam": lam}
    ex = system.steady_state(S_val, p).observables()
    r = truncated_wigner(system, S_val, p, n_traj=400, t_end=80.0, seed=seed)
    assert r.status == "ok", r.message
    return r, ex


@pytest.mark.parametrize("J, lam, mf_ZB", [(0.0, 0.3, 1.0), (1.5, 0.0, 0.3431457505)])
def test_dimer_S8_matches_exact(J, lam, mf_ZB):
    r, ex = _dimer_check(8, J, lam, seed=21)
    d = abs(r.mean["ZB"] - ex["ZB"])
    # within 4 standard errors, and the TWA carries most of the finite-S correction of the mean field
    assert d < 4 * r.error["ZB"], (r.mean["ZB"], r.error["ZB"], ex["ZB"])
    assert d < 0.2 * abs(ex["ZB"] - mf_ZB), (r.mean["ZB"], ex["ZB"], mf_ZB)
    assert abs(r.mean["ZA"] - ex["ZA"]) < 4 * r.error["ZA"]


@pytest.mark.slow
@pytest.mark.parametrize("J, lam", [(0.0, 0.3), (1.5, 0.0)])
def test_dimer_S16_matches_exact(J, lam):
    r, ex = _dimer_check(16, J, lam, seed=22)
    assert abs(r.mean["ZB"] - ex["ZB"]) < 4 * r.error["ZB"], (r.mean["ZB"], r.error["ZB"], ex["ZB"])


def test_dimer_tends_to_mean_field():
    """At the LMG point the TWA Z_B approaches the mean-field value 2 - ... = 0.3431 as S grows (~1/S)."""
    mf = 0.3431457505
    dev = []
    for S_val in (10, 40, 160):
        r = truncated_wigner(_dimer(), S_val, {"J": 1.5, "lam": 0.0}, n_traj=200, t_end=60.0, seed=S_val)
        assert r.status == "ok", r.message
        dev.append((abs(r.mean["ZB"] - mf), r.error["ZB"]))
    assert dev[0][0] > dev[1][0] > dev[2][0] - 2 * dev[2][1]
    # ~1/S: the deviation shrinks by about 4 per factor 4 in S
    assert 2.0 < dev[0][0] / dev[1][0] < 8.0


def test_refuses_what_it_cannot_do():
    a = boson("a")
    A = spin("A")
    k = parameters(k_twa=1.0)
    with pytest.raises(NotImplementedError, match="spins only"):
        truncated_wigner(OpenSystem(k * (a.dag * a.a) + A.z, name="cav"), 4, n_traj=4, t_end=1.0)
    with pytest.raises(NotImplementedError, match="linear in the components of one spin"):
        truncated_wigner(OpenSystem(A.z, jumps=[(k / S ** 2, A.m * A.m)], name="two_photon"), 4, n_traj=4, t_end=1.0)
    with pytest.raises(ValueError, match="n_traj"):
        truncated_wigner(_btc(), 4, n_traj=1, t_end=1.0)
    with pytest.raises(ValueError, match="t_burn"):
        truncated_wigner(_btc(), 4, n_traj=4, t_end=1.0, t_burn=2.0)
    with pytest.raises(ValueError, match="initial"):
        truncated_wigner(_btc(), 4, n_traj=4, t_end=1.0, initial=[1.0, 0.0])


def test_frame_and_reproducibility():
    r1 = truncated_wigner(_btc(), 6, {"omega": 0.5}, n_traj=8, t_end=4.0, seed=3)
    r2 = truncated_wigner(_btc(), 6, {"omega": 0.5}, n_traj=8, t_end=4.0, seed=3)
    np.testing.assert_array_equal(r1.windows, r2.windows)
    df = r1.to_frame()
    assert set(df["observable"]) == {"XA", "YA", "ZA"}
    assert {"mean", "error", "err_traj", "err_time", "omega", "kappa", "status"} <= set(df.columns)
