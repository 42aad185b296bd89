"""Truncated Wigner approximation: kernel vs numpy twin, an exactly solvable case, exact steady states."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

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
    assert abs(r.mean["XD"] - exact) < 4 * r.error["XD"] + 1 / Sv ** 2, (r.mean["XD"], exact, r.error["XD"])
    assert abs(r.mean["ZD"]) < 4 * r.error["ZD"] + 1e-3
    # a transient averaged from t = 0 is not a steady state: the status says so, and its evidence (the
    # second half of the window minus the first) is the closed form's, within its error
    half = (math.exp(-rate * T / 2) - math.exp(-rate * T) - (1 - math.exp(-rate * T / 2))) / (rate * T / 2)
    assert r.status == "not_stationary", r.message
    assert "XD" in r.message and "ZD" not in r.message, r.message
    d, e = r.stats["half_difference"]["XD"], r.stats["half_difference_err"]["XD"]
    assert abs(d - half) < 4 * e + 1 / Sv ** 2, (d, e, half)
    assert abs(r.stats["half_difference"]["ZD"]) < 1e-3   # conserved by the flow (up to the scheme's error)


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
    with pytest.raises(NotImplementedError, match=r"linear in the modes' letters.*third-order derivatives"):
        truncated_wigner(OpenSystem(A.z, jumps=[(k / S ** 2, A.m * A.m)], name="two_photon"), 4, n_traj=4, t_end=1.0)
    with pytest.raises(NotImplementedError, match=r"not positive semi-definite"):
        truncated_wigner(OpenSystem(a.dag * a.a, jumps=[(k / S, a.a * a.a)], name="two_photon_loss"), 4, n_traj=4,
                         t_end=1.0)
    with pytest.raises(NotImplementedError, match=r"linear in the modes' letters"):
        truncated_wigner(OpenSystem(A.z + a.dag * a.a, jumps=[(k / S, A.m * a.dag)], name="exchange"), 4,
                         n_traj=4, t_end=1.0)
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


# ------------------------------------------------------------------------------------------------
# bosons
# ------------------------------------------------------------------------------------------------
delta_o, F_o, K_o, kappa_o, nth_o, beta_o = parameters(delta_o=1.0, F_o=0.5, K_o=0.0, kappa_o=1.0, nth_o=0.0,
                                                       beta_o=0.0)
_c = boson("c")
#: a driven (F), detuned (delta) Kerr (K) oscillator with loss kappa (n_th + 1) D[c + beta sqrt(S)] and gain
#: kappa n_th D[c^+]; the photon number scales with S (boson scale sqrt(S), Kerr K / S)
OSC = OpenSystem(delta_o * _c.dag * _c.a + K_o / S * _c.dag * _c.dag * _c.a * _c.a
                 + F_o * sp.sqrt(S) * (_c.a + _c.dag),
                 jumps=[(kappa_o * (nth_o + 1), _c.a + beta_o * sp.sqrt(S)), (kappa_o * nth_o, _c.dag)], name="osc")


def test_weyl_symbols_of_boson_words():
    """Closed forms: a^+ a -> |alpha|^2 - 1/2, a a^+ -> |alpha|^2 + 1/2, a^+2 a^2 -> |alpha|^4 - 2|alpha|^2 + 1/2,
    a^+ a a^+ a -> |alpha|^4 - |alpha|^2 (Gardiner & Zoller, Quantum Noise, ch. 4)."""
    from bifurcate.twa import _weyl_boson

    al, alc = sp.symbols("al alc")
    n = al * alc
    assert sp.expand(_weyl_boson(["dag", "a"], al, alc) - (n - sp.Rational(1, 2))) == 0
    assert sp.expand(_weyl_boson(["a", "dag"], al, alc) - (n + sp.Rational(1, 2))) == 0
    assert sp.expand(_weyl_boson(["dag", "dag", "a", "a"], al, alc) - (n ** 2 - 2 * n + sp.Rational(1, 2))) == 0
    assert sp.expand(_weyl_boson(["dag", "a", "dag", "a"], al, alc) - (n ** 2 - n)) == 0
    assert sp.expand(_weyl_boson(["a", "a"], al, alc) - al ** 2) == 0


def test_boson_problem_tables():
    P = twa_problem(OSC, 4.0, {"K_o": 2.0, "beta_o": 0.5, "nth_o": 0.25})
    assert P.state_names == ("c_re", "c_im") and P.bosons == ("c",)
    # c = x + i p: loss l = (1, i), gain l = (1, -i); the constant beta sqrt(S) = 1 on the loss
    np.testing.assert_allclose(P.jump_lr, [[1, 0], [1, 0]])
    np.testing.assert_allclose(P.jump_li, [[0, 1], [0, -1]])
    np.testing.assert_allclose(P.jump_c, [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(P.jump_rate / 4.0, [1.25, 0.25])
    np.testing.assert_allclose(P.hfac, [0.5])          # S / (2 c^2), c = sqrt(S)


@pytest.mark.parametrize("system, params", [
    ("osc", {"K_o": 1.5, "F_o": 0.7, "beta_o": 0.3, "nth_o": 0.2}),
    ("dicke", {"lam": 0.9}),
])
def test_kernel_step_equals_numpy_twin_with_bosons(system, params, rng):
    from bifurcate.models.dicke import DICKE_SYSTEM
    from bifurcate.twa import sample_initial

    sysm = OSC if system == "osc" else DICKE_SYSTEM
    Sv = 3.0
    P = twa_problem(sysm, Sv, params)
    n, k = P.n, len(P.jump_rate)
    x0 = sample_initial(P, rng.normal(size=(3, n)), rng)
    dW = rng.normal(size=(5, 3, 2 * k))
    dt = 0.02
    path = twa_numpy(P, x0, dW, dt)
    R = math.sqrt(1 + 1 / Sv)
    amp = np.sqrt(P.jump_rate / Sv)
    ws = [np.empty(n) for _ in range(6)]
    for r in range(3):
        x = x0[r].copy()
        for s in range(5):
            _heun_step(x, dt, math.sqrt(dt), *P.kernel_args(), amp, dW[s, r].copy(), R, *ws)
        np.testing.assert_allclose(x, path[-1, r], atol=1e-12)


def test_dicke_drift_is_the_mean_field_plus_weyl_shift(rng):
    """Noise off, on the unit sphere, the drift is the derived mean field of the Dicke model (its H has no
    boson word whose Weyl symbol differs from the classical one except a^+ a, a constant shift)."""
    from bifurcate.models.dicke import DICKE, DICKE_SYSTEM
    from bifurcate.twa import _drift

    params = {"lam": 0.8, "omega": 1.3, "kappa": 0.7}
    P = twa_problem(DICKE_SYSTEM, 5.0, params)
    for _ in range(5):
        y = rng.normal(size=5)
        y[2:] /= np.linalg.norm(y[2:])
        out, grad = np.empty(5), np.empty(5)
        _drift(y, *P.kernel_args(), grad, out)
        np.testing.assert_allclose(out, DICKE.f(y, params), atol=1e-12)


@pytest.mark.parametrize("S_val", [1, 10])
def test_damped_driven_oscillator_is_exact(S_val):
    """Linear dynamics: the TWA is exact at any S. Steady state coherent,
    alpha = -i F sqrt(S) / (kappa/2 + i delta) - 0 (beta = 0), <n> = var(n) = |alpha|^2."""
    p = {"delta_o": 1.0, "F_o": 0.5, "kappa_o": 1.0}
    r = truncated_wigner(OSC, S_val, p, n_traj=600, t_end=30.0, seed=7, initial=[0.0, 0.0])
    assert r.status == "ok", r.message
    al = -1j * 0.5 / (0.5 + 1j)                       # alpha / sqrt(S)
    n_ex = abs(al) ** 2 * S_val
    for k, v in (("c_re", al.real), ("c_im", al.imag), ("n_c", n_ex), ("var_n_c", n_ex)):
        assert abs(r.mean[k] - v) < 4 * r.error[k], (k, r.mean[k], r.error[k], v)
    # and the error bars are not vacuous
    assert r.error["n_c"] < 0.05 * n_ex


def test_displaced_loss_and_thermal_gain_are_exact():
    """L = c + beta sqrt(S) at rate kappa (n_th + 1), c^+ at kappa n_th: d<c>/dt = -kappa/2 <c> - kappa (n_th + 1)
    beta sqrt(S) / 2, so the steady state is a thermal state (occupation n_th) displaced to
    alpha = -(n_th + 1) beta sqrt(S): <n> = |alpha|^2 + n_th, var n = n_th (n_th + 1) + |alpha|^2 (2 n_th + 1)."""
    Sv, beta, nth = 4.0, 0.6, 0.5
    r = truncated_wigner(OSC, Sv, {"F_o": 0.0, "delta_o": 0.0, "beta_o": beta, "nth_o": nth}, n_traj=1500,
                         t_end=30.0, seed=8, initial=[0.0, 0.0])
    assert r.status == "ok", r.message
    al2 = (nth + 1) ** 2 * beta ** 2 * Sv
    for k, v in (("c_re", -(nth + 1) * beta), ("c_im", 0.0), ("n_c", al2 + nth),
                 ("var_n_c", nth * (nth + 1) + al2 * (2 * nth + 1))):
        assert abs(r.mean[k] - v) < 4 * r.error[k], (k, r.mean[k], r.error[k], v)


def _kerr_exact(S_val, p):
    ex = OSC.steady_state(S_val, p)
    o = ex.observables()
    n2 = ex.expect(_c.dag * _c.a * _c.dag * _c.a)
    return o["n_c"], n2 - o["n_c"] ** 2


def test_driven_kerr_converges_to_exact_as_the_scale_grows():
    """Driven Kerr oscillator with loss, photon number ~ S: at S = 1 the TWA misses the exact <n> by many
    error bars (the dropped third-order terms are O(1/S)); at S = 16 it agrees within 4 error bars, and the
    relative error shrinks monotonically."""
    p = {"K_o": 1.0, "F_o": 0.8, "delta_o": -1.0}
    z, rel = [], []
    for S_val in (1, 4, 16):
        n_ex, var_ex = _kerr_exact(S_val, p)
        r = truncated_wigner(OSC, S_val, p, n_traj=800, t_end=40.0, seed=2, initial=[0.0, 0.0])
        assert r.status == "ok", r.message
        z.append(abs(r.mean["n_c"] - n_ex) / r.error["n_c"])
        rel.append(abs(r.mean["n_c"] - n_ex) / n_ex)
        if S_val == 16:
            assert abs(r.mean["var_n_c"] - var_ex) < 4 * r.error["var_n_c"], (r.mean["var_n_c"], var_ex)
    assert z[0] > 6, z                     # where it fails, it is seen to fail
    assert z[-1] < 4, z                    # honest error bars where it works
    assert rel[0] > rel[1] > rel[2], rel


@pytest.mark.parametrize("S_val", [4, pytest.param(8, marks=pytest.mark.slow)])
def test_dicke_normal_state_matches_exact(S_val):
    """Open Dicke model below threshold (lam = 0.3 < lam_c = 0.707): from coherent states at the normal
    state (spin down, empty cavity), Z_A and n_a agree with the exact steady state within 4 error bars."""
    from bifurcate.models.dicke import DICKE_SYSTEM

    o = DICKE_SYSTEM.steady_state(S_val, {"lam": 0.3}).observables()
    r = truncated_wigner(DICKE_SYSTEM, S_val, {"lam": 0.3}, n_traj=500, t_end=100.0, seed=3,
                         initial=[0.0, 0.0, 0.0, 0.0, -1.0])
    assert r.status == "ok", r.message
    for k in ("ZA", "n_a"):
        assert abs(r.mean[k] - o[k]) < 4 * r.error[k], (k, r.mean[k], r.error[k], o[k])
    # the TWA carries the finite-S correction of Z_A (mean field: -1)
    assert abs(r.mean["ZA"] - o["ZA"]) < 0.3 * abs(o["ZA"] + 1.0)


@pytest.mark.slow
def test_dicke_superradiant_approaches_exact():
    """Above threshold (lam = 1): the TWA's relative error in n_a / S shrinks from S = 2 to S = 4."""
    from bifurcate.models.dicke import DICKE_SYSTEM

    rel = []
    for S_val in (2, 4):
        o = DICKE_SYSTEM.steady_state(S_val, {"lam": 1.0}).observables()
        r = truncated_wigner(DICKE_SYSTEM, S_val, {"lam": 1.0}, n_traj=600, t_end=60.0, seed=3)
        assert r.status == "ok", r.message
        rel.append(abs(r.mean["n_a"] - o["n_a"]) / o["n_a"])
        assert abs(r.mean["ZA"] - o["ZA"]) < 0.05
    assert rel[1] < 0.7 * rel[0], rel


