"""find_equilibria / newton_equilibrium: counts of stable fixed points (the paper's Fig. 2),
agreement with many more seeds, symmetry closure, spectra against the numpy twin, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from bifurcate.equilibria import find_equilibria, newton_equilibrium
from bifurcate.models import LMG_DIMER, NORMAL_STATE, PITCHFORK, SADDLE_NODE


def same_spectrum(a, b, atol):
    """Multiset equality of two spectra (greedy nearest matching)."""
    b = list(b)
    for z in a:
        k = int(np.argmin(np.abs(np.array(b) - z)))
        if abs(b[k] - z) > atol:
            return False
        b.pop(k)
    return True


@pytest.mark.parametrize("J, lam, n_stable", [(0.0, 0.3, 1), (1.5, 0.0, 2), (-1.5, 0.0, 2), (0.0, 1.0, 0)])
def test_stable_counts_match_fig2(J, lam, n_stable):
    # Fig. 2: normal phase 1 stable fixed point, LMG phases 2 (a Z2 mirror pair), PT phase 0
    res = find_equilibria(LMG_DIMER, J=J, lam=lam)
    assert res.success
    assert res.n_stable == n_stable
    if n_stable == 2:
        a, b = res.stable_states()
        z2 = LMG_DIMER.symmetries[0].matrix
        assert np.allclose(z2 @ a, b, atol=1e-9)


@pytest.mark.parametrize("J, lam", [(0.3, 0.8), (1.0, 0.6), (-0.8, 0.2), (0.7, 1.3)])
def test_default_seeds_find_what_many_seeds_find(J, lam):
    few = find_equilibria(LMG_DIMER, J=J, lam=lam)
    many = find_equilibria(LMG_DIMER, J=J, lam=lam, n_seeds=1500, seed=7, use_symmetries=False)
    assert len(few) == len(many)
    assert few.n_stable == many.n_stable
    for y in many.states:
        assert np.min(np.max(np.abs(few.states - y), axis=1)) < 1e-7


def test_states_are_equilibria_on_spheres_and_spectra_match_twin():
    res = find_equilibria(LMG_DIMER, J=0.9, lam=0.2)
    assert np.all(res.residuals < 1e-10)
    assert np.allclose(LMG_DIMER.geometry.constraint(res.states), 0, atol=1e-12)
    for y, ev in zip(res.states, res.eigenvalues):
        twin = LMG_DIMER.tangent_eigenvalues(y, res.params)
        assert same_spectrum(ev, twin, 1e-10)
    # closed under the symmetries (equivariant and reversing)
    for s in LMG_DIMER.symmetries:
        for y in res.states:
            assert np.min(np.max(np.abs(res.states - s.matrix @ y), axis=1)) < 1e-9
    df = res.to_frame()
    assert {"J", "lam", "XA", "ZB", "stable", "n_unstable", "max_re"} <= set(df.columns)
    assert df.stable.sum() == res.n_stable


def test_normal_state_spectrum_closed_form():
    # normal-state eigenvalues -gamma +- sqrt(s), s^2 - 2(l^2-g^2)s + (l^2+g^2)(l^2+g^2-4J^2) = 0
    g, gam, J, lam = 1.0, 0.5, 0.4, 0.3
    res = find_equilibria(LMG_DIMER, J=J, lam=lam)
    k = np.argmin(np.max(np.abs(res.states - NORMAL_STATE), axis=1))
    s = np.roots([1, -2 * (lam ** 2 - g ** 2), (lam ** 2 + g ** 2) * (lam ** 2 + g ** 2 - 4 * J ** 2)]).astype(complex)
    ev = np.concatenate([-gam + np.sqrt(s), -gam - np.sqrt(s)])
    assert same_spectrum(res.eigenvalues[k], ev, 1e-12)


def test_textbook_models():
    sn = find_equilibria(SADDLE_NODE, mu=0.25)
    assert sorted(np.round(sn.states[:, 0], 10)) == [-0.5, 0.5]
    assert sn.n_stable == 1
    assert len(find_equilibria(SADDLE_NODE, mu=-1.0)) == 0
    pf = find_equilibria(PITCHFORK, mu=1.0)
    assert sorted(np.round(pf.states[:, 0], 10)) == [-1.0, 0.0, 1.0] and pf.n_stable == 2


def test_newton_equilibrium_and_errors():
    y = newton_equilibrium(LMG_DIMER, NORMAL_STATE + 1e-3, dict(J=0.2, lam=0.1))
    assert np.allclose(y, NORMAL_STATE, atol=1e-12)
    with pytest.raises(ValueError, match="not near an equilibrium"):
        newton_equilibrium(SADDLE_NODE, [0.0, 0.0], dict(mu=-1.0))
    with pytest.raises(ValueError, match="not near an equilibrium"):
        newton_equilibrium(SADDLE_NODE, [5.0, 0.0], dict(mu=1.0))
    with pytest.raises(KeyError, match="unknown parameter"):
        find_equilibria(LMG_DIMER, dict(JJ=1.0))
    with pytest.raises(ValueError, match="shape"):
        newton_equilibrium(LMG_DIMER, [0.0, 1.0], {})


def test_find_equilibria_refuses_bad_counts_and_tolerances():
    """maxiter = 0 used to report "success" with nothing converged; counts must be integers."""
    with pytest.raises(ValueError, match="maxiter must be an integer >= 1 and <= 1000000, got 0"):
        find_equilibria(LMG_DIMER, {"J": 0.5}, maxiter=0)
    with pytest.raises(TypeError, match="n_seeds must be an integer, got 2.5"):
        find_equilibria(LMG_DIMER, {"J": 0.5}, n_seeds=2.5)
    with pytest.raises(ValueError, match="tol must lie in"):
        find_equilibria(LMG_DIMER, {"J": 0.5}, tol=-1.0)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        find_equilibria(LMG_DIMER, {"J": 0.5}, seed=-1)
