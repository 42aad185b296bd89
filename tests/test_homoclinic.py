"""Homoclinic orbits as cycles of large fixed period, and their saddle.

References: Lorenz (sigma = 10, b = 8/3): the homoclinic explosion at rho = 13.9265574 (Sparrow,
The Lorenz Equations (1982), where rho ~ 13.926; the digits are AUTO/HomCont's, reproduced by two
periods here); the saddle is the origin with eigenvalues -b and
(-(sigma + 1) +- sqrt((sigma + 1)^2 + 4 sigma (rho - 1))) / 2 (closed form). LMG dimer (g = 1,
gamma = 0.5, J = 1): the broken state's cycle branch in lam ends at a homoclinic orbit at
lam = 0.81711686 (AUTO-07p, tests/data or the issue's statement).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from bifurcate import continue_equilibria
from bifurcate.cycles import continue_cycles
from bifurcate.homoclinic import continue_homoclinic, grow_period, saddle_of_orbit
from bifurcate.models import LMG_DIMER, LORENZ, NORMAL_STATE
from tests.test_cycles import broken_state_hopf

LAM_HOM_AUTO = 0.81711686  # AUTO-07p, J = 1 (8 digits)


@pytest.fixture(scope="module")
def lorenz_branch():
    b, r = 8 / 3, 20.0
    c = math.sqrt(b * (r - 1))
    eq = continue_equilibria(LORENZ, [c, c, r - 1], param="rho", params={"rho": r}, p_max=30)
    hb = eq.special("HB")[0]
    assert abs(hb.param - 470 / 19) < 1e-8  # rho_H = sigma (sigma + b + 3) / (sigma - b - 1)
    return continue_cycles(LORENZ, hb, param="rho", ntst=60, max_points=120)


def test_lorenz_homoclinic_explosion_by_large_period(lorenz_branch):
    vals = []
    for T in (40.0, 80.0):
        prob, x, res = grow_period(LORENZ, lorenz_branch, "rho", T)
        assert res.status == 0 and abs(prob.period(x) - T) < 1e-9, res.message
        vals.append(prob.params(x)["rho"])
        s = saddle_of_orbit(LORENZ, prob.orbit(x), prob.params(x))
        assert np.max(np.abs(s["state"])) < 1e-10  # the origin
        rho, sg, b = vals[-1], 10.0, 8 / 3
        lu = (-(sg + 1) + math.sqrt((sg + 1) ** 2 + 4 * sg * (rho - 1))) / 2
        assert abs(s["lambda_u"].real - lu) < 1e-9 and abs(s["lambda_s"].real + b) < 1e-9
        assert abs(s["sigma"] - (lu - b)) < 1e-9 and s["kind"] == "saddle"
        assert s["distance"] < 1e-3
    # the large-period cycle converges exponentially in T to the homoclinic orbit
    assert abs(vals[0] - vals[1]) < 1e-7
    assert abs(vals[1] - 13.9265574) < 1e-6


@pytest.fixture(scope="module")
def j1_branch():
    yh, lh, om = broken_state_hopf(1.0)
    return continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om), ntst=40, max_points=300)


def test_flagship_homoclinic_curve_through_autos_point(j1_branch):
    hom = continue_homoclinic(LMG_DIMER, j1_branch, "lam", "J", period=60.0, stops={"J": [1.0, 1.2]},
                              bounds={"J": (0.95, 1.25)}, names={"normal state": NORMAL_STATE}, ds_max=0.05)
    assert hom.success, hom.message
    uz = {round(p.params["J"], 9): p for p in hom.special("UZ")}
    assert set(uz) == {1.0, 1.2}
    assert abs(uz[1.0].param - LAM_HOM_AUTO) < 1e-6, uz[1.0].param
    # the saddle: the normal state (spin A down, spin B up), fixed by the Z2 symmetry
    for p in uz.values():
        s = p.data["saddle"]
        assert s["name"] == "normal state" and "Z2" in s["fixed_by"], s
        assert s["distance"] < 1e-4 and s["n_unstable"] >= 1
    df = hom.to_frame()
    assert {"lam", "J", "sigma", "lambda_u", "lambda_s", "saddle_zA"} <= set(df.columns) or \
        {"lam", "J", "sigma", "lambda_u", "lambda_s"} <= set(df.columns)
    assert np.allclose(hom.states, NORMAL_STATE, atol=1e-9)  # the same saddle all along
    # sigma is the sum of the leading eigenvalues of the normal state (a closed-form-free check:
    # recompute from the tangent Jacobian at each row)
    for r in range(0, len(hom), max(1, len(hom) // 4)):
        ev = LMG_DIMER.tangent_eigenvalues(NORMAL_STATE, {"J": hom.columns["J"][r], "lam": hom.param_values[r]})
        lu = min(e.real for e in ev if e.real > 0)
        ls = max(e.real for e in ev if e.real < 0)
        assert abs(hom.columns["sigma"][r] - (lu + ls)) < 1e-9


@pytest.mark.slow
def test_flagship_homoclinic_curve_converges_in_the_period(j1_branch):
    out = []
    for T in (60.0, 120.0):
        hom = continue_homoclinic(LMG_DIMER, j1_branch, "lam", "J", period=T, stops={"J": [1.2]},
                                  bounds={"J": (0.99, 1.25)}, bidirectional=False, ds_max=0.05)
        out.append(hom.special("UZ")[0].param)
    assert abs(out[0] - out[1]) < 1e-7, out


def test_bad_input(j1_branch):
    with pytest.raises(ValueError, match="two different parameters"):
        continue_homoclinic(LMG_DIMER, j1_branch, "lam", "lam")
    with pytest.raises(TypeError, match="expected a CycleBranch"):
        continue_homoclinic(LMG_DIMER, NORMAL_STATE, "lam", "J")
    with pytest.raises(ValueError, match="target period above"):
        grow_period(LMG_DIMER, j1_branch, "lam", 1.0)


# ------------------------------------------------------------------------------------------
# the boundary-value problem
# ------------------------------------------------------------------------------------------
def test_lorenz_homoclinic_bvp(lorenz_branch):
    """Projection boundary conditions on [-T, T], the origin as unknown: the homoclinic curve in
    (rho, beta) passes through rho = 13.9265574 at beta = 8/3 and agrees with the large-period cycle."""
    from bifurcate.homoclinic import continue_homoclinic_bvp

    g = grow_period(LORENZ, lorenz_branch, "rho", 40.0)
    rho_lp = g[0].params(g[1])["rho"]
    hom = continue_homoclinic_bvp(LORENZ, g, "rho", "beta", T=12.0, ntst=120, stops={"beta": [8 / 3, 2.0]},
                                  bounds={"beta": (1.9, 2.7)}, bidirectional=True)
    assert hom.success, hom.message
    uz = {round(p.params["beta"], 9): p for p in hom.special("UZ")}
    assert set(uz) == {round(8 / 3, 9), 2.0}
    assert abs(uz[round(8 / 3, 9)].param - 13.9265574) < 1e-6
    assert abs(uz[round(8 / 3, 9)].param - rho_lp) < 1e-6
    # the saddle is the origin all along; its unstable eigenvalue is the closed form
    assert np.max(np.abs(hom.states)) < 1e-10
    sg = 10.0
    lu = (-(sg + 1) + np.sqrt((sg + 1) ** 2 + 4 * sg * (hom.param_values - 1))) / 2
    assert np.max(np.abs(hom.columns["lambda_u"] - lu)) < 1e-9
    assert np.max(np.abs(hom.columns["lambda_s"] + hom.columns["beta"])) < 1e-9  # leading stable: -beta
    # the saddle quantity in closed form: sigma = lambda_u - beta (positive: a saddle with a strong
    # unstable direction, the Lorenz explosion's chaotic side)
    assert np.max(np.abs(hom.columns["sigma"] - (lu - hom.columns["beta"]))) < 1e-9
    assert np.all(hom.columns["sigma"] > 0)
    assert all(p.data["saddle"]["kind"] == "saddle" for p in uz.values())
    assert np.max(hom.columns["end_distance"]) < 1e-6
    # rho decreases with beta along the explosion curve (sigma = 10): at beta = 2 it is below 13.93
    assert uz[2.0].param < uz[round(8 / 3, 9)].param


def test_flagship_homoclinic_bvp_at_autos_point(j1_branch):
    from bifurcate.homoclinic import continue_homoclinic_bvp

    g = grow_period(LMG_DIMER, j1_branch, "lam", 60.0)
    hom = continue_homoclinic_bvp(LMG_DIMER, g, "lam", "J", T=20.0, ntst=80, stops={"J": [1.0]},
                                  bounds={"J": (0.98, 1.02)}, names={"normal state": NORMAL_STATE})
    assert hom.success, hom.message
    uz = hom.special("UZ")
    assert len(uz) == 1 and abs(uz[0].param - LAM_HOM_AUTO) < 1e-6, uz[0].param
    s = uz[0].data["saddle"]
    assert s["name"] == "normal state" and s["n_unstable"] == 1
    assert abs(s["sigma"] - (s["lambda_u"].real + s["lambda_s"].real)) < 1e-12
    # against the normal state's own tangent spectrum (computed here, not by the BVP): a
    # saddle-focus, one unstable eigenvalue, the leading stable pair complex; sigma > 0 (Shilnikov's
    # chaotic case: the branch snakes, with folds and period doublings)
    ev = np.asarray(LMG_DIMER.tangent_eigenvalues(NORMAL_STATE, {"J": 1.0, "lam": uz[0].param}))
    lu = max(ev.real)
    ls = max(e.real for e in ev if e.real < 0)
    assert abs(s["lambda_u"].real - lu) < 1e-9 and abs(s["lambda_s"].real - ls) < 1e-9
    assert abs(s["lambda_s"].imag) > 1.0 and s["kind"] == "saddle-focus"
    assert abs(s["sigma"] - (lu + ls)) < 1e-9 and s["sigma"] > 0
    assert np.max(np.abs(hom.states - NORMAL_STATE)) < 1e-9