def test_stationarity_contrast_is_calibrated_and_sees_a_drift():
    """The paired half-window test on synthetic window means: per-trajectory offsets much larger than the
    drift and AR(1)-correlated windows leave z standard normal when stationary; a drift of 1/20 of the
    offsets' spread is seen; an observable constant on every trajectory gives z = 0."""
    from bifurcate.twa import stationarity_contrast

    rng = np.random.default_rng(12)
    n_traj, nw, reps = 400, 8, 300
    zs = []
    for _ in range(reps):
        offset = rng.normal(0.0, 1.0, size=(n_traj, 1))
        e = np.empty((n_traj, nw))
        e[:, 0] = rng.normal(size=n_traj)
        for w in range(1, nw):                     # correlated windows (a slow fluctuation)
            e[:, w] = 0.8 * e[:, w - 1] + 0.6 * rng.normal(size=n_traj)
        zs.append(stationarity_contrast((offset + 0.3 * e)[:, :, None])[2][0])
    zs = np.array(zs)
    assert abs(zs.mean()) < 0.25 and 0.8 < zs.std() < 1.2, (zs.mean(), zs.std())
    assert np.mean(np.abs(zs) > 4) < 0.01
    drift = -0.05 * np.linspace(0, 1, nw)          # 1/20 of the offsets' spread over the window
    w = rng.normal(0.0, 1.0, size=(n_traj, 1)) + drift + 0.1 * rng.normal(size=(n_traj, nw))
    const = np.full((n_traj, nw), 0.3)
    d, err, z = stationarity_contrast(np.stack([w, const], axis=2))
    assert z[0] < -4, (d, err, z)
    assert abs(d[0] - (drift[4:].mean() - drift[:4].mean())) < 4 * err[0]
    assert z[1] == 0.0 and d[1] == 0.0


