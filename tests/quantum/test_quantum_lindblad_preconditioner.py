"""The Lindbladian Kronecker preconditioner: its pieces against dense numpy twins, its answers against the LU,
its product counts against the no-jump Kronecker preconditioner, and the cases where it must refuse."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from analysis.quantum import steady_state
from bifurcate.quantum._blocks import BlockLiouvillian, _quasi_triangular_sylvester


def _quasi_triangular(rng, n, shift):
    """A real Schur form with 2 x 2 blocks (complex eigenvalues), spectrum moved left by ``shift``."""
    T, _ = sla.schur(rng.normal(size=(n, n)) - shift * np.eye(n), output="real")
    assert np.count_nonzero(np.diag(T, -1)) > 0  # there are 2 x 2 blocks to split around
    return T


@pytest.mark.parametrize("m, p, nb", [(7, 5, 48), (61, 40, 8), (100, 130, 16), (33, 90, 5)])
def test_quasi_triangular_sylvester_matches_scipy(m, p, nb):
    rng = np.random.default_rng(m * p)
    A, B = _quasi_triangular(rng, m, 6.0), _quasi_triangular(rng, p, 6.0)
    C = rng.normal(size=(m, p))
    C0 = C.copy()
    Y = _quasi_triangular_sylvester(A, B, C, nb)
    ref = sla.solve_sylvester(A, B.T, C)
    assert np.array_equal(C, C0)
    assert np.abs(Y - ref).max() < 1e-11 * np.abs(ref).max()
    # the compiled base-case kernel against its LAPACK twin (dtrsyl) on the same blocking
    twin = _quasi_triangular_sylvester(A, B, C, nb, kernel="lapack")
    assert np.abs(Y - twin).max() < 1e-12 * np.abs(twin).max()
    assert np.abs(A @ Y + Y @ B.T - C).max() < 1e-11 * np.abs(C).max()


@pytest.mark.parametrize("S", [1.5, 3])
def test_hermitian_basis_map_is_orthogonal_and_the_factor_lindbladians_are_the_uncoupled_liouvillian(S):
    """``M`` (packed -> Z coefficients) is orthogonal, and at lam = 0 ``Z -> L1 Z + Z L2^T`` on every group is
    exactly the blocked Liouvillian (the matrix-free one, itself checked against QuTiP elsewhere)."""
    B = BlockLiouvillian.build(S, {"J": 1.5, "lam": 0.0}, "Z2")
    plan, why = B.lindblad_plan()
    assert plan is not None, why
    M = plan["M"]
    N = B.n_unknowns
    assert M.shape == (N, N) and np.diff(M.indptr).max() <= 4
    assert sp.linalg.norm(M @ M.T - sp.identity(N)) < 1e-13 * np.sqrt(N)
    y = np.random.default_rng(1).normal(size=N)
    z = M @ y
    out = np.empty_like(z)
    for L1, L2, a, b in plan["groups"]:
        Z = z[a:b].reshape(L1.shape[0], L2.shape[0])
        out[a:b] = (L1 @ Z + Z @ L2.T).ravel()
    ref = B.pack(B.apply(B.unpack(y)))
    assert np.linalg.norm(M.T @ out - ref) < 1e-13 * np.linalg.norm(ref)
    # the two spins' Lindbladians each have one stationary state (one zero eigenvalue over its groups)
    zeros = [sum(int(np.sum(np.abs(np.linalg.eigvals(g[i])) < 1e-10)) for g in plan["groups"]) for i in (0, 1)]
    assert zeros == [1, 1]


@pytest.mark.parametrize("lam", [0.45, 0.0])
def test_preconditioner_is_the_inverse_of_the_uncoupled_lindbladian_with_the_stationary_states_regularised(lam):
    """Dense twin: ``P = M^T K^{-1} M`` per group. Coupled spins: ``K = kron(L1', 1) + kron(1, L2')``,
    ``L' = L - delta q q^T`` (``q`` the factor's normalised stationary state in the Hermitian basis, ``delta``
    the recorded shift). Uncoupled spins: ``K = kron(L1, 1) + kron(1, L2) + sigma v v^T``, ``v = q1 (x) q2``,
    ``sigma = 1 / (d Tr rho_A^2 Tr rho_B^2)`` (what the trace term gives the product state)."""
    B = BlockLiouvillian.build(2, {"J": 1.5, "lam": lam}, "Z2")
    plan, _ = B.lindblad_plan()
    B.setup_preconditioner(kind="lindblad")
    info = B._prec_info
    assert info["kind"] == "lindblad"
    if lam:
        assert 0.1 < info["nonlocality"] < 0.2 and len(info["shifts"]) == 2 and info["sigma"] == []
    else:
        assert info["nonlocality"] < 1e-14 and info["shifts"] == [] and len(info["sigma"]) == 1
    shifts = iter(info["shifts"])
    y = np.random.default_rng(2).normal(size=B.n_unknowns)
    z = plan["M"] @ y
    out = np.empty_like(z)
    n_singular = 0
    for L1, L2, a, b in plan["groups"]:
        m1, m2 = L1.shape[0], L2.shape[0]
        mats, qs = [], []
        for L in (L1, L2):
            w, V = np.linalg.eig(L)
            i0 = np.flatnonzero(np.abs(w) < 1e-10)
            if len(i0):
                q = np.real(V[:, i0[0]]) / np.linalg.norm(V[:, i0[0]])
                qs.append(q)
                if lam:
                    L = L - next(shifts) * np.outer(q, q)
            mats.append(L)
        K = np.kron(mats[0], np.eye(m2)) + np.kron(np.eye(m1), mats[1])
        if len(qs) == 2:
            n_singular += 1
            if not lam:
                rho_a, rho_b = (q / np.sum(q[np.flatnonzero(plan["identity"][i][plan["rows"][a][i]])])
                                for i, q in enumerate(qs))
                sigma = 1.0 / (B.dim * (rho_a @ rho_a) * (rho_b @ rho_b))
                assert sigma == pytest.approx(info["sigma"][0], rel=1e-10)
                v = np.kron(qs[0], qs[1])
                K += sigma * np.outer(v, v)
        out[a:b] = np.linalg.solve(K, z[a:b])
    assert n_singular == 1
    ref = plan["M"].T @ out
    got = B.pack(B.precondition_packed(y))
    assert np.linalg.norm(got - ref) < 1e-11 * np.linalg.norm(ref)
    assert all(np.abs(X - X.conj().T).max() < 1e-14 for X in B.precondition_packed(y))


@pytest.mark.parametrize("p", [{"J": 1.5, "lam": 0.45}, {"J": 1.5, "lam": 0.5}, {"J": 0.5, "lam": 0.3},
                               {"J": -0.8, "lam": 0.2, "g": 0.7}])
def test_lindblad_preconditioned_krylov_gives_the_lu_state(p):
    lu = steady_state(3.5, p, method="direct")
    kr = steady_state(3.5, p, method="krylov", options={"preconditioner": "lindblad"})
    assert kr.stats["preconditioner"]["kind"] == "lindblad" and kr.status == "ok"
    assert np.abs(kr.rho - lu.rho).max() < 1e-9
    assert kr.stats["error_estimate"] < 1e-8


def test_fewer_products_than_the_no_jump_kronecker_preconditioner_and_two_workers_are_bit_identical():
    """Measured at (1.5, 0.45): S = 6, 76 products against 195; S = 12, 124 against 549. The two groups of
    Sylvester solves run on two threads with the same arithmetic, so the iterates are identical."""
    p = {"J": 1.5, "lam": 0.45}
    opts = {"gap_check": False, "n_threads": 1}
    kr = steady_state(6, p, method="krylov", options={**opts, "preconditioner": "kron"})
    lb1 = steady_state(6, p, method="krylov", options={**opts, "preconditioner": "lindblad", "workers": 1})
    lb2 = steady_state(6, p, method="krylov", options={**opts, "preconditioner": "lindblad", "workers": 2})
    assert lb1.stats["matvecs"] < 0.5 * kr.stats["matvecs"]
    assert lb2.stats["preconditioner"]["workers"] == 2
    assert lb1.stats["matvecs"] == lb2.stats["matvecs"]
    assert all(np.array_equal(a, b) for a, b in zip(lb1.blocks, lb2.blocks))
    assert np.abs(lb1.rho - kr.rho).max() < 1e-9
    # uncoupled spins: the preconditioner is L^-1 but for the stationary pair (3 products measured)
    lb0 = steady_state(6, {"J": 1.5, "lam": 0.0}, method="krylov", options={**opts, "preconditioner": "lindblad"})
    assert lb0.stats["matvecs"] <= 5 and lb0.status == "ok"


def test_sylvester_kernel_runs_without_the_gil_and_gives_zero_on_an_exactly_singular_pair():
    """The two Sylvester groups run on two threads: the compiled kernel must not hold the GIL (a Python
    counter keeps running during it; SciPy's dtrsyl holds it). The singular pair (T[0, 0] = 0 on both sides,
    the stationary states) gets 0, which the preconditioner then overwrites."""
    import threading
    import time

    from bifurcate.quantum._sylvester import _bartels_stewart

    rng = np.random.default_rng(5)
    A, B = _quasi_triangular(rng, 260, 6.0), _quasi_triangular(rng, 240, 6.0)
    C = rng.normal(size=(260, 240))
    Y = np.empty_like(C)
    _bartels_stewart(A, B, C, Y, 0.0)  # compile
    count, stop = [0], [False]

    def spin():
        while not stop[0]:
            count[0] += 1

    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.05)
    c0 = count[0]
    for _ in range(3):
        _bartels_stewart(A, B, C, Y, 0.0)
    c1 = count[0]
    stop[0] = True
    th.join()
    assert c1 - c0 > 1000
    assert np.abs(A @ Y + Y @ B.T - C).max() < 1e-11 * np.abs(C).max()
    A0, B0 = A[1:, 1:].copy(), B[2:, 2:].copy()
    A0 = np.pad(A0, ((1, 0), (1, 0)))
    B0 = np.pad(B0, ((1, 0), (1, 0)))
    A0[0, 1:] = rng.normal(size=A0.shape[0] - 1)
    B0[0, 1:] = rng.normal(size=B0.shape[0] - 1)
    Y0 = _quasi_triangular_sylvester(A0, B0, C[:, :B0.shape[0]], 32)
    assert Y0[0, 0] == 0.0 and np.all(np.isfinite(Y0))
    R = A0 @ Y0 + Y0 @ B0.T - C[:, :B0.shape[0]]
    R[0, 0] = 0.0  # only the singular equation is left unsolved
    assert np.abs(R).max() < 1e-11 * np.abs(C).max()


def test_lindblad_plan_refuses_what_it_cannot_represent():
    # J = 0, U(1) blocks: the one-spin closed sets (fixed m - m') pair up as k with -k, not as products
    B = BlockLiouvillian.build(2, {"J": 0.0, "lam": 0.3}, "U1")
    plan, why = B.lindblad_plan()
    assert plan is None and "union of products" in why
    with pytest.raises(ValueError, match="does not apply"):
        B.setup_preconditioner(kind="lindblad")
    # a collective jump acting on both spins
    from bifurcate.quantum.lmg_dimer import dimer_operators, hamiltonian

    d = dimer_operators(1)
    label = np.zeros(9, dtype=int)
    C = BlockLiouvillian.from_operators(hamiltonian(1, {"J": 1.0}), [d.minusA + d.minusB], label, "none",
                                        dims=(3, 3))
    plan, why = C.lindblad_plan()
    assert plan is None and "both factors" in why
    # no product structure at all
    D = BlockLiouvillian.from_operators(hamiltonian(1, {"J": 1.0}), [d.minusA], label, "none")
    assert D.lindblad_plan() == (None, "no two-factor product basis")
    with pytest.raises(ValueError, match="expected preconditioner"):
        steady_state(2, {"J": 1.5}, options={"preconditioner": "lindbladian"})
    with pytest.raises(ValueError, match="expected workers"):
        steady_state(2, {"J": 1.5}, options={"workers": 0})


def test_kronecker_overflow_at_S6_is_retried_under_warnings_as_errors():
    """The reported failure: the no-jump Kronecker path at S = 6, (1.5, 0.5) overflowed inside IDR(s); with
    warnings as errors that must still be a breakdown the solver retries, ending in a certified state."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = steady_state(6, {"J": 1.5, "lam": 0.5}, method="krylov", options={"preconditioner": "kron"})
    assert r.status == "ok" and r.stats["error_estimate"] < 1e-6
    ref = steady_state(6, {"J": 1.5, "lam": 0.5}, method="krylov", options={"preconditioner": "lindblad"})
    assert np.abs(r.rho - ref.rho).max() < 1e-8


