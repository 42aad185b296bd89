"""Cycle continuation on classic problems with known answers (issue 14, defects of the cycle side).

* Lorenz (sigma, b) = (10, 8/3): the cycles born at the subcritical Hopf rho_H = sigma (sigma + b + 3)
  / (sigma - b - 1) = 24.7368 grow backwards into the homoclinic orbit of the origin at
  rho = 13.9265574 (Sparrow, The Lorenz Equations, 1982; AUTO-07p demo lrz).
* Bautin normal form: fold of cycles at beta1 = -beta2^2 / 4 with r^2 = beta2 / 2, period 2 pi.
* Z2_CYCLES: pitchfork of cycles (BPC) at mu = 1, the cycle |z| = 1 of period 2 pi.
* Stuart-Landau: cycles r = sqrt(mu) (direction of a start from a simulated orbit).
"""
from __future__ import annotations

import numpy as np
import pytest

from bifurcate.cycles import continue_cycles
from bifurcate.models import LORENZ, STUART_LANDAU
from bifurcate.models.classic import BAUTIN, Z2_CYCLES

RHO_HOM = 13.9265574


def lorenz_hopf():
    s, b = 10.0, 8.0 / 3.0
    rh = s * (s + b + 3) / (s - b - 1)
    x = np.sqrt(b * (rh - 1))
    y0 = np.array([x, x, rh - 1])
    w = np.linalg.eigvals(LORENZ.jacobian(y0, {"rho": rh}))
    return y0, rh, float(np.max(w.imag))


def test_lorenz_cycles_reach_the_homoclinic_orbit_of_the_origin():
    y0, rh, om = lorenz_hopf()
    br = continue_cycles(LORENZ, (y0, {"rho": rh}, "rho", om), max_points=400)
    assert br.status == -3, br.message
    hom = br.stats["homoclinic"]
    # the branch goes all the way (the old stall heuristic stopped it at rho = 14.29)
    assert abs(br.param_values[-1] - RHO_HOM) < 1e-4
    assert abs(hom["p_hom"] - RHO_HOM) < 1e-5
    # the saddle named is the origin, with its eigenvalues; the period law's rate is the weak
    # stable eigenvalue -b of the origin
    assert np.allclose(hom["saddle"], 0.0, atol=1e-8)
    assert "saddle (" in br.message
    assert abs(hom["rate"] - 8.0 / 3.0) < 0.3
    # monotone approach: the parameter decreases and the period grows
    assert np.all(np.diff(br.param_values) < 0)
    assert br.columns["period"][-1] > 2.5 * br.columns["period"][0]
    # nothing spurious on this branch (AUTO's lrz demo has no special point on it)
    assert br.points == ()


def test_fold_of_cycles_is_located_exactly():
    """The period, orbit and parameter at an LPC to locate_tol, not its square root."""
    br = continue_cycles(BAUTIN, ([0.0, 0.0], {"beta1": 0.0, "beta2": 1.0}, "beta1", 1.0), max_points=60,
                         locate_tol=1e-9)
    lpc = br.special("LPC")
    assert len(lpc) == 1 and lpc[0].located
    assert abs(lpc[0].param + 0.25) < 1e-11
    U = lpc[0].data["orbit"]
    r = np.sqrt(np.sum(U * U, axis=1))
    assert np.max(np.abs(r - np.sqrt(0.5))) < 1e-8  # sqrt(locate_tol) would be 3e-5
    assert abs(lpc[0].data["period"] - 2 * np.pi) < 1e-10
    # the multipliers at the fold: the trivial one and the fold's one at 1
    assert np.all(np.abs(lpc[0].eigenvalues - 1.0) < 1e-5)
    # the branch turned: stable cycles (outer, r^2 > 1/2) beyond the fold
    assert np.any(br.stable) and not br.stable[0]


def test_branch_point_of_cycles_is_located():
    t = np.linspace(0.0, 2 * np.pi, 200)
    y = np.column_stack([np.cos(t), np.sin(t), 0 * t])
    br = continue_cycles(Z2_CYCLES, (t, y), param="mu", params={"mu": 0.5}, max_points=30)
    bpc = br.special("BPC")
    assert len(bpc) == 1 and bpc[0].located
    assert abs(bpc[0].param - 1.0) < 1e-8
    assert [p.kind for p in br.points] == ["BPC"]
    # located by the minimally augmented system: a converged point of the branch itself (the
    # unfolding beta vanishes: the pitchfork is exact in the discretisation too), at the closed form
    d = bpc[0].data
    assert d["located_by"] == "minimally augmented system" and d["bpc_locate"] == "converged"
    assert d["bpc_residual"] < 1e-12 and abs(d["bpc_beta"]) < 1e-12
    assert abs(bpc[0].param - 1.0) < 1e-11 and abs(d["period"] - 2 * np.pi) < 1e-11
    # the trivial and the branching multiplier at 1; the third is the radial exp(-4 pi) of |z|
    mu = np.sort_complex(bpc[0].eigenvalues)[::-1]
    assert np.all(np.abs(mu[:2] - 1.0) < 1e-10) and abs(mu[2] - np.exp(-4 * np.pi)) < 1e-8


