"""Limit cycles: collocation continuation, Floquet multipliers, LPC / PD detection, degenerate cases.

References for the closed forms: Stuart-Landau (bifurcate/models/stuart_landau.py): radius sqrt(mu),
period 2 pi / (omega - beta mu), multipliers 1 and exp(-2 mu T); Brusselator: Hopf at b = 1 + a^2
with frequency a; LMG dimer normal state: Hopf near lam = 0.5 (1 + 2 J^2), Eq. (13) of the paper.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from bifurcate.cycles import CycleOptions, continue_cycles, switch_at_pd
from bifurcate.cycles.collocation import Collocation, colloc_eval_numpy, lagrange_tables
from bifurcate.models import BRUSSELATOR, LMG_DIMER, NORMAL_STATE, STUART_LANDAU
from bifurcate.results import BifurcationPoint


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def normal_state_hopf(J: float):
    """Hopf point of the normal state at coupling J: bisection on the leading tangent eigenvalue."""
    lead = lambda lam: LMG_DIMER.tangent_eigenvalues(NORMAL_STATE, {"J": J, "lam": lam})[0]  # noqa: E731
    lam = brentq(lambda v: lead(v).real, 0.3, 1.0, xtol=1e-14)
    return lam, abs(lead(lam).imag)


def broken_state_hopf(J: float = 1.0):
    """Hopf point of the spin-B ferromagnetic fixed point (followed in J from J = 1 at lam = 0, then in
    lam from lam = 0), located by bisection on the tangent eigenvalues: independent of the
    continuation code under test."""
    from bifurcate.equilibria import newton_equilibrium

    # spin A down, spin B tilted (the LMG ferromagnet of spin B at lam = 0)
    y = newton_equilibrium(LMG_DIMER, [0, 0, -1, -0.8155, -0.2185, 0.5359], {"J": 1.0, "lam": 0.0})
    for JJ in np.linspace(1.0, J, 11)[1:]:
        y = newton_equilibrium(LMG_DIMER, y, {"J": JJ, "lam": 0.0})
    lam, prev = 0.0, None
    while True:
        re = LMG_DIMER.tangent_eigenvalues(y, {"J": J, "lam": lam})[0].real
        if prev is not None and re > 0 > prev[1]:
            break
        prev = (lam, re, y)
        lam += 0.02
        y = newton_equilibrium(LMG_DIMER, y, {"J": J, "lam": lam})

    def g(v):
        yy = newton_equilibrium(LMG_DIMER, prev[2], {"J": J, "lam": v})
        return LMG_DIMER.tangent_eigenvalues(yy, {"J": J, "lam": v})[0].real

    lh = brentq(g, prev[0], lam, xtol=1e-14)
    yh = newton_equilibrium(LMG_DIMER, prev[2], {"J": J, "lam": lh})
    return yh, lh, abs(LMG_DIMER.tangent_eigenvalues(yh, {"J": J, "lam": lh})[0].imag)


def check_invariants(br, tol=1e-6):
    """One multiplier equals 1 where the multipliers are trusted (``floquet_ok``: the trivial one
    within ``floquet_tol``, which the branch reports); stability changes only across a labelled
    row among trusted rows; each point inside its bracket."""
    ok = br.floquet_ok
    assert np.array_equal(ok, np.abs(br.eigenvalues[:, 0] - 1.0) <= br.options.floquet_tol)
    err = np.abs(br.eigenvalues[ok, 0] - 1.0)
    assert np.all(err < tol), np.max(err)
    labelled = {p.index for p in br.points}
    for i in np.flatnonzero((np.diff(br.n_unstable) != 0) & ok[:-1] & ok[1:]):
        assert i in labelled, f"stability changes between rows {i} and {i + 1} without a label"
    for p in br.points:  # no label from untrusted multipliers (a fold needs none)
        assert p.kind == "LPC" or (ok[p.index] and ok[min(p.index + 1, len(br) - 1)])
    for p in br.points:  # each point inside its bracket
        lo, hi = sorted(p.bracket)
        assert lo - 1e-12 <= p.param <= hi + 1e-12


@pytest.fixture(scope="module")
def j1_branch():
    yh, lh, om = broken_state_hopf(1.0)
    return continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om)), lh


# ------------------------------------------------------------------------------------------
# closed forms
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_stuart_landau_radius_period_multipliers(beta):
    br = continue_cycles(STUART_LANDAU, ([0.0, 0.0], {"mu": 0.0, "omega": 1.0, "beta": beta}, "mu", 1.0),
                         max_points=40, p_max=1.5)
    assert br.success and br.kind == "cycle" and len(br) > 10
    mu, T = br.param_values, br.columns["period"]
    # collocation with ncol = 4 is superconvergent: errors ~ 1e-12 on this smooth cycle
    assert np.max(np.abs(br.columns["amplitude"] - np.sqrt(mu))) < 1e-9
    assert np.max(np.abs(T - 2 * np.pi / (1.0 - beta * mu))) < 1e-9
    assert np.max(np.abs(br.eigenvalues[:, 1] - np.exp(-2 * mu * T))) < 1e-9
    assert np.all(br.stable) and br.points == ()
    # 1e-9 as above: with the period out of the arclength norm (AUTO's choice) the 40 points reach
    # mu = 1.5 (period 8 pi at beta = 0.5), where the trivial multiplier is off by about 1e-10 at
    # ntst = 40; the old norm stopped at mu = 0.95 (period 12), off by 4e-12
    check_invariants(br, 1e-9)
    df = br.to_frame()
    for col in ("period", "amplitude", "min_x", "max_y", "mean_x", "stable", "ev1_re"):
        assert col in df.columns
    np.testing.assert_allclose(df["max_x"], np.sqrt(mu), atol=1e-9)


def test_brusselator_cycle_born_at_hopf():
    a = 2.0
    b_h = 1.0 + a * a
    br = continue_cycles(BRUSSELATOR, ([a, b_h / a], {"a": a, "b": b_h}, "b", a), ds=1e-3, max_points=30)
    assert br.success
    # the first cycle lies O(ds^2) from the Hopf point; the period tends to 2 pi / a
    assert abs(br.param_values[0] - b_h) < 1e-5
    assert abs(br.columns["period"][0] - 2 * np.pi / a) < 1e-4
    assert br.param_values[-1] > b_h and np.all(br.stable)  # supercritical
    check_invariants(br)


def test_start_from_simulated_orbit():
    from bifurcate.integrate import integrate

    p = {"a": 1.0, "b": 2.5}
    tr = integrate(BRUSSELATOR, [1.0, 2.0], (0.0, 200.0), p, rtol=1e-11, atol=1e-13)
    # upward crossings of x = 1 (the equilibrium value) give the period
    tr2 = integrate(BRUSSELATOR, tr.y_final, (0.0, 30.0), p, t_eval=np.linspace(0, 30, 30001), rtol=1e-11,
                    atol=1e-13)
    x = tr2.y[:, 0] - 1.0
    up = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    t_up = tr2.t[up] - x[up] * (tr2.t[up + 1] - tr2.t[up]) / (x[up + 1] - x[up])
    T_sim = t_up[2] - t_up[1]
    t_samp = np.linspace(t_up[1], t_up[2], 200)
    y_samp = integrate(BRUSSELATOR, tr2.y[up[1]], (tr2.t[up[1]], t_up[2] + 1), p, t_eval=t_samp, rtol=1e-11,
                       atol=1e-13).y
    br = continue_cycles(BRUSSELATOR, (t_samp, y_samp), param="b", params=p, max_points=8)
    assert br.success and br.param_values[0] == 2.5
    assert abs(br.columns["period"][0] - T_sim) < 1e-6
    assert br.param_values[1] > 2.5  # direction +1 by default
    check_invariants(br)


# ------------------------------------------------------------------------------------------
# twins
# ------------------------------------------------------------------------------------------
def test_compiled_collocation_matches_numpy_twin(rng):
    p = LMG_DIMER.pack_params({"J": 0.7, "lam": 0.6})
    mesh = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(size=5)]))
    coll = Collocation(LMG_DIMER, p, 3, mesh, 3)
    U = LMG_DIMER.random_states(coll.N, seed=rng)
    X = coll.pack(U, 5.3, 0.6)
    got = coll.evaluate(X)
    want = colloc_eval_numpy(LMG_DIMER, U, 5.3, p, 3, coll.h, coll.L, coll.D, 1e-6)
    # d f / d p is a central difference with step 1e-6: rounding of the summation order is
    # amplified to ~1e-10 there
    for g, w, tol in zip(got, want, (1e-12, 1e-12, 1e-12, 1e-8)):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def test_lagrange_tables_are_exact_on_polynomials():
    for m in (2, 4, 5):
        z, L, D, Dn, wq, Dm = lagrange_tables(m)
        xi = np.linspace(0, 1, m + 1)
        c = np.arange(1.0, m + 2.0)
        poly = np.polynomial.Polynomial(c)
        np.testing.assert_allclose(L @ poly(xi), poly(z), atol=1e-12)
        np.testing.assert_allclose(D @ poly(xi), poly.deriv()(z), atol=1e-10)
        np.testing.assert_allclose(wq @ poly(xi), poly.integ()(1.0), atol=1e-12)


def test_floquet_multipliers_match_variational_integration(j1_branch):
    """Tangent-space multipliers of an LMG dimer cycle vs. the monodromy from solve_ivp."""
    br, _ = j1_branch
    i = 10
    lam, T = br.param_values[i], br.columns["period"][i]
    prm = LMG_DIMER.pack_params({"J": 1.0, "lam": lam})
    x0 = br.states[i]

    def rhs(t, z):
        y, V = z[:6], z[6:].reshape(6, 6)
        f, Jm = np.empty(6), np.empty((6, 6))
        LMG_DIMER.rhs(y, prm, f)
        LMG_DIMER.jac(y, prm, Jm)
        return np.concatenate([f, (Jm @ V).ravel()])

    sol = solve_ivp(rhs, (0, T), np.concatenate([x0, np.eye(6).ravel()]), rtol=1e-12, atol=1e-12, method="DOP853")
    M = sol.y[6:, -1].reshape(6, 6)
    Tb = LMG_DIMER.geometry.tangent_basis(x0)
    ref = np.linalg.eigvals(Tb.T @ M @ Tb)
    got = br.eigenvalues[i]
    for mu in got:
        assert np.min(np.abs(ref - mu)) < 1e-6 * max(1.0, abs(mu))
    assert br.eigenvalues.shape[1] == LMG_DIMER.dim  # radial multipliers excluded


# ------------------------------------------------------------------------------------------
# the LMG dimer
# ------------------------------------------------------------------------------------------
def test_lmg_j02_subcritical_hopf_turns_at_lpc():
    J = 0.2
    lam_h, om = normal_state_hopf(J)
    assert abs(lam_h - 0.5 * (1 + 2 * J * J)) < 0.01  # Eq. (13), lowest order in J
    br = continue_cycles(LMG_DIMER, (NORMAL_STATE, {"J": J, "lam": lam_h}, "lam", om))
    assert br.success, br.message
    assert br.param_values[0] < lam_h  # subcritical: cycles on the side where the normal state is stable
    assert not br.stable[0]
    lpc = br.special("LPC")
    assert len(lpc) == 1 and lpc[0].located and lpc[0].precision < 1e-8
    # regression value (converged in the mesh: ntst 40 and 80 agree to 1e-12)
    assert abs(lpc[0].param - 0.5370715385) < 1e-8
    assert abs(lpc[0].data["period"] - 6.2217040887) < 1e-7
    assert [p.kind for p in br.points] == ["LPC"]  # no flood of labels
    assert "Hopf" in br.message  # the far end is the Hopf point of the PT image of the normal state
    check_invariants(br)


def test_lmg_j0_vertical_family_is_detected():
    br = continue_cycles(LMG_DIMER, (NORMAL_STATE, {"J": 0.0, "lam": 0.5}, "lam", 1.0), max_points=60)
    assert br.status == -2 and "vertical family" in br.message
    assert br.points == ()
    assert np.allclose(br.param_values, 0.5, atol=1e-9)


def test_lmg_j1_period_doubling_then_homoclinic(j1_branch):
    br, lam_h = j1_branch
    assert abs(lam_h - 0.4851230149) < 1e-8
    assert br.stable[0]  # supercritical Hopf: stable cycles
    pd = br.special("PD")
    assert pd and pd[0].located and abs(pd[0].param - 0.6738699953) < 1e-8
    assert abs(pd[0].data["period"] - 4.9003967272) < 1e-7
    assert np.min(np.abs(pd[0].eigenvalues + 1.0)) < 1e-6
    # stable up to the first PD, unstable after it
    assert np.all(br.stable[: pd[0].index + 1]) and not br.stable[pd[0].index + 1]
    assert br.status == -3 and "homoclinic" in br.message
    assert br.columns["period"][-1] > 2.5 * br.columns["period"][0]
    # the branch reaches AUTO-07p's homoclinic limit (lam = 0.81711686, a Shilnikov saddle-focus
    # loop: the parameter oscillates around it) and names its saddle, the normal state (0,0,-1,0,0,1)
    assert abs(br.param_values[-1] - 0.81711686) < 1e-4
    hom = br.stats["homoclinic"]
    assert abs(hom["p_hom"] - 0.81711686) < 1e-4
    assert np.allclose(hom["saddle"], NORMAL_STATE, atol=1e-8)
    assert "saddle (" in br.message
    # near the homoclinic limit the collocation variational flow loses accuracy (|mu_max| ~ 1e3):
    # those rows are marked floquet_ok == False, carry no label, and the invariants hold on the rest
    assert np.all(br.floquet_ok[: pd[0].index + 2])
    check_invariants(br, 1e-4)


@pytest.mark.slow
def test_lmg_j1_pd_is_mesh_converged():
    yh, lh, om = broken_state_hopf(1.0)
    vals = []
    for ntst in (40, 80):
        br = continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om), ntst=ntst, max_points=40)
        vals.append(br.special("PD")[0].param)
    assert abs(vals[0] - vals[1]) < 1e-9


def test_switch_at_pd_gives_period_doubled_cycle(j1_branch):
    br, _ = j1_branch
    pd = br.special("PD")[0]
    br2 = switch_at_pd(LMG_DIMER, pd, param="lam", max_points=60)
    assert br2.success, br2.message
    assert abs(br2.columns["period"][0] - 2 * pd.data["period"]) < 1e-2
    assert abs(br2.param_values[0] - pd.param) < 1e-2
    # the doubled cycle is not the parent twice: u(t) and u(t + T/2) differ
    t, y = br2.orbit(len(br2) // 2, 400)
    assert np.max(np.abs(y[:200] - y[200:400])) > 1e-2
    # period-4 follows (first PD of the doubled branch), and the bubble closes on the parent's second PD
    assert br2.special("PD") and abs(br2.special("PD")[0].param - 0.7271256795) < 1e-7
    check_invariants(br2)


def test_pds_beside_the_late_folds_are_genuine(j1_branch):
    """Beyond period 8.5 the J = 1 branch snakes into a Shilnikov loop (saddle-focus, saddle
    quantity > 0) and has a PD within Delta T < 0.2 of each fold, as the theory of such loops has
    it. The first two are checked here without any oracle: the parent's real multiplier crosses
    -1 between the rows around each, the PD cycle carries a nonzero flip coefficient c, and
    switching there gives the period-doubled family (period 2T at the PD, not the parent twice).
    AUTO-07p lists the same two to 1e-9 once its step is small enough (test_auto_demos.py)."""
    br, _ = j1_branch
    late = [p for p in br.special("PD") if p.data["period"] > 8.0]
    assert len(late) >= 5
    folds = [q.data["period"] for q in br.special("LPC")]
    for pd in late[:2]:
        assert pd.located and np.all(br.floquet_ok[[pd.index, pd.index + 1]])
        assert min(abs(T - pd.data["period"]) for T in folds) < 0.2
        outside = [bool(np.any((np.abs(ev.imag) < 1e-9) & (ev.real < -1.0)))
                   for ev in br.eigenvalues[[pd.index, pd.index + 1]]]
        assert outside[0] != outside[1], br.eigenvalues[[pd.index, pd.index + 1]]
        assert np.min(np.abs(pd.eigenvalues + 1.0)) < 1e-6
        assert pd.data["c"] < -1.0 and pd.data["criticality"] == "supercritical"
        dbl = switch_at_pd(LMG_DIMER, pd, param="lam", max_points=8)
        assert dbl.status == 0, dbl.message
        assert abs(dbl.columns["period"][0] - 2 * pd.data["period"]) < 0.05
        assert abs(dbl.param_values[0] - pd.param) < 1e-3
        t, y = dbl.orbit(len(dbl) - 1, 400)
        assert np.max(np.abs(y[:200] - y[200:400])) > 0.1  # u(t) != u(t + T/2): a new cycle
    assert abs(late[0].param - 0.7913581964) < 1e-8 and abs(late[1].param - 0.8236524030) < 1e-8


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------
def test_bad_input_raises():
    with pytest.raises(ValueError, match="expected ntst"):
        CycleOptions(ntst=1)
    with pytest.raises(ValueError, match="expected direction"):
        CycleOptions(direction=0)
    with pytest.raises(TypeError, match="expected start"):
        continue_cycles(STUART_LANDAU, [0.0, 0.0], param="mu")
    with pytest.raises(ValueError, match="expected an eigenvalue near"):
        continue_cycles(STUART_LANDAU, ([0.0, 0.0], {"mu": 0.0}, "mu", 3.0))
    hb = BifurcationPoint("LP", 0.0, np.zeros(2), {"mu": 0.0}, 0, True, 0.0, (0.0, 0.0))
    with pytest.raises(ValueError, match="expected a Hopf point"):
        continue_cycles(STUART_LANDAU, hb, param="mu")
    with pytest.raises(ValueError, match="one period"):
        continue_cycles(STUART_LANDAU, (np.linspace(0, 1, 20), np.c_[np.linspace(0, 1, 20), np.zeros(20)]),
                        param="mu")


def test_hopf_point_object_starts_a_branch():
    hb = BifurcationPoint("HB", 0.0, np.zeros(2), {"mu": 0.0, "omega": 1.0, "beta": 0.0}, 0, True, 0.0,
                          (0.0, 0.0), data={"omega": 1.0})
    br = continue_cycles(STUART_LANDAU, hb, param="mu", max_points=5)
    assert br.success and len(br) == 5


def test_sampled_lpc_curve_of_normal_state_cycles():
    """LPC of the normal-state cycles in (J, lam): below the Hopf line, the gap closing like J^4."""
    from bifurcate.cycles import sample_codim2

    def start(J):
        lam, om = normal_state_hopf(J)
        return (NORMAL_STATE, {"J": J, "lam": lam}, "lam", om)

    out = sample_codim2(LMG_DIMER, start, [0.05, 0.1, 0.2], second="J", param="lam", kinds=("LPC",))
    assert list(out["runs"]["status"]) == [0, 0, 0]
    df = out["LPC"].to_frame()
    assert list(df["J"]) == [0.05, 0.1, 0.2]
    gap = np.array([normal_state_hopf(J)[0] for J in df["J"]]) - df["lam"].to_numpy()
    assert np.all(gap > 0)
    ratio = gap / df["J"].to_numpy() ** 4  # lam_H - lam_LPC ~ c J^4 at small J (measured c ~ 1.7-1.8)
    assert np.all((ratio > 1.3) & (ratio < 2.2)), ratio


def test_starts_from_the_hopf_point_of_continue_equilibria():
    from bifurcate import continue_equilibria

    eq = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="lam", params={"J": 0.2}, p_max=0.8)
    hb = eq.special("HB")[0]
    br = continue_cycles(LMG_DIMER, hb, param="lam")
    assert [p.kind for p in br.points] == ["LPC"] and abs(br.points[0].param - 0.5370715385) < 1e-8