@pytest.mark.parametrize("lam", [0.45, 0.0])
def test_unprecondition_inverts_the_preconditioner(lam):
    """The warm start of the right-preconditioned solve is ``P^{-1} x0``: exact for this preconditioner."""
    B = BlockLiouvillian.build(2.5, {"J": 1.5, "lam": lam}, "Z2")
    B.setup_preconditioner(kind="lindblad")
    y = np.random.default_rng(4).normal(size=B.n_unknowns)
    back = B.unprecondition(B.precondition_packed(y))
    assert np.linalg.norm(back - y) < 1e-12 * np.linalg.norm(y)


def test_issue16_steady_benchmark_reports_wall_cpu_products_residual_error_and_status(capsys):
    import json

    from studies.benchmarks.bench_issue16 import main

    out = main(["steady", "4", "--J", "1.5", "--lam", "0.45", "--workers", "2"])
    cap = capsys.readouterr()
    rec = json.loads(cap.out.strip().splitlines()[-1])
    for key in ("wall_time_s", "cpu_time_s", "matvecs", "gap_matvecs", "products_total", "residual_ours",
                "error_estimate", "status"):
        assert key in rec and key in out
    assert rec["status"] == "ok" and rec["error_estimate"] < 1e-6 and rec["residual_ours"] < 1e-9
    assert rec["products_total"] == rec["matvecs"] + rec["gap_matvecs"] > 0
    assert rec["preconditioner"]["kind"] == "lindblad" and rec["workers"] == 2
    assert "status ok" in cap.err and "certified error" in cap.err and "products" in cap.err