def _collocation_at(model, point, param):
    from bifurcate.cycles.collocation import Collocation

    coll = Collocation(model, model.pack_params(point.params), model.param_index(param), point.data["mesh"],
                       point.data["ncol"])
    return coll, coll.pack(point.data["orbit"], point.data["period"], point.param)


def test_locate_bpc_finds_the_pitchfork_and_its_two_branches():
    """locate_bpc from a cycle 0.01 away: mu = 1 exactly, the kernel spans the old branch (the
    period and the cycle fixed, mu moving: its tangent is d/dmu, nothing else changes) and the new
    one (w constant along the orbit, mu fixed to first order)."""
    from bifurcate.cycles.detection import locate_bpc

    t = np.linspace(0.0, 2 * np.pi, 200)
    y = np.column_stack([np.cos(t), np.sin(t), 0 * t])
    br = continue_cycles(Z2_CYCLES, (t, y), param="mu", params={"mu": 0.5}, max_points=30)
    i = int(np.argmin(np.abs(br.param_values - 0.99)))
    pt = br.special("BPC")[0]
    coll, _ = _collocation_at(Z2_CYCLES, pt, "mu")
    U, T = br.orbits[i][1], br.columns["period"][i]
    X = coll.pack(U, T, br.param_values[i])
    loc = locate_bpc(coll, X, coll.phase_row(U))
    assert loc.converged and abs(br.param_values[i] - 1.0) > 5e-3
    assert abs(loc.X[-1] - 1.0) < 1e-11 and abs(loc.X[-2] - 2 * np.pi) < 1e-11
    assert loc.residual < 1e-12 and abs(loc.beta) < 1e-12 and np.all(np.abs(loc.tests) < 1e-10)
    K = loc.kernel  # (nx, 2), W-orthonormal
    assert np.allclose(K.T @ (coll.W[:, None] * K), np.eye(2), atol=1e-10)
    Kw = K[:-2].reshape(coll.N, coll.n, 2)[:, 2, :]  # the w components of the two kernel vectors
    # one combination is the parameter direction (no w), the other w constant in time, mu fixed
    c = np.linalg.lstsq(K[-1:, :], [1.0], rcond=None)[0]
    assert np.max(np.abs(Kw @ c)) < 1e-8
    d = np.array([-K[-1, 1], K[-1, 0]])
    wd = Kw @ d
    assert np.ptp(wd) < 1e-8 * np.max(np.abs(wd)) and np.max(np.abs(wd)) > 0.1
    with pytest.raises(ValueError, match="shape"):
        locate_bpc(coll, X[:-1], coll.phase_row(U))


def test_locate_bpc_finds_nothing_at_a_fold_of_cycles():
    """At a generic fold of cycles (Bautin normal form) there is no branch point: the augmented
    system from the fold's cycle must not return one (not converged, or an unfolding residual far
    above BPC_RESIDUAL_MAX: a point of G = -beta b, not of the branch)."""
    from bifurcate.cycles.continuation import BPC_RESIDUAL_MAX
    from bifurcate.cycles.detection import locate_bpc

    br = continue_cycles(BAUTIN, ([0.0, 0.0], {"beta1": 0.0, "beta2": 1.0}, "beta1", 1.0), max_points=60)
    lpc = br.special("LPC")[0]
    coll, X = _collocation_at(BAUTIN, lpc, "beta1")
    loc = locate_bpc(coll, X, coll.phase_row(lpc.data["orbit"]))
    assert not (loc.converged and loc.residual <= BPC_RESIDUAL_MAX), (loc.message, loc.residual, loc.X[-1])
    # (Newton from the fold falls into the constant orbit u = 0, which solves the system for any
    # period: refused by max_move, with a message saying so)
    assert "a different solution" in loc.message or not loc.converged
    assert "BPC" not in {p.kind for p in br.points}
    # and switching there (the fold passed off as a BPC) is refused, saying why
    from dataclasses import replace

    from bifurcate.cycles import switch_at_bpc

    with pytest.raises(ValueError, match="expected a branch point at the BPC point"):
        switch_at_bpc(BAUTIN, replace(lpc, kind="BPC"), param="beta1")