def test_status_detects_the_slow_dicke_relaxation():
    """Open Dicke model below threshold, S = 16, lam = 0.3: the spin is damped only through the cavity,
    and from the default random ensemble t_end = 60 is too short (measured: Z_A 2.6-3.4 error bars from
    the exact steady state -0.9811, with the status "ok" before the paired test). The status now says
    "not_stationary" naming Z_A; the ensemble started at the normal state is stationary ("ok") and the
    two averages differ by more than their errors: the status flags a real bias."""
    from bifurcate.models.dicke import DICKE_SYSTEM

    p = {"lam": 0.3}
    r = truncated_wigner(DICKE_SYSTEM, 16, p, n_traj=500, t_end=60.0, seed=3)
    assert r.status == "not_stationary" and not r.success, r.message
    assert "ZA" in r.message and r.stats["half_difference_z"]["ZA"] < -4, r.message
    ok = truncated_wigner(DICKE_SYSTEM, 16, p, n_traj=500, t_end=60.0, seed=3, initial=[0.0, 0.0, 0.0, 0.0, -1.0])
    assert ok.status == "ok", ok.message
    assert abs(r.mean["ZA"] - ok.mean["ZA"]) > 2 * math.hypot(r.error["ZA"], ok.error["ZA"]), \
        (r.mean["ZA"], r.error["ZA"], ok.mean["ZA"], ok.error["ZA"])
