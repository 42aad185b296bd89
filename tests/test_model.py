"""Model contract: Jacobians, geometry, symmetries, parameters, bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bifurcate import get_model
from bifurcate.models import (BRUSSELATOR, LINEAR3, LMG, LMG_DIMER, LORENZ, NORMAL_STATE, PITCHFORK, PT_DIMER,
                              SADDLE_NODE, STUART_LANDAU)

ALL = [LMG_DIMER, LMG, STUART_LANDAU, BRUSSELATOR, LORENZ, SADDLE_NODE, PITCHFORK, LINEAR3]


def paper_rhs(y, g, gamma, J, lam):
    """Eqs. (6)-(11) of the paper, transcribed independently (no radial damping)."""
    XA, YA, ZA, XB, YB, ZB = y
    return np.array([
        g * YA + lam * ZA * YB + gamma * XA * ZA,
        -g * XA + 2 * J * ZA * XA - lam * ZA * XB + gamma * YA * ZA,
        -2 * J * YA * XA - lam * (XA * YB - YA * XB) - gamma * (1 - ZA ** 2),
        g * YB + lam * ZB * YA - gamma * XB * ZB,
        -g * XB + 2 * J * ZB * XB - lam * ZB * XA - gamma * YB * ZB,
        -2 * J * YB * XB + lam * (XA * YB - YA * XB) + gamma * (1 - ZB ** 2),
    ])


def fd_jacobian(model, y, p, h=1e-6):
    J = np.empty((model.n, model.n))
    for j in range(model.n):
        e = np.zeros(model.n)
        e[j] = h
        J[:, j] = (model.f(y + e, p) - model.f(y - e, p)) / (2 * h)
    return J


finite = st.floats(-2.0, 2.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ALL), st.lists(finite, min_size=9, max_size=9), st.lists(finite, min_size=9, max_size=9))
def test_jacobian_matches_central_differences(model, yv, pv):
    y = np.array(yv[: model.n])
    p = dict(zip(model.param_names, pv))
    # central differences: error ~ h^2 |f'''| ~ 1e-12 * O(10^2); rounding ~ eps/h ~ 1e-10
    np.testing.assert_allclose(model.jacobian(y, p), fd_jacobian(model, y, p), atol=2e-7, rtol=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=4, max_size=4), st.integers(0, 2 ** 31))
def test_lmg_dimer_equals_paper_equations_on_the_spheres(pv, seed):
    g, gamma, J, lam = pv
    y = LMG_DIMER.random_states(1, seed)[0]
    np.testing.assert_allclose(LMG_DIMER.f(y, dict(g=g, gamma=gamma, J=J, lam=lam)),
                               paper_rhs(y, g, gamma, J, lam), atol=1e-12)


def test_radial_damping_contracts_the_spheres():
    # d|r_A|^2/dt on a scaled state: 2 gamma Z_A (rho - 1) - 2 kappa rho (rho - 1) < 0 for rho > 1
    y = NORMAL_STATE.copy() * 1.1
    y[0] = 0.3
    for gamma in (0.1, 0.5, 2.0):
        f = LMG_DIMER.f(y, {"gamma": gamma, "J": 1.0, "lam": 0.7})
        assert 2 * y[:3] @ f[:3] < 0 and 2 * y[3:] @ f[3:] < 0


def test_normal_state_is_fixed_for_all_parameters(rng):
    for _ in range(20):
        p = dict(zip(["g", "gamma", "J", "lam"], rng.uniform(-2, 2, 4)))
        assert np.abs(LMG_DIMER.f(NORMAL_STATE, p)).max() == 0.0


def test_tangent_eigenvalues_of_normal_state_closed_form():
    # lam = 0: spin A block [[-gamma, g], [-(g + 2J), -gamma]], spin B block [[-gamma, g], [-(g - 2J), -gamma]]
    g, gamma, J = 1.0, 0.5, 0.3
    ev = LMG_DIMER.tangent_eigenvalues(NORMAL_STATE, {"g": g, "gamma": gamma, "J": J, "lam": 0.0})
    expect = np.concatenate([-gamma + np.array([1, -1]) * np.sqrt(complex(-g * (g + 2 * J))),
                             -gamma + np.array([1, -1]) * np.sqrt(complex(-g * (g - 2 * J)))])
    np.testing.assert_allclose(np.sort_complex(ev), np.sort_complex(expect), atol=1e-12)
    # the embedding's radial eigenvalues are not among them: 6-D Jacobian has 2 more, below -2
    full = np.linalg.eigvals(LMG_DIMER.jacobian(NORMAL_STATE, {"J": J}))
    assert len(full) == 6 and np.sum(full.real < -2.0) == 2


def test_tangent_basis_is_orthonormal_and_tangent(rng):
    for y in LMG_DIMER.random_states(50, rng):
        T = LMG_DIMER.geometry.tangent_basis(y)
        np.testing.assert_allclose(T.T @ T, np.eye(4), atol=1e-14)
        np.testing.assert_allclose(y[:3] @ T[:3], 0, atol=1e-14)
        np.testing.assert_allclose(y[3:] @ T[3:], 0, atol=1e-14)
    # poles (the normal state) are not special for the basis
    T = LMG_DIMER.geometry.tangent_basis(NORMAL_STATE)
    np.testing.assert_allclose(T.T @ T, np.eye(4), atol=1e-14)


@pytest.mark.parametrize("sym", LMG_DIMER.symmetries, ids=lambda s: s.name)
def test_symmetries_of_the_vector_field(sym, rng):
    s = -1.0 if sym.reverses_time else 1.0
    for _ in range(10):
        y = LMG_DIMER.random_states(1, rng)[0]
        p = dict(zip(["g", "gamma", "J", "lam"], rng.uniform(-2, 2, 4)))
        np.testing.assert_allclose(LMG_DIMER.f(sym(y), p), s * sym(LMG_DIMER.f(y, p)), atol=1e-13)


def test_wrong_symmetry_is_detected(rng):
    # guard: the check above can fail (a plain A<->B swap without sign flips is no symmetry)
    S = np.roll(np.eye(6), 3, axis=0)
    y = LMG_DIMER.random_states(1, rng)[0]
    p = {"J": 0.7, "lam": 0.4}
    assert np.abs(LMG_DIMER.f(S @ y, p) + S @ LMG_DIMER.f(y, p)).max() > 1e-3


def test_special_cases():
    assert PT_DIMER.free_params == ("g", "gamma", "lam")
    assert PT_DIMER.params()["J"] == 0.0
    with pytest.raises(ValueError, match="fixed"):
        PT_DIMER.params({"J": 1.0})
    # the single LMG spin is spin A of the dimer at lam = 0
    y = LMG_DIMER.random_states(1, 3)[0]
    np.testing.assert_allclose(LMG.f(y[:3], {"J": 0.8}), LMG_DIMER.f(y, {"J": 0.8, "lam": 0.0})[:3], atol=1e-14)


def test_registry_and_pickle():
    import pickle

    assert get_model("lmg_dimer") is LMG_DIMER
    assert pickle.loads(pickle.dumps(LMG_DIMER)) is LMG_DIMER
    assert pickle.loads(pickle.dumps(PT_DIMER)).fixed == {"J": 0.0}
    with pytest.raises(KeyError, match="unknown model"):
        get_model("nope")


def test_bad_input_messages():
    with pytest.raises(KeyError, match=r"unknown parameter.*'lambda'.*expected"):
        LMG_DIMER.pack_params({"lambda": 1.0})
    with pytest.raises(ValueError, match="finite"):
        LMG_DIMER.pack_params({"J": float("nan")})
    with pytest.raises(ValueError, match=r"shape \(6,\).*got shape \(5,\)"):
        LMG_DIMER.f(np.zeros(5))
    with pytest.raises(ValueError, match="finite"):
        LMG_DIMER.f(np.array([np.nan, 0, 0, 0, 0, 1]))
    with pytest.raises(TypeError, match="real number"):
        LMG_DIMER.pack_params({"J": "big"})