@pytest.mark.parametrize("direction", [1, -1])
def test_direction_is_honoured_from_a_simulated_orbit(direction):
    mu = 0.5
    t = np.linspace(0.0, 2 * np.pi, 200)
    r = np.sqrt(mu)
    y = np.column_stack([r * np.cos(t), r * np.sin(t)])
    br = continue_cycles(STUART_LANDAU, (t, y), param="mu", params={"mu": mu, "beta": 0.0}, max_points=6,
                         direction=direction)
    assert br.status == 0
    assert np.all(np.sign(np.diff(br.param_values)) == direction)
    assert np.allclose(br.columns["amplitude"], np.sqrt(br.param_values), atol=1e-5)


def test_numerical_failure_from_a_sampled_start_is_a_status():
    """Newton from a wild sampled start overflows: a status, never an exception."""
    t = np.linspace(0.0, 1.0, 100)
    y = 1e200 * np.column_stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t), np.cos(4 * np.pi * t)])
    br = continue_cycles(LORENZ, (t, y), param="rho", params={"rho": 28.0}, max_points=5)
    assert br.status == -4 and len(br) == 0
    assert "did not converge" in br.message


def test_switching_at_a_branch_point_of_cycles():
    """The pitchfork of cycles of Z2_CYCLES at mu = 1: the new cycles have w = +-sqrt(mu - 1)
    (constant along the orbit), are stable, and the two directions give the two mirror halves."""
    from bifurcate.cycles import switch_at_bpc

    t = np.linspace(0.0, 2 * np.pi, 200)
    y = np.column_stack([np.cos(t), np.sin(t), 0 * t])
    br = continue_cycles(Z2_CYCLES, (t, y), param="mu", params={"mu": 0.5}, max_points=30)
    bpc = br.special("BPC")[0]
    signs = []
    for d in (1, -1):
        nb = switch_at_bpc(Z2_CYCLES, bpc, param="mu", max_points=15, direction=d)
        assert nb.status == 0 and len(nb) == 15
        w = np.array([o[1][:, 2] for o in nb.orbits])  # (rows, nodes)
        assert np.all(np.ptp(w, axis=1) < 1e-8)  # w constant along each orbit
        assert np.allclose(np.abs(w[:, 0]), np.sqrt(nb.param_values - 1.0), atol=1e-8)
        assert np.all(nb.param_values > 1.0) and nb.param_values[-1] > 1.1
        assert np.all(nb.stable) and nb.points == ()
        assert np.allclose(nb.columns["period"], 2 * np.pi, atol=1e-9)
        signs.append(np.sign(w[-1, 0]))
    assert signs[0] == -signs[1]
    with pytest.raises(ValueError, match="BPC"):
        switch_at_bpc(Z2_CYCLES, br.points[0].__class__(**{**br.points[0].__dict__, "kind": "PD"}), param="mu")


def test_old_option_spellings_name_the_canonical_one():
    import dataclasses

    from bifurcate.continuation import ContinuationOptions, continue_equilibria
    from bifurcate.cycles import CycleOptions

    with pytest.raises(TypeError, match="'max_newton' is spelled 'newton_maxiter'"):
        continue_cycles(STUART_LANDAU, ([0.0, 0.0], {"mu": 0.0}, "mu", 1.0), max_newton=5)
    with pytest.raises(TypeError, match="max_angle"):
        dataclasses.replace(CycleOptions(), max_turn_cos=0.9)
    # max_points is no longer another spelling but an exact alias (max_steps = max_points - 1, on
    # every problem, as there is one options object): the same branch comes out
    a = continue_equilibria(LORENZ, [0.0, 0.0, 0.0], param="rho", params={"rho": 0.5}, max_points=10)
    b = continue_equilibria(LORENZ, [0.0, 0.0, 0.0], param="rho", params={"rho": 0.5}, max_steps=9)
    assert len(a) == len(b) == 10 and np.array_equal(a.param_values, b.param_values)
    assert a.options == b.options and a.options.max_points == 10
    # the canonical spellings work on both, with the same meaning
    assert CycleOptions(newton_maxiter=7, max_angle=0.5).newton_maxiter == ContinuationOptions(
        newton_maxiter=7, max_angle=0.5).newton_maxiter
    with pytest.raises(ValueError, match="max_angle"):
        CycleOptions(max_angle=4.0)