def test_auto_leaves_the_lindbladian_inverse_where_the_coupling_outweighs_the_recycling():
    """``coupling`` is lam / (2 gamma) for the dimer (the Frobenius norms of the neglected superoperators), and
    "auto" takes the exact no-jump inverse beyond LINDBLAD_MAX_COUPLING: at lam = 1, S = 6 it needs fewer products
    than the Lindbladian inverse (S = 8, (-1.1, 1): 267 against 2100 measured), with the same state; at lam = 0.45
    "auto" keeps the Lindbladian inverse, the better one there."""
    from bifurcate.quantum._blocks import LINDBLAD_MAX_COUPLING

    opts = {"gap_check": False, "n_threads": 1}
    strong = {"J": -1.1, "lam": 1.0}
    au = steady_state(6, strong, method="krylov", options=opts)
    lb = steady_state(6, strong, method="krylov", options={**opts, "preconditioner": "lindblad"})
    assert lb.stats["preconditioner"]["kind"] == "lindblad"
    info = au.stats["preconditioner"]
    assert info["kind"] == "eig" and info["coupling"] == pytest.approx(1.0) and info["coupling"] > LINDBLAD_MAX_COUPLING
    assert "coupling" in info["why"]
    assert au.stats["matvecs"] < 0.5 * lb.stats["matvecs"]
    assert np.abs(au.rho - lb.rho).max() < 1e-9
    weak = steady_state(6, {"J": 1.5, "lam": 0.45}, method="krylov", options=opts)
    assert weak.stats["preconditioner"]["kind"] == "lindblad"
    assert weak.stats["preconditioner"]["coupling"] == pytest.approx(0.45)
    # the same lam with stronger jumps is weak coupling (lam / (2 gamma) = 1/3): the Lindbladian inverse again
    damped = steady_state(6, {"J": 1.5, "lam": 1.0, "gamma": 1.5}, method="krylov", options=opts)
    assert damped.stats["preconditioner"]["kind"] == "lindblad"
    assert damped.stats["preconditioner"]["coupling"] == pytest.approx(1.0 / 3.0)


