"""Issue 12 at J = 1.5: the Hopf point where the broken state's fixed-point attractors die is
subcritical, and the special points the tracker classifies events against are those of the
continued branches, checked independently.

The slow tracking test (tests/test_tracking.py) checks that the FP deaths are local events named HB
at the smallest HB value of ``TrackingResult.special``. Here, with continuation only (the tracker's
``special_points_along`` from a stable broken state at lam = 0.3), that Hopf point is checked to be
what the issue names:

* a Hopf point: at its state the Jacobian (numpy eigenvalues of the model's own Jacobian, not the
  continuation's test function) has a pair of eigenvalues on the imaginary axis, the rest in the
  left half-plane (a stable equilibrium loses stability there);
* subcritical: the criticality column says so, and, independently of the first Lyapunov
  coefficient, the cycles born there are unstable and exist on the side where the equilibrium is
  still stable (lam below the Hopf point), up to a fold of cycles (LPC) where they turn and become
  stable: the mirror cycles the slow test tracks from that fold.
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis.attractors.tracking import special_points_along
from bifurcate.equilibria import find_equilibria
from bifurcate.models import LMG_DIMER


@pytest.fixture(scope="module")
def along():
    base = {"J": 1.5}
    eq = find_equilibria(LMG_DIMER, {"J": 1.5, "lam": 0.3})
    st = eq.states[eq.stable]
    assert len(st) == 2   # the two broken states (Z2 mirrors)
    return special_points_along(LMG_DIMER, "lam", 0.3, 0.7, base, [(0.3, st[0])], [], max_cycle_points=200)


def test_broken_state_hopf_is_a_hopf_point_of_the_jacobian(along):
    branches, sp, notes = along
    hb = sp[sp["kind"] == "HB"].sort_values("value")
    assert len(hb), notes
    h = hb.iloc[0]
    name, br = next((n, b) for n, b in branches if n == h["branch"])
    pt = min(br.special("HB"), key=lambda p: abs(p.param - h["value"]))
    # the Jacobian restricted to the tangent space of S^2 x S^2 (T^T J T, T an orthonormal tangent
    # basis): the radial directions belong to the embedding, not to the dynamics on the spheres
    Jm = LMG_DIMER.jacobian(pt.state, {"J": 1.5, "lam": pt.param})
    T = LMG_DIMER.geometry.tangent_basis(pt.state)
    np.testing.assert_allclose(T.T @ T, np.eye(T.shape[1]), atol=1e-12)
    ev = np.linalg.eigvals(T.T @ Jm @ T)
    # a pair on the imaginary axis (to the continuation's location tolerance), with a nonzero frequency
    k = np.argsort(np.abs(ev.real))[:2]
    assert np.all(np.abs(ev.real[k]) < 1e-6) and np.all(np.abs(ev.imag[k]) > 1e-2), ev
    assert abs(ev.imag[k[0]] + ev.imag[k[1]]) < 1e-8
    others = np.delete(ev, k)
    assert np.all(others.real < -1e-3), (ev, others)
    assert h["criticality"] == "subcritical"
    # the equilibrium branch is stable below the Hopf point and unstable above (its rows nearest on
    # each side; the branch steps are ~0.1 in lam)
    lam, st = br.param_values, np.asarray(br.stable, dtype=bool)
    below, above = lam < pt.param - 1e-6, lam > pt.param + 1e-6
    assert below.any() and above.any()
    assert st[below].all() and not st[above].any()


def test_cycles_from_the_broken_state_hopf_are_unstable_toward_the_stable_side_then_fold(along):
    branches, sp, _ = along
    h = sp[sp["kind"] == "HB"].sort_values("value").iloc[0]
    cyc = [(n, b) for n, b in branches if b.kind == "cycle" and n.startswith("cyc@HB") and
           abs(float(n[len("cyc@HB"):]) - h["value"]) < 1e-3]
    assert cyc
    name, cb = cyc[0]
    lam = cb.param_values
    stable = np.asarray(cb.stable, dtype=bool)
    # the branch leaves the Hopf point (its first row) toward smaller lam, where the equilibrium is
    # stable, with unstable cycles; its first stretch, up to the first turn, is that segment (the
    # branch later passes the same lam range again with the large stable cycles, after the LPC)
    assert abs(lam[0] - h["value"]) < 1e-3
    turn = int(np.argmax(np.diff(lam) > 0)) if np.any(np.diff(lam) > 0) else len(lam) - 1
    first = np.arange(len(lam)) <= turn
    near = first & (np.abs(lam - h["value"]) < 0.02)
    assert near.sum() >= 2
    assert np.all(lam[near] <= h["value"] + 1e-6) and not stable[near].any()
    # the turn of that stretch is the fold of cycles
    assert abs(lam[turn] - sp[(sp["kind"] == "LPC") & (sp["branch"] == name)]["value"].min()) < 5e-3
    # along the branch the unstable cycles turn at a fold of cycles (LPC) and stable ones appear
    lpc = sp[(sp["kind"] == "LPC") & (sp["branch"] == name)]["value"].to_numpy()
    assert lpc.size and 0.40 < lpc.min() < h["value"]
    assert stable.any()
