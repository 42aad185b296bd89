"""The exact engine on open systems given as term lists: LMG dimer twin, boundary time crystal, open Dicke,
symmetry detection, Fock cutoffs, expectation values, spectra and bad input.

The systems here are stand-ins with exactly the interface of ``bifurcate.spec.OpenSystem``
(``tests/quantum/standins.py``); ``test_quantum_spec_systems.py`` repeats the key checks on the real
specifications."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import qutip

from bifurcate.quantum import (QuantumSizeError, detect_symmetries, liouvillian_system, steady_state,
                               steady_state_system, system_spectrum)
from bifurcate.quantum.lmg_dimer import hamiltonian, jump_operators

sys.path.insert(0, str(Path(__file__).parent))
import standins as si  # noqa: E402

LMG_POINTS = [{"J": 1.5, "lam": 0.5}, {"J": -0.8, "lam": 0.2, "g": 0.7}, {"J": 0.4, "lam": 0.9, "gamma": 0.3},
              {"J": 0.0, "lam": 0.7}]


# ---------------------------------------------------------------------------------------------- LMG dimer
@pytest.mark.parametrize("S", [1, 1.5, 2, 3])
@pytest.mark.parametrize("p", LMG_POINTS)
def test_lmg_dimer_from_terms_equals_the_hand_built_twin(S, p):
    system = si.lmg_dimer()
    full = {"g": 1.0, "gamma": 0.5, "J": 0.0, "lam": 0.0, **p}
    sl = liouvillian_system(system, S, p)
    assert abs(sl.H - hamiltonian(S, full)).max() < 1e-12
    assert len(sl.c_ops) == 2
    for a, b in zip(sl.c_ops, jump_operators(S, full)):
        assert abs(a - b).max() < 1e-14
    a = steady_state(S, p)
    b = steady_state_system(system, S, p)
    assert b.status == "ok" and a.status == "ok"
    np.testing.assert_allclose(b.rho, a.rho, atol=1e-10)
    for k in ("ZA", "ZB", "X2A", "Y2A", "Z2A", "X2B", "Y2B", "Z2B", "ZAZB", "purity", "purity_A", "purity_B"):
        assert getattr(b, k) == pytest.approx(getattr(a, k), abs=1e-10), k
    assert abs(b.XA) < 1e-12 and abs(b.YB) < 1e-12  # the Z2 makes <Sx>, <Sy> vanish
    np.testing.assert_allclose(b.reduced("B"), a.rho_B, atol=1e-10)
    assert b.qobj().dims == [[a.n, a.n], [a.n, a.n]]
    assert b.sector == a.sector and b.stats["block_sizes"] == a.stats["block_sizes"]
    assert b.method == a.method


def test_lmg_dimer_krylov_path_from_terms_equals_the_twin():
    system = si.lmg_dimer()
    p = {"J": 1.5, "lam": 0.5}
    a = steady_state(4, p)
    b = steady_state_system(system, 4, p)
    assert a.method == b.method == "krylov"
    np.testing.assert_allclose(b.rho, a.rho, atol=1e-10)
    # "auto" takes the Lindbladian preconditioner on both; its Schur forms are not bit-stable under the
    # rounding-level differences of the two constructions (65 against 68 products measured), so the exact
    # count check uses the per-block inverse
    assert a.stats["preconditioner"]["kind"] == b.stats["preconditioner"]["kind"] == "lindblad"
    assert abs(b.stats["matvecs"] - a.stats["matvecs"]) <= 0.1 * a.stats["matvecs"]
    opts = {"preconditioner": "sylvester"}
    a = steady_state(4, p, options=opts)
    b = steady_state_system(system, 4, p, options=opts)
    np.testing.assert_allclose(b.rho, a.rho, atol=1e-10)
    assert b.stats["matvecs"] == a.stats["matvecs"]  # the same operator, blocks and preconditioner


def test_symmetry_detection_lmg_dimer():
    system = si.lmg_dimer()
    # J != 0: only the parity of M = m_A + m_B (Sx^2 changes one m by 2, the hopping keeps M)
    assert detect_symmetries(system, 2, {"J": 1.5, "lam": 0.5}) == [("Z2", {"A": 1, "B": 1})]
    # J = 0: M itself (U(1)); its parity is implied and not listed again
    assert detect_symmetries(system, 2, {"J": 0.0, "lam": 0.5}) == [("U1", {"A": 1, "B": 1})]
    # lam = J = 0: both magnetisations separately
    assert detect_symmetries(system, 2, {"J": 0.0, "lam": 0.0}) == [("U1", {"A": 1}), ("U1", {"B": 1})]
    # lam = 0, J != 0: two independent parities
    assert detect_symmetries(system, 2, {"J": 1.0, "lam": 0.0}) == [("Z2", {"A": 1}), ("Z2", {"B": 1})]
    sl = liouvillian_system(system, 2, {"J": 1.5, "lam": 0.5})
    assert sl.sector == "Z2" and sorted(np.bincount(sl.labels)) == [12, 13]


def test_symmetry_detection_dicke_and_btc():
    assert detect_symmetries(si.open_dicke(), 1, {"lam": 0.5}) == [("Z2", {"a": 1, "A": 1})]
    # rotating-wave Dicke (Tavis-Cummings): the excitation number a^+ a + S_z is a U(1)
    g = si.sympy.Symbol("g")
    tc = si.StandIn("tc", [("a", "boson"), ("A", "spin")], {"g": 0.3, "kappa": 1.0},
                    [(1, (("a", "dag"), ("a", "a"))), (1, (("A", "z"),)),
                     (g, (("a", "a"), ("A", "p"))), (g, (("a", "dag"), ("A", "m")))],
                    [(si.sympy.Symbol("kappa"), [(1, (("a", "a"),))])])
    assert detect_symmetries(tc, 1, None) == [("U1", {"a": 1, "A": 1})]
    assert detect_symmetries(si.boundary_time_crystal(), 2, None) == []


# ---------------------------------------------------------------------------------------------- BTC
@pytest.mark.parametrize("S", [0.5, 1, 2.5, 4])
@pytest.mark.parametrize("omega", [0.3, 0.8, 1.2, 2.0])
def test_boundary_time_crystal_agrees_with_qutip(S, omega):
    r = steady_state_system(si.boundary_time_crystal(), S, {"omega": omega, "kappa": 1.0})
    ref = qutip.steadystate(omega * qutip.jmat(S, "x"), [np.sqrt(1.0 / S) * qutip.jmat(S, "-")]).full()
    assert r.sector == "none" and len(r.blocks) == 1  # no symmetry: one block, still solved
    assert r.status == "ok"
    assert np.abs(r.rho - ref).max() < 1e-10


def test_boundary_time_crystal_large_S():
    # below omega = kappa the mean-field fixed point Z = -sqrt(1 - (omega/kappa)^2) is approached;
    # above it <Z> -> 0 like 1/S (measured S Z ~ -0.33, -0.30, -0.28, -0.27 at S = 4, 8, 16, 32)
    btc = si.boundary_time_crystal()
    below = [steady_state_system(btc, S, {"omega": 0.5}).ZA for S in (4, 8, 16)]
    err = [abs(z + np.sqrt(1 - 0.25)) for z in below]
    assert err[2] < err[1] < err[0] and err[2] < 1e-3
    above = [steady_state_system(btc, S, {"omega": 1.5}) for S in (4, 8, 16)]
    sz = [r.S * r.ZA for r in above]
    assert all(-0.4 < v < -0.2 for v in sz)
    assert abs(above[2].ZA) < abs(above[1].ZA) < abs(above[0].ZA)


# ---------------------------------------------------------------------------------------------- Dicke
def _dicke_qutip(S, p, N):
    a = qutip.tensor(qutip.destroy(N), qutip.qeye(int(2 * S + 1)))
    jx = qutip.tensor(qutip.qeye(N), qutip.jmat(S, "x"))
    jz = qutip.tensor(qutip.qeye(N), qutip.jmat(S, "z"))
    H = p["omega"] * a.dag() * a + p["omega0"] * jz + 2 * p["lam"] / np.sqrt(2 * S) * (a + a.dag()) * jx
    return H, [np.sqrt(2 * p["kappa"]) * a], a


@pytest.mark.parametrize("S", [1, 2])
@pytest.mark.parametrize("lam", [0.3, 0.9])  # lam_c = sqrt(omega0 (omega^2 + kappa^2) / omega) / 2 = 0.707
def test_open_dicke_agrees_with_qutip_at_a_converged_cutoff(S, lam):
    p = {"omega": 1.0, "omega0": 1.0, "lam": lam, "kappa": 1.0}
    r = steady_state_system(si.open_dicke(), S, {"lam": lam})  # cutoff chosen and checked
    assert r.status == "ok" and r.cutoff_check["converged"]
    assert r.cutoff_check["top_population"]["a"] <= 1e-8
    N = r.cutoffs["a"]
    H, c, a = _dicke_qutip(S, p, N)
    ref = qutip.steadystate(H, c)
    # QuTiP's own direct solve is accurate to ~1e-11 here (measured 2e-12 .. 1.4e-11)
    assert np.abs(r.rho - ref.full()).max() < 1e-9
    assert r.n_a == pytest.approx(qutip.expect(a.dag() * a, ref), abs=1e-9)
    assert r.expect([(1, (("a", "dag"), ("a", "a")))]) == pytest.approx(r.n_a, abs=1e-12)
    assert r.a_a == 0  # Z2 parity of a^+ a + S_z: <a> vanishes
    # a bigger cutoff changes nothing beyond the tolerance
    r2 = steady_state_system(si.open_dicke(), S, {"lam": lam}, cutoffs=N + 8)
    assert abs(r2.n_a - r.n_a) < 1e-7 and abs(r2.ZA - r.ZA) < 1e-7


def test_unconverged_cutoff_is_not_trusted():
    r = steady_state_system(si.open_dicke(), 2, {"lam": 0.9}, cutoffs=4)
    assert r.status == "not-trusted" and "Fock cutoff not converged" in r.message
    assert not r.cutoff_check["converged"]
    r = steady_state_system(si.open_dicke(), 2, {"lam": 0.9}, max_cutoff=6)
    assert r.status == "not-trusted" and "max_cutoff 6 reached" in r.message


# ---------------------------------------------------------------------------------------------- general jumps
def test_non_diagonal_dissipator_and_general_jumps_agree_with_qutip():
    # jump L = S_x (dephasing-like, K = Sx^2 not diagonal) plus a sum jump L = S_A^- + S_B^-
    import sympy

    w, k = sympy.symbols("w k")
    sysm = si.StandIn("mix", [("A", "spin"), ("B", "spin")], {"w": 0.7, "k": 0.4},
                      [(w, (("A", "z"),)), (w / 2, (("B", "x"),)), (1, (("A", "x"), ("B", "x")))],
                      [(k, [(1, (("A", "x"),))]), (k, [(1, (("A", "m"),)), (1, (("B", "m"),))])])
    S = 1
    for method in ("direct", "krylov"):
        r = steady_state_system(sysm, S, None, method=method, options={"rtol": 1e-12})
        j = {c: qutip.jmat(S, c) for c in "xz"}
        I = qutip.qeye(3)
        H = 0.7 * qutip.tensor(j["z"], I) + 0.35 * qutip.tensor(I, j["x"]) + qutip.tensor(j["x"], j["x"])
        cs = [np.sqrt(0.4) * qutip.tensor(j["x"], I),
              np.sqrt(0.4) * (qutip.tensor(qutip.jmat(S, "-"), I) + qutip.tensor(I, qutip.jmat(S, "-")))]
        ref = qutip.steadystate(H, cs).full()
        assert np.abs(r.rho - ref).max() < 1e-10, method
        assert r.status == "ok"


# ---------------------------------------------------------------------------------------------- spectrum
def test_system_spectrum_matches_the_lmg_twin_and_has_the_steady_state_zero():
    from bifurcate.quantum import liouvillian_spectrum

    p = {"J": 1.5, "lam": 0.5}
    a = liouvillian_spectrum(1, p)
    b = system_spectrum(si.lmg_dimer(), 1, p)
    assert set(b.sectors) == {(0,), (1,)}
    assert abs(b.sectors[(0,)][0]) < 1e-12
    np.testing.assert_allclose(np.sort_complex(b.sectors[(0,)][:4]), np.sort_complex(a.even[:4]), atol=1e-10)
    assert b.gap == pytest.approx(a.gap, rel=1e-10)
    btc = system_spectrum(si.boundary_time_crystal(), 2, {"omega": 0.5})
    assert list(btc.sectors) == [()] and btc.gap > 0 and btc.status == "ok"


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_input_is_named():
    btc = si.boundary_time_crystal()
    with pytest.raises(KeyError, match="unknown parameter.*'gamma'"):
        steady_state_system(btc, 2, {"gamma": 1.0})
    with pytest.raises(ValueError, match="expected S a positive integer or half-integer"):
        steady_state_system(btc, float("nan"))
    with pytest.raises(ValueError, match="expected S a positive integer or half-integer"):
        steady_state_system(btc, 1.3)
    with pytest.raises(ValueError, match="expected omega a finite real number"):
        steady_state_system(btc, 2, {"omega": float("inf")})
    with pytest.raises(ValueError, match="every jump rate is 0.*not unique"):
        steady_state_system(btc, 2, {"kappa": 0.0})
    with pytest.raises(ValueError, match="rate >= 0"):
        steady_state_system(btc, 2, {"kappa": -1.0})
    with pytest.raises(ValueError, match="expected method one of"):
        steady_state_system(btc, 2, method="lu")
    with pytest.raises(ValueError, match="cutoff of boson 'a' an integer >= 2"):
        steady_state_system(si.open_dicke(), 1, cutoffs=1)
    with pytest.raises(KeyError, match="unknown boson"):
        steady_state_system(si.open_dicke(), 1, cutoffs={"b": 8})
    with pytest.raises(TypeError, match="expected an open system"):
        steady_state_system(object(), 1)
    with pytest.raises(QuantumSizeError, match="TiB.*limit"):
        steady_state_system(si.lmg_dimer(), 1000, {"J": 1.0})
    bad = si.StandIn("bad", [("A", "spin")], {"w": 1.0}, [(si.sympy.Symbol("w"), (("B", "z"),))],
                     [(1, [(1, (("A", "m"),))])])
    with pytest.raises(ValueError, match="undeclared mode 'B'"):
        steady_state_system(bad, 1)
    nh = si.StandIn("nh", [("A", "spin")], {}, [(1, (("A", "p"),))], [(1, [(1, (("A", "m"),))])])
    with pytest.raises(ValueError, match="not Hermitian"):
        steady_state_system(nh, 1)
    r = steady_state_system(btc, 2)
    with pytest.raises(AttributeError, match="no attribute or observable 'ZB'"):
        r.ZB


def test_strong_symmetry_non_unique_steady_state_is_refused():
    # pure dephasing: H = w Sz, jump Sz conserve every m separately -> 2S + 1 steady states
    import sympy

    w = sympy.Symbol("w")
    deph = si.StandIn("dephasing", [("A", "spin")], {"w": 1.0}, [(w, (("A", "z"),))], [(1, [(1, (("A", "z"),))])])
    with pytest.raises(ValueError, match="not unique.*5 groups"):
        steady_state_system(deph, 2)
    # the dimer at J = lam = 0 has the U(1) x U(1) blocks (k_A, k_B) but one closed group: unique
    r = steady_state_system(si.lmg_dimer(), 2, {"J": 0.0, "lam": 0.0})
    assert r.sector == "U1^2" and r.status == "ok"
    assert r.ZA == pytest.approx(-1.0, abs=1e-10) and r.ZB == pytest.approx(1.0, abs=1e-10)


def test_btc_krylov_near_the_transition_converges():
    # the eigenvector preconditioner stagnated here (H_eff near an exceptional point); the Schur form
    # (default without symmetry, and the retry of the eigenvector path) converges
    btc = si.boundary_time_crystal()
    a = steady_state_system(btc, 12, {"omega": 0.8}, method="direct")
    b = steady_state_system(btc, 12, {"omega": 0.8}, method="krylov", options={"rtol": 1e-12})
    assert b.method == "krylov" and b.status == "ok"
    np.testing.assert_allclose(b.rho, a.rho, atol=1e-10)


def test_auto_cutoff_stops_at_the_memory_limit_and_says_so():
    # cutoff 8 fits in 5 MiB (LU estimate ~1.8 MB), 16 does not (~14 MB): the 8-level state comes back
    # unconverged and not trusted, with the size error as the reason
    r = steady_state_system(si.open_dicke(), 1, {"lam": 0.9}, options={"max_memory_gib": 5 / 1024})
    assert r.cutoffs == {"a": 8} and r.status == "not-trusted"
    assert "larger cutoff does not fit" in r.message and not r.cutoff_check["converged"]


def test_arnoldi_spectrum_agrees_with_dense_in_the_steady_states_sector():
    """Shift-invert about the default sigma (just right of the imaginary axis, where the steady
    state's sector is not singular) gives the dense diagonalisation's gap (the sectors at S = 2 hold
    about 300 states, so the Arnoldi path is the one taken)."""
    p = {"J": 1.5, "lam": 0.0}
    dense = system_spectrum(si.lmg_dimer(), 2, p, method="dense")
    arn = system_spectrum(si.lmg_dimer(), 2, p, method="arnoldi")
    assert abs(arn.gap - dense.gap) < 1e-8 * max(1.0, abs(dense.gap)) and arn.gap > 1e-3


def test_propagator_spectrum_is_the_slowest_part_of_the_dense_spectrum():
    """Arnoldi on exp(tau L) returns the k eigenvalues of largest real part of every sector (here the
    limit-cycle point, whose slow modes sit far up the imaginary axis, Im ~ 1.7 and 3.1), with small
    residuals, whatever tau (no aliasing: Rayleigh quotients with L, not log of exp)."""
    p = {"J": 1.5, "lam": 0.45}
    dense = system_spectrum(si.lmg_dimer(), 2, p, method="dense", k=8)
    for tau in (1.0, 4.0):  # pi / 4 < 1.7: aliased if the imaginary parts came from the logarithm
        prop = system_spectrum(si.lmg_dimer(), 2, p, method="propagator", k=8, tau=tau)
        assert prop.status == "ok", prop.message
        for key, d in dense.sectors.items():
            got = np.sort_complex(np.round(prop.sectors[key], 8))
            want = np.sort_complex(np.round(d, 8))
            # a complex pair may be cut at the k-th place: compare the first k - 1 by real part
            assert np.allclose(np.sort(got.real)[::-1][:7], np.sort(want.real)[::-1][:7], atol=1e-7)
            for z in d[:7]:
                assert np.min(np.abs(prop.sectors[key] - z)) < 1e-7, (key, z)
        assert max(float(np.max(r)) for r in prop.stats["residuals"].values()) < 1e-6
        assert abs(prop.gap - dense.gap) < 1e-8
    with pytest.raises(ValueError, match="expected tau a positive finite number"):
        system_spectrum(si.lmg_dimer(), 2, p, method="propagator", tau=0.0)
