"""Operators of Eqs. (3)-(5): against QuTiP, commutators, the paper's mean-field equations, bad input."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import qutip

from analysis.quantum import operators as ops


@pytest.mark.parametrize("S", [0.5, 1, 1.5, 2, 3])
def test_spin_operators_match_qutip_jmat(S):
    s = ops.spin_operators(S)
    jx, jy, jz, jp, jm = (qutip.jmat(S, c).full() for c in ("x", "y", "z", "+", "-"))
    for mine, ref in ((s.x, jx), (s.y, jy), (s.z, jz), (s.plus, jp), (s.minus, jm)):
        np.testing.assert_allclose(mine.toarray(), ref, atol=1e-14)
    comm = (s.x @ s.y - s.y @ s.x).toarray()
    np.testing.assert_allclose(comm, 1j * s.z.toarray(), atol=1e-13)
    cas = (s.x @ s.x + s.y @ s.y + s.z @ s.z).toarray()
    np.testing.assert_allclose(cas, S * (S + 1) * np.eye(s.n), atol=1e-12)


def test_hamiltonian_and_jumps_match_an_independent_qutip_construction():
    S, p = 1.5, {"g": 0.7, "gamma": 0.4, "J": -1.3, "lam": 0.9}
    n = int(2 * S + 1)
    I = qutip.qeye(n)
    jx, jz, jp, jm = (qutip.jmat(S, c) for c in ("x", "z", "+", "-"))
    hl = -p["J"] / S * jx * jx - p["g"] * jz
    H = qutip.tensor(hl, I) + qutip.tensor(I, hl) + p["lam"] / (2 * S) * (qutip.tensor(jp, jm) + qutip.tensor(jm, jp))
    c = [math.sqrt(p["gamma"] / S) * qutip.tensor(jm, I), math.sqrt(p["gamma"] / S) * qutip.tensor(I, jp)]
    Hq, cq = ops.qutip_model(S, p)
    assert Hq.dims == H.dims
    np.testing.assert_allclose(Hq.full(), H.full(), atol=1e-13)
    for a, b in zip(cq, c):
        np.testing.assert_allclose(a.full(), b.full(), atol=1e-14)
    Lq = qutip.liouvillian(H, c).full()
    L = ops.liouvillian(ops.hamiltonian(S, p), ops.jump_operators(S, p)).toarray()
    np.testing.assert_allclose(L, Lq, atol=1e-12)


def test_special_cases_pt_dimer_and_single_lmg():
    S = 2
    Hpt = ops.pt_dimer_hamiltonian(S, {"J": 1.0, "lam": 0.4})
    np.testing.assert_allclose(Hpt.toarray(), ops.hamiltonian(S, {"J": 0.0, "lam": 0.4}).toarray())
    # single LMG, Eq. (3): H = -J Sx^2 / S - g Sz, one jump sqrt(gamma/S) S^-
    H, c = ops.lmg_qutip_model(S, {"J": 0.8, "g": 1.2, "gamma": 0.3})
    jx, jz = qutip.jmat(S, "x"), qutip.jmat(S, "z")
    np.testing.assert_allclose(H.full(), (-0.8 / S * jx * jx - 1.2 * jz).full(), atol=1e-14)
    np.testing.assert_allclose(c[0].full(), math.sqrt(0.3 / S) * qutip.jmat(S, "-").full(), atol=1e-14)


def _paper_rhs(v, g, gamma, J, lam):
    """Eqs. (6)-(11) of the paper, transcribed independently of bifurcate."""
    XA, YA, ZA, XB, YB, ZB = v
    c = XA * YB - YA * XB
    return np.array([g * YA + lam * ZA * YB + gamma * XA * ZA,
                     -g * XA + 2 * J * ZA * XA - lam * ZA * XB + gamma * YA * ZA,
                     -2 * J * YA * XA - lam * c - gamma * (1 - ZA * ZA),
                     g * YB + lam * ZB * YA - gamma * XB * ZB,
                     -g * XB + 2 * J * ZB * XB - lam * ZB * XA - gamma * YB * ZB,
                     -2 * J * YB * XB + lam * c + gamma * (1 - ZB * ZB)])


def test_master_equation_reproduces_the_mean_field_equations_at_large_S():
    """d<S>/dt / S on a product of spin coherent states equals Eqs. (6)-(11) up to O(1/S).

    This pins every sign and 1/S scaling of Eq. (5) against the paper's mean-field equations.
    """
    p = {"g": 1.0, "gamma": 0.5, "J": 0.9, "lam": 0.7}
    thA, phA, thB, phB = 2.1, 0.4, 0.8, -1.9
    v = np.array([np.sin(thA) * np.cos(phA), np.sin(thA) * np.sin(phA), np.cos(thA),
                  np.sin(thB) * np.cos(phB), np.sin(thB) * np.sin(phB), np.cos(thB)])
    mf = _paper_rhs(v, **p)
    errs = []
    for S in (10, 40):
        H = ops.hamiltonian(S, p)
        cs = ops.jump_operators(S, p)
        psi = qutip.tensor(qutip.spin_coherent(S, thA, phA), qutip.spin_coherent(S, thB, phB)).full().ravel()
        d = ops.dimer_operators(S)
        exact = []
        for o in (d.xA, d.yA, d.zA, d.xB, d.yB, d.zB):
            # Heisenberg-Lindblad: d<O>/dt = <i[H, O] + sum c^+ O c - {c^+ c, O} / 2>
            dO = 1j * (H @ o - o @ H)
            for c in cs:
                cd = c.conj().T
                dO = dO + cd @ o @ c - 0.5 * (cd @ c @ o + o @ cd @ c)
            exact.append(np.vdot(psi, dO @ psi).real / S)
        exact = np.array(exact)
        errs.append(np.abs(exact - mf).max())
    assert errs[1] < 0.05
    assert errs[1] < errs[0] / 3  # O(1/S): a factor 4 in S gives ~4x smaller error


@pytest.mark.parametrize("bad", [0, -1, 1.3, 0.25, float("nan"), float("inf"), "a", True, None, Fraction(1, 3)])
def test_bad_spin_length(bad):
    with pytest.raises(ValueError, match="expected S a positive integer or half-integer"):
        ops.validate_spin(bad)


def test_good_spin_lengths():
    assert ops.validate_spin(Fraction(3, 2)) == 1.5
    assert ops.validate_spin(np.int64(4)) == 4.0
    assert ops.validate_spin(2.5) == 2.5


def test_bad_parameters():
    with pytest.raises(KeyError, match="'gama'"):
        ops.validate_params({"gama": 0.5})
    with pytest.raises(ValueError, match="expected gamma >= 0, got -0.1"):
        ops.validate_params({"gamma": -0.1})
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="expected J a finite real number"):
            ops.validate_params({"J": bad})
    with pytest.raises(ValueError, match="expected lam a finite real number"):
        ops.validate_params({"lam": 1 + 2j})
    with pytest.raises(TypeError, match="expected params a mapping"):
        ops.validate_params([("J", 1.0)])
    assert ops.validate_params(None) == {"g": 1.0, "gamma": 0.5, "J": 0.0, "lam": 0.0}
