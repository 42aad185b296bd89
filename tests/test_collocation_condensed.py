"""The condensed collocation solve (condensation of parameters + periodic structured elimination)
against the assembled sparse LU solve: random bordered systems, and the Newton iterates of the
flagship's cycles at NTST 60 / NCOL 4."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bifurcate.cycles import continue_cycles
from bifurcate.cycles.collocation import Collocation, condense_blocks, solve_condensed
from bifurcate.models import LMG_DIMER, STUART_LANDAU


def assembled(B, Z, border):
    """Dense matrix of the bordered periodic collocation system (the reference)."""
    K, m, n = B.shape[:3]
    N = K * m
    nz = Z.shape[3]
    M = np.zeros((N * n + nz, N * n + nz))
    for j in range(K):
        for k in range(m):
            for i in range(n):
                row = (j * m + k) * n + i
                for l in range(m + 1):
                    node = (j * m + l) % N
                    M[row, node * n:(node + 1) * n] += B[j, k, i, l]
                M[row, N * n:] = Z[j, k, i]
    M[N * n:] = border
    return M


@pytest.mark.parametrize("K,m,n,nr", [(2, 1, 2, 1), (5, 2, 3, 3), (7, 4, 6, 1), (3, 3, 1, 2)])
def test_solve_condensed_matches_dense_solve(K, m, n, nr):
    rng = np.random.default_rng(K * 100 + m * 10 + n)
    B = rng.normal(size=(K, m, n, m + 1, n))
    Z = rng.normal(size=(K, m, n, 2))
    border = rng.normal(size=(2, K * m * n + 2))
    rc = rng.normal(size=(K, m, n, nr))
    rb = rng.normal(size=(2, nr))
    M = assembled(B, Z, border)
    ref = np.linalg.solve(M, np.vstack([rc.reshape(-1, nr), rb]))
    x = solve_condensed(B, Z, border, rc, rb)
    scale = np.linalg.cond(M) * np.max(np.abs(ref)) * 1e-15
    assert np.max(np.abs(x - ref)) < 100 * scale
    # vector right-hand sides give vectors
    xv = solve_condensed(B, Z, border, rc[..., 0], rb[:, 0])
    assert xv.shape == (K * m * n + 2,)
    np.testing.assert_allclose(xv, x[:, 0], atol=1e-12 * np.max(np.abs(x)))


def test_condensed_equations_are_equivalent():
    """The condensed rows A_j y_j + C_j y_{j+1} + E_j z = r_j hold for the true solution."""
    rng = np.random.default_rng(3)
    K, m, n = 4, 3, 2
    B = rng.normal(size=(K, m, n, m + 1, n))
    Z = rng.normal(size=(K, m, n, 2))
    border = rng.normal(size=(2, K * m * n + 2))
    rc = rng.normal(size=(K, m, n, 1))
    rb = rng.normal(size=(2, 1))
    x = solve_condensed(B, Z, border, rc, rb)[:, 0]
    c = condense_blocks(B, Z, rc, border, rb)
    y = x[:-2].reshape(K * m, n)[::m]
    z = x[-2:]
    for j in range(K):
        res = c["A"][j] @ y[j] + c["C"][j] @ y[(j + 1) % K] + c["E"][j] @ z - c["r"][j, :, 0]
        assert np.max(np.abs(res)) < 1e-10
    resb = np.einsum("bkn,kn->b", c["Bm"], y) + c["Bz"] @ z - c["rbz"][:, 0]
    assert np.max(np.abs(resb)) < 1e-10


def test_singular_and_bad_shapes_raise():
    K, m, n = 3, 2, 2
    B = np.zeros((K, m, n, m + 1, n))
    Z = np.zeros((K, m, n, 2))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        solve_condensed(B, Z, np.zeros((2, K * m * n + 2)), np.zeros((K, m, n)), np.zeros(2))
    with pytest.raises(ValueError, match="border rows"):
        solve_condensed(B, Z, np.zeros((1, K * m * n + 2)), np.zeros((K, m, n)), np.zeros(1))
    with pytest.raises(ValueError, match=r"\(K, m, n, m \+ 1, n\)"):
        condense_blocks(np.zeros((K, m, n, m, n)))
    with pytest.raises(ValueError, match="solver"):
        Collocation(STUART_LANDAU, STUART_LANDAU.pack_params(), 0, np.linspace(0, 1, 5), 2, solver="lu")


@pytest.fixture(scope="module")
def flagship_cycle():
    """A cycle of the J = 1 branch (lam ~ 0.57) on an adapted NTST 60 / NCOL 4 mesh."""
    from studies.benchmarks.bench_cycles import broken_hopf

    yh, lh, om = broken_hopf(1.0)
    br = continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om), ntst=60, ncol=4, max_points=12,
                         ds=0.05, ds_max=0.05, floquet=False, detect=False)
    assert br.success and len(br) == 12
    return br


def test_newton_iterates_agree_with_sparse_on_the_flagship(flagship_cycle):
    br = flagship_cycle
    ip = LMG_DIMER.param_index("lam")
    p = LMG_DIMER.pack_params({**br.params, "lam": br.param_values[-1]})
    colls = {s: Collocation(LMG_DIMER, p, ip, br.meshes[-1], 4, solver=s) for s in ("condensed", "sparse")}
    c = colls["sparse"]
    assert c.ntst == 60 and c.m == 4
    U = br.orbits[-1][1]
    rng = np.random.default_rng(7)
    X0 = c.pack(U + 1e-3 * rng.normal(size=U.shape), br.columns["period"][-1] * 1.002, br.param_values[-1] + 1e-3)
    tau = rng.normal(size=c.nx)
    tau /= c.norm(tau)
    phase_c = c.phase_row(U)
    for n_it in (1, 2, 3):  # every iterate, not only the limit
        out = {s: cc.newton(X0, phase_c, tau, X0, 0.0, 1e-14, n_it) for s, cc in colls.items()}
        dx = np.max(np.abs(out["condensed"][0] - out["sparse"][0]))
        assert dx < 1e-10, (n_it, dx)
    X, ok, it, _ = colls["condensed"].newton(X0, phase_c, tau, X0, 0.0, 1e-10, 10)
    assert ok and it <= 5
    Xs = colls["sparse"].newton(X0, phase_c, tau, X0, 0.0, 1e-10, 10)[0]
    assert np.max(np.abs(X - Xs)) < 1e-10
    # the tangents agree too, and both solve the tangent system
    t = {s: cc.tangent(X, phase_c, tau) for s, cc in colls.items()}
    assert np.max(np.abs(t["condensed"] - t["sparse"])) < 1e-10
    _, Jm, _ = c.system(X, phase_c)
    assert np.max(np.abs(Jm @ t["condensed"])) < 1e-9


def test_fixed_parameter_newton_agrees():
    """Natural (fixed-parameter) correction of a perturbed Stuart-Landau cycle: both solvers."""
    mu = 0.3
    mesh = np.linspace(0, 1, 21)
    p = STUART_LANDAU.pack_params({"mu": mu, "omega": 1.0, "beta": 0.0})
    res = {}
    for s in ("condensed", "sparse"):
        c = Collocation(STUART_LANDAU, p, 0, mesh, 3, solver=s)
        t = c.times()
        U = 1.05 * np.sqrt(mu) * np.stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], axis=1)
        X0 = c.pack(U, 2 * np.pi * 1.01, mu)
        X, ok, _, _ = c.newton(X0, c.phase_row(U), None, X0, 0.0, 1e-12, 20, fixed_param=True)
        assert ok
        res[s] = X
    assert np.max(np.abs(res["condensed"] - res["sparse"])) < 1e-12
    # period 2 pi up to the discretisation error O(h^(2 ncol)) = O(20^-6)
    assert abs(res["condensed"][-2] - 2 * np.pi) < 1e-6


def test_sparse_assembly_matches_reference_dense():
    """The sparse path of solve_bordered assembles the same matrix as the dense reference."""
    rng = np.random.default_rng(11)
    c = Collocation(STUART_LANDAU, STUART_LANDAU.pack_params(), 0, np.linspace(0, 1, 6), 2, solver="sparse")
    B = rng.normal(size=(c.ntst, c.m, c.n, c.m + 1, c.n))
    BT, BP = rng.normal(size=(2, c.ntst, c.m, c.n))
    rows = rng.normal(size=(2, c.nx))
    rc, rb = rng.normal(size=c.N * c.n), rng.normal(size=2)
    M = assembled(B, np.stack([BT, BP], -1), rows)
    np.testing.assert_allclose(c.solve_bordered(B, BT, BP, rows, rc, rb), np.linalg.solve(M, np.r_[rc, rb]),
                               rtol=1e-10, atol=1e-12)
    assert sp.issparse(c.system(c.pack(np.ones((c.N, c.n)), 1.0, 0.5), np.zeros(c.N * c.n))[1])


def test_kernels_match_their_plain_python_twins():
    """The compiled kernels and the same functions run as plain Python (``py_func``, what
    NUMBA_DISABLE_JIT=1 runs) give the same numbers."""
    from bifurcate.kernels import condensation as kc

    rng = np.random.default_rng(21)
    K, m, n, nz, nr, nb = 4, 3, 2, 2, 2, 2
    B = rng.normal(size=(K, m, n, m + 1, n))
    Z = rng.normal(size=(K, m, n, nz))
    rc = rng.normal(size=(K, m, n, nr))
    Bd = rng.normal(size=(nb, K * m * n + nz))
    rb = rng.normal(size=(nb, nr))

    def run(jit: bool):
        f = (lambda k: getattr(kc, k)) if jit else (lambda k: getattr(kc, k).py_func)
        Wk = np.empty((K, m * n, (m + 1) * n + nz + nr))
        A, C, E, r = np.empty((K, n, n)), np.empty((K, n, n)), np.empty((K, n, nz)), np.empty((K, n, nr))
        Bm, Bz, rbz = np.empty((nb, K, n)), np.empty((nb, nz)), np.empty((nb, nr))
        assert f("condense_intervals")(B, Z, rc, Bd, rb, Wk, A, C, E, r, Bm, Bz, rbz) == 0
        S, y, z = np.empty((K, n, 3 * n + nz + nr)), np.empty((K, n, nr)), np.empty((nz, nr))
        assert f("solve_periodic")(A, C, E, r, Bm, Bz, rbz, S, y, z) == 0
        x = np.empty((K * m, n, nr))
        f("back_substitute_intervals")(Wk, y, z, m, x)
        P0, P1 = np.empty((n, n)), np.empty((n, n))
        assert f("periodic_pencil")(A, C, P0, P1) == 0
        bases = np.linalg.qr(rng.normal(size=(K, n, 1)))[0]
        normals = np.linalg.qr(bases, mode="complete")[0][:, :, 1:]
        Ah, Ch = np.empty((K, 1, 1)), np.empty((K, 1, 1))
        assert f("tangent_pencil_blocks")(A, C, bases, normals, Ah, Ch) == 0
        return [x, z, P0, P1, np.abs(Ah), np.abs(Ch)]

    state = rng.bit_generator.state
    a = run(True)
    rng.bit_generator.state = state
    b = run(False)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("m", [1, 2, 4, 7])
def test_basis_at_is_the_lagrange_basis(m):
    """Kronecker delta at the nodes, and degree-m polynomials reproduced exactly."""
    from bifurcate.cycles.collocation import basis_at

    xi = np.linspace(0.0, 1.0, m + 1)
    np.testing.assert_allclose(basis_at(m, xi), np.eye(m + 1), atol=1e-14)
    s = np.random.default_rng(m).uniform(size=40)
    coef = np.random.default_rng(m + 1).normal(size=m + 1)
    np.testing.assert_allclose(basis_at(m, s) @ np.polyval(coef, xi), np.polyval(coef, s), atol=1e-12)
