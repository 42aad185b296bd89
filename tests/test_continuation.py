"""Equilibrium continuation: closed-form special points, labels, invariants on every branch,
branch switching, bad input and graceful failure."""
from __future__ import annotations

import numpy as np
import pytest

from bifurcate.continuation import ContinuationOptions, continue_equilibria
from bifurcate.continuation.reference import eq12_Jc, hopf_J_exact
from bifurcate.continuation.switching import switch_branch
from bifurcate.models import BRUSSELATOR, LMG_DIMER, NORMAL_STATE, PITCHFORK, SADDLE_NODE, STUART_LANDAU

CODIM1 = ("LP", "BP", "HB")


def check_invariants(branch, stab_tol=1e-9):
    """BifurcationKit-style invariants: recorded stability = recomputed tangent spectra; each
    point inside its bracket; n_unstable changes next to each LP/BP/HB and nowhere else."""
    model = branch.model
    for k in range(len(branch)):
        pars = dict(branch.params)
        pars[branch.param] = branch.param_values[k]
        ev = model.tangent_eigenvalues(branch.states[k], {q: v for q, v in pars.items() if q not in model.fixed})
        assert bool(np.all(ev.real < -stab_tol)) == bool(branch.stable[k])
        assert int(np.sum(ev.real > stab_tol)) == int(branch.n_unstable[k])
    for p in branch.points:
        lo, hi = p.data["sigma_bracket"]
        assert lo - 1e-14 <= p.data["sigma"] <= hi + 1e-14
        if p.kind in ("BP", "HB"):
            assert min(p.bracket) - 1e-12 <= p.param <= max(p.bracket) + 1e-12
    jumps = set(np.nonzero(np.diff(branch.n_unstable))[0].tolist())
    marked = {p.index for p in branch.points if p.kind in CODIM1}
    assert jumps == marked, (jumps, marked, branch.points)


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.7, 1.2])
def test_normal_state_bp_at_eq12(lam):
    # Eq. (12) of the paper is exact for the normal state's zero eigenvalue
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=lam), p_min=0.0, p_max=1.5)
    assert b.success, b.message
    bps = b.special("BP")
    assert len(bps) == 1 and not b.special("LP")
    assert bps[0].located
    assert abs(bps[0].param - eq12_Jc(lam)) < 1e-8
    if lam == 0.0:
        assert abs(bps[0].param - 0.625) < 1e-8
    check_invariants(b)


def test_normal_state_bp_negative_J_is_spin_A():
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.0), ds=-0.01, p_min=-1.5, p_max=0)
    (bp,) = b.special("BP")
    assert abs(bp.param + 0.625) < 1e-8
    phi = bp.data["null_vector"]
    assert np.linalg.norm(phi[:2]) > 0.99  # the critical direction lives on spin A (XA, YA)
    check_invariants(b)


def test_normal_state_hopf_at_J0_is_degenerate():
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="lam", params=dict(J=0.0), p_min=0.0, p_max=1.5)
    (hb,) = b.special("HB")
    assert hb.located and abs(hb.param - 0.5) < 1e-10
    assert abs(hb.data["omega"] - 1.0) < 1e-8          # eigenvalues -gamma +- lam +- i g
    assert abs(hb.data["l1"]) < 1e-6 and hb.data["criticality"] == "degenerate"
    check_invariants(b)


def test_normal_state_hopf_off_J0_matches_exact_curve():
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.8), p_min=0.0, p_max=1.5)
    (hb,) = b.special("HB")
    assert abs(hb.param - hopf_J_exact(0.8)) < 1e-8
    assert hb.data["criticality"] in ("subcritical", "supercritical")
    check_invariants(b)


def test_fold_of_saddle_node():
    b = continue_equilibria(SADDLE_NODE, [1.0, 0.0], param="mu", params=dict(mu=1.0), ds=-0.01, p_min=-1, p_max=2)
    (lp,) = b.special("LP")
    assert lp.located and abs(lp.param) < 1e-10 and abs(lp.state[0]) < 1e-6
    assert not b.special("BP")
    # the neutral saddle (eigenvalues -1, +1 at x = -1/2) is labelled NSad, never HB
    assert [p.kind for p in b.points if p.kind in ("HB", "NSad")] == ["NSad"]
    check_invariants(b)


