"""The exact engine on the real specifications (bifurcate.spec.OpenSystem): LMG dimer against its hand-built
twin, boundary time crystal and open Dicke model against QuTiP, the single LMG spin, the three-site ring."""
from __future__ import annotations

import numpy as np
import pytest
import qutip

from bifurcate.quantum import detect_symmetries, steady_state
from bifurcate.quantum.lmg_dimer import lmg_qutip_model


@pytest.mark.parametrize("S", [1, 2, 2.5])
@pytest.mark.parametrize("p", [{"J": 1.5, "lam": 0.5}, {"J": -0.8, "lam": 0.2, "g": 0.7}, {"J": 0.0, "lam": 0.7}])
def test_lmg_dimer_specification_equals_the_hand_built_steady_state(S, p):
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM

    a = steady_state(S, p)
    b = LMG_DIMER_SYSTEM.steady_state(S, p)
    assert b.status == "ok" and b.sector == a.sector and b.stats["block_sizes"] == a.stats["block_sizes"]
    np.testing.assert_allclose(b.rho, a.rho, atol=1e-10)
    for k in ("ZA", "ZB", "X2A", "X2B", "ZAZB", "purity", "purity_A", "purity_B"):
        assert getattr(b, k) == pytest.approx(getattr(a, k), abs=1e-10), k


def test_lmg_dimer_specification_symmetries():
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM

    assert detect_symmetries(LMG_DIMER_SYSTEM, 2, {"J": 1.5, "lam": 0.5}) == [("Z2", {"A": 1, "B": 1})]
    assert detect_symmetries(LMG_DIMER_SYSTEM, 2, {"J": 0.0, "lam": 0.5}) == [("U1", {"A": 1, "B": 1})]


@pytest.mark.parametrize("S", [0.5, 1, 2, 3.5])
@pytest.mark.parametrize("omega", [0.4, 0.9, 1.1, 2.5])
def test_boundary_time_crystal_specification_agrees_with_qutip(S, omega):
    from bifurcate.models.btc import A, BTC_SYSTEM

    r = BTC_SYSTEM.steady_state(S, {"omega": omega, "kappa": 1.0})
    ref = qutip.steadystate(omega * qutip.jmat(S, "x"), [np.sqrt(1.0 / S) * qutip.jmat(S, "-")])
    assert r.status == "ok" and r.sector == "none"
    assert np.abs(r.rho - ref.full()).max() < 1e-10
    assert r.expect(A.z) == pytest.approx(qutip.expect(qutip.jmat(S, "z"), ref), abs=1e-10)
    assert r.expect(A.z / S) == pytest.approx(r.ZA, abs=1e-12)


@pytest.mark.parametrize("lam", [0.3, 0.9])
def test_open_dicke_specification_agrees_with_qutip(lam):
    from bifurcate.models.dicke import DICKE_SYSTEM, a

    S = 1.5
    r = DICKE_SYSTEM.steady_state(S, {"lam": lam})
    assert r.status == "ok" and r.cutoff_check["converged"] and r.sector == "Z2"
    N = r.cutoffs["a"]
    n = int(2 * S + 1)
    aa = qutip.tensor(qutip.destroy(N), qutip.qeye(n))
    jx = qutip.tensor(qutip.qeye(N), qutip.jmat(S, "x"))
    jz = qutip.tensor(qutip.qeye(N), qutip.jmat(S, "z"))
    H = aa.dag() * aa + jz + 2 * lam / np.sqrt(2 * S) * (aa + aa.dag()) * jx
    ref = qutip.steadystate(H, [np.sqrt(2.0) * aa])
    assert np.abs(r.rho - ref.full()).max() < 1e-9  # QuTiP's direct solve is good to ~1e-11 here
    assert r.n_a == pytest.approx(qutip.expect(aa.dag() * aa, ref), abs=1e-9)
    assert r.expect(a.dag * a.a) == pytest.approx(r.n_a, abs=1e-12)


def test_single_lmg_spin_specification_agrees_with_the_hand_built_model():
    from bifurcate.models.lmg import LMG_SYSTEM

    p = {"J": 1.5, "g": 0.8}
    r = LMG_SYSTEM.steady_state(2, p)
    H, c = lmg_qutip_model(2, p)
    np.testing.assert_allclose(r.rho, qutip.steadystate(H, c).full(), atol=1e-10)
    assert r.sector == "Z2"


def test_three_site_ring():
    from bifurcate.models.lmg_ring import LMG_RING_SYSTEM

    # J = 0: total magnetisation conserved by H, lowered by every jump -> the all-down state, pure
    r = LMG_RING_SYSTEM.steady_state(1, {"J": 0.0, "lam": 0.2})
    assert r.sector == "U1" and r.status == "ok"
    for s in "ABC":
        assert getattr(r, f"Z{s}") == pytest.approx(-1.0, abs=1e-10)
    assert r.purity == pytest.approx(1.0, abs=1e-10)
    # J != 0: the Z2 parity of the total magnetisation; cyclic symmetry of the ring in the observables
    r = LMG_RING_SYSTEM.steady_state(1, {"J": 1.0, "lam": 0.3})
    assert r.sector == "Z2" and r.status == "ok" and len(r.blocks) == 2
    assert r.ZA == pytest.approx(r.ZB, abs=1e-9) and r.ZB == pytest.approx(r.ZC, abs=1e-9)
    assert r.ZAZB == pytest.approx(r.ZBZC, abs=1e-9)
