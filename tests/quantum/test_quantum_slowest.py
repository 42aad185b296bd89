"""The slowest Liouvillian eigenvalues per sector (issue 16): the shifted uncoupled resolvent against dense
twins, the Hermitian-basis sectors against the complex ones, block Davidson against dense spectra, and statuses
that turn when it does not converge or misses a slower mode."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from bifurcate.quantum._sylvester import quasi_triangular_sylvester
from bifurcate.quantum.spectrum import (HermitianSectors, _real_coefficients, _ritz_residuals, _ritz_vector, _RowPasses,
                                        _sectors_with_index, block_davidson, slowest_spectrum)


def _dimer():
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM

    return LMG_DIMER_SYSTEM


def _quasi_triangular(rng, n, shift):
    T, _ = sla.schur(rng.normal(size=(n, n)) - shift * np.eye(n), output="real")
    assert np.count_nonzero(np.diag(T, -1)) > 0
    return T


@pytest.mark.parametrize("m, p, nb", [(7, 5, 48), (31, 20, 8), (26, 40, 9)])
@pytest.mark.parametrize("shift", [0.3 + 1.2j, -0.5, 0.0])
def test_shifted_quasi_triangular_sylvester_matches_the_dense_kronecker_solve(m, p, nb, shift):
    rng = np.random.default_rng(m + p)
    A, B = _quasi_triangular(rng, m, 6.0), _quasi_triangular(rng, p, 6.0)
    C = rng.normal(size=(m, p)) + 1j * rng.normal(size=(m, p))
    C0 = C.copy()
    Y = quasi_triangular_sylvester(A, B, C, nb, shift=shift)
    assert np.array_equal(C, C0)
    # (A - shift) Y + Y B^T = C is (kron(A - shift, 1) + kron(1, B)) vec_rowmajor(Y) = vec_rowmajor(C)
    K = np.kron(A - shift * np.eye(m), np.eye(p)) + np.kron(np.eye(m), B)
    ref = np.linalg.solve(K, C.ravel()).reshape(m, p)
    assert np.abs(Y - ref).max() < 1e-11 * np.abs(ref).max()
    if shift == 0.0:  # a complex right-hand side at shift 0: the real solver on both parts
        twin = quasi_triangular_sylvester(A, B, C.real, nb) + 1j * quasi_triangular_sylvester(A, B, C.imag, nb)
        assert np.abs(Y - twin).max() < 1e-12 * np.abs(twin).max()
    with pytest.raises(ValueError, match="kernel"):
        quasi_triangular_sylvester(A, B, C, nb, kernel="lapack", shift=0.1)


@pytest.mark.parametrize("params", [{"J": 1.5, "lam": 0.45}, {"J": 0.5, "lam": 0.3}, {"J": 1.5, "lam": 0.0}])
def test_hermitian_sectors_hold_the_complex_sectors_spectra_and_the_trace(params):
    from bifurcate.quantum import liouvillian_system

    sl = liouvillian_system(_dimer(), 2, params)
    secs, _ = _sectors_with_index(sl)
    hs = HermitianSectors(sl)
    assert sorted(hs.keys) == sorted(secs)
    for key in hs.keys:
        n = hs.size[key]
        W = hs.W[key]
        assert abs(W.conj().T @ W - sp.identity(n)).max() < 1e-14
        Lz = hs.matrix[key]
        assert not np.iscomplexobj(Lz.data)
        # the same operator: W Lz = L W
        assert abs(W @ Lz - secs[key] @ W).max() < 1e-12 * abs(Lz).max()
        a = np.linalg.eigvals(Lz.toarray())
        b = np.linalg.eigvals(secs[key].toarray())
        assert max(np.min(np.abs(b - z)) for z in a) < 1e-9 and max(np.min(np.abs(a - z)) for z in b) < 1e-9
        if key == tuple(0 for _ in key):
            t = hs.trace[key]
            assert np.abs(Lz.T @ t).max() < 1e-12 and abs(t @ t - sl.d) < 1e-12  # tr(1) = d
        else:
            assert hs.trace[key] is None


@pytest.mark.parametrize("shift", [0.1 + 1.3j, 0.5, -0.2 - 2.1j])
def test_resolvent_is_exact_for_the_uncoupled_dimer_and_its_inverse_is_the_uncoupled_liouvillian(shift):
    from bifurcate.quantum import liouvillian_system

    rng = np.random.default_rng(7)
    sl = liouvillian_system(_dimer(), 2.5, {"J": 1.5, "lam": 0.0})
    hs = HermitianSectors(sl, workers=2)
    assert hs.nonlocality < 1e-14
    for key in hs.keys:
        Lz = hs.matrix[key]
        z = rng.normal(size=hs.size[key])
        x = hs.solve(key, z, shift)
        assert np.linalg.norm(Lz @ x - shift * x - z) < 1e-11 * np.linalg.norm(z)
    # coupled: not the inverse of L, but of L minus the coupling (a different operator, still exact on it)
    sl = liouvillian_system(_dimer(), 2, {"J": 1.5, "lam": 0.45})
    hs = HermitianSectors(sl)
    key = hs.keys[0]
    z = rng.normal(size=hs.size[key])
    x = hs.solve(key, z, shift)
    rel = np.linalg.norm(hs.matrix[key] @ x - shift * x - z) / np.linalg.norm(z)
    assert 1e-3 < rel < 1.0
    assert hs.nonlocality > 0.01


def test_hermitian_sectors_refuse_what_they_cannot_represent():
    from bifurcate.quantum import liouvillian_system

    sl = liouvillian_system(_dimer(), 1, {"J": 0.0, "lam": 0.3})  # U(1) sectors of non-zero charge
    with pytest.raises(ValueError, match="X -> X"):
        HermitianSectors(sl)
    # even the charge-0 sector: a product E (x) F of one-mode Hermitian elements of charges +-c1, +-c2 mixes the
    # total charges c1 + c2 and c1 - c2
    with pytest.raises(ValueError, match="X -> X"):
        HermitianSectors(sl, sectors=[(0,)])
    with pytest.raises(ValueError, match="workers"):
        HermitianSectors(sl, workers=0)
    with pytest.raises(ValueError, match="sector keys"):
        HermitianSectors(liouvillian_system(_dimer(), 1, {"J": 1.5, "lam": 0.3}), sectors=[(2,)])


def test_block_davidson_finds_the_rightmost_eigenvalues_of_a_random_nonnormal_matrix():
    """A problem nobody here tuned for: A = D + E with a known diagonal D (real and complex-pair 2 x 2 blocks)
    and a small random coupling E; preconditioner the exact resolvent of D. Against numpy's dense spectrum."""
    rng = np.random.default_rng(11)
    n = 400
    re = -np.sort(rng.uniform(0.1, 5.0, n // 2))
    im = rng.uniform(0.0, 3.0, n // 2) * (rng.uniform(size=n // 2) < 0.5)
    blocks = [np.array([[a, b], [-b, a]]) for a, b in zip(re, im)]
    D = sla.block_diag(*blocks)
    A = D + 0.05 * rng.normal(size=(n, n)) / np.sqrt(n)

    def solve(r, s):
        return np.linalg.solve(D - s * np.eye(n), r.astype(complex))

    eD = np.linalg.eigvals(D)
    eD = eD[eD.imag >= 0]
    seeds = eD[np.argsort(-eD.real)][:9] + 1e-2  # the start: inverse iteration at D's slowest modes
    mu, res, info = block_davidson(sp.csr_matrix(A), solve, n, 6, res_tol=1e-10, init_shift=seeds, block=3)
    ev = np.linalg.eigvals(A)
    ref = ev[np.argsort(-ev.real)][:6]
    assert info["converged"] and np.all(res <= 1e-10)
    np.testing.assert_allclose(np.sort(mu.real), np.sort(ref.real), atol=1e-9)
    assert max(np.min(np.abs(ref - z)) for z in mu) < 1e-8
    # the basis stayed orthonormal to working precision (the measured loss); some columns took the second pass
    assert info["orthogonality"] < 1e-13
    gs = info["gram_schmidt"]
    assert 0 < gs["second_pass"] <= gs["columns"]
    # a deflated left null vector: the eigenvalue it belongs to is left out
    A2 = A.copy()
    t = rng.normal(size=n)
    t /= np.linalg.norm(t)
    A2 = A2 - np.outer(A2 @ t, t)  # t^T-orthogonal part kept ... make t a right null vector of A2
    B = A2.T  # so t is a left null vector of B
    evB = np.linalg.eigvals(B)
    evB = np.delete(evB, np.argmin(np.abs(evB)))
    refB = evB[np.argsort(-evB.real)][:4]
    mu, res, info = block_davidson(sp.csr_matrix(B), lambda r, s: np.linalg.solve(D.T - s * np.eye(n), r.astype(complex)),
                                   n, 4, deflate=t, res_tol=1e-10)
    assert info["converged"] and max(np.min(np.abs(refB - z)) for z in mu) < 1e-8


@pytest.mark.parametrize("S", [2, 3])
def test_slowest_spectrum_of_the_uncoupled_dimer_is_the_dense_one(S):
    r = slowest_spectrum(_dimer(), S, {"J": 1.5, "lam": 0.0}, k=6)
    assert r.status == "ok" and r.success
    assert set(r.certificate.values()) == {"dense"}
    for key, vals in r.sectors.items():
        ref = r.stats["sectors"][key]["dense_reference"]
        np.testing.assert_allclose(vals[1:].real if key == (0, 0) else vals.real, ref.real, atol=1e-8)
    assert r.sectors[(0, 0)][0] == 0 and r.residuals[(0, 0)][0] == 0
    frame = r.to_frame()
    assert len(frame) == sum(len(v) for v in r.sectors.values()) and set(frame["certificate"]) == {"dense"}


@pytest.mark.parametrize("S, params", [(2, {"J": 1.5, "lam": 0.45}), (2, {"J": 0.5, "lam": 0.3}),
                                       pytest.param(3, {"J": 0.5, "lam": 0.3}, marks=pytest.mark.slow),
                                       pytest.param(3, {"J": 1.5, "lam": 0.45}, marks=pytest.mark.slow)])
def test_coupled_dimer_eigenvalues_are_true_and_the_certificate_says_whether_they_are_the_slowest(S, params):
    """At the coupled points the iteration is local: its eigenvalues are always eigenvalues (dense check), and the
    certificate is 'dense' exactly when they are the k of largest real part, 'missed' otherwise."""
    from bifurcate.quantum import liouvillian_system

    k = 6
    r = slowest_spectrum(_dimer(), S, params, k=k)
    secs, _ = _sectors_with_index(liouvillian_system(_dimer(), S, params))
    for key, vals in r.sectors.items():
        ev = np.linalg.eigvals(secs[key].toarray())
        assert all(np.min(np.abs(ev - z)) < 1e-7 for z in vals)
        assert all(s == "ok" for s in r.pair_status[key])
        found = vals[1:] if key == (0,) else vals
        if key == (0,):
            ev = np.delete(ev, np.argmin(np.abs(ev)))
        kth = np.sort(ev.real)[::-1][k - 1]
        # a missed mode: a dense eigenvalue right of the k-th found real part that is not among those found
        missed = any(z.real > found[-1].real + 1e-6 and np.min(np.abs(found - z)) > 1e-6 for z in ev)
        assert r.certificate[key] == ("missed" if missed else "dense"), (key, found, kth)
    assert r.status == ("missed" if "missed" in r.certificate.values() else "ok")


def test_not_converged_is_reported_and_bad_arguments_are_named():
    r = slowest_spectrum(_dimer(), 3, {"J": 1.5, "lam": 0.45}, k=4, max_products=40)
    assert r.status == "not-converged" and not r.success
    assert any(s == "not-converged" for v in r.pair_status.values() for s in v)
    for kw, match in (({"k": 0}, "k"), ({"res_tol": 2.0}, "res_tol"), ({"max_basis": 5}, "max_basis"),
                      ({"block": 0}, "block"), ({"seeds": 0}, "seeds"), ({"processes": 0}, "processes"),
                      ({"processes": 1.5}, "processes")):
        with pytest.raises(ValueError, match=match):
            slowest_spectrum(_dimer(), 1, {"J": 1.5, "lam": 0.45}, **kw)
    # J = 0: a U(1) symmetry, whose sectors X -> X^+ does not map into themselves: refused with what to use instead
    with pytest.raises(ValueError, match="U\\(1\\) symmetry.*system_spectrum or shift_invert_spectrum"):
        slowest_spectrum(_dimer(), 2, {"J": 0.0, "lam": 0.3})


def test_row_passes_are_numpy_products_with_the_same_rounding_on_one_thread_or_two(monkeypatch):
    """The Davidson basis products by fixed row chunks: equal to numpy's to rounding, bit-for-bit the same on one
    and on two threads, and the sparse product bit-for-bit ``A @ X`` (real and complex right-hand sides)."""
    monkeypatch.setattr(_RowPasses, "CHUNK", 37)
    rng = np.random.default_rng(5)
    n, m = 300, 20
    M = np.asfortranarray(rng.normal(size=(n, m)))
    Y, P, C, Z = rng.normal(size=(m, 4)), rng.normal(size=(n, 3)), rng.normal(size=(m, 3)), rng.normal(size=(12, 7))
    A = sp.random(n, n, density=0.05, format="csr", random_state=3)
    Xc = rng.normal(size=(n, 2)) + 1j * rng.normal(size=(n, 2))
    out = {}
    from threadpoolctl import threadpool_limits

    for w in (1, 2):
        rows = _RowPasses(n, w)
        assert len(rows.bounds) == 9
        with threadpool_limits(limits=1, user_api="blas"):  # as slowest_spectrum runs it (n_threads=1)
            X = P.copy(order="F")
            rows.sub_times(X, M[:, :3], C[:3])
            Mr = M.copy(order="F")
            rows.replace(Mr, 12, Z)
            out[w] = [rows.times(M, Y), rows.t_times(M, P), X, Mr[:, :7], rows.sparse_times(A, P),
                      rows.sparse_times(A, Xc), rows.sparse_times(A, Xc[:, 0])]
    for a, b in zip(out[1], out[2]):
        assert np.array_equal(a, b)
    ref = [M @ Y, M.T @ P, P - M[:, :3] @ C[:3], M[:, :12] @ Z, A @ P, A @ Xc, A @ Xc[:, 0]]
    for a, r in zip(out[2], ref):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)
    assert np.array_equal(out[2][4], A @ P)  # row sums are untouched by the split
    with pytest.raises(AssertionError):  # the comparison can fail: a wrong product would show
        np.testing.assert_allclose(out[2][0], M @ (Y + 1e-6), rtol=1e-12, atol=1e-12)


def test_row_passes_equal_the_untransposed_chunk_products():
    """The passes are written transposed ((Y^T M^T)^T for M Y, (P^T M)^T for M^T P) for a faster BLAS kernel: the
    same products chunk by chunk as ``M[a:b] @ Y``, ``M[a:b]^T P[a:b]`` summed in chunk order and
    ``X[a:b] - M[a:b] @ C``, at a basis of realistic shape (column-major, one BLAS thread); the sparse product is
    ``A @ X`` bit for bit for a column-major ``X``."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(21)
    n, m, b = 3 * _RowPasses.CHUNK + 1234, 60, 7
    M = np.asfortranarray(rng.normal(size=(n, m + 5)))[:, :m]
    Y, C = rng.normal(size=(m, b)), rng.normal(size=(m, b))
    P = np.asfortranarray(rng.normal(size=(n, b)))
    rows = _RowPasses(n, 1)
    with threadpool_limits(limits=1, user_api="blas"):
        plain_times = np.concatenate([M[a:e] @ Y for a, e in rows.bounds])
        plain_t = M[:rows.bounds[0][1]].T @ P[:rows.bounds[0][1]]
        for a, e in rows.bounds[1:]:
            plain_t = plain_t + M[a:e].T @ P[a:e]
        plain_sub = np.concatenate([P[a:e] - M[a:e] @ C for a, e in rows.bounds])
        X = P.copy(order="F")
        rows.sub_times(X, M, C)
        got = [rows.times(M, Y), rows.t_times(M, P), X]
    for g, r in zip(got, [plain_times, plain_t, plain_sub]):
        np.testing.assert_allclose(g, r, rtol=1e-13, atol=1e-11)
    assert got[0].flags.f_contiguous
    ri = rng.integers(0, n, 12 * n)
    A = sp.csr_matrix((rng.normal(size=12 * n), (np.repeat(np.arange(n), 12), ri)), shape=(n, n))
    AX = rows.sparse_times(A, P)
    assert AX.flags.f_contiguous and np.array_equal(AX, A @ np.ascontiguousarray(P))


def test_ritz_vectors_from_real_columns_are_the_complex_ones():
    """One real column per real Ritz value and two per conjugate pair (the conjugate value reuses them): the Ritz
    vectors, their norms and residuals equal the complex products ``V y`` and ``A V y - theta V y``."""
    rng = np.random.default_rng(9)
    n, m = 200, 16
    A = rng.normal(size=(n, n)) / np.sqrt(n)
    V, _ = np.linalg.qr(rng.normal(size=(n, m)))
    theta, Y = np.linalg.eig(V.T @ A @ V)
    order = np.argsort(-theta.real, kind="stable")
    theta, Y = theta[order], Y[:, order]
    assert np.sum(theta.imag != 0) >= 4 and np.sum(theta.imag == 0) >= 1
    Yr, where = _real_coefficients(theta, Y)
    assert Yr.shape[1] == m  # half the 2 m columns of [Re Y, Im Y]
    assert sum(w[2] for w in where) == np.sum(theta.imag < 0)
    Ur, AUr = V @ Yr, A @ V @ Yr
    nu, res = _ritz_residuals(theta, where, Ur, AUr)
    U = V @ Y
    R = A @ U - U * theta[None, :]
    np.testing.assert_allclose(nu, np.linalg.norm(U, axis=0), rtol=1e-12)
    np.testing.assert_allclose(res, np.linalg.norm(R, axis=0) / np.linalg.norm(U, axis=0), rtol=1e-10)
    for i in range(m):
        u, r = _ritz_vector(i, where, Ur, AUr, theta, nu)
        np.testing.assert_allclose(u, U[:, i] / nu[i], atol=1e-13)
        np.testing.assert_allclose(r, R[:, i] / nu[i], atol=1e-13)


def test_block_davidson_is_bit_for_bit_the_same_on_one_thread_or_two(monkeypatch):
    """The basis products on two threads (fixed row chunks, one BLAS thread each) change no bit of the iteration."""
    monkeypatch.setattr(_RowPasses, "CHUNK", 50)
    rng = np.random.default_rng(12)
    n = 300
    D = np.diag(-rng.uniform(0.1, 4.0, n))
    A = sp.csr_matrix(D + 0.05 * rng.normal(size=(n, n)) / np.sqrt(n))

    def solve(r, s):
        return np.linalg.solve(D - s * np.eye(n), r.astype(complex))

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # as slowest_spectrum runs it (n_threads=1)
        runs = [block_davidson(A, solve, n, 5, res_tol=1e-10, init_shift=np.sort(np.diag(D))[-8:] + 1e-2, block=3,
                               workers=w) for w in (1, 2)]
    assert runs[0][2]["converged"]
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2]["products"] == runs[1][2]["products"]
    ev = np.linalg.eigvals(A.toarray())
    assert max(np.min(np.abs(ev - z)) for z in runs[1][0]) < 1e-8


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_sectors_in_forked_processes_give_the_same_numbers_as_one_process():
    """The two Z2 sectors of the coupled dimer solved at once in two forked processes give bit-identical eigenvalues
    and residuals to the sectors one after the other, and the forked sectors' CPU is counted."""
    kw = dict(k=4, dense_max=0, range_check=False)
    one = slowest_spectrum(_dimer(), 4, {"J": 1.5, "lam": 0.45}, processes=1, **kw)
    two = slowest_spectrum(_dimer(), 4, {"J": 1.5, "lam": 0.45}, processes=2, **kw)
    assert one.stats["processes"] == 1 and two.stats["processes"] == 2
    assert list(one.sectors) == list(two.sectors) == [(0,), (1,)]
    for key in one.sectors:
        assert np.array_equal(one.sectors[key], two.sectors[key])
        assert np.array_equal(one.residuals[key], two.residuals[key])
        assert one.stats["sectors"][key]["products"] == two.stats["sectors"][key]["products"]
    assert two.stats["cpu_s"] >= sum(st["cpu_s"] for st in two.stats["sectors"].values())
    pids = {st["pid"] for st in two.stats["sectors"].values()}  # one process per sector, neither this one
    assert len(pids) == 2 and __import__("os").getpid() not in pids
    assert not any("pid" in st for st in one.stats["sectors"].values())
    assert one.status == two.status == "unverified"


def _slowest_in_a_pool_worker(S):
    r = slowest_spectrum(_dimer(), S, {"J": 1.5, "lam": 0.45}, k=4, dense_max=0, range_check=False)
    return r.stats["processes"], {key: v.tolist() for key, v in r.sectors.items()}


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_inside_a_pool_worker_the_sectors_run_in_that_process():
    """A daemonic process (a multiprocessing pool's worker) may not fork children: there the sectors run one after
    the other, with the same numbers."""
    import multiprocessing as mp

    with mp.get_context("fork").Pool(1) as pool:
        procs, vals = pool.apply(_slowest_in_a_pool_worker, (3,))
    assert procs == 1
    here = slowest_spectrum(_dimer(), 3, {"J": 1.5, "lam": 0.45}, k=4, dense_max=0, range_check=False)
    assert here.stats["processes"] == 2
    assert {key: v.tolist() for key, v in here.sectors.items()} == vals


@pytest.mark.slow
def test_slowest_spectrum_agrees_with_shift_invert_at_S6():
    """S = 6, (1.5, 0.45) (sectors of 14 281 states, beyond the dense certificate): every Davidson eigenvalue is one
    shift-invert finds, and no shift-invert eigenvalue right of the k-th Davidson one is missing from it."""
    from bifurcate.quantum.spectrum import shift_invert_spectrum

    p = {"J": 1.5, "lam": 0.45}
    r = slowest_spectrum(_dimer(), 6, p, k=6)
    assert r.status == "unverified" and set(r.certificate.values()) == {"none"}
    si = shift_invert_spectrum(_dimer(), 6, p, k=8, shifts=(0.05, 0.05 + 1.8j, 0.05 + 2.2j))
    assert si.status == "ok"
    for key, vals in r.sectors.items():
        ref = si.sectors[key]
        found = vals[1:] if key == (0,) else vals
        assert all(np.min(np.abs(ref - z)) < 1e-7 for z in found), (key, found, ref)
        right = [z for z in ref if z.real > found[-1].real + 1e-7 and abs(z) > 1e-9]
        assert all(np.min(np.abs(found - z)) < 1e-7 for z in right), (key, found, ref)


def test_issue16_spectrum_benchmark_davidson_against_qutip_in_the_same_run(capsys):
    from studies.benchmarks.bench_issue16 import main

    out = main(["spectrum", "2", "--J", "0.5", "--lam", "0.3", "--method", "davidson", "--qutip"])
    assert out["method"] == "davidson" and out["status"] in ("ok", "missed")
    assert set(out["certificate"].values()) <= {"dense", "missed"}
    assert out["qutip"]["max_distance_ours_to_qutip"] < 1e-7  # every eigenvalue found is one of QuTiP's
    assert out["cpu_s"] > 0 and out["qutip"]["cpu_s"] > 0
    for key, res in out["residuals"].items():
        assert max(res) <= 1e-9 * out["norm1"]
    assert '"what": "spectrum"' in capsys.readouterr().out


@pytest.mark.parametrize("S, params", [(2, {"J": 1.5, "lam": 0.0}), (2.5, {"J": -0.7, "lam": 0.0}),
                                       (3, {"J": 1.5, "lam": 0.0})])
def test_kronecker_path_of_an_uncoupled_dimer_is_its_dense_spectrum_without_the_dense_check(S, params):
    """At lam = 0 the sectors are exact Kronecker sums: the sum sets of the one-mode spectra are checked here against
    each sector's own dense spectrum (computed by the test, not by the solver: dense_max=0 switches its check off)."""
    from bifurcate.quantum import liouvillian_system

    k = 6
    r = slowest_spectrum(_dimer(), S, params, k=k, dense_max=0)
    assert r.status == "ok" and set(r.certificate.values()) == {"kronecker"}
    secs, _ = _sectors_with_index(liouvillian_system(_dimer(), S, params))
    for key, vals in r.sectors.items():
        ev = np.linalg.eigvals(secs[key].toarray())
        found = vals
        if key == tuple(0 for _ in key):
            assert vals[0] == 0
            found = vals[1:]
            ev = np.delete(ev, np.argmin(np.abs(ev)))
        ref = ev[np.argsort(-ev.real, kind="stable")][:k]
        np.testing.assert_allclose(np.sort(found.real), np.sort(ref.real), atol=1e-9)
        assert all(np.min(np.abs(ev - z)) < 1e-9 for z in found)
        assert all(s == "ok" for s in r.pair_status[key]) and max(r.residuals[key]) < 1e-11
        kap = r.stats["sectors"][key]["condition"]
        assert len(kap) == len(found) and np.all(kap >= 1 - 1e-9) and np.all(np.isfinite(kap))


def test_uncoupled_eigenpairs_are_eigenvectors_and_the_kronecker_method_refuses_a_coupled_system():
    from bifurcate.quantum import liouvillian_system

    hs = HermitianSectors(liouvillian_system(_dimer(), 2, {"J": 1.5, "lam": 0.0}))
    for key in hs.keys:
        mu, X, kap = hs.uncoupled_eigenpairs(key, 5)
        Lz = hs.matrix[key]
        assert X.shape == (hs.size[key], 5) and np.allclose(np.linalg.norm(X, axis=0), 1)
        assert np.abs(Lz @ X - X * mu[None, :]).max() < 1e-12
        ev = np.linalg.eigvals(Lz.toarray())
        np.testing.assert_allclose(mu.real, np.sort(ev.real)[::-1][:5], atol=1e-10)
    with pytest.raises(ValueError, match="method='kronecker'"):
        slowest_spectrum(_dimer(), 1, {"J": 1.5, "lam": 0.45}, method="kronecker")
    with pytest.raises(ValueError, match="method"):
        slowest_spectrum(_dimer(), 1, {"J": 1.5, "lam": 0.0}, method="lanczos")
    # forced Davidson on the uncoupled system finds the same values as the Kronecker path
    a = slowest_spectrum(_dimer(), 2, {"J": 1.5, "lam": 0.0}, method="davidson", dense_max=0)
    b = slowest_spectrum(_dimer(), 2, {"J": 1.5, "lam": 0.0}, dense_max=0)
    assert set(a.certificate.values()) == {"none"} and a.status == "unverified"
    for key in b.sectors:
        assert max(np.min(np.abs(a.sectors[key] - z)) for z in b.sectors[key]) < 1e-8


def test_numerical_range_bounds_are_tight_for_a_normal_matrix_and_hold_for_the_dimer():
    from bifurcate.quantum import liouvillian_system
    from bifurcate.quantum.spectrum import numerical_range_bounds

    # a normal real matrix: its numerical range is the convex hull of its eigenvalues, so the Lanczos extents are
    # exactly the largest |Im| and the largest Re of the spectrum
    rng = np.random.default_rng(5)
    re, im = -rng.uniform(0.1, 3.0, 60), rng.uniform(0.0, 4.0, 60)
    D = sla.block_diag(*[np.array([[a, b], [-b, a]]) for a, b in zip(re, im)])
    Q, _ = np.linalg.qr(rng.normal(size=(120, 120)))
    b = numerical_range_bounds(sp.csr_matrix(Q @ D @ Q.T))
    assert abs(b["im_lanczos"] - im.max()) < 1e-6 and abs(b["re_lanczos"] - re.max()) < 1e-6
    assert b["im_bound"] >= b["im_lanczos"] - 1e-12 and b["re_bound"] >= b["re_lanczos"] - 1e-12
    # the dimer's sectors: every eigenvalue inside both the rigorous bounds and the (converged) Lanczos extents
    hs = HermitianSectors(liouvillian_system(_dimer(), 2, {"J": 1.5, "lam": 0.45}))
    for key in hs.keys:
        b = numerical_range_bounds(hs.matrix[key])
        ev = np.linalg.eigvals(hs.matrix[key].toarray())
        assert np.abs(ev.imag).max() <= b["im_lanczos"] + 1e-8 <= b["im_bound"] + 1e-8
        assert ev.real.max() <= b["re_lanczos"] + 1e-8 <= b["re_bound"] + 1e-8
    assert set(numerical_range_bounds(sp.identity(4), lanczos=False)) == {"im_bound", "re_bound"}


def test_issue16_benchmark_reads_the_uncoupled_spectrum_and_checks_it_against_qutip_at_a_small_S(capsys):
    from studies.benchmarks.bench_issue16 import main

    out = main(["spectrum", "2", "--J", "1.5", "--lam", "0", "--method", "slowest", "--qutip-S", "2"])
    assert out["status"] == "ok" and set(out["certificate"].values()) == {"dense"}
    assert out["idle_wall_extrapolation_s"] == out["cpu_s"] > 0
    assert set(out["condition"]) == set(out["sectors"])  # the Kronecker path ran (it reports condition numbers)
    q = out["small"]["qutip"]
    # every eigenvalue found is one of QuTiP's, and none of QuTiP's right of every sector's 6th is missing
    assert q["max_distance_ours_to_qutip"] < 1e-7 and q["qutip_missing_right_of_cut"] == 0 and q["qutip_right_of_cut"] > 0
    capsys.readouterr()


def test_block_davidson_history_and_random_start_vectors():
    """The history records products, resolvents, basis size and converged pairs per iteration; plain random start
    vectors (init_random) leave the answer unchanged on a problem with a unique answer."""
    rng = np.random.default_rng(3)
    n = 300
    D = np.diag(-np.sort(rng.uniform(0.1, 4.0, n)))
    A = D + 0.1 * rng.normal(size=(n, n)) / np.sqrt(n)

    def solve(r, s):
        return np.linalg.solve(D - s * np.eye(n), r.astype(complex))

    ref = np.linalg.eigvals(A)
    ref = ref[np.argsort(-ref.real)][:4]
    for extra in (0, 5):
        mu, res, info = block_davidson(sp.csr_matrix(A), solve, n, 4, res_tol=1e-10, init_shift=np.diag(D)[:6] + 1e-2,
                                       init_random=extra, max_basis=40)
        assert info["converged"] and max(np.min(np.abs(ref - z)) for z in mu) < 1e-8
        h = np.array(info["history"])
        assert len(h) == info["iterations"] and np.all(np.diff(h[:, 0]) >= 0) and np.all(h[:, 2] <= 40)
        assert h[-1, 3] == 4 and h[0, 0] >= 6 + extra - 1


def test_a_mode_the_local_iteration_misses_is_reported_as_missed_and_never_as_ok():
    """S = 2, (0.5, 0.3), even sector: the real mode -0.4944 (no uncoupled slow mode leads to it) lies right of the
    6th value Davidson returns. With the dense check it is 'missed'; without it the same numbers are 'unverified',
    never 'ok'; the numerical-range bound names the strip left uncovered."""
    p = {"J": 0.5, "lam": 0.3}
    r = slowest_spectrum(_dimer(), 2, p, k=6)
    found = r.sectors[(0,)][1:]
    ref = r.stats["sectors"][(0,)]["dense_reference"]
    lost = [z for z in ref if z.real > found[-1].real + 1e-6 and np.min(np.abs(found - z)) > 1e-6]
    assert lost and abs(lost[0] - (-0.4944)) < 1e-3
    assert r.certificate[(0,)] == "missed" and r.status == "missed" and not r.success
    u = slowest_spectrum(_dimer(), 2, p, k=6, dense_max=0)
    assert u.status == "unverified" and set(u.certificate.values()) == {"none"}
    assert "|Im z| <=" in u.message
    bound = max(u.stats["sectors"][key]["numerical_range"]["im_bound"] for key in u.sectors)
    assert all(abs(z.imag) <= bound for v in u.sectors.values() for z in v)


def test_two_independent_starts_return_the_union_and_say_whether_they_agree():
    """S = 2, (1.5, 0.45), dense check on: the union of two starts is at least as right as the first start alone
    (each returned value an eigenvalue, 'missed' only if both missed), and a sector where the two disagree is one
    where some start missed a slower mode (checked against the dense spectrum)."""
    p = {"J": 1.5, "lam": 0.45}
    one = slowest_spectrum(_dimer(), 2, p, k=6, range_check=False)
    two = slowest_spectrum(_dimer(), 2, p, k=6, starts=2, range_check=False)
    for key in two.sectors:
        st = two.stats["sectors"][key]
        assert st["starts"] in ("agree", "disagree") and len(st["start_values"]) == 2
        ref = st["dense_reference"]
        assert all(np.min(np.abs(ref - z)) < 1e-7 for z in (two.sectors[key][1:] if key == (0,) else two.sectors[key]))
        if one.certificate[key] == "dense":
            assert two.certificate[key] == "dense"
        if st["starts"] == "disagree":
            firsts = [v for v in st["start_values"]]
            assert any(any(z.real > v[-1].real + 1e-6 and np.min(np.abs(v - z)) > 1e-6 for z in ref) for v in firsts)
        assert two.stats["sectors"][key]["products"] > one.stats["sectors"][key]["products"]
    assert "independent starts" in two.message
    with pytest.raises(ValueError, match="starts"):
        slowest_spectrum(_dimer(), 1, p, starts=0)


@pytest.mark.parametrize("params", [{"J": 1.5, "lam": 0.45}, {"J": -0.7, "lam": 1.0}])
@pytest.mark.parametrize("shift", [0.0, -0.3, 0.2 - 1.7j])
def test_nojump_resolvent_inverts_the_liouvillian_without_recycling_terms(params, shift, monkeypatch):
    """``solve_nojump`` is the exact inverse of ``X -> K X + X K^+ - shift X`` (``K = -i H - sum c^+ c / 2``, the
    coupling kept, the jumps' ``c X c^+`` left out) on each sector, written out densely from H and the jumps, and
    that operator is the Liouvillian minus its recycling terms. In double precision to rounding; the default
    single-precision products (a preconditioner) agree with it to 1e-5."""
    from bifurcate.quantum import liouvillian_system

    sl = liouvillian_system(_dimer(), 2, params)
    single = HermitianSectors(sl)
    monkeypatch.setattr(HermitianSectors, "NOJUMP_DTYPE", np.complex128)
    hs = HermitianSectors(sl)
    d = sl.d
    H = sp.csr_matrix(sl.H).toarray()
    cs = [sp.csr_matrix(c).toarray() for c in sl.c_ops]
    K = -1j * H - 0.5 * sum(c.conj().T @ c for c in cs)
    rng = np.random.default_rng(3)
    for key in hs.keys:
        idx, W = hs._index[key], hs.W[key]

        def to_matrix(z):
            x = np.zeros(d * d, dtype=complex)
            x[idx] = W @ z
            return x.reshape(d, d).T

        def from_matrix(X):
            full = X.T.ravel()
            outside = np.ones(d * d, dtype=bool)
            outside[idx] = False
            assert np.abs(full[outside]).max(initial=0.0) < 1e-12   # stays in the sector
            return W.conj().T @ full[idx]

        z = rng.normal(size=hs.size[key]) + 1j * rng.normal(size=hs.size[key])
        y = hs.solve_nojump(key, z, shift) if shift != 0.0 else hs.solve_nojump(key, z.real, shift)
        y1 = single.solve_nojump(key, z, shift) if shift != 0.0 else single.solve_nojump(key, z.real, shift)
        assert np.linalg.norm(y1 - y) < 1e-5 * np.linalg.norm(y)
        X = to_matrix(y)
        back = from_matrix(K @ X + X @ K.conj().T - shift * X)
        assert np.abs(back - (z if shift != 0.0 else z.real)).max() < 1e-10 * np.abs(z).max()
        # L = L_nj + sum c X c^+ on the sector (real matrix in the Hermitian basis)
        X = to_matrix(z)
        full = K @ X + X @ K.conj().T + sum(c @ X @ c.conj().T for c in cs)
        assert np.abs(from_matrix(full) - hs.matrix[key] @ z).max() < 1e-10 * np.abs(z).max()
        # the recycling matrix is that difference: sum c X c^+ written out, and L - R inverted by solve_nojump
        R = hs.recycling_matrix(key)
        assert np.abs(from_matrix(sum(c @ X @ c.conj().T for c in cs)) - R @ z).max() < 1e-10 * np.abs(z).max()
        assert R.nnz < hs.matrix[key].nnz / 2 and np.abs(R @ z).max() > 0.1 * np.abs(z).max()
        zr = z if shift != 0.0 else z.real
        w = hs.solve_nojump(key, hs.matrix[key] @ zr - R @ zr - shift * zr, shift)
        assert np.abs(w - zr).max() < 1e-9 * np.abs(zr).max()
    assert 1.0 <= hs.nojump_condition() < HermitianSectors.NOJUMP_MAX_COND


@pytest.mark.parametrize("S, params", [(3, {"J": 1.5, "lam": 0.45}), (3, {"J": 0.5, "lam": 0.3}),
                                       (3, {"J": -1.1, "lam": 1.0})])
def test_alternating_preconditioner_gives_the_same_eigenvalues_in_fewer_iterations(S, params):
    """The alternating preconditioner (``"uncoupled+nojump"``: one step of the uncoupled resolvent, then the no-jump
    resolvent on what it leaves) returns the same eigenvalues as the uncoupled resolvent alone, each an eigenvalue of the dense
    sector, and needs fewer Davidson iterations in total (S = 3, both sectors: 74 against 155 at the cycle point,
    63 against 105 at (0.5, 0.3), 143 against 1383 at (-1.1, 1); measured to S = 16 in the benchmark)."""
    from bifurcate.quantum import liouvillian_system

    one = slowest_spectrum(_dimer(), S, params, k=6, preconditioner="uncoupled", range_check=False)
    two = slowest_spectrum(_dimer(), S, params, k=6, preconditioner="uncoupled+nojump", range_check=False)
    auto = slowest_spectrum(_dimer(), 1, params, k=2, range_check=False)
    assert auto.stats["preconditioner"]["kind"] == "uncoupled+nojump" and "default" in auto.stats["preconditioner"]["why"]
    secs, _ = _sectors_with_index(liouvillian_system(_dimer(), S, params))
    dense = {key: np.linalg.eigvals(secs[key].toarray()) for key in one.sectors}
    its = {}
    for name, r in (("uncoupled", one), ("alternating", two)):
        its[name] = sum(st["iterations"] for st in r.stats["sectors"].values())
        for key, st in r.stats["sectors"].items():
            assert st["preconditioner"] == ("uncoupled" if name == "uncoupled" else "uncoupled+nojump")
            assert all(np.min(np.abs(dense[key] - z)) < 1e-7 for z in r.sectors[key])
            res = st["resolvents"]
            assert res["uncoupled"] > 0 and (res["nojump"] == res["products"] > 0) == (name == "alternating")
    for key in one.sectors:
        if one.certificate[key] == two.certificate[key] == "dense":
            assert np.allclose(np.sort_complex(one.sectors[key]), np.sort_complex(two.sectors[key]), atol=1e-7)
    assert its["alternating"] < its["uncoupled"], its
    with pytest.raises(ValueError, match="preconditioner"):
        slowest_spectrum(_dimer(), 1, params, preconditioner="jacobi")


@pytest.mark.parametrize("params, shift", [({"J": 1.5, "lam": 0.45}, -0.3 + 1.8j), ({"J": 0.5, "lam": 0.3}, -0.6 + 8.0j),
                                           ({"J": -1.5, "lam": 1.0}, -0.4)])
def test_alternating_step_never_leaves_a_larger_residual_than_either_of_its_plain_forms(params, shift):
    """The alternating preconditioner's second step is weighted to minimise ``||r - (L - s) y||`` along the no-jump
    correction (the recycling terms it neglects applied as a product): its residual is at most the uncoupled step's
    and at most the unweighted sum's, at points where the weight is far from 1 (the normal state) and near it."""
    from bifurcate.quantum import liouvillian_system
    from bifurcate.quantum.spectrum import _sector_preconditioner

    S = 3
    sl = liouvillian_system(_dimer(), S, params)
    hs = HermitianSectors(sl)
    rng = np.random.default_rng(8)
    weights = []
    for key in hs.keys:
        L = hs.matrix[key]
        counts = {"uncoupled": 0, "nojump": 0, "products": 0, "near_pole": 0, "recycling": 0}
        both = _sector_preconditioner(hs, key, L, "uncoupled+nojump", counts)
        r = rng.normal(size=hs.size[key])
        r = r + 1j * rng.normal(size=hs.size[key]) if np.iscomplexobj(np.asarray(shift)) else r

        def resid(y):
            return np.linalg.norm(r - (L @ y.real + 1j * (L @ y.imag) - shift * y))

        y = both(r, shift)
        yu = hs.solve(key, r, shift)
        plain = yu + hs.solve_nojump(key, -(L @ yu.real + 1j * (L @ yu.imag) - shift * yu - r), shift)
        assert counts["recycling"] == counts["nojump"] == 1 and counts["near_pole"] == 0
        assert resid(y) <= resid(yu) * (1 + 1e-6) and resid(y) <= resid(plain) * (1 + 1e-6)
        assert resid(y) < 0.9 * resid(yu)  # and it does better than the uncoupled step alone
        weights.append(np.linalg.norm(y - yu) / np.linalg.norm(plain - yu))
    assert all(0.0 <= w <= 1.0 + 1e-12 for w in weights), weights
    if params["J"] == 0.5:  # the normal-state point, where the plain sum overshoots: the weight is not 1
        assert min(weights) < 0.95, weights


def test_auto_falls_back_to_the_uncoupled_resolvent_and_says_why_where_the_no_jump_inverse_is_not_built(monkeypatch):
    """"auto" takes the alternating preconditioner only where its no-jump half is built: with the block limit below
    the dimer's parity blocks it takes the uncoupled resolvent, names the reason, and still finds the same
    eigenvalues; asked for explicitly, the alternating one is then refused with that reason."""
    params = {"J": 1.5, "lam": 0.45}
    ref = slowest_spectrum(_dimer(), 2, params, k=4, range_check=False)
    monkeypatch.setattr(HermitianSectors, "NOJUMP_MAX_BLOCK", 3)
    r = slowest_spectrum(_dimer(), 2, params, k=4, range_check=False)
    info = r.stats["preconditioner"]
    assert info["kind"] == "uncoupled" and "largest block" in info["why"] and "'uncoupled+nojump' does not apply" in info["why"]
    assert all(st["resolvents"]["nojump"] == 0 for st in r.stats["sectors"].values())
    for key in ref.sectors:
        assert ref.certificate[key] == r.certificate[key] == "dense"
        np.testing.assert_allclose(np.sort_complex(r.sectors[key]), np.sort_complex(ref.sectors[key]), atol=1e-7)
    with pytest.raises(ValueError, match="largest block"):
        slowest_spectrum(_dimer(), 2, params, k=4, range_check=False, preconditioner="uncoupled+nojump")
