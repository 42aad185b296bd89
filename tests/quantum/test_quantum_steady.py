"""Steady states of Eq. (5): QuTiP agreement, analytic limits, symmetry twins, validation, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import qutip

from analysis.quantum import SteadyStateError, steady_state
from analysis.quantum.operators import dimer_operators, lmg_qutip_model, qutip_model, to_qobj

POINTS = [
    {"J": 1.5, "lam": 0.5},              # the paper's Fig. 4(c) point (PT / limit-cycle region)
    {"J": -0.8, "lam": 0.2, "g": 0.7},   # spin A ferromagnetic side, another g
    {"J": 0.4, "lam": 0.9, "gamma": 0.3},
    {"J": 0.0, "lam": 0.7},              # PT dimer, broken phase
    {"J": 0.0, "lam": 0.3},              # PT dimer, normal phase
]
TIGHT = {"rtol": 1e-12}


def _qutip_rho(S, p):
    H, c = qutip_model(S, p)
    return qutip.steadystate(H, c).full()


@pytest.mark.parametrize("S", [1, 1.5, 2])
@pytest.mark.parametrize("p", POINTS)
def test_agrees_with_qutip_steadystate(S, p):
    ref = _qutip_rho(S, p)
    for method in ("direct", "krylov"):
        r = steady_state(S, p, method, options=TIGHT)
        # 1e-10 is the criterion; both solvers reach it (direct ~1e-15, Krylov ~1e-12)
        assert np.abs(r.rho - ref).max() < 1e-10, method
        assert r.residual < 1e-12


def test_observables_and_reduced_states_match_qutip():
    S, p = 2, {"J": 1.5, "lam": 0.5}
    r = steady_state(S, p)
    rho = r.qobj()
    d = dimer_operators(S)
    q = lambda o: qutip.expect(to_qobj(o, S), rho)  # noqa: E731
    assert r.ZA == pytest.approx(q(d.zA) / S, abs=1e-12)
    assert r.ZB == pytest.approx(q(d.zB) / S, abs=1e-12)
    assert r.X2A == pytest.approx(q(d.xA @ d.xA) / S ** 2, abs=1e-12)
    assert r.Y2B == pytest.approx(q(d.yB @ d.yB).real / S ** 2, abs=1e-12)
    assert r.ZAZB == pytest.approx(q(d.zA @ d.zB) / S ** 2, abs=1e-12)
    assert abs(q(d.xA)) < 1e-14 and r.XA == 0.0  # Z2: <Sx> vanishes identically
    assert r.purity == pytest.approx((rho * rho).tr().real, abs=1e-12)
    np.testing.assert_allclose(r.rho_A, rho.ptrace(0).full(), atol=1e-13)
    np.testing.assert_allclose(r.rho_B, rho.ptrace(1).full(), atol=1e-13)
    assert r.purity_B == pytest.approx((rho.ptrace(1) ** 2).tr().real, abs=1e-12)
    row = r.to_frame()
    assert list(row[["S", "g", "gamma", "J", "lam"]].iloc[0]) == [2.0, 1.0, 0.5, 1.5, 0.5]
    assert row["status"].iloc[0] == "ok" and row["ZB"].iloc[0] == r.ZB


@pytest.mark.parametrize("S, method", [(0.5, "auto"), (1, "auto"), (2.5, "auto"), (6, "auto"), (4, "krylov")])
def test_J0_lam0_is_the_pure_state_A_down_B_up(S, method):
    # the Krylov path meets the dark state |down, up> of the no-jump Hamiltonian (clipped)
    r = steady_state(S, {"J": 0.0, "lam": 0.0}, method)
    assert r.ZA == pytest.approx(-1.0, abs=1e-10)
    assert r.ZB == pytest.approx(1.0, abs=1e-10)
    assert r.purity == pytest.approx(1.0, abs=1e-10)
    n = r.n
    idx = (n - 1) * n + 0  # |m_A = -S> (x) |m_B = +S>
    assert abs(r.rho[idx, idx] - 1.0) < 1e-10


@pytest.mark.parametrize("lam", [0.3, 0.7])
def test_g_drops_out_at_J0(lam):
    # at J = 0, H = -g M + H_PT and the steady state commutes with M: g cannot enter
    a = steady_state(3, {"J": 0.0, "lam": lam, "g": 0.2})
    b = steady_state(3, {"J": 0.0, "lam": lam, "g": 2.5})
    np.testing.assert_allclose(a.rho, b.rho, atol=1e-12)
    # ... whereas at J != 0 it does
    c = steady_state(3, {"J": 0.5, "lam": lam, "g": 0.2})
    d = steady_state(3, {"J": 0.5, "lam": lam, "g": 2.5})
    assert abs(c.ZB - d.ZB) > 1e-3


def test_J0_transition_sits_at_lam_equal_gamma():
    # S(1 - ZB) stays bounded below lam = gamma and grows ~S above it (ZB -> 0)
    lo = [steady_state(S, {"lam": 0.4}).ZB for S in (4, 8)]
    hi = [steady_state(S, {"lam": 0.6}).ZB for S in (4, 8)]
    assert lo[1] > lo[0] > 0.75
    assert hi[1] < hi[0] < 0.6


@pytest.mark.parametrize("lam", [0.1, 0.25, 0.4])
def test_normal_phase_deficit_closed_form(lam):
    """S (1 - ZB) -> lam^2 / (2 (gamma^2 - lam^2)) for J = 0, lam < gamma (the issue's closed form).

    Measured: the approach is ~1/S^2 (lam = 0.4: 0.5918, 0.8105, 0.8834, 0.8878 at S = 2, 4, 8, 12
    against 0.8889).
    """
    gamma = 0.5
    pred = lam ** 2 / (2 * (gamma ** 2 - lam ** 2))
    errs = [abs(S * (1 - steady_state(S, {"lam": lam, "gamma": gamma}).ZB) - pred) / pred for S in (4, 8, 12)]
    assert errs[2] < errs[1] < errs[0]
    assert errs[2] < 2e-3


@pytest.mark.slow
def test_normal_phase_deficit_closed_form_large_S():
    for lam in (0.1, 0.25, 0.4):
        pred = lam ** 2 / (2 * (0.25 - lam ** 2))
        r = steady_state(32, {"lam": lam})
        assert abs(32 * (1 - r.ZB) - pred) / pred < 2e-4


def test_lam0_factorises_into_single_spin_lmg_steady_states():
    S, p = 2, {"J": 1.5, "lam": 0.0, "g": 0.8}
    r = steady_state(S, p)
    H, c = lmg_qutip_model(S, p)  # Eq. (3): spin A alone
    rhoA = qutip.steadystate(H, c).full()
    np.testing.assert_allclose(r.rho_A, rhoA, atol=1e-10)
    np.testing.assert_allclose(r.rho, np.kron(r.rho_A, r.rho_B), atol=1e-10)


def test_U1_and_Z2_sectors_agree_at_J0():
    a = steady_state(4, {"lam": 0.6}, "direct", sector="U1")
    b = steady_state(4, {"lam": 0.6}, "krylov", sector="Z2", options=TIGHT)
    np.testing.assert_allclose(a.rho, b.rho, atol=1e-10)
    assert a.stats["n_unknowns"] < b.stats["n_unknowns"] / 3


def test_direct_and_krylov_agree_and_warm_start_helps():
    p = {"J": 1.2, "lam": 0.4}
    a = steady_state(3, p, "direct")
    b = steady_state(3, p, "krylov", options=TIGHT)
    np.testing.assert_allclose(a.rho, b.rho, atol=1e-10)
    c = steady_state(3, {"J": 1.25, "lam": 0.4}, "krylov", x0=b)
    cold = steady_state(3, {"J": 1.25, "lam": 0.4}, "krylov")
    assert c.stats["matvecs"] < cold.stats["matvecs"]
    assert abs(c.ZB - cold.ZB) < 1e-9


def test_result_evidence_and_stats():
    r = steady_state(6, {"J": 1.5, "lam": 0.5})
    assert r.method == "krylov" and r.sector == "Z2"
    assert r.residual < 1e-9 and r.min_eigenvalue > -1e-8 and r.hermiticity_error == 0.0
    assert r.stats["n_unknowns"] == (13 ** 4 + 1) // 2
    assert r.stats["matvecs"] > 0 and r.stats["time_total"] > 0
    assert "residual" in r.message


def test_failed_validation_raises_with_evidence():
    with pytest.raises(SteadyStateError, match="failed validation") as info:
        steady_state(2, {"J": 1.5, "lam": 0.5}, options={"max_residual": 1e-300})
    assert info.value.evidence["residual"] > 0


def test_bad_input():
    with pytest.raises(ValueError, match="expected S a positive integer or half-integer"):
        steady_state(1.25, {"J": 1.0})
    with pytest.raises(ValueError, match="expected S a positive integer or half-integer"):
        steady_state(-2)
    with pytest.raises(KeyError, match="'lambda'"):
        steady_state(2, {"lambda": 0.5})
    with pytest.raises(ValueError, match="expected gamma >= 0, got -0.5"):
        steady_state(2, {"gamma": -0.5})
    with pytest.raises(ValueError, match="expected gamma > 0"):
        steady_state(2, {"gamma": 0.0})
    with pytest.raises(ValueError, match="expected J a finite real number, got nan"):
        steady_state(2, {"J": float("nan")})
    with pytest.raises(ValueError, match="expected method one of"):
        steady_state(2, method="lu")
    with pytest.raises(ValueError, match="expected J = 0 for the U"):
        steady_state(2, {"J": 1.0}, sector="U1")
    with pytest.raises(KeyError, match="'tol'"):
        steady_state(2, options={"tol": 1e-3})
    with pytest.raises(ValueError, match="expected rtol a positive finite number"):
        steady_state(2, options={"rtol": -1.0})


@pytest.mark.slow
def test_krylov_reaches_S12_and_agrees_with_qutip_at_S4():
    p = {"J": 1.5, "lam": 0.5}
    r4 = steady_state(4, p, "krylov", options=TIGHT)
    np.testing.assert_allclose(r4.rho, _qutip_rho(4, p), atol=1e-10)
    r = steady_state(12, p)
    assert r.residual < 1e-9 and r.min_eigenvalue > -1e-8
    assert 0.0 < r.ZB < 1.0


def test_exceptional_point_of_the_no_jump_hamiltonian_is_handled():
    # S = 1/2, J = 1.5, lam = 0.5: H_eff has an exact exceptional point (eigenvectors parallel);
    # the eigenvector preconditioner is perturbed until its self-test passes
    a = steady_state(0.5, {"J": 1.5, "lam": 0.5}, "direct")
    b = steady_state(0.5, {"J": 1.5, "lam": 0.5}, "krylov", options=TIGHT)
    np.testing.assert_allclose(a.rho, b.rho, atol=1e-10)
    assert b.stats["preconditioner_error"] <= 1e-8


def test_U1_krylov_uses_schur_blocks_and_agrees_with_the_lu():
    a = steady_state(6, {"lam": 0.7}, "direct")
    b = steady_state(6, {"lam": 0.7}, "krylov", options=TIGHT)
    assert b.sector == "U1" and b.stats["cond_eigvecs"] == 1.0  # Schur path: no eigenvector matrix
    np.testing.assert_allclose(a.rho, b.rho, atol=1e-10)


def test_kronecker_preconditioner_is_the_exact_no_jump_inverse_for_uncoupled_spins():
    """At lam = 0 the no-jump H_eff is h (x) 1 + 1 (x) h': the Kronecker path must apply the same
    operator as the per-block eigenvector path (same clipped denominators), to rounding."""
    from analysis.quantum._blocks import BlockLiouvillian

    p = {"g": 1.0, "gamma": 0.5, "J": 1.5, "lam": 0.0}
    A = BlockLiouvillian.build(3, p, "Z2")
    B = BlockLiouvillian.build(3, p, "Z2")
    A.setup_preconditioner(kind="sylvester")
    B.setup_preconditioner(kind="kron")
    assert A._prec_info["kind"] == "eig" and B._prec_info["kind"] == "kron"
    assert B._prec_info["nonlocality"] < 1e-14
    x = np.random.default_rng(3).normal(size=A.n_unknowns)
    for Xa, Xb in zip(A.precondition_packed(x), B.precondition_packed(x)):
        assert np.linalg.norm(Xa - Xb) < 1e-9 * np.linalg.norm(Xa)
        assert np.abs(Xb - Xb.conj().T).max() == 0.0


def test_kronecker_preconditioner_gives_the_same_state_at_a_coupled_point():
    """lam != 0: the local part is only an approximation; the Krylov answer (true residual) must still
    be the LU's, and "auto" keeps the per-block inverse there but takes the Kronecker one at lam = 0."""
    p = {"J": 1.5, "lam": 0.45}
    kr = steady_state(4, p, method="krylov", options={"preconditioner": "kron"})
    lu = steady_state(4, p, method="direct")
    assert kr.stats["preconditioner"]["kind"] == "kron" and kr.status == "ok"
    assert np.abs(kr.rho - lu.rho).max() < 1e-8
    # "auto" now takes the Lindbladian Kronecker preconditioner (jumps included, exact at lam = 0) wherever it
    # applies; the choice between the per-block and the no-jump Kronecker inverse is tested without it below
    auto = steady_state(4, p, method="krylov")
    assert auto.stats["preconditioner"]["kind"] == "lindblad"
    assert np.abs(auto.rho - lu.rho).max() < 1e-8
    auto0 = steady_state(4, {"J": 1.5, "lam": 0.0}, method="krylov")
    assert auto0.stats["preconditioner"]["kind"] == "lindblad"
    lu0 = steady_state(4, {"J": 1.5, "lam": 0.0}, method="direct")
    assert np.abs(auto0.rho - lu0.rho).max() < 1e-8
    with pytest.raises(ValueError, match="expected preconditioner"):
        steady_state(2, p, options={"preconditioner": "ilu"})


def test_auto_preconditioner_takes_the_kronecker_path_only_where_it_is_far_cheaper():
    """Coupled spins: the per-block inverse up to S = 12 (cost ratio below 10), the Kronecker one from S = 13."""
    from analysis.quantum._blocks import BlockLiouvillian

    p = {"g": 1.0, "gamma": 0.5, "J": 1.5, "lam": 0.5}
    for S, kind in ((6, "eig"), (14, "kron")):
        B = BlockLiouvillian.build(S, p, "Z2")
        # with the jump operators known, "auto" takes the Lindbladian preconditioner (cheaper than twice the
        # per-block inverse per product at every S of the dimer, and far fewer products); without them the
        # rule below decides
        assert B.lindblad_plan()[0] is not None
        assert B.lindblad_cost(B.lindblad_plan()[0]) <= 2 * B.kron_cost(None)[0]
        B.c_full = None
        plan, why = B.kron_plan()
        assert plan is not None, why
        full, kr = B.kron_cost(plan)
        assert (full >= 10 * kr) == (kind == "kron"), (S, full / kr)
        if kind == "kron":  # building the per-block eigenvectors at S = 14 is what "auto" avoids
            B.setup_preconditioner(kind="auto")
            assert B._prec_info["kind"] == "kron" and 0.1 < B._prec_info["nonlocality"] < 0.2
        else:
            B.setup_preconditioner(kind="auto")
            assert B._prec_info["kind"] == "eig"


def test_idrs_overflow_is_a_breakdown_not_an_exception():
    """An overflow inside the IDR(s) recurrences (seen with a poor preconditioner) must come back as
    a breakdown status the caller can act on (retry), even with warnings turned into errors."""
    import warnings

    from bifurcate.quantum._krylov import idrs

    rng = np.random.default_rng(0)
    b = rng.normal(size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, info, n_mv, rel = idrs(lambda v: 1e300 * (1e300 * v), b, s=4, maxiter=40)
    assert info < 0 and n_mv >= 1
    # a well-posed system still converges to the true solution
    A = np.eye(50) * 3.0 + 0.1 * rng.normal(size=(50, 50))
    x, info, n_mv, rel = idrs(lambda v: A @ v, b, s=4, rtol=1e-12, maxiter=500)
    assert info == 0 and np.linalg.norm(A @ x - b) <= 1e-10 * np.linalg.norm(b)