@pytest.mark.parametrize("S", [13, 14])
def test_auto_keeps_the_no_jump_inverse_at_strong_coupling_where_kron_is_cheaper_per_product(S):
    """From S = 13 on the "kron" path is 10x cheaper per product than the eigenvector path, and "auto" used to fall
    back to the Lindbladian inverse there at strong coupling: at S = 14, (-1.5, 1.0) not finished after 420 s,
    against 61 s with the no-jump inverse. Both neglect the coupling; "auto" now keeps the no-jump inverse.
    At weak coupling the same S keeps the Lindbladian inverse."""
    from bifurcate.quantum._blocks import LINDBLAD_MAX_COUPLING, BlockLiouvillian

    B = BlockLiouvillian.build(S, {"J": -1.5, "lam": 1.0}, "Z2")
    assert B._kron_chosen(B.kron_plan()[0])  # the case the old rule sent to "lindblad"
    B.setup_preconditioner(kind="auto")
    assert B._prec_info["kind"] == "eig" and B._prec_info["coupling"] > LINDBLAD_MAX_COUPLING
    W = BlockLiouvillian.build(S, {"J": 1.5, "lam": 0.45}, "Z2")
    W.setup_preconditioner(kind="auto")
    assert W._prec_info["kind"] == "lindblad"