def test_pitchfork_is_bp_not_lp():
    b = continue_equilibria(PITCHFORK, [0.0, 0.0], param="mu", params=dict(mu=-1.0), p_min=-1, p_max=1)
    assert [p.kind for p in b.points] == ["BP"]
    assert abs(b.points[0].param) < 1e-10
    check_invariants(b)
    new, mirror = switch_branch(b)
    assert new.success and mirror.stats["mirror"] == "Z2"
    assert np.allclose(new.states[:, 0] ** 2, new.param_values, atol=1e-9)   # x^2 = mu
    assert np.allclose(mirror.states[:, 0], -new.states[:, 0])
    assert np.all(new.stable)


@pytest.mark.parametrize("a", [0.7, 1.0, 1.5])
def test_brusselator_hopf(a):
    b = continue_equilibria(BRUSSELATOR, [a, 1.0 / a], param="b", params=dict(a=a, b=1.0), p_min=0.5, p_max=4.0)
    (hb,) = b.special("HB")
    assert abs(hb.param - (1 + a ** 2)) < 1e-9 and abs(hb.data["omega"] - a) < 1e-8
    assert hb.data["l1"] < 0 and hb.data["criticality"] == "supercritical"
    check_invariants(b)


@pytest.mark.parametrize("omega", [0.5, 2.0])
def test_stuart_landau_hopf_l1(omega):
    b = continue_equilibria(STUART_LANDAU, [0.0, 0.0], param="mu", params=dict(mu=-0.5, omega=omega, beta=0.3),
                            p_min=-0.5, p_max=0.5)
    (hb,) = b.special("HB")
    assert abs(hb.param) < 1e-10
    # Kuznetsov's invariant normalisation <q, q> = 1 gives -2/omega (the planar z = x + iy one, -1/omega)
    assert abs(hb.data["l1"] + 2.0 / omega) < 1e-6


def test_branch_switching_lmg_dimer_and_mirror():
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.3), p_min=0.0, p_max=1.6)
    new, mirror = switch_branch(b)
    assert new.success and mirror.success
    z2 = LMG_DIMER.symmetries[0].matrix
    assert np.allclose(mirror.states, new.states @ z2.T)
    assert abs(new.stats["switched_at"] - eq12_Jc(0.3)) < 1e-8
    for br in (new, mirror):
        check_invariants(br)
        res = np.array([LMG_DIMER.f(y, dict(J=J, lam=0.3)) for y, J in zip(br.states, br.param_values)])
        assert np.max(np.abs(res)) < 1e-9
        assert np.allclose(LMG_DIMER.geometry.constraint(br.states), 0, atol=1e-10)
        assert np.max(np.abs(br.states[-1][[0, 1, 3, 4]])) > 0.1        # symmetry broken
    # supercritical pitchfork into the LMG phase: the broken states are the two stable ones
    assert new.stable[-1] and mirror.stable[-1]


def test_to_frame_and_points_frame():
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.0), p_min=0, p_max=1)
    df = b.to_frame()
    assert {"J", "lam", "g", "gamma", "XA", "ZB", "stable", "n_unstable", "label", "arclength"} <= set(df.columns)
    assert (df.label == "BP").sum() == 1
    pf = b.points_frame()
    assert list(pf.kind) == ["BP"] and bool(pf.located.iloc[0])


def test_bad_input():
    with pytest.raises(KeyError, match="unknown parameter"):
        continue_equilibria(LMG_DIMER, NORMAL_STATE, param="JJ")
    with pytest.raises(ValueError, match="not near an equilibrium"):
        continue_equilibria(LMG_DIMER, [0.6, 0.0, 0.8, 0.0, 0.6, 0.8], param="J", params=dict(J=0.1, lam=0.2))
    with pytest.raises(ValueError, match="ds_min <= ds_max"):
        ContinuationOptions(ds_min=0.1, ds_max=0.01, ds=0.05)
    with pytest.raises(ValueError, match="nonzero"):
        ContinuationOptions(ds=0.0)
    with pytest.raises(TypeError, match="ContinuationOptions"):
        continue_equilibria(SADDLE_NODE, [1.0, 0.0], param="mu", options={"ds": 0.1})


def test_failing_corrector_ends_branch_with_status():
    # one Newton iteration can never converge on a curved branch: the step shrinks to ds_min,
    # then the branch ends with a negative status and a message, not an exception
    b = continue_equilibria(SADDLE_NODE, [1.0, 0.0], param="mu", params=dict(mu=1.0), ds=0.1, ds_min=0.05,
                            ds_max=0.1, newton_maxiter=1)
    assert b.status < 0 and "ds_min" in b.message
    assert len(b) == 1 and b.stats["rejected"] >= 1
